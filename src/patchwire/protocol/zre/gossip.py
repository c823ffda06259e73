"""zgossip v1 messages (CZMQ ``zgossip_msg``), one frame each.

Layer: protocol (pure). ``AA A0`` id:u8 version:u8(=1); PUBLISH adds key ``string``, value
``longstr`` and ttl u32 (always 0 on the wire). See ``shared/spec/zre.md`` §11.2.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from patchwire.errors import DecodeError

from .wire import Reader, Writer

__all__ = [
    "GOSSIP_SIGNATURE",
    "GossipHello",
    "GossipId",
    "GossipInvalid",
    "GossipMessage",
    "GossipPing",
    "GossipPong",
    "GossipPublish",
    "decode_gossip",
]

GOSSIP_SIGNATURE = 0xAAA0
GOSSIP_VERSION = 1
_HEADER = struct.Struct(">HBB")


class GossipId(IntEnum):
    HELLO = 1
    PUBLISH = 2
    PING = 3
    PONG = 4
    INVALID = 5


def _header(message_id: GossipId) -> bytes:
    return _HEADER.pack(GOSSIP_SIGNATURE, message_id, GOSSIP_VERSION)


@dataclass(frozen=True, slots=True)
class GossipHello:
    ID: ClassVar[GossipId] = GossipId.HELLO

    def encode(self) -> bytes:
        return _header(self.ID)


@dataclass(frozen=True, slots=True)
class GossipPing:
    ID: ClassVar[GossipId] = GossipId.PING

    def encode(self) -> bytes:
        return _header(self.ID)


@dataclass(frozen=True, slots=True)
class GossipPong:
    ID: ClassVar[GossipId] = GossipId.PONG

    def encode(self) -> bytes:
        return _header(self.ID)


@dataclass(frozen=True, slots=True)
class GossipInvalid:
    ID: ClassVar[GossipId] = GossipId.INVALID

    def encode(self) -> bytes:
        return _header(self.ID)


@dataclass(frozen=True, slots=True, kw_only=True)
class GossipPublish:
    """One tuple: for ZRE discovery, key = node UUID (32 hex), value = endpoint[``|``Z85 key]."""

    ID: ClassVar[GossipId] = GossipId.PUBLISH
    key: str
    value: str
    ttl: int = 0

    def encode(self) -> bytes:
        writer = Writer(_header(self.ID)).string(self.key).longstr(self.value).u32(self.ttl)
        return writer.getvalue()


GossipMessage = GossipHello | GossipPublish | GossipPing | GossipPong | GossipInvalid

_SIMPLE: dict[int, GossipMessage] = {
    GossipId.HELLO: GossipHello(),
    GossipId.PING: GossipPing(),
    GossipId.PONG: GossipPong(),
    GossipId.INVALID: GossipInvalid(),
}


def decode_gossip(frame: bytes) -> GossipMessage:
    """Decode one zgossip frame, or raise :class:`DecodeError` (the only exception it raises)."""
    if len(frame) < _HEADER.size:
        raise DecodeError(
            f"zgossip header needs {_HEADER.size} bytes, got {len(frame)}", data=frame
        )
    signature, message_id, version = _HEADER.unpack_from(frame)
    if signature != GOSSIP_SIGNATURE:
        raise DecodeError(f"not a zgossip message (signature {signature:#06x})", data=frame)
    if version != GOSSIP_VERSION:
        raise DecodeError(f"zgossip version {version} is not supported (expected 1)", data=frame)
    simple = _SIMPLE.get(message_id)
    if simple is not None:
        return simple
    if message_id == GossipId.PUBLISH:
        reader = Reader(frame, _HEADER.size, what="zgossip PUBLISH")
        return GossipPublish(
            key=reader.string("key"), value=reader.longstr("value"), ttl=reader.u32("ttl")
        )
    raise DecodeError(f"unknown zgossip message id {message_id}", data=frame)
