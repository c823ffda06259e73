"""Pytest-friendly driver for ``tests/support/pw_peer.py`` (a patchwire Node in a subprocess).

Each ``PwPeer`` is one process, started on this host (broker mode on 127.0.0.1) or inside a
``netns.Host`` (beacon mode in a private namespace). A reader thread collects its JSON lines and
stamps each with ``rx``, the parent's ``time.monotonic()`` at receipt, so times measured across
several processes share one clock. Tests wait on lines with deadlines, never with fixed sleeps.

The child imports the same ``patchwire`` as the test process (its source directory is put first
on the child's ``PYTHONPATH``), and is killed by PID shortly after its own ``--max-seconds``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
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

import pytest

import patchwire

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.support.netns import Host  # noqa: E402

PW_PEER_SCRIPT = _ROOT / "tests" / "support" / "pw_peer.py"
PATCHWIRE_SRC = Path(patchwire.__file__).resolve().parents[1]
"""Directory holding the ``patchwire`` package this process imported."""

Line = dict[str, Any]
Spawn = Callable[..., "PwPeer"]
"""The ``spawn`` fixture: ``spawn(name, args, host=None, max_seconds=...)`` -> PwPeer."""
Predicate = Callable[[Line], bool] | Mapping[str, Any]

_TAIL = 30
_ports = itertools.count(random.randrange(20000, 29000, 50))


def unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, or fail when the ``CI`` variable is set."""
    if os.environ.get("CI"):
        pytest.fail(f"prerequisite missing on CI: {reason}")
    pytest.skip(reason)


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child that must import the same patchwire as this process."""
    env = dict(os.environ)
    parts = [str(PATCHWIRE_SRC), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env.update(extra or {})
    return env


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def loopback_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_tcp_port()}"


def beacon_port() -> int:
    """A UDP port for one test's beacons (they only travel inside that test's namespace)."""
    return next(_ports)


def _matcher(predicate: Predicate) -> Callable[[Line], bool]:
    if callable(predicate):
        return predicate
    expected = dict(predicate)
    return lambda line: all(line.get(k) == v for k, v in expected.items())


def event(type_: str, **fields: Any) -> Callable[[Line], bool]:
    """Predicate: an ``event`` line of class ``type_`` whose fields equal ``fields``."""

    def match(line: Line) -> bool:
        return (
            line.get("kind") == "event"
            and line.get("type") == type_
            and all(line.get(k) == v for k, v in fields.items())
        )

    return match


class JsonProcess:
    """A subprocess printing one JSON object per line, collected by a reader thread.

    Started on this host or inside ``host`` (a namespace), in its own session; killed by PID
    ``max_seconds`` + 15 s after start whatever happens. Not JSON lines become
    ``{"kind": "raw", "line": ...}``.
    """

    label = "process"

    def __init__(
        self,
        argv: Sequence[str],
        *,
        host: Host | None = None,
        max_seconds: float = 60.0,
        start: bool = True,
    ) -> None:
        self._argv = list(argv)
        self.host = host
        self.max_seconds = max_seconds
        self.lines: list[Line] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None
        self._stderr: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._threads: list[threading.Thread] = []
        self._killer: threading.Timer | None = None
        self._stdin_lock = threading.Lock()
        self._finished = False
        if start:
            self.start()

    @property
    def argv(self) -> list[str]:
        return self._argv

    def start(self) -> None:
        if self.proc is not None:
            raise RuntimeError("already started")
        kw: dict[str, Any] = {
            "stdin": subprocess.PIPE,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "start_new_session": True,
            "env": child_env(),
            "cwd": str(_ROOT),
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
        self._killer = threading.Timer(self.max_seconds + 15.0, self.kill)
        self._killer.daemon = True
        self._killer.start()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> None:
        """SIGKILL the process, by its PID."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGKILL)

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
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            proc.wait(10.0)
            self._finish()
            raise AssertionError(f"did not end within {timeout}s\n{self.describe()}") from None
        self._finish()
        return proc.returncode

    def stop(self, timeout: float = 10.0) -> int | None:
        """Close stdin and wait; kill by PID if it does not end in time."""
        proc = self.proc
        if proc is None:
            return None
        self._close_stdin()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            proc.wait(10.0)
        self._finish()
        return proc.returncode

    def close(self) -> None:
        """Kill (by PID) if still running, and release the pipes."""
        self.kill()
        if self.proc is not None:
            self.proc.wait(10.0)
        self._finish()

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

    # -- output ------------------------------------------------------------------------------

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
            line["rx"] = received
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
        return "".join(self._stderr)

    def mark(self) -> int:
        """Index of the next line (to wait only for what comes after now)."""
        with self._cond:
            return len(self.lines)

    def find(self, predicate: Predicate, start: int = 0) -> Line | None:
        match = _matcher(predicate)
        with self._cond:
            return next((ln for ln in self.lines[start:] if match(ln)), None)

    def find_all(self, predicate: Predicate, start: int = 0) -> list[Line]:
        match = _matcher(predicate)
        with self._cond:
            return [ln for ln in self.lines[start:] if match(ln)]

    def wait_for(self, predicate: Predicate, timeout: float = 10.0, start: int = 0) -> Line:
        """The first line from ``start`` matching ``predicate``; AssertionError on timeout/EOF."""
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

    def describe(self) -> str:
        with self._cond:
            tail = self.lines[-_TAIL:]
            count = len(self.lines)
        shown = "\n".join("  " + json.dumps(ln)[:400] for ln in tail)
        where = f" in {self.host.ns}" if self.host is not None else ""
        return (
            f"{self.label}{where} pid={self.pid} rc={self.returncode} argv={self.argv}\n"
            f"last {len(tail)} of {count} lines:\n{shown}\n"
            f"stderr tail:\n{self.stderr[-3000:]}"
        )


class PwPeer(JsonProcess):
    """One ``pw_peer.py`` process: a patchwire Node driven by JSON commands."""

    def __init__(
        self,
        name: str,
        args: Sequence[str] = (),
        *,
        host: Host | None = None,
        max_seconds: float = 60.0,
        start: bool = True,
    ) -> None:
        self.name = name
        self.label = f"pw_peer {name!r}"
        self.uuid: str | None = None
        self.endpoint: str | None = None
        argv = [
            sys.executable,
            "-u",
            str(PW_PEER_SCRIPT),
            "--name",
            name,
            *args,
            "--max-seconds",
            str(max_seconds),
        ]
        super().__init__(argv, host=host, max_seconds=max_seconds, start=start)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask for a clean stop (the node says goodbye), wait; kill by PID if needed."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                self.send({"cmd": "stop"})
        return super().stop(timeout)

    def send(self, cmd: Mapping[str, Any]) -> None:
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise RuntimeError("not started")
        data = (json.dumps(dict(cmd)) + "\n").encode()
        with self._stdin_lock:
            proc.stdin.write(data)
            proc.stdin.flush()

    def request(self, cmd: Mapping[str, Any], timeout: float = 10.0) -> Line:
        """Send a command and return its ``ack`` line (AssertionError if it reports an error)."""
        start = self.mark()
        self.send(cmd)
        ack = self.wait_for({"kind": "ack", "cmd": cmd["cmd"]}, timeout, start=start)
        assert "error" not in ack, f"{cmd} failed: {ack}\n{self.describe()}"
        return ack

    def wait_event(self, type_: str, timeout: float = 10.0, start: int = 0, **fields: Any) -> Line:
        return self.wait_for(event(type_, **fields), timeout, start)

    def wait_ready(self, timeout: float = 20.0) -> Line:
        line = self.wait_for(lambda ln: ln.get("kind") in ("ready", "error"), timeout)
        if line["kind"] != "ready":
            raise AssertionError(f"pw_peer failed to start: {line}\n{self.describe()}")
        self.uuid = line["uuid"]
        self.endpoint = line["endpoint"]
        return line

    def peers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request({"cmd": "peers"})["result"]
        return result

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self.request({"cmd": "stats"})["result"]
        return result

    def entered(self) -> dict[str, Line]:
        """PeerEntered lines by peer id (the last one for each id)."""
        return {ln["peer"]: ln for ln in self.find_all(event("PeerEntered"))}


def wait_all(
    condition: Callable[[], bool], timeout: float, what: str, *peers: JsonProcess
) -> float:
    """Poll ``condition`` (cheap, in-memory) until true; returns the monotonic time it held.

    Wakes on any new line of ``peers``; AssertionError naming ``what`` at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.monotonic()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            details = "\n".join(p.describe() for p in peers)
            raise AssertionError(f"timeout after {timeout}s waiting for {what}\n{details}")
        # A bounded wait on the first process's output: new lines wake it early, and the
        # slice bounds the latency of conditions that depend on the others.
        with peers[0]._cond:
            peers[0]._cond.wait(min(remaining, 0.05))
