"""ZRE field primitives: ``number-1/2/4``, ``string``, ``longstr``, ``strings``, ``hash``.

Layer: protocol (pure). Big-endian numbers; strings are UTF-8 in practice but any bytes are
kept verbatim (``surrogateescape``), so that decode-then-encode is byte-identical.
See ``shared/spec/zre.md`` §4.1.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

from patchwire.errors import DecodeError

__all__ = ["Reader", "Writer", "decode_text", "encode_text"]

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def encode_text(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class Reader:
    """Reads ZRE fields from one frame; every short read raises :class:`DecodeError`."""

    __slots__ = ("_data", "_offset", "_what")

    def __init__(self, data: bytes, offset: int = 0, *, what: str = "frame") -> None:
        self._data = data
        self._offset = offset
        self._what = what

    def _take(self, size: int, field: str) -> bytes:
        end = self._offset + size
        if end > len(self._data):
            raise DecodeError(
                f"{self._what} truncated in {field}: needs {end} bytes, has {len(self._data)}",
                data=self._data,
            )
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    @property
    def remaining(self) -> int:
        return len(self._data) - self._offset

    def u8(self, field: str) -> int:
        return self._take(1, field)[0]

    def u16(self, field: str) -> int:
        value: int = _U16.unpack(self._take(2, field))[0]
        return value

    def u32(self, field: str) -> int:
        value: int = _U32.unpack(self._take(4, field))[0]
        return value

    def raw(self, size: int, field: str) -> bytes:
        return self._take(size, field)

    def string(self, field: str) -> str:
        return decode_text(self._take(self.u8(field), field))

    def longstr(self, field: str) -> str:
        return decode_text(self._take(self.u32(field), field))

    def strings(self, field: str) -> tuple[str, ...]:
        count = self.u32(field)
        # Each item needs at least 4 bytes: refuse absurd counts before allocating.
        if count * 4 > self.remaining:
            raise DecodeError(f"{self._what}: {field} claims {count} items", data=self._data)
        return tuple(self.longstr(field) for _ in range(count))

    def hash(self, field: str) -> dict[str, str]:
        count = self.u32(field)
        if count * 5 > self.remaining:
            raise DecodeError(f"{self._what}: {field} claims {count} entries", data=self._data)
        result: dict[str, str] = {}
        for _ in range(count):
            key = self.string(field)
            result[key] = self.longstr(field)
        return result


class Writer:
    """Appends ZRE fields; refuses values the wire cannot carry (a programming error)."""

    __slots__ = ("_parts",)

    def __init__(self, head: bytes = b"") -> None:
        self._parts: list[bytes] = [head] if head else []

    def u8(self, value: int) -> Writer:
        self._parts.append(bytes((value,)))
        return self

    def u16(self, value: int) -> Writer:
        self._parts.append(_U16.pack(value))
        return self

    def u32(self, value: int) -> Writer:
        self._parts.append(_U32.pack(value))
        return self

    def raw(self, value: bytes) -> Writer:
        self._parts.append(value)
        return self

    def string(self, value: str) -> Writer:
        raw = encode_text(value)
        if len(raw) > 255:
            raise ValueError(f"ZRE string field longer than 255 bytes: {value[:40]!r}...")
        self._parts.append(bytes((len(raw),)))
        self._parts.append(raw)
        return self

    def longstr(self, value: str) -> Writer:
        raw = encode_text(value)
        self._parts.append(_U32.pack(len(raw)))
        self._parts.append(raw)
        return self

    def strings(self, values: Iterable[str]) -> Writer:
        items = list(values)
        self.u32(len(items))
        for item in items:
            self.longstr(item)
        return self

    def hash(self, values: Mapping[str, str]) -> Writer:
        self.u32(len(values))
        for key, value in values.items():
            self.string(key)
            self.longstr(value)
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
