"""patchwire ↔ real Ingescape 4.7 agents at the ZRE level: discovery, channels, groups, elections.

Each test runs real Ingescape agents (``tests/interop/igs_peer.py``, one subprocess each) next to
patchwire nodes (in this process, or ``tests/support/pw_peer.py`` subprocesses), and each side
checks what the other does. Broker mode runs on 127.0.0.1; beacon mode runs in a private LAN of
network namespaces (Ingescape refuses ``lo`` for beacons). Every agent must still be running at
the end of a test and stop with exit code 0, unless the test kills it on purpose.

Missing prerequisites (the ingescape wheel; root for namespaces) skip these tests, or fail them
when ``CI`` is set. Measured discovery and exit times are printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from patchwire import (
    ElectionLost,
    ElectionWon,
    Network,
    Node,
    PeerEntered,
    PeerExited,
    PeerInfo,
    PeerJoined,
    PeerLeft,
    ShoutReceived,
    WhisperReceived,
)
from tests.interop.interop_support import (
    INGESCAPE_VERSION_HEADER,
    IgsPeer,
    Recorder,
    agent_event_pred,
    agent_events,
    agent_saw_exit,
    agent_wait,
    assert_agent_healthy,
    channel_event_pred,
    channel_events,
    finish_agent,
    finish_agents,
    finish_pw,
    hexs,
    loopback_endpoint,
    quiet_for,
    record_timing,
    require_ingescape,
    require_netns,
    start_agent,
    start_pw,
    until,
)
from tests.support.netns import Lan, list_namespaces

pytestmark = pytest.mark.interop

DISCOVERY = 10.0
"""Seconds allowed for discovery (observed: well under 1 s)."""
MESSAGE = 5.0
"""Seconds allowed for a message or a clean exit to arrive."""
BEACON_PORT = 5670
"""UDP beacon port inside the private LAN (any port works there)."""
AGENT_TIMEOUT = 8.0
"""Ingescape's default peer expiry (``igs_net_set_timeout``), left at its default here."""
PW_EXPIRED = 3.0
"""patchwire's shortened expiry in the beacon tests (``--expired``)."""
PW_EVASIVE = 1.0
"""patchwire's evasive timeout with it: two reap ticks before expiry, so a silent but live peer
is always PINGed in time (with ``--evasive 2`` one tick only, and 1 run in ~10 expired the live
agent when that tick came a millisecond late)."""
REAP = 1.0
"""Both sides check their timers once a second."""

LOW = UUID(int=1)
"""The smallest possible node id (``000…001``): wins every election wave it takes part in."""
HIGH = UUID(int=(1 << 128) - 1)
"""The largest node id (``FFF…FFF``): loses every election against anybody else."""
ELECTION = "E1"
ELECTION_GROUP = "\\o/ E1"
CHAN = "CHAN"


@pytest.fixture
def need_ingescape() -> None:
    require_ingescape()


@pytest.fixture
def need_netns() -> None:
    require_netns()


@contextlib.contextmanager
def private_lan(n: int) -> Iterator[Lan]:
    """``Lan(n)``; afterwards none of its namespaces may be left."""
    with Lan(n) as lan:
        yield lan
    leftover = {lan.switch_ns, *(h.ns for h in lan)} & list_namespaces()
    assert not leftover, f"namespaces left behind: {leftover}"


def broker_agent_args(name: str, broker: str, *extra: str) -> list[str]:
    """An agent that uses ``broker`` (broker mode on 127.0.0.1)."""
    return ["--name", name, "--endpoint", loopback_endpoint(), "--broker", broker, *extra]


def check_agent_headers(peer: PeerInfo, ready: dict[str, Any]) -> None:
    """What patchwire knows of a real agent matches what the agent says of itself."""
    headers = peer.headers
    assert headers["ingescape"] == INGESCAPE_VERSION_HEADER, headers
    assert headers["pid"] == str(ready["pid"]), headers
    assert headers["publisher"].isdigit(), headers
    assert headers["inproc"] == f"inproc://{peer.id}", headers  # Zyre id = Ingescape peer id
    name = ready["name"]
    assert {"INGESCAPE_PRIVATE", f"{name}-IGS", f"{name}-IGS-REPLAY"} <= peer.groups


async def wait_mesh(nodes: list[Node], size: int) -> None:
    """Every node has ``size - 1`` ready peers."""
    for node in nodes:
        await node.wait_until(
            lambda node=node: len(node.peers()) == size - 1 or None, timeout=DISCOVERY
        )


async def agent_sees(agent: IgsPeer, *nodes: Node) -> None:
    """The agent raised PEER_ENTERED for each node (by Zyre id)."""
    for node in nodes:
        await agent_wait(agent, agent_event_pred("PEER_ENTERED", uuid=node.id), DISCOVERY)


async def request(agent: IgsPeer, **cmd: Any) -> dict[str, Any]:
    """Send a command to the agent and check its ``ack`` (without blocking the loop)."""
    ack = await asyncio.to_thread(agent.request, cmd)
    assert "error" not in ack, ack
    assert ack.get("rc") == 0, ack
    return ack


# ---------------------------------------------------------------------------------------------
# 1. patchwire as the broker of Ingescape agents


async def test_patchwire_broker_serves_ingescape_agents(need_ingescape: None) -> None:
    broker = loopback_endpoint()
    hub = Node("pw-hub", network=Network(broker_bind=broker), headers={"x-pw": "hub"})
    hub.join(CHAN)
    rec = Recorder(hub)
    ep1, ep2 = loopback_endpoint(), loopback_endpoint()
    async with contextlib.AsyncExitStack() as stack:
        await hub.start()
        stack.push_async_callback(hub.stop)
        t0 = time.monotonic()
        a1 = stack.enter_context(
            start_agent(
                ["--name", "igs1", "--endpoint", ep1, "--broker", broker, "--channel", CHAN]
            )
        )
        a2 = stack.enter_context(
            start_agent(
                ["--name", "igs2", "--endpoint", ep2, "--broker", broker, "--channel", CHAN]
            )
        )
        ready1 = await asyncio.to_thread(a1.wait_ready)
        ready2 = await asyncio.to_thread(a2.wait_ready)

        # Everybody sees everybody: patchwire the agents, the agents patchwire and each other.
        igs1 = await hub.wait_peer("igs1", timeout=DISCOVERY)
        igs2 = await hub.wait_peer("igs2", timeout=DISCOVERY)
        seen = await agent_wait(a1, agent_event_pred("PEER_ENTERED", uuid=hub.id), DISCOVERY)
        entered_at = rec.stamped(PeerEntered, peer=igs1.id)[0][0]
        record_timing(
            "broker: agent joins a patchwire broker -> patchwire PeerEntered", entered_at - t0
        )
        record_timing(
            "broker: agent joins a patchwire broker -> agent PEER_ENTERED", seen["rx"] - t0
        )
        assert (igs1.endpoint, igs2.endpoint) == (ep1, ep2)
        check_agent_headers(igs1, ready1)
        check_agent_headers(igs2, ready2)
        for agent, other in ((a1, "igs2"), (a2, "igs1")):
            entered = await agent_wait(agent, agent_event_pred("PEER_ENTERED", uuid=hub.id))
            assert entered["name"] == "pw-hub"
            assert entered["data"] == {"x-pw": "hub"}  # our headers, exactly
            enter = await agent_wait(agent, channel_event_pred("ENTER", peer_id=hub.id))
            assert enter["address"] == hub.endpoint
            await agent_wait(agent, agent_event_pred("PEER_ENTERED", name=other), DISCOVERY)
            await agent_wait(agent, channel_event_pred("JOIN", peer_id=hub.id, channel=CHAN))

        # patchwire → agents: a 2-frame SHOUT to both, a 2-frame WHISPER to one.
        for peer in (igs1, igs2):
            await rec.wait(PeerJoined, peer=peer.id, group=CHAN)
        frames = ("pw-hub shout", b"\x00\x01\xfe\xff")
        assert hub.shout(CHAN, *frames) == 2
        for agent in (a1, a2):
            shout = await agent_wait(agent, channel_event_pred("SHOUT", peer_id=hub.id), MESSAGE)
            assert (shout["peer_name"], shout["channel"]) == ("pw-hub", CHAN)
            assert shout["frames"] == hexs(*frames)
        hub.whisper("igs1", "pw-hub whisper", b"\xff\x00")
        whisper = await agent_wait(a1, channel_event_pred("WHISPER", peer_id=hub.id), MESSAGE)
        assert whisper["frames"] == hexs("pw-hub whisper", b"\xff\x00")
        hub.whisper(igs2.id, "by uuid")
        await agent_wait(a2, channel_event_pred("WHISPER", peer_id=hub.id), MESSAGE)
        assert [w["frames"] for w in channel_events(a2, "WHISPER", peer_id=hub.id)] == [
            hexs("by uuid")
        ]  # igs2 never got igs1's whisper

        # agents → patchwire: exactly the frames sent (patchwire is not an agent: no UUID frame).
        await request(a1, cmd="shout", channel=CHAN, text="igs1 shout")
        shout_in = await rec.wait(ShoutReceived, peer=igs1.id)
        assert shout_in == ShoutReceived(
            peer=igs1.id, name="igs1", group=CHAN, content=(b"igs1 shout",)
        )
        await request(a2, cmd="whisper", peer="pw-hub", text="igs2 whisper")
        whisper_in = await rec.wait(WhisperReceived, peer=igs2.id)
        assert whisper_in.content == (b"igs2 whisper",)
        assert len(rec.of(ShoutReceived)) == 1
        assert len(rec.of(WhisperReceived)) == 1

        # An agent stops: patchwire and the other agent see it leave (GOODBYE in broker mode).
        await asyncio.to_thread(finish_agent, a1)
        gone = await rec.wait(PeerExited, peer=igs1.id, timeout=MESSAGE)
        assert gone.reason == "goodbye"
        await agent_wait(a2, agent_event_pred("PEER_EXITED", uuid=igs1.id), MESSAGE)

        # patchwire stops: the remaining agent sees it leave.
        assert not rec.of(PeerExited, peer=igs2.id)
        assert_agent_healthy(a2)
        stopped_at = time.monotonic()
        await hub.stop()
        exited = await agent_wait(a2, agent_event_pred("PEER_EXITED", uuid=hub.id), MESSAGE)
        record_timing("broker: patchwire stops -> agent PEER_EXITED", exited["rx"] - stopped_at)
        assert rec.of(PeerExited, peer=igs2.id) == [
            PeerExited(peer=igs2.id, name="igs2", reason="stopped")
        ]
        assert len(agent_events(a2, "PEER_ENTERED", uuid=hub.id)) == 1
        await asyncio.to_thread(agent_saw_exit, a2, uuid=hub.id)
        assert len(agent_events(a2, "PEER_EXITED", uuid=hub.id)) == 1
        await asyncio.to_thread(finish_agent, a2)


# ---------------------------------------------------------------------------------------------
# 2. an Ingescape agent as the broker of patchwire nodes (and of another agent)


async def test_ingescape_broker_serves_patchwire_nodes(need_ingescape: None) -> None:
    broker = loopback_endpoint()
    async with contextlib.AsyncExitStack() as stack:
        ab = stack.enter_context(
            start_agent(
                [
                    *("--name", "igs-broker", "--endpoint", loopback_endpoint()),
                    *("--broker-bind", broker, "--channel", CHAN),
                ]
            )
        )
        ready_b = await asyncio.to_thread(ab.wait_ready)
        n1 = Node("pw1", network=Network(brokers=(broker,)), headers={"x-pw": "1"})
        n2 = Node("pw2", network=Network(brokers=(broker,)))
        r1, r2 = Recorder(n1), Recorder(n2)
        for node in (n1, n2):
            node.join(CHAN)
        t0 = time.monotonic()
        await n1.start()
        stack.push_async_callback(n1.stop)
        await n2.start()
        stack.push_async_callback(n2.stop)
        a2 = stack.enter_context(start_agent(broker_agent_args("igs2", broker, "--channel", CHAN)))
        ready2 = await asyncio.to_thread(a2.wait_ready)

        # Discovery through the agent's broker, for patchwire↔agent and patchwire↔patchwire.
        igsb = await n1.wait_peer("igs-broker", timeout=DISCOVERY)
        seen = await agent_wait(ab, agent_event_pred("PEER_ENTERED", uuid=n1.id), DISCOVERY)
        entered_at = r1.stamped(PeerEntered, peer=igsb.id)[0][0]
        record_timing(
            "broker: patchwire joins an agent's broker -> patchwire PeerEntered", entered_at - t0
        )
        record_timing(
            "broker: patchwire joins an agent's broker -> agent PEER_ENTERED", seen["rx"] - t0
        )
        await wait_mesh([n1, n2], 4)
        check_agent_headers(igsb, ready_b)
        check_agent_headers(n2.peer("igs2"), ready2)
        assert n1.peer("pw2").id == n2.id
        assert n2.peer("pw1").id == n1.id
        for agent in (ab, a2):
            await agent_sees(agent, n1, n2)
        assert agent_events(ab, "PEER_ENTERED", uuid=n1.id)[0]["data"] == {"x-pw": "1"}
        await agent_wait(a2, agent_event_pred("PEER_ENTERED", uuid=igsb.id))
        await agent_wait(ab, agent_event_pred("PEER_ENTERED", name="igs2"))

        # Whispers and shouts, both ways.
        n1.whisper("igs-broker", "pw1 whisper", b"\x00")
        got = await agent_wait(ab, channel_event_pred("WHISPER", peer_id=n1.id), MESSAGE)
        assert got["frames"] == hexs("pw1 whisper", b"\x00")
        await request(ab, cmd="whisper", peer="pw2", text="broker whisper")
        assert (await r2.wait(WhisperReceived, peer=igsb.id)).content == (b"broker whisper",)
        for peer_id in (igsb.id, n2.peer("igs2").id, n1.id):
            await r2.wait(PeerJoined, peer=peer_id, group=CHAN)
        frames = ("pw2 shout", b"\x01\x02")
        assert n2.shout(CHAN, *frames) == 3
        for agent in (ab, a2):
            shout = await agent_wait(agent, channel_event_pred("SHOUT", peer_id=n2.id), MESSAGE)
            assert (shout["channel"], shout["frames"]) == (CHAN, hexs(*frames))
        assert (await r1.wait(ShoutReceived, peer=n2.id)).content == (b"pw2 shout", b"\x01\x02")
        for agent, node in ((a2, n1), (a2, n2)):
            await agent_wait(agent, channel_event_pred("JOIN", peer_id=node.id, channel=CHAN))
        await request(a2, cmd="shout", channel=CHAN, text="igs2 shout")
        igs2_id = n1.peer("igs2").id
        for rec in (r1, r2):
            shout_in = await rec.wait(ShoutReceived, peer=igs2_id)
            assert (shout_in.group, shout_in.content) == (CHAN, (b"igs2 shout",))

        await agent_wait(ab, channel_event_pred("SHOUT", peer_id=igs2_id), MESSAGE)

        # The broker agent stops: everybody sees it go; the direct links stay up.
        await asyncio.to_thread(finish_agent, ab)
        for rec in (r1, r2):
            assert (await rec.wait(PeerExited, peer=igsb.id, timeout=MESSAGE)).reason == "goodbye"
        await agent_wait(a2, agent_event_pred("PEER_EXITED", uuid=igsb.id), MESSAGE)
        n1.whisper("igs2", "after the broker")
        got = await agent_wait(a2, channel_event_pred("WHISPER", peer_id=n1.id), MESSAGE)
        assert got["frames"] == hexs("after the broker")

        # patchwire nodes stop: the remaining agent sees each one go.
        await n1.stop()
        await agent_wait(a2, agent_event_pred("PEER_EXITED", uuid=n1.id), MESSAGE)
        assert (await r2.wait(PeerExited, peer=n1.id)).reason == "goodbye"
        await n2.stop()
        await asyncio.to_thread(agent_saw_exit, a2, uuid=n2.id)
        for node in (n1, n2):
            assert len(agent_events(a2, "PEER_ENTERED", uuid=node.id)) == 1
            assert len(agent_events(a2, "PEER_EXITED", uuid=node.id)) == 1
        await asyncio.to_thread(finish_agent, a2)


# ---------------------------------------------------------------------------------------------
# 3. beacon mode in a private LAN: discovery, messages, stop, kill -9, restart


def beacon_pw_args(host: Any, name: str, *extra: str) -> list[str]:
    return [
        *("--name", name, "--device", host.device, "--port", str(BEACON_PORT)),
        *("--expired", str(PW_EXPIRED), "--evasive", str(PW_EVASIVE)),
        *extra,
    ]


def beacon_agent_args(host: Any, name: str, *extra: str) -> list[str]:
    return ["--name", name, "--device", host.device, "--port", str(BEACON_PORT), *extra]


@pytest.mark.netns
def test_beacon_mode_lifecycle(need_ingescape: None, need_netns: None) -> None:
    with private_lan(3) as lan, contextlib.ExitStack() as stack:
        h1, h2, h3 = lan.hosts
        agent = stack.enter_context(
            start_agent(beacon_agent_args(h1, "igs", "--channel", CHAN), host=h1)
        )
        agent.wait_ready()
        t0 = time.monotonic()
        p2 = stack.enter_context(start_pw(beacon_pw_args(h2, "pw2", "--channel", CHAN), host=h2))
        p3 = stack.enter_context(start_pw(beacon_pw_args(h3, "pw3"), host=h3))
        r2, r3 = p2.wait_ready(), p3.wait_ready()

        # Discovery, each side checking the other.
        seen = agent.wait_for(agent_event_pred("PEER_ENTERED", uuid=r2["uuid"]), DISCOVERY)
        entered = p2.wait_event("PeerEntered", DISCOVERY, name="igs")
        record_timing(
            "beacon: patchwire starts after the agent -> patchwire PeerEntered", entered["rx"] - t0
        )
        record_timing(
            "beacon: patchwire starts after the agent -> agent PEER_ENTERED", seen["rx"] - t0
        )
        igs_id = entered["peer"]
        assert entered["endpoint"].startswith(f"tcp://{h1.ip}:")
        assert entered["headers"]["ingescape"] == INGESCAPE_VERSION_HEADER
        assert seen["name"] == "pw2"
        assert (
            agent.wait_for(channel_event_pred("ENTER", peer_id=r2["uuid"]))["address"]
            == r2["endpoint"]
        )
        agent.wait_for(agent_event_pred("PEER_ENTERED", uuid=r3["uuid"]), DISCOVERY)
        p3.wait_event("PeerEntered", DISCOVERY, peer=igs_id)

        # Messages both ways; p3 is not in CHAN and must not get the agent's shout.
        agent.wait_for(channel_event_pred("JOIN", peer_id=r2["uuid"], channel=CHAN))
        p2.wait_event("PeerJoined", peer=igs_id, group=CHAN)
        assert p2.request({"cmd": "shout", "channel": CHAN, "text": "pw2 shout"})["result"] == 1
        shout = agent.wait_for(channel_event_pred("SHOUT", peer_id=r2["uuid"]), MESSAGE)
        assert (shout["channel"], shout["frames"]) == (CHAN, hexs("pw2 shout"))
        p2.request({"cmd": "whisper", "peer": "igs", "text": "pw2 whisper"})
        whisper = agent.wait_for(channel_event_pred("WHISPER", peer_id=r2["uuid"]), MESSAGE)
        assert whisper["frames"] == hexs("pw2 whisper")
        assert agent.request({"cmd": "shout", "channel": CHAN, "text": "igs shout"})["rc"] == 0
        shout_in = p2.wait_event("ShoutReceived", MESSAGE, peer=igs_id)
        assert (shout_in["group"], shout_in["content"]) == (CHAN, hexs("igs shout"))
        assert agent.request({"cmd": "whisper", "peer": "pw3", "text": "igs whisper"})["rc"] == 0
        assert p3.wait_event("WhisperReceived", MESSAGE, peer=igs_id)["content"] == hexs(
            "igs whisper"
        )
        assert not p3.events("ShoutReceived")  # the whisper came after the shout, on one link

        # The two patchwire nodes find each other too: only their own beacons can do that.
        p2.wait_event("PeerEntered", DISCOVERY, peer=r3["uuid"])
        p3.wait_event("PeerEntered", DISCOVERY, peer=r2["uuid"])

        # A patchwire node stops: the agent sees it leave at once (port-0 beacon).
        stopped_at = time.monotonic()
        finish_pw(p3)
        gone = agent.wait_for(agent_event_pred("PEER_EXITED", uuid=r3["uuid"]), MESSAGE)
        record_timing("beacon: patchwire stops -> agent PEER_EXITED", gone["rx"] - stopped_at)
        assert gone["rx"] - stopped_at < 1.5
        assert p2.wait_event("PeerExited", MESSAGE, peer=r3["uuid"])["reason"] in (
            "left",
            "goodbye",
        )

        # It restarts (new UUID, same host): seen again.
        p3b = stack.enter_context(start_pw(beacon_pw_args(h3, "pw3"), host=h3))
        r3b = p3b.wait_ready()
        assert r3b["uuid"] != r3["uuid"]
        agent.wait_for(agent_event_pred("PEER_ENTERED", uuid=r3b["uuid"]), DISCOVERY)
        p3b.wait_event("PeerEntered", DISCOVERY, peer=igs_id)
        p2.wait_event("PeerEntered", DISCOVERY, peer=r3b["uuid"])

        # kill -9 of that node: the agent expires it (default 8 s timeout, 1 s reap tick).
        killed_at = time.monotonic()
        p3b.kill()
        gone = agent.wait_for(
            agent_event_pred("PEER_EXITED", uuid=r3b["uuid"]), AGENT_TIMEOUT + REAP + 2
        )
        record_timing("beacon: kill -9 of patchwire -> agent PEER_EXITED", gone["rx"] - killed_at)
        assert AGENT_TIMEOUT - REAP < gone["rx"] - killed_at <= AGENT_TIMEOUT + REAP + 0.5
        agent_saw_exit(agent, uuid=r3b["uuid"])
        expired = p2.wait_event("PeerExited", MESSAGE, peer=r3b["uuid"])
        assert expired["reason"] == "expired"

        # The agent stops: patchwire sees it leave at once.
        assert len(agent_events(agent, "PEER_ENTERED", name="pw3")) == 2
        assert len(agent_events(agent, "PEER_EXITED", name="pw3")) == 2
        churn = agent_events(agent, "PEER_EXITED", uuid=r2["uuid"])
        assert not churn, f"pw2 left the agent\n{agent.describe()}\n{p2.describe()}"
        stopped_at = time.monotonic()
        finish_agent(agent)
        left = p2.wait_event("PeerExited", MESSAGE, peer=igs_id)
        record_timing("beacon: agent stops -> patchwire PeerExited", left["rx"] - stopped_at)
        assert left["reason"] in ("left", "goodbye")
        assert left["rx"] - stopped_at < 1.5

        # kill -9 of an agent: patchwire expires it (--expired 3).
        agent2 = stack.enter_context(start_agent(beacon_agent_args(h1, "igs-b"), host=h1))
        agent2.wait_ready()
        entered2 = p2.wait_event("PeerEntered", DISCOVERY, name="igs-b")
        agent2.wait_for(agent_event_pred("PEER_ENTERED", uuid=r2["uuid"]), DISCOVERY)
        assert_agent_healthy(agent2)
        killed_at = time.monotonic()
        agent2.kill()
        expired = p2.wait_event("PeerExited", PW_EXPIRED + REAP + 2, peer=entered2["peer"])
        record_timing(
            "beacon: kill -9 of the agent -> patchwire PeerExited (--expired 3)",
            expired["rx"] - killed_at,
        )
        assert expired["reason"] == "expired"
        assert PW_EXPIRED - REAP < expired["rx"] - killed_at <= PW_EXPIRED + REAP + 0.5
        assert len(p2.events("PeerEntered", name="igs")) == 1
        finish_pw(p2)


BEACON_CAPTURE = """
import json, os, select, socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("0.0.0.0", port))
print(json.dumps({"kind": "ready"}), flush=True)
end = time.monotonic() + limit
while time.monotonic() < end:
    ready, _, _ = select.select([s, sys.stdin], [], [], 0.5)
    if sys.stdin in ready:
        break
    if s in ready:
        data, (ip, sport) = s.recvfrom(2048)
        line = {"kind": "beacon", "src": ip, "sport": sport, "data": data.hex()}
        print(json.dumps(line), flush=True)
"""


class BeaconCapture(IgsPeer):
    """Prints every UDP datagram received on the beacon port (JSON lines); stops on any input."""

    @property
    def argv(self) -> list[str]:
        return [self.python, "-u", "-c", BEACON_CAPTURE, str(BEACON_PORT), str(self.max_seconds)]


def beacon_hex(uuid: str, port: int) -> str:
    """A ZRE v1 beacon: ``ZRE`` 0x01, 16-byte UUID, u16 big-endian port."""
    return (b"ZRE\x01" + UUID(hex=uuid).bytes + port.to_bytes(2, "big")).hex()


@pytest.mark.netns
def test_beacons_on_the_wire(need_ingescape: None, need_netns: None) -> None:
    """A third host hears both kinds of beacons: same 22-byte v1 format, sent from the beacon
    port, and a port-0 beacon when each one stops."""
    pw_uuid = "0123456789ABCDEF0123456789ABCDEF"
    with private_lan(3) as lan, contextlib.ExitStack() as stack:
        h1, h2, h3 = lan.hosts
        capture = BeaconCapture([], host=h3, max_seconds=30.0, start=False)
        capture.start()
        stack.enter_context(capture)
        capture.wait_for({"kind": "ready"})
        agent = stack.enter_context(start_agent(beacon_agent_args(h1, "igs"), host=h1))
        agent.wait_ready()
        pw = stack.enter_context(start_pw(beacon_pw_args(h2, "pw", "--uuid", pw_uuid), host=h2))
        pw_port = int(pw.wait_ready()["endpoint"].rsplit(":", 1)[1])
        igs = pw.wait_event("PeerEntered", DISCOVERY, name="igs")
        igs_port = int(igs["endpoint"].rsplit(":", 1)[1])

        def beacon_from(ip: str, data: str) -> Any:
            return lambda ln: ln.get("kind") == "beacon" and ln["src"] == ip and ln["data"] == data

        from_agent = capture.wait_for(beacon_from(h1.ip, beacon_hex(igs["peer"], igs_port)), 3.0)
        assert from_agent["sport"] == BEACON_PORT
        try:
            from_pw = capture.wait_for(
                lambda ln: ln.get("kind") == "beacon" and ln["src"] == h2.ip, 3.0
            )
        except AssertionError as error:
            raise AssertionError(
                f"no UDP beacon from the patchwire node, while the agent's arrived\n{pw.describe()}"
            ) from error
        assert from_pw["data"] == beacon_hex(pw_uuid, pw_port)
        assert from_pw["sport"] == BEACON_PORT

        finish_pw(pw)
        capture.wait_for(beacon_from(h2.ip, beacon_hex(pw_uuid, 0)), 2.0)
        agent_saw_exit(agent, uuid=pw_uuid)
        finish_agent(agent)
        capture.wait_for(beacon_from(h1.ip, beacon_hex(igs["peer"], 0)), 2.0)


# ---------------------------------------------------------------------------------------------
# 4. groups: patchwire joins and leaves while running; shouts reach members only


async def test_groups_join_leave_and_shout_scope(need_ingescape: None) -> None:
    broker = loopback_endpoint()
    member = Node("pw-member", network=Network(broker_bind=broker))
    other = Node("pw-other", network=Network(brokers=(broker,)))
    for node in (member, other):
        node.join("H")
    rm, ro = Recorder(member), Recorder(other)
    async with contextlib.AsyncExitStack() as stack:
        for node in (member, other):
            await node.start()
            stack.push_async_callback(node.stop)
        a = stack.enter_context(
            start_agent(broker_agent_args("igsA", broker, "--channel", "G", "--channel", "H"))
        )
        b = stack.enter_context(start_agent(broker_agent_args("igsB", broker, "--channel", "H")))
        await wait_mesh([member, other], 4)
        for agent in (a, b):
            await agent_sees(agent, member, other)
        igs_a, igs_b = member.peer("igsA").id, member.peer("igsB").id
        for rec in (rm, ro):
            await rec.wait(PeerJoined, peer=igs_a, group="G")
            await rec.wait(PeerJoined, peer=igs_b, group="H")

        # patchwire joins G at run time: both agents see the JOIN (once, even if asked twice).
        member.join("G")
        member.join("G")
        for agent in (a, b):
            await agent_wait(agent, channel_event_pred("JOIN", peer_id=member.id, channel="G"))
        await ro.wait(PeerJoined, peer=member.id, group="G")

        # patchwire's shout on G reaches igsA only (igsB gets the next shout, on H, instead).
        assert member.shout("G", "to G #1") == 1
        assert member.shout("H", "to H #1") == 3
        shout = await agent_wait(a, channel_event_pred("SHOUT", peer_id=member.id, channel="G"))
        assert shout["frames"] == hexs("to G #1")
        await agent_wait(b, channel_event_pred("SHOUT", peer_id=member.id, channel="H"))
        assert not channel_events(b, "SHOUT", channel="G")
        assert not ro.of(ShoutReceived, group="G")

        # igsA's shout on G reaches the member, not pw-other.
        await request(a, cmd="shout", channel="G", text="igsA to G #1")
        await request(a, cmd="shout", channel="H", text="igsA to H #1")
        got = await rm.wait(ShoutReceived, peer=igs_a, group="G")
        assert got.content == (b"igsA to G #1",)
        await ro.wait(ShoutReceived, peer=igs_a, group="H")
        assert not ro.of(ShoutReceived, group="G")

        # patchwire leaves G: igsA sees the LEAVE, and its next shout on G no longer reaches it.
        member.leave("G")
        member.leave("G")
        await agent_wait(a, channel_event_pred("LEAVE", peer_id=member.id, channel="G"))
        await request(a, cmd="shout", channel="G", text="igsA to G #2")
        await request(a, cmd="shout", channel="H", text="igsA to H #2")
        await until(
            lambda: [s for s in rm.of(ShoutReceived, group="H") if s.content == (b"igsA to H #2",)],
            MESSAGE,
            "igsA's second shout on H at pw-member",
        )
        assert [s.content for s in rm.of(ShoutReceived, group="G")] == [(b"igsA to G #1",)]

        # Many joins and leaves (the agent asserts on every status byte), then a barrier.
        for _ in range(5):
            member.join("G")
            member.join("X")
            member.leave("X")
            member.leave("G")
        member.leave("never-joined")
        for agent in (a, b):  # a barrier: this whisper follows the JOINs and LEAVEs on each link
            member.whisper(agent.wait_ready()["name"], "after the churn")
            await agent_wait(agent, channel_event_pred("WHISPER", peer_id=member.id), MESSAGE)
        for agent in (a, b):
            assert_agent_healthy(agent)
            joins = [e["channel"] for e in channel_events(agent, "JOIN", peer_id=member.id)]
            leaves = [e["channel"] for e in channel_events(agent, "LEAVE", peer_id=member.id)]
            assert joins == ["H", "G", *(["G", "X"] * 5)]
            assert leaves == ["G", *(["X", "G"] * 5)]
        assert member.groups == ("H",)

        # The agent joins and leaves a channel at run time: patchwire sees both.
        await request(a, cmd="join", channel="K")
        await request(a, cmd="leave", channel="K")
        for rec in (rm, ro):
            await rec.wait(PeerJoined, peer=igs_a, group="K")
            await rec.wait(PeerLeft, peer=igs_a, group="K")
        await agent_wait(b, channel_event_pred("LEAVE", peer_name="igsA", channel="K"), MESSAGE)
        assert member.peer("igsA").groups >= {"G", "H"}
        assert "K" not in member.peer("igsA").groups
        await asyncio.to_thread(finish_agents, a, b)
        for rec, node in ((rm, member), (ro, other)):
            stats = node.statistics()
            assert (stats.status_errors, stats.sequence_errors) == (0, 0)
            assert {e.reason for e in rec.of(PeerExited)} == {"goodbye"}


# ---------------------------------------------------------------------------------------------
# 5. elections with mixed members


@dataclass
class Member:
    """One member of an election group, patchwire node or real agent, seen from the test."""

    label: str
    id: str
    contests: bool = True
    node: Node | None = None
    rec: Recorder | None = None
    agent: IgsPeer | None = None
    mark: int = 0

    def set_mark(self) -> None:
        """Outcomes before this point belong to an earlier round."""
        if self.rec is not None:
            self.mark = len(self.rec.events)
        else:
            assert self.agent is not None
            self.mark = len(self.agent.lines)

    def outcome(self) -> tuple[str, str] | None:
        """``(won|lost, leader id)`` of the last round finished since the mark, or None."""
        if self.rec is not None:
            found = [
                ev
                for _, ev in self.rec.events[self.mark :]
                if isinstance(ev, ElectionWon | ElectionLost) and ev.group == ELECTION_GROUP
            ]
            if not found:
                return None
            last = found[-1]
            return ("won", self.id) if isinstance(last, ElectionWon) else ("lost", last.leader)
        assert self.agent is not None
        lines = self.agent.snapshot()[self.mark :]
        results = [
            ln
            for ln in lines
            if ln.get("kind") == "agent_event"
            and ln["event"] in ("AGENT_WON_ELECTION", "AGENT_LOST_ELECTION")
        ]
        leaders = [
            ln
            for ln in lines
            if ln.get("kind") == "channel_event"
            and ln["event"] == "LEADER"
            and ln["channel"] == ELECTION_GROUP
        ]
        if not results or not leaders:
            return None
        assert results[-1]["data"] == ELECTION_GROUP, results[-1]
        won = results[-1]["event"] == "AGENT_WON_ELECTION"
        return ("won" if won else "lost", leaders[-1]["peer_id"])


def election_state(members: list[Member]) -> str:
    return ", ".join(f"{m.label}={m.outcome()}" for m in members if m.contests)


def settled(members: list[Member], leader: str) -> bool:
    """Every contestant finished a round since its mark and names ``leader``; only it won."""
    for member in members:
        if not member.contests:
            continue
        outcome = member.outcome()
        expected = ("won" if member.id == leader else "lost", leader)
        if outcome != expected:
            return False
    return True


async def barrier(members: list[Member]) -> None:
    """Every member sends a whisper to every other one and all arrive: election messages
    sent before them (same links) have been processed."""
    token = f"sync {time.monotonic_ns()}"
    for sender in members:
        for target in members:
            if target is sender:
                continue
            if sender.node is not None:
                sender.node.whisper(target.id, token)
            else:
                assert sender.agent is not None
                await request(sender.agent, cmd="whisper", peer=target.label, text=token)

    def arrived() -> bool:
        for target in members:
            senders = {m.id for m in members if m is not target}
            if target.rec is not None:
                got = {
                    ev.peer for ev in target.rec.of(WhisperReceived) if token.encode() in ev.content
                }
            else:
                assert target.agent is not None
                got = {
                    ln["peer_id"]
                    for ln in channel_events(target.agent, "WHISPER")
                    if ln["frames"][:1] == hexs(token)
                }
            if got != senders:
                return False
        return True

    await until(arrived, MESSAGE, "the election barrier whispers")


async def election_round(members: list[Member], leader: str, what: str) -> None:
    """Wait for the round to settle on ``leader``, then check it is stable and unanimous."""
    label = next(m.label for m in members if m.id == leader)
    try:
        await until(lambda: settled(members, leader), DISCOVERY, f"{what}: {label} elected")
    except AssertionError as error:
        raise AssertionError(f"{error}; outcomes: {election_state(members)}") from None
    await barrier(members)
    assert settled(members, leader), f"{what}: changed after settling: {election_state(members)}"
    winners = [m.label for m in members if m.contests and m.outcome() == ("won", leader)]
    assert winners == [label], f"{what}: winners {winners}"
    for member in members:
        if member.node is not None:
            assert member.node.leader(ELECTION) == leader, f"{member.label}: {what}"
        if member.agent is not None:
            assert_agent_healthy(member.agent)


def mark_all(members: list[Member]) -> None:
    for member in members:
        member.set_mark()


async def agent_joins_election(agent: IgsPeer, agent_id: str, *observers: Recorder) -> None:
    await request(agent, cmd="election_join", election=ELECTION)
    for rec in observers:
        await rec.wait(PeerJoined, peer=agent_id, group=ELECTION_GROUP)


async def test_election_patchwire_wins_against_an_agent(need_ingescape: None) -> None:
    """1 agent + 2 patchwire contestants; the patchwire node with id 000…001 ends up leader."""
    broker = loopback_endpoint()
    low = Node("pw-low", network=Network(broker_bind=broker), uuid=LOW)
    high = Node("pw-high", network=Network(brokers=(broker,)), uuid=HIGH)
    rl, rh = Recorder(low), Recorder(high)
    async with contextlib.AsyncExitStack() as stack:
        for node in (low, high):
            await node.start()
            stack.push_async_callback(node.stop)
        agent = stack.enter_context(start_agent(broker_agent_args("igs", broker)))
        await wait_mesh([low, high], 3)
        await agent_sees(agent, low, high)
        igs_id = low.peer("igs").id
        m_igs = Member("igs", igs_id, agent=agent)
        m_high = Member("pw-high", high.id, node=high, rec=rh)
        m_low = Member("pw-low", low.id, node=low, rec=rl)

        # Round 1: the agent (contesting alone) and pw-high, which joins: the agent wins.
        await agent_joins_election(agent, igs_id, rl, rh)
        mark_all([m_igs, m_high])
        high.join_election(ELECTION)
        await election_round([m_igs, m_high], igs_id, "agent vs FFF…F")
        assert not rl.of(ElectionWon)
        assert not rl.of(ElectionLost)

        # Round 2: pw-low joins; the smallest id wins, everybody agrees.
        mark_all([m_igs, m_high, m_low])
        low.join_election(ELECTION)
        await election_round([m_igs, m_high, m_low], low.id, "000…1 joins")
        await asyncio.to_thread(finish_agent, agent)


async def test_election_passive_patchwire_member_relays(need_ingescape: None) -> None:
    """A patchwire node that only joins the election group (000…001, not contesting) relays the
    waves: the agent's election completes, and the passive node never wins."""
    broker = loopback_endpoint()
    high = Node("pw-high", network=Network(broker_bind=broker), uuid=HIGH)
    passive = Node("pw-passive", network=Network(brokers=(broker,)), uuid=LOW)
    rh, rp = Recorder(high), Recorder(passive)
    async with contextlib.AsyncExitStack() as stack:
        for node in (high, passive):
            await node.start()
            stack.push_async_callback(node.stop)
        agent = stack.enter_context(start_agent(broker_agent_args("igs", broker)))
        await wait_mesh([high, passive], 3)
        await agent_sees(agent, high, passive)
        igs_id = high.peer("igs").id
        m_igs = Member("igs", igs_id, agent=agent)
        m_passive = Member("pw-passive", passive.id, contests=False, node=passive, rec=rp)
        m_high = Member("pw-high", high.id, node=high, rec=rh)

        # Round 1: only the agent contests; it needs the passive node's echo to finish.
        await agent_joins_election(agent, igs_id, rh, rp)
        mark_all([m_igs])
        passive.join(ELECTION_GROUP)
        await election_round([m_igs, m_passive], igs_id, "agent + passive member")

        # Round 2: pw-high contests too; the agent still wins (its id < FFF…F; 000…1 is passive).
        mark_all([m_igs, m_high])
        high.join_election(ELECTION)
        await election_round([m_igs, m_passive, m_high], igs_id, "agent + passive + FFF…F")
        assert not rp.of(ElectionWon)
        assert not rp.of(ElectionLost)
        await asyncio.to_thread(finish_agent, agent)


async def test_election_two_agents_and_patchwire(need_ingescape: None) -> None:
    """2 agents + 1 patchwire contestant with id FFF…F: the smaller agent id wins."""
    broker = loopback_endpoint()
    high = Node("pw-high", network=Network(broker_bind=broker), uuid=HIGH)
    rh = Recorder(high)
    async with contextlib.AsyncExitStack() as stack:
        await high.start()
        stack.push_async_callback(high.stop)
        a1 = stack.enter_context(start_agent(broker_agent_args("igs1", broker)))
        a2 = stack.enter_context(start_agent(broker_agent_args("igs2", broker)))
        await wait_mesh([high], 3)
        for agent, other in ((a1, "igs2"), (a2, "igs1")):
            await agent_sees(agent, high)
            await agent_wait(agent, agent_event_pred("PEER_ENTERED", name=other), DISCOVERY)
        id1, id2 = high.peer("igs1").id, high.peer("igs2").id
        m1, m2 = Member("igs1", id1, agent=a1), Member("igs2", id2, agent=a2)
        m_high = Member("pw-high", high.id, node=high, rec=rh)

        # Round 1, agents only: the one already contesting wins (Zyre: a newcomer launches no wave).
        await agent_joins_election(a1, id1, rh)
        mark_all([m1, m2])
        await agent_joins_election(a2, id2, rh)
        await election_round([m1, m2], id1, "two agents")

        # Round 2: patchwire joins; every contestant starts a wave and the smallest id wins.
        mark_all([m1, m2, m_high])
        high.join_election(ELECTION)
        await election_round([m1, m2, m_high], min(id1, id2), "two agents + FFF…F")
        await asyncio.to_thread(finish_agents, a1, a2)


@pytest.mark.netns
def test_election_beacon_mode(need_ingescape: None, need_netns: None) -> None:
    """Beacon mode, both contesting from the start (HELLO lists the group): 000…001 wins."""
    with private_lan(2) as lan, contextlib.ExitStack() as stack:
        h1, h2 = lan.hosts
        pw = stack.enter_context(
            start_pw(beacon_pw_args(h2, "pw", "--uuid", LOW.hex, "--election", ELECTION), host=h2)
        )
        pw.wait_ready()
        t0 = time.monotonic()
        agent = stack.enter_context(
            start_agent(beacon_agent_args(h1, "igs", "--election", ELECTION), host=h1)
        )
        seen = agent.wait_for(agent_event_pred("PEER_ENTERED", uuid=LOW.hex.upper()), DISCOVERY)
        entered = pw.wait_event("PeerEntered", DISCOVERY, name="igs")
        record_timing(
            "beacon: agent starts after patchwire -> patchwire PeerEntered", entered["rx"] - t0
        )
        record_timing("beacon: agent starts after patchwire -> agent PEER_ENTERED", seen["rx"] - t0)
        joined = pw.wait_event("PeerJoined", DISCOVERY, peer=entered["peer"], group=ELECTION_GROUP)
        lost = agent.wait_for(agent_event_pred("AGENT_LOST_ELECTION"), DISCOVERY)
        assert lost["data"] == ELECTION_GROUP
        leader = agent.wait_for(channel_event_pred("LEADER", channel=ELECTION_GROUP))
        assert leader["peer_id"] == LOW.hex.upper()
        won = pw.wait_for(
            lambda ln: (
                ln.get("type") in ("ElectionWon", "ElectionLost") and ln["rx"] >= joined["rx"]
            ),
            DISCOVERY,
        )
        assert won["type"] == "ElectionWon", won
        # A round trip on the same links: nothing contradicts the result afterwards.
        assert pw.request({"cmd": "whisper", "peer": "igs", "text": "sync"})
        agent.wait_for(channel_event_pred("WHISPER", peer_id=LOW.hex.upper()), MESSAGE)
        assert not agent_events(agent, "AGENT_WON_ELECTION")
        assert not pw.events("ElectionLost")
        finish_agent(agent)
        finish_pw(pw)


# ---------------------------------------------------------------------------------------------
# 6. no HELLO storm, no churn: a 10 s session with traffic then silence


SESSION = 10.0
"""Seconds of the session: a burst of traffic, then silence longer than the 8 s expiry."""


async def test_no_churn_during_a_long_session(need_ingescape: None) -> None:
    broker = loopback_endpoint()
    hub = Node("pw-hub", network=Network(broker_bind=broker))
    peer = Node("pw-peer", network=Network(brokers=(broker,)))
    for node in (hub, peer):
        node.join(CHAN)
    rh, rp = Recorder(hub), Recorder(peer)
    async with contextlib.AsyncExitStack() as stack:
        for node in (hub, peer):
            await node.start()
            stack.push_async_callback(node.stop)
        t0 = time.monotonic()
        agent = stack.enter_context(
            start_agent(
                broker_agent_args("igs", broker, "--channel", CHAN), max_seconds=SESSION + 30
            )
        )
        await wait_mesh([hub, peer], 3)
        await agent_sees(agent, hub, peer)
        igs_id = hub.peer("igs").id
        for rec in (rh, rp):
            await rec.wait(PeerJoined, peer=igs_id, group=CHAN)
        for node in (hub, peer):
            await agent_wait(agent, channel_event_pred("JOIN", peer_id=node.id, channel=CHAN))

        # Traffic both ways.
        count = 50
        for i in range(count):
            assert hub.shout(CHAN, f"hub {i}") == 2
            peer.whisper("igs", f"peer {i}")
            agent.send({"cmd": "shout", "channel": CHAN, "text": f"igs {i}"})
        await until(
            lambda: (
                len(channel_events(agent, "SHOUT", peer_id=hub.id)) == count
                and len(channel_events(agent, "WHISPER", peer_id=peer.id)) == count
                and len(rh.of(ShoutReceived, peer=igs_id)) == count
                and len(rp.of(ShoutReceived, peer=igs_id)) == count
            ),
            MESSAGE,
            "the traffic burst",
        )
        assert [e["frames"] for e in channel_events(agent, "SHOUT", peer_id=hub.id)] == [
            hexs(f"hub {i}") for i in range(count)
        ]
        assert [e.content for e in rp.of(ShoutReceived, peer=igs_id)] == [
            (f"igs {i}".encode(),) for i in range(count)
        ]
        before = {node.name: node.statistics().messages_in for node in (hub, peer)}

        # Silence until the end of the session: only PING/PING_OK keep the peers alive.
        start = len(agent.lines)

        def churn(line: dict[str, Any]) -> bool:
            return line.get("event") in ("PEER_ENTERED", "PEER_EXITED", "ENTER", "EXIT")

        remaining = SESSION - (time.monotonic() - t0)
        assert remaining > AGENT_TIMEOUT, "the traffic burst took too long"
        seen = await asyncio.to_thread(quiet_for, agent, churn, remaining, start)
        assert seen is None, f"churn at the agent: {seen}"
        for node in (hub, peer):
            assert len(agent_events(agent, "PEER_ENTERED", uuid=node.id)) == 1
            assert len(channel_events(agent, "ENTER", peer_id=node.id)) == 1
            assert node.statistics().messages_in > before[node.name]  # PING or PING_OK came
        assert not agent_events(agent, "PEER_EXITED")
        assert not channel_events(agent, "EXIT")
        for rec, node in ((rh, hub), (rp, peer)):
            assert len(rec.of(PeerEntered, peer=igs_id)) == 1
            assert not rec.of(PeerExited)
            stats = node.statistics()
            assert (stats.peers_entered, stats.peers_exited) == (2, 0)
            assert (stats.sequence_errors, stats.status_errors) == (0, 0)

        # One node stops: exactly one EXIT for it, none for the other.
        await peer.stop()
        await asyncio.to_thread(agent_saw_exit, agent, uuid=peer.id)
        await hub.wait_until(lambda: rh.of(PeerExited, peer=peer.id) or None, timeout=MESSAGE)
        assert len(agent_events(agent, "PEER_EXITED")) == 1
        assert len(agent_events(agent, "PEER_ENTERED", uuid=peer.id)) == 1
        await asyncio.to_thread(finish_agent, agent)
        assert (await rh.wait(PeerExited, peer=igs_id)).reason == "goodbye"
