"""Z85 (ZeroMQ RFC 32), the text form of CURVE keys in headers, gossip values and cert files.

Layer: protocol (pure).
"""

from __future__ import annotations

from patchwire.errors import DecodeError

__all__ = ["z85_decode", "z85_encode"]

_ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_VALUE = {char: index for index, char in enumerate(_ALPHABET)}


def z85_encode(raw: bytes) -> str:
    if len(raw) % 4:
        raise ValueError("Z85 encodes whole 4-byte groups")
    out = bytearray()
    for offset in range(0, len(raw), 4):
        value = int.from_bytes(raw[offset : offset + 4], "big")
        chunk = bytearray(5)
        for position in range(4, -1, -1):
            value, digit = divmod(value, 85)
            chunk[position] = _ALPHABET[digit]
        out += chunk
    return out.decode("ascii")


def z85_decode(text: str) -> bytes:
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError as error:
        raise DecodeError("Z85 text must be ASCII", data=text.encode("utf-8", "replace")) from error
    if len(data) % 5:
        raise DecodeError("Z85 text length must be a multiple of 5", data=data)
    out = bytearray()
    for offset in range(0, len(data), 5):
        value = 0
        for char in data[offset : offset + 5]:
            digit = _VALUE.get(char)
            if digit is None:
                raise DecodeError(f"not a Z85 character: {chr(char)!r}", data=data)
            value = value * 85 + digit
        if value > 0xFFFFFFFF:
            raise DecodeError("Z85 group overflows 32 bits", data=data)
        out += value.to_bytes(4, "big")
    return bytes(out)
