"""patchwire nodes in separate processes (``tests/support/pw_peer.py``), reliability plan §2.A.

- Beacon mode runs inside a private namespace with only ``lo`` up (beacons go to
  127.255.255.255, zre.md §2.4); a per-test UDP port. Never in the root namespace.
- Broker mode runs on 127.0.0.1 with a patchwire broker (one node with ``--broker-bind``).
- Liveness: the kill -9 tests use the short timers ``--evasive 0.3 --expired 1.0``; exactly one
  (slow) test keeps Ingescape's defaults (5 s / 8 s) and checks EXIT within 9.5 s. Tests where
  expiry plays no part keep the defaults, because with the fixed 1 s reap tick the short timers
  also expire *healthy* idle peers after a few seconds (see the in-process
  ``test_short_timers_keep_healthy_idle_peers``); each short-timer test kills right after
  discovery, well before that can happen.
- The sequence-gap test (A7) drives a Node in this process with a raw pyzmq DEALER.

Times are taken by the parent on one monotonic clock when each line of output arrives.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import patchwire as pw  # noqa: E402
from tests.support.netns import LoopbackNamespace  # noqa: E402
from tests.support.pwpeer import (  # noqa: E402
    PwPeer,
    Spawn,
    beacon_port,
    child_env,
    event,
    loopback_endpoint,
    wait_all,
)

SHORT = ["--evasive", "0.3", "--expired", "1.0"]
SHORT_EXPIRED = 1.0
REAP = 1.0  # ZreSettings.reap_interval (pw_peer does not change it)
DEFAULT_EXPIRED = 8.0
DISCOVERY_TIMEOUT = 10.0
GARBAGE_SENDER = Path(__file__).with_name("garbage_sender.py")


def beacon_args(port: int, interval: float = 1.0) -> list[str]:
    return ["--device", "lo", "--port", str(port), "--interval", str(interval)]


def text_hex(text: str) -> list[str]:
    return [text.encode().hex()]


def start_all(peers: Sequence[PwPeer]) -> float:
    """Wait until every peer is ready; returns when the last one became ready."""
    return max(p.wait_ready()["rx"] for p in peers)


def full_mesh(peers: Sequence[PwPeer], timeout: float = DISCOVERY_TIMEOUT) -> float:
    """Wait until each peer has seen every other one enter; returns the time the mesh closed
    (arrival of the last needed PeerEntered line)."""
    ids = {p.uuid for p in peers}

    def complete() -> bool:
        return all(set(p.entered()) >= ids - {p.uuid} for p in peers)

    wait_all(complete, timeout, "a full mesh", *peers)
    return max(line["rx"] for p in peers for peer_id, line in p.entered().items() if peer_id in ids)


def check_mesh(peers: Sequence[PwPeer], headers: dict[str, dict[str, str]] | None = None) -> None:
    """No phantom, duplicate or self entries; names, endpoints and headers as advertised."""
    by_id = {p.uuid: p for p in peers}
    for peer in peers:
        entered = peer.find_all(event("PeerEntered"))
        ids = [line["peer"] for line in entered]
        assert sorted(ids) == sorted(set(by_id) - {peer.uuid}), peer.describe()
        for line in entered:
            other = by_id[line["peer"]]
            assert line["name"] == other.name
            assert line["endpoint"] == other.endpoint
            if headers is not None:
                assert line["headers"] == headers[other.name]
        listed = {p["id"]: p for p in peer.peers()}
        assert set(listed) == set(by_id) - {peer.uuid}
        assert peer.find(event("PeerExited")) is None, peer.describe()


# --------------------------------------------------------------------------- discovery


@pytest.mark.netns
def test_beacon_discovery_on_private_loopback(lo_ns: LoopbackNamespace, spawn: Spawn) -> None:
    """A2: 4 processes, beacons on ``lo`` of a private namespace: a full mesh within 2 s
    (2 beacon intervals) of the last start, no phantom or duplicate peers."""
    port = beacon_port()
    names = [f"bn{i}" for i in range(4)]
    launched = time.monotonic()
    peers = [
        spawn(name, [*beacon_args(port), "--header", f"x-index={i}"], host=lo_ns)
        for i, name in enumerate(names)
    ]
    last_ready = start_all(peers)
    closed = full_mesh(peers)
    print(
        f"\nbeacon discovery, 4 processes: full mesh {(closed - last_ready) * 1000:.0f} ms "
        f"after the last node was ready ({closed - launched:.2f} s after launching them)"
    )
    check_mesh(peers, {name: {"x-index": str(i)} for i, name in enumerate(names)})
    for peer in peers:
        assert peer.endpoint is not None
        assert peer.endpoint.startswith("tcp://127.0.0.1:")
        stats = peer.stats()
        assert stats["beacons_sent"] >= 1
        assert stats["decode_errors"] == 0
    assert closed - last_ready <= 2.0


def test_broker_discovery_on_loopback(spawn: Spawn) -> None:
    """Broker mode on 127.0.0.1: a patchwire broker node and 3 more, all using it."""
    broker = loopback_endpoint()
    launched = time.monotonic()
    hub = spawn("hub", ["--broker-bind", broker, "--broker", broker, "--header", "role=hub"])
    peers = [hub] + [
        spawn(f"br{i}", ["--broker", broker, "--header", f"role=n{i}"]) for i in range(3)
    ]
    last_ready = start_all(peers)
    closed = full_mesh(peers)
    print(
        f"\nbroker discovery, 4 processes: full mesh {(closed - last_ready) * 1000:.0f} ms "
        f"after the last node was ready ({closed - launched:.2f} s after launching them)"
    )
    check_mesh(peers, {"hub": {"role": "hub"}} | {f"br{i}": {"role": f"n{i}"} for i in range(3)})
    for peer in peers:
        assert peer.stats()["beacons_sent"] == 0  # no UDP in broker mode
    assert closed - last_ready <= 2.0


# --------------------------------------------------------------------------- messages


def test_whisper_shout_and_groups_across_processes(spawn: Spawn) -> None:
    broker = loopback_endpoint()
    hub = spawn("hub", ["--broker-bind", broker, "--broker", broker, "--channel", "CHAT"])
    b = spawn("b", ["--broker", broker, "--channel", "CHAT"])
    c = spawn("c", ["--broker", broker])
    peers = [hub, b, c]
    start_all(peers)
    full_mesh(peers)
    # Groups joined at start travel in HELLO.
    hub.wait_event("PeerJoined", peer=b.uuid, group="CHAT")
    c.wait_event("PeerJoined", peer=hub.uuid, group="CHAT")

    # A group joined later travels as JOIN.
    c.request({"cmd": "join", "channel": "LATE"})
    hub.wait_event("PeerJoined", peer=c.uuid, group="LATE")
    b.wait_event("PeerJoined", peer=c.uuid, group="LATE")

    assert hub.request({"cmd": "shout", "channel": "CHAT", "text": "hi chat"})["result"] == 1
    got = b.wait_event("ShoutReceived", group="CHAT")
    assert (got["peer"], got["name"], got["content"]) == (hub.uuid, "hub", text_hex("hi chat"))
    assert b.request({"cmd": "shout", "channel": "LATE", "text": "hi late"})["result"] == 1
    got = c.wait_event("ShoutReceived", group="LATE")
    assert (got["peer"], got["content"]) == (b.uuid, text_hex("hi late"))

    c.request({"cmd": "whisper", "peer": "hub", "text": "by name"})
    got = hub.wait_event("WhisperReceived", peer=c.uuid)
    assert got["content"] == text_hex("by name")
    assert c.uuid is not None
    hub.request({"cmd": "whisper", "peer": c.uuid.lower(), "text": "by uuid"})
    got = c.wait_event("WhisperReceived", peer=hub.uuid)
    assert got["content"] == text_hex("by uuid")

    # b leaves CHAT: the others see it and hub's shouts stop reaching b.
    b.request({"cmd": "leave", "channel": "CHAT"})
    hub.wait_event("PeerLeft", peer=b.uuid, group="CHAT")
    c.wait_event("PeerLeft", peer=b.uuid, group="CHAT")
    mark = b.mark()
    assert hub.request({"cmd": "shout", "channel": "CHAT", "text": "gone"})["result"] == 0
    hub.request({"cmd": "whisper", "peer": "b", "text": "marker"})
    b.wait_event("WhisperReceived", start=mark, content=text_hex("marker"))
    assert b.find(event("ShoutReceived", group="CHAT"), start=mark) is None

    # Own shouts never come back; errors are reported, not fatal.
    assert hub.find(event("ShoutReceived")) is None
    mark = hub.mark()
    hub.send({"cmd": "whisper", "peer": "nobody", "text": "x"})
    ack = hub.wait_for({"kind": "ack", "cmd": "whisper"}, start=mark)
    assert "no ready peer 'nobody'" in ack["error"]
    for peer in peers:
        assert peer.stats()["sequence_errors"] == 0


# --------------------------------------------------------------------------- liveness


def exit_after(peer: PwPeer, victim: str, since: float, mark: int, timeout: float) -> dict:
    line = peer.wait_event("PeerExited", timeout, start=mark, peer=victim)
    line["elapsed"] = line["rx"] - since
    return line


@pytest.mark.netns
def test_kill9_restart_and_graceful_stop_in_beacon_mode(
    lo_ns: LoopbackNamespace, spawn: Spawn
) -> None:
    """A4 with short timers, then a restart (new process, new UUID) and A3 (graceful stop)."""
    port = beacon_port()
    args = [*beacon_args(port, interval=0.5), *SHORT]
    a = spawn("a", args, host=lo_ns)
    b = spawn("b", args, host=lo_ns)
    c = spawn("c", args, host=lo_ns)
    start_all([a, b, c])
    full_mesh([a, b, c])
    old_c = c.uuid
    assert old_c is not None
    marks = {a: a.mark(), b: b.mark()}
    killed_at = c.kill9()
    bound = SHORT_EXPIRED + REAP
    for peer in (a, b):
        line = exit_after(peer, old_c, killed_at, marks[peer], timeout=bound + 5)
        print(f"\n{peer.name}: kill -9 noticed after {line['elapsed']:.2f} s ({line['reason']})")
        assert line["reason"] == "expired"
        assert line["elapsed"] <= bound + 0.5

    # Restarted: a new process, hence a new UUID, seen again by both.
    c2 = spawn("c", args, host=lo_ns)
    c2.wait_ready()
    assert c2.uuid != old_c
    for peer in (a, b):
        peer.wait_event("PeerEntered", 5.0, start=marks[peer], peer=c2.uuid)
    c2.wait_event("PeerEntered", 5.0, peer=a.uuid)
    c2.wait_event("PeerEntered", 5.0, peer=b.uuid)

    # Graceful stop: noticed at once (GOODBYE over TCP or the port-0 beacon), not by expiry.
    marks = {a: a.mark(), b: b.mark()}
    stopped_at = time.monotonic()
    assert c2.stop() == 0
    assert c2.find({"kind": "stopped"}) is not None
    for peer in (a, b):
        assert c2.uuid is not None
        line = exit_after(peer, c2.uuid, stopped_at, marks[peer], timeout=5.0)
        print(
            f"{peer.name}: graceful stop noticed after {line['elapsed']:.3f} s ({line['reason']})"
        )
        assert line["reason"] in ("goodbye", "left")
        assert line["elapsed"] <= 1.0


@pytest.mark.netns
def test_forged_leaving_beacon_then_rediscovery_without_storm(
    lo_ns: LoopbackNamespace, spawn: Spawn
) -> None:
    """A port-0 beacon carrying c's UUID makes a and b drop c at once (zre.md §2.3 rule 7);
    c's beacons bring it back, and the re-HELLO settles without a storm (§7.4).

    The forged beacon comes right after discovery, inside c's re-HELLO guard: c then takes
    a's fresh HELLO for the answer to its own and does not reply, so a holds c not ready
    until that half-peer expires (expired + one reap tick), and the next beacon repairs the
    pair. That slow path is the documented behaviour of the guard (tests/unit/protocol
    ``test_sequence_gap_inside_the_rehello_guard_recovers_after_expiry``); the bound below
    allows it. Timers: expired well above evasive + 2 reap ticks, so that healthy peers
    never expire (see test_short_timers_keep_healthy_idle_peers)."""
    port = beacon_port()
    interval, evasive, expired = 0.3, 0.5, 2.5
    args = [*beacon_args(port, interval), "--evasive", str(evasive), "--expired", str(expired)]
    a = spawn("a", args, host=lo_ns)
    b = spawn("b", args, host=lo_ns)
    c = spawn("c", args, host=lo_ns)
    start_all([a, b, c])
    full_mesh([a, b, c])
    assert c.uuid is not None
    marks = {p: p.mark() for p in (a, b, c)}
    sent_at = time.monotonic()
    run_garbage(lo_ns, "--port", str(port), "--leave", c.uuid)
    bound = interval + expired + REAP + interval + 0.5
    for peer in (a, b):
        line = exit_after(peer, c.uuid, sent_at, marks[peer], timeout=3.0)
        assert line["reason"] == "left"
        assert line["elapsed"] <= 1.0
    for peer in (a, b):
        back = peer.wait_event("PeerEntered", bound + 2, start=marks[peer], peer=c.uuid)
        took = back["rx"] - sent_at
        print(f"\n{peer.name}: c dropped by a forged port-0 beacon, back after {took:.2f} s")
        assert took <= bound
        c.wait_event("PeerEntered", 3.0, start=marks[c], peer=peer.uuid)
    # Settled: no departure for 5 beacon intervals, and no sequence error anywhere.
    settled = {p: p.mark() for p in (a, b, c)}
    with pytest.raises(AssertionError, match="timeout"):
        wait_all(
            lambda: any(p.find(event("PeerExited"), start=settled[p]) for p in (a, b, c)),
            5 * interval,
            "churn after the re-HELLO",
            a,
            b,
            c,
        )
    for peer in (a, b, c):
        assert {p["id"] for p in peer.peers()} == {a.uuid, b.uuid, c.uuid} - {peer.uuid}
        assert peer.stats()["sequence_errors"] == 0
    # c never lost a or b for good: at most one restart of each, answered once.
    for peer in (a, b):
        assert len(c.find_all(event("PeerExited", peer=peer.uuid))) <= 1


def test_kill9_and_restart_in_broker_mode(spawn: Spawn) -> None:
    """A4 with short timers in broker mode; the restarted node finds everyone again."""
    broker = loopback_endpoint()
    hub = spawn("hub", ["--broker-bind", broker, "--broker", broker, *SHORT])
    b = spawn("b", ["--broker", broker, *SHORT])
    c = spawn("c", ["--broker", broker, *SHORT])
    start_all([hub, b, c])
    full_mesh([hub, b, c])
    old_c = c.uuid
    assert old_c is not None
    marks = {hub: hub.mark(), b: b.mark()}
    killed_at = c.kill9()
    bound = SHORT_EXPIRED + REAP
    for peer in (hub, b):
        line = exit_after(peer, old_c, killed_at, marks[peer], timeout=bound + 5)
        print(f"\n{peer.name}: kill -9 noticed after {line['elapsed']:.2f} s ({line['reason']})")
        assert line["reason"] == "expired"
        assert line["elapsed"] <= bound + 0.5

    c2 = spawn("c", ["--broker", broker, *SHORT])
    c2.wait_ready()
    assert c2.uuid != old_c
    for peer in (hub, b):
        peer.wait_event("PeerEntered", 5.0, start=marks[peer], peer=c2.uuid)
    c2.wait_event("PeerEntered", 5.0, peer=hub.uuid)
    c2.wait_event("PeerEntered", 5.0, peer=b.uuid)
    # The dead node's tuple is still at the broker: c2 must not report it as a peer.
    assert c2.find(event("PeerEntered", peer=old_c)) is None


def test_broker_killed_and_restarted_at_the_same_endpoint(spawn: Spawn) -> None:
    """The broker node dies (kill -9) and a new one binds the same endpoint: the clients greet
    it again (zre.md §11.3), so it meets them, and a newcomer still finds everybody. The
    surviving clients' direct ZRE link is not disturbed. Default timers: nothing expires here."""
    broker = loopback_endpoint()
    hub = spawn("hub", ["--broker-bind", broker, "--broker", broker])
    b = spawn("b", ["--broker", broker])
    c = spawn("c", ["--broker", broker])
    start_all([hub, b, c])
    full_mesh([hub, b, c])
    marks = {b: b.mark(), c: c.mark()}
    hub.kill9()
    hub2 = spawn("hub2", ["--broker-bind", broker, "--broker", broker])
    hub2.wait_ready()
    for peer in (b, c):
        peer.wait_event("PeerEntered", 5.0, start=marks[peer], peer=hub2.uuid)
    d = spawn("d", ["--broker", broker])
    d.wait_ready()
    full_mesh([hub2, b, c, d], timeout=5.0)
    for peer in (b, c):
        assert peer.find(event("PeerExited", peer=(c if peer is b else b).uuid)) is None


@pytest.mark.slow
def test_kill9_with_ingescape_default_timers(spawn: Spawn) -> None:
    """A4 with Ingescape's defaults (evasive 5 s, expired 8 s): EXIT within 9.5 s of the kill,
    and not before 8 s after the victim's last sign of life."""
    broker = loopback_endpoint()
    defaults = ["--evasive", "5", "--expired", "8"]
    hub = spawn("hub", ["--broker-bind", broker, "--broker", broker, *defaults])
    b = spawn("b", ["--broker", broker, *defaults])
    c = spawn("c", ["--broker", broker, *defaults])
    start_all([hub, b, c])
    full_mesh([hub, b, c])
    victim = c.uuid
    assert victim is not None
    marks = {hub: hub.mark(), b: b.mark()}
    killed_at = c.kill9()
    for peer in (hub, b):
        line = exit_after(peer, victim, killed_at, marks[peer], timeout=12.0)
        entered = peer.entered()[victim]["rx"]
        print(f"\n{peer.name}: kill -9 noticed after {line['elapsed']:.2f} s (defaults)")
        assert line["reason"] == "expired"
        assert line["elapsed"] <= 9.5
        # The victim's HELLO (at least) came after `entered` - a little: no early expiry.
        assert line["rx"] - entered >= DEFAULT_EXPIRED - 0.2
    for peer in (hub, b):  # the survivors still see each other
        assert {p["name"] for p in peer.peers()} == {"hub", "b"} - {peer.name}


# --------------------------------------------------------------------------- robustness


def zre_frame(message_id: int, sequence: int, body: bytes = b"") -> bytes:
    return struct.pack(">HBBH", 0xAAA1, message_id, 2, sequence) + body


def zre_string(text: str) -> bytes:
    data = text.encode()
    return bytes([len(data)]) + data


def hello_frame(endpoint: str, name: str, sequence: int = 1) -> bytes:
    body = zre_string(endpoint)
    body += struct.pack(">I", 0)  # no groups
    body += b"\x00"  # status
    body += zre_string(name)
    body += struct.pack(">I", 0)  # no headers
    return zre_frame(1, sequence, body)


WHISPER = 2


async def test_sequence_gap_removes_the_peer_and_a_fresh_hello_is_accepted() -> None:
    """A7: HELLO(seq 1) then WHISPER(seq 3) from a forged identity: the peer is removed,
    nothing of the gapped stream is delivered, and a fresh HELLO brings it back."""
    settings = pw.ZreSettings(evasive=20.0, expired=30.0)
    node = pw.Node("target", network=pw.Network(broker_bind=loopback_endpoint()), settings=settings)
    events = node.events()
    forged = uuid.UUID(bytes=bytes(range(1, 17)))
    forged_id = forged.hex.upper()
    context = zmq.asyncio.Context()
    inbox = context.socket(zmq.ROUTER)  # where the node's DEALER connects (our "inbox")
    dealer = context.socket(zmq.DEALER)
    try:
        inbox.setsockopt(zmq.LINGER, 0)
        inbox.setsockopt(zmq.ROUTER_HANDOVER, 1)  # the node re-connects with the same identity
        port = inbox.bind_to_random_port("tcp://127.0.0.1")
        our_endpoint = f"tcp://127.0.0.1:{port}"
        await node.start()
        assert node.endpoint is not None
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.IDENTITY, b"\x01" + forged.bytes)
        dealer.connect(node.endpoint)

        async def expect(kind: type, **fields: object) -> object:
            while True:
                got = await events.get(timeout=3.0)
                if isinstance(got, kind) and all(getattr(got, k) == v for k, v in fields.items()):
                    return got
                assert not isinstance(got, pw.WhisperReceived), f"unexpected {got}"

        await dealer.send_multipart([hello_frame(our_endpoint, "forged")])
        entered = await expect(pw.PeerEntered, peer=forged_id)
        assert entered == pw.PeerEntered(
            peer=forged_id, name="forged", endpoint=our_endpoint, headers={}
        )
        # The node answered with its own HELLO (sequence 1) over its DEALER to us.
        routing, frame0 = await asyncio.wait_for(inbox.recv_multipart(), 3.0)
        assert routing == b"\x01" + node.uuid.bytes
        assert frame0[:6] == zre_frame(1, 1)

        await dealer.send_multipart([zre_frame(WHISPER, 3), b"gapped"])
        exited = await expect(pw.PeerExited, peer=forged_id)
        assert exited == pw.PeerExited(peer=forged_id, name="forged", reason="sequence")
        assert node.peers() == []
        # Still the same stream, with the next sequence number: ignored (no HELLO yet).
        await dealer.send_multipart([zre_frame(WHISPER, 4), b"after the gap"])

        # A fresh HELLO (sequence 1 again) is accepted, and messages flow again. Same
        # connection, so the node has handled the ignored WHISPER before this HELLO.
        await dealer.send_multipart([hello_frame(our_endpoint, "forged")])
        await expect(pw.PeerEntered, peer=forged_id)
        routing, frame0 = await asyncio.wait_for(inbox.recv_multipart(), 3.0)
        assert frame0[:6] == zre_frame(1, 1)  # re-created: a new HELLO with sequence 1
        stats = node.statistics()
        assert stats.sequence_errors == 1
        assert stats.ignored_messages == 1
        assert stats.peers_exited == 1
        await dealer.send_multipart([zre_frame(WHISPER, 2), b"fresh"])
        got = await events.get(timeout=3.0)
        while not isinstance(got, pw.WhisperReceived):
            got = await events.get(timeout=3.0)
        assert got == pw.WhisperReceived(peer=forged_id, name="forged", content=(b"fresh",))
        leftovers = [e for e in events.pending() if isinstance(e, pw.WhisperReceived)]
        assert leftovers == []
        assert node.statistics().peers_entered == 2
    finally:
        await node.stop()
        dealer.close(linger=0)
        inbox.close(linger=0)
        context.term()


def run_garbage(ns: LoopbackNamespace, *args: str) -> dict:
    """Run ``garbage_sender.py`` inside ``ns`` (bounded); returns its report."""
    done = ns.run([sys.executable, str(GARBAGE_SENDER), *args], timeout=60, env=child_env())
    assert done.returncode == 0, done.stderr
    report: dict = json.loads(done.stdout)
    return report


@pytest.mark.netns
def test_malformed_datagrams_and_frames_do_not_break_a_node(
    lo_ns: LoopbackNamespace, spawn: Spawn
) -> None:
    """A8 (scaled down) and garbage frames on the inbox: no crash, no phantom peer, the inbox
    garbage is counted in decode_errors, and a real peer is still discovered afterwards."""
    port = beacon_port()
    args = beacon_args(port, interval=0.5)
    a = spawn("a", args, host=lo_ns)
    a.wait_ready()
    assert a.endpoint is not None
    assert a.uuid is not None
    report = run_garbage(
        lo_ns,
        *("--port", str(port), "--inbox", a.endpoint, "--own", a.uuid),
        *("--random", "2000", "--seed", "1234"),
    )
    print(f"\ngarbage sent: { {k: v for k, v in report.items() if k != 'phantoms'} }")
    expected = report["inbox_garbage"]
    wait_all(lambda: a.stats()["decode_errors"] >= expected, 5.0, "decode errors counted", a)
    assert a.returncode is None, a.describe()

    b = spawn("b", args, host=lo_ns)
    b.wait_ready()
    full_mesh([a, b], timeout=5.0)
    assert [p["id"] for p in a.peers()] == [b.uuid]
    assert a.returncode is None
    entered = [line["peer"] for line in a.find_all(event("PeerEntered"))]
    assert entered == [b.uuid], f"phantom peers: {set(entered) - {b.uuid}}"
    stats = a.stats()
    assert stats["decode_errors"] >= expected, stats
    assert stats["ignored_beacons"] >= report["own"], stats
    assert "Traceback" not in a.stderr, a.stderr


@pytest.mark.netns
def test_malformed_beacons_are_counted_as_decode_errors(
    lo_ns: LoopbackNamespace, spawn: Spawn
) -> None:
    """Datagrams that start with ``ZRE`` but are no valid beacon (wrong size or version) are
    decode failures: ``statistics().decode_errors`` must count them (architecture §8)."""
    port = beacon_port()
    a = spawn("a", beacon_args(port), host=lo_ns)
    a.wait_ready()
    report = run_garbage(
        lo_ns,
        "--port",
        str(port),
        "--random",
        "0",
        "--zre",
        "25",
        "--phantoms",
        "0",
        "--seed",
        "99",
    )
    sent = report["zre_malformed"]
    # The datagrams were all sent before run_garbage returned; a valid one sent after them
    # (b's first beacon) marks when the node has read everything.
    b = spawn("b", beacon_args(port), host=lo_ns)
    b.wait_ready()
    full_mesh([a, b], timeout=5.0)
    stats = a.stats()
    assert stats["decode_errors"] >= sent, f"{sent} malformed ZRE beacons sent, statistics: {stats}"
