"""Output publications: the frames an agent sends on its PUB socket (spec ``ingescape.md`` §7).

Layer: protocol (pure: no I/O, no clock). A publication is three frames::

    [b"<agent uuid>-<output name>", b"<type code, decimal ASCII>", value]

Value frame per type (§7.2; checked against
``tests/vectors/igs/publications_ingescape_4.7.0.json``):

=========  ====  ==========================================================
type       code  value frame
=========  ====  ==========================================================
INTEGER    1     int32, little-endian, 4 bytes
DOUBLE     2     IEEE-754 binary64, little-endian, 8 bytes (NaN, ±inf, -0.0 kept)
STRING     3     UTF-8 plus a trailing NUL (``""`` is ``00``)
BOOL       4     1 byte, 0 or 1
IMPULSION  5     empty
DATA       6     the raw bytes (``b""`` is an empty frame)
=========  ====  ==========================================================

With timestamps (§7.3) the code is ``base + 6`` (7…12) and the value frame is a czmq
``zmsg_encode`` of two frames ``[value frame above, int64 LE microseconds]``: each frame is
prefixed by its length, one byte when below 255, else ``ff`` and four big-endian bytes.

Encoding is canonical (what Ingescape 4.7 sends). Decoding is as tolerant as the C receiver
where the C receiver is known to be tolerant, so for those inputs ``decode`` then ``encode``
is not byte-identical:

* a STRING without its trailing NUL, or an empty STRING frame (a C NULL string), decodes;
  everything after the first NUL is dropped, as a C string would drop it;
* a bundle length written as ``ff`` + 4 bytes although it is below 255 decodes;
* a BOOL byte other than 0 is ``True``.

Everything else that does not match the table raises :class:`~patchwire.errors.DecodeError`
(the only exception :func:`decode_publication` raises). The C receiver also accepts several
``(topic, type, value)`` triplets in one message; no C sender produces that, and
:func:`decode_publication` requires exactly three frames.

The ``encode_*`` helpers are the hot path: they build the frames from a precomputed topic
(:func:`topic`) without creating a :class:`Publication`, and give the same bytes as
:meth:`Publication.encode`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from patchwire.errors import DecodeError
from patchwire.model.values import IMPULSION, IopType, Value, check_value

__all__ = [
    "TIMESTAMPED_OFFSET",
    "UUID_SIZE",
    "Publication",
    "decode_publication",
    "encode_bool",
    "encode_data",
    "encode_double",
    "encode_impulsion",
    "encode_int",
    "encode_string",
    "encode_value",
    "topic",
]

UUID_SIZE: Final = 32
"""Bytes of the agent UUID at the start of a topic (32 upper-case hex digits in practice)."""
TIMESTAMPED_OFFSET: Final = 6
"""``IGS_*_T + 6`` is the type code of a timestamped publication (spec §7.3)."""

_INT: Final = struct.Struct("<i")
_DOUBLE: Final = struct.Struct("<d")
_TS: Final = struct.Struct("<q")
_BIG_LEN: Final = struct.Struct(">I")
_TS_FRAME: Final = 8
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

# Type-code frames, indexed by code (0 unused): b"1" … b"12".
_CODES: Final = tuple(str(i).encode() for i in range(13))
_CODE_OF: Final = {_CODES[i]: i for i in range(1, 13)}
_BYTE_OF_BOOL: Final = (b"\x00", b"\x01")

_C_INT: Final = _CODES[IopType.INTEGER]
_C_DOUBLE: Final = _CODES[IopType.DOUBLE]
_C_STRING: Final = _CODES[IopType.STRING]
_C_BOOL: Final = _CODES[IopType.BOOL]
_C_IMPULSION: Final = _CODES[IopType.IMPULSION]
_C_DATA: Final = _CODES[IopType.DATA]
_T_INT: Final = _CODES[IopType.INTEGER + TIMESTAMPED_OFFSET]
_T_DOUBLE: Final = _CODES[IopType.DOUBLE + TIMESTAMPED_OFFSET]
_T_STRING: Final = _CODES[IopType.STRING + TIMESTAMPED_OFFSET]
_T_BOOL: Final = _CODES[IopType.BOOL + TIMESTAMPED_OFFSET]
_T_IMPULSION: Final = _CODES[IopType.IMPULSION + TIMESTAMPED_OFFSET]
_T_DATA: Final = _CODES[IopType.DATA + TIMESTAMPED_OFFSET]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def topic(agent_uuid: str, output: str) -> bytes:
    """The topic frame (and SUB filter) ``b"<agent uuid>-<output>"`` (spec §7.1)."""
    return _raw(agent_uuid) + b"-" + _raw(output)


# -- czmq zmsg_encode of [value, timestamp] ---------------------------------------------------


def _bundle(value: bytes, timestamp_us: int) -> bytes:
    size = len(value)
    head = bytes((size,)) if size < 255 else b"\xff" + _BIG_LEN.pack(size)
    return head + value + b"\x08" + _TS.pack(timestamp_us)


def _unbundle(frame: bytes) -> tuple[bytes, int]:
    parts: list[bytes] = []
    pos, end = 0, len(frame)
    while pos < end:
        size = frame[pos]
        pos += 1
        if size == 0xFF:
            if end - pos < 4:
                raise DecodeError("timestamped publication: truncated bundle frame length")
            size = _BIG_LEN.unpack_from(frame, pos)[0]
            pos += 4
        if end - pos < size:
            raise DecodeError("timestamped publication: bundle frame longer than the data")
        parts.append(frame[pos : pos + size])
        pos += size
    if len(parts) != 2:
        raise DecodeError(f"timestamped publication: bundle has {len(parts)} frames, not 2")
    value, stamp = parts
    if len(stamp) != _TS_FRAME:
        raise DecodeError(f"timestamped publication: timestamp frame is {len(stamp)} bytes")
    timestamp: int = _TS.unpack(stamp)[0]
    return value, timestamp


# -- the hot path -----------------------------------------------------------------------------


def encode_int(topic: bytes, value: int, timestamp_us: int | None = None) -> list[bytes]:
    """Frames of an INTEGER publication; ``value`` must fit 32 bits (``struct.error`` if not)."""
    if timestamp_us is None:
        return [topic, _C_INT, _INT.pack(value)]
    return [topic, _T_INT, _bundle(_INT.pack(value), timestamp_us)]


def encode_double(topic: bytes, value: float, timestamp_us: int | None = None) -> list[bytes]:
    """Frames of a DOUBLE publication."""
    if timestamp_us is None:
        return [topic, _C_DOUBLE, _DOUBLE.pack(value)]
    return [topic, _T_DOUBLE, _bundle(_DOUBLE.pack(value), timestamp_us)]


def encode_string(topic: bytes, value: str, timestamp_us: int | None = None) -> list[bytes]:
    """Frames of a STRING publication (UTF-8 plus the trailing NUL Ingescape sends)."""
    raw = value.encode("utf-8", "surrogateescape") + b"\x00"
    if timestamp_us is None:
        return [topic, _C_STRING, raw]
    return [topic, _T_STRING, _bundle(raw, timestamp_us)]


def encode_bool(topic: bytes, value: bool, timestamp_us: int | None = None) -> list[bytes]:
    """Frames of a BOOL publication (one byte, 0 or 1)."""
    raw = _BYTE_OF_BOOL[1 if value else 0]
    if timestamp_us is None:
        return [topic, _C_BOOL, raw]
    return [topic, _T_BOOL, _bundle(raw, timestamp_us)]


def encode_impulsion(topic: bytes, timestamp_us: int | None = None) -> list[bytes]:
    """Frames of an IMPULSION publication (an empty value frame)."""
    if timestamp_us is None:
        return [topic, _C_IMPULSION, b""]
    return [topic, _T_IMPULSION, _bundle(b"", timestamp_us)]


def encode_data(topic: bytes, value: bytes, timestamp_us: int | None = None) -> list[bytes]:
    """Frames of a DATA publication (the raw bytes)."""
    raw = bytes(value)
    if timestamp_us is None:
        return [topic, _C_DATA, raw]
    return [topic, _T_DATA, _bundle(raw, timestamp_us)]


def encode_value(
    topic: bytes, iop_type: IopType, value: Value, timestamp_us: int | None = None
) -> list[bytes]:
    """Frames of a publication of any type; ``value`` must already be of ``iop_type``."""
    raw = _value_frame(iop_type, value)
    if timestamp_us is None:
        return [topic, _CODES[iop_type], raw]
    return [topic, _CODES[iop_type + TIMESTAMPED_OFFSET], _bundle(raw, timestamp_us)]


def _value_frame(iop_type: IopType, value: Value) -> bytes:
    if iop_type is IopType.INTEGER:
        assert isinstance(value, int)
        return _INT.pack(value)
    if iop_type is IopType.DOUBLE:
        assert isinstance(value, float | int)
        return _DOUBLE.pack(value)
    if iop_type is IopType.STRING:
        assert isinstance(value, str)
        return _raw(value) + b"\x00"
    if iop_type is IopType.BOOL:
        return _BYTE_OF_BOOL[1 if value else 0]
    if iop_type is IopType.IMPULSION:
        return b""
    assert isinstance(value, bytes)
    return value


# -- the message ------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Publication:
    """One output value published by an agent, as it travels on PUB/SUB."""

    agent_uuid: str
    """The publishing agent's UUID (32 bytes once UTF-8 encoded; upper-case hex in practice)."""
    output: str
    type: IopType
    value: Value
    """Of ``type``: ``int`` (32-bit), ``float``, ``str`` (no NUL), ``bool``, ``IMPULSION``,
    ``bytes``. An ``int`` given for a DOUBLE is stored as ``float``."""
    timestamp_us: int | None = None
    """Microseconds since the Unix epoch (or the agent's manual clock); ``None`` when the
    publication is not timestamped."""

    def __post_init__(self) -> None:
        iop_type = IopType(self.type)
        object.__setattr__(self, "type", iop_type)
        object.__setattr__(self, "value", check_value(self.value, iop_type))
        if len(_raw(self.agent_uuid)) != UUID_SIZE:
            raise ValueError(f"an agent UUID is {UUID_SIZE} bytes: {self.agent_uuid!r}")
        if self.timestamp_us is not None and not _INT64_MIN <= self.timestamp_us <= _INT64_MAX:
            raise ValueError(f"timestamp out of the int64 range: {self.timestamp_us}")

    @property
    def topic(self) -> bytes:
        return topic(self.agent_uuid, self.output)

    @property
    def type_code(self) -> int:
        """The wire type code: 1…6, or 7…12 when timestamped."""
        return self.type + (0 if self.timestamp_us is None else TIMESTAMPED_OFFSET)

    def encode(self) -> list[bytes]:
        return encode_value(self.topic, self.type, self.value, self.timestamp_us)

    def __str__(self) -> str:
        stamp = "" if self.timestamp_us is None else f" @{self.timestamp_us}us"
        return (
            f"Publication({self.agent_uuid}-{self.output} {self.type.name}="
            f"{self.value!r:.60}{stamp})"
        )


def decode_publication(frames: Sequence[bytes]) -> Publication:
    """Decode the frames of one publication, or raise :class:`DecodeError` (and only that)."""
    if len(frames) != 3:
        raise DecodeError(f"a publication has 3 frames, got {len(frames)}")
    raw_topic, raw_code, raw_value = (bytes(frame) for frame in frames)
    if len(raw_topic) <= UUID_SIZE or raw_topic[UUID_SIZE] != 0x2D:  # "-"
        raise DecodeError(f"publication topic is not '<32-byte uuid>-<output>': {raw_topic!r:.80}")
    code = _CODE_OF.get(raw_code)
    if code is None:
        raise DecodeError(f"publication type code is not 1…12: {raw_code!r:.20}")
    timestamp: int | None = None
    if code > TIMESTAMPED_OFFSET:
        code -= TIMESTAMPED_OFFSET
        raw_value, timestamp = _unbundle(raw_value)
    iop_type = IopType(code)
    return Publication(
        agent_uuid=_text(raw_topic[:UUID_SIZE]),
        output=_text(raw_topic[UUID_SIZE + 1 :]),
        type=iop_type,
        value=_decode_value(iop_type, raw_value),
        timestamp_us=timestamp,
    )


def _decode_value(iop_type: IopType, raw: bytes) -> Value:
    size = len(raw)
    if iop_type is IopType.INTEGER:
        if size != _INT.size:
            raise DecodeError(f"INTEGER value is {size} bytes, not 4")
        number: int = _INT.unpack(raw)[0]
        return number
    if iop_type is IopType.DOUBLE:
        if size != _DOUBLE.size:
            raise DecodeError(f"DOUBLE value is {size} bytes, not 8")
        real: float = _DOUBLE.unpack(raw)[0]
        return real
    if iop_type is IopType.STRING:
        return _text(raw.partition(b"\x00")[0])
    if iop_type is IopType.BOOL:
        if size != 1:
            raise DecodeError(f"BOOL value is {size} bytes, not 1")
        return raw != b"\x00"
    if iop_type is IopType.IMPULSION:
        if size:
            raise DecodeError(f"IMPULSION value is {size} bytes, not empty")
        return IMPULSION
    return raw
