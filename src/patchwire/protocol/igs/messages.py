"""Ingescape control messages (the content of Zyre WHISPERs and SHOUTs), frames in, frames out.

Layer: protocol (pure: no I/O; imports the standard library, :mod:`patchwire.errors` and
:mod:`patchwire.model.values`). Spec: ``shared/spec/ingescape.md`` §4, §8 (services), §9 (splits).

Rules, as Ingescape 4.7 applies them (``s_manage_zyre_incoming``, ``src/igs_network.c``):

* Frame 0 is the title; :class:`Title` is the table of every title, each naming the
  ``*_MSG`` macro of ``include/ingescape_private.h`` it comes from.
* Extra trailing frames are ignored (``igs_channel_whisper_zmsg`` appends the target agent
  UUID). Exceptions, kept here: ``SET_INPUT``/``SET_OUTPUT``/``SET_ATTRIBUTE`` read a 5th frame
  as an int64 value type, and ``SERVICE`` keeps every frame after the token (arguments, then an
  optional timestamp) because only the callee's definition can tell them apart.
* Split messages end with the peer agent's UUID appended by the whisper helper; it is optional
  here (``None`` when absent), anything after it is ignored.
* Only :data:`SHOUT_TITLES` are acted upon when they arrive by SHOUT; everything else is
  WHISPER-only for a C agent (editors also listen to the informational SHOUTs).
* Text frames are UTF-8; invalid bytes are kept as ``surrogateescape`` code points.
* Agent UUIDs are carried as text and *not* validated: Ingescape drops commands for unknown
  agents, which is the engine's business. :func:`is_agent_uuid` checks the §1 shape.

:func:`decode_igs_message` raises only :class:`~patchwire.errors.DecodeError` (empty message,
missing frames, malformed numbers). A title that is not in :class:`Title` is **not** an error:
it decodes to :class:`UnknownMessage` (user channel whispers, legacy ``*_PARAMETERS`` titles,
future titles), which re-encodes to the same frames.
"""

from __future__ import annotations

import dataclasses
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Final, Literal, TypeAlias, final

from patchwire.errors import DecodeError, LocalProtocolError
from patchwire.model.values import IMPULSION, IopType, Value, check_value

__all__ = [
    "SHOUT_TITLES",
    "AgentCommand",
    "AgentFlag",
    "AgentPath",
    "AgentState",
    "ClearMapping",
    "CurrentValue",
    "CurrentValues",
    "EditEntry",
    "ExternalDefinition",
    "ExternalMapping",
    "GetCurrentValues",
    "IgsMessage",
    "LoadDefinition",
    "LoadMapping",
    "MuteOutput",
    "OutputMuteState",
    "PeerCommand",
    "Ping",
    "RemoteAgentExit",
    "RemotePeerKnowsAgent",
    "RtSetTime",
    "ServiceCall",
    "SetFilePath",
    "SetLogPath",
    "SetValue",
    "SplitterWork",
    "StartAgent",
    "Title",
    "UnknownMessage",
    "WorkerGoodbye",
    "WorkerHello",
    "WorkerReady",
    "decode_igs_message",
    "decode_service_arguments",
    "decode_service_timestamp",
    "encode_service_arguments",
    "is_agent_uuid",
]


class Title(StrEnum):
    """Every title patchwire understands; comments name the `ingescape_private.h` macro."""

    # 4.1 announcement and model synchronisation
    EXTERNAL_DEFINITION = "EXTERNAL_DEFINITION#"  # EXTERNAL_DEFINITION_MSG
    EXTERNAL_MAPPING = "EXTERNAL_MAPPING#"  # EXTERNAL_MAPPING_MSG
    REMOTE_PEER_KNOWS_AGENT = "REMOTE_PEER_KNOWS_AGENT"  # REMOTE_PEER_KNOWS_AGENT_MSG
    REMOTE_AGENT_EXIT = "REMOTE_AGENT_EXIT"  # REMOTE_AGENT_EXIT_MSG
    STATE = "STATE"  # STATE_MSG
    OUTPUT_MUTED = "OUTPUT_MUTED"  # OUTPUT_MUTED_MSG
    OUTPUT_UNMUTED = "OUTPUT_UNMUTED"  # OUTPUT_UNMUTED_MSG
    MUTED = "MUTED"  # AGENT_MUTED_MSG
    FROZEN = "FROZEN"  # FROZEN_MSG
    LOG_IN_STREAM = "LOG_IN_STREAM"  # LOG_IN_STREAM_MSG
    LOG_IN_FILE = "LOG_IN_FILE"  # LOG_IN_FILE_MSG
    LOG_FILE_PATH = "LOG_FILE_PATH"  # LOG_FILE_PATH_MSG
    DEFINITION_FILE_PATH = "DEFINITION_FILE_PATH"  # DEFINITION_FILE_PATH_MSG
    MAPPING_FILE_PATH = "MAPPING_FILE_PATH"  # MAPPING_FILE_PATH_MSG
    # 4.2 current-value queries
    GET_CURRENT_OUTPUTS = "GET_CURRENT_OUTPUTS"  # GET_CURRENT_OUTPUTS_MSG
    GET_CURRENT_INPUTS = "GET_CURRENT_INPUTS"  # GET_CURRENT_INPUTS_MSG
    GET_CURRENT_ATTRIBUTES = "GET_CURRENT_ATTRIBUTES"  # GET_CURRENT_ATTRIBUTES_MSG
    CURRENT_OUTPUTS = "CURRENT_OUTPUTS"  # CURRENT_OUTPUTS_MSG
    CURRENT_INPUTS = "CURRENT_INPUTS"  # CURRENT_INPUTS_MSG
    CURRENT_ATTRIBUTES = "CURRENT_ATTRIBUTES"  # CURRENT_ATTRIBUTES_MSG
    # 4.3 services
    SERVICE = "SERVICE"  # SERVICE_MSG (protocol >= v4)
    CALL = "CALL"  # CALL_MSG_DEPRECATED (v2/v3 peers)
    # 4.4 splits
    WORKER_HELLO = "WORKER_HELLO"  # WORKER_HELLO_MSG
    WORKER_READY = "WORKER_READY"  # WORKER_READY_MSG
    WORKER_GOODBYE = "WORKER_GOODBYE"  # WORKER_GOODBYE_MSG
    SPLITTER_WORK = "SPLITTER_WORK"  # SPLITTER_WORK_MSG
    # 4.5 remote control
    LOAD_THIS_DEFINITION = "LOAD_THIS_DEFINITION#"  # LOAD_DEFINITION_MSG
    LOAD_THIS_MAPPING = "LOAD_THIS_MAPPING#"  # LOAD_MAPPING_MSG
    CLEAR_MAPPING = "CLEAR_MAPPING"  # CLEAR_MAPPING_MSG
    MAP = "MAP"  # MAP_MSG
    UNMAP = "UNMAP"  # UNMAP_MSG
    ADD_SPLIT = "ADD_SPLIT"  # ADD_SPLIT_ENTRY_MSG
    REMOVE_SPLIT = "REMOVE_SPLIT"  # REMOVE_SPLIT_ENTRY_MSG
    SET_INPUT = "SET_INPUT"  # SET_INPUT_MSG
    SET_OUTPUT = "SET_OUTPUT"  # SET_OUTPUT_MSG
    SET_ATTRIBUTE = "SET_ATTRIBUTE"  # SET_ATTRIBUTE_MSG
    MUTE = "MUTE"  # MUTE_OUTPUT_MSG
    UNMUTE = "UNMUTE"  # UNMUTE_OUTPUT_MSG
    MUTE_AGENT = "MUTE_AGENT"  # MUTE_AGENT_MSG
    UNMUTE_AGENT = "UNMUTE_AGENT"  # UNMUTE_AGENT_MSG
    MUTE_ALL = "MUTE_ALL"  # MUTE_ALL_MSG
    UNMUTE_ALL = "UNMUTE_ALL"  # UNMUTE_ALL_MSG
    FREEZE = "FREEZE"  # FREEZE_MSG
    UNFREEZE = "UNFREEZE"  # UNFREEZE_MSG
    START_AGENT = "START_AGENT"  # START_AGENT_MSG
    STOP_AGENT = "STOP_AGENT"  # STOP_AGENT_MSG
    STOP_PEER = "STOP_PEER"  # STOP_PEER_MSG
    ENABLE_LOG_STREAM = "ENABLE_LOG_STREAM"  # ENABLE_LOG_STREAM_MSG
    DISABLE_LOG_STREAM = "DISABLE_LOG_STREAM"  # DISABLE_LOG_STREAM_MSG
    ENABLE_LOG_FILE = "ENABLE_LOG_FILE"  # ENABLE_LOG_FILE_MSG
    DISABLE_LOG_FILE = "DISABLE_LOG_FILE"  # DISABLE_LOG_FILE_MSG
    SET_LOG_PATH = "SET_LOG_PATH"  # SET_LOG_PATH_MSG
    SET_DEFINITION_PATH = "SET_DEFINITION_PATH"  # SET_DEFINITION_PATH_MSG
    SET_MAPPING_PATH = "SET_MAPPING_PATH"  # SET_MAPPING_PATH_MSG
    SAVE_DEFINITION_TO_PATH = "SAVE_DEFINITION_TO_PATH"  # SAVE_DEFINITION_TO_PATH_MSG
    SAVE_MAPPING_TO_PATH = "SAVE_MAPPING_TO_PATH"  # SAVE_MAPPING_TO_PATH_MSG
    RT_SET_TIME = "RT_SET_TIME "  # RT_SET_TIME_MSG: a prefix, the time follows in the title
    # 4.6 performance probe
    PING = "PING"  # PING_MSG
    PONG = "PONG"  # PONG_MSG


SHOUT_TITLES: Final = frozenset({Title.REMOTE_AGENT_EXIT, Title.STATE, Title.RT_SET_TIME})
"""Titles a C agent also handles when they arrive by SHOUT on ``INGESCAPE_PRIVATE``."""

_UUID_RE: Final = re.compile(r"[0-9A-F]{32}")


def is_agent_uuid(text: str) -> bool:
    """Whether ``text`` has the shape of an agent UUID: 32 upper-case hex characters (§1)."""
    return _UUID_RE.fullmatch(text) is not None


# --------------------------------------------------------------------------------------
# Frame helpers
# --------------------------------------------------------------------------------------


def _text(frame: bytes) -> str:
    return frame.decode("utf-8", "surrogateescape")


def _frame(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _c_text(frame: bytes) -> str:
    """A C string: everything from the first NUL on is lost."""
    return _text(frame.split(b"\x00", 1)[0])


def _flag(frame: bytes, title: str) -> bool:
    if frame == b"1":
        return True
    if frame == b"0":
        return False
    raise DecodeError(f"{title}: flag frame must be '0' or '1', got {frame[:16]!r}")


_DECIMAL_RE: Final = re.compile(rb"\s*([+-]?[0-9]{1,20})\s*")


def _decimal(frame: bytes, title: str, what: str) -> int:
    match = _DECIMAL_RE.fullmatch(frame)
    if match is None:
        raise DecodeError(f"{title}: {what} must be a decimal number, got {frame[:16]!r}")
    return int(match.group(1))


def _iop_type(frame: bytes, title: str) -> IopType:
    code = _decimal(frame, title, "value type")
    if not IopType.INTEGER <= code <= IopType.DATA:
        raise DecodeError(f"{title}: value type {code} is not 1..6")
    return IopType(code)


def _encode_value(iop_type: IopType, value: Value, *, nul: bool) -> bytes:
    """A value as publications carry it (§7.2); ``nul`` adds the STRING terminator."""
    checked = check_value(value, iop_type)
    if iop_type is IopType.INTEGER:
        return struct.pack("<i", checked)
    if iop_type is IopType.DOUBLE:
        return struct.pack("<d", checked)
    if iop_type is IopType.BOOL:
        return b"\x01" if checked else b"\x00"
    if iop_type is IopType.STRING:
        assert isinstance(checked, str)
        return _frame(checked) + (b"\x00" if nul else b"")
    if iop_type is IopType.DATA:
        assert isinstance(checked, bytes)
        return checked
    return b""


def _decode_value(iop_type: IopType, frame: bytes, title: str) -> Value:
    """A value frame; like C, reads the first bytes of a longer frame, cuts STRING at NUL."""
    if iop_type is IopType.INTEGER or iop_type is IopType.DOUBLE:
        size, fmt = (4, "<i") if iop_type is IopType.INTEGER else (8, "<d")
        if len(frame) < size:
            raise DecodeError(f"{title}: {iop_type.name} needs {size} bytes, got {len(frame)}")
        number: int | float = struct.unpack_from(fmt, frame)[0]
        return number
    if iop_type is IopType.BOOL:
        if not frame:
            raise DecodeError(f"{title}: BOOL needs 1 byte, got 0")
        return frame[0] != 0
    if iop_type is IopType.STRING:
        return _c_text(frame)
    if iop_type is IopType.DATA:
        return bytes(frame)
    return IMPULSION


def _short(value: object) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} B>" if len(value) > 16 else value.hex(" ") or "<0 B>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Message:
    """Shared behaviour; ``__str__`` is the title then ``field=value`` pairs, shortened."""

    __slots__ = ()

    _TITLE: ClassVar[Title]

    @property
    def title(self) -> str:
        """Frame 0."""
        return self._TITLE.value

    def encode(self) -> list[bytes]:
        """The frames, title first (default: then every field as text, ``None`` left out)."""
        frames = [_frame(self.title)]
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name != "title" and value is not None:
                frames.append(_frame(value))
        return frames

    def __str__(self) -> str:
        parts = [
            f"{f.name}={_short(getattr(self, f.name))}"
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.name != "title"
        ]
        return " ".join([self.title.rstrip(), *parts])


def _check_title(title: str, allowed: tuple[Title, ...]) -> None:
    if title not in allowed:
        names = ", ".join(t.value for t in allowed)
        raise LocalProtocolError(f"title {title!r} is not one of {names}")


# --------------------------------------------------------------------------------------
# 4.1 announcement and model synchronisation
# --------------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalDefinition(_Message):
    """``EXTERNAL_DEFINITION#``: an agent's definition JSON; ``reactivated`` adds frame ``"1"``."""

    definition_json: str
    agent_uuid: str
    agent_name: str
    reactivated: bool = False

    _TITLE: ClassVar[Title] = Title.EXTERNAL_DEFINITION

    def encode(self) -> list[bytes]:
        frames = [_frame(self.title), _frame(self.definition_json)]
        frames += [_frame(self.agent_uuid), _frame(self.agent_name)]
        return frames + ([b"1"] if self.reactivated else [])


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalMapping(_Message):
    """``EXTERNAL_MAPPING#``: an agent's mapping JSON (``""`` means no mapping)."""

    mapping_json: str
    agent_uuid: str

    _TITLE: ClassVar[Title] = Title.EXTERNAL_MAPPING


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePeerKnowsAgent(_Message):
    """``REMOTE_PEER_KNOWS_AGENT``: the sender now knows the receiver's agent ``agent_uuid``."""

    agent_uuid: str

    _TITLE: ClassVar[Title] = Title.REMOTE_PEER_KNOWS_AGENT


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteAgentExit(_Message):
    """``REMOTE_AGENT_EXIT``: an agent was deactivated or destroyed (SHOUT)."""

    agent_uuid: str
    agent_name: str

    _TITLE: ClassVar[Title] = Title.REMOTE_AGENT_EXIT


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AgentState(_Message):
    """``STATE``: the free-text state of an agent (``igs_agent_set_state``)."""

    state: str
    agent_uuid: str

    _TITLE: ClassVar[Title] = Title.STATE


_OUTPUT_MUTE_TITLES: Final = (Title.OUTPUT_MUTED, Title.OUTPUT_UNMUTED)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OutputMuteState(_Message):
    """``OUTPUT_MUTED`` / ``OUTPUT_UNMUTED``: informational, for editors."""

    title: Literal[Title.OUTPUT_MUTED, Title.OUTPUT_UNMUTED]
    output: str
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _OUTPUT_MUTE_TITLES)


_FLAG_TITLES: Final = (Title.MUTED, Title.FROZEN, Title.LOG_IN_STREAM, Title.LOG_IN_FILE)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFlag(_Message):
    """``MUTED`` / ``FROZEN`` / ``LOG_IN_STREAM`` / ``LOG_IN_FILE``: ``"1"`` or ``"0"``."""

    title: Literal[Title.MUTED, Title.FROZEN, Title.LOG_IN_STREAM, Title.LOG_IN_FILE]
    value: bool
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _FLAG_TITLES)

    def encode(self) -> list[bytes]:
        return [_frame(self.title), b"1" if self.value else b"0", _frame(self.agent_uuid)]


_PATH_TITLES: Final = (Title.LOG_FILE_PATH, Title.DEFINITION_FILE_PATH, Title.MAPPING_FILE_PATH)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPath(_Message):
    """``LOG_FILE_PATH`` / ``DEFINITION_FILE_PATH`` / ``MAPPING_FILE_PATH`` (``""``: none)."""

    title: Literal[Title.LOG_FILE_PATH, Title.DEFINITION_FILE_PATH, Title.MAPPING_FILE_PATH]
    path: str
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _PATH_TITLES)


# --------------------------------------------------------------------------------------
# 4.2 current-value queries
# --------------------------------------------------------------------------------------

_GET_CURRENT_TITLES: Final = (
    Title.GET_CURRENT_OUTPUTS,
    Title.GET_CURRENT_INPUTS,
    Title.GET_CURRENT_ATTRIBUTES,
)
_CURRENT_TITLES: Final = (Title.CURRENT_OUTPUTS, Title.CURRENT_INPUTS, Title.CURRENT_ATTRIBUTES)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GetCurrentValues(_Message):
    """``GET_CURRENT_OUTPUTS`` / ``_INPUTS`` / ``_ATTRIBUTES`` addressed to ``agent_uuid``."""

    title: Literal[
        Title.GET_CURRENT_OUTPUTS, Title.GET_CURRENT_INPUTS, Title.GET_CURRENT_ATTRIBUTES
    ]
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _GET_CURRENT_TITLES)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentValue:
    """One ``name, type, value`` triplet of a :class:`CurrentValues` answer."""

    name: str
    type: IopType
    value: Value

    def __str__(self) -> str:
        return f"{self.name}:{self.type.name}={_short(self.value)}"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentValues(_Message):
    """``CURRENT_OUTPUTS`` / ``_INPUTS`` / ``_ATTRIBUTES``: triplets, STRING without NUL.

    Decoding ignores an incomplete trailing triplet (one or two extra frames).
    """

    title: Literal[Title.CURRENT_OUTPUTS, Title.CURRENT_INPUTS, Title.CURRENT_ATTRIBUTES]
    agent_uuid: str
    values: tuple[CurrentValue, ...] = ()

    def __post_init__(self) -> None:
        _check_title(self.title, _CURRENT_TITLES)

    def encode(self) -> list[bytes]:
        frames = [_frame(self.title), _frame(self.agent_uuid)]
        for item in self.values:
            frames.append(_frame(item.name))
            frames.append(str(int(item.type)).encode())
            frames.append(_encode_value(item.type, item.value, nul=False))
        return frames

    def __str__(self) -> str:
        return f"{self.title} agent_uuid={self.agent_uuid} " + " ".join(map(str, self.values))


# --------------------------------------------------------------------------------------
# 4.3 services (§8)
# --------------------------------------------------------------------------------------


def encode_service_arguments(arguments: Sequence[tuple[IopType, Value]]) -> list[bytes]:
    """Argument frames as a C caller sends them (``igsagent_service_call``, §8).

    BOOL is 4 bytes (value in the first), INTEGER 4 bytes LE, DOUBLE 8 bytes LE, STRING
    UTF-8 plus NUL, DATA raw, IMPULSION an empty frame.

    Raises:
        ValueTypeError: a value that is not of its declared type.
    """
    frames: list[bytes] = []
    for iop_type, value in arguments:
        iop_type = IopType(iop_type)
        if iop_type is IopType.BOOL:
            frames.append(b"\x01\x00\x00\x00" if check_value(value, iop_type) else bytes(4))
        else:
            frames.append(_encode_value(iop_type, value, nul=True))
    return frames


def _split_service_frames(
    frames: Sequence[bytes], types: Sequence[IopType]
) -> tuple[Sequence[bytes], int | None]:
    if len(frames) < len(types):
        raise DecodeError(
            f"SERVICE: {len(types)} arguments declared, only {len(frames)} frames received"
        )
    extra = frames[len(types) :]
    if not extra:
        return frames, None
    if len(extra[0]) != 8:
        raise DecodeError(
            f"SERVICE: frame after the arguments must be an 8-byte timestamp, "
            f"got {len(extra[0])} bytes"
        )
    timestamp: int = struct.unpack("<q", extra[0])[0]
    return frames[: len(types)], timestamp


def decode_service_arguments(frames: Sequence[bytes], types: Sequence[IopType]) -> list[Value]:
    """Argument values as a C callee reads them, driven by its own declared ``types`` (§8).

    ``frames`` are the frames after the token (:attr:`ServiceCall.payload`). BOOL reads the
    first byte; INTEGER/DOUBLE the first 4/8 bytes; STRING stops at the first NUL (empty
    frame: ``""``); DATA is copied; IMPULSION ignores its frame. No conversion is done.

    Raises:
        DecodeError: fewer frames than ``types``; a numeric frame too short; an extra frame
            that is not an 8-byte timestamp (Ingescape rejects such calls as corrupted).
    """
    arguments, _ = _split_service_frames(frames, types)
    return [
        _decode_value(IopType(t), bytes(f), "SERVICE")
        for t, f in zip(types, arguments, strict=True)
    ]


def decode_service_timestamp(frames: Sequence[bytes], types: Sequence[IopType]) -> int | None:
    """The caller's timestamp (µs, int64) after the declared arguments, or ``None``.

    Raises:
        DecodeError: as :func:`decode_service_arguments`.
    """
    return _split_service_frames(frames, types)[1]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceCall(_Message):
    """``SERVICE`` (``CALL`` when ``legacy``, for v2/v3 peers): one service call.

    ``payload`` holds every frame after the token: the arguments, then an optional 8-byte
    timestamp. Build it with :meth:`with_arguments`; read it with
    :func:`decode_service_arguments` and :func:`decode_service_timestamp`. ``token`` is
    ``""`` when there is none (an empty frame).
    """

    caller_uuid: str
    callee_uuid: str
    service: str
    token: str = ""
    payload: tuple[bytes, ...] = ()
    legacy: bool = False

    @classmethod
    def with_arguments(
        cls,
        *,
        caller_uuid: str,
        callee_uuid: str,
        service: str,
        arguments: Sequence[tuple[IopType, Value]] = (),
        token: str = "",
        timestamp: int | None = None,
        legacy: bool = False,
    ) -> ServiceCall:
        """A call whose payload encodes ``arguments`` (and ``timestamp`` in µs if given).

        Raises:
            ValueTypeError: an argument value that is not of its declared type.
            LocalProtocolError: a timestamp outside int64.
        """
        payload = encode_service_arguments(arguments)
        if timestamp is not None:
            try:
                payload.append(struct.pack("<q", timestamp))
            except struct.error:
                raise LocalProtocolError(f"timestamp {timestamp} does not fit an int64") from None
        return cls(
            caller_uuid=caller_uuid,
            callee_uuid=callee_uuid,
            service=service,
            token=token,
            payload=tuple(payload),
            legacy=legacy,
        )

    @property
    def title(self) -> str:
        return (Title.CALL if self.legacy else Title.SERVICE).value

    def encode(self) -> list[bytes]:
        head = [self.title, self.caller_uuid, self.callee_uuid, self.service, self.token]
        return [_frame(text) for text in head] + list(self.payload)

    def __str__(self) -> str:
        return (
            f"{self.title} {self.caller_uuid} -> {self.callee_uuid}.{self.service} "
            f"token={self.token!r} payload=[{', '.join(_short(f) for f in self.payload)}]"
        )


# --------------------------------------------------------------------------------------
# 4.4 splits (§9)
# --------------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerHello(_Message):
    """``WORKER_HELLO`` worker → splitter; ``credit`` is always 3 in Ingescape 4.7."""

    worker_uuid: str
    worker_input: str
    splitter_output: str
    credit: int = 3
    splitter_uuid: str | None = None

    _TITLE: ClassVar[Title] = Title.WORKER_HELLO

    def encode(self) -> list[bytes]:
        frames = [_frame(t) for t in (self.title, self.worker_uuid, self.worker_input)]
        frames += [_frame(self.splitter_output), str(self.credit).encode()]
        return frames + ([] if self.splitter_uuid is None else [_frame(self.splitter_uuid)])


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerReady(_Message):
    """``WORKER_READY`` worker → splitter: one more credit."""

    worker_uuid: str
    worker_input: str
    splitter_output: str
    splitter_uuid: str | None = None

    _TITLE: ClassVar[Title] = Title.WORKER_READY


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerGoodbye(_Message):
    """``WORKER_GOODBYE`` worker → splitter: the split entry was removed."""

    worker_uuid: str
    worker_input: str
    splitter_output: str
    splitter_uuid: str | None = None

    _TITLE: ClassVar[Title] = Title.WORKER_GOODBYE


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SplitterWork(_Message):
    """``SPLITTER_WORK`` splitter → worker: one value, encoded like a publication.

    patchwire sends STRING NUL-terminated; a C 4.6/4.7 splitter sends garbage for strings
    (§9), which decodes to whatever text precedes the first NUL.
    """

    splitter_uuid: str
    worker_input: str
    splitter_output: str
    type: IopType
    value: Value
    worker_uuid: str | None = None

    _TITLE: ClassVar[Title] = Title.SPLITTER_WORK

    def encode(self) -> list[bytes]:
        frames = [_frame(t) for t in (self.title, self.splitter_uuid, self.worker_input)]
        frames += [_frame(self.splitter_output), str(int(self.type)).encode()]
        frames.append(_encode_value(self.type, self.value, nul=True))
        return frames + ([] if self.worker_uuid is None else [_frame(self.worker_uuid)])


# --------------------------------------------------------------------------------------
# 4.5 remote control
# --------------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class LoadDefinition(_Message):
    """``LOAD_THIS_DEFINITION#``: replace the target agent's definition."""

    definition_json: str
    agent_uuid: str

    _TITLE: ClassVar[Title] = Title.LOAD_THIS_DEFINITION


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class LoadMapping(_Message):
    """``LOAD_THIS_MAPPING#``: replace the target agent's mapping."""

    mapping_json: str
    agent_uuid: str

    _TITLE: ClassVar[Title] = Title.LOAD_THIS_MAPPING


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ClearMapping(_Message):
    """``CLEAR_MAPPING``: empty the target agent's mapping and splits."""

    agent_uuid: str

    _TITLE: ClassVar[Title] = Title.CLEAR_MAPPING


_EDIT_TITLES: Final = (Title.MAP, Title.UNMAP, Title.ADD_SPLIT, Title.REMOVE_SPLIT)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EditEntry(_Message):
    """``MAP`` / ``UNMAP`` / ``ADD_SPLIT`` / ``REMOVE_SPLIT``: ``input ← agent_name.output``."""

    title: Literal[Title.MAP, Title.UNMAP, Title.ADD_SPLIT, Title.REMOVE_SPLIT]
    input: str
    agent_name: str
    output: str
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _EDIT_TITLES)


_SET_TITLES: Final = (Title.SET_INPUT, Title.SET_OUTPUT, Title.SET_ATTRIBUTE)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SetValue(_Message):
    """``SET_INPUT`` / ``SET_OUTPUT`` / ``SET_ATTRIBUTE``: write ``value`` as text (§11).

    ``value`` ``""`` is the empty frame (NULL). ``value_type`` is the optional 5th frame, an
    int64 LE (1..6, or 7..12 for timestamped types, which the agent refuses); decoding reads
    the first 8 bytes of a longer frame, as C does, and rejects a shorter one.
    """

    title: Literal[Title.SET_INPUT, Title.SET_OUTPUT, Title.SET_ATTRIBUTE]
    name: str
    value: str
    agent_uuid: str
    value_type: int | None = None

    def __post_init__(self) -> None:
        _check_title(self.title, _SET_TITLES)

    def encode(self) -> list[bytes]:
        frames = [_frame(t) for t in (self.title, self.name, self.value, self.agent_uuid)]
        if self.value_type is not None:
            try:
                frames.append(struct.pack("<q", self.value_type))
            except struct.error:
                raise LocalProtocolError(
                    f"value type {self.value_type} does not fit an int64"
                ) from None
        return frames


_MUTE_TITLES: Final = (Title.MUTE, Title.UNMUTE)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MuteOutput(_Message):
    """``MUTE`` / ``UNMUTE``: one output of the target agent."""

    title: Literal[Title.MUTE, Title.UNMUTE]
    output: str
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _MUTE_TITLES)


_AGENT_COMMAND_TITLES: Final = (
    Title.MUTE_AGENT,
    Title.UNMUTE_AGENT,
    Title.STOP_AGENT,
    Title.SAVE_DEFINITION_TO_PATH,
    Title.SAVE_MAPPING_TO_PATH,
)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCommand(_Message):
    """A command whose only argument is the target agent's UUID.

    ``MUTE_AGENT``, ``UNMUTE_AGENT``, ``STOP_AGENT``, ``SAVE_DEFINITION_TO_PATH``,
    ``SAVE_MAPPING_TO_PATH``.
    """

    title: Literal[
        Title.MUTE_AGENT,
        Title.UNMUTE_AGENT,
        Title.STOP_AGENT,
        Title.SAVE_DEFINITION_TO_PATH,
        Title.SAVE_MAPPING_TO_PATH,
    ]
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _AGENT_COMMAND_TITLES)


_PEER_COMMAND_TITLES: Final = (
    Title.MUTE_ALL,
    Title.UNMUTE_ALL,
    Title.FREEZE,
    Title.UNFREEZE,
    Title.STOP_PEER,
    Title.ENABLE_LOG_STREAM,
    Title.DISABLE_LOG_STREAM,
    Title.ENABLE_LOG_FILE,
    Title.DISABLE_LOG_FILE,
)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PeerCommand(_Message):
    """A command without arguments, for the whole receiving peer.

    ``MUTE_ALL``, ``UNMUTE_ALL``, ``FREEZE``, ``UNFREEZE``, ``STOP_PEER``,
    ``ENABLE_LOG_STREAM``, ``DISABLE_LOG_STREAM``, ``ENABLE_LOG_FILE``, ``DISABLE_LOG_FILE``.
    """

    title: Literal[
        Title.MUTE_ALL,
        Title.UNMUTE_ALL,
        Title.FREEZE,
        Title.UNFREEZE,
        Title.STOP_PEER,
        Title.ENABLE_LOG_STREAM,
        Title.DISABLE_LOG_STREAM,
        Title.ENABLE_LOG_FILE,
        Title.DISABLE_LOG_FILE,
    ]

    def __post_init__(self) -> None:
        _check_title(self.title, _PEER_COMMAND_TITLES)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class StartAgent(_Message):
    """``START_AGENT``: activate the created-but-inactive agent named ``agent_name``."""

    agent_name: str

    _TITLE: ClassVar[Title] = Title.START_AGENT


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SetLogPath(_Message):
    """``SET_LOG_PATH``: the peer's log file path."""

    path: str

    _TITLE: ClassVar[Title] = Title.SET_LOG_PATH


_SET_PATH_TITLES: Final = (Title.SET_DEFINITION_PATH, Title.SET_MAPPING_PATH)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SetFilePath(_Message):
    """``SET_DEFINITION_PATH`` / ``SET_MAPPING_PATH`` for the target agent."""

    title: Literal[Title.SET_DEFINITION_PATH, Title.SET_MAPPING_PATH]
    path: str
    agent_uuid: str

    def __post_init__(self) -> None:
        _check_title(self.title, _SET_PATH_TITLES)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RtSetTime(_Message):
    """``RT_SET_TIME <n>``: the time (µs) is inside the title frame, after one space."""

    time_us: int

    @property
    def title(self) -> str:
        return f"{Title.RT_SET_TIME.value}{self.time_us}"

    def encode(self) -> list[bytes]:
        return [_frame(self.title)]

    def __str__(self) -> str:
        return self.title


# --------------------------------------------------------------------------------------
# 4.6 performance probe, unknown titles
# --------------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(_Message):
    """``PING`` / ``PONG`` (``pong``): ``count`` as an 8-byte size_t LE, then the payload."""

    count: int
    payload: bytes = b""
    pong: bool = False

    @property
    def title(self) -> str:
        return (Title.PONG if self.pong else Title.PING).value

    def encode(self) -> list[bytes]:
        try:
            count = struct.pack("<Q", self.count)
        except struct.error:
            raise LocalProtocolError(f"count {self.count} does not fit a size_t") from None
        return [_frame(self.title), count, self.payload]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage(_Message):
    """A title patchwire does not interpret (e.g. a user channel whisper); frames kept as is."""

    title: str
    frames: tuple[bytes, ...] = ()

    def encode(self) -> list[bytes]:
        return [_frame(self.title), *self.frames]

    def __str__(self) -> str:
        return f"{self.title!r} [{', '.join(_short(f) for f in self.frames)}]"


IgsMessage: TypeAlias = (
    ExternalDefinition
    | ExternalMapping
    | RemotePeerKnowsAgent
    | RemoteAgentExit
    | AgentState
    | OutputMuteState
    | AgentFlag
    | AgentPath
    | GetCurrentValues
    | CurrentValues
    | ServiceCall
    | WorkerHello
    | WorkerReady
    | WorkerGoodbye
    | SplitterWork
    | LoadDefinition
    | LoadMapping
    | ClearMapping
    | EditEntry
    | SetValue
    | MuteOutput
    | AgentCommand
    | PeerCommand
    | StartAgent
    | SetLogPath
    | SetFilePath
    | RtSetTime
    | Ping
    | UnknownMessage
)
"""Every Ingescape control message; ``match`` on it."""


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------

_Decoder: TypeAlias = Callable[[Title, list[bytes]], IgsMessage]
# Each decoder gets the frames after the title, already checked to be at least _ARITY long.


def _d_external_definition(t: Title, f: list[bytes]) -> IgsMessage:
    return ExternalDefinition(
        definition_json=_text(f[0]),
        agent_uuid=_text(f[1]),
        agent_name=_text(f[2]),
        reactivated=len(f) > 3 and f[3] == b"1",
    )


def _d_current_values(t: Title, f: list[bytes]) -> IgsMessage:
    values = []
    for i in range(1, len(f) - 2, 3):
        iop_type = _iop_type(f[i + 1], t)
        value = _decode_value(iop_type, f[i + 2], t)
        values.append(CurrentValue(name=_text(f[i]), type=iop_type, value=value))
    return CurrentValues(title=t, agent_uuid=_text(f[0]), values=tuple(values))  # type: ignore[arg-type]


def _d_service(t: Title, f: list[bytes]) -> IgsMessage:
    return ServiceCall(
        caller_uuid=_text(f[0]),
        callee_uuid=_text(f[1]),
        service=_text(f[2]),
        token=_text(f[3]),
        payload=tuple(f[4:]),
        legacy=t is Title.CALL,
    )


def _optional_text(f: list[bytes], index: int) -> str | None:
    return _text(f[index]) if len(f) > index else None


def _d_splitter_work(t: Title, f: list[bytes]) -> IgsMessage:
    iop_type = _iop_type(f[3], t)
    return SplitterWork(
        splitter_uuid=_text(f[0]),
        worker_input=_text(f[1]),
        splitter_output=_text(f[2]),
        type=iop_type,
        value=_decode_value(iop_type, f[4], t),
        worker_uuid=_optional_text(f, 5),
    )


def _d_set_value(t: Title, f: list[bytes]) -> IgsMessage:
    value_type = None
    if len(f) > 3:
        if len(f[3]) < 8:
            raise DecodeError(f"{t}: value type frame needs 8 bytes, got {len(f[3])}")
        value_type = struct.unpack_from("<q", f[3])[0]
    return SetValue(
        title=t,  # type: ignore[arg-type]
        name=_text(f[0]),
        value=_text(f[1]),
        agent_uuid=_text(f[2]),
        value_type=value_type,
    )


def _d_ping(t: Title, f: list[bytes]) -> IgsMessage:
    if len(f[0]) != 8:
        raise DecodeError(f"{t}: count must be 8 bytes, got {len(f[0])}")
    count: int = struct.unpack("<Q", f[0])[0]
    return Ping(count=count, payload=bytes(f[1]), pong=t is Title.PONG)


# title -> (number of frames after the title that the handler needs, decoder)
def _d_flag(t: Title, f: list[bytes]) -> IgsMessage:
    return AgentFlag(title=t, value=_flag(f[0], t), agent_uuid=_text(f[1]))  # type: ignore[arg-type]


def _d_worker(t: Title, f: list[bytes]) -> IgsMessage:
    names = {"worker_uuid": _text(f[0]), "worker_input": _text(f[1])}
    names["splitter_output"] = _text(f[2])
    if t is Title.WORKER_HELLO:
        credit = _decimal(f[3], t, "credit")
        return WorkerHello(**names, credit=credit, splitter_uuid=_optional_text(f, 4))
    cls = WorkerReady if t is Title.WORKER_READY else WorkerGoodbye
    return cls(**names, splitter_uuid=_optional_text(f, 3))


def _texts(
    cls: Callable[..., IgsMessage], *names: str, titled: bool = False
) -> tuple[int, _Decoder]:
    """A decoder for a message made of text frames only, in the order of ``names``."""

    def decode(t: Title, f: list[bytes]) -> IgsMessage:
        kwargs: dict[str, object] = {n: _text(frame) for n, frame in zip(names, f, strict=False)}
        if titled:
            kwargs["title"] = t
        return cls(**kwargs)

    return len(names), decode


def _family(
    titles: tuple[Title, ...], entry: tuple[int, _Decoder]
) -> dict[Title, tuple[int, _Decoder]]:
    return dict.fromkeys(titles, entry)


# title -> (number of frames after the title that the handler needs, decoder)
_DECODERS: Final[dict[Title, tuple[int, _Decoder]]] = {
    Title.EXTERNAL_DEFINITION: (3, _d_external_definition),
    Title.EXTERNAL_MAPPING: _texts(ExternalMapping, "mapping_json", "agent_uuid"),
    Title.REMOTE_PEER_KNOWS_AGENT: _texts(RemotePeerKnowsAgent, "agent_uuid"),
    Title.REMOTE_AGENT_EXIT: _texts(RemoteAgentExit, "agent_uuid", "agent_name"),
    Title.STATE: _texts(AgentState, "state", "agent_uuid"),
    **_family(_OUTPUT_MUTE_TITLES, _texts(OutputMuteState, "output", "agent_uuid", titled=True)),
    **_family(_FLAG_TITLES, (2, _d_flag)),
    **_family(_PATH_TITLES, _texts(AgentPath, "path", "agent_uuid", titled=True)),
    **_family(_GET_CURRENT_TITLES, _texts(GetCurrentValues, "agent_uuid", titled=True)),
    **_family(_CURRENT_TITLES, (1, _d_current_values)),
    Title.SERVICE: (4, _d_service),
    Title.CALL: (4, _d_service),
    Title.WORKER_HELLO: (4, _d_worker),
    Title.WORKER_READY: (3, _d_worker),
    Title.WORKER_GOODBYE: (3, _d_worker),
    Title.SPLITTER_WORK: (5, _d_splitter_work),
    Title.LOAD_THIS_DEFINITION: _texts(LoadDefinition, "definition_json", "agent_uuid"),
    Title.LOAD_THIS_MAPPING: _texts(LoadMapping, "mapping_json", "agent_uuid"),
    Title.CLEAR_MAPPING: _texts(ClearMapping, "agent_uuid"),
    **_family(
        _EDIT_TITLES,
        _texts(EditEntry, "input", "agent_name", "output", "agent_uuid", titled=True),
    ),
    **_family(_SET_TITLES, (3, _d_set_value)),
    **_family(_MUTE_TITLES, _texts(MuteOutput, "output", "agent_uuid", titled=True)),
    **_family(_AGENT_COMMAND_TITLES, _texts(AgentCommand, "agent_uuid", titled=True)),
    **_family(_PEER_COMMAND_TITLES, _texts(PeerCommand, titled=True)),
    Title.START_AGENT: _texts(StartAgent, "agent_name"),
    Title.SET_LOG_PATH: _texts(SetLogPath, "path"),
    **_family(_SET_PATH_TITLES, _texts(SetFilePath, "path", "agent_uuid", titled=True)),
    Title.PING: (2, _d_ping),
    Title.PONG: (2, _d_ping),
}

_RT_SET_TIME_RE: Final = re.compile(r"RT_SET_TIME ([+-]?[0-9]{1,20})")


def decode_igs_message(frames: Sequence[bytes]) -> IgsMessage:
    """Decode the content frames of a WHISPER or SHOUT (frame 0 is the title).

    Returns :class:`UnknownMessage` for a title not in :class:`Title`.

    Raises:
        DecodeError: no frame at all, fewer frames than the title needs, or a malformed
            field (flag, decimal number, value type, value, 8-byte integer, RT_SET_TIME).
    """
    if not frames:
        raise DecodeError("Ingescape message without a title frame")
    title_text = _text(bytes(frames[0]))
    rest = [bytes(frame) for frame in frames[1:]]
    if title_text.startswith(Title.RT_SET_TIME.value):
        match = _RT_SET_TIME_RE.fullmatch(title_text)
        if match is None:
            raise DecodeError(f"malformed RT_SET_TIME title {title_text[:40]!r}")
        return RtSetTime(time_us=int(match.group(1)))
    try:
        title = Title(title_text)
    except ValueError:
        return UnknownMessage(title=title_text, frames=tuple(rest))
    arity, decoder = _DECODERS[title]
    if len(rest) < arity:
        raise DecodeError(f"{title.value}: needs {arity} frames after the title, got {len(rest)}")
    return decoder(title, rest)
