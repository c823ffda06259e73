"""What an agent *is*: value types, definitions, mappings and their Ingescape JSON.

Layer: model (pure). No I/O, no clock, no threads: only the standard library and
:mod:`patchwire.errors` are imported (``tests/test_architecture.py`` checks it). Every record
is a frozen, slotted, keyword-only dataclass that validates itself.

* :mod:`~patchwire.model.values`: :class:`IopType`, :data:`IMPULSION`, Ingescape's
  conversion matrix (:func:`convert`);
* :mod:`~patchwire.model.constraints`: ``min``/``max``/``[a, b]``/``~ regexp`` constraints;
* :mod:`~patchwire.model.definition`: :class:`Definition`, :class:`Iop`, :class:`Service`,
  :class:`Argument`, :class:`Reply`;
* :mod:`~patchwire.model.mapping`: :class:`Mapping`, :class:`MappingEntry`,
  :class:`SplitEntry`, :func:`mapping_id`;
* :mod:`~patchwire.model.jsonio`: Ingescape-compatible JSON in and out.
"""

from __future__ import annotations

from .constraints import Constraint, ConstraintKind, parse_constraint
from .definition import Argument, Definition, Iop, IopKind, Reply, Service
from .jsonio import (
    CURRENT_PROTOCOL,
    definition_from_json,
    definition_to_dict,
    definition_to_json,
    mapping_from_json,
    mapping_to_dict,
    mapping_to_json,
)
from .mapping import Mapping, MappingEntry, SplitEntry, mapping_id
from .values import (
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

__all__ = [
    "CURRENT_PROTOCOL",
    "IMPULSION",
    "Argument",
    "Constraint",
    "ConstraintKind",
    "Definition",
    "Impulsion",
    "Iop",
    "IopKind",
    "IopType",
    "Mapping",
    "MappingEntry",
    "Reply",
    "Service",
    "SplitEntry",
    "Value",
    "check_value",
    "convert",
    "default_value",
    "definition_from_json",
    "definition_to_dict",
    "definition_to_json",
    "iop_type_of",
    "mapping_from_json",
    "mapping_id",
    "mapping_to_dict",
    "mapping_to_json",
    "parse_constraint",
    "python_type_of",
    "type_of_value",
]
