"""Pytest-friendly driver for ``tests/interop/igs_peer.py`` (a real Ingescape agent).

Each ``IgsPeer`` is one subprocess (the binding keeps process-global state), started
either on this host (broker mode on 127.0.0.1) or inside a ``netns.Host`` (beacon
mode). It is a ``JsonLineProcess`` (``tests/support/jsonproc.py``): its JSON output
lines are collected by a reader thread; tests wait on them with deadlines instead of
sleeping.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.jsonproc import STOP, JsonLineProcess, Predicate, free_tcp_port
from tests.support.netns import Host

__all__ = ["IGS_PEER_SCRIPT", "IgsPeer", "Predicate", "free_tcp_port", "ingescape_available"]

IGS_PEER_SCRIPT = Path(__file__).resolve().parents[1] / "interop" / "igs_peer.py"
"""Path of the agent script."""


@functools.cache
def ingescape_available(python: str | None = None) -> bool:
    """Whether ``python`` (default: this interpreter) can ``import ingescape``."""
    if python is None or python == sys.executable:
        return importlib.util.find_spec("ingescape") is not None
    try:
        res = subprocess.run(
            [python, "-c", "import ingescape"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


class IgsPeer(JsonLineProcess):
    """One ``igs_peer.py`` process with its collected output (context manager).

    ``args`` are igs_peer.py options (``--name``, ``--endpoint``…); ``--max-seconds``
    is added from ``max_seconds``, and the driver also kills the process by PID a
    little after that deadline, whatever happens. ``stamp="rx"`` stamps each line with
    its arrival time. Subclasses may run another script by overriding ``argv``.
    """

    label = "igs_peer"
    stop_command = STOP
    kill_grace = 20.0

    def __init__(
        self,
        args: Sequence[str],
        *,
        python: str | None = None,
        host: Host | None = None,
        max_seconds: float = 60.0,
        stamp: str | None = None,
        start: bool = True,
        **kw: Any,
    ) -> None:
        self.args = list(args)
        self.python = python or sys.executable
        super().__init__(host=host, max_seconds=max_seconds, stamp=stamp, start=start, **kw)

    @property
    def argv(self) -> list[str]:
        """The command line (without the namespace wrapper)."""
        return [
            self.python,
            "-u",
            str(IGS_PEER_SCRIPT),
            *self.args,
            "--max-seconds",
            str(self.max_seconds),
        ]
