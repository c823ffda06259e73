"""ZRE UDP beacon: ``"ZRE"`` + version + 16-byte UUID + u16 port [+ 32-byte CURVE key].

Layer: protocol (pure). Version 1 (22 bytes) without CURVE, version 3 (54 bytes) with a CURVE
public key. Port 0 means "I am leaving". See ``shared/spec/zre.md`` §2.1.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from uuid import UUID

from patchwire.errors import DecodeError

__all__ = ["BEACON_PREFIX", "Beacon", "decode_beacon"]

BEACON_PREFIX = b"ZRE"
VERSION_PLAIN = 0x01
VERSION_CURVE = 0x03
SIZE_PLAIN = 22
SIZE_CURVE = 54
_HEAD = struct.Struct(">3sB16sH")


@dataclass(frozen=True, slots=True, kw_only=True)
class Beacon:
    """One discovery beacon."""

    uuid: UUID
    port: int
    public_key: bytes | None = None
    """Raw 32-byte CURVE public key; its presence makes this a version-3 beacon."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 0xFFFF:
            raise ValueError(f"beacon port out of range: {self.port}")
        if self.public_key is not None and len(self.public_key) != 32:
            raise ValueError("a CURVE public key is 32 raw bytes")

    @property
    def version(self) -> int:
        return VERSION_PLAIN if self.public_key is None else VERSION_CURVE

    @property
    def leaving(self) -> bool:
        return self.port == 0

    def encode(self) -> bytes:
        head = _HEAD.pack(BEACON_PREFIX, self.version, self.uuid.bytes, self.port)
        return head if self.public_key is None else head + self.public_key

    def __str__(self) -> str:
        key = " curve" if self.public_key is not None else ""
        return f"Beacon(v{self.version} {self.uuid.hex.upper()} port={self.port}{key})"


def decode_beacon(data: bytes) -> Beacon:
    """Decode a datagram, or raise :class:`DecodeError` (the only exception it raises)."""
    size = len(data)
    if size not in (SIZE_PLAIN, SIZE_CURVE):
        raise DecodeError(
            f"beacon must be {SIZE_PLAIN} or {SIZE_CURVE} bytes, got {size}", data=data
        )
    prefix, version, raw_uuid, port = _HEAD.unpack_from(data)
    if prefix != BEACON_PREFIX:
        raise DecodeError("beacon does not start with 'ZRE'", data=data)
    if size == SIZE_PLAIN:
        if version != VERSION_PLAIN:
            raise DecodeError(f"22-byte beacon with version {version}, expected 1", data=data)
        return Beacon(uuid=UUID(bytes=raw_uuid), port=port)
    if version != VERSION_CURVE:
        raise DecodeError(f"54-byte beacon with version {version}, expected 3", data=data)
    return Beacon(uuid=UUID(bytes=raw_uuid), port=port, public_key=data[SIZE_PLAIN:])
