"""An agent's mapping: which outputs of which agents feed its inputs, and its splits.

Layer: model (pure). Records are frozen, slotted, keyword-only dataclasses that validate
themselves and raise :class:`~patchwire.errors.MappingError`.

Invariants:

* A mapping lives on the *receiving* agent: entry ``(input, agent, output)`` means "my
  input ``input`` takes the values of output ``output`` of every agent named ``agent``".
  A split entry has the same shape and makes ``agent`` share the work of that output among
  its workers (spec §9).
* Names are non-empty, without ``\\t \\v \\r \\n \\f`` or NUL, at most 1024 UTF-8 bytes. They
  need not exist: Ingescape keeps such entries, inactive. ``agent`` may be ``"*"``.
* Each entry has Ingescape's id: the 64-bit djb2 hash of ``"input.agent.output"``
  (``mapping_djb2_hash``, ``src/igs_mapping.c``); ids are unique among the mappings and
  among the splits. Order is insertion order, as in Ingescape's export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Self, TypeVar, final

from patchwire.errors import MappingError, UnknownNameError

__all__ = ["Mapping", "MappingEntry", "SplitEntry", "mapping_id"]

_NAME_LIMIT: Final = 1024
_STRIPPED: Final = "\t\v\r\n\f\x00"
_MASK: Final = 2**64 - 1


def mapping_id(input: str, agent: str, output: str) -> int:
    """Ingescape's id of a mapping or split entry: djb2 over ``input.agent.output``.

    ``hash = hash * 33 + byte`` from 5381, on the UTF-8 bytes, wrapping at 64 bits.
    """
    value = 5381
    for byte in f"{input}.{agent}.{output}".encode("utf-8", "surrogateescape"):
        value = (value * 33 + byte) & _MASK
    return value


def _check_name(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise MappingError(f"{field} must be a str, got {type(value).__name__} {value!r:.40}")
    if not value:
        raise MappingError(f"{field} is empty: name the {field.rsplit('.', 1)[-1]}")
    if any(char in value for char in _STRIPPED):
        raise MappingError(
            f"{field} {value!r:.60} contains a tab, vertical tab, carriage return, newline, "
            "form feed or NUL, which Ingescape removes; remove it"
        )
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise MappingError(f"{field} {value!r:.60} is not valid Unicode text") from None
    if size > _NAME_LIMIT:
        raise MappingError(
            f"{field} is {size} bytes long (UTF-8); Ingescape keeps at most {_NAME_LIMIT}: "
            "shorten it"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Link:
    input: str
    agent: str
    output: str

    def __post_init__(self) -> None:
        kind = type(self).__name__
        for field in ("input", "agent", "output"):
            _check_name(getattr(self, field), f"{kind}.{field}")

    @property
    def id(self) -> int:
        """Ingescape's id of this entry (:func:`mapping_id`)."""
        return mapping_id(self.input, self.agent, self.output)

    def __str__(self) -> str:
        return f"{self.input} <- {self.agent}.{self.output}"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MappingEntry(_Link):
    """Input ``input`` follows output ``output`` of the agents named ``agent``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SplitEntry(_Link):
    """Input ``input`` takes a share of the values of ``agent``'s output ``output``."""


_Entry = TypeVar("_Entry", MappingEntry, SplitEntry)


def _entries(values: object, item_type: type[_Entry], field: str) -> tuple[_Entry, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise MappingError(f"{field} must be a sequence of {item_type.__name__}")
    items = tuple(values)
    seen: dict[int, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, item_type):
            raise MappingError(
                f"{field}[{index}] must be a {item_type.__name__}, got {type(item).__name__}"
            )
        if item.id in seen:
            first = items[seen[item.id]]
            same = "the same entry" if first == item else f"'{first}' (same djb2 id)"
            raise MappingError(
                f"{field}[{index}] '{item}' duplicates {same} at {field}[{seen[item.id]}]; "
                "drop the duplicate"
            )
        seen[item.id] = index
    return items


def _find(items: tuple[_Entry, ...], key: _Entry | int) -> _Entry | None:
    wanted = key if isinstance(key, int) else key.id
    return next((item for item in items if item.id == wanted), None)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    """The mapping JSON of one agent: its mapping entries and its split entries."""

    mappings: tuple[MappingEntry, ...] = ()
    splits: tuple[SplitEntry, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "mappings", _entries(self.mappings, MappingEntry, "Mapping.mappings")
        )
        object.__setattr__(self, "splits", _entries(self.splits, SplitEntry, "Mapping.splits"))

    @property
    def is_empty(self) -> bool:
        """No mapping and no split entry."""
        return not (self.mappings or self.splits)

    def find_mapping(self, key: MappingEntry | int) -> MappingEntry | None:
        """The mapping entry equal to ``key`` or with that id, or ``None``."""
        return _find(self.mappings, key)

    def find_split(self, key: SplitEntry | int) -> SplitEntry | None:
        """The split entry equal to ``key`` or with that id, or ``None``."""
        return _find(self.splits, key)

    def with_mapping(self, entry: MappingEntry) -> Self:
        """Add a mapping entry at the end; already there, the mapping is returned as is
        (``igs_mapping_add`` answers the existing id)."""
        if self.find_mapping(entry) is not None:
            return self
        return type(self)(mappings=(*self.mappings, entry), splits=self.splits)

    def without_mapping(self, key: MappingEntry | int) -> Self:
        """Remove a mapping entry, given as itself or by id.

        Raises:
            UnknownNameError: there is no such entry.
        """
        found = self.find_mapping(key)
        if found is None:
            raise UnknownNameError(f"no mapping entry {_describe(key)} to remove")
        kept = tuple(item for item in self.mappings if item is not found)
        return type(self)(mappings=kept, splits=self.splits)

    def with_split(self, entry: SplitEntry) -> Self:
        """Add a split entry at the end; already there, the mapping is returned as is."""
        if self.find_split(entry) is not None:
            return self
        return type(self)(mappings=self.mappings, splits=(*self.splits, entry))

    def without_split(self, key: SplitEntry | int) -> Self:
        """Remove a split entry, given as itself or by id.

        Raises:
            UnknownNameError: there is no such entry.
        """
        found = self.find_split(key)
        if found is None:
            raise UnknownNameError(f"no split entry {_describe(key)} to remove")
        kept = tuple(item for item in self.splits if item is not found)
        return type(self)(mappings=self.mappings, splits=kept)


def _describe(key: object) -> str:
    return f"with id {key}" if isinstance(key, int) else f"'{key}'"
