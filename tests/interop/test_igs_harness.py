"""Self-tests of the interop tooling: the real Ingescape agent harness and namespaces.

Two real agents (``igs_peer.py``) find each other and exchange a SHOUT and a
WHISPER, once in broker mode on 127.0.0.1 and once in beacon mode on a private LAN
of network namespaces. Missing prerequisites skip these tests, or fail them when the
``CI`` environment variable is set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # plain `pytest` (not `python -m pytest`) does not add the cwd
    sys.path.insert(0, _ROOT)

from tests.support.igs import IgsPeer, free_tcp_port, ingescape_available  # noqa: E402
from tests.support.netns import (  # noqa: E402
    Lan,
    list_namespaces,
    loopback_namespace,
    netns_available,
    owned_namespaces,
)

DISCOVERY_TIMEOUT = 20.0
MESSAGE_TIMEOUT = 10.0
BEACON_PORT = 5670  # private namespaces: any port is fine


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"prerequisite missing on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def need_ingescape() -> None:
    if not ingescape_available():
        _unavailable(f"the ingescape package is not importable by {sys.executable}")


@pytest.fixture
def need_netns() -> None:
    ok, reason = netns_available()
    if not ok:
        _unavailable(reason)


@pytest.fixture
def lan2(need_netns: None) -> Iterator[Lan]:
    with Lan(2) as lan:
        yield lan
    assert not {h.ns for h in lan} & list_namespaces(), "Lan left namespaces behind"


def _exchange(a: IgsPeer, b: IgsPeer, channel: str) -> None:
    """Common scenario: discovery both ways, A shouts to B's channel, B whispers to A."""
    ready_a = a.wait_ready()
    ready_b = b.wait_ready()
    assert ready_a["agent_uuid"] != ready_b["agent_uuid"]

    entered_a = a.wait_for(
        {"kind": "agent_event", "event": "PEER_ENTERED", "name": "igsB"}, DISCOVERY_TIMEOUT
    )
    entered_b = b.wait_for(
        {"kind": "agent_event", "event": "PEER_ENTERED", "name": "igsA"}, DISCOVERY_TIMEOUT
    )
    assert isinstance(entered_a["data"], dict)
    assert entered_a["data"].get("ingescape") == "v4.7.0"
    peer_id_a = entered_b["uuid"]  # A's Zyre node id, as B knows it
    peer_id_b = entered_a["uuid"]
    assert len(peer_id_a) == 32
    assert peer_id_a != peer_id_b

    # A must have seen B join the channel, otherwise A's SHOUT goes to nobody.
    a.wait_for(
        {"kind": "channel_event", "event": "JOIN", "peer_name": "igsB", "channel": channel},
        DISCOVERY_TIMEOUT,
    )

    text = f"shout {os.getpid()} {time.monotonic_ns()}"
    ack = a.request({"cmd": "shout", "channel": channel, "text": text})
    assert ack["rc"] == 0, ack
    shout = b.wait_for(
        {"kind": "channel_event", "event": "SHOUT", "channel": channel}, MESSAGE_TIMEOUT
    )
    assert shout["peer_name"] == "igsA"
    assert shout["peer_id"] == peer_id_a
    assert shout["frames"] == [text.encode().hex()]

    text = f"whisper {os.getpid()} {time.monotonic_ns()}"
    ack = b.request({"cmd": "whisper", "peer": "igsA", "text": text})
    assert ack["rc"] == 0, ack
    whisper = a.wait_for(
        lambda ln: ln.get("event") == "WHISPER" and ln["frames"][:1] == [text.encode().hex()],
        MESSAGE_TIMEOUT,
    )
    assert whisper["kind"] == "channel_event"
    assert whisper["peer_name"] == "igsB"
    assert whisper["peer_id"] == peer_id_b
    # Ingescape appends the target agent's UUID to a whispered string.
    assert whisper["frames"][1:] == [ready_a["agent_uuid"].encode().hex()]

    # Zyre never delivers a node's own SHOUT back to it.
    assert a.find({"kind": "channel_event", "event": "SHOUT"}) is None

    # A leaves cleanly: B sees it go, both exit 0.
    assert a.stop() == 0, a.describe()
    assert a.find({"kind": "stopped"}) is not None
    b.wait_for({"kind": "agent_event", "event": "PEER_EXITED", "uuid": peer_id_a}, MESSAGE_TIMEOUT)
    assert b.stop() == 0, b.describe()


def _loopback_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_tcp_port()}"


@pytest.mark.interop
def test_broker_mode_on_loopback(need_ingescape: None) -> None:
    broker = _loopback_endpoint()
    channel = "pw-harness"
    args_a = ["--name", "igsA", "--endpoint", _loopback_endpoint(), "--broker-bind", broker]
    args_b = ["--name", "igsB", "--endpoint", _loopback_endpoint(), "--channel", channel]
    common = ["--broker", broker, "--timeout", "8000"]
    with IgsPeer([*args_a, *common]) as a, IgsPeer([*args_b, *common]) as b:
        _exchange(a, b, channel)


@pytest.mark.interop
@pytest.mark.netns
def test_beacon_mode_on_private_lan(need_ingescape: None, lan2: Lan) -> None:
    h1, h2 = lan2.hosts
    channel = "pw-harness"
    args_a = ["--name", "igsA", "--device", h1.device, "--port", str(BEACON_PORT)]
    args_b = ["--name", "igsB", "--device", h2.device, "--port", str(BEACON_PORT)]
    with IgsPeer(args_a, host=h1) as a, IgsPeer([*args_b, "--channel", channel], host=h2) as b:
        _exchange(a, b, channel)
        enter = b.wait_for({"kind": "channel_event", "event": "ENTER", "peer_name": "igsA"})
        assert enter["address"].startswith(f"tcp://{h1.ip}:"), enter


@pytest.mark.interop
@pytest.mark.netns
def test_start_failure_is_reported(need_ingescape: None, need_netns: None) -> None:
    """Ingescape refuses ``lo`` for beacons: the harness reports it and exits 2."""
    with loopback_namespace() as ns, IgsPeer(["--device", "lo"], host=ns) as peer:
        line = peer.wait_for(lambda ln: ln.get("kind") in ("ready", "error"), 15.0)
        assert line["kind"] == "error", peer.describe()
        assert peer.proc is not None
        assert peer.proc.wait(10.0) == 2
    assert ns.ns not in list_namespaces()


@pytest.mark.netns
def test_namespaces_are_private_and_removed(need_netns: None) -> None:
    """Broadcast works inside the LAN and on a private ``lo``; cleanup removes everything."""
    probe = textwrap.dedent(
        """
        import socket, sys
        dst, n = sys.argv[1], int(sys.argv[2])
        rx = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("0.0.0.0", 25999)); s.settimeout(5); rx.append(s)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        tx.sendto(b"pw", (dst, 25999))
        print(sum(s.recv(16) == b"pw" for s in rx))
        """
    )
    with loopback_namespace() as lo:
        res = lo.run([sys.executable, "-c", probe, lo.broadcast, "3"], timeout=20)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "3"  # every listener hears a 127.255.255.255 broadcast
    assert lo.ns not in list_namespaces()

    with Lan(2) as lan:
        h1, h2 = lan.hosts
        receiver = (
            "import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.settimeout(10); s.bind(('0.0.0.0', 25998))\n"
            "print(s.recvfrom(16)[1][0], flush=True)\n"
        )
        listener = h2.popen([sys.executable, "-c", receiver], stdout=subprocess.PIPE, text=True)
        sender = (  # repeats until the receiver is bound; killed by Lan.close()
            "import socket, sys, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
            "for _ in range(100): s.sendto(b'x', (sys.argv[1], 25998)); time.sleep(0.1)\n"
        )
        beeper = h1.popen([sys.executable, "-c", sender, h1.broadcast])
        assert listener.stdout is not None
        assert listener.stdout.readline().strip() == h1.ip
        listener.stdout.close()
        no_route = h1.run(["ip", "route", "get", "192.0.2.1"])
        assert no_route.returncode != 0  # no way out of the LAN
        names = {lan.switch_ns, *(h.ns for h in lan)}
        assert names <= list_namespaces()
    # the sender was still running: close() killed it, then deleted the namespaces
    assert beeper.returncode == -signal.SIGTERM
    assert not names & list_namespaces()
    assert not names & owned_namespaces()
