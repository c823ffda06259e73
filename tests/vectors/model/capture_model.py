"""Capture what a real Ingescape 4.7 agent does with definitions, mappings and values.

Run by hand with an interpreter that has ``pip install ingescape``; no network, no root::

    /tmp/pwvenv/bin/python tests/vectors/model/capture_model.py [--out DIR] [--probe-logs DIR]

Every case runs in its own child process (the binding keeps process-global state, and a
failed assertion inside the C library aborts the process). A child never starts the
agent: it only declares things and calls ``definition_json()``, ``mapping_json()``,
``*_load_str()``, ``input_set_*()`` and the typed readers. The C library may print on file
descriptor 1, so a child moves it to stderr and writes its JSON answer on a private
duplicate of the original stdout.

Files written (see ``README.md`` in this folder):

* ``definition_full.json``, ``definition_minimal.json``, ``definition_escapes.json``,
  ``mapping_full.json``, ``mapping_empty.json``: ``definition_json()`` / ``mapping_json()``
  text, byte for byte;
* ``mapping_ids.json``: ids returned by ``mapping_add`` / ``split_add``;
* ``definition_loads.json`` / ``mapping_loads.json``: JSON given to ``*_load_str`` and the
  text exported afterwards (``null`` when the load failed);
* ``constraints.json``: constraint expressions, accepted or not, and their export;
* ``conversions.json``: ``input_set_<type>(value)`` on an input of every type, the return
  code and the value read back with the input's own typed reader;
* ``enforcement.json``: the same with ``constraints_enforce(True)`` on constrained inputs;
* ``regex.json``: which strings pass a ``~ <pattern>`` constraint (czmq's SLRE dialect);
* ``legacy_*.json``: with ``--probe-logs``, the definitions and mappings a real agent sent
  to peers announcing protocols v2..v5 (``shared/probes/ingescape/out/s6_LEG_v*.log``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------
# Child side: runs with the real binding imported.
# --------------------------------------------------------------------------------------


def _typed(kind: str, value: Any) -> dict[str, Any]:
    """JSON form of one typed value: DOUBLE as ``float.hex``, DATA as hex, NULL as null."""
    if value is None:
        return {"type": kind, "value": None}
    if kind == "DOUBLE":
        return {"type": kind, "value": float(value).hex()}
    if kind == "DATA":
        return {"type": kind, "value": bytes(value).hex()}
    return {"type": kind, "value": value}


def _child_full(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_full")
    igs.definition_set_class("CaptureClass")
    igs.definition_set_package("patchwire::vectors")
    igs.agent_set_family("0123456789abcdef0123456789abcdef")
    igs.definition_set_description('Every feature of a definition:\n"quoted", tab\there, é')
    igs.definition_set_version("4.7.0-capture")
    kinds = [
        ("imp", igs.IMPULSION_T),
        ("bool", igs.BOOL_T),
        ("int", igs.INTEGER_T),
        ("dbl", igs.DOUBLE_T),
        ("str", igs.STRING_T),
        ("data", igs.DATA_T),
    ]
    for suffix, code in kinds:
        assert igs.input_create(f"in_{suffix}", code, None) == 0
    for suffix, code in kinds:
        assert igs.output_create(f"out_{suffix}", code, None) == 0
    assert igs.attribute_create("gain", igs.DOUBLE_T, 1.5) == 0
    assert igs.attribute_create("count", igs.INTEGER_T, 3) == 0
    assert igs.attribute_create("label", igs.STRING_T, "x") == 0
    assert igs.attribute_create("enabled", igs.BOOL_T, True) == 0
    assert igs.input_add_constraint("in_int", "[0, 10]") == 0
    assert igs.input_add_constraint("in_dbl", "min -1.5") == 0
    assert igs.input_add_constraint("in_str", "~ ^[a-z]+$") == 0
    assert igs.output_add_constraint("out_int", "max 99") == 0
    assert igs.output_add_constraint("out_dbl", "[-0.25, 1000]") == 0
    assert igs.attribute_add_constraint("gain", "max 2") == 0
    assert igs.attribute_add_constraint("count", "min -5") == 0
    assert igs.attribute_add_constraint("label", "~ [A-Z]") == 0
    assert igs.input_set_description("in_str", "a lower-case word") == 0
    assert igs.output_set_description("out_bool", "") == 0
    assert igs.attribute_set_description("gain", "multiplier / ratio") == 0
    assert igs.input_set_detailed_type("in_data", "protobuf", "message M { int32 a = 1; }") == 0
    assert igs.output_set_detailed_type("out_data", "json", '{"type":"object"}') == 0
    assert igs.attribute_set_detailed_type("label", "enum", "") == 0

    def callback(*_args: Any) -> None:
        return None

    assert igs.service_init("svc", callback, None) == 0
    assert igs.service_set_description("svc", "a service with everything") == 0
    for arg, code in [
        ("flag", igs.BOOL_T),
        ("x", igs.INTEGER_T),
        ("ratio", igs.DOUBLE_T),
        ("label", igs.STRING_T),
        ("payload", igs.DATA_T),
    ]:
        assert igs.service_arg_add("svc", arg, code) == 0
    assert igs.service_arg_set_description("svc", "x", "the x") == 0
    assert igs.service_reply_add("svc", "svc_done") == 0
    assert igs.service_reply_set_description("svc", "svc_done", "sent when done") == 0
    assert igs.service_reply_arg_add("svc", "svc_done", "ok", igs.BOOL_T) == 0
    assert igs.service_reply_arg_add("svc", "svc_done", "why", igs.STRING_T) == 0
    assert igs.service_reply_arg_set_description("svc", "svc_done", "why", "reason") == 0
    assert igs.service_reply_add("svc", "svc_failed") == 0
    assert igs.service_init("noargs", callback, None) == 0
    assert igs.service_init("only_replies", callback, None) == 0
    assert igs.service_reply_add("only_replies", "pong") == 0
    assert igs.service_reply_arg_add("only_replies", "pong", "n", igs.INTEGER_T) == 0
    text = igs.definition_json()
    # Loading our own export must give the same text back (idempotence of the C side).
    assert igs.definition_load_str(text) == 0
    return {"definition_full": text, "reloaded": igs.definition_json()}


def _child_minimal(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_minimal")
    return {"definition_minimal": igs.definition_json()}


def _child_escapes(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture escapes/é")
    igs.definition_set_description(
        'ctl \b\f\n\r\t \x01\x1f del\x7f quote" backslash\\ slash/ é 中 \U0001f600'
    )
    assert igs.input_create("in with spaces.and.dots", igs.STRING_T, None) == 0
    assert igs.input_set_description("in with spaces.and.dots", "<>&'") == 0
    return {"definition_escapes": igs.definition_json()}


def _child_mapping(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_mapping")
    empty = igs.mapping_json()
    ids = []
    for kind, add in (("mapping", igs.mapping_add), ("split", igs.split_add)):
        for triple in [
            ("in_int", "other", "out_int"),
            ("in_str", "*", "name"),
            ("in dbl", "agent with spaces", "out.dotted"),
            ("in_é", "ünïcode", "out_中"),
            ("in_int", "other", "out_int"),  # duplicate: same id back
        ]:
            ids.append({"kind": kind, "triple": list(triple), "id": add(*triple)})
    return {"mapping_full": igs.mapping_json(), "mapping_empty": empty, "mapping_ids": ids}


_DEFINITION_LOADS: list[tuple[str, str]] = [
    (
        "legacy_v3_keys",
        json.dumps(
            {
                "definition": {
                    "name": "old",
                    "description": "v3 format",
                    "version": "0.9",
                    "inputs": [{"name": "i", "type": "INTEGER"}],
                    "outputs": [{"name": "o", "type": "DOUBLE"}],
                    "parameters": [{"name": "p", "type": "STRING"}],
                    "calls": [
                        {
                            "name": "c",
                            "arguments": [{"name": "a", "type": "BOOL"}],
                            "replies": [],
                        }
                    ],
                }
            }
        ),
    ),
    (
        "both_current_and_legacy_keys",
        json.dumps(
            {
                "definition": {
                    "name": "both",
                    "attributes": [{"name": "new_attr", "type": "INTEGER"}],
                    "parameters": [{"name": "old_attr", "type": "INTEGER"}],
                    "services": [{"name": "new_svc"}],
                    "calls": [{"name": "old_svc"}],
                }
            }
        ),
    ),
    (
        "cleaning_and_duplicates",
        json.dumps(
            {
                "definition": {
                    "name": "clean\tme\n",
                    "class": "Cl\rass",
                    "package": "p\fkg",
                    "family": "f" * 70,
                    "version": "v\v1",
                    "description": "kept\tas is",
                    "inputs": [
                        {"name": "dup", "type": "INTEGER"},
                        {"name": "d\tup", "type": "DOUBLE"},
                        {
                            "name": "x",
                            "type": "STRING",
                            "detailed_type": "t\ty",
                            "specification": "s\ts",
                        },
                        {"type": "INTEGER"},
                        {"name": 5, "type": "INTEGER"},
                    ],
                    "outputs": [{"name": "o", "type": "BOOL", "description": "d\n"}],
                    "services": [
                        {"name": "s\t1", "arguments": [{"name": "a\n", "type": "INTEGER"}]},
                        {"name": "s1"},
                        {"name": "s2", "replies": [{"name": "r"}, {"name": "r"}]},
                    ],
                }
            }
        ),
    ),
    (
        "constraints_in_json",
        json.dumps(
            {
                "definition": {
                    "name": "cons",
                    "inputs": [
                        {"name": "a", "type": "INTEGER", "constraint": "min 1.9"},
                        {"name": "b", "type": "INTEGER", "constraint": "[5, 1]"},
                        {"name": "c", "type": "DOUBLE", "constraint": "[5, 1]"},
                        {"name": "d", "type": "STRING", "constraint": "max 3"},
                        {"name": "e", "type": "STRING", "constraint": "~ ["},
                        {"name": "f", "type": "DOUBLE", "constraint": "bogus"},
                        {"name": "g", "type": "BOOL", "constraint": "~ x"},
                    ],
                    "outputs": [{"name": "o", "type": "INTEGER", "constraint": "max 1e3"}],
                    "attributes": [{"name": "p", "type": "STRING", "constraint": "~ a|b"}],
                }
            }
        ),
    ),
    (
        "wrong_value_types",
        json.dumps(
            {
                "definition": {
                    "name": "types",
                    "version": 2,
                    "description": ["x"],
                    "class": None,
                    "inputs": {"name": "not an array"},
                    "outputs": [{"name": "o", "type": 1}],
                    "attributes": "nope",
                    "services": [{"name": "s", "arguments": {"a": 1}, "replies": "x"}],
                }
            }
        ),
    ),
    (
        "unknown_types",
        json.dumps(
            {
                "definition": {
                    "name": "unknown",
                    "inputs": [{"name": "a", "type": "FLOAT"}, {"name": "b"}],
                    "services": [
                        {
                            "name": "s",
                            "arguments": [
                                {"name": "p", "type": "IMPULSION"},
                                {"name": "q"},
                                {"name": "r", "type": "int"},
                            ],
                        }
                    ],
                }
            }
        ),
    ),
    ("duplicate_json_keys", '{"definition": {"name": "first", "name": "second"}}'),
    ("nul_in_description", '{"definition": {"name": "n", "description": "ab\\u0000cd"}}'),
    ("unicode_escapes", '{"definition": {"name": "\\u00e9\\ud83d\\ude00", "version": "\\u4e2d"}}'),
    (
        "compact_current_format",
        '{"definition":{"name":"compact","inputs":[{"name":"i","type":"DATA"}]}}',
    ),
    ("missing_name", '{"definition": {"inputs": []}}'),
    ("name_not_a_string", '{"definition": {"name": 3}}'),
    ("not_an_object", "[1, 2]"),
    ("not_json", "{definition"),
    ("extra_keys", '{"definition": {"name": "x", "extra": {"a": 1}}, "other": 2}'),
    (
        "empty_item_names",
        '{"definition": {"name": "e", "inputs": [{"name": "", "type": "INTEGER"}],'
        ' "services": [{"name": "", "arguments": [{"name": "", "type": "BOOL"}]}]}}',
    ),
]

_MAPPING_LOADS: list[tuple[str, str]] = [
    (
        "legacy_v2",
        json.dumps(
            {
                "mapping": {
                    "mapping_out": [
                        {"input_name": "i", "agent_name": "a", "output_name": "o"},
                        {"input_name": "j", "agent_name": "*", "output_name": "p"},
                    ]
                }
            }
        ),
    ),
    (
        "legacy_with_splits",
        json.dumps(
            {
                "mapping": {
                    "mapping_out": [{"input_name": "i", "agent_name": "a", "output_name": "o"}]
                },
                "splits": [{"fromInput": "s", "toAgent": "t", "toOutput": "u"}],
            }
        ),
    ),
    (
        "current_beats_legacy",
        json.dumps(
            {
                "mappings": [{"fromInput": "new", "toAgent": "a", "toOutput": "o"}],
                "mapping": {
                    "mapping_out": [{"input_name": "old", "agent_name": "a", "output_name": "o"}]
                },
            }
        ),
    ),
    (
        "cleaning_duplicates_invalid",
        json.dumps(
            {
                "mappings": [
                    {"fromInput": "a\tb", "toAgent": "x", "toOutput": "y"},
                    {"fromInput": "ab", "toAgent": "x", "toOutput": "y"},
                    {"fromInput": "c"},
                    5,
                    {"fromInput": "d", "toAgent": 1, "toOutput": "y"},
                    {"input_name": "e", "agent_name": "x", "output_name": "y"},
                ],
                "splits": [
                    {"fromInput": "s", "toAgent": "t", "toOutput": "u"},
                    {"fromInput": "s", "toAgent": "t", "toOutput": "u"},
                    {"input_name": "e", "agent_name": "x", "output_name": "y"},
                ],
            }
        ),
    ),
    ("splits_only", '{"splits": [{"fromInput": "s", "toAgent": "t", "toOutput": "u"}]}'),
    ("mappings_only", '{"mappings": []}'),
    ("no_known_key", '{"other": 1}'),
    ("not_an_object", "[]"),
    ("not_json", "{"),
    ("empty_string", ""),
]


def _child_loads(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_loads")
    definitions = []
    for name, text in _DEFINITION_LOADS:
        igs.clear_definition()
        igs.agent_set_name("capture_loads")
        result = igs.definition_load_str(text)
        definitions.append(
            {
                "name": name,
                "input": text,
                "result": result,
                "output": igs.definition_json() if result == 0 else None,
            }
        )
    mappings = []
    for name, text in _MAPPING_LOADS:
        igs.clear_mappings()
        result = igs.mapping_load_str(text)
        mappings.append(
            {
                "name": name,
                "input": text,
                "result": result,
                "output": igs.mapping_json() if result == 0 else None,
            }
        )
    return {"definition_loads": definitions, "mapping_loads": mappings}


_CONSTRAINT_EXPRESSIONS = [
    "min 5",
    "max 5",
    "min5",
    " min 5",
    "min 5 extra",
    "xmin 5",
    "min +5",
    "min -0",
    "min .5",
    "min 5.",
    "min 5.25",
    "min -1.5",
    "max 1e3",
    "min 1e5",
    "max 0x10",
    "max 99999999999",
    "max -99999999999999999999999",
    "min 00012",
    "MIN 5",
    "min  5",
    "max\t5",
    "min",
    "min -",
    "[1,2]",
    "[1, 2]",
    "[1 ,2]",
    "[1  ,  2]",
    "[ 1, 2]",
    "[1, 2 ]",
    "[2, 1]",
    "[1, 1]",
    "[-1.25,3]",
    "[.5, 1.]",
    "[1, 2] trailing",
    "prefix [1, 2]",
    "[1, 2",
    "[1; 2]",
    "~ ",
    "~",
    "~x",
    "~ x",
    "~  x",
    "~ [",
    "~ (a",
    "~ ^[a-z]+$",
    "~ a|b",
    "~ \\d+",
    "~ x\ny",
    "abc ~ def",
    "~ min 5",
    "~ [1, 2]",
    "foo",
    "",
]


def _child_constraints(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_constraints")
    codes = {
        "INTEGER": igs.INTEGER_T,
        "DOUBLE": igs.DOUBLE_T,
        "STRING": igs.STRING_T,
        "BOOL": igs.BOOL_T,
        "IMPULSION": igs.IMPULSION_T,
        "DATA": igs.DATA_T,
    }
    records = []
    for kind, code in codes.items():
        for index, expression in enumerate(_CONSTRAINT_EXPRESSIONS):
            name = f"{kind.lower()}_{index}"
            assert igs.input_create(name, code, None) == 0
            result = igs.input_add_constraint(name, expression)
            exported = None
            for io in json.loads(igs.definition_json())["definition"]["inputs"]:
                if io["name"] == name:
                    exported = io.get("constraint")
            records.append(
                {"type": kind, "expression": expression, "result": result, "exported": exported}
            )
    return {"constraints": records}


# (sender type, value) pairs written into an input of every type.
def _sources() -> list[tuple[str, Any]]:
    ints = [0, 1, -1, -2, 42, 2147483647, -2147483648]
    doubles = [0.0, -0.0, 0.5, -0.5, 3.14159, -2.7, 2.5, 1e10, -1e10, 2147483647.9]
    doubles += [-2147483648.9, 1e-7, 123456789.125, float("inf"), float("-inf"), float("nan")]
    strings = ["", "0", "1", "00", "12.75", "hello", "true", "True", "TRUE", "tRue", "false"]
    strings += ["False", "FALSE", " 12", "\t\n-7x", "+5", "-0", "0x10", "0X1p3", "0x", "1e3"]
    strings += ["1e", "-3.7", ".5", "5.", "1,5", "inf", "-Infinity", "nan", "NaN(123)", "12abc"]
    strings += ["99999999999", "-99999999999", "99999999999999999999", "1e400", "1e-400"]
    strings += ["0123456789abcdef", "ABCDEF", "abc", "zz", "0g", "é", "١٢"]
    datas = [b"", b"\x00", b"\x01", b"\x02", b"*\x00\x00\x00", b"\xff\xff\xff\xff", b"\x00\x00"]
    datas += [b"\x00\x00\x00\x00\x00\x00\xf8\x3f", b"hello\x00", b"hello", b"\x00" * 300]
    datas += [b"ab\x00cd\x00", b"caf\xc3\xa9\x00", b"\x01\x02\x03"]
    sources: list[tuple[str, Any]] = [("BOOL", True), ("BOOL", False), ("IMPULSION", None)]
    sources += [("INTEGER", v) for v in ints] + [("DOUBLE", v) for v in doubles]
    sources += [("STRING", v) for v in strings] + [("DATA", v) for v in datas]
    return sources


def _setter(igs: Any, kind: str) -> Any:
    return {
        "INTEGER": igs.input_set_int,
        "DOUBLE": igs.input_set_double,
        "STRING": igs.input_set_string,
        "BOOL": igs.input_set_bool,
        "DATA": igs.input_set_data,
    }.get(kind)


def _write(igs: Any, name: str, kind: str, value: Any) -> int:
    if kind == "IMPULSION":
        return int(igs.input_set_impulsion(name))
    return int(_setter(igs, kind)(name, value))


def _read(igs: Any, name: str, kind: str) -> dict[str, Any] | None:
    reader = {
        "INTEGER": igs.input_int,
        "DOUBLE": igs.input_double,
        "STRING": igs.input_string,
        "BOOL": igs.input_bool,
        "DATA": igs.input_data,
    }.get(kind)
    return None if reader is None else _typed(kind, reader(name))


_SENTINELS: dict[str, Any] = {
    "INTEGER": 777,
    "DOUBLE": 7.77,
    "STRING": "sentinel",
    "BOOL": True,
    "DATA": b"\xee",
}

_KINDS = ["INTEGER", "DOUBLE", "STRING", "BOOL", "IMPULSION", "DATA"]


def _child_conversions(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_conversions")
    for kind in _KINDS:
        assert igs.input_create(f"to_{kind}", getattr(igs, f"{kind}_T"), None) == 0
    cases = []
    for source, value in _sources():
        for target in _KINDS:
            name = f"to_{target}"
            if target in _SENTINELS:
                assert _write(igs, name, target, _SENTINELS[target]) == 0
            result = _write(igs, name, source, value)
            cases.append(
                {
                    "from": _typed(source, value),
                    "to": target,
                    "result": result,
                    "read": _read(igs, name, target),
                }
            )
    return {"conversions": cases}


_ENFORCED = [
    ("INTEGER", "[0, 10]"),
    ("INTEGER", "min 5"),
    ("INTEGER", "max -1"),
    ("DOUBLE", "[-0.5, 2.5]"),
    ("DOUBLE", "min 0.25"),
    ("STRING", "~ ^[a-z]+$"),
    ("STRING", "~ [a-z]+"),
    ("STRING", "~ ^-?[0-9]+$"),
    ("STRING", "~ ^$"),
    ("STRING", "~ 0\\.5"),
    ("STRING", "~ b"),
    ("STRING", "~ ^6513249$"),
]


def _child_enforcement(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_enforcement")
    igs.constraints_enforce(True)
    sources: list[tuple[str, Any]] = [("IMPULSION", None), ("BOOL", True), ("BOOL", False)]
    sources += [("INTEGER", v) for v in (-3, -1, 0, 5, 10, 11)]
    sources += [("DOUBLE", v) for v in (-0.75, -0.5, 0.25, 0.5, 0.99, 2.5, 10.9, 11.0)]
    strings = ["", "abc", "ABC", "ABCabc", "7", "10.9", "-1", "12abc", "0.5", "x0.5"]
    sources += [("STRING", v) for v in strings]
    datas = [b"", b"\x07\x00\x00\x00", b"\x0b\x00\x00\x00", b"\x00\x00\x00\x00\x00\x00\xe0\x3f"]
    datas += [b"abc\x00", b"abcdef\x00", b"-1\x00\x00", b"\x05\x00\x00\x00\x00", b"abc"]
    sources += [("DATA", v) for v in datas]
    records = []
    for index, (kind, expression) in enumerate(_ENFORCED):
        name = f"c{index}"
        assert igs.input_create(name, getattr(igs, f"{kind}_T"), None) == 0
        assert igs.input_add_constraint(name, expression) == 0
        for source, value in sources:
            result = _write(igs, name, source, value)
            records.append(
                {
                    "type": kind,
                    "constraint": expression,
                    "from": _typed(source, value),
                    "result": result,
                    "read": _read(igs, name, kind),
                }
            )
    return {"enforcement": records}


# fmt: off
_PATTERNS = [
    "a*b", "^a+$", "(ab)*c", "a|b", "^(a|b)c$", "x?y", "a*?b", "a+?b", "\\d+\\.\\d",
    "[^abc]", "[a-c]", "[\\d]", "\\s", "\\w+", "^\\S+$", "\\a\\A", "^$", "x*", "^x*$",
    ".", "é", "[é]", "(a|ab)c", "(a*)b", "colou?r", "[]", "[^]", "\\.", "\\x41", "a{2}",
    "]", "(a)(b)?c", "^a|b$", "ab*", "(ab)+$", "a.c", "\\D\\W", "^[^\\n]+$",
]
_TEXTS = [
    "", "a", "b", "ab", "abc", "aab", "c", "ac", "abab", "ababc", "xy", "y", "1.5",
    "12.34", " ", "A", "é", "e", "colour", "color", "aaa", "]", "{", "a{2}", "x41", "A41",
    "\t", "-", "\x11", "a-c", "A1", "bb", "ba", "a c",
]
# fmt: on


def _child_regex(igs: Any) -> dict[str, Any]:
    igs.agent_set_name("capture_regex")
    igs.constraints_enforce(True)
    records = []
    for index, pattern in enumerate(_PATTERNS):
        name = f"r{index}"
        assert igs.input_create(name, igs.STRING_T, None) == 0
        valid = igs.input_add_constraint(name, f"~ {pattern}") == 0
        matches = []
        if valid:
            matches = [text for text in _TEXTS if igs.input_set_string(name, text) == 0]
        records.append({"pattern": pattern, "valid": valid, "matches": matches})
    return {"regex": {"texts": _TEXTS, "patterns": records}}


CHILDREN = {
    "full": _child_full,
    "minimal": _child_minimal,
    "escapes": _child_escapes,
    "mapping": _child_mapping,
    "loads": _child_loads,
    "constraints": _child_constraints,
    "conversions": _child_conversions,
    "enforcement": _child_enforcement,
    "regex": _child_regex,
}


def _run_child(case: str) -> None:
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever the C library prints goes to stderr
    import ingescape as igs  # only the child needs the binding

    payload = CHILDREN[case](igs)
    payload["ingescape"] = f"{igs.version()} (protocol {igs.protocol()})"
    answer.write(json.dumps(payload, ensure_ascii=False))
    answer.flush()


# --------------------------------------------------------------------------------------
# Parent side.
# --------------------------------------------------------------------------------------


def _ask(python: str, case: str) -> dict[str, Any]:
    done = subprocess.run(
        [python, __file__, "--child", case],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"child {case!r} failed with exit code {done.returncode}")
    payload: dict[str, Any] = json.loads(done.stdout.decode("utf-8"))
    return payload


def _write_text(out: Path, name: str, text: str) -> None:
    (out / name).write_bytes(text.encode("utf-8"))
    print(f"wrote {name} ({len(text.encode('utf-8'))} bytes)")


def _write_table(out: Path, name: str, source: str, records: Any) -> None:
    """``{"source": ..., "records": [...]}`` with one record per line (readable diffs)."""
    if isinstance(records, list):
        lines = ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)
        body = f"[\n{lines}\n]"
    else:
        body = json.dumps(records, ensure_ascii=False)
    _write_text(out, name, f'{{"source": {json.dumps(source)},\n"records": {body}}}\n')


_LOG_HEADER = re.compile(
    r"^\[LEG\s+[\d.]+\] (v\d) (DEFINITION|MAPPING) received(?: \((\d+) bytes\))?:$"
)


def _extract_probe_logs(logs: Path, out: Path) -> None:
    """Copy the JSON texts a real agent sent to legacy peers (scenario 6 of the probes)."""
    for log in sorted(logs.glob("s6_LEG_v*.log")):
        lines = log.read_text(encoding="utf-8").split("\n")
        for index, line in enumerate(lines):
            match = _LOG_HEADER.match(line)
            if not match:
                continue
            body = []
            for following in lines[index + 1 :]:
                body.append(following)
                if following == "}":
                    break
            text = "\n".join(body) + "\n"
            size = match.group(3)
            if size is not None and int(size) != len(text.encode("utf-8")):
                raise SystemExit(f"{log.name}: extracted {len(text)} bytes, header says {size}")
            version, what = match.group(1), match.group(2).lower()
            _write_text(out, f"legacy_{version}_{what}.json", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--python", default=sys.executable, help="interpreter with ingescape")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument("--probe-logs", type=Path, help="shared/probes/ingescape/out")
    args = parser.parse_args()
    if args.child:
        _run_child(args.child)
        return
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    answers = {case: _ask(args.python, case) for case in CHILDREN}
    version = answers["full"]["ingescape"]
    today = datetime.date.today().isoformat()
    source = f"ingescape {version}, captured {today} by tests/vectors/model/capture_model.py"
    full = answers["full"]
    if full["reloaded"] != full["definition_full"]:
        print("note: definition_load_str(definition_json()) changed the text")
    _write_text(out, "definition_full.json", full["definition_full"])
    _write_text(out, "definition_minimal.json", answers["minimal"]["definition_minimal"])
    _write_text(out, "definition_escapes.json", answers["escapes"]["definition_escapes"])
    _write_text(out, "mapping_full.json", answers["mapping"]["mapping_full"])
    _write_text(out, "mapping_empty.json", answers["mapping"]["mapping_empty"])
    _write_table(out, "mapping_ids.json", source, answers["mapping"]["mapping_ids"])
    _write_table(out, "definition_loads.json", source, answers["loads"]["definition_loads"])
    _write_table(out, "mapping_loads.json", source, answers["loads"]["mapping_loads"])
    _write_table(out, "constraints.json", source, answers["constraints"]["constraints"])
    _write_table(out, "conversions.json", source, answers["conversions"]["conversions"])
    _write_table(out, "enforcement.json", source, answers["enforcement"]["enforcement"])
    _write_table(out, "regex.json", source, answers["regex"]["regex"])
    if args.probe_logs:
        _extract_probe_logs(args.probe_logs, out)


if __name__ == "__main__":
    main()
