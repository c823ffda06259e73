"""IOP value types and Ingescape's conversion rules.

Layer: model (pure: no I/O, imports only the standard library and :mod:`patchwire.errors`).

Invariants:

* The six value types and their wire codes are Ingescape's ``igs_io_value_type_t``
  (INTEGER 1 ... DATA 6). In Python they are :class:`Impulsion`, ``bool``, ``int`` (a C
  ``int``: 32 bits, signed), ``float`` (a C ``double``), ``str`` and ``bytes``.
* :func:`convert` is ``model_write`` of Ingescape 4.7 (``src/igs_model.c``, spec §11): what an
  input of one type holds after a value of another type was written into it. Every cell of
  the matrix was checked against a real 4.7.0 agent (``tests/vectors/model/conversions.json``).
* Ingescape has NULL strings and NULL data; patchwire has ``""`` and ``b""`` instead. A NULL
  string (what an impulsion or an empty DATA leaves in a STRING input) is therefore ``""``.
* Strings are UTF-8 on the wire and C strings inside Ingescape: everything after a NUL is
  lost, and bytes that are not UTF-8 are kept as ``surrogateescape`` code points, as the
  protocol codecs do.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, TypeAlias, final

from patchwire.errors import DefinitionError, ValueTypeError

__all__ = [
    "IMPULSION",
    "INT32_MAX",
    "INT32_MIN",
    "Impulsion",
    "IopType",
    "Value",
    "c_atof",
    "c_atoi",
    "c_double_to_int",
    "c_format_double",
    "check_value",
    "convert",
    "default_value",
    "iop_type_of",
    "python_type_of",
    "type_of_value",
]

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


class IopType(IntEnum):
    """The value type of an input, output, attribute or service argument.

    The numbers are Ingescape's ``IGS_*_T`` codes, also used on the wire (spec §7.2); the
    names are the ``type`` strings of definition JSON.
    """

    INTEGER = 1
    DOUBLE = 2
    STRING = 3
    BOOL = 4
    IMPULSION = 5
    DATA = 6


@final
@dataclass(frozen=True, slots=True)
class Impulsion:
    """The value of an IMPULSION: a trigger that carries nothing. All instances are equal."""

    def __repr__(self) -> str:
        return "IMPULSION"


IMPULSION: Final = Impulsion()
"""The impulsion value."""

Value: TypeAlias = Impulsion | bool | int | float | str | bytes
"""Any IOP value. ``bool`` comes before ``int`` when telling them apart."""

_PYTHON_TYPES: Final[dict[IopType, type]] = {
    IopType.INTEGER: int,
    IopType.DOUBLE: float,
    IopType.STRING: str,
    IopType.BOOL: bool,
    IopType.IMPULSION: Impulsion,
    IopType.DATA: bytes,
}
_IOP_TYPES: Final[dict[type, IopType]] = {py: iop for iop, py in _PYTHON_TYPES.items()}


def python_type_of(iop_type: IopType) -> type:
    """The Python type of values of ``iop_type`` (``Impulsion``, ``bool``, ``int``, ...)."""
    return _PYTHON_TYPES[IopType(iop_type)]


def iop_type_of(python_type: object) -> IopType:
    """The IOP type for a Python type or an annotation: ``float`` gives DOUBLE, etc.

    Raises:
        DefinitionError: anything but ``Impulsion``, ``bool``, ``int``, ``float``, ``str``,
            ``bytes`` or an :class:`IopType`.
    """
    if isinstance(python_type, IopType):
        return python_type
    if isinstance(python_type, type) and python_type in _IOP_TYPES:
        return _IOP_TYPES[python_type]
    raise DefinitionError(
        f"{python_type!r} is not an IOP type: use Impulsion, bool, int, float, str, bytes "
        "or a patchwire.model.IopType"
    )


def type_of_value(value: object) -> IopType:
    """The IOP type a Python value belongs to (``True`` is BOOL, ``1`` is INTEGER).

    Raises:
        ValueTypeError: not one of the six value types (``bytearray`` and ``memoryview``
            count as DATA).
    """
    if isinstance(value, Impulsion):
        return IopType.IMPULSION
    if isinstance(value, bool):
        return IopType.BOOL
    if isinstance(value, int):
        return IopType.INTEGER
    if isinstance(value, float):
        return IopType.DOUBLE
    if isinstance(value, str):
        return IopType.STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return IopType.DATA
    raise ValueTypeError(
        f"{type(value).__name__} is not an IOP value: use IMPULSION, bool, int, float, str or bytes"
    )


_DEFAULTS: Final[dict[IopType, Value]] = {
    IopType.INTEGER: 0,
    IopType.DOUBLE: 0.0,
    IopType.STRING: "",
    IopType.BOOL: False,
    IopType.IMPULSION: IMPULSION,
    IopType.DATA: b"",
}


def default_value(iop_type: IopType) -> Value:
    """What an IOP of this type holds before any write, or after an empty one."""
    return _DEFAULTS[IopType(iop_type)]


def check_value(value: object, iop_type: IopType, *, name: str = "value") -> Value:
    """Check that ``value`` *is* a value of ``iop_type`` (no conversion) and return it.

    ``int`` is accepted for DOUBLE (returned as ``float``), ``bytearray`` and
    ``memoryview`` for DATA (returned as ``bytes``). ``name`` goes into the error message.

    Raises:
        ValueTypeError: wrong type, an INTEGER outside 32 bits, or a STRING with a NUL.
    """
    iop_type = IopType(iop_type)
    expected = iop_type.name
    if iop_type is IopType.BOOL and isinstance(value, bool):
        return value
    if isinstance(value, bool):
        raise ValueTypeError(
            f"{name} must be {expected}, got the bool {value!r}: pass int(...) or declare "
            "the IOP as bool"
        )
    if iop_type is IopType.INTEGER and isinstance(value, int):
        if not INT32_MIN <= value <= INT32_MAX:
            raise ValueTypeError(
                f"{name} = {value} does not fit an Ingescape INTEGER (32-bit signed, "
                f"{INT32_MIN}..{INT32_MAX}): declare the IOP as float or clamp the value"
            )
        return value
    if iop_type is IopType.DOUBLE and isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            raise ValueTypeError(
                f"{name} = {value} is too large for a DOUBLE; scale it down"
            ) from None
    if iop_type is IopType.STRING and isinstance(value, str):
        if "\x00" in value:
            raise ValueTypeError(
                f"{name} contains a NUL character, which ends an Ingescape string: "
                "remove it or send the text as DATA"
            )
        return value
    if iop_type is IopType.DATA and isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if iop_type is IopType.IMPULSION and isinstance(value, Impulsion):
        return value
    hint = "IMPULSION" if iop_type is IopType.IMPULSION else python_type_of(iop_type).__name__
    raise ValueTypeError(
        f"{name} must be {expected} ({hint}), got {type(value).__name__} {value!r:.60}: "
        "convert it first, or use patchwire.model.convert() for Ingescape's rules"
    )


# --------------------------------------------------------------------------------------
# C library behaviour (glibc, "C" locale) that the conversions rely on.
# --------------------------------------------------------------------------------------

_C_SPACE: Final = " \t\n\v\f\r"
_ATOI = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(
    r"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?"
)
_SPECIAL = re.compile(r"([+-]?)(inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)


def _wrap_int32(number: int) -> int:
    """C's conversion of a wider integer to ``int``: keep the low 32 bits, signed."""
    number &= 0xFFFFFFFF
    return number - 2**32 if number > INT32_MAX else number


def c_atoi(text: str) -> int:
    """``atoi(text)`` as glibc computes it: ``(int) strtol(text, NULL, 10)``.

    Leading C white space, a sign, then digits; anything else ends the number (``"12.75"``
    is 12, ``"hello"`` is 0). ``strtol`` saturates at the 64-bit limits, then the cast keeps
    the low 32 bits: ``"99999999999"`` is 1215752191.
    """
    match = _ATOI.match(_c_string(text))
    if match is None:
        return 0
    number = min(max(int(match.group(1)), _INT64_MIN), _INT64_MAX)
    return _wrap_int32(number)


def c_atof(text: str) -> float:
    """``atof(text)``, i.e. ``strtod``: the longest prefix that is a C floating constant.

    Accepts leading white space, decimal and exponent forms, hexadecimal floats
    (``"0x10"`` is 16.0), ``inf``/``infinity`` and ``nan``/``nan(...)`` in any case.
    """
    text = _c_string(text).lstrip(_C_SPACE)
    special = _SPECIAL.match(text)
    if special:
        sign = -1.0 if special.group(1) == "-" else 1.0
        magnitude = math.inf if special.group(2)[0] in "iI" else math.nan
        return math.copysign(magnitude, sign)
    hexa = _HEX.match(text)
    if hexa:
        exponent = hexa.group(3) or "0"
        try:
            number = float.fromhex(f"0x{hexa.group(2)}p{exponent}")
        except OverflowError:
            number = math.inf
        return -number if hexa.group(1) == "-" else number
    decimal = _DECIMAL.match(text)
    return float(decimal.group(0)) if decimal else 0.0


def c_double_to_int(number: float) -> int:
    """The C cast ``(int) number`` on x86-64: truncation toward zero, and ``INT32_MIN``
    (the "integer indefinite" value) for NaN and for anything outside 32 bits."""
    if math.isnan(number) or not -2147483649.0 < number < 2147483648.0:
        return INT32_MIN
    return int(number)


def c_format_double(number: float) -> str:
    """``printf("%lf", number)``: six decimals, ``inf``, ``-inf``, ``nan`` or ``-nan``."""
    if math.isnan(number):
        return "-nan" if math.copysign(1.0, number) < 0 else "nan"
    return f"{number:f}"


def _c_string(text: str) -> str:
    """What C sees of a Python string: everything up to the first NUL."""
    return text.split("\x00", 1)[0]


def _c_bytes(text: str) -> bytes:
    try:
        return _c_string(text).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise ValueTypeError(f"string {text!r:.60} cannot be encoded as UTF-8: {exc}") from None


def _from_c_bytes(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _is_hex_text(raw: bytes) -> bool:
    return len(raw) >= 2 and len(raw) % 2 == 0 and all(c in b"0123456789abcdefABCDEF" for c in raw)


# --------------------------------------------------------------------------------------
# The conversion matrix.
# --------------------------------------------------------------------------------------


def convert(value: Value | bytearray | memoryview, to_type: IopType) -> Value:
    """What an IOP of ``to_type`` holds after Ingescape writes ``value`` into it.

    The sender's type is the type of ``value`` (:func:`type_of_value`). Rules (spec §11):

    * an empty value (an impulsion or empty DATA) resets the IOP to :func:`default_value`;
    * INTEGER → DOUBLE exact, → STRING ``"%d"``, → BOOL ``!= 0``, → DATA 4 bytes LE;
    * DOUBLE → INTEGER C cast (truncation; ``INT32_MIN`` when out of range or NaN),
      → STRING ``"%lf"``, → BOOL ``!= 0`` (NaN is true), → DATA 8 bytes LE;
    * BOOL → INTEGER 0/1, → DOUBLE 0.0/1.0, → STRING ``"1"``/``"0"``, → DATA 1 byte;
    * STRING → INTEGER :func:`c_atoi`, → DOUBLE :func:`c_atof`, → BOOL ``true``/``True``/
      ``TRUE`` and the ``false`` forms, else ``c_atoi(s) != 0``, → DATA the decoded bytes if
      the text is even-length hexadecimal (two digits at least), else its UTF-8 bytes plus
      a NUL;
    * DATA → INTEGER only 4 bytes, → DOUBLE only 8 bytes, → BOOL only 1 byte (``!= 0``),
      → STRING only if the last byte is NUL (the text stops at the first NUL);
    * anything → IMPULSION gives :data:`IMPULSION`.

    Raises:
        ValueTypeError: where Ingescape rejects the write (a DATA of the wrong size or not
            NUL-terminated), or ``value`` is not an IOP value.
    """
    source = type_of_value(value)
    target = IopType(to_type)
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if target is IopType.IMPULSION:
        return IMPULSION
    if source is IopType.IMPULSION or (isinstance(value, bytes) and not value):
        return default_value(target)
    if isinstance(value, bool):
        return _from_bool(value, target)
    if isinstance(value, int):
        if not INT32_MIN <= value <= INT32_MAX:
            raise ValueTypeError(
                f"{value} is not an Ingescape INTEGER (32-bit signed): it cannot be written "
                "as one; send it as a float or a string"
            )
        return _from_int(value, target)
    if isinstance(value, float):
        return _from_double(value, target)
    if isinstance(value, str):
        return _from_string(value, target)
    assert isinstance(value, bytes)
    return _from_data(value, target)


def _from_bool(value: bool, target: IopType) -> Value:
    if target is IopType.INTEGER:
        return int(value)
    if target is IopType.DOUBLE:
        return float(value)
    if target is IopType.STRING:
        return "1" if value else "0"
    if target is IopType.BOOL:
        return value
    return b"\x01" if value else b"\x00"


def _from_int(value: int, target: IopType) -> Value:
    if target is IopType.INTEGER:
        return value
    if target is IopType.DOUBLE:
        return float(value)
    if target is IopType.STRING:
        return str(value)
    if target is IopType.BOOL:
        return value != 0
    return struct.pack("<i", value)


def _from_double(value: float, target: IopType) -> Value:
    if target is IopType.INTEGER:
        return c_double_to_int(value)
    if target is IopType.DOUBLE:
        return value
    if target is IopType.STRING:
        return c_format_double(value)
    if target is IopType.BOOL:
        return value != 0.0
    return struct.pack("<d", value)


def _from_string(value: str, target: IopType) -> Value:
    if target is IopType.INTEGER:
        return c_atoi(value)
    if target is IopType.DOUBLE:
        return c_atof(value)
    if target is IopType.BOOL:
        text = _c_string(value)
        if text in ("false", "False", "FALSE"):
            return False
        if text in ("true", "True", "TRUE"):
            return True
        return c_atoi(text) != 0
    if target is IopType.STRING:
        return _c_string(value)
    raw = _c_bytes(value)
    return bytes.fromhex(raw.decode("ascii")) if _is_hex_text(raw) else raw + b"\x00"


_DATA_SIZES: Final = {IopType.INTEGER: 4, IopType.DOUBLE: 8, IopType.BOOL: 1}


def _from_data(value: bytes, target: IopType) -> Value:
    if target is IopType.DATA:
        return value
    if target is IopType.STRING:
        if value[-1] != 0:
            raise ValueTypeError(
                f"Ingescape refuses DATA of {len(value)} bytes in a STRING: it must end with "
                "a NUL byte; append b'\\x00' or send a str"
            )
        return _from_c_bytes(value)
    size = _DATA_SIZES[target]
    if len(value) != size:
        layout = {4: "an int32, little-endian", 8: "a double, little-endian", 1: "a bool"}
        raise ValueTypeError(
            f"Ingescape refuses DATA of {len(value)} bytes in {target.name}: it must be "
            f"exactly {size} byte{'s' if size > 1 else ''} ({layout[size]}); send a "
            f"{python_type_of(target).__name__} instead"
        )
    if target is IopType.INTEGER:
        return int(struct.unpack("<i", value)[0])
    if target is IopType.DOUBLE:
        return float(struct.unpack("<d", value)[0])
    return value != b"\x00"
