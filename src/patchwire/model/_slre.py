"""The regular expressions of czmq's ``zrex`` (SLRE 2004-2005), which Ingescape uses for
constraints: both to read a constraint expression and to enforce ``~ regexp``.

Layer: model (pure). This is a re-implementation of the behaviour, written from the
documented syntax and from what real 4.7.0 agents accept (``tests/vectors/model/regex.json``,
``constraints.json``). It differs from Python's :mod:`re` in ways that matter:

* matching works on the UTF-8 *bytes* of a C string (the text stops at its first NUL);
* ``[...]`` has no ranges (``[a-c]`` is the set ``a``, ``-``, ``c``); escapes such as ``\\d``
  inside a set stand for two odd bytes, and bytes >= 0x80 never match a set member
  (``[^...]`` always matches them): ``char`` is signed in the C comparison;
* ``\\s \\S \\d \\D \\a \\A \\w \\W`` are ASCII classes; ``\\n \\r \\t \\0`` are characters; any
  other escaped byte is literal (``\\x41`` matches ``x41``); ``{``, ``}`` and ``]`` are literal;
* no backtracking: ``?`` keeps its match, ``|`` keeps the first alternative that matches
  its own branch (``(a|ab)c`` does not match ``abc``), and ``*``/``+`` only look ahead to the
  end of the enclosing branch or loop body;
* an expression not starting with ``^`` is tried at offsets ``0 .. len-1``: it never
  matches an empty text (``x*`` does not match ``""``, ``^x*$`` does);
* an expression needs at most 256 bytes of compiled code and 256 bytes of literal data.

Where the C code would loop forever (a loop whose body can match nothing, like ``(a*)*``)
the loop stops instead. A quantifier right after ``|`` applies to nothing here (the C code
then reads a stale position).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

__all__ = ["Pattern", "PatternError", "compile_pattern"]

_META: Final = b"|.^$*+?()[\\"
_CODE_LIMIT: Final = 256
_DATA_LIMIT: Final = 256
# Opcode numbers of the SLRE classes: they leak into sets ("[\d]" holds 0x00 and 0x11).
_CLASS_OPCODES: Final = {"s": 15, "S": 16, "d": 17, "D": 18, "a": 19, "A": 20, "w": 21, "W": 22}
_CHARS: Final = {"n": 10, "r": 13, "t": 9, "0": 0}


def _is_space(byte: int) -> bool:
    return byte in b" \t\n\v\f\r"


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _is_alpha(byte: int) -> bool:
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _is_alnum(byte: int) -> bool:
    return _is_digit(byte) or _is_alpha(byte)


_CLASSES: Final[dict[str, tuple[Callable[[int], bool], bool]]] = {
    "s": (_is_space, True),
    "S": (_is_space, False),
    "d": (_is_digit, True),
    "D": (_is_digit, False),
    "a": (_is_alpha, True),
    "A": (_is_alpha, False),
    "w": (_is_alnum, True),
    "W": (_is_alnum, False),
}


class PatternError(ValueError):
    """The expression does not compile; the message is SLRE's."""


@dataclass(frozen=True, slots=True)
class _Exact:
    data: bytes


@dataclass(frozen=True, slots=True)
class _Any:
    pass


@dataclass(frozen=True, slots=True)
class _Set:
    members: frozenset[int]
    negate: bool


@dataclass(frozen=True, slots=True)
class _Class:
    test: Callable[[int], bool]
    expected: bool


@dataclass(frozen=True, slots=True)
class _Anchor:
    at_end: bool


@dataclass(frozen=True, slots=True)
class _Mark:
    group: int
    closing: bool


@dataclass(frozen=True, slots=True)
class _Repeat:
    op: str  # "*", "+", "*?", "+?" or "?"
    body: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Choice:
    branches: tuple[tuple[_Node, ...], ...]


_Node: TypeAlias = _Exact | _Any | _Set | _Class | _Anchor | _Mark | _Repeat | _Choice
_Captures: TypeAlias = dict[int, tuple[int, int]]


class _Compiler:
    """Reads an expression the way ``slre_compile`` does, counting code and data bytes."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.pos = 0
        self.groups = 0
        self.code = 5  # OPEN 0, CLOSE 0, END
        self.data = 0

    def level(self, depth: int) -> list[_Node]:
        branches: list[list[_Node]] = []
        current: list[_Node] = []
        last = 0  # where the atom a quantifier applies to starts
        while self.pos < len(self.source):
            byte = self.source[self.pos]
            self.pos += 1
            char = chr(byte)
            if char in "^$":
                current.append(_Anchor(at_end=char == "$"))
                self.code += 1
            elif char == ".":
                last = len(current)
                current.append(_Any())
                self.code += 1
            elif char == "[":
                last = len(current)
                current.append(self.byte_set())
            elif char == "\\":
                last = len(current)
                current.append(self.escape())
            elif char == "(":
                last = len(current)
                self.groups += 1
                group = self.groups
                inner = self.level(depth + 1)
                if self.pos >= len(self.source):
                    raise PatternError("No closing bracket")
                self.pos += 1
                current.extend([_Mark(group, closing=False), *inner, _Mark(group, closing=True)])
                self.code += 4
            elif char == ")":
                self.pos -= 1
                if depth == 0:
                    raise PatternError("Unbalanced brackets")
                break
            elif char in "*+?":
                op = char
                if char != "?" and self.source[self.pos : self.pos + 1] == b"?":
                    self.pos += 1
                    op += "?"
                self.quantify(current, last, op)
            elif char == "|":
                branches.append(current)
                current, last = [], 0
                self.code += 5  # BRANCH, the END closing each side
            else:
                self.pos -= 1
                last = len(current)
                current.append(self.exact_run())
        if branches:
            return [_Choice((*map(tuple, branches), tuple(current)))]
        return current

    def quantify(self, current: list[_Node], last: int, op: str) -> None:
        self.code += 3  # the quantifier, its offset, the END closing its body
        atom = current[last] if last < len(current) else None
        if isinstance(atom, _Exact) and len(atom.data) > 1:
            current[last] = _Exact(atom.data[:-1])
            current.append(_Repeat(op, (_Exact(atom.data[-1:]),)))
            self.code += 3
            return
        body = tuple(current[last:])
        del current[last:]
        current.append(_Repeat(op, body))

    def exact_run(self) -> _Exact:
        start = self.pos
        while self.pos < len(self.source) and self.source[self.pos] not in _META:
            self.pos += 1
        run = self.source[start : self.pos]
        self.code += 3
        self.data += len(run)
        return _Exact(run)

    def escape(self) -> _Node:
        if self.pos >= len(self.source):  # C reads the terminating NUL (and beyond)
            self.code += 3
            self.data += 1
            return _Exact(b"\x00")
        char = chr(self.source[self.pos])
        self.pos += 1
        if char in _CLASSES:
            self.code += 1
            return _Class(*_CLASSES[char])
        self.code += 3
        self.data += 1
        return _Exact(bytes([_CHARS.get(char, ord(char))]))

    def byte_set(self) -> _Set:
        negate = self.source[self.pos : self.pos + 1] == b"^"
        self.pos += negate
        members: set[int] = set()
        while self.pos < len(self.source):
            byte = self.source[self.pos]
            self.pos += 1
            if byte == ord("]"):
                self.code += 3
                return _Set(frozenset(members), negate)
            if byte == ord("\\"):
                if self.pos >= len(self.source):
                    break
                char = chr(self.source[self.pos])
                self.pos += 1
                if char in _CLASS_OPCODES:
                    members.update((0, _CLASS_OPCODES[char]))
                    self.data += 2
                elif char == "0":
                    members.add(0)
                    self.data += 2
                else:
                    members.add(_CHARS.get(char, ord(char)))
                    self.data += 1
            else:
                members.add(byte)
                self.data += 1
        raise PatternError("No closing ']' bracket")


class _Matcher:
    """Runs compiled nodes over one text with ``match``'s semantics, failed offsets included."""

    def __init__(self, text: bytes) -> None:
        self.text = text

    def run(
        self, nodes: tuple[_Node, ...], index: int, ofs: int, caps: _Captures | None
    ) -> tuple[bool, int]:
        text = self.text
        ok = True
        while ok and index < len(nodes):
            node = nodes[index]
            if isinstance(node, _Exact):
                ok = text.startswith(node.data, ofs)
                ofs += len(node.data) if ok else 0
            elif isinstance(node, _Any | _Set | _Class):
                ok = ofs < len(text) and self.single(node, text[ofs])
                ofs += ok
            elif isinstance(node, _Anchor):
                ok = ofs == (len(text) if node.at_end else 0)
            elif isinstance(node, _Mark):
                if caps is not None:
                    start = caps.get(node.group, (ofs, ofs))[0]
                    caps[node.group] = (start, ofs) if node.closing else (ofs, ofs)
            elif isinstance(node, _Choice):
                saved = ofs
                for branch in node.branches:
                    ok, ofs = self.run(branch, 0, saved, caps)
                    if ok:
                        break
            else:
                ok, ofs = self.repeat(node, nodes, index, ofs, caps)
            index += 1
        return ok, ofs

    @staticmethod
    def single(node: _Any | _Set | _Class, byte: int) -> bool:
        if isinstance(node, _Any):
            return True
        if isinstance(node, _Class):
            return node.test(byte) == node.expected
        # C compares a (signed) char with unsigned set bytes: >= 0x80 never equals.
        member = byte < 0x80 and byte in node.members
        return member != node.negate

    def repeat(
        self, node: _Repeat, nodes: tuple[_Node, ...], index: int, ofs: int, caps: _Captures | None
    ) -> tuple[bool, int]:
        if node.op == "?":
            ok, after = self.run(node.body, 0, ofs, caps)
            return True, after if ok else ofs
        if node.op in ("+", "+?"):
            ok, ofs = self.run(node.body, 0, ofs, caps)
            if not ok:
                return False, ofs
        if node.op in ("*", "+"):
            return True, self.greedy(node.body, nodes, index, ofs)
        return True, self.lazy(node.body, nodes, index, ofs)

    def greedy(
        self, body: tuple[_Node, ...], nodes: tuple[_Node, ...], index: int, ofs: int
    ) -> int:
        matched = ofs
        while True:
            start = ofs
            ok, ofs = self.run(body, 0, ofs, None)
            if not ok:
                return matched
            if self.run(nodes, index + 1, ofs, None)[0]:
                matched = ofs
            if ofs == start:  # SLRE would loop forever here
                return matched

    def lazy(self, body: tuple[_Node, ...], nodes: tuple[_Node, ...], index: int, ofs: int) -> int:
        saved = ofs
        while True:
            start = ofs
            ok, ofs = self.run(body, 0, ofs, None)
            if not ok:
                return saved
            saved = ofs
            ok, ofs = self.run(nodes, index + 1, ofs, None)  # SLRE keeps this offset
            if ok or ofs == start:
                return saved


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled zrex expression."""

    source: str
    _nodes: tuple[_Node, ...]
    _anchored: bool
    _groups: int

    def search(self, text: str) -> tuple[str, ...] | None:
        """Match like ``zrex_matches``: ``None``, or the whole match then each group's text
        (``""`` for a group that took no part)."""
        data = _c_bytes(text)
        matcher = _Matcher(data)
        caps: _Captures = {}
        starts = [0] if self._anchored else range(len(data))
        for start in starts:
            ok, _ = matcher.run(self._nodes, 0, start, caps)
            if ok:
                spans = [caps.get(group, (0, 0)) for group in range(self._groups + 1)]
                return tuple(data[a:b].decode("utf-8", "surrogateescape") for a, b in spans)
        return None

    def matches(self, text: str) -> bool:
        """Whether ``zrex_matches`` would be true for ``text``."""
        return self.search(text) is not None


def _c_bytes(text: str) -> bytes:
    return text.split("\x00", 1)[0].encode("utf-8", "surrogateescape")


def compile_pattern(source: str) -> Pattern:
    """Compile a zrex expression.

    Raises:
        PatternError: SLRE refuses it (an unclosed ``[`` or ``(``, a stray ``)``, or more
            than 256 bytes of code or data).
    """
    raw = _c_bytes(source)
    compiler = _Compiler(raw)
    nodes = compiler.level(0)
    if compiler.code > _CODE_LIMIT:
        raise PatternError("RE is too long (code overflow)")
    if compiler.data > _DATA_LIMIT:
        raise PatternError("RE is too long (data overflow)")
    wrapped = (_Mark(0, closing=False), *nodes, _Mark(0, closing=True))
    return Pattern(source, wrapped, raw.startswith(b"^"), compiler.groups)
