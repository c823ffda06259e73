"""Drive a subprocess that prints one JSON object per line and reads JSON commands on stdin.

``JsonLineProcess`` is the one driver behind the test and bench helpers (``IgsPeer`` for a real
Ingescape agent, ``PwPeer`` for a patchwire node, the ``patchwire peers`` CLI...). It starts the
process on this host or inside a ``netns.Host``, always in its own session; reader threads
collect stdout as lines (a line that is not a JSON object becomes ``{"kind": "raw", "line":
...}``) and stderr as text; tests wait on lines with deadlines, never with fixed sleeps. The
process is killed by PID ``kill_grace`` seconds after its own ``max_seconds``, whatever happens.

Also here: ``free_tcp_port``/``loopback_endpoint`` (127.0.0.1 endpoints) and ``child_env``
(the environment of a child that must import the same ``patchwire`` as this process).
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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import IO, Any, Self

from tests.support.netns import Host

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""

Line = dict[str, Any]
Predicate = Callable[[Line], bool] | Mapping[str, Any]
"""Either a callable on a line, or a mapping of fields the line must contain (equal)."""
STOP: Mapping[str, Any] = MappingProxyType({"cmd": "stop"})
"""The ``stop`` command understood by ``igs_peer.py`` and ``pw_peer.py``."""


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0, then release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def loopback_endpoint() -> str:
    """``tcp://127.0.0.1:PORT`` with a port that was free a moment ago."""
    return f"tcp://127.0.0.1:{free_tcp_port()}"


@functools.cache
def patchwire_src() -> Path:
    """Directory holding the ``patchwire`` package this process imports."""
    spec = importlib.util.find_spec("patchwire")
    if spec is None or spec.origin is None:
        raise RuntimeError("patchwire is not importable")
    return Path(spec.origin).resolve().parents[1]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child that must import the same patchwire as this process."""
    env = dict(os.environ)
    parts = [str(patchwire_src()), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env.update(extra or {})
    return env


def matcher(predicate: Predicate) -> Callable[[Line], bool]:
    """``predicate`` as a callable (a mapping matches lines holding those fields)."""
    if callable(predicate):
        return predicate
    expected = dict(predicate)
    return lambda line: all(line.get(k) == v for k, v in expected.items())


class JsonLineProcess:
    """One JSON-lines subprocess with its collected output (context manager: ``stop()``).

    ``argv`` is the command (subclasses may compute it instead, overriding the ``argv``
    property); ``env``/``cwd`` go to ``Popen`` (None: inherited). With ``stamp`` set, every
    line gets that key set to the parent's ``time.monotonic()`` at its arrival, so times
    measured across several processes share one clock. ``stop()`` sends ``stop_command``
    (if any), closes stdin and waits; then it kills by PID.
    """

    label = "process"
    """Name of the process in diagnostics."""
    stop_command: Mapping[str, Any] | None = None
    """Sent by ``stop()`` before closing stdin (None: closing stdin is the stop signal)."""
    kill_grace = 15.0
    """Seconds after ``max_seconds`` at which the process is killed by PID."""
    tail = 30
    """Number of output lines shown in failure messages."""

    def __init__(
        self,
        argv: Sequence[str] = (),
        *,
        host: Host | None = None,
        max_seconds: float = 60.0,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        stamp: str | None = None,
        start: bool = True,
    ) -> None:
        self._argv = list(argv)
        self.host = host
        self.max_seconds = max_seconds
        self.env = None if env is None else dict(env)
        self.cwd = cwd
        self.stamp = stamp
        self.lines: list[Line] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None
        """``time.monotonic()`` just before the ``Popen``."""
        self._stderr: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._threads: list[threading.Thread] = []
        self._killer: threading.Timer | None = None
        self._stdin_lock = threading.Lock()
        self._finished = False
        if start:
            self.start()

    # -- process management ------------------------------------------------------------------

    @property
    def argv(self) -> list[str]:
        """The command line (without the namespace wrapper)."""
        return self._argv

    def start(self) -> None:
        """Start the process, its reader threads and its kill timer."""
        if self.proc is not None:
            raise RuntimeError("already started")
        kw: dict[str, Any] = {
            "stdin": subprocess.PIPE,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "start_new_session": True,
            "env": self.env,
            "cwd": None if self.cwd is None else str(self.cwd),
        }
        self.started_at = time.monotonic()
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
        for thread in self._threads:
            thread.start()
        self._killer = threading.Timer(self.max_seconds + self.kill_grace, self.kill)
        self._killer.daemon = True
        self._killer.start()

    @property
    def pid(self) -> int | None:
        """PID of the process (None before ``start()``)."""
        return None if self.proc is None else self.proc.pid

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> None:
        """SIGKILL the process's group (its own session), by its PID."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def kill9(self, timeout: float = 10.0) -> float:
        """``kill -9`` the process and reap it; returns the monotonic time of the kill."""
        proc = self.proc
        assert proc is not None, "not started"
        assert proc.poll() is None, self.describe()
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
        self._finish()
        return killed_at

    def wait(self, timeout: float) -> int:
        """Wait for the process to end by itself (killed by PID after ``timeout``)."""
        proc = self.proc
        assert proc is not None, "not started"
        if not self._reap(timeout):
            raise AssertionError(f"did not end within {timeout}s\n{self.describe()}")
        return proc.returncode

    def stop(self, timeout: float = 10.0) -> int | None:
        """Send ``stop_command``, close stdin and wait; kill by PID if it does not end in time."""
        proc = self.proc
        if proc is None:
            return None
        if self.stop_command is not None and proc.poll() is None:
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                self.send(self.stop_command)
        self._close_stdin()
        self._reap(timeout)
        return proc.returncode

    def close(self) -> None:
        """Kill (by PID) if still running, and release the pipes."""
        self.kill()
        if self.proc is not None:
            self._reap(10.0)

    def _reap(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the process to end, else kill it by PID and reap it; then
        release the pipes. Whether it ended within ``timeout``."""
        proc = self.proc
        assert proc is not None, "not started"
        try:
            proc.wait(timeout)
            ended = True
        except subprocess.TimeoutExpired:
            self.kill()
            proc.wait(10.0)
            ended = False
        self._finish()
        return ended

    def _close_stdin(self) -> None:
        proc = self.proc
        if proc is not None and proc.stdin is not None:
            with self._stdin_lock, contextlib.suppress(OSError):
                proc.stdin.close()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._killer is not None:
            self._killer.cancel()
        self._close_stdin()
        for thread in self._threads:
            thread.join(5.0)
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

    # -- I/O ---------------------------------------------------------------------------------

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for raw in stream:
            received = time.monotonic()
            text = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                line = json.loads(text)
                if not isinstance(line, dict):
                    raise ValueError("not an object")
            except ValueError:
                line = {"kind": "raw", "line": text}
            if self.stamp is not None:
                line[self.stamp] = received
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
        """Write one JSON command line to the process."""
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise RuntimeError("not started")
        data = (json.dumps(dict(cmd)) + "\n").encode()
        with self._stdin_lock:
            proc.stdin.write(data)
            proc.stdin.flush()

    def request(self, cmd: Mapping[str, Any], timeout: float = 10.0) -> Line:
        """Send a command and return its ``ack`` line."""
        start = self.mark()
        self.send(cmd)
        return self.wait_for({"kind": "ack", "cmd": cmd["cmd"]}, timeout, start=start)

    def mark(self) -> int:
        """Index of the next line (to wait only for what comes after now)."""
        with self._cond:
            return len(self.lines)

    def snapshot(self, kind: str | None = None) -> list[Line]:
        """A copy of the lines received so far (optionally only one ``kind``)."""
        with self._cond:
            return [ln for ln in self.lines if kind is None or ln.get("kind") == kind]

    def find(self, predicate: Predicate, start: int = 0) -> Line | None:
        """The first line from index ``start`` matching ``predicate``, or None."""
        match = matcher(predicate)
        with self._cond:
            return next((ln for ln in self.lines[start:] if match(ln)), None)

    def find_all(self, predicate: Predicate, start: int = 0) -> list[Line]:
        """Every line from index ``start`` matching ``predicate``."""
        match = matcher(predicate)
        with self._cond:
            return [ln for ln in self.lines[start:] if match(ln)]

    def wait_for(self, predicate: Predicate, timeout: float = 10.0, start: int = 0) -> Line:
        """Wait for the first line (from index ``start``) matching ``predicate``.

        Raises AssertionError (with the last lines and stderr) on timeout or when the
        process ends without producing a match.
        """
        match = matcher(predicate)
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

    def wait_ready(self, timeout: float = 15.0) -> Line:
        """Wait for a ``ready`` line (AssertionError if an ``error`` line comes first)."""
        line = self.wait_for(lambda ln: ln.get("kind") in ("ready", "error"), timeout)
        if line["kind"] != "ready":
            raise AssertionError(f"{self.label} failed to start: {line}\n{self.describe()}")
        return line

    def describe(self) -> str:
        """Diagnostics: argv, pid, return code, last output lines and stderr tail."""
        with self._cond:
            tail = self.lines[-self.tail :]
            count = len(self.lines)
        shown = "\n".join("  " + json.dumps(ln)[:400] for ln in tail)
        where = f" in {self.host.ns}" if self.host is not None else ""
        return (
            f"{self.label}{where} pid={self.pid} rc={self.returncode} argv={self.argv}\n"
            f"last {len(tail)} of {count} lines:\n{shown}\n"
            f"stderr tail:\n{self.stderr[-3000:]}"
        )
