"""``patchwire peers`` run as a subprocess (``python -m patchwire peers``).

Against patchwire nodes (``tests/support/pw_peer.py`` processes): through a patchwire broker on
127.0.0.1, and by beacons inside a private namespace with only ``lo`` up (never in the root
namespace). Errors must be clear and carry the documented exit codes: 2 for a usage or
configuration error, 1 for a network failure.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.support.netns import (  # noqa: E402
    Host,
    LoopbackNamespace,
    list_namespaces,
    loopback_namespace,
    netns_available,
)
from tests.support.pwpeer import (  # noqa: E402
    JsonProcess,
    PwPeer,
    beacon_port,
    child_env,
    free_tcp_port,
    loopback_endpoint,
    unavailable,
)

CLI_TIMEOUT = 60.0
"""Hard limit for one CLI run (the CLI's own --timeout is much shorter)."""
LISTING_WINDOW = "1.5"
"""--timeout of a listing: how long the CLI collects peers before printing them."""


def peers_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "patchwire", "peers", *args]


def run_peers(*args: str, host: Host | None = None) -> subprocess.CompletedProcess[str]:
    argv = peers_argv(*args)
    kw: dict[str, Any] = {
        "capture_output": True,
        "text": True,
        "env": child_env(),
        "cwd": str(_ROOT),
        "timeout": CLI_TIMEOUT,
        "check": False,
    }
    if host is not None:
        return host.run(argv, **kw)
    return subprocess.run(argv, **kw)


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def need_netns() -> None:
    ok, reason = netns_available()
    if not ok:
        unavailable(reason)


@pytest.fixture
def lo_ns(need_netns: None) -> Iterator[LoopbackNamespace]:
    with loopback_namespace() as ns:
        yield ns
    assert ns.ns not in list_namespaces()


class Platform:
    """A broker node (``hub``, in channel CHAT) and a worker, both with headers."""

    def __init__(self) -> None:
        self.broker = loopback_endpoint()
        self.hub = PwPeer(
            "hub",
            [
                *("--broker-bind", self.broker, "--broker", self.broker),
                *("--header", "role=hub", "--header", "x-site=lab", "--channel", "CHAT"),
            ],
            max_seconds=60.0,
        )
        self.worker = PwPeer(
            "worker", ["--broker", self.broker, "--header", "role=worker"], max_seconds=60.0
        )
        self.nodes = [self.hub, self.worker]
        for node in self.nodes:
            node.wait_ready()
        for node in self.nodes:
            other = next(n for n in self.nodes if n is not node)
            node.wait_for(
                lambda ln, other=other: (
                    ln.get("type") == "PeerEntered" and ln.get("peer") == other.uuid
                ),
                10.0,
            )

    def close(self) -> None:
        for node in self.nodes:
            node.stop(timeout=5.0)


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    built = Platform()
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def procs() -> Iterator[list[JsonProcess]]:
    """Processes a test starts; all killed (by PID) and reaped at teardown."""
    started: list[JsonProcess] = []
    yield started
    for proc in started:
        proc.close()


# --------------------------------------------------------------------------- broker mode


def test_table_lists_the_nodes_with_their_headers(platform: Platform) -> None:
    done = run_peers("--broker", platform.broker, "--timeout", LISTING_WINDOW)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "UUID", "ENDPOINT", "HEADERS"], done.stdout
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"hub", "worker"}, done.stdout  # not the CLI itself
    hub = rows["hub"].split()
    assert hub[1] == platform.hub.uuid
    assert hub[2] == platform.hub.endpoint
    assert hub[3:] == ["role=hub", "x-site=lab"]  # sorted key=value pairs
    worker = rows["worker"].split()
    assert worker[1:] == [platform.worker.uuid, platform.worker.endpoint, "role=worker"]


def test_json_prints_one_object_per_peer(platform: Platform) -> None:
    done = run_peers("--broker", platform.broker, "--json", "--timeout", LISTING_WINDOW)
    assert done.returncode == 0, done.stderr
    records = {r["name"]: r for r in json_lines(done.stdout)}
    assert set(records) == {"hub", "worker"}
    assert records["hub"] == {
        "event": "peer",
        "id": platform.hub.uuid,
        "name": "hub",
        "endpoint": platform.hub.endpoint,
        "headers": {"role": "hub", "x-site": "lab"},
        "groups": ["CHAT"],
    }
    assert records["worker"] == {
        "event": "peer",
        "id": platform.worker.uuid,
        "name": "worker",
        "endpoint": platform.worker.endpoint,
        "headers": {"role": "worker"},
        "groups": [],
    }


def test_watch_prints_entered_then_exited(platform: Platform, procs: list[JsonProcess]) -> None:
    window = 6.0
    cli = JsonProcess(
        peers_argv("--broker", platform.broker, "--watch", "--json", "--timeout", str(window)),
        max_seconds=window + 10,
    )
    procs.append(cli)
    cli.wait_for({"event": "entered", "name": "hub"}, 10.0)  # the CLI is on the platform
    cli.wait_for({"event": "entered", "name": "worker"}, 10.0)
    visitor = PwPeer("visitor", ["--broker", platform.broker, "--header", "k=v"], max_seconds=30)
    procs.append(visitor)
    visitor.wait_ready()
    entered = cli.wait_for({"event": "entered", "name": "visitor"}, 10.0)
    assert entered["id"] == visitor.uuid
    assert entered["endpoint"] == visitor.endpoint
    assert entered["headers"] == {"k": "v"}
    assert visitor.stop() == 0
    exited = cli.wait_for({"event": "exited", "name": "visitor"}, 5.0)
    assert exited["id"] == visitor.uuid
    assert exited["reason"] == "goodbye"
    assert exited["rx"] > entered["rx"]
    assert cli.wait(window + 10) == 0, cli.describe()
    assert not [ln for ln in cli.lines if ln.get("kind") == "raw"], cli.describe()


def _zre_string(text: str) -> bytes:
    data = text.encode()
    return bytes([len(data)]) + data


def test_watch_survives_a_peer_that_leaves_before_it_is_printed(
    platform: Platform, procs: list[JsonProcess]
) -> None:
    """A peer whose HELLO and GOODBYE arrive together (a node that starts and stops at once):
    ``--watch`` must report it entering and leaving, and keep watching."""
    endpoint = loopback_endpoint()
    window = 4.0
    cli = JsonProcess(
        peers_argv(
            *("--broker", platform.broker, "--endpoint", endpoint),
            *("--watch", "--json", "--timeout", str(window)),
        ),
        max_seconds=window + 10,
    )
    procs.append(cli)
    cli.wait_for({"event": "entered", "name": "hub"}, 10.0)  # the CLI's inbox is up
    context = zmq.Context()
    inbox = context.socket(zmq.ROUTER)
    dealer = context.socket(zmq.DEALER)
    try:
        inbox.setsockopt(zmq.LINGER, 0)
        port = inbox.bind_to_random_port("tcp://127.0.0.1")
        flash = uuid.uuid4()
        dealer.setsockopt(zmq.LINGER, 1000)
        dealer.setsockopt(zmq.IDENTITY, b"\x01" + flash.bytes)
        dealer.connect(endpoint)
        hello = struct.pack(">HBBH", 0xAAA1, 1, 2, 1) + _zre_string(f"tcp://127.0.0.1:{port}")
        hello += struct.pack(">I", 0) + b"\x00" + _zre_string("flash") + struct.pack(">I", 0)
        goodbye = struct.pack(">HBBH", 0xAAA1, 10, 2, 2)
        dealer.send_multipart([hello])
        dealer.send_multipart([goodbye])
        exited = cli.wait_for({"event": "exited", "name": "flash"}, 5.0)
        assert exited["reason"] == "goodbye"
        entered = cli.find({"event": "entered", "name": "flash"})
        assert entered is not None, cli.describe()
        assert entered["id"] == flash.hex.upper()
        assert cli.wait(window + 10) == 0, cli.describe()
    finally:
        dealer.close(linger=0)
        inbox.close(linger=0)
        context.term()


# --------------------------------------------------------------------------- beacon mode


@pytest.mark.netns
def test_beacon_mode_on_private_loopback(lo_ns: LoopbackNamespace) -> None:
    port = str(beacon_port())
    nodes = [
        PwPeer(name, ["--device", "lo", "--port", port, "--header", f"n={name}"], host=lo_ns)
        for name in ("b1", "b2")
    ]
    try:
        for node in nodes:
            node.wait_ready()
        done = run_peers("--device", "lo", "--port", port, "--json", "--timeout", "2", host=lo_ns)
        assert done.returncode == 0, done.stderr
        records = {r["name"]: r for r in json_lines(done.stdout)}
        assert set(records) == {"b1", "b2"}, (done.stdout, done.stderr)
        for node in nodes:
            record = records[node.name]
            assert record["id"] == node.uuid
            assert record["endpoint"] == node.endpoint
            assert record["headers"] == {"n": node.name}
    finally:
        for node in nodes:
            node.stop(timeout=5.0)


# --------------------------------------------------------------------------- errors


def test_unknown_device_exits_2_and_lists_devices() -> None:
    # Fails while looking the device up, before any socket is opened.
    done = run_peers("--device", "pwnosuch0", "--timeout", "1")
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr.startswith("patchwire: error: ")
    assert "pwnosuch0" in done.stderr
    assert "available devices" in done.stderr
    assert "lo (" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_broker_exits_1_and_names_it() -> None:
    silent = f"tcp://127.0.0.1:{free_tcp_port()}"  # nothing listens there
    done = run_peers("--broker", silent, "--timeout", "1")
    assert done.returncode == 1, done
    assert silent in done.stderr
    assert "did not answer" in done.stderr
    assert "Traceback" not in done.stderr


def test_endpoint_without_broker_exits_2() -> None:
    done = run_peers("--endpoint", "tcp://127.0.0.1:5670", "--timeout", "1")
    assert done.returncode == 2, done
    assert "--endpoint" in done.stderr
    assert "--broker" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--device", "lo", "--broker", "tcp://127.0.0.1:5661"), "not both"),
        (("--broker", "127.0.0.1:5661"), "tcp://HOST:PORT"),
        (("--port", "0", "--device", "pwnosuch0"), "port"),
    ],
)
def test_bad_options_exit_2(args: tuple[str, ...], needle: str) -> None:
    done = run_peers(*args, "--timeout", "1")
    assert done.returncode == 2, done
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_broker_bind_on_a_port_in_use_exits_1() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        endpoint = f"tcp://127.0.0.1:{holder.getsockname()[1]}"
        done = run_peers("--broker-bind", endpoint, "--timeout", "1")
    assert done.returncode == 1, done
    assert endpoint in done.stderr
    assert "Traceback" not in done.stderr
