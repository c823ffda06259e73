"""Prints the discovery and exit timings measured by the interop tests at the end of the run."""

from __future__ import annotations

from typing import Any

from tests.interop.interop_support import TIMINGS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS:
        return
    terminalreporter.write_sep("-", "patchwire <-> Ingescape timings")
    for line in TIMINGS:
        terminalreporter.write_line(line)
