"""Several patchwire ``Node`` objects in this process, meshed through a broker on 127.0.0.1.

No namespaces and no UDP: broker (gossip) mode only, on free loopback ports. Liveness timers are
long here (evasive 20 s, expired 30 s) so that no PING disturbs the message counts and so that a
departure seen within a second can only be the GOODBYE, not an expiry.
"""

from __future__ import annotations

import asyncio
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import patchwire as pw  # noqa: E402
from tests.support.pwpeer import free_tcp_port, loopback_endpoint  # noqa: E402

QUIET = pw.ZreSettings(evasive=20.0, expired=30.0)
MESH_TIMEOUT = 5.0
EVENT_TIMEOUT = 3.0

E = TypeVar("E")


async def next_event(
    stream: pw.EventStream,
    kind: type[E],
    timeout: float = EVENT_TIMEOUT,
    where: Callable[[E], bool] = lambda _: True,
) -> E:
    """The next event of class ``kind`` satisfying ``where`` (others are skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    skipped: list[Any] = []
    while True:
        remaining = deadline - loop.time()
        try:
            event = await stream.get(timeout=max(remaining, 0.0))
        except pw.TimeoutError:
            raise AssertionError(
                f"no {kind.__name__} within {timeout} s; skipped: {skipped}"
            ) from None
        if isinstance(event, kind) and where(event):
            return event
        skipped.append(event)


async def wait_peers(node: pw.Node, count: int, timeout: float = MESH_TIMEOUT) -> None:
    await node.wait_until(lambda: True if len(node.peers()) == count else None, timeout=timeout)


@dataclass
class Member:
    node: pw.Node
    events: pw.EventStream


@dataclass
class Mesh:
    broker: str
    a: Member
    b: Member
    c: Member

    @property
    def members(self) -> list[Member]:
        return [self.a, self.b, self.c]


async def make_mesh(
    *,
    names: tuple[str, str, str] = ("a", "b", "c"),
    before_start: Callable[[Mesh], None] | None = None,
    settings: pw.ZreSettings = QUIET,
) -> Mesh:
    """Node a runs the broker; b and c use it. Every node has an event stream from the start."""
    broker = loopback_endpoint()
    a = pw.Node(
        names[0],
        network=pw.Network(broker_bind=broker),
        headers={"x-role": "broker"},
        settings=settings,
    )
    b = pw.Node(
        names[1], network=pw.Network(brokers=(broker,)), headers={"x-role": "b"}, settings=settings
    )
    c = pw.Node(
        names[2], network=pw.Network(brokers=(broker,)), headers={"x-role": "c"}, settings=settings
    )
    mesh = Mesh(broker, *(Member(n, n.events()) for n in (a, b, c)))
    if before_start is not None:
        before_start(mesh)
    try:
        for member in mesh.members:
            await member.node.start()
        for member in mesh.members:
            await wait_peers(member.node, 2)
    except BaseException:
        for member in mesh.members:
            await member.node.stop()
        raise
    return mesh


@pytest.fixture
async def mesh() -> AsyncIterator[Mesh]:
    built = await make_mesh()
    yield built
    for member in built.members:
        await member.node.stop()


# --------------------------------------------------------------------------- discovery


async def test_three_nodes_discover_each_other_through_a_broker() -> None:
    started = time.monotonic()
    mesh = await make_mesh()
    elapsed = time.monotonic() - started
    print(f"\nin-process broker mesh of 3 nodes: {elapsed * 1000:.0f} ms from first start")
    try:
        nodes = [m.node for m in mesh.members]
        for member in mesh.members:
            node = member.node
            others = {n.id: n for n in nodes if n is not node}
            infos = {info.id: info for info in node.peers()}
            assert set(infos) == set(others), (node.name, infos)
            for peer_id, info in infos.items():
                other = others[peer_id]
                assert info.name == other.name
                assert info.endpoint == other.endpoint
                assert info.endpoint.startswith("tcp://127.0.0.1:")
                assert info.headers == other.headers
                assert node.peer(other.name) == info
                assert node.peer(peer_id.lower()) == info
            # One PeerEntered per other node, none for itself, no duplicates.
            entered = [e for e in member.events.pending() if isinstance(e, pw.PeerEntered)]
            assert sorted(e.peer for e in entered) == sorted(others), (node.name, entered)
            for e in entered:
                assert e.name == others[e.peer].name
                assert e.headers == others[e.peer].headers
                assert e.endpoint == others[e.peer].endpoint
        assert elapsed < MESH_TIMEOUT
    finally:
        for member in mesh.members:
            await member.node.stop()


# --------------------------------------------------------------------------- messages


async def test_whisper_by_name_and_uuid_with_several_frames(mesh: Mesh) -> None:
    a, c = mesh.a, mesh.c
    c.node.whisper("a", b"\x00binary", "text")
    got = await next_event(a.events, pw.WhisperReceived)
    assert got == pw.WhisperReceived(peer=c.node.id, name="c", content=(b"\x00binary", b"text"))

    c.node.whisper(a.node.id.lower(), b"by-uuid")
    got = await next_event(a.events, pw.WhisperReceived)
    assert got.content == (b"by-uuid",)
    assert got.peer == c.node.id


async def test_shout_reaches_group_members_joined_before_and_after_start() -> None:
    def join_early(mesh: Mesh) -> None:
        mesh.a.node.join("PRE")  # before start: announced in a's HELLO
        assert mesh.a.node.groups == ("PRE",)

    mesh = await make_mesh(before_start=join_early)
    try:
        a, b, c = mesh.a, mesh.b, mesh.c
        # c learnt a's group from its HELLO.
        await c.node.wait_until(
            lambda: True if "PRE" in c.node.peer("a").groups else None, timeout=EVENT_TIMEOUT
        )
        joined = await next_event(c.events, pw.PeerJoined, where=lambda e: e.group == "PRE")
        assert (joined.peer, joined.name) == (a.node.id, "a")

        b.node.join("POST")  # after start: a JOIN message to every peer
        joined = await next_event(c.events, pw.PeerJoined, where=lambda e: e.group == "POST")
        assert (joined.peer, joined.name) == (b.node.id, "b")
        await next_event(a.events, pw.PeerJoined, where=lambda e: e.group == "POST")
        assert [p.name for p in c.node.group_peers("POST")] == ["b"]

        assert c.node.shout("PRE", "to-pre") == 1
        assert c.node.shout("POST", b"to-post", b"2") == 1
        shout = await next_event(a.events, pw.ShoutReceived)
        assert shout == pw.ShoutReceived(
            peer=c.node.id, name="c", group="PRE", content=(b"to-pre",)
        )
        shout = await next_event(b.events, pw.ShoutReceived)
        assert (shout.group, shout.content, shout.name) == ("POST", (b"to-post", b"2"), "c")

        # b leaves POST: the others see it, and shouts no longer reach b.
        b.node.leave("POST")
        left = await next_event(c.events, pw.PeerLeft)
        assert left == pw.PeerLeft(peer=b.node.id, name="b", group="POST")
        await next_event(a.events, pw.PeerLeft, where=lambda e: e.group == "POST")
        assert c.node.shout("POST", b"nobody") == 0
        assert a.node.shout("POST", b"nobody either") == 0
        # Per-sender FIFO: once this whisper arrives, any earlier shout would have arrived too.
        c.node.whisper("b", b"marker")
        await next_event(b.events, pw.WhisperReceived)
        assert not [e for e in b.events.pending() if isinstance(e, pw.ShoutReceived)]

        # A node never receives its own shout; a's own group membership is not a peer's.
        a.node.join("POST")
        await next_event(c.events, pw.PeerJoined, where=lambda e: e.group == "POST")
        assert a.node.shout("POST", b"self") == 0  # no other member
        assert c.node.shout("POST", b"to-a") == 1
        shout = await next_event(a.events, pw.ShoutReceived, where=lambda e: e.group == "POST")
        assert shout.content == (b"to-a",)
    finally:
        for member in mesh.members:
            await member.node.stop()


async def test_stop_is_seen_at_once_as_goodbye(mesh: Mesh) -> None:
    a, b, c = mesh.a, mesh.b, mesh.c
    c_id = c.node.id
    stopped_at = time.monotonic()
    await c.node.stop()
    for member in (a, b):
        exited = await next_event(member.events, pw.PeerExited, timeout=1.0)
        assert exited == pw.PeerExited(peer=c_id, name="c", reason="goodbye")
    elapsed = time.monotonic() - stopped_at
    print(f"\nGOODBYE noticed by both peers after {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0  # long before the 30 s expiry of these nodes
    assert [p.name for p in a.node.peers()] == ["b"]
    # The stopped node reported its own peers as gone ("stopped"), then its stream ended.
    own = [e async for e in c.events]
    exits = [e for e in own if isinstance(e, pw.PeerExited)]
    assert {(e.name, e.reason) for e in exits} == {("a", "stopped"), ("b", "stopped")}
    assert c.node.peers() == []
    assert not c.node.started


async def test_statistics_count_messages_and_peers(mesh: Mesh) -> None:
    a, c = mesh.a, mesh.c
    sa, sc = a.node.statistics(), c.node.statistics()
    for stats in (sa, sc):
        assert stats.peers == 2
        assert stats.peers_entered == 2
        assert stats.peers_exited == 0
        assert stats.beacons_sent == 0  # broker mode: no UDP at all
        assert stats.beacons_in == 0
        assert stats.decode_errors == 0
        assert stats.sequence_errors == 0
        assert stats.status_errors == 0
        assert stats.send_drops == 0
        assert stats.events_dropped == 0
        assert stats.messages_out >= 2  # at least a HELLO to each peer
        assert stats.messages_in >= 2
    for i in range(5):
        c.node.whisper("a", f"n{i}")
    for _ in range(5):
        await next_event(a.events, pw.WhisperReceived)
    assert c.node.statistics().messages_out == sc.messages_out + 5
    assert a.node.statistics().messages_in == sa.messages_in + 5

    await c.node.stop()
    await next_event(a.events, pw.PeerExited)
    after = a.node.statistics()
    assert (after.peers, after.peers_exited) == (1, 1)
    assert after.messages_in == sa.messages_in + 5 + 1  # the whispers, then c's GOODBYE


async def test_event_stream_overflow_drops_oldest_and_counts(mesh: Mesh) -> None:
    a, c = mesh.a, mesh.c
    small = a.node.events(maxsize=3)
    for i in range(10):
        c.node.whisper("a", f"w{i}")
    for _ in range(10):  # the large stream sees every whisper
        await next_event(a.events, pw.WhisperReceived)
    kept = small.pending()
    assert [e.content for e in kept if isinstance(e, pw.WhisperReceived)] == [
        (b"w7",),
        (b"w8",),
        (b"w9",),
    ]
    assert small.dropped == 7
    assert a.node.statistics().events_dropped == 7
    assert mesh.a.events.dropped == 0
    small.close()


async def test_election_among_three_nodes_has_exactly_one_winner(mesh: Mesh) -> None:
    """All three stand in the same election at once, once the mesh is complete (zre.md §10).

    A contestant alone in the group waits ``election_settle`` before it leads, so no node
    claims a win at its own join, before the JOINs have crossed (pinned by tests/unit/protocol
    ``test_contestants_joining_at_the_same_time``). Then the waves run: the smallest UUID wins,
    each other node reports ``ElectionLost`` naming it, and exactly one ``ElectionWon`` is raised.
    """
    nodes = [m.node for m in mesh.members]
    winner = min(n.id for n in nodes)
    for node in nodes:
        node.join_election("E1")
    for member in mesh.members:  # synchronous, before any message: nobody claims the lead
        lone = [
            e for e in member.events.pending() if isinstance(e, pw.ElectionWon | pw.ElectionLost)
        ]
        assert lone == [], (member.node.name, lone)

    def settled(node: pw.Node) -> bool | None:
        return True if node.leader("E1") == winner else None

    for node in nodes:
        await node.wait_until(lambda node=node: settled(node), timeout=EVENT_TIMEOUT)
    # Collect every election event until each loser has reported ElectionLost naming the
    # winner and the winner has reported ElectionWon (the end of the last wave everywhere).
    outcomes: dict[str, list[Any]] = {}
    for member in mesh.members:
        node = member.node
        seen: list[Any] = []

        def done(node: pw.Node = node, seen: list[Any] = seen) -> bool:
            if node.id == winner:
                return any(isinstance(e, pw.ElectionWon) for e in seen)
            return any(isinstance(e, pw.ElectionLost) and e.leader == winner for e in seen)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + EVENT_TIMEOUT
        while not done():
            try:
                seen.append(await member.events.get(timeout=max(deadline - loop.time(), 0.0)))
            except pw.TimeoutError:
                raise AssertionError(f"{node.name}: election did not finish: {seen}") from None
        seen += member.events.pending()
        outcomes[node.name] = [e for e in seen if isinstance(e, pw.ElectionWon | pw.ElectionLost)]
    won = {
        name: [e for e in events if isinstance(e, pw.ElectionWon)]
        for name, events in outcomes.items()
    }
    winners = {name for name, events in won.items() if events}
    winner_name = next(n.name for n in nodes if n.id == winner)
    assert winners == {winner_name}, f"nodes that reported ElectionWon: {won}; all: {outcomes}"
    assert sum(len(v) for v in won.values()) == 1, outcomes
    for node in nodes:
        assert node.leader("E1") == winner


async def test_short_timers_keep_healthy_idle_peers() -> None:
    """With the short timers of the test plan (evasive 0.3 s, expired 1 s), idle but healthy
    peers answer each PING at once, so none may expire (zre.md §7.1: PING while evasive,
    the reap tick being min(evasive, expired, 1 s)). Watched for 3.5 s."""
    short = pw.ZreSettings(evasive=0.3, expired=1.0)
    mesh = await make_mesh(settings=short)
    try:
        try:
            exited: pw.PeerExited | None = await next_event(
                mesh.a.events, pw.PeerExited, timeout=3.5
            )
        except AssertionError:  # no PeerExited within the window: as it should be
            exited = None
        assert exited is None, f"a healthy peer expired: {exited} (reap {short.reap_interval} s)"
        for member in mesh.members:
            gone = [e for e in member.events.pending() if isinstance(e, pw.PeerExited)]
            assert gone == [], f"{member.node.name}: {gone}"
            assert len(member.node.peers()) == 2
            assert member.node.statistics().messages_out > 2  # PINGs did flow
    finally:
        for member in mesh.members:
            await member.node.stop()


# --------------------------------------------------------------------------- errors


async def test_whisper_to_an_unknown_peer_names_the_known_ones(mesh: Mesh) -> None:
    a = mesh.a.node
    with pytest.raises(pw.UnknownNameError) as info:
        a.whisper("nobody", b"x")
    message = str(info.value)
    assert "nobody" in message
    for member in (mesh.b, mesh.c):
        assert member.node.name in message
        assert member.node.id in message
    assert isinstance(info.value, LookupError)
    with pytest.raises(pw.UnknownNameError):
        a.whisper("0" * 32, b"x")  # a well-formed UUID that is no peer
    with pytest.raises(pw.UnknownNameError):
        a.peer("nobody")


async def test_two_peers_with_the_same_name_need_a_uuid() -> None:
    mesh = await make_mesh(names=("hub", "twin", "twin"))
    try:
        with pytest.raises(pw.UnknownNameError, match="2 peers are named 'twin'"):
            mesh.a.node.whisper("twin", b"x")
        mesh.a.node.whisper(mesh.c.node.id, b"to the second twin")
        got = await next_event(mesh.c.events, pw.WhisperReceived)
        assert got.content == (b"to the second twin",)
    finally:
        for member in mesh.members:
            await member.node.stop()


async def test_lifecycle_errors() -> None:
    broker = loopback_endpoint()
    node = pw.Node("life", network=pw.Network(broker_bind=broker), settings=QUIET)
    with pytest.raises(pw.StateError) as before:
        node.whisper("x", b"too early")
    assert not isinstance(before.value, pw.ClosedError)
    with pytest.raises(pw.StateError):
        node.statistics()
    node.join("EARLY")  # allowed before start
    await node.start()
    try:
        with pytest.raises(pw.StateError, match="already started"):
            await node.start()
        assert node.groups == ("EARLY",)
    finally:
        await node.stop()
    await node.stop()  # idempotent
    for use in (
        lambda: node.whisper("x", b"late"),
        lambda: node.shout("EARLY", b"late"),
        lambda: node.join("LATE"),
        lambda: node.leave("EARLY"),
        lambda: node.join_election("E"),
    ):
        with pytest.raises(pw.ClosedError):
            use()
    with pytest.raises(pw.StateError):
        await node.start()
    with pytest.raises(pw.ClosedError):
        await node.wait_until(lambda: None, timeout=1.0)
    async with pw.Node("ctx", network=pw.Network(brokers=(broker,)), settings=QUIET) as ctx:
        assert ctx.started
    assert not ctx.started


async def test_unknown_device_lists_the_devices() -> None:
    node = pw.Node("dev", network=pw.Network(device="pwnosuch0"))
    with pytest.raises(pw.ConfigurationError) as info:
        await node.start()  # fails while looking the device up, before any socket exists
    message = str(info.value)
    assert "pwnosuch0" in message
    assert "available devices" in message
    assert "lo (" in message
    assert isinstance(info.value, ValueError)


async def test_inbox_endpoint_on_a_port_in_use_is_a_network_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        endpoint = f"tcp://127.0.0.1:{port}"
        node = pw.Node(
            "busy",
            network=pw.Network(broker_bind=loopback_endpoint(), endpoint=endpoint),
            settings=QUIET,
        )
        with pytest.raises(pw.NetworkError) as info:
            await node.start()
    assert endpoint in str(info.value)
    assert "in use" in str(info.value)
    assert isinstance(info.value, OSError)
    assert info.value.__cause__ is not None
    with pytest.raises(pw.StateError):  # a failed node cannot be restarted
        await node.start()


async def test_broker_bind_on_a_port_in_use_is_a_network_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        endpoint = f"tcp://127.0.0.1:{holder.getsockname()[1]}"
        node = pw.Node("busy-broker", network=pw.Network(broker_bind=endpoint), settings=QUIET)
        with pytest.raises(pw.NetworkError, match=endpoint):
            await node.start()


async def test_wait_brokers_names_an_unreachable_broker() -> None:
    silent = f"tcp://127.0.0.1:{free_tcp_port()}"  # nothing listens there
    async with pw.Node("lonely", network=pw.Network(brokers=(silent,)), settings=QUIET) as node:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(pw.NetworkError) as info:
            await node.wait_brokers(timeout=0.5)
        assert loop.time() - started < 2.0
    assert silent in str(info.value)


async def test_wait_brokers_returns_once_the_broker_answers(mesh: Mesh) -> None:
    await mesh.b.node.wait_brokers(timeout=2.0)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"device": "lo", "brokers": ("tcp://127.0.0.1:5661",)}, "not both"),
        ({"ip": "127.0.0.1", "broker_bind": "tcp://127.0.0.1:5661"}, "not both"),
        ({"device": "lo", "ip": "127.0.0.1"}, "not both"),
        ({"endpoint": "tcp://127.0.0.1:5670"}, "broker mode"),
        ({"brokers": "tcp://127.0.0.1:5661"}, "tuple"),
        ({"brokers": ("127.0.0.1:5661",)}, "tcp://HOST:PORT"),
        ({"brokers": ("tcp://127.0.0.1",)}, "tcp://HOST:PORT"),
        ({"brokers": ("tcp://127.0.0.1:99999",)}, "invalid port"),
        ({"broker_bind": "tcp://127.0.0.1:x"}, "invalid port"),
        ({"port": 0}, "port must be"),
        ({"port": 70000}, "port must be"),
        ({"beacon_interval": 0}, "beacon_interval"),
    ],
)
def test_network_validation(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(pw.ConfigurationError, match=re.escape(needle)):
        pw.Network(**kwargs)


def test_valid_networks_and_node_names() -> None:
    assert pw.Network(broker_bind="tcp://127.0.0.1:5661").broker_mode
    assert pw.Network(brokers=["tcp://127.0.0.1:5661"]).brokers == ("tcp://127.0.0.1:5661",)
    assert not pw.Network(device="lo").broker_mode
    with pytest.raises(pw.ConfigurationError):
        pw.Node("")
    with pytest.raises(pw.ConfigurationError):
        pw.Node("x" * 256)
    with pytest.raises(ValueError, match="evasive"):
        pw.ZreSettings(evasive=9.0, expired=8.0)
