"""Definition and mapping JSON, byte-compatible with Ingescape 4.7.

Layer: model (pure): text in, records out; records in, text out.

Writing (``*_to_json``) gives exactly what ``parser_export_definition`` /
``parser_export_mapping`` (``src/igs_parser.c``) print through yajl: fixed key order,
4-space indentation, ``"key": value``, an empty array as ``[`` + blank line + ``]``, a final
newline, ``\\b \\f \\n \\r \\t \\" \\\\`` escapes, other control characters as ``\\u00XX``
(upper case), everything else (``/``, DEL, non-ASCII) raw UTF-8. ``protocol`` picks the
format a peer announcing that ``protocol`` header gets (spec §13): 2 and 3 the legacy v3
definition (``parameters``, ``calls``, no class, bare IOPs), 4 the legacy v4 one
(``parameters``, no argument descriptions), anything else the current one; mappings are
legacy (``{"mapping": {"mapping_out": ...}}``, no splits) for protocol 2 only.

Reading (``*_from_json``) accepts every format Ingescape reads: ``parameters`` for
``attributes`` and ``calls`` for ``services`` when the current key is absent, the legacy
mapping when ``mappings`` is absent, any JSON layout. In a JSON object a repeated key keeps
its first value, as Ingescape's lookup does.

``strict=True`` (the default) raises :class:`~patchwire.errors.DefinitionError` /
:class:`~patchwire.errors.MappingError` on anything Ingescape would silently change or drop.
``strict=False`` does what Ingescape does and describes each change in ``warnings`` (when a
list is given): names lose ``\\t \\v \\r \\n \\f`` and are cut to their byte limits, texts stop at
a NUL, the first of two same-named items wins, misplaced values and invalid constraints are
ignored. Differences with Ingescape, in lenient mode: items with an empty name, an unknown
or missing type, or (arguments) the IMPULSION type are dropped (Ingescape keeps them, with
type ``UNKNOWN``); a repeated reply keeps its first occurrence (Ingescape exports it twice);
a DOUBLE range with min > max is dropped; a name cut inside a UTF-8 sequence loses the
partial character.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from typing import Any, Final, TypeAlias

from patchwire.errors import DefinitionError, MappingError

from .constraints import parse_constraint
from .definition import (
    CLASS_LIMIT,
    DETAILED_TYPE_LIMIT,
    FAMILY_LIMIT,
    NAME_LIMIT,
    PACKAGE_LIMIT,
    VERSION_LIMIT,
    Argument,
    Definition,
    Iop,
    IopKind,
    Reply,
    Service,
)
from .mapping import Mapping, MappingEntry, SplitEntry
from .values import IopType

__all__ = [
    "CURRENT_PROTOCOL",
    "definition_from_json",
    "definition_to_dict",
    "definition_to_json",
    "mapping_from_json",
    "mapping_to_dict",
    "mapping_to_json",
]

CURRENT_PROTOCOL: Final = 5
"""Ingescape 4.x's ``protocol`` header (``v5``)."""

JsonSource: TypeAlias = str | bytes | bytearray | MappingABC[str, Any]
_Json: TypeAlias = dict[str, Any]
_STRIPPED: Final = "\t\v\r\n\f"

# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
_ESCAPES.update({"\r": "\\r", "\t": "\\t"})


def _quote(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _dump(value: str | list[Any] | _Json, depth: int) -> str:
    if isinstance(value, str):
        return _quote(value)
    inner, outer = "    " * (depth + 1), "    " * depth
    if isinstance(value, dict):
        items = [f"{inner}{_quote(key)}: {_dump(item, depth + 1)}" for key, item in value.items()]
        opening, closing = "{", "}"
    else:
        items = [f"{inner}{_dump(item, depth + 1)}" for item in value]
        opening, closing = "[", "]"
    separator = ",\n"
    return f"{opening}\n{separator.join(items)}\n{outer}{closing}"


def _optional(target: _Json, key: str, value: str | None) -> None:
    if value is not None:
        target[key] = value


def _iop_dict(iop: Iop, legacy_v3: bool) -> _Json:
    out: _Json = {"name": iop.name, "type": iop.type.name}
    if legacy_v3:
        return out
    if iop.constraint is not None:
        out["constraint"] = iop.constraint.expression
    _optional(out, "description", iop.description)
    _optional(out, "detailed_type", iop.detailed_type)
    _optional(out, "specification", iop.specification)
    return out


def _arguments_dict(arguments: tuple[Argument, ...], described: bool) -> list[Any]:
    out = []
    for argument in arguments:
        item: _Json = {"name": argument.name}
        if described:
            _optional(item, "description", argument.description)
        item["type"] = argument.type.name
        out.append(item)
    return out


def _service_dict(service: Service, described: bool) -> _Json:
    out: _Json = {"name": service.name}
    _optional(out, "description", service.description)
    if service.arguments:
        out["arguments"] = _arguments_dict(service.arguments, described)
    replies = []
    for reply in service.replies:
        item: _Json = {"name": reply.name}
        _optional(item, "description", reply.description)
        if reply.arguments:
            item["arguments"] = _arguments_dict(reply.arguments, described)
        replies.append(item)
    out["replies"] = replies
    return out


def definition_to_dict(definition: Definition, *, protocol: int = CURRENT_PROTOCOL) -> _Json:
    """The JSON object :func:`definition_to_json` prints, as plain dicts and lists."""
    legacy_v3, legacy_v4 = protocol in (2, 3), protocol == 4
    body: _Json = {"name": definition.name}
    if not legacy_v3:
        _optional(body, "class", definition.class_name)
        _optional(body, "package", definition.package)
    _optional(body, "family", definition.family)
    _optional(body, "description", definition.description)
    _optional(body, "version", definition.version)
    body["inputs"] = [_iop_dict(iop, legacy_v3) for iop in definition.inputs]
    body["outputs"] = [_iop_dict(iop, legacy_v3) for iop in definition.outputs]
    attributes_key = "parameters" if legacy_v3 or legacy_v4 else "attributes"
    body[attributes_key] = [_iop_dict(iop, legacy_v3) for iop in definition.attributes]
    described = not (legacy_v3 or legacy_v4)
    services = [_service_dict(service, described) for service in definition.services]
    body["calls" if legacy_v3 else "services"] = services
    return {"definition": body}


def definition_to_json(definition: Definition, *, protocol: int = CURRENT_PROTOCOL) -> str:
    """Ingescape's text for a definition, byte for byte (``igs_definition_json()``)."""
    return _dump(definition_to_dict(definition, protocol=protocol), 0) + "\n"


def _entry_dict(entry: MappingEntry | SplitEntry, legacy: bool) -> _Json:
    if legacy:
        return {"input_name": entry.input, "agent_name": entry.agent, "output_name": entry.output}
    return {"fromInput": entry.input, "toAgent": entry.agent, "toOutput": entry.output}


def mapping_to_dict(mapping: Mapping, *, protocol: int = CURRENT_PROTOCOL) -> _Json:
    """The JSON object :func:`mapping_to_json` prints, as plain dicts and lists."""
    if protocol == 2:
        return {"mapping": {"mapping_out": [_entry_dict(e, True) for e in mapping.mappings]}}
    return {
        "mappings": [_entry_dict(entry, False) for entry in mapping.mappings],
        "splits": [_entry_dict(entry, False) for entry in mapping.splits],
    }


def mapping_to_json(mapping: Mapping, *, protocol: int = CURRENT_PROTOCOL) -> str:
    """Ingescape's text for a mapping, byte for byte (``igs_mapping_json()``)."""
    return _dump(mapping_to_dict(mapping, protocol=protocol), 0) + "\n"


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def _first_wins(pairs: list[tuple[str, Any]]) -> _Json:
    result: _Json = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Reader:
    """Shared by both loaders: the strict/lenient policy and the warnings."""

    def __init__(
        self, error: type[DefinitionError | MappingError], strict: bool, warnings: list[str] | None
    ) -> None:
        self.error = error
        self.strict = strict
        self.warnings = warnings

    def problem(self, message: str) -> None:
        if self.strict:
            raise self.error(f"{message} (load with strict=False to do as Ingescape does)")
        if self.warnings is not None:
            self.warnings.append(message)

    def parse(self, source: JsonSource, what: str) -> _Json:
        if isinstance(source, MappingABC):
            return dict(source)
        try:
            text = source if isinstance(source, str) else bytes(source).decode("utf-8")
            document = json.loads(
                text, object_pairs_hook=_first_wins, parse_constant=_refuse_constant
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise self.error(f"{what} is not valid JSON ({exc}); check the text") from None
        if not isinstance(document, dict):
            raise self.error(f"{what} must be a JSON object, got {type(document).__name__}")
        return document

    def text(self, value: object, field: str) -> str | None:
        """A free text: ``None`` when absent or not a string; cut at a NUL."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(f"{field} is not a string: ignored")
            return None
        if "\x00" in value:
            self.problem(f"{field} contains a NUL: the text stops there")
            value = value.split("\x00", 1)[0]
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.problem(f"{field} holds a lone surrogate escape: replaced by '?'")
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value

    def name(
        self, value: object, field: str, *, limit: int = NAME_LIMIT, strip_first: bool = False
    ) -> str | None:
        """A cleaned text (``model_clean_string``): ``None`` when absent or not a string."""
        text = self.text(value, field)
        if text is None:
            return None
        cleaned = text
        if strip_first:  # strdup, then clean (class, package)
            cleaned = _truncate("".join(c for c in cleaned if c not in _STRIPPED), limit)
        else:  # strndup, then clean (names, family, version, detailed type)
            cleaned = "".join(c for c in _truncate(cleaned, limit) if c not in _STRIPPED)
        if cleaned != text:
            self.problem(f"{field} {text!r:.60} becomes {cleaned!r:.60}")
        return cleaned

    def array(self, value: object, field: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(f"{field} is not an array: ignored")
            return []
        return value

    def objects(self, value: object, field: str) -> list[tuple[str, _Json]]:
        """The JSON objects of an array, each with its field path."""
        result = []
        for index, item in enumerate(self.array(value, field)):
            if isinstance(item, dict):
                result.append((f"{field}[{index}]", item))
            else:
                self.problem(f"{field}[{index}] is not an object: ignored")
        return result


def _truncate(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _named(reader: _Reader, item: _Json, field: str, seen: set[str] | None) -> str | None:
    """The cleaned name of an item, or ``None`` (with a problem) when it must be skipped."""
    name = reader.name(item.get("name"), f"{field}.name")
    if name is None:
        reader.problem(f"{field} has no name: ignored")
        return None
    if not name:
        reader.problem(f"{field} has an empty name: ignored")
        return None
    if seen is not None:
        if name in seen:
            reader.problem(f"{field}: {name!r} is already declared, the first one wins")
            return None
        seen.add(name)
    return name


def _value_type(reader: _Reader, item: _Json, field: str, *, argument: bool) -> IopType | None:
    raw = item.get("type")
    if isinstance(raw, str) and raw in IopType.__members__:
        iop_type = IopType[raw]
        if not (argument and iop_type is IopType.IMPULSION):
            return iop_type
    kinds = "BOOL, INTEGER, DOUBLE, STRING, DATA" + ("" if argument else ", IMPULSION")
    reader.problem(f"{field}.type {raw!r} is not one of {kinds}: the item is dropped")
    return None


def _iop(reader: _Reader, item: _Json, field: str, seen: set[str]) -> Iop | None:
    name = _named(reader, item, field, seen)
    if name is None:
        return None
    iop_type = _value_type(reader, item, field, argument=False)
    if iop_type is None:
        return None
    constraint = None
    expression = reader.text(item.get("constraint"), f"{field}.constraint")
    if expression is not None:
        try:
            constraint = parse_constraint(expression, iop_type)
        except DefinitionError as exc:
            reader.problem(f"{field}.{exc} (constraint dropped)")
    detailed = reader.name(
        item.get("detailed_type"), f"{field}.detailed_type", limit=DETAILED_TYPE_LIMIT
    )
    return Iop(
        name=name,
        type=iop_type,
        description=reader.text(item.get("description"), f"{field}.description"),
        detailed_type=detailed,
        specification=reader.text(item.get("specification"), f"{field}.specification"),
        constraint=constraint,
    )


def _arguments(reader: _Reader, value: object, field: str) -> tuple[Argument, ...]:
    arguments = []
    for path, item in reader.objects(value, field):
        name = _named(reader, item, path, None)
        iop_type = _value_type(reader, item, path, argument=True) if name is not None else None
        if name is None or iop_type is None:
            continue
        description = reader.text(item.get("description"), f"{path}.description")
        arguments.append(Argument(name=name, type=iop_type, description=description))
    return tuple(arguments)


def _service(reader: _Reader, item: _Json, field: str, seen: set[str]) -> Service | None:
    name = _named(reader, item, field, seen)
    if name is None:
        return None
    replies, reply_names = [], set[str]()
    for path, reply in reader.objects(item.get("replies"), f"{field}.replies"):
        reply_name = _named(reader, reply, path, reply_names)
        if reply_name is not None:
            arguments = _arguments(reader, reply.get("arguments"), f"{path}.arguments")
            description = reader.text(reply.get("description"), f"{path}.description")
            replies.append(Reply(name=reply_name, description=description, arguments=arguments))
    return Service(
        name=name,
        description=reader.text(item.get("description"), f"{field}.description"),
        arguments=_arguments(reader, item.get("arguments"), f"{field}.arguments"),
        replies=tuple(replies),
    )


def _legacy_key(body: _Json, current: str, legacy: str) -> tuple[object, str]:
    if current in body:
        return body[current], current
    return body.get(legacy), legacy


def definition_from_json(
    source: JsonSource, *, strict: bool = True, warnings: list[str] | None = None
) -> Definition:
    """Read a definition in any format Ingescape reads (JSON text, bytes or parsed dict).

    Raises:
        DefinitionError: not JSON, no ``definition.name``, or (``strict``) anything Ingescape
            would change or drop, each message naming the field.
    """
    reader = _Reader(DefinitionError, strict, warnings)
    document = reader.parse(source, "definition JSON")
    body = document.get("definition")
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise DefinitionError(
            'definition JSON needs {"definition": {"name": "..."}}; add the agent name'
        )
    name = reader.name(body["name"], "definition.name")
    if not name:
        raise DefinitionError("definition.name is empty: give the agent a name")
    iops: dict[IopKind, list[Iop]] = {kind: [] for kind in IopKind}
    for kind in IopKind:
        value, key = body.get(kind.plural), f"definition.{kind.plural}"
        if kind is IopKind.ATTRIBUTE:
            value, key = _legacy_key(body, "attributes", "parameters")
            key = f"definition.{key}"
        seen: set[str] = set()
        for path, item in reader.objects(value, key):
            iop = _iop(reader, item, path, seen)
            if iop is not None:
                iops[kind].append(iop)
    services_value, services_key = _legacy_key(body, "services", "calls")
    services, service_names = [], set[str]()
    for path, item in reader.objects(services_value, f"definition.{services_key}"):
        service = _service(reader, item, path, service_names)
        if service is not None:
            services.append(service)
    return Definition(
        name=name,
        class_name=reader.name(
            body.get("class"), "definition.class", limit=CLASS_LIMIT, strip_first=True
        ),
        package=reader.name(
            body.get("package"), "definition.package", limit=PACKAGE_LIMIT, strip_first=True
        ),
        family=reader.name(body.get("family"), "definition.family", limit=FAMILY_LIMIT),
        description=reader.text(body.get("description"), "definition.description"),
        version=reader.name(body.get("version"), "definition.version", limit=VERSION_LIMIT),
        inputs=tuple(iops[IopKind.INPUT]),
        outputs=tuple(iops[IopKind.OUTPUT]),
        attributes=tuple(iops[IopKind.ATTRIBUTE]),
        services=tuple(services),
    )


_CURRENT_KEYS: Final = ("fromInput", "toAgent", "toOutput")
_LEGACY_KEYS: Final = ("input_name", "agent_name", "output_name")


def _entries(
    reader: _Reader,
    value: object,
    field: str,
    keys: tuple[str, str, str],
    build: Callable[[str, str, str], MappingEntry | SplitEntry],
) -> list[Any]:
    entries, ids = [], set[int]()
    for path, item in reader.objects(value, field):
        names = [reader.name(item.get(key), f"{path}.{key}") for key in keys]
        if not all(names):
            reader.problem(f"{path} needs non-empty strings {', '.join(keys)}: ignored")
            continue
        entry = build(*(str(name) for name in names))
        if entry.id in ids:
            reader.problem(f"{path} '{entry}' is already there: ignored")
            continue
        ids.add(entry.id)
        entries.append(entry)
    return entries


def mapping_from_json(
    source: JsonSource, *, strict: bool = True, warnings: list[str] | None = None
) -> Mapping:
    """Read a mapping in any format Ingescape reads (JSON text, bytes or parsed dict).

    Raises:
        MappingError: not JSON, neither ``mappings``, the legacy ``mapping.mapping_out`` nor
            ``splits``, or (``strict``) anything Ingescape would change or drop.
    """
    reader = _Reader(MappingError, strict, warnings)
    document = reader.parse(source, "mapping JSON")
    mappings, field, keys = document.get("mappings"), "mappings", _CURRENT_KEYS
    if "mappings" not in document:
        legacy = document.get("mapping")
        mappings = legacy.get("mapping_out") if isinstance(legacy, dict) else None
        if isinstance(mappings, list):
            field, keys = "mapping.mapping_out", _LEGACY_KEYS
        elif "splits" in document:
            mappings = None
        else:
            raise MappingError(
                'mapping JSON needs "mappings" and/or "splits" (or the legacy '
                '{"mapping": {"mapping_out": [...]}}); add them, even empty'
            )

    def mapping_entry(input: str, agent: str, output: str) -> MappingEntry:
        return MappingEntry(input=input, agent=agent, output=output)

    def split_entry(input: str, agent: str, output: str) -> SplitEntry:
        return SplitEntry(input=input, agent=agent, output=output)

    return Mapping(
        mappings=tuple(_entries(reader, mappings, field, keys, mapping_entry)),
        splits=tuple(
            _entries(reader, document.get("splits"), "splits", _CURRENT_KEYS, split_entry)
        ),
    )
