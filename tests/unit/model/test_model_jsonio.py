"""Definition and mapping JSON against texts printed by real Ingescape 4.7 agents."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from patchwire.errors import DefinitionError, MappingError
from patchwire.model import (
    Argument,
    Definition,
    Iop,
    IopType,
    Mapping,
    MappingEntry,
    Reply,
    Service,
    definition_from_json,
    definition_to_dict,
    definition_to_json,
    mapping_from_json,
    mapping_to_json,
)
from tests.unit.model.model_vectors import VECTOR_DIR, records, text

REAL_DEFINITIONS = [
    "definition_full.json",
    "definition_minimal.json",
    "definition_escapes.json",
    "legacy_v5_definition.json",
]


@pytest.mark.parametrize("name", REAL_DEFINITIONS)
def test_real_definitions_round_trip_byte_for_byte(name: str) -> None:
    original = text(name)
    definition = definition_from_json(original)
    assert definition_to_json(definition) == original
    assert definition_from_json(original.encode()) == definition
    assert definition_from_json(json.loads(original)) == definition


def test_full_definition_reads_every_feature() -> None:
    definition = definition_from_json(text("definition_full.json"))
    assert definition.class_name == "CaptureClass"
    assert definition.package == "patchwire::vectors"
    assert [iop.type for iop in definition.inputs] == [
        IopType.IMPULSION,
        IopType.BOOL,
        IopType.INTEGER,
        IopType.DOUBLE,
        IopType.STRING,
        IopType.DATA,
    ]
    assert str(definition.outputs[3].constraint) == "[-0.250000, 1000.000000]"
    assert definition.outputs[1].description == ""
    assert definition.attributes[2].specification == ""
    service = definition.get_service("svc")
    assert service.arguments[1] == Argument(name="x", type=IopType.INTEGER, description="the x")
    assert service.replies[0].arguments[1].description == "reason"
    assert definition.get_service("noargs") == Service(name="noargs")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_legacy_formats_are_what_the_real_agent_sent(protocol: int) -> None:
    definition = definition_from_json(text("legacy_v5_definition.json"))
    expected = text(f"legacy_v{protocol}_definition.json")
    assert definition_to_json(definition, protocol=protocol) == expected
    reread = definition_from_json(expected)
    if protocol < 4:  # v3 has no class; everything else survives
        reread = dataclasses.replace(reread, class_name=definition.class_name)
    assert reread == definition
    mapping = mapping_from_json(text(f"legacy_v{protocol}_mapping.json"))
    assert mapping == Mapping()
    assert mapping_to_json(mapping, protocol=protocol) == text(f"legacy_v{protocol}_mapping.json")


def test_legacy_v4_drops_argument_descriptions_but_not_reply_ones() -> None:
    definition = definition_from_json(text("definition_full.json"))
    v4 = definition_to_dict(definition, protocol=4)["definition"]
    assert "parameters" in v4
    assert "attributes" not in v4
    svc = v4["services"][0]
    assert all("description" not in argument for argument in svc["arguments"])
    assert svc["replies"][0]["description"] == "sent when done"
    assert all("description" not in argument for argument in svc["replies"][0]["arguments"])
    assert v4["inputs"][2]["constraint"] == "[0, 10]"
    v3 = definition_to_dict(definition, protocol=3)["definition"]
    keys = ["name", "family", "description", "version", "inputs", "outputs", "parameters"]
    assert list(v3) == [*keys, "calls"]
    assert v3["inputs"][4] == {"name": "in_str", "type": "STRING"}
    assert v3["calls"][0]["replies"][0]["description"] == "sent when done"
    other = definition_to_json(definition, protocol=7)
    assert other == definition_to_json(definition)


@pytest.mark.parametrize("name", ["mapping_full.json", "mapping_empty.json"])
def test_real_mappings_round_trip_byte_for_byte(name: str) -> None:
    original = text(name)
    mapping = mapping_from_json(original)
    assert mapping_to_json(mapping) == original
    assert mapping_from_json(original.encode()) == mapping


def test_full_mapping_content() -> None:
    mapping = mapping_from_json(text("mapping_full.json"))
    assert mapping.mappings[1] == MappingEntry(input="in_str", agent="*", output="name")
    assert [entry.id for entry in mapping.splits] == [
        case["id"] for case in records("mapping_ids.json")[5:9]
    ]
    legacy = mapping_to_json(mapping, protocol=2)
    assert '"input_name": "in_é"' in legacy
    assert "splits" not in legacy
    assert mapping_from_json(legacy) == Mapping(mappings=mapping.mappings)


# Where lenient loading differs from Ingescape on purpose (see the jsonio docstring).
DEFINITION_DEVIATIONS = {
    "cleaning_and_duplicates": "a repeated reply is kept once (Ingescape prints it twice)",
    "constraints_in_json": "a DOUBLE range with min > max is dropped",
    "wrong_value_types": "an IOP whose type is not a string is dropped, not UNKNOWN",
    "unknown_types": "unknown types and IMPULSION arguments are dropped, not UNKNOWN",
    "empty_item_names": "items with an empty name are dropped",
}
DEFINITION_LOADS = records("definition_loads.json")


@pytest.mark.parametrize("case", DEFINITION_LOADS, ids=[c["name"] for c in DEFINITION_LOADS])
def test_lenient_loading_does_what_ingescape_does(case: dict[str, Any]) -> None:
    warnings: list[str] = []
    if case["result"] != 0:
        with pytest.raises(DefinitionError):
            definition_from_json(case["input"], strict=False, warnings=warnings)
        return
    ours = definition_from_json(case["input"], strict=False, warnings=warnings)
    # Ingescape's own result, read the same way, is what we read: the deviations are
    # exactly the items patchwire drops where Ingescape keeps them.
    assert definition_from_json(case["output"], strict=False) == ours
    if case["name"] in DEFINITION_DEVIATIONS:
        assert definition_to_json(ours) != case["output"]
    else:
        assert definition_to_json(ours) == case["output"]
    if definition_to_json(ours) != case["input"] and warnings == []:
        # nothing was changed: only formatting or key names differ
        assert definition_from_json(case["input"]) == ours


MAPPING_LOADS = records("mapping_loads.json")


@pytest.mark.parametrize("case", MAPPING_LOADS, ids=[c["name"] for c in MAPPING_LOADS])
def test_lenient_mapping_loading_does_what_ingescape_does(case: dict[str, Any]) -> None:
    if case["result"] != 0:
        with pytest.raises(MappingError):
            mapping_from_json(case["input"], strict=False)
        return
    warnings: list[str] = []
    mapping = mapping_from_json(case["input"], strict=False, warnings=warnings)
    assert mapping_to_json(mapping) == case["output"]
    if warnings:
        with pytest.raises(MappingError, match="strict=False"):
            mapping_from_json(case["input"])


def test_cleaning_warnings_name_the_fields() -> None:
    case = next(c for c in DEFINITION_LOADS if c["name"] == "cleaning_and_duplicates")
    warnings: list[str] = []
    definition_from_json(case["input"], strict=False, warnings=warnings)
    assert "definition.name 'clean\\tme\\n' becomes 'cleanme'" in warnings
    assert "definition.inputs[1]: 'dup' is already declared, the first one wins" in warnings
    assert "definition.inputs[3] has no name: ignored" in warnings
    with pytest.raises(DefinitionError, match=r"definition.name 'clean\\tme\\n' becomes"):
        definition_from_json(case["input"])


def _wire_vector(name: str) -> bytes:
    path = VECTOR_DIR.parent / "zre_ingescape_4.7.0.json"
    for record in json.loads(path.read_text(encoding="utf-8")):
        if record["name"] == name:
            return bytes.fromhex(record["expected"]["content"][1])
    pytest.skip(f"{name} is not in {path.name}")


def test_definition_whispered_by_a_real_agent_round_trips() -> None:
    original = _wire_vector("whisper_private_external_definition")
    definition = definition_from_json(original)
    assert definition.name == "golden_agent"
    assert definition_to_json(definition).encode() == original


def test_mapping_whispered_by_a_real_agent_round_trips() -> None:
    original = _wire_vector("whisper_private_external_mapping")
    assert mapping_to_json(mapping_from_json(original)).encode() == original


def test_yajl_escapes() -> None:
    description = "".join(chr(code) for code in range(1, 0x20)) + '"\\/\x7f é\U0001f600'
    short = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}
    expected = "".join(short.get(code, f"\\u{code:04X}") for code in range(1, 0x20))
    expected += '\\"\\\\/\x7f é\U0001f600'
    printed = definition_to_json(Definition(name="x", description=description))
    assert f'"description": "{expected}"' in printed
    assert json.loads(printed)["definition"]["description"] == description


def test_yajl_layout() -> None:
    printed = mapping_to_json(Mapping())
    assert printed == '{\n    "mappings": [\n\n    ],\n    "splits": [\n\n    ]\n}\n'
    definition = Definition(name="n", inputs=(Iop(name="i", type=IopType.INTEGER),))
    assert definition_to_json(definition).splitlines()[3:7] == [
        '        "inputs": [',
        "            {",
        '                "name": "i",',
        '                "type": "INTEGER"',
    ]


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("{definition", ["definition JSON is not valid JSON"]),
        (b"\xff", ["not valid JSON", "utf-8"]),
        ("[1]", ["must be a JSON object, got list"]),
        ('{"definition": {"name": NaN}}', ["not valid JSON", "NaN"]),
        ('{"definition": {}}', ['{"definition": {"name": "..."}}']),
        ('{"definition": {"name": "\\t"}}', ["definition.name '\\t' becomes ''"]),
        ('{"definition": {"name": "a", "inputs": {}}}', ["definition.inputs is not an array"]),
        ('{"definition": {"name": "a", "inputs": [1]}}', ["definition.inputs[0] is not an object"]),
        (
            '{"definition": {"name": "a", "outputs": [{"name": "o", "type": "FLOAT"}]}}',
            ["definition.outputs[0].type 'FLOAT' is not one of", "strict=False"],
        ),
        (
            '{"definition": {"name": "a", "parameters": [{"name": "p", "type": "INTEGER",'
            ' "constraint": "max 1e3"}, {"name": "q", "type": "BOOL", "constraint": "min 1"}]}}',
            ["definition.parameters[1].constraint: a min constraint needs an INTEGER or DOUBLE"],
        ),
        (
            '{"definition": {"name": "a", "calls": [{"name": "c", "arguments": [{"name": "x",'
            ' "type": "IMPULSION"}]}]}}',
            ["definition.calls[0].arguments[0].type 'IMPULSION' is not one of BOOL"],
        ),
        ('{"definition": {"name": "a", "version": 1}}', ["definition.version is not a string"]),
        ('{"definition": {"name": "a\\u0000b"}}', ["definition.name contains a NUL"]),
        ('{"definition": {"name": "\\ud800"}}', ["definition.name holds a lone surrogate"]),
        (
            '{"definition": {"name": "a", "services": [{"name": "s", "replies": '
            '[{"name": "r"}, {"name": "r"}]}]}}',
            ["definition.services[0].replies[1]: 'r' is already declared"],
        ),
    ],
)
def test_strict_definition_errors_name_the_field(source: str | bytes, words: list[str]) -> None:
    with pytest.raises(DefinitionError) as info:
        definition_from_json(source)
    for word in words:
        assert word in str(info.value)


def test_lenient_reading_of_odd_values() -> None:
    warnings: list[str] = []
    source = {
        "definition": {
            "name": "a",
            "class": None,
            "description": "x\x00y",
            "inputs": [{"name": "i", "type": "INTEGER", "constraint": 5}],
            "services": [{"name": "s", "arguments": [{"name": "x"}, 3]}],
        }
    }
    definition = definition_from_json(source, strict=False, warnings=warnings)
    assert definition.class_name is None
    assert definition.description == "x"
    assert definition.inputs[0].constraint is None
    assert definition.services[0].arguments == ()
    assert len(warnings) == 4
    with pytest.raises(DefinitionError, match=r"definition\.name is empty"):
        definition_from_json('{"definition": {"name": "\\t"}}', strict=False)
    lone = definition_from_json('{"definition": {"name": "a\\ud800"}}', strict=False)
    assert lone.name == "a?"
    family = definition_from_json(
        {"definition": {"name": "a", "family": "é" * 40, "package": "\tp" * 3000}}, strict=False
    )
    assert family.family == "é" * 32
    assert family.package == "p" * 3000


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("", ["mapping JSON is not valid JSON"]),
        ('{"other": 1}', ['needs "mappings" and/or "splits"']),
        ('{"mapping": {"mapping_out": {}}}', ['needs "mappings" and/or "splits"']),
        ('{"mappings": [{"fromInput": "a"}]}', ["mappings[0] needs non-empty strings fromInput"]),
        ('{"mappings": [], "splits": 3}', ["splits is not an array"]),
        (
            '{"splits": [{"fromInput": "a", "toAgent": "b", "toOutput": "c"},'
            ' {"fromInput": "a", "toAgent": "b", "toOutput": "c"}]}',
            ["splits[1] 'a <- b.c' is already there"],
        ),
        (
            '{"mapping": {"mapping_out": [{"input_name": "a\\t", "agent_name": "b",'
            ' "output_name": "c"}]}}',
            ["mapping.mapping_out[0].input_name 'a\\t' becomes 'a'"],
        ),
    ],
)
def test_strict_mapping_errors_name_the_field(source: str, words: list[str]) -> None:
    with pytest.raises(MappingError) as info:
        mapping_from_json(source)
    for word in words:
        assert word in str(info.value)


def test_legacy_mapping_with_splits_beside_it() -> None:
    source = {"mapping": {"mapping_out": {}}, "splits": []}
    assert mapping_from_json(source) == Mapping()


def test_documented_examples_load(tmp_path: Path) -> None:
    # The service/reply shapes the agent layer will build, through a file.
    definition = Definition(
        name="demo",
        services=(
            Service(
                name="svc",
                arguments=(Argument(name="x", type=IopType.INTEGER, description="the x"),),
                replies=(Reply(name="done", description=""),),
            ),
        ),
    )
    path = tmp_path / "demo.json"
    path.write_text(definition_to_json(definition), encoding="utf-8")
    assert definition_from_json(path.read_bytes()) == definition
