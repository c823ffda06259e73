"""IOP constraints in Ingescape's syntax: ``min N``, ``max N``, ``[A, B]`` and ``~ regexp``.

Layer: model (pure).

Invariants:

* :func:`parse_constraint` accepts exactly what ``model_parse_constraint`` of Ingescape 4.7
  accepts (``src/igs_model.c``; checked against a real agent in
  ``tests/vectors/model/constraints.json``). Ingescape finds the syntax with czmq regular
  expressions *searched* in the text, so ``"xmin 5 extra"`` is ``min 5`` while ``"min 5."``
  is refused; numbers go through ``atoi``/``atof`` (``"max 1e3"`` on an INTEGER is
  ``max 1``). MIN and MAX and ranges need an INTEGER or DOUBLE IOP, ``~`` a STRING one.
* ``str(constraint)`` is Ingescape's export: ``min %d`` / ``min %f``, ``[%d, %d]`` /
  ``[%f, %f]``, ``~ pattern``.
* Regular expressions use czmq's SLRE dialect (see :mod:`patchwire.model._slre`): ``[a-z]``
  is the three characters ``a``, ``-`` and ``z``.
* Stricter than Ingescape (which keeps them): a range whose minimum is above its maximum
  and infinite bounds are refused, because they would refuse every value or could not be
  read back; so is a regular expression that Ingescape would read back as another kind
  (``~ amin 1`` is ``min 1`` for Ingescape).
* :meth:`Constraint.admits` is the check an enforcing agent runs *before* converting the
  written value (``model_write``): it sees the sender's value, not the converted one.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import Enum
from typing import Final, final

from patchwire.errors import DefinitionError, ValueTypeError

from ._slre import Pattern, PatternError, compile_pattern
from .values import (
    INT32_MAX,
    INT32_MIN,
    Impulsion,
    IopType,
    Value,
    c_atof,
    c_atoi,
    c_double_to_int,
    c_format_double,
    type_of_value,
)

__all__ = ["Constraint", "ConstraintKind", "parse_constraint"]

# The expressions of model_parse_constraint, tried in this order.
_NUMBER: Final = r"[+-]?(\d*[.])?\d+"
_MIN: Final = compile_pattern(f"min ({_NUMBER})")
_MAX: Final = compile_pattern(f"max ({_NUMBER})")
_RANGE: Final = compile_pattern(rf"\[({_NUMBER})\s*,\s*({_NUMBER})\]")
_REGEXP: Final = compile_pattern("~ ([^\n]+)")


class ConstraintKind(Enum):
    """What a constraint restricts."""

    MIN = "min"
    MAX = "max"
    RANGE = "range"
    REGEXP = "regexp"


_NUMERIC: Final = (IopType.INTEGER, IopType.DOUBLE)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Constraint:
    """A constraint on the values of one INTEGER, DOUBLE or STRING IOP.

    ``minimum``/``maximum`` are ``int`` for an INTEGER IOP and ``float`` for a DOUBLE one;
    ``pattern`` is the regular expression of a REGEXP constraint. Build one with
    :func:`parse_constraint` or with the class methods.
    """

    kind: ConstraintKind
    type: IopType
    minimum: int | float | None = None
    maximum: int | float | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        kind, iop_type = ConstraintKind(self.kind), IopType(self.type)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "type", iop_type)
        if kind is ConstraintKind.REGEXP:
            self._check_regexp(iop_type)
            return
        if iop_type not in _NUMERIC:
            raise DefinitionError(
                f"constraint: a {kind.value} constraint needs an INTEGER or DOUBLE IOP, not "
                f"{iop_type.name}; use '~ regexp' for a STRING or remove the constraint"
            )
        wanted = {
            ConstraintKind.MIN: ("minimum",),
            ConstraintKind.MAX: ("maximum",),
            ConstraintKind.RANGE: ("minimum", "maximum"),
        }[kind]
        for field in ("minimum", "maximum", "pattern"):
            value = getattr(self, field)
            if field in wanted:
                object.__setattr__(self, field, self._bound(field, value))
            elif value is not None:
                raise DefinitionError(
                    f"constraint.{field}: a {kind.value} constraint has no {field}; leave it None"
                )
        if kind is ConstraintKind.RANGE:
            assert self.minimum is not None
            assert self.maximum is not None
            if self.minimum > self.maximum:
                raise DefinitionError(
                    f"constraint: range [{self.minimum}, {self.maximum}] has its minimum "
                    "above its maximum; swap the bounds"
                )

    def _check_regexp(self, iop_type: IopType) -> None:
        if iop_type is not IopType.STRING:
            raise DefinitionError(
                f"constraint: a regexp constraint needs a STRING IOP, not {iop_type.name}; "
                "use min, max or [min, max] for numbers or remove the constraint"
            )
        if self.minimum is not None or self.maximum is not None:
            raise DefinitionError(
                "constraint.minimum/maximum: a regexp constraint has no bounds; leave them None"
            )
        if not isinstance(self.pattern, str) or not self.pattern:
            raise DefinitionError("constraint.pattern: give a non-empty regular expression")
        if "\n" in self.pattern or "\x00" in self.pattern:
            raise DefinitionError(
                "constraint.pattern: Ingescape stops the expression at a newline or NUL; "
                "remove it (use \\n in the expression to match a newline)"
            )
        _compile(self.pattern)
        expression = f"~ {self.pattern}"
        for kind, syntax in ((ConstraintKind.MIN, _MIN), (ConstraintKind.MAX, _MAX)):
            if syntax.matches(expression):
                raise DefinitionError(
                    f"constraint.pattern '{self.pattern}': Ingescape would read '{expression}' "
                    f"as a {kind.value} constraint; write it differently (e.g. [{kind.value[0]}]"
                    f"{kind.value[1:]})"
                )
        if _RANGE.matches(expression):
            raise DefinitionError(
                f"constraint.pattern '{self.pattern}': Ingescape would read '{expression}' as a "
                "range; write it differently (e.g. [[] for a literal [)"
            )

    def _bound(self, field: str, value: object) -> int | float:
        if self.type is IopType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise DefinitionError(
                    f"constraint.{field}: an INTEGER IOP needs an int bound, got {value!r}"
                )
            if not INT32_MIN <= value <= INT32_MAX:
                raise DefinitionError(
                    f"constraint.{field}: {value} does not fit a 32-bit INTEGER; use a bound "
                    f"between {INT32_MIN} and {INT32_MAX}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DefinitionError(
                f"constraint.{field}: a DOUBLE IOP needs a float bound, got {value!r}"
            )
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise DefinitionError(
                f"constraint.{field}: {value} is not finite; Ingescape could not read it back, "
                "use a finite bound"
            )
        return value

    @classmethod
    def at_least(cls, iop_type: IopType, minimum: float) -> Constraint:
        """``min minimum``."""
        return cls(kind=ConstraintKind.MIN, type=iop_type, minimum=minimum)

    @classmethod
    def at_most(cls, iop_type: IopType, maximum: float) -> Constraint:
        """``max maximum``."""
        return cls(kind=ConstraintKind.MAX, type=iop_type, maximum=maximum)

    @classmethod
    def between(cls, iop_type: IopType, minimum: float, maximum: float) -> Constraint:
        """``[minimum, maximum]``, both included."""
        return cls(kind=ConstraintKind.RANGE, type=iop_type, minimum=minimum, maximum=maximum)

    @classmethod
    def matching(cls, pattern: str) -> Constraint:
        """``~ pattern`` for a STRING IOP (czmq's SLRE dialect)."""
        return cls(kind=ConstraintKind.REGEXP, type=IopType.STRING, pattern=pattern)

    @property
    def expression(self) -> str:
        """The text Ingescape exports for this constraint."""
        if self.kind is ConstraintKind.REGEXP:
            return f"~ {self.pattern}"
        if self.kind is ConstraintKind.RANGE:
            return f"[{self._format(self.minimum)}, {self._format(self.maximum)}]"
        bound = self.minimum if self.kind is ConstraintKind.MIN else self.maximum
        return f"{self.kind.value} {self._format(bound)}"

    def _format(self, bound: int | float | None) -> str:
        assert bound is not None
        return str(bound) if self.type is IopType.INTEGER else c_format_double(float(bound))

    def __str__(self) -> str:
        return self.expression

    def admits(self, value: Value | bytearray | memoryview) -> bool:
        """Whether an agent enforcing constraints accepts ``value`` written in this IOP.

        ``value`` is the written value, of any type: numbers are compared after Ingescape's
        pre-conversion (C cast of a DOUBLE to INTEGER, ``atoi``/``atof`` of a STRING, a DATA
        of exactly 4 or 8 bytes, 0 for an empty value); strings are matched after
        ``"%d"``/``"%f"`` formatting. An empty value never passes a regexp constraint.
        Ingescape reads a BOOL through an ``int *`` here (undefined behaviour); patchwire
        uses 0 or 1.
        """
        if self.kind is ConstraintKind.REGEXP:
            text = _as_text(value)
            return text is not None and _compile(str(self.pattern)).matches(text)
        number = _as_number(value, self.type)
        if number is None:
            return False
        low = self.minimum if self.kind is not ConstraintKind.MAX else None
        high = self.maximum if self.kind is not ConstraintKind.MIN else None
        return not ((high is not None and number > high) or (low is not None and number < low))

    def check(self, value: Value | bytearray | memoryview, *, name: str = "value") -> None:
        """Raise unless :meth:`admits` accepts ``value``; ``name`` is the IOP's name.

        Raises:
            ValueTypeError: the value breaks the constraint.
        """
        if not self.admits(value):
            raise ValueTypeError(
                f"{name}: {value!r:.60} breaks the constraint '{self}'; send a value that "
                "satisfies it, or stop enforcing constraints"
            )


def _compile(pattern: str) -> Pattern:
    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise DefinitionError(
            f"constraint: regular expression '{pattern}' is invalid for Ingescape ({exc}); "
            "fix the expression (czmq SLRE syntax: no ranges, no {n})"
        ) from None


def _empty(value: object) -> bool:
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value) == 0
    return isinstance(value, Impulsion)


def _as_number(value: Value | bytearray | memoryview, iop_type: IopType) -> int | float | None:
    integer = iop_type is IopType.INTEGER
    type_of_value(value)  # refuse what is not a value
    if _empty(value):
        return 0 if integer else 0.0
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != (4 if integer else 8):
            return None
        return int(struct.unpack("<i", raw)[0]) if integer else float(struct.unpack("<d", raw)[0])
    if isinstance(value, str):
        return c_atoi(value) if integer else c_atof(value)
    if isinstance(value, float):
        return c_double_to_int(value) if integer else value
    assert isinstance(value, int)  # bool or int
    return int(value) if integer else float(value)


def _as_text(value: Value | bytearray | memoryview) -> str | None:
    type_of_value(value)  # refuse what is not a value
    if _empty(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return c_format_double(value)
    if isinstance(value, int):  # bool or int
        return str(int(value))
    assert isinstance(value, bytes | bytearray | memoryview)
    raw = bytes(value)
    if raw[-1] != 0:
        return None
    # model_write falls through to the INTEGER case here: a NUL-terminated DATA is checked
    # as "%d" of its first four bytes (fewer bytes: C reads beyond them; we pad with 0).
    return str(struct.unpack("<i", raw[:4].ljust(4, b"\x00"))[0])


def parse_constraint(expression: str, iop_type: IopType) -> Constraint:
    """Read a constraint the way Ingescape does, for an IOP of ``iop_type``.

    Raises:
        DefinitionError: Ingescape refuses it (syntax, wrong IOP type, an invalid regular
            expression, a range with its minimum above its maximum) or patchwire does (an
            infinite bound); the message says which and how to fix it.
    """
    iop_type = IopType(iop_type)
    for kind, pattern in ((ConstraintKind.MIN, _MIN), (ConstraintKind.MAX, _MAX)):
        hits = pattern.search(expression)
        if hits is not None:
            bound = _number(hits[1], iop_type, kind)
            if kind is ConstraintKind.MIN:
                return Constraint(kind=kind, type=iop_type, minimum=bound)
            return Constraint(kind=kind, type=iop_type, maximum=bound)
    hits = _RANGE.search(expression)
    if hits is not None:
        low = _number(hits[1], iop_type, ConstraintKind.RANGE)
        high = _number(hits[3], iop_type, ConstraintKind.RANGE)
        return Constraint(kind=ConstraintKind.RANGE, type=iop_type, minimum=low, maximum=high)
    hits = _REGEXP.search(expression)
    if hits is not None:
        if iop_type is not IopType.STRING:
            raise DefinitionError(
                f"constraint '{expression}': a regexp constraint needs a STRING IOP, not "
                f"{iop_type.name}; use min, max or [min, max] or remove the constraint"
            )
        return Constraint.matching(hits[1])
    raise DefinitionError(
        f"constraint '{expression}' is not Ingescape syntax: write 'min 0', 'max 10', "
        "'[0, 10]' (one space after min/max, none inside the brackets' edges) or '~ regexp'"
    )


def _number(text: str, iop_type: IopType, kind: ConstraintKind) -> int | float:
    if iop_type is IopType.INTEGER:
        return c_atoi(text)
    if iop_type is IopType.DOUBLE:
        return c_atof(text)
    raise DefinitionError(
        f"constraint: a {kind.value} constraint needs an INTEGER or DOUBLE IOP, not "
        f"{iop_type.name}; use '~ regexp' for a STRING or remove the constraint"
    )
