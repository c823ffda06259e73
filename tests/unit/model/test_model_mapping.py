"""Mapping records: Ingescape's djb2 ids, validation and helpers."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from patchwire.errors import MappingError, UnknownNameError
from patchwire.model import Mapping, MappingEntry, SplitEntry, mapping_id
from tests.unit.model.model_vectors import records

IDS = records("mapping_ids.json")


@pytest.mark.parametrize("case", IDS, ids=[f"{c['kind']}:{'.'.join(c['triple'])}" for c in IDS])
def test_ids_are_the_real_agent_s(case: dict[str, Any]) -> None:
    assert mapping_id(*case["triple"]) == case["id"]
    entry_type = MappingEntry if case["kind"] == "mapping" else SplitEntry
    input, agent, output = case["triple"]
    assert entry_type(input=input, agent=agent, output=output).id == case["id"]


def test_spec_example_id() -> None:
    assert mapping_id("in_int", "other", "out_int") == 17095130544425793574


def test_entries() -> None:
    entry = MappingEntry(input="in", agent="*", output="out")
    assert str(entry) == "in <- *.out"
    split: object = SplitEntry(input="in", agent="*", output="out")
    assert entry != split
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.input = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        MappingEntry("in", "*", "out")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (
            {"input": "", "agent": "a", "output": "o"},
            ["MappingEntry.input is empty", "name the input"],
        ),
        ({"input": "i", "agent": 3, "output": "o"}, ["MappingEntry.agent must be a str"]),
        ({"input": "i", "agent": "a", "output": "o\n"}, ["MappingEntry.output", "newline"]),
        ({"input": "i", "agent": "a\x00", "output": "o"}, ["NUL"]),
        ({"input": "i" * 1025, "agent": "a", "output": "o"}, ["1025 bytes", "at most 1024"]),
        ({"input": "\udcff", "agent": "a", "output": "o"}, ["not valid Unicode"]),
    ],
)
def test_entry_validation(fields: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(MappingError) as info:
        MappingEntry(**fields)
    for word in words:
        assert word in str(info.value)


def test_mapping_validation() -> None:
    entry = MappingEntry(input="i", agent="a", output="o")
    with pytest.raises(MappingError, match=r"Mapping.mappings\[1\] 'i <- a.o' duplicates the same"):
        Mapping(mappings=(entry, entry))
    with pytest.raises(MappingError, match=r"Mapping.splits\[0\] must be a SplitEntry"):
        Mapping(splits=(entry,))  # type: ignore[arg-type]
    with pytest.raises(MappingError, match="must be a sequence"):
        Mapping(mappings="io")  # type: ignore[arg-type]
    split = SplitEntry(input="i", agent="a", output="o")
    both = Mapping(mappings=(entry,), splits=(split,))  # the same triple in both lists is fine
    assert both.find_mapping(entry.id) == entry
    assert both.find_split(split) == split


def test_helpers() -> None:
    first = MappingEntry(input="i", agent="a", output="o")
    second = MappingEntry(input="j", agent="b", output="p")
    split = SplitEntry(input="s", agent="t", output="u")
    mapping = Mapping().with_mapping(first).with_mapping(second).with_split(split)
    assert mapping.mappings == (first, second)
    assert mapping.with_mapping(first) is mapping
    assert mapping.with_split(split) is mapping
    assert mapping.without_mapping(first.id).mappings == (second,)
    assert mapping.without_mapping(second).mappings == (first,)
    assert mapping.without_split(split).splits == ()
    assert not mapping.is_empty
    assert Mapping().is_empty
    with pytest.raises(UnknownNameError, match="no mapping entry with id 5"):
        mapping.without_mapping(5)
    with pytest.raises(UnknownNameError, match=r"no split entry 'i <- a\.o'"):
        mapping.without_split(SplitEntry(input="i", agent="a", output="o"))
