"""Private network namespaces for tests (root + iproute2 only).

``Lan(n)`` builds a switch namespace with a bridge and ``n`` host namespaces, each
joined to the bridge by a veth pair and addressed in a private ``10.x.y.0/24``; nothing
is attached to the root namespace, so broadcasts never leave the test.
``loopback_namespace()`` gives a namespace with only ``lo`` up (for patchwire beacons
to 127.255.255.255). Every namespace is named ``pw<pid>…``, and is deleted on
``close()``/``__exit__`` and, as a last resort, at interpreter exit, after the
processes started in it have been killed by PID.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self

IP_TIMEOUT = 15.0
"""Seconds allowed for one ``ip`` invocation."""

_counter = itertools.count(1)
_owned: set[str] = set()
_owned_lock = threading.Lock()


class NetnsError(RuntimeError):
    """An ``ip`` command failed."""


def _ip(*args: str) -> str:
    """Run ``ip ARGS`` and return its stdout; raise NetnsError on failure."""
    try:
        res = subprocess.run(
            ["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"ip {' '.join(args)}: {exc}") from exc
    if res.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)} -> rc {res.returncode}: {res.stderr.strip()}")
    return res.stdout


def _unique_prefix() -> str:
    """A name prefix unique to this process and call: ``pw<pid>n<k>``."""
    return f"pw{os.getpid()}n{next(_counter)}"


def _add_namespace(ns: str) -> None:
    """Create namespace ``ns`` (registered for cleanup) with ``lo`` up."""
    _ip("netns", "add", ns)
    with _owned_lock:
        _owned.add(ns)
    _ip("-n", ns, "link", "set", "lo", "up")


def _kill_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def namespace_pids(ns: str) -> list[int]:
    """PIDs of the processes currently inside namespace ``ns``."""
    try:
        out = _ip("netns", "pids", ns)
    except NetnsError:
        return []
    return [int(tok) for tok in out.split() if tok.isdigit()]


def _delete_namespace(ns: str) -> None:
    """Kill what still runs inside ``ns`` (only our own children can), then delete it."""
    with _owned_lock:
        if ns not in _owned:
            return
        _owned.discard(ns)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = namespace_pids(ns)
        if not pids:
            break
        for pid in pids:
            _kill_pid(pid, sig)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and namespace_pids(ns):
            time.sleep(0.02)
    with contextlib.suppress(NetnsError):
        _ip("netns", "del", ns)


def _cleanup_all() -> None:
    """atexit hook: delete every namespace this process still owns."""
    with _owned_lock:
        names = sorted(_owned)
    for ns in names:
        _delete_namespace(ns)


atexit.register(_cleanup_all)


def owned_namespaces() -> set[str]:
    """Names of the namespaces this process created and has not deleted yet."""
    with _owned_lock:
        return set(_owned)


def list_namespaces() -> set[str]:
    """Names of all namespaces known to ``ip netns list``."""
    try:
        out = _ip("netns", "list")
    except NetnsError:
        return set()
    return {line.split()[0] for line in out.splitlines() if line.strip()}


class Host:
    """One network namespace in which commands can be run."""

    def __init__(
        self,
        name: str,
        ns: str,
        device: str,
        ip: str,
        broadcast: str,
        prefixlen: int,
    ) -> None:
        self.name = name
        self.ns = ns
        self.device = device
        self.ip = ip
        self.broadcast = broadcast
        self.prefixlen = prefixlen
        self._procs: list[tuple[subprocess.Popen[Any], bool]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Host({self.name!r}, ns={self.ns!r}, device={self.device!r}, ip={self.ip!r})"

    def command(self, argv: Sequence[str]) -> list[str]:
        """The argv that runs ``argv`` inside this namespace."""
        return ["ip", "netns", "exec", self.ns, *argv]

    def popen(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside the namespace; it is killed (by PID) on cleanup.

        ``ip netns exec`` execs the command, so ``proc.pid`` is the command itself.
        ``start_new_session`` defaults to True so that its whole process group can be
        signalled.
        """
        kw.setdefault("start_new_session", True)
        proc: subprocess.Popen[Any] = subprocess.Popen(self.command(argv), **kw)
        with self._lock:
            self._procs.append((proc, bool(kw["start_new_session"])))
        return proc

    def run(
        self, argv: Sequence[str], timeout: float = 30.0, **kw: Any
    ) -> subprocess.CompletedProcess[Any]:
        """Run ``argv`` inside the namespace and wait (stdout/stderr captured as text)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("check", False)
        return subprocess.run(self.command(argv), timeout=timeout, **kw)

    def kill_processes(self, grace: float = 1.0) -> None:
        """Terminate, then kill, every still-running process started with ``popen``."""
        with self._lock:
            procs, self._procs = self._procs, []
        live = [(p, grp) for p, grp in procs if p.poll() is None]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for proc, group in live:
                if proc.poll() is None:
                    if group:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(proc.pid, sig)
                    else:
                        _kill_pid(proc.pid, sig)
            deadline = time.monotonic() + grace
            for proc, _ in live:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(max(0.0, deadline - time.monotonic()))
            live = [(p, grp) for p, grp in live if p.poll() is None]
            if not live:
                break
        for proc, _ in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5.0)


class LoopbackNamespace(Host):
    """A private namespace with only ``lo`` up; deleted by ``close()``."""

    def __init__(self) -> None:
        ns = f"{_unique_prefix()}o"
        super().__init__("lo", ns, "lo", "127.0.0.1", "127.255.255.255", 8)
        _add_namespace(ns)

    def close(self) -> None:
        """Kill its processes and delete the namespace (idempotent)."""
        self.kill_processes()
        _delete_namespace(self.ns)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def loopback_namespace() -> LoopbackNamespace:
    """Create a namespace with only ``lo`` up (use as a context manager)."""
    return LoopbackNamespace()


def _subnet(seed: int) -> tuple[int, int]:
    """Second and third octets of a private /24 derived from ``seed``."""
    v = seed % (120 * 256)
    return 128 + v // 256, v % 256


class Lan:
    """A bridged LAN of ``n`` host namespaces (context manager).

    Hosts are ``lan.hosts[0..n-1]`` (also ``lan[i]``), named ``h1``…``hN``, with veth
    ``pwv<i>`` and address ``10.x.y.<i>/24``.
    """

    BRIDGE = "br0"

    def __init__(self, n: int = 2) -> None:
        if not 1 <= n <= 250:
            raise ValueError("a Lan has between 1 and 250 hosts")
        self.n = n
        prefix = _unique_prefix()
        self.prefix = prefix
        self.switch_ns = f"{prefix}s"
        x, y = _subnet(os.getpid() * 16 + next(_counter))
        self.subnet = f"10.{x}.{y}.0/24"
        self.hosts: list[Host] = [
            Host(f"h{i}", f"{prefix}h{i}", f"pwv{i}", f"10.{x}.{y}.{i}", f"10.{x}.{y}.255", 24)
            for i in range(1, n + 1)
        ]
        self._namespaces = [self.switch_ns, *(h.ns for h in self.hosts)]
        self._up = False
        self._closed = False

    def __getitem__(self, index: int) -> Host:
        return self.hosts[index]

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts)

    def setup(self) -> Self:
        """Create the namespaces, bridge and veths; wait until every link is up."""
        if self._up:
            return self
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        self._up = True
        return self

    def _build(self) -> None:
        sw = self.switch_ns
        _add_namespace(sw)
        _ip("-n", sw, "link", "add", self.BRIDGE, "type", "bridge")
        _ip("-n", sw, "link", "set", self.BRIDGE, "up")
        for i, host in enumerate(self.hosts, start=1):
            port = f"p{i}"
            _add_namespace(host.ns)
            # Both ends are created directly inside their namespaces: the names
            # never exist in the root namespace, so concurrent runs cannot clash.
            _ip(
                *("link", "add", host.device, "netns", host.ns, "type", "veth"),
                *("peer", "name", port, "netns", sw),
            )
            _ip("-n", sw, "link", "set", port, "master", self.BRIDGE)
            _ip("-n", sw, "link", "set", port, "up")
            address = f"{host.ip}/{host.prefixlen}"
            _ip("-n", host.ns, "addr", "add", address, "brd", host.broadcast, "dev", host.device)
            _ip("-n", host.ns, "link", "set", host.device, "up")
        self._wait_links_up()

    def _wait_links_up(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.hosts)
        while pending:
            pending = [h for h in pending if _operstate(h.ns, h.device) != "UP"]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise NetnsError(f"links not up after {timeout}s: {pending}")
            time.sleep(0.02)

    def close(self) -> None:
        """Kill processes started on the hosts, then delete every namespace (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for host in self.hosts:
            host.kill_processes()
        for ns in self._namespaces:
            _delete_namespace(ns)

    def __enter__(self) -> Self:
        return self.setup()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _operstate(ns: str, device: str) -> str | None:
    try:
        info = json.loads(_ip("-j", "-n", ns, "link", "show", "dev", device))
    except (NetnsError, ValueError):
        return None
    return str(info[0].get("operstate")) if info else None


@functools.cache
def netns_available() -> tuple[bool, str]:
    """Whether namespaces can be used here, and why not if they cannot."""
    if os.geteuid() != 0:
        return False, "network namespaces need root (euid != 0)"
    if shutil.which("ip") is None:
        return False, "iproute2 'ip' command not found"
    ns = f"{_unique_prefix()}probe"
    try:
        _add_namespace(ns)
    except NetnsError as exc:
        return False, f"cannot create a network namespace: {exc}"
    finally:
        _delete_namespace(ns)
    return True, "ok"
