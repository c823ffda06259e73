"""Value types and Ingescape's conversion matrix (spec §11), against a real 4.7.0 agent."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest

from patchwire.errors import DefinitionError, ValueTypeError
from patchwire.model import (
    IMPULSION,
    Impulsion,
    IopType,
    Value,
    check_value,
    convert,
    default_value,
    iop_type_of,
    python_type_of,
    type_of_value,
)
from patchwire.model.values import c_atof, c_atoi, c_double_to_int, c_format_double
from tests.unit.model.model_vectors import label, records, typed

CONVERSIONS = records("conversions.json")


def _same(got: Value, want: Value) -> bool:
    if isinstance(got, float) and isinstance(want, float):
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    return type(got) is type(want) and got == want


@pytest.mark.parametrize(
    "case", CONVERSIONS, ids=[f"{label(c['from'])}->{c['to']}" for c in CONVERSIONS]
)
def test_convert_does_what_the_real_agent_does(case: dict[str, Any]) -> None:
    value, target = typed(case["from"]), IopType[case["to"]]
    if case["result"] != 0:
        with pytest.raises(ValueTypeError):
            convert(value, target)
        return
    got = convert(value, target)
    if case["read"] is None:  # IMPULSION input: nothing to read back
        assert got == IMPULSION
    else:
        assert _same(got, typed(case["read"])), (got, case["read"])


def test_the_capture_covers_the_whole_matrix() -> None:
    cells = {(c["from"]["type"], c["to"]) for c in CONVERSIONS}
    assert cells == {(a.name, b.name) for a in IopType for b in IopType}


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (42, IopType.DOUBLE, 42.0),
        (-2, IopType.STRING, "-2"),
        (42, IopType.DATA, b"\x2a\x00\x00\x00"),
        (3.14159, IopType.INTEGER, 3),
        (-0.5, IopType.INTEGER, 0),
        (3.14159, IopType.STRING, "3.141590"),
        (0.5, IopType.BOOL, True),
        ("12.75", IopType.INTEGER, 12),
        ("hello", IopType.INTEGER, 0),
        ("12.75", IopType.BOOL, True),
        ("hello", IopType.BOOL, False),
        ("True", IopType.BOOL, True),
        ("FALSE", IopType.BOOL, False),
        ("hello", IopType.DATA, b"hello\x00"),
        ("", IopType.DATA, b"\x00"),
        ("0123456789abcdef", IopType.DATA, bytes.fromhex("0123456789abcdef")),
        (True, IopType.STRING, "1"),
        (IMPULSION, IopType.INTEGER, 0),
        (IMPULSION, IopType.STRING, ""),
        (b"\x00" * 300, IopType.STRING, ""),
        (b"", IopType.INTEGER, 0),
        (bytearray(b"\x01"), IopType.BOOL, True),
        (memoryview(b"ab\x00"), IopType.STRING, "ab"),
        ("x\x00y", IopType.STRING, "x"),
        (b"caf\xff\x00", IopType.STRING, "caf\udcff"),
        (7, IopType.IMPULSION, IMPULSION),
    ],
)
def test_spec_examples(value: Any, target: IopType, expected: Value) -> None:
    assert _same(convert(value, target), expected)


@pytest.mark.parametrize(
    ("value", "target", "words"),
    [
        (b"\x01\x02\x03", IopType.INTEGER, ["3 bytes", "INTEGER", "exactly 4 bytes", "int32"]),
        (b"\x01", IopType.DOUBLE, ["1 bytes", "exactly 8 bytes"]),
        (b"ab", IopType.BOOL, ["exactly 1 byte ", "bool"]),
        (b"hello", IopType.STRING, ["NUL", "append"]),
        (2**40, IopType.STRING, ["32-bit"]),
        ("\udcff\ud800", IopType.DATA, ["UTF-8"]),
    ],
)
def test_refusals_say_why_and_how_to_fix(value: Any, target: IopType, words: list[str]) -> None:
    with pytest.raises(ValueTypeError) as info:
        convert(value, target)
    for word in words:
        assert word in str(info.value)


def test_convert_refuses_what_is_not_a_value() -> None:
    with pytest.raises(ValueTypeError, match="not an IOP value"):
        convert([1], IopType.INTEGER)  # type: ignore[arg-type]


def test_iop_type_codes_are_ingescape_s() -> None:
    assert [(t.name, t.value) for t in IopType] == [
        ("INTEGER", 1),
        ("DOUBLE", 2),
        ("STRING", 3),
        ("BOOL", 4),
        ("IMPULSION", 5),
        ("DATA", 6),
    ]


def test_python_types() -> None:
    pairs = {Impulsion: "IMPULSION", bool: "BOOL", int: "INTEGER", float: "DOUBLE"}
    pairs.update({str: "STRING", bytes: "DATA"})
    for py_type, name in pairs.items():
        assert iop_type_of(py_type) is IopType[name]
        assert python_type_of(IopType[name]) is py_type
    assert iop_type_of(IopType.DATA) is IopType.DATA
    for wrong in (list, complex, "int", None, 3):
        with pytest.raises(DefinitionError, match="not an IOP type"):
            iop_type_of(wrong)


def test_type_of_value_tells_bool_from_int() -> None:
    assert type_of_value(True) is IopType.BOOL
    assert type_of_value(1) is IopType.INTEGER
    assert type_of_value(1.0) is IopType.DOUBLE
    assert type_of_value("") is IopType.STRING
    assert type_of_value(bytearray()) is IopType.DATA
    assert type_of_value(IMPULSION) is IopType.IMPULSION
    with pytest.raises(ValueTypeError):
        type_of_value(None)


def test_impulsion_is_a_plain_marker() -> None:
    assert Impulsion() == IMPULSION
    assert hash(Impulsion()) == hash(IMPULSION)
    assert repr(IMPULSION) == "IMPULSION"
    assert [default_value(t) for t in IopType] == [0, 0.0, "", False, IMPULSION, b""]


@pytest.mark.parametrize(
    ("value", "iop_type", "expected"),
    [
        (True, IopType.BOOL, True),
        (-(2**31), IopType.INTEGER, -(2**31)),
        (3, IopType.DOUBLE, 3.0),
        ("é", IopType.STRING, "é"),
        (bytearray(b"x"), IopType.DATA, b"x"),
        (IMPULSION, IopType.IMPULSION, IMPULSION),
    ],
)
def test_check_value_accepts_and_normalises(value: Any, iop_type: IopType, expected: Any) -> None:
    result = check_value(value, iop_type)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "iop_type", "words"),
    [
        (True, IopType.INTEGER, ["gain must be INTEGER", "bool", "int(...)"]),
        (2**31, IopType.INTEGER, ["gain = 2147483648", "32-bit"]),
        (1.5, IopType.INTEGER, ["gain must be INTEGER (int), got float"]),
        ("a\x00b", IopType.STRING, ["gain contains a NUL", "DATA"]),
        ("x", IopType.DATA, ["gain must be DATA (bytes), got str"]),
        (None, IopType.IMPULSION, ["gain must be IMPULSION (IMPULSION)"]),
        (10**400, IopType.DOUBLE, ["gain = 1000", "too large for a DOUBLE"]),
    ],
)
def test_check_value_messages_name_the_value(
    value: Any, iop_type: IopType, words: list[str]
) -> None:
    with pytest.raises(ValueTypeError) as info:
        check_value(value, iop_type, name="gain")
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("  \t-12abc", -12),
        ("+7", 7),
        ("- 7", 0),
        ("2147483648", -(2**31)),
        ("99999999999", 1215752191),
        ("-99999999999999999999999", 0),
        ("99999999999999999999", -1),
        ("١٢", 0),
    ],
)
def test_c_atoi(text: str, expected: int) -> None:
    assert c_atoi(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        (" 1e3x", 1000.0),
        ("1e", 1.0),
        ("5.", 5.0),
        (".5", 0.5),
        ("0x1.8p1", 3.0),
        ("-0X10", -16.0),
        ("0x1p99999", math.inf),
        ("0x", 0.0),
        ("INFINITY", math.inf),
        ("-inf", -math.inf),
        ("1e400", math.inf),
    ],
)
def test_c_atof(text: str, expected: float) -> None:
    assert c_atof(text) == expected


def test_c_atof_nan_keeps_its_sign() -> None:
    assert math.isnan(c_atof("nan(0x1)"))
    assert math.copysign(1, c_atof("-nan")) < 0
    assert c_format_double(c_atof("-nan")) == "-nan"
    assert c_format_double(math.nan) == "nan"
    assert c_format_double(-math.inf) == "-inf"


@pytest.mark.parametrize(
    ("number", "expected"),
    [(2147483647.99, 2147483647), (-2147483648.99, -(2**31)), (2147483648.0, -(2**31))],
)
def test_c_double_to_int(number: float, expected: int) -> None:
    assert c_double_to_int(number) == expected


def test_data_layouts_are_little_endian() -> None:
    assert convert(-2, IopType.DATA) == struct.pack("<i", -2)
    assert convert(1.5, IopType.DATA) == struct.pack("<d", 1.5)
    assert convert(struct.pack("<d", -0.25), IopType.DOUBLE) == -0.25
