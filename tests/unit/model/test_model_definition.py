"""Definition records: validation messages name the field and the fix; helpers return new
definitions."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest

from patchwire.errors import DefinitionError, UnknownNameError
from patchwire.model import (
    IMPULSION,
    Argument,
    Constraint,
    Definition,
    Impulsion,
    Iop,
    IopKind,
    IopType,
    Reply,
    Service,
    parse_constraint,
)

INTEGER, DOUBLE, STRING, BOOL = IopType.INTEGER, IopType.DOUBLE, IopType.STRING, IopType.BOOL


def _definition() -> Definition:
    gain = Iop(name="gain", type=DOUBLE, default=1.0, constraint=parse_constraint("[0, 2]", DOUBLE))
    reset = Service(
        name="reset",
        arguments=(Argument(name="level", type=INTEGER),),
        replies=(Reply(name="reset_done", arguments=(Argument(name="ok", type=BOOL),)),),
    )
    return Definition(
        name="thermostat",
        inputs=(Iop(name="setpoint", type=DOUBLE), Iop(name="go", type=IopType.IMPULSION)),
        outputs=(Iop(name="heating", type=BOOL),),
        attributes=(gain,),
        services=(reset,),
    )


RECORDS: list[type[Any]] = [Iop, Argument, Reply, Service, Definition]


@pytest.mark.parametrize("cls", RECORDS)
def test_records_are_frozen_slotted_and_keyword_only(cls: type[Any]) -> None:
    assert cls.__dataclass_params__.frozen
    assert "__slots__" in cls.__dict__
    with pytest.raises(TypeError):
        cls("x")


def test_records_cannot_change() -> None:
    definition = _definition()
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.name = "other"  # type: ignore[misc]


def test_construction_normalises_what_untyped_callers_pass() -> None:
    # Python types for IOP types, lists for tuples and constraint texts are accepted at run
    # time (for JSON, the CLI, scripts); the typed API wants IopType, tuples and Constraint.
    iop, argument, reply, service, definition_type = (
        cast(Any, cls) for cls in (Iop, Argument, Reply, Service, Definition)
    )
    definition = definition_type(
        name="thermostat",
        inputs=[iop(name="setpoint", type=float), iop(name="go", type=5)],
        outputs=[iop(name="heating", type=bool)],
        attributes=[iop(name="gain", type=float, default=1, constraint="[0, 2]")],
        services=[
            service(
                name="reset",
                arguments=[argument(name="level", type=int)],
                replies=[reply(name="reset_done", arguments=[argument(name="ok", type=bool)])],
            )
        ],
    )
    assert definition == _definition()
    assert isinstance(definition.inputs, tuple)
    assert definition.inputs[1].type is IopType.IMPULSION
    gain = definition.attributes[0]
    assert isinstance(gain.default, float)
    assert gain.constraint == Constraint.between(DOUBLE, 0, 2)


@pytest.mark.parametrize(
    ("cls", "fields", "words"),
    [
        (Iop, {"name": "", "type": INTEGER}, ["Iop.name is empty"]),
        (Iop, {"name": 3, "type": INTEGER}, ["Iop.name must be a str"]),
        (Iop, {"name": "a\tb", "type": INTEGER}, ["Iop.name", "tab", "remove it"]),
        (Iop, {"name": "a\x00", "type": INTEGER}, ["NUL"]),
        (Iop, {"name": "\ud800", "type": INTEGER}, ["lone surrogate"]),
        (Iop, {"name": "é" * 513, "type": INTEGER}, ["1026 bytes", "at most 1024"]),
        (Iop, {"name": "x", "type": list}, ["Iop 'x'.type", "not an IOP type"]),
        (Iop, {"name": "x", "type": 9}, ["Iop 'x'.type"]),
        (Iop, {"name": "x", "type": True}, ["Iop 'x'.type"]),
        (
            Iop,
            {"name": "x", "type": INTEGER, "constraint": "~ a"},
            ["Iop 'x'.constraint", "STRING"],
        ),
        (
            Iop,
            {"name": "x", "type": INTEGER, "constraint": Constraint.matching("a")},
            ["is for a STRING IOP but this one is INTEGER"],
        ),
        (Iop, {"name": "x", "type": INTEGER, "constraint": 5}, ["Constraint or its text"]),
        (Iop, {"name": "x", "type": INTEGER, "default": "1"}, ["Iop 'x'.default must be INTEGER"]),
        (
            Iop,
            {"name": "x", "type": INTEGER, "default": 12, "constraint": "[0, 10]"},
            ["Iop 'x'.default 12 breaks its constraint '[0, 10]'"],
        ),
        (Iop, {"name": "x", "type": INTEGER, "description": 4}, ["Iop 'x'.description must be"]),
        (
            Iop,
            {"name": "x", "type": INTEGER, "detailed_type": "a\nb"},
            ["Iop 'x'.detailed_type", "newline"],
        ),
        (Argument, {"name": "p", "type": Impulsion}, ["Argument 'p'.type", "IMPULSION"]),
        (Argument, {"name": "", "type": INTEGER}, ["Argument.name is empty"]),
        (Reply, {"name": "r", "arguments": [1]}, ["Reply 'r'.arguments[0] must be a Argument"]),
        (Reply, {"name": "r", "arguments": "ab"}, ["Reply 'r'.arguments must be a sequence"]),
        (
            Service,
            {"name": "s", "replies": (Reply(name="r"), Reply(name="r"))},
            ["Service 's'.replies[1]: reply 'r' is already declared at", "[0]"],
        ),
        (Definition, {"name": ""}, ["Definition.name is empty"]),
        (Definition, {"name": "a", "family": "f" * 65}, ["Definition.family", "at most 64"]),
        (Definition, {"name": "a", "version": "v" * 65}, ["Definition.version", "at most 64"]),
        (Definition, {"name": "a", "package": "p\r"}, ["Definition.package", "carriage return"]),
        (Definition, {"name": "a", "class_name": "c" * 1025}, ["Definition.class_name"]),
        (Definition, {"name": "a", "inputs": (Service(name="s"),)}, ["Definition.inputs[0] must"]),
        (
            Definition,
            {"name": "a", "outputs": (Iop(name="o", type=INTEGER),) * 2},
            ["Definition.outputs[1]: output 'o' is already declared at Definition.outputs[0]"],
        ),
        (
            Definition,
            {"name": "a", "services": (Service(name="s"), Service(name="s"))},
            ["Definition.services[1]: service 's'", "rename one of them"],
        ),
    ],
)
def test_validation_errors_name_the_field(
    cls: type[Any], fields: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(DefinitionError) as info:
        cls(**fields)
    for word in words:
        assert word in str(info.value)


def test_what_ingescape_allows_is_allowed() -> None:
    Definition(
        name="a b.c/é",
        inputs=(Iop(name="x", type=INTEGER),),
        outputs=(Iop(name="x", type=STRING, description=""),),  # same name, other kind
        services=(Service(name="s", arguments=(Argument(name="a", type=INTEGER),) * 2),),
    )
    Iop(name="n" * 1024, type=INTEGER)
    Iop(name="x", type=STRING, description="tabs\tand\nnewlines are fine here", specification="")
    Iop(name="i", type=IopType.IMPULSION, default=IMPULSION)


def test_lookups() -> None:
    definition = _definition()
    assert definition.iops(IopKind.OUTPUT) == definition.outputs
    assert definition.find_iop(IopKind.INPUT, "go") is definition.inputs[1]
    assert definition.find_iop(IopKind.OUTPUT, "go") is None
    assert definition.get_service("reset").arguments[0].name == "level"
    assert definition.find_service("nope") is None
    with pytest.raises(UnknownNameError, match=r"no attribute 'x' \(known: 'gain'\)"):
        definition.get_iop(IopKind.ATTRIBUTE, "x")
    with pytest.raises(UnknownNameError, match=r"no service 'x' \(known: 'reset'\)"):
        definition.get_service("x")
    with pytest.raises(UnknownNameError, match="known: none"):
        Definition(name="empty").get_service("x")
    assert IopKind.ATTRIBUTE.plural == "attributes"


def test_changes_return_new_definitions() -> None:
    definition = _definition()
    level = Iop(name="level", type=INTEGER)
    added = definition.with_iop(IopKind.OUTPUT, level)
    assert [iop.name for iop in added.outputs] == ["heating", "level"]
    assert definition.outputs == (Iop(name="heating", type=BOOL),)
    heating = Iop(name="heating", type=INTEGER)
    replaced = added.with_iop(IopKind.OUTPUT, heating, replace_existing=True)
    assert replaced.outputs == (heating, level)
    with pytest.raises(DefinitionError, match="output 'heating' already exists; pass replace_"):
        added.with_iop(IopKind.OUTPUT, heating)
    assert replaced.without_iop(IopKind.OUTPUT, "heating").outputs == (level,)
    assert definition.with_iop(IopKind.INPUT, level).inputs[-1] == level
    assert definition.with_iop(IopKind.ATTRIBUTE, level).attributes[-1] == level
    with pytest.raises(UnknownNameError):
        definition.without_iop(IopKind.INPUT, "nope")

    ping = Service(name="ping")
    assert [s.name for s in definition.with_service(ping).services] == ["reset", "ping"]
    reset = Service(name="reset", description="again")
    assert definition.with_service(reset, replace_existing=True).services == (reset,)
    with pytest.raises(DefinitionError, match="service 'reset' already exists"):
        definition.with_service(reset)
    assert definition.without_service("reset").services == ()
    with pytest.raises(UnknownNameError):
        definition.without_service("ping")
    assert dataclasses.replace(definition, version="2").version == "2"
