"""Read the vectors of ``tests/vectors/model`` (captured from a real Ingescape 4.7 agent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from patchwire.model import IMPULSION, IopType, Value, default_value

VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "model"


def text(name: str) -> str:
    """A captured JSON text, exactly as the agent printed it."""
    return (VECTOR_DIR / name).read_bytes().decode("utf-8")


def records(name: str) -> Any:
    """The ``records`` of a table file."""
    return json.loads(text(name))["records"]


def typed(record: dict[str, Any]) -> Value:
    """A typed value record: DOUBLE as ``float.hex``, DATA as hex, ``null`` = NULL/default."""
    iop_type = IopType[record["type"]]
    value = record["value"]
    if iop_type is IopType.IMPULSION:
        return IMPULSION
    if value is None:
        return default_value(iop_type)
    if iop_type is IopType.DOUBLE:
        return float.fromhex(value)
    if iop_type is IopType.DATA:
        return bytes.fromhex(value)
    result: Value = value
    return result


def label(record: dict[str, Any]) -> str:
    """A short test id for a typed value record."""
    return f"{record['type']}:{record['value']!r:.24}"
