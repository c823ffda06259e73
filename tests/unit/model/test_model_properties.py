"""Hypothesis properties of the model: JSON round trips, conversion and constraint totality.

The example database is disabled so that a run writes nothing outside the test tree.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchwire.errors import DefinitionError, ValueTypeError
from patchwire.model import (
    IMPULSION,
    Argument,
    Constraint,
    Definition,
    Iop,
    IopType,
    Mapping,
    MappingEntry,
    Reply,
    Service,
    SplitEntry,
    Value,
    convert,
    definition_from_json,
    definition_to_dict,
    definition_to_json,
    mapping_from_json,
    mapping_to_json,
    parse_constraint,
    python_type_of,
)
from patchwire.model._slre import PatternError, compile_pattern

SETTINGS = settings(
    max_examples=120, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_TEXT_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_NAME_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00\t\v\r\n\f")
names = st.text(_NAME_CHARS, min_size=1, max_size=12)
texts = st.none() | st.text(_TEXT_CHARS, max_size=20)
clean_texts = st.none() | st.text(_NAME_CHARS, max_size=20)
int32 = st.integers(-(2**31), 2**31 - 1)
exact_doubles = st.integers(-(10**9), 10**9).map(lambda k: k / 64)  # exact with "%f"


def _regexp() -> st.SearchStrategy[Constraint]:
    literal = st.text(st.sampled_from("abcxyz019 _-=é"), min_size=1, max_size=8)
    pieces = st.sampled_from(["^", "$", ".", "\\d", "\\s+", "[abc]", "[^x]", "(a|b)", "x*", "y?"])
    patterns = st.lists(literal | pieces, min_size=1, max_size=4).map("".join)
    return patterns.filter(lambda p: p.strip() != "" and _valid(p)).map(Constraint.matching)


def _valid(pattern: str) -> bool:
    try:
        Constraint.matching(pattern)
    except DefinitionError:
        return False
    return True


def constraints(iop_type: IopType) -> st.SearchStrategy[Constraint | None]:
    if iop_type is IopType.STRING:
        return st.none() | _regexp()
    if iop_type not in (IopType.INTEGER, IopType.DOUBLE):
        return st.none()
    bound = int32 if iop_type is IopType.INTEGER else exact_doubles
    pair = st.tuples(bound, bound).map(sorted)
    return (
        st.none()
        | bound.map(lambda b: Constraint.at_least(iop_type, b))
        | bound.map(lambda b: Constraint.at_most(iop_type, b))
        | pair.map(lambda p: Constraint.between(iop_type, p[0], p[1]))
    )


@st.composite
def iops(draw: st.DrawFn) -> Iop:
    iop_type = draw(st.sampled_from(IopType))
    return Iop(
        name=draw(names),
        type=iop_type,
        description=draw(texts),
        detailed_type=draw(clean_texts),
        specification=draw(texts),
        constraint=draw(constraints(iop_type)),
    )


arguments = st.builds(
    Argument,
    name=names,
    type=st.sampled_from([t for t in IopType if t is not IopType.IMPULSION]),
    description=texts,
)
replies = st.builds(
    Reply, name=names, description=texts, arguments=st.lists(arguments, max_size=3).map(tuple)
)
services = st.builds(
    Service,
    name=names,
    description=texts,
    arguments=st.lists(arguments, max_size=3).map(tuple),
    replies=st.lists(replies, max_size=3, unique_by=lambda r: r.name).map(tuple),
)


def _unique(items: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(items, max_size=4, unique_by=lambda item: item.name).map(tuple)


definitions = st.builds(
    Definition,
    name=names,
    class_name=clean_texts,
    package=clean_texts,
    family=st.none() | st.text(_NAME_CHARS, max_size=10),
    description=texts,
    version=st.none() | st.text(_NAME_CHARS, max_size=10),
    inputs=_unique(iops()),
    outputs=_unique(iops()),
    attributes=_unique(iops()),
    services=_unique(services),
)


@SETTINGS
@given(definitions)
def test_definition_json_round_trip(definition: Definition) -> None:
    printed = definition_to_json(definition)
    assert definition_from_json(printed) == definition
    assert json.loads(printed) == definition_to_dict(definition)


def _legacy(definition: Definition, protocol: int) -> Definition:
    """What survives the legacy formats (spec §13)."""

    def bare_arguments(items: tuple[Argument, ...]) -> tuple[Argument, ...]:
        return tuple(dataclasses.replace(a, description=None) for a in items)

    def bare_service(service: Service) -> Service:
        return dataclasses.replace(
            service,
            arguments=bare_arguments(service.arguments),
            replies=tuple(
                dataclasses.replace(r, arguments=bare_arguments(r.arguments))
                for r in service.replies
            ),
        )

    result = dataclasses.replace(definition, services=tuple(map(bare_service, definition.services)))
    if protocol == 4:
        return result

    def bare_iops(items: tuple[Iop, ...]) -> tuple[Iop, ...]:
        return tuple(Iop(name=iop.name, type=iop.type) for iop in items)

    return dataclasses.replace(
        result,
        class_name=None,
        package=None,
        inputs=bare_iops(definition.inputs),
        outputs=bare_iops(definition.outputs),
        attributes=bare_iops(definition.attributes),
    )


@SETTINGS
@given(definitions, st.sampled_from([2, 3, 4]))
def test_legacy_definition_formats_read_back(definition: Definition, protocol: int) -> None:
    printed = definition_to_json(definition, protocol=protocol)
    assert definition_from_json(printed) == _legacy(definition, protocol)


def _entries(entry_type: type[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    entries = st.builds(entry_type, input=names, agent=names | st.just("*"), output=names)
    return st.lists(entries, max_size=5, unique_by=lambda entry: entry.id).map(tuple)


mappings = st.builds(Mapping, mappings=_entries(MappingEntry), splits=_entries(SplitEntry))


@SETTINGS
@given(mappings)
def test_mapping_json_round_trip(mapping: Mapping) -> None:
    assert mapping_from_json(mapping_to_json(mapping)) == mapping
    legacy = mapping_from_json(mapping_to_json(mapping, protocol=2))
    assert legacy == Mapping(mappings=mapping.mappings)


values: st.SearchStrategy[Value] = st.one_of(
    st.just(IMPULSION),
    st.booleans(),
    int32,
    st.floats(),
    st.text(),
    st.binary(max_size=12),
)


@SETTINGS
@given(values, st.sampled_from(IopType))
def test_convert_gives_a_value_of_the_target_type_or_refuses(value: Value, target: IopType) -> None:
    try:
        result = convert(value, target)
    except ValueTypeError:
        assert isinstance(value, bytes | str)
        return
    assert type(result) is python_type_of(target)


@SETTINGS
@given(st.sampled_from([IopType.INTEGER, IopType.DOUBLE, IopType.STRING]).flatmap(constraints))
def test_constraint_text_reads_back(constraint: Constraint | None) -> None:
    if constraint is not None:
        assert parse_constraint(str(constraint), constraint.type) == constraint


@SETTINGS
@given(
    st.sampled_from([IopType.INTEGER, IopType.DOUBLE, IopType.STRING]).flatmap(constraints),
    values,
)
def test_admits_is_total(constraint: Constraint | None, value: Value) -> None:
    if constraint is not None:
        assert constraint.admits(value) in (True, False)


@SETTINGS
@given(st.text(st.sampled_from("ab^$.*+?|()[]\\dsw-é"), max_size=14), st.text(max_size=16))
def test_slre_never_fails_unexpectedly(source: str, text: str) -> None:
    try:
        pattern = compile_pattern(source)
    except PatternError:
        return
    groups = pattern.search(text)
    assert groups is None or all(isinstance(group, str) for group in groups)
