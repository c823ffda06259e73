"""How long discovery takes: patchwire and Ingescape 4.7, broker (gossip) and beacon (UDP) mode.

    python bench/discovery.py                 # 5 repetitions per case, ~20 s
    python bench/discovery.py --quick         # 2 repetitions, ~10 s
    python bench/discovery.py --repeat 9 --out /tmp/results --only pw_pw_broker,pw_igs_broker

Every case is timed from a "start" moment to the moment *both* sides have reported the other
(patchwire ``PeerEntered`` / Ingescape ``PEER_ENTERED``), on this process's CLOCK_MONOTONIC:
in-process nodes are stamped in their event callback, and the JSON lines of the helper processes
(``tests/interop/igs_peer.py``, ``tests/support/pw_peer.py``) are stamped when they arrive here.
The table gives the median, min and max over the repetitions (compare numbers of one run only).

Network rules: broker mode runs on 127.0.0.1 only. Beacons are only ever sent inside private
network namespaces made for the run (``tests/support/netns.py``): a lo-only namespace for
patchwire-only beacons, and a ``Lan(2)`` of veth-joined namespaces whenever a real Ingescape
agent beacons (it refuses ``lo``). Needs root (namespaces) and ``import ingescape``.

Results: a Markdown table on stdout and in ``OUT/discovery.md``; the numbers in
``OUT/discovery.json``. Exits non-zero with a message on any failure, after killing what it
started (by PID) and deleting its namespaces.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
for _path in (str(SRC), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import zmq  # noqa: E402

import patchwire as pw  # noqa: E402
from tests.support.igs import IgsPeer, ingescape_available  # noqa: E402
from tests.support.jsonproc import (  # noqa: E402
    JsonLineProcess,
    Predicate,
    child_env,
    loopback_endpoint,
)
from tests.support.netns import (  # noqa: E402
    Host,
    Lan,
    NetnsError,
    loopback_namespace,
    netns_available,
)
from tests.support.pwpeer import PwPeer  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "results"

DEFAULT_REPEAT = 5
QUICK_REPEAT = 2
DISCOVERY_TIMEOUT = 10.0
"""Seconds allowed, per repetition, for both sides to see each other (beacons every 1 s)."""
READY_TIMEOUT = 15.0
"""Seconds allowed for a helper process to print its ``ready`` line."""
BEACON_INTERVAL = 1.0
"""Beacon interval of every node, patchwire and Ingescape (Zyre's default), in seconds."""
BEACON_PORT = 5670
"""UDP port for beacons; only ever used inside this run's private namespaces."""
STOP_TIMEOUT = 5.0
"""Seconds a helper process gets to stop before it is killed by PID."""
SETTLE_TIMEOUT = 3.0
"""Seconds allowed (after the measurement) for an agent to settle before it is stopped."""
SETTLE_PAUSE = 0.05
"""Extra seconds between two agents' handshake and stopping one of them."""
PHASE_PAUSE = (0.1, 1.1)
"""Beacon cases: random pause (s) before starting the second node, so that it starts at a
random phase of the first node's beacon period."""


class BenchError(RuntimeError):
    """A case failed; the message says which and why."""


class Interrupted(BaseException):
    """SIGTERM arrived: unwind (helpers are stopped, namespaces deleted) and exit."""


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    what: str


CASES: tuple[Case, ...] = (
    Case(
        "pw_pw_broker",
        "patchwire B joins patchwire broker node A (both in this process, 127.0.0.1): "
        "B.start() called → PeerEntered on both",
    ),
    Case(
        "pw_pw_broker_launch",
        "patchwire B as a pw_peer.py process joins broker node A (in this process): "
        "B's Popen → PeerEntered on both",
    ),
    Case(
        "pw_pw_beacon",
        "two patchwire nodes in one process in a lo-only netns, beacons every 1 s, A running: "
        "B.start() called → PeerEntered on both",
    ),
    Case(
        "pw_igs_broker",
        "patchwire node (in this process) joins a real Ingescape agent acting as broker "
        "(127.0.0.1): start() called → PeerEntered in patchwire and PEER_ENTERED in the agent",
    ),
    Case(
        "igs_pw_broker",
        "real Ingescape agent process joins a patchwire broker node (in this process, "
        "127.0.0.1): agent's ready line → both see each other",
    ),
    Case(
        "igs_pw_broker_launch",
        "same runs as igs_pw_broker, timed from the agent's Popen",
    ),
    Case(
        "pw_igs_beacon",
        "Lan(2) of veth netns, beacons every 1 s: agent running on h1, pw_peer.py started on "
        "h2: pw_peer's ready line → both see each other",
    ),
    Case(
        "pw_igs_beacon_launch",
        "same runs as pw_igs_beacon, timed from pw_peer's Popen (via ip netns exec)",
    ),
    Case(
        "igs_igs_broker",
        "reference: Ingescape agent B joins agent A acting as broker (127.0.0.1): "
        "B's ready line → PEER_ENTERED in both",
    ),
    Case(
        "igs_igs_broker_launch",
        "same runs as igs_igs_broker, timed from B's Popen",
    ),
    Case(
        "igs_igs_beacon",
        "reference: Lan(2) of veth netns, beacons every 1 s: agent A running on h1, agent B "
        "started on h2: B's ready line → PEER_ENTERED in both",
    ),
    Case(
        "igs_igs_beacon_launch",
        "same runs as igs_igs_beacon, timed from B's Popen (via ip netns exec)",
    ),
)
CASE_NAMES = tuple(case.name for case in CASES)

Samples = dict[str, list[float]]
"""Case name → durations in seconds."""


def progress(text: str) -> None:
    """Progress goes to stderr; stdout carries only the table."""
    print(f"[discovery] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- helper processes


Launch = Callable[..., JsonLineProcess]
"""``launch(args, host=None, max_seconds=60.0)``: start a helper process."""


def agent_process(
    args: Sequence[str], *, host: Host | None = None, max_seconds: float = 60.0
) -> IgsPeer:
    """A real Ingescape agent (``tests/interop/igs_peer.py ARGS``). Like every helper process,
    its lines carry ``rx``, the monotonic time at which they arrived here, and the driver keeps
    ``started_at``, the monotonic time just before its ``Popen``."""
    return IgsPeer(args, host=host, max_seconds=max_seconds, stamp="rx")


def pw_process(
    args: Sequence[str], *, host: Host | None = None, max_seconds: float = 60.0
) -> PwPeer:
    """A patchwire node process (``tests/support/pw_peer.py ARGS``)."""
    return PwPeer(None, args, host=host, max_seconds=max_seconds)


def launched(peer: JsonLineProcess) -> float:
    """Monotonic time just before the helper's ``Popen``."""
    assert peer.started_at is not None, "not started"
    return peer.started_at


def name_of(peer: JsonLineProcess) -> str:
    """The ``--name`` of a helper process."""
    argv = peer.argv
    return argv[argv.index("--name") + 1] if "--name" in argv else peer.label


def igs_entered(name: str) -> dict[str, Any]:
    return {"kind": "agent_event", "event": "PEER_ENTERED", "name": name}


def pw_entered(name: str) -> dict[str, Any]:
    return {"kind": "event", "type": "PeerEntered", "name": name}


def wait_line(peer: JsonLineProcess, predicate: Predicate, timeout: float, what: str) -> float:
    """Arrival time of the first line matching ``predicate``; BenchError on timeout."""
    try:
        line = peer.wait_for(predicate, max(timeout, 0.01))
    except AssertionError as error:
        raise BenchError(f"{what}: {error}") from None
    return float(line["rx"])


def wait_ready(peer: JsonLineProcess, what: str) -> float:
    """Arrival time of the ``ready`` line; BenchError if it fails to start."""
    try:
        line = peer.wait_ready(READY_TIMEOUT)
    except AssertionError as error:
        raise BenchError(f"{what} did not start: {error}") from None
    return float(line["rx"])


def stop_quietly(peer: JsonLineProcess) -> None:
    """Stop a helper process (it is killed by PID if it does not stop in time)."""
    if peer.stop(timeout=STOP_TIMEOUT) not in (0, None):
        progress(f"  note: {name_of(peer)} did not stop within {STOP_TIMEOUT:g} s: killed by PID")


def settle(peer: JsonLineProcess, predicate: Predicate) -> None:
    """Wait (briefly, without failing) for an agent to finish handling a peer's arrival or
    departure: Ingescape 4.7's ``stop()`` can hang when called in the middle of either."""
    with contextlib.suppress(AssertionError):
        peer.wait_for(predicate, SETTLE_TIMEOUT)


def igs_exited(name: str) -> dict[str, Any]:
    return {"kind": "agent_event", "event": "PEER_EXITED", "name": name}


def igs_knows_us(name: str) -> dict[str, Any]:
    return {"kind": "agent_event", "event": "AGENT_KNOWS_US", "name": name}


def settle_agents(a: JsonLineProcess, b: JsonLineProcess, name_a: str, name_b: str) -> None:
    """Let two agents finish their Ingescape handshake before one of them stops."""
    settle(b, igs_knows_us(name_a))
    settle(a, igs_knows_us(name_b))
    time.sleep(SETTLE_PAUSE)


def process_budget(repeat: int) -> float:
    """Self-stop deadline for helper processes that live through a whole case."""
    return 60.0 + repeat * 20.0


@contextlib.contextmanager
def started(
    launch: Launch,
    args: list[str],
    *,
    host: Host | None = None,
    max_seconds: float = 60.0,
) -> Iterator[JsonLineProcess]:
    """Start a helper process; always stop it (or kill it by PID) on the way out."""
    peer = launch(args, host=host, max_seconds=max_seconds)
    try:
        yield peer
    finally:
        stop_quietly(peer)


@contextlib.asynccontextmanager
async def running(launch: Launch, args: list[str]) -> AsyncIterator[JsonLineProcess]:
    """``started`` for coroutines: the stop (which may wait) runs off the event loop."""
    peer = launch(args, max_seconds=60.0)  # Popen only: a few ms, and never lost on a signal
    try:
        yield peer
    finally:
        await asyncio.to_thread(stop_quietly, peer)


# ---------------------------------------------------------------------------- in-process nodes


class Entered:
    """Monotonic time at which ``node`` reported each peer name as entered."""

    def __init__(self, node: pw.Node) -> None:
        self.node = node
        self.times: dict[str, float] = {}
        self._changed = asyncio.Event()
        node.on_event(self._on_event)

    def _on_event(self, event: pw.PeerEvent) -> None:
        if isinstance(event, pw.PeerEntered) and event.name not in self.times:
            self.times[event.name] = time.monotonic()
            self._changed.set()

    async def wait(self, name: str, deadline: float) -> float:
        """When ``name`` entered; BenchError if not by ``deadline`` (monotonic)."""
        while name not in self.times:
            self._changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(
                    f"patchwire node {self.node.name!r} did not see {name!r} within "
                    f"{DISCOVERY_TIMEOUT} s (it sees {sorted(self.times) or 'nobody'})"
                )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
        return self.times[name]


async def thread_wait(
    peer: JsonLineProcess, predicate: Predicate, deadline: float, what: str
) -> float:
    """``wait_line`` without blocking the event loop."""
    return await asyncio.to_thread(wait_line, peer, predicate, deadline - time.monotonic(), what)


# ---------------------------------------------------------------------------- cases


async def case_pw_pw_broker(repeat: int) -> Samples:
    samples: list[float] = []
    for i in range(repeat):
        broker = loopback_endpoint()
        async with pw.Node("pwA", network=pw.Network(broker_bind=broker)) as a:
            seen_by_a = Entered(a)
            b = pw.Node(f"pwB{i}", network=pw.Network(brokers=(broker,)))
            seen_by_b = Entered(b)
            t0 = time.monotonic()
            try:
                await b.start()
                deadline = t0 + DISCOVERY_TIMEOUT
                t_b = await seen_by_b.wait("pwA", deadline)
                t_a = await seen_by_a.wait(b.name, deadline)
            finally:
                await b.stop()
        samples.append(max(t_a, t_b) - t0)
    return {"pw_pw_broker": samples}


async def case_pw_pw_broker_launch(repeat: int) -> Samples:
    samples: list[float] = []
    for i in range(repeat):
        broker = loopback_endpoint()
        name = f"pwB{i}"
        async with pw.Node("pwA", network=pw.Network(broker_bind=broker)) as a:
            seen_by_a = Entered(a)
            args = ["--name", name, "--broker", broker]
            async with running(pw_process, args) as b:
                deadline = launched(b) + DISCOVERY_TIMEOUT + READY_TIMEOUT
                t_b = await thread_wait(b, pw_entered("pwA"), deadline, f"pw_peer {name}")
                t_a = await seen_by_a.wait(name, deadline)
                samples.append(max(t_a, t_b) - launched(b))
    return {"pw_pw_broker_launch": samples}


async def inner_pw_pw_beacon(repeat: int) -> list[float]:
    """Runs inside the lo-only namespace (``--inner pw_pw_beacon``)."""
    devices = sorted(name for _, name in socket.if_nameindex())
    if devices != ["lo"]:
        raise BenchError(
            f"refusing to send beacons: this network namespace has {devices}, expected only lo"
        )
    rng = random.Random()
    network = pw.Network(device="lo", port=BEACON_PORT, beacon_interval=BEACON_INTERVAL)
    samples: list[float] = []
    async with pw.Node("pwA", network=network) as a:
        seen_by_a = Entered(a)
        for i in range(repeat):
            await asyncio.sleep(rng.uniform(*PHASE_PAUSE))
            b = pw.Node(f"pwB{i}", network=network)
            seen_by_b = Entered(b)
            t0 = time.monotonic()
            try:
                await b.start()
                deadline = t0 + DISCOVERY_TIMEOUT
                t_b = await seen_by_b.wait("pwA", deadline)
                t_a = await seen_by_a.wait(b.name, deadline)
            finally:
                await b.stop()
            samples.append(max(t_a, t_b) - t0)
    return samples


def case_pw_pw_beacon(repeat: int) -> Samples:
    """Re-runs this script inside a fresh lo-only namespace."""
    argv = [sys.executable, "-u", str(Path(__file__).resolve())]
    argv += ["--inner", "pw_pw_beacon", "--repeat", str(repeat)]
    timeout = 30.0 + repeat * (DISCOVERY_TIMEOUT + PHASE_PAUSE[1] + 2.0)
    with loopback_namespace() as ns:
        proc = ns.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(
                f"pw_pw_beacon: the run inside namespace {ns.ns} took more than {timeout:.0f} s"
            ) from None
    if proc.returncode != 0:
        raise BenchError(
            f"pw_pw_beacon: the run inside the lo-only namespace exited {proc.returncode}:\n"
            f"{err.strip()[-3000:]}"
        )
    try:
        samples = json.loads(out.strip().splitlines()[-1])["samples"]
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise BenchError(f"pw_pw_beacon: unreadable result {out!r}: {error}") from None
    return {"pw_pw_beacon": [float(s) for s in samples]}


async def case_pw_igs_broker(repeat: int) -> Samples:
    samples: list[float] = []
    for i in range(repeat):
        broker = loopback_endpoint()
        agent_args = ["--name", "igsA", "--endpoint", loopback_endpoint()]
        agent_args += ["--broker-bind", broker, "--broker", broker]
        async with running(agent_process, agent_args) as agent:
            await asyncio.to_thread(wait_ready, agent, "Ingescape broker agent igsA")
            name = f"pwB{i}"
            b = pw.Node(name, network=pw.Network(brokers=(broker,)))
            seen_by_b = Entered(b)
            t0 = time.monotonic()
            try:
                await b.start()
                deadline = t0 + DISCOVERY_TIMEOUT
                t_b = await seen_by_b.wait("igsA", deadline)
                t_a = await thread_wait(agent, igs_entered(name), deadline, "agent igsA")
            finally:
                await b.stop()
            samples.append(max(t_a, t_b) - t0)
            await asyncio.to_thread(settle, agent, igs_exited(name))
    return {"pw_igs_broker": samples}


async def case_igs_pw_broker(repeat: int) -> Samples:
    from_ready: list[float] = []
    from_launch: list[float] = []
    for i in range(repeat):
        broker = loopback_endpoint()
        name = f"igsB{i}"
        async with pw.Node("pwA", network=pw.Network(broker_bind=broker)) as a:
            seen_by_a = Entered(a)
            agent_args = ["--name", name, "--endpoint", loopback_endpoint(), "--broker", broker]
            async with running(agent_process, agent_args) as agent:
                ready = await asyncio.to_thread(wait_ready, agent, f"Ingescape agent {name}")
                deadline = time.monotonic() + DISCOVERY_TIMEOUT
                t_b = await thread_wait(agent, igs_entered("pwA"), deadline, f"agent {name}")
                t_a = await seen_by_a.wait(name, deadline)
                done = max(t_a, t_b)
                from_ready.append(done - ready)
                from_launch.append(done - launched(agent))
    return {"igs_pw_broker": from_ready, "igs_pw_broker_launch": from_launch}


def case_pw_igs_beacon(repeat: int) -> Samples:
    samples: list[float] = []
    from_launch: list[float] = []
    rng = random.Random()
    with Lan(2) as lan:
        h1, h2 = lan.hosts
        agent_args = ["--name", "igsA", "--device", h1.device, "--port", str(BEACON_PORT)]
        agent_args += ["--interval", str(round(BEACON_INTERVAL * 1000))]
        with started(agent_process, agent_args, host=h1, max_seconds=process_budget(repeat)) as a:
            wait_ready(a, f"Ingescape agent igsA on {h1.ns}")
            for i in range(repeat):
                time.sleep(rng.uniform(*PHASE_PAUSE))
                name = f"pwB{i}"
                args = ["--name", name, "--device", h2.device, "--port", str(BEACON_PORT)]
                args += ["--interval", str(BEACON_INTERVAL)]
                with started(pw_process, args, host=h2) as b:
                    ready = wait_ready(b, f"pw_peer {name} on {h2.ns}")
                    t_b = wait_line(b, pw_entered("igsA"), DISCOVERY_TIMEOUT, f"pw_peer {name}")
                    remaining = ready + DISCOVERY_TIMEOUT - time.monotonic()
                    t_a = wait_line(a, igs_entered(name), remaining, "agent igsA")
                    samples.append(max(t_a, t_b) - ready)
                    from_launch.append(max(t_a, t_b) - launched(b))
                settle(a, igs_exited(name))
    return {"pw_igs_beacon": samples, "pw_igs_beacon_launch": from_launch}


def case_igs_igs_broker(repeat: int) -> Samples:
    from_ready: list[float] = []
    from_launch: list[float] = []
    for i in range(repeat):
        broker = loopback_endpoint()
        args_a = ["--name", "igsA", "--endpoint", loopback_endpoint()]
        args_a += ["--broker-bind", broker, "--broker", broker]
        with started(agent_process, args_a) as a:
            wait_ready(a, "Ingescape broker agent igsA")
            name = f"igsB{i}"
            args_b = ["--name", name, "--endpoint", loopback_endpoint(), "--broker", broker]
            with started(agent_process, args_b) as b:
                ready = wait_ready(b, f"Ingescape agent {name}")
                t_b = wait_line(b, igs_entered("igsA"), DISCOVERY_TIMEOUT, f"agent {name}")
                remaining = ready + DISCOVERY_TIMEOUT - time.monotonic()
                t_a = wait_line(a, igs_entered(name), remaining, "agent igsA")
                done = max(t_a, t_b)
                from_ready.append(done - ready)
                from_launch.append(done - launched(b))
                settle_agents(a, b, "igsA", name)
            settle(a, igs_exited(name))
    return {"igs_igs_broker": from_ready, "igs_igs_broker_launch": from_launch}


def case_igs_igs_beacon(repeat: int) -> Samples:
    samples: list[float] = []
    from_launch: list[float] = []
    rng = random.Random()
    interval = ["--interval", str(round(BEACON_INTERVAL * 1000))]
    with Lan(2) as lan:
        h1, h2 = lan.hosts
        args_a = ["--name", "igsA", "--device", h1.device, "--port", str(BEACON_PORT), *interval]
        with started(agent_process, args_a, host=h1, max_seconds=process_budget(repeat)) as a:
            wait_ready(a, f"Ingescape agent igsA on {h1.ns}")
            for i in range(repeat):
                time.sleep(rng.uniform(*PHASE_PAUSE))
                name = f"igsB{i}"
                args_b = ["--name", name, "--device", h2.device, "--port", str(BEACON_PORT)]
                with started(agent_process, [*args_b, *interval], host=h2) as b:
                    ready = wait_ready(b, f"Ingescape agent {name} on {h2.ns}")
                    t_b = wait_line(b, igs_entered("igsA"), DISCOVERY_TIMEOUT, f"agent {name}")
                    remaining = ready + DISCOVERY_TIMEOUT - time.monotonic()
                    t_a = wait_line(a, igs_entered(name), remaining, "agent igsA")
                    samples.append(max(t_a, t_b) - ready)
                    from_launch.append(max(t_a, t_b) - launched(b))
                    settle_agents(a, b, "igsA", name)
                settle(a, igs_exited(name))
    return {"igs_igs_beacon": samples, "igs_igs_beacon_launch": from_launch}


def _in_loop(case: Callable[[int], Awaitable[Samples]]) -> Callable[[int], Samples]:
    def run(repeat: int) -> Samples:
        async def main() -> Samples:
            return await case(repeat)

        return asyncio.run(main())

    return run


RUNNERS: tuple[tuple[tuple[str, ...], Callable[[int], Samples]], ...] = (
    (("pw_pw_broker",), _in_loop(case_pw_pw_broker)),
    (("pw_pw_broker_launch",), _in_loop(case_pw_pw_broker_launch)),
    (("pw_igs_broker",), _in_loop(case_pw_igs_broker)),
    (("igs_pw_broker", "igs_pw_broker_launch"), _in_loop(case_igs_pw_broker)),
    (("igs_igs_broker", "igs_igs_broker_launch"), case_igs_igs_broker),
    (("pw_pw_beacon",), case_pw_pw_beacon),
    (("pw_igs_beacon", "pw_igs_beacon_launch"), case_pw_igs_beacon),
    (("igs_igs_beacon", "igs_igs_beacon_launch"), case_igs_igs_beacon),
)
"""Each runner produces one or more cases (several timings of the same runs)."""


# ---------------------------------------------------------------------------- results


def machine() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "patchwire": pw.__version__,
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "ingescape": version("ingescape"),
        "python_optimize": sys.flags.optimize,
    }


def summarize(samples: Samples) -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for case in CASES:
        values = samples.get(case.name)
        if not values:
            continue
        ms = [v * 1000.0 for v in values]
        cases[case.name] = {
            "median": round(statistics.median(ms), 2),
            "min": round(min(ms), 2),
            "max": round(max(ms), 2),
            "unit": "ms",
            "n": len(ms),
            "samples": [round(v, 2) for v in ms],
            "what": case.what,
        }
    return cases


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Discovery latency",
        "",
        f"`bench/discovery.py`, {report['date']}, {m['implementation']} {m['python']}, "
        f"{m['platform']}, {m['cpu_count']} CPUs; patchwire {m['patchwire']}, "
        f"Ingescape {m['ingescape']}, pyzmq {m['pyzmq']} (libzmq {m['libzmq']}). "
        f"{report['repeat']} repetitions per case; beacon interval {BEACON_INTERVAL:g} s. "
        "Clock: this process's CLOCK_MONOTONIC (helper processes' lines are stamped on arrival). "
        "Helper processes start with a warm bytecode cache, as an installed package would.",
        "",
        *(
            [f"**Run with Python optimisation level {m['python_optimize']} (asserts off).**", ""]
            if m["python_optimize"]
            else []
        ),
        "| case | median ms | min | max | n | what is measured |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, row in report["cases"].items():
        lines.append(
            f"| {name} | {row['median']:.1f} | {row['min']:.1f} | {row['max']:.1f} | "
            f"{row['n']} | {row['what']} |"
        )
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- main


_WARM_UP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "import tests.support.pw_peer, tests.interop.igs_peer"
)


@contextlib.contextmanager
def warm_bytecode_cache() -> Iterator[str]:
    """Give helper processes a warm bytecode cache in a private temporary directory.

    An installed package has its ``.pyc`` files; a checkout run with PYTHONDONTWRITEBYTECODE
    (as here and in CI) would compile patchwire from source at every launch (~150 ms), which
    is not what a user's process start costs. The cache lives outside the repository and is
    deleted afterwards; one warm-up import of both helper scripts fills it.
    """
    names = ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")
    saved = {name: os.environ.get(name) for name in names}
    cache = tempfile.mkdtemp(prefix="pw-bench-pyc-")
    os.environ["PYTHONPYCACHEPREFIX"] = cache
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        try:
            res = subprocess.run(
                [sys.executable, "-c", _WARM_UP, str(ROOT)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BenchError("warming the bytecode cache took more than 60 s") from None
        if res.returncode != 0:
            raise BenchError(f"cannot import the helper scripts:\n{res.stderr[-3000:]}")
        yield cache
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for _ in range(10):  # a helper being killed may still be writing there
            shutil.rmtree(cache, ignore_errors=True)
            if not os.path.exists(cache):
                break
            time.sleep(0.2)


def preflight() -> None:
    if not ingescape_available():
        raise BenchError(f"the ingescape package is not importable by {sys.executable}")
    ok, reason = netns_available()
    if not ok:
        raise BenchError(f"network namespaces are unavailable: {reason}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, help=f"repetitions per case (default {DEFAULT_REPEAT})")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_REPEAT} repetitions")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    ap.add_argument("--only", help=f"comma-separated cases among: {', '.join(CASE_NAMES)}")
    ap.add_argument("--inner", choices=["pw_pw_beacon"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = QUICK_REPEAT if args.quick else DEFAULT_REPEAT
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.only:
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = wanted - set(CASE_NAMES)
        if unknown:
            ap.error(f"unknown case(s) {sorted(unknown)}; known: {', '.join(CASE_NAMES)}")
        args.only = wanted
    return args


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def run_inner(args: argparse.Namespace) -> int:
    try:
        samples = asyncio.run(inner_pw_pw_beacon(args.repeat))
    except BenchError as error:
        print(f"discovery bench (inner): {error}", file=sys.stderr)
        return 1
    print(json.dumps({"samples": samples}), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Helper processes (pw_peer.py, the re-run of this script) import patchwire from src/.
    os.environ["PYTHONPATH"] = child_env()["PYTHONPATH"]
    if args.inner:
        return run_inner(args)

    started = time.monotonic()
    samples: Samples = {}
    try:
        preflight()
        with warm_bytecode_cache():
            for names, runner in RUNNERS:
                if args.only and not set(names) & args.only:
                    continue
                progress(f"{', '.join(names)}: {args.repeat} repetitions")
                t0 = time.monotonic()
                samples.update(runner(args.repeat))
                progress(f"  done in {time.monotonic() - t0:.1f} s")
    except (BenchError, NetnsError) as error:
        print(f"discovery bench FAILED: {error}", file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt) as error:
        signum = error.args[0] if isinstance(error, Interrupted) else signal.SIGINT
        print(f"discovery bench INTERRUPTED by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except Exception as error:
        traceback.print_exc()
        kind = type(error).__name__
        print(f"discovery bench FAILED: unexpected {kind}: {error}", file=sys.stderr)
        return 1

    report: dict[str, Any] = {
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "repeat": args.repeat,
        "quick": args.quick,
        "seconds": round(time.monotonic() - started, 1),
        "cases": summarize(samples),
    }
    table = markdown(report)
    print(table, end="")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "discovery.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(out / "discovery.md", table)
    progress(f"wrote {out / 'discovery.json'} and {out / 'discovery.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
