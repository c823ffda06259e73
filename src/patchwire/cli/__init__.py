"""The ``patchwire`` command line (also ``python -m patchwire``).

Layer: application. Each subcommand lives in its own module exposing
``register(subparsers)``; the module sets ``func(args) -> int`` on its parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from patchwire._version import __version__

from . import doctor, peers

__all__ = ["main"]

_COMMANDS = (doctor, peers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patchwire",
        description="Find, inspect and drive the agents of a patchwire / Ingescape platform.",
    )
    parser.add_argument("--version", action="version", version=f"patchwire {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
