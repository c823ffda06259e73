"""Constraints: Ingescape's syntax, czmq's regular expressions and enforcement, checked
against what a real 4.7.0 agent accepts."""

from __future__ import annotations

import math
from typing import Any

import pytest

from patchwire.errors import DefinitionError, ValueTypeError
from patchwire.model import IMPULSION, Constraint, ConstraintKind, IopType, convert
from patchwire.model import parse_constraint as parse
from patchwire.model._slre import PatternError, compile_pattern
from tests.unit.model.model_vectors import label, records, typed

REGEX = records("regex.json")
CONSTRAINTS = records("constraints.json")
# patchwire refuses what Ingescape keeps but can never satisfy (documented in constraints.py).
STRICTER = {("DOUBLE", "[2, 1]")}


@pytest.mark.parametrize("case", REGEX["patterns"], ids=[p["pattern"] for p in REGEX["patterns"]])
def test_slre_matches_like_czmq(case: dict[str, Any]) -> None:
    if not case["valid"]:
        with pytest.raises(PatternError):
            compile_pattern(case["pattern"])
        return
    pattern = compile_pattern(case["pattern"])
    assert [text for text in REGEX["texts"] if pattern.matches(text)] == case["matches"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("[abc", "No closing ']' bracket"),
        ("[ab\\", "No closing ']' bracket"),
        ("(ab", "No closing bracket"),
        ("ab)", "Unbalanced brackets"),
        ("a" * 257, "data overflow"),
        ("(a)" * 37, "code overflow"),
    ],
)
def test_slre_compile_errors(source: str, message: str) -> None:
    with pytest.raises(PatternError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_pattern(source)


def test_slre_limits_are_inclusive() -> None:
    compile_pattern("a" * 256)  # 256 bytes of data
    compile_pattern("(a)" * 35 + "\\d" * 6)  # 5 + 35 * 7 + 6 = 256 bytes of code
    with pytest.raises(PatternError, match="code overflow"):
        compile_pattern("(a)" * 35 + "\\d" * 7)


@pytest.mark.parametrize(
    ("source", "text", "groups"),
    [
        ("min ([+-]?(\\d*[.])?\\d+)", "xmin -1.5 y", ("min -1.5", "-1.5", "1.")),
        ("(a)(b)?c", "ac", ("ac", "a", "")),
        ("a*?b", "aab", ("aab",)),
        ("(ab)+?c", "ababc", ("ababc", "ab")),
        ("x\\d\\n\\t", "x5\n\t", ("x5\n\t",)),
        ("[\\t\\0\\n]", "\n", ("\n",)),
        ("\\", "", None),
        ("\\", "a", None),
        ("(a*)*b", "aab", ("aab", "")),
        ("(a*)*?b", "b", ("b", "")),
        ("a**", "aaa", ("aaa",)),
        ("*a", "a", ("a",)),
        ("^*a", "xa", None),
        ("ab^*", "ab", None),
        ("a|b*", "bbb", ("bbb",)),
        ("é", "café\x00x", ("é",)),
        ("é", "x\x00é", None),
    ],
)
def test_slre_corners(source: str, text: str, groups: tuple[str, ...] | None) -> None:
    pattern = compile_pattern(source)
    assert pattern.search(text) == groups
    assert pattern.source == source


@pytest.mark.parametrize(
    "case", CONSTRAINTS, ids=[f"{c['type']}:{c['expression']!r}" for c in CONSTRAINTS]
)
def test_parse_accepts_what_ingescape_accepts(case: dict[str, Any]) -> None:
    iop_type, expression = IopType[case["type"]], case["expression"]
    if case["result"] == 0 and (case["type"], expression) not in STRICTER:
        constraint = parse(expression, iop_type)
        assert str(constraint) == case["exported"]
        assert parse(str(constraint), iop_type) == constraint
    else:
        with pytest.raises(DefinitionError):
            parse(expression, iop_type)


ENFORCEMENT = [
    case
    for case in records("enforcement.json")
    # BOOL is read through an int pointer by Ingescape (undefined behaviour); a DATA shorter
    # than 4 bytes in a STRING regexp check is read past its end.
    if case["from"]["type"] != "BOOL"
    and not (
        case["type"] == "STRING"
        and case["from"]["type"] == "DATA"
        and 0 < len(bytes.fromhex(case["from"]["value"])) < 4
    )
]


@pytest.mark.parametrize(
    "case",
    ENFORCEMENT,
    ids=[f"{c['type']}:{c['constraint']}<-{label(c['from'])}" for c in ENFORCEMENT],
)
def test_enforcement_matches_the_real_agent(case: dict[str, Any]) -> None:
    iop_type = IopType[case["type"]]
    constraint = parse(case["constraint"], iop_type)
    value = typed(case["from"])
    accepted = constraint.admits(value)
    if accepted:
        try:
            convert(value, iop_type)
        except ValueTypeError:
            accepted = False
    assert accepted == (case["result"] == 0)


def test_enforcement_vector_still_has_the_interesting_cases() -> None:
    assert len(ENFORCEMENT) > 300
    fallthrough = [c for c in ENFORCEMENT if c["constraint"] == "~ ^6513249$" and c["result"] == 0]
    assert [c["from"]["value"] for c in fallthrough] == ["61626300"]


@pytest.mark.parametrize(
    ("constraint", "value", "admitted"),
    [
        ("[0, 10]", IMPULSION, True),
        ("min 5", b"", False),
        ("[0, 10]", 10.99, True),
        ("[0, 10]", math.nan, False),
        ("[0, 10]", True, True),
        ("[0, 10]", b"\x01\x00\x00", False),
        ("max 0", "  -3 apples", True),
    ],
)
def test_admits_integer(constraint: str, value: Any, admitted: bool) -> None:
    assert parse(constraint, IopType.INTEGER).admits(value) is admitted


@pytest.mark.parametrize(
    ("constraint", "value", "admitted"),
    [
        ("~ ^$", IMPULSION, False),
        ("~ ^$", "", True),
        ("~ ^1$", True, True),
        ("~ ^-2$", -2, True),
        ("~ ^0.500000$", 0.5, True),
        ("~ ^97$", b"a\x00", True),
        ("~ a", b"a", False),
        ("~ ^x$", "x\x00y", True),
    ],
)
def test_admits_string(constraint: str, value: Any, admitted: bool) -> None:
    assert parse(constraint, IopType.STRING).admits(value) is admitted


def test_check_names_the_iop_and_the_constraint() -> None:
    constraint = Constraint.between(IopType.DOUBLE, -1, 1)
    constraint.check(0.5, name="gain")
    with pytest.raises(ValueTypeError, match=r"gain: 2\.5 breaks the constraint '\[-1\.000000, 1"):
        constraint.check(2.5, name="gain")


def test_builders_and_expressions() -> None:
    assert str(Constraint.at_least(IopType.INTEGER, -5)) == "min -5"
    assert str(Constraint.at_most(IopType.DOUBLE, 2)) == "max 2.000000"
    assert str(Constraint.between(IopType.INTEGER, 0, 10)) == "[0, 10]"
    assert str(Constraint.matching("^[a-z]+$")) == "~ ^[a-z]+$"
    assert Constraint.at_most(IopType.DOUBLE, 2).maximum == 2.0
    assert isinstance(Constraint.at_most(IopType.DOUBLE, 2).maximum, float)
    assert parse("min 3", IopType.INTEGER).kind is ConstraintKind.MIN


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": ConstraintKind.MIN, "type": IopType.STRING, "minimum": 1}, ["INTEGER or DOUBLE"]),
        ({"kind": ConstraintKind.MIN, "type": IopType.INTEGER}, ["minimum", "int bound"]),
        ({"kind": ConstraintKind.MIN, "type": IopType.INTEGER, "minimum": 1.5}, ["int bound"]),
        ({"kind": ConstraintKind.MAX, "type": IopType.INTEGER, "maximum": 2**31}, ["32-bit"]),
        ({"kind": ConstraintKind.MAX, "type": IopType.DOUBLE, "maximum": True}, ["float bound"]),
        ({"kind": ConstraintKind.MAX, "type": IopType.DOUBLE, "maximum": math.inf}, ["finite"]),
        ({"kind": ConstraintKind.MAX, "type": IopType.DOUBLE, "maximum": 10**400}, ["finite"]),
        (
            {"kind": ConstraintKind.MAX, "type": IopType.DOUBLE, "maximum": 1, "minimum": 0},
            ["constraint.minimum", "leave it None"],
        ),
        (
            {"kind": ConstraintKind.RANGE, "type": IopType.INTEGER, "minimum": 5, "maximum": 1},
            ["swap the bounds"],
        ),
        ({"kind": ConstraintKind.REGEXP, "type": IopType.INTEGER, "pattern": "x"}, ["STRING"]),
        ({"kind": ConstraintKind.REGEXP, "type": IopType.STRING}, ["non-empty"]),
        ({"kind": ConstraintKind.REGEXP, "type": IopType.STRING, "pattern": "a\nb"}, ["newline"]),
        ({"kind": ConstraintKind.REGEXP, "type": IopType.STRING, "pattern": "(a"}, ["invalid"]),
        (
            {"kind": ConstraintKind.REGEXP, "type": IopType.STRING, "pattern": "a", "minimum": 1},
            ["no bounds"],
        ),
        (
            {"kind": ConstraintKind.REGEXP, "type": IopType.STRING, "pattern": "amin 1"},
            ["Ingescape would read '~ amin 1' as a min constraint", "[m]in"],
        ),
        (
            {"kind": ConstraintKind.REGEXP, "type": IopType.STRING, "pattern": "^max 2$"},
            ["as a max constraint", "[m]ax"],
        ),
        (
            {"kind": ConstraintKind.REGEXP, "type": IopType.STRING, "pattern": "x[1, 2]"},
            ["as a range", "[[] for a literal ["],
        ),
    ],
)
def test_constraint_validation(fields: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(DefinitionError) as info:
        Constraint(**fields)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("expression", "iop_type", "words"),
    [
        ("~ x", IopType.DOUBLE, ["needs a STRING IOP", "DOUBLE"]),
        ("min 1", IopType.BOOL, ["needs an INTEGER or DOUBLE IOP", "BOOL"]),
        ("[1, 2]", IopType.DATA, ["range", "DATA"]),
        ("between 1 and 2", IopType.INTEGER, ["not Ingescape syntax", "'[0, 10]'"]),
        ("~ [a", IopType.STRING, ["invalid", "No closing ']' bracket"]),
        ("min " + "9" * 400, IopType.DOUBLE, ["not finite"]),
    ],
)
def test_parse_errors_say_what_to_do(expression: str, iop_type: IopType, words: list[str]) -> None:
    with pytest.raises(DefinitionError) as info:
        parse(expression, iop_type)
    for word in words:
        assert word in str(info.value)
