"""The ten ZRE messages (RFC 36 as extended by Zyre 2.0), frames in, frames out.

Layer: protocol (pure). Frame 0 is ``AA A1`` id:u8 version:u8(=2) sequence:u16, then the fields
of the message; WHISPER and SHOUT carry their content as extra frames. The ROUTER routing-id
frame is *not* part of these frames: the runtime strips it. See ``shared/spec/zre.md`` §4.

``decode_message`` raises only :class:`~patchwire.errors.DecodeError`. Trailing bytes after the
last field are ignored, as Zyre does.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

from patchwire.errors import DecodeError

from .wire import Reader, Writer, decode_text

__all__ = [
    "SIGNATURE",
    "VERSION",
    "Elect",
    "Goodbye",
    "Hello",
    "Join",
    "Leader",
    "Leave",
    "Message",
    "MessageId",
    "Ping",
    "PingOk",
    "Shout",
    "Whisper",
    "decode_message",
]

SIGNATURE = 0xAAA1
"""``0xAAA0 | 1``: the ZRE message signature (zyre ``zre_msg.c``)."""
VERSION = 2
_HEADER = struct.Struct(">HBBH")


class MessageId(IntEnum):
    HELLO = 1
    WHISPER = 2
    SHOUT = 3
    JOIN = 4
    LEAVE = 5
    PING = 6
    PING_OK = 7
    ELECT = 8
    LEADER = 9
    GOODBYE = 10


def _header(message_id: MessageId, sequence: int) -> bytes:
    return _HEADER.pack(SIGNATURE, message_id, VERSION, sequence & 0xFFFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    """First message on every connection: who we are and where to reach us."""

    ID: ClassVar[MessageId] = MessageId.HELLO
    sequence: int = 1
    endpoint: str
    groups: tuple[str, ...] = ()
    status: int = 0
    name: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> list[bytes]:
        writer = Writer(_header(self.ID, self.sequence))
        writer.string(self.endpoint).strings(self.groups).u8(self.status & 0xFF)
        writer.string(self.name).hash(self.headers)
        return [writer.getvalue()]

    def __str__(self) -> str:
        return (
            f"HELLO#{self.sequence} {self.name!r} {self.endpoint} groups={list(self.groups)} "
            f"status={self.status} headers={len(self.headers)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Whisper:
    """Content frames sent to one peer."""

    ID: ClassVar[MessageId] = MessageId.WHISPER
    sequence: int
    content: tuple[bytes, ...] = ()

    def encode(self) -> list[bytes]:
        return [_header(self.ID, self.sequence), *self.content]

    def __str__(self) -> str:
        return f"WHISPER#{self.sequence} {_preview(self.content)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Shout:
    """Content frames sent to each member of a group."""

    ID: ClassVar[MessageId] = MessageId.SHOUT
    sequence: int
    group: str
    content: tuple[bytes, ...] = ()

    def encode(self) -> list[bytes]:
        return [
            Writer(_header(self.ID, self.sequence)).string(self.group).getvalue(),
            *self.content,
        ]

    def __str__(self) -> str:
        return f"SHOUT#{self.sequence} [{self.group}] {_preview(self.content)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _GroupStatus:
    """JOIN and LEAVE: a group and the sender's JOIN/LEAVE counter after the change (§8)."""

    ID: ClassVar[MessageId]
    sequence: int
    group: str
    status: int

    def encode(self) -> list[bytes]:
        writer = Writer(_header(self.ID, self.sequence)).string(self.group).u8(self.status & 0xFF)
        return [writer.getvalue()]

    def __str__(self) -> str:
        return f"{self.ID.name}#{self.sequence} {self.group} status={self.status}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Join(_GroupStatus):
    """The sender joined ``group``."""

    ID: ClassVar[MessageId] = MessageId.JOIN


@dataclass(frozen=True, slots=True, kw_only=True)
class Leave(_GroupStatus):
    """The sender left ``group``."""

    ID: ClassVar[MessageId] = MessageId.LEAVE


@dataclass(frozen=True, slots=True, kw_only=True)
class _HeaderOnly:
    ID: ClassVar[MessageId]
    sequence: int

    def encode(self) -> list[bytes]:
        return [_header(self.ID, self.sequence)]

    def __str__(self) -> str:
        return f"{self.ID.name}#{self.sequence}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(_HeaderOnly):
    ID: ClassVar[MessageId] = MessageId.PING


@dataclass(frozen=True, slots=True, kw_only=True)
class PingOk(_HeaderOnly):
    ID: ClassVar[MessageId] = MessageId.PING_OK


@dataclass(frozen=True, slots=True, kw_only=True)
class Goodbye(_HeaderOnly):
    """The sender is leaving."""

    ID: ClassVar[MessageId] = MessageId.GOODBYE


def _group_and_uuid(message_id: MessageId, sequence: int, group: str, uuid: str) -> list[bytes]:
    return [Writer(_header(message_id, sequence)).string(group).string(uuid).getvalue()]


@dataclass(frozen=True, slots=True, kw_only=True)
class Elect:
    """Election wave: ``challenger`` is the 32-hex UUID string of the candidate."""

    ID: ClassVar[MessageId] = MessageId.ELECT
    sequence: int
    group: str
    challenger: str

    def encode(self) -> list[bytes]:
        return _group_and_uuid(self.ID, self.sequence, self.group, self.challenger)

    def __str__(self) -> str:
        return f"ELECT#{self.sequence} {self.group} {self.challenger}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Leader:
    """Election result wave: ``leader`` is the 32-hex UUID string of the winner."""

    ID: ClassVar[MessageId] = MessageId.LEADER
    sequence: int
    group: str
    leader: str

    def encode(self) -> list[bytes]:
        return _group_and_uuid(self.ID, self.sequence, self.group, self.leader)

    def __str__(self) -> str:
        return f"LEADER#{self.sequence} {self.group} {self.leader}"


Message = Hello | Whisper | Shout | Join | Leave | Ping | PingOk | Elect | Leader | Goodbye


def decode_message(frames: Sequence[bytes]) -> Message:
    """Decode one ZRE message (without the routing-id frame)."""
    if not frames:
        raise DecodeError("ZRE message without frames")
    head = frames[0]
    if len(head) < _HEADER.size:
        raise DecodeError(f"ZRE header needs {_HEADER.size} bytes, got {len(head)}", data=head)
    signature, message_id, version, sequence = _HEADER.unpack_from(head)
    if signature != SIGNATURE:
        raise DecodeError(f"not a ZRE message (signature {signature:#06x})", data=head)
    if version != VERSION:
        raise DecodeError(f"ZRE version {version} is not supported (expected 2)", data=head)
    reader = Reader(head, _HEADER.size, what="ZRE message")
    if message_id == MessageId.WHISPER:
        return Whisper(sequence=sequence, content=tuple(frames[1:]))
    if message_id == MessageId.SHOUT:
        return Shout(sequence=sequence, group=reader.string("group"), content=tuple(frames[1:]))
    if message_id == MessageId.HELLO:
        return Hello(
            sequence=sequence,
            endpoint=reader.string("endpoint"),
            groups=reader.strings("groups"),
            status=reader.u8("status"),
            name=reader.string("name"),
            headers=reader.hash("headers"),
        )
    if message_id == MessageId.JOIN:
        return Join(sequence=sequence, group=reader.string("group"), status=reader.u8("status"))
    if message_id == MessageId.LEAVE:
        return Leave(sequence=sequence, group=reader.string("group"), status=reader.u8("status"))
    if message_id == MessageId.PING:
        return Ping(sequence=sequence)
    if message_id == MessageId.PING_OK:
        return PingOk(sequence=sequence)
    if message_id == MessageId.ELECT:
        return Elect(
            sequence=sequence, group=reader.string("group"), challenger=reader.string("challenger")
        )
    if message_id == MessageId.LEADER:
        return Leader(
            sequence=sequence, group=reader.string("group"), leader=reader.string("leader")
        )
    if message_id == MessageId.GOODBYE:
        return Goodbye(sequence=sequence)
    raise DecodeError(f"unknown ZRE message id {message_id}", data=head)


def _preview(content: tuple[bytes, ...]) -> str:
    shown = []
    for frame in content[:4]:
        text = decode_text(frame[:32])
        shown.append(repr(text) if text.isprintable() else frame[:16].hex())
    more = f" +{len(content) - 4}" if len(content) > 4 else ""
    return f"[{', '.join(shown)}{more}]"
