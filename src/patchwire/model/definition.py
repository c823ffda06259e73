"""What an agent declares: inputs, outputs, attributes and services.

Layer: model (pure). Records are frozen, slotted, keyword-only dataclasses; they validate
themselves when built and raise :class:`~patchwire.errors.DefinitionError` with a message
naming the field and the fix. "Changing" a definition returns a new one.

Invariants (what Ingescape 4.7 itself guarantees for what it creates through its API):

* names are non-empty, without ``\\t \\v \\r \\n \\f`` (Ingescape strips them from JSON) and at
  most 1024 UTF-8 bytes; class names 1024, packages 4096, families and versions 64,
  detailed types 1024 bytes; no text holds a NUL (C strings end there);
* IOP names are unique per kind (an input and an output may share a name), service
  names are unique, reply names are unique within their service;
* service and reply arguments are never IMPULSION. Argument names *may* repeat, as in
  Ingescape (arguments are positional on the wire);
* a constraint has the type of its IOP; a default value has it too and satisfies the
  constraint. Defaults are not part of definition JSON.

Ingescape calls attributes "parameters" in older versions; services were "calls".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Final, Self, TypeVar, final

from patchwire.errors import DefinitionError, UnknownNameError, ValueTypeError

from .constraints import Constraint, parse_constraint
from .values import IopType, Value, check_value, iop_type_of

__all__ = [
    "NAME_LIMIT",
    "Argument",
    "Definition",
    "Iop",
    "IopKind",
    "Reply",
    "Service",
]

NAME_LIMIT: Final = 1024
"""Longest name Ingescape keeps (agent, IOP, service, argument, reply), in UTF-8 bytes."""
CLASS_LIMIT: Final = 1024
PACKAGE_LIMIT: Final = 4096
FAMILY_LIMIT: Final = 64
VERSION_LIMIT: Final = 64
DETAILED_TYPE_LIMIT: Final = 1024
_STRIPPED: Final = "\t\v\r\n\f"


class IopKind(IntEnum):
    """Inputs, outputs and attributes (Ingescape's ``IGS_INPUT_T`` ... codes)."""

    INPUT = 1
    OUTPUT = 2
    ATTRIBUTE = 3

    @property
    def plural(self) -> str:
        """The definition field and JSON key holding this kind: ``inputs``, ..."""
        return f"{self.name.lower()}s"


def _text(
    value: object,
    field: str,
    *,
    required: bool = False,
    limit: int | None = None,
    clean: bool = False,
) -> str | None:
    """Validate one text field; ``clean`` fields refuse the characters Ingescape strips."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise DefinitionError(f"{field} must be a str, got {type(value).__name__} {value!r:.40}")
    if required and not value:
        raise DefinitionError(f"{field} is empty: give it a name")
    if "\x00" in value:
        raise DefinitionError(f"{field} {value!r:.60} contains a NUL character; remove it")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise DefinitionError(
            f"{field} {value!r:.60} is not valid Unicode text (lone surrogate); fix the text"
        ) from None
    if clean and any(char in value for char in _STRIPPED):
        raise DefinitionError(
            f"{field} {value!r:.60} contains a tab, vertical tab, carriage return, newline or "
            "form feed, which Ingescape removes; remove it"
        )
    if limit is not None and size > limit:
        raise DefinitionError(
            f"{field} is {size} bytes long (UTF-8); Ingescape keeps at most {limit}: shorten it"
        )
    return value


def _name(value: object, field: str) -> str:
    result = _text(value, field, required=True, limit=NAME_LIMIT, clean=True)
    assert result is not None
    return result


def _iop_type(value: object, field: str) -> IopType:
    if isinstance(value, int) and not isinstance(value, bool | IopType):
        try:
            return IopType(value)
        except ValueError:
            pass
    try:
        return iop_type_of(value)
    except DefinitionError as exc:
        raise DefinitionError(f"{field}: {exc}") from None


_Item = TypeVar("_Item")


def _items(values: object, item_type: type[_Item], field: str) -> tuple[_Item, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise DefinitionError(
            f"{field} must be a sequence of {item_type.__name__}, got {type(values).__name__}"
        )
    items = tuple(values)
    for index, item in enumerate(items):
        if not isinstance(item, item_type):
            raise DefinitionError(
                f"{field}[{index}] must be a {item_type.__name__}, got {type(item).__name__}"
            )
    return items


def _unique(names: Iterable[str], field: str, what: str) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise DefinitionError(
                f"{field}[{index}]: {what} {name!r} is already declared at {field}"
                f"[{seen[name]}]; rename one of them or drop the duplicate"
            )
        seen[name] = index


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Iop:
    """An input, output or attribute (which one depends on where the definition holds it).

    ``type`` takes an :class:`IopType` or a Python type (``float`` for DOUBLE, ...);
    ``constraint`` a :class:`Constraint` or its Ingescape text (``"[0, 10]"``).
    ``detailed_type`` and ``specification`` are free text describing the content
    (``"protobuf"`` and a schema, say).
    """

    name: str
    type: IopType
    description: str | None = None
    detailed_type: str | None = None
    specification: str | None = None
    constraint: Constraint | None = None
    default: Value | None = None

    def __post_init__(self) -> None:
        name = _name(self.name, "Iop.name")
        iop_type = _iop_type(self.type, f"Iop {name!r}.type")
        object.__setattr__(self, "type", iop_type)
        _text(self.description, f"Iop {name!r}.description")
        _text(
            self.detailed_type, f"Iop {name!r}.detailed_type", limit=DETAILED_TYPE_LIMIT, clean=True
        )
        _text(self.specification, f"Iop {name!r}.specification")
        constraint = self._constraint(name, iop_type)
        if self.default is not None:
            self._check_default(name, iop_type, constraint)

    def _constraint(self, name: str, iop_type: IopType) -> Constraint | None:
        given: object = self.constraint
        if given is None:
            return None
        if isinstance(given, str):
            try:
                given = parse_constraint(given, iop_type)
            except DefinitionError as exc:
                raise DefinitionError(f"Iop {name!r}.{exc}") from None
            object.__setattr__(self, "constraint", given)
        if not isinstance(given, Constraint):
            raise DefinitionError(
                f"Iop {name!r}.constraint must be a Constraint or its text, got "
                f"{type(given).__name__}"
            )
        if given.type is not iop_type:
            raise DefinitionError(
                f"Iop {name!r}.constraint '{given}' is for a {given.type.name} IOP but this "
                f"one is {iop_type.name}; rebuild the constraint for {iop_type.name}"
            )
        return given

    def _check_default(self, name: str, iop_type: IopType, constraint: Constraint | None) -> None:
        try:
            default = check_value(self.default, iop_type, name=f"Iop {name!r}.default")
        except ValueTypeError as exc:
            raise DefinitionError(str(exc)) from None
        if constraint is not None and not constraint.admits(default):
            raise DefinitionError(
                f"Iop {name!r}.default {default!r} breaks its constraint '{constraint}'; "
                "choose a default that satisfies it"
            )
        object.__setattr__(self, "default", default)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Argument:
    """One argument of a service or of a reply: any type but IMPULSION."""

    name: str
    type: IopType
    description: str | None = None

    def __post_init__(self) -> None:
        name = _name(self.name, "Argument.name")
        iop_type = _iop_type(self.type, f"Argument {name!r}.type")
        if iop_type is IopType.IMPULSION:
            raise DefinitionError(
                f"Argument {name!r}.type: a service argument cannot be an IMPULSION (it would "
                "carry nothing); drop the argument or use BOOL"
            )
        object.__setattr__(self, "type", iop_type)
        _text(self.description, f"Argument {name!r}.description")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A reply a service declares: documentation of the service the callee calls back."""

    name: str
    description: str | None = None
    arguments: tuple[Argument, ...] = ()

    def __post_init__(self) -> None:
        name = _name(self.name, "Reply.name")
        _text(self.description, f"Reply {name!r}.description")
        arguments = _items(self.arguments, Argument, f"Reply {name!r}.arguments")
        object.__setattr__(self, "arguments", arguments)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """A service: positional arguments and the replies it may send back."""

    name: str
    description: str | None = None
    arguments: tuple[Argument, ...] = ()
    replies: tuple[Reply, ...] = ()

    def __post_init__(self) -> None:
        name = _name(self.name, "Service.name")
        _text(self.description, f"Service {name!r}.description")
        arguments = _items(self.arguments, Argument, f"Service {name!r}.arguments")
        replies = _items(self.replies, Reply, f"Service {name!r}.replies")
        _unique((reply.name for reply in replies), f"Service {name!r}.replies", "reply")
        object.__setattr__(self, "arguments", arguments)
        object.__setattr__(self, "replies", replies)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    """An agent's definition: Ingescape's ``definition`` JSON object, values excepted.

    ``class_name`` is the JSON ``class`` (Ingescape agents created through the API set it to
    the agent name; definitions loaded from JSON may have none); ``family`` is a licensing
    identifier.
    """

    name: str
    class_name: str | None = None
    package: str | None = None
    family: str | None = None
    description: str | None = None
    version: str | None = None
    inputs: tuple[Iop, ...] = ()
    outputs: tuple[Iop, ...] = ()
    attributes: tuple[Iop, ...] = ()
    services: tuple[Service, ...] = ()

    def __post_init__(self) -> None:
        _name(self.name, "Definition.name")
        _text(self.class_name, "Definition.class_name", limit=CLASS_LIMIT, clean=True)
        _text(self.package, "Definition.package", limit=PACKAGE_LIMIT, clean=True)
        _text(self.family, "Definition.family", limit=FAMILY_LIMIT, clean=True)
        _text(self.description, "Definition.description")
        _text(self.version, "Definition.version", limit=VERSION_LIMIT, clean=True)
        for kind in IopKind:
            field = kind.plural
            iops = _items(getattr(self, field), Iop, f"Definition.{field}")
            _unique((iop.name for iop in iops), f"Definition.{field}", kind.name.lower())
            object.__setattr__(self, field, iops)
        services = _items(self.services, Service, "Definition.services")
        _unique((service.name for service in services), "Definition.services", "service")
        object.__setattr__(self, "services", services)

    # -- reading ---------------------------------------------------------------------

    def iops(self, kind: IopKind) -> tuple[Iop, ...]:
        """The inputs, outputs or attributes, in declaration order."""
        result: tuple[Iop, ...] = getattr(self, IopKind(kind).plural)
        return result

    def find_iop(self, kind: IopKind, name: str) -> Iop | None:
        """The IOP of that kind and name, or ``None``."""
        return next((iop for iop in self.iops(kind) if iop.name == name), None)

    def get_iop(self, kind: IopKind, name: str) -> Iop:
        """The IOP of that kind and name.

        Raises:
            UnknownNameError: there is none.
        """
        iop = self.find_iop(kind, name)
        if iop is None:
            known = ", ".join(repr(item.name) for item in self.iops(kind)) or "none"
            raise UnknownNameError(
                f"{self.name!r} has no {IopKind(kind).name.lower()} {name!r} (known: {known})"
            )
        return iop

    def find_service(self, name: str) -> Service | None:
        """The service of that name, or ``None``."""
        return next((service for service in self.services if service.name == name), None)

    def get_service(self, name: str) -> Service:
        """The service of that name.

        Raises:
            UnknownNameError: there is none.
        """
        service = self.find_service(name)
        if service is None:
            known = ", ".join(repr(item.name) for item in self.services) or "none"
            raise UnknownNameError(f"{self.name!r} has no service {name!r} (known: {known})")
        return service

    # -- changing (each returns a new definition) ------------------------------------

    def with_iop(self, kind: IopKind, iop: Iop, *, replace_existing: bool = False) -> Self:
        """Add ``iop`` at the end of its kind, or replace the one of the same name in place.

        Raises:
            DefinitionError: the name is taken and ``replace_existing`` is false.
        """
        kind = IopKind(kind)
        iops = self.iops(kind)
        updated = _put(iops, iop, replace_existing, f"{kind.name.lower()} {iop.name!r}")
        return self._with_iops(kind, updated)

    def without_iop(self, kind: IopKind, name: str) -> Self:
        """Remove an IOP.

        Raises:
            UnknownNameError: there is no such IOP.
        """
        self.get_iop(kind, name)
        kept = tuple(iop for iop in self.iops(kind) if iop.name != name)
        return self._with_iops(IopKind(kind), kept)

    def _with_iops(self, kind: IopKind, iops: tuple[Iop, ...]) -> Self:
        if kind is IopKind.INPUT:
            return replace(self, inputs=iops)
        if kind is IopKind.OUTPUT:
            return replace(self, outputs=iops)
        return replace(self, attributes=iops)

    def with_service(self, service: Service, *, replace_existing: bool = False) -> Self:
        """Add ``service`` at the end, or replace the one of the same name in place.

        Raises:
            DefinitionError: the name is taken and ``replace_existing`` is false.
        """
        services = _put(self.services, service, replace_existing, f"service {service.name!r}")
        return replace(self, services=services)

    def without_service(self, name: str) -> Self:
        """Remove a service.

        Raises:
            UnknownNameError: there is no such service.
        """
        self.get_service(name)
        return replace(self, services=tuple(s for s in self.services if s.name != name))


_Named = TypeVar("_Named", Iop, Service)


def _put(
    items: tuple[_Named, ...], item: _Named, replace_existing: bool, what: str
) -> tuple[_Named, ...]:
    updated = list(items)
    for index, existing in enumerate(items):
        if existing.name == item.name:
            if not replace_existing:
                raise DefinitionError(
                    f"{what} already exists; pass replace_existing=True to replace it, or "
                    "choose another name"
                )
            updated[index] = item
            return tuple(updated)
    updated.append(item)
    return tuple(updated)
