"""Pytest-friendly driver for ``tests/interop/igs_peer.py`` (a real Ingescape agent).

Each ``IgsPeer`` is one subprocess (the binding keeps process-global state), started
either on this host (broker mode on 127.0.0.1) or inside a ``netns.Host`` (beacon
mode). Its JSON output lines are collected by a reader thread; tests wait on them
with deadlines instead of sleeping.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from tests.support.netns import Host

IGS_PEER_SCRIPT = Path(__file__).resolve().parents[1] / "interop" / "igs_peer.py"
"""Path of the agent script."""

Predicate = Callable[[dict[str, Any]], bool] | Mapping[str, Any]
"""Either a callable on a line, or a mapping of fields the line must contain (equal)."""

_TAIL = 25  # lines shown in failure messages


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0, then release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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


def _matcher(predicate: Predicate) -> Callable[[dict[str, Any]], bool]:
    if callable(predicate):
        return predicate
    expected = dict(predicate)
    return lambda line: all(line.get(k) == v for k, v in expected.items())


class IgsPeer:
    """One ``igs_peer.py`` process with its collected output (context manager).

    ``args`` are igs_peer.py options (``--name``, ``--endpoint``…); ``--max-seconds``
    is added from ``max_seconds``, and the driver also kills the process by PID a
    little after that deadline, whatever happens.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        python: str | None = None,
        host: Host | None = None,
        max_seconds: float = 60.0,
        start: bool = True,
    ) -> None:
        self.args = list(args)
        self.python = python or sys.executable
        self.host = host
        self.max_seconds = max_seconds
        self.lines: list[dict[str, Any]] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._threads: list[threading.Thread] = []
        self._killer: threading.Timer | None = None
        self._stdin_lock = threading.Lock()
        if start:
            self.start()

    # -- process management ------------------------------------------------------

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

    def start(self) -> None:
        """Start the process and its reader threads."""
        if self.proc is not None:
            raise RuntimeError("already started")
        kw: dict[str, Any] = {
            "stdin": subprocess.PIPE,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "start_new_session": True,
        }
        if self.host is not None:
            self.proc = self.host.popen(self.argv, **kw)
        else:
            self.proc = subprocess.Popen(self.argv, **kw)
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.start()
        self._killer = threading.Timer(self.max_seconds + 20.0, self.kill)
        self._killer.daemon = True
        self._killer.start()

    @property
    def pid(self) -> int | None:
        """PID of the agent process."""
        return None if self.proc is None else self.proc.pid

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> None:
        """SIGKILL the agent (its own process group, by PID)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Send ``stop``, close stdin, wait; kill by PID if it is still running."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.send({"cmd": "stop"})
        self._close_stdin()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            proc.wait(10.0)
        self._finish()
        return proc.returncode

    def _close_stdin(self) -> None:
        proc = self.proc
        if proc is not None and proc.stdin is not None:
            with self._stdin_lock, contextlib.suppress(OSError):
                proc.stdin.close()

    def _finish(self) -> None:
        if self._killer is not None:
            self._killer.cancel()
        for t in self._threads:
            t.join(5.0)
        proc = self.proc
        if proc is not None:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- I/O ---------------------------------------------------------------------

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for raw in stream:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                line = json.loads(text)
                if not isinstance(line, dict):
                    raise ValueError("not an object")
            except ValueError:
                line = {"kind": "raw", "line": text}
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self._stderr.append(raw.decode("utf-8", "replace"))

    @property
    def stderr(self) -> str:
        """Everything the process wrote to stderr so far."""
        return "".join(self._stderr)

    def send(self, cmd: Mapping[str, Any]) -> None:
        """Write one JSON command line to the agent."""
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise RuntimeError("not started")
        data = (json.dumps(dict(cmd)) + "\n").encode()
        with self._stdin_lock:
            proc.stdin.write(data)
            proc.stdin.flush()

    def request(self, cmd: Mapping[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a command and return its ``ack`` line."""
        with self._cond:
            start = len(self.lines)
        self.send(cmd)
        return self.wait_for({"kind": "ack", "cmd": cmd["cmd"]}, timeout, start=start)

    def snapshot(self, kind: str | None = None) -> list[dict[str, Any]]:
        """A copy of the lines received so far (optionally only one ``kind``)."""
        with self._cond:
            return [ln for ln in self.lines if kind is None or ln.get("kind") == kind]

    def find(self, predicate: Predicate, start: int = 0) -> dict[str, Any] | None:
        """The first line from index ``start`` matching ``predicate``, or None."""
        match = _matcher(predicate)
        with self._cond:
            return next((ln for ln in self.lines[start:] if match(ln)), None)

    def wait_for(
        self, predicate: Predicate, timeout: float = 10.0, start: int = 0
    ) -> dict[str, Any]:
        """Wait for the first line (from index ``start``) matching ``predicate``.

        Raises AssertionError (with the last lines and stderr) on timeout or when the
        process ends without producing a match.
        """
        match = _matcher(predicate)
        deadline = time.monotonic() + timeout
        with self._cond:
            pos = start
            while True:
                for line in self.lines[pos:]:
                    if match(line):
                        return line
                pos = max(pos, len(self.lines))
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    break
                self._cond.wait(remaining)
        why = "process ended" if self._eof else f"timeout after {timeout}s"
        raise AssertionError(f"{why} waiting for {predicate!r}\n{self.describe()}")

    def wait_ready(self, timeout: float = 15.0) -> dict[str, Any]:
        """Wait for ``ready`` (AssertionError if ``error`` comes first)."""
        line = self.wait_for(lambda ln: ln.get("kind") in ("ready", "error"), timeout)
        if line["kind"] != "ready":
            raise AssertionError(f"agent failed to start: {line}\n{self.describe()}")
        return line

    def describe(self) -> str:
        """Diagnostics: argv, pid, return code, last output lines and stderr tail."""
        with self._cond:
            tail = self.lines[-_TAIL:]
        shown = "\n".join("  " + json.dumps(ln)[:400] for ln in tail)
        where = f" in {self.host.ns}" if self.host is not None else ""
        return (
            f"igs_peer{where} pid={self.pid} rc={self.returncode} argv={self.argv}\n"
            f"last {len(tail)} of {len(self.lines)} lines:\n{shown}\n"
            f"stderr tail:\n{self.stderr[-3000:]}"
        )
