"""zgossip client and broker engines (spec §11), driven with an injected clock.

Frames go in and out as bytes; assertions decode them with ``decode_gossip`` so that every frame
the engines produce is also checked to be valid zgossip.
"""

from __future__ import annotations

import pytest

from patchwire.protocol.zre.gossip import (
    GossipHello,
    GossipInvalid,
    GossipMessage,
    GossipPing,
    GossipPong,
    GossipPublish,
    decode_gossip,
)
from patchwire.protocol.zre.gossip_engine import GossipBrokerEngine, GossipClientEngine

NOW = 50.0
HELLO = GossipHello().encode()
PING = GossipPing().encode()
PONG = GossipPong().encode()
INVALID = GossipInvalid().encode()
OWN_KEY = "12D1B70C1AC4C6AEF6CA0D2D30BF2EBE"
OWN_VALUE = "tcp://127.0.0.1:15680"


def publish(key: str, value: str) -> bytes:
    return GossipPublish(key=key, value=value).encode()


def decoded(frames: list[bytes]) -> list[GossipMessage]:
    return [decode_gossip(frame) for frame in frames]


def routed(pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, GossipMessage]]:
    return [(rid, decode_gossip(frame)) for rid, frame in pairs]


# =========================================================================== client


def make_client(ping_interval: float = 0.5) -> GossipClientEngine:
    return GossipClientEngine(key=OWN_KEY, value=OWN_VALUE, now=NOW, ping_interval=ping_interval)


def test_client_greeting_is_hello_then_its_own_tuple() -> None:
    client = make_client()
    frames = client.greeting(NOW)
    assert decoded(frames) == [
        GossipHello(),
        GossipPublish(key=OWN_KEY, value=OWN_VALUE, ttl=0),
    ]
    # Byte for byte what the agent sends (§11.2).
    assert frames == [
        bytes.fromhex("aaa00101"),
        bytes.fromhex("aaa0020120")
        + OWN_KEY.encode()
        + bytes.fromhex("00000015")
        + OWN_VALUE.encode()
        + bytes(4),
    ]


def test_client_collects_published_tuples_in_order() -> None:
    client = make_client()
    assert client.handle(publish("A" * 32, "tcp://10.0.0.1:1"), NOW) == []
    assert client.handle(publish("B" * 32, "tcp://10.0.0.2:2|key"), NOW) == []
    assert client.drain_tuples() == [
        ("A" * 32, "tcp://10.0.0.1:1"),
        ("B" * 32, "tcp://10.0.0.2:2|key"),
    ]
    assert client.drain_tuples() == []
    # Its own tuple echoed back by the broker is passed on too (the node ignores it).
    client.handle(publish(OWN_KEY, OWN_VALUE), NOW)
    assert client.drain_tuples() == [(OWN_KEY, OWN_VALUE)]


def test_client_answers_invalid_with_a_new_greeting() -> None:
    client = make_client()
    frames = client.handle(INVALID, NOW + 3)
    assert decoded(frames) == [GossipHello(), GossipPublish(key=OWN_KEY, value=OWN_VALUE)]
    assert client.invalid_count == 1
    client.handle(INVALID, NOW + 4)
    assert client.invalid_count == 2
    # The greeting restarts the PING timer.
    assert client.next_deadline() == NOW + 4 + 0.5


def test_client_answers_ping_with_pong_and_ignores_pong_and_hello() -> None:
    client = make_client()
    assert decoded(client.handle(PING, NOW)) == [GossipPong()]
    assert client.handle(PONG, NOW) == []
    assert client.handle(HELLO, NOW) == []
    assert client.drain_tuples() == []
    assert client.invalid_count == 0


@pytest.mark.parametrize("frame", [b"", b"\xaa\xa0", b"garbage!", bytes.fromhex("aaa00201")])
def test_client_counts_undecodable_frames_and_sends_nothing(frame: bytes) -> None:
    client = make_client()
    assert client.handle(frame, NOW) == []
    assert client.decode_errors == 1
    assert client.drain_tuples() == []


def test_client_ping_timer() -> None:
    client = make_client(ping_interval=0.5)
    assert client.next_deadline() == NOW + 0.5
    assert client.handle_timer(NOW + 0.49) == []
    assert decoded(client.handle_timer(NOW + 0.5)) == [GossipPing()]
    assert client.next_deadline() == NOW + 1.0
    assert client.handle_timer(NOW + 0.9) == []
    # A late tick sends one PING and schedules the next from now, not a burst.
    assert decoded(client.handle_timer(NOW + 5.0)) == [GossipPing()]
    assert client.next_deadline() == NOW + 5.5
    assert client.handle_timer(NOW + 5.0) == []


def test_client_greeting_resets_the_ping_timer() -> None:
    client = make_client(ping_interval=2.0)
    client.greeting(NOW + 1.5)
    assert client.next_deadline() == NOW + 3.5
    assert client.handle_timer(NOW + 2.0) == []


# =========================================================================== broker

A, B, C = b"\x00k\x8bEg", b"\x00k\x8bEh", b"\x00k\x8bEi"  # libzmq-style 5-byte routing ids


def hello(broker: GossipBrokerEngine, client: bytes, now: float = NOW) -> list:
    return routed(broker.handle(client, HELLO, now))


def test_broker_answers_hello_with_every_tuple() -> None:
    broker = GossipBrokerEngine()
    assert hello(broker, A) == []  # nothing stored yet
    broker.handle(A, publish("K1", "tcp://1"), NOW)
    broker.publish("K0", "tcp://0")
    assert hello(broker, B) == [
        (B, GossipPublish(key="K1", value="tcp://1")),
        (B, GossipPublish(key="K0", value="tcp://0")),
    ]
    assert broker.client_count() == 2


def test_broker_stores_and_forwards_to_every_client_including_the_sender() -> None:
    broker = GossipBrokerEngine()
    for client in (A, B, C):
        hello(broker, client)
    out = routed(broker.handle(B, publish("KB", "tcp://b"), NOW))
    assert sorted(rid for rid, _ in out) == sorted([A, B, C])
    assert all(message == GossipPublish(key="KB", value="tcp://b") for _, message in out)
    assert broker.tuples == {"KB": "tcp://b"}
    assert broker.drain_learnt() == [("KB", "tcp://b")]
    assert broker.drain_learnt() == []


def test_broker_forwards_only_to_connected_clients() -> None:
    broker = GossipBrokerEngine()
    hello(broker, A)
    broker.handle(C, PING, NOW)  # C never said HELLO
    out = broker.handle(A, publish("K", "v"), NOW)
    assert [rid for rid, _ in out] == [A]


def test_broker_ignores_an_identical_tuple_but_forwards_a_changed_one() -> None:
    broker = GossipBrokerEngine()
    hello(broker, A)
    hello(broker, B)
    assert len(broker.handle(A, publish("K", "tcp://1"), NOW)) == 2
    broker.drain_learnt()
    assert broker.handle(B, publish("K", "tcp://1"), NOW) == []  # loop stops here
    assert broker.drain_learnt() == []
    out = routed(broker.handle(B, publish("K", "tcp://2"), NOW))
    assert [message for _, message in out] == [GossipPublish(key="K", value="tcp://2")] * 2
    assert broker.tuples == {"K": "tcp://2"}


def test_a_client_echoing_forwarded_tuples_back_ends_the_loop() -> None:
    """§11.4: the agent re-publishes every tuple it receives; the broker drops the duplicates."""
    broker = GossipBrokerEngine()
    for client in (A, B):
        hello(broker, client)
    queue = [(A, publish("K", "v"))]
    forwarded = 0
    while queue:
        client, frame = queue.pop(0)
        for rid, out in broker.handle(client, frame, NOW):
            forwarded += 1
            queue.append((rid, out))  # every client sends it straight back
        assert forwarded < 10
    assert forwarded == 2  # once to A and once to B, then only duplicates
    assert broker.tuples == {"K": "v"}
    assert broker.drain_learnt() == [("K", "v")]


@pytest.mark.parametrize(
    "frame",
    [publish("K", "v"), PONG, INVALID],
    ids=["PUBLISH", "PONG", "INVALID"],
)
def test_broker_refuses_anything_but_hello_or_ping_first(frame: bytes) -> None:
    broker = GossipBrokerEngine()
    assert routed(broker.handle(A, frame, NOW)) == [(A, GossipInvalid())]
    assert broker.tuples == {}
    assert broker.client_count() == 0
    # The client can then start properly.
    assert hello(broker, A) == []
    assert broker.client_count() == 1


def test_broker_answers_a_second_hello_with_invalid_and_drops_the_client() -> None:
    broker = GossipBrokerEngine()
    hello(broker, A)
    broker.handle(A, publish("K", "v"), NOW)
    assert hello(broker, A) == [(A, GossipInvalid())]
    assert broker.client_count() == 0
    # Dropped: a PUBLISH now gets INVALID, the stored tuple is kept.
    assert routed(broker.handle(A, publish("K2", "v2"), NOW)) == [(A, GossipInvalid())]
    assert broker.tuples == {"K": "v"}
    # A fresh HELLO is then accepted and gets everything.
    assert hello(broker, A) == [(A, GossipPublish(key="K", value="v"))]


def test_broker_answers_ping_with_pong_in_any_state() -> None:
    broker = GossipBrokerEngine()
    assert routed(broker.handle(A, PING, NOW)) == [(A, GossipPong())]  # unknown client
    assert broker.client_count() == 0  # a PING does not connect
    hello(broker, A)
    assert routed(broker.handle(A, PING, NOW)) == [(A, GossipPong())]
    assert broker.client_count() == 1


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x00", b"garbage", bytes.fromhex("aaa00102"), bytes.fromhex("aaa00901")],
    ids=["empty", "one-byte", "text", "bad-version", "bad-id"],
)
def test_broker_answers_garbage_with_invalid_and_drops_the_client(frame: bytes) -> None:
    broker = GossipBrokerEngine()
    hello(broker, A)
    assert routed(broker.handle(A, frame, NOW)) == [(A, GossipInvalid())]
    assert broker.decode_errors == 1
    assert broker.client_count() == 0


def test_broker_expires_silent_clients_after_the_timeout() -> None:
    broker = GossipBrokerEngine(client_timeout=1.0)
    hello(broker, A, NOW)
    hello(broker, B, NOW)
    broker.handle(B, PING, NOW + 0.8)  # B keeps itself alive
    broker.handle_timer(NOW + 1.0)  # exactly the timeout: not yet
    assert broker.client_count() == 2
    broker.handle_timer(NOW + 1.5)
    assert broker.client_count() == 1
    # A's PUBLISH after expiry gets INVALID and is lost, as with CZMQ (§11.3).
    assert routed(broker.handle(A, publish("K", "v"), NOW + 1.6)) == [(A, GossipInvalid())]
    assert broker.tuples == {}
    broker.handle_timer(NOW + 1.81)
    assert broker.client_count() == 0


def test_broker_activity_refreshes_a_client() -> None:
    broker = GossipBrokerEngine(client_timeout=1.0)
    hello(broker, A, NOW)
    broker.handle(A, publish("K", "v"), NOW + 0.9)
    broker.handle(A, PONG, NOW + 1.8)
    broker.handle_timer(NOW + 2.7)
    assert broker.client_count() == 1
    broker.handle_timer(NOW + 2.9)
    assert broker.client_count() == 0


def test_broker_default_timeout_is_generous() -> None:
    broker = GossipBrokerEngine()
    hello(broker, A, NOW)
    broker.handle_timer(NOW + 59)
    assert broker.client_count() == 1
    broker.handle_timer(NOW + 61)
    assert broker.client_count() == 0


def test_broker_publish_of_its_own_tuple_is_forwarded_once() -> None:
    broker = GossipBrokerEngine()
    hello(broker, A)
    hello(broker, B)
    out = routed(broker.publish(OWN_KEY, OWN_VALUE))
    assert sorted(rid for rid, _ in out) == sorted([A, B])
    assert {message for _, message in out} == {GossipPublish(key=OWN_KEY, value=OWN_VALUE)}
    assert broker.publish(OWN_KEY, OWN_VALUE) == []
    assert broker.drain_learnt() == []  # the host's own tuple is not "learnt"
    assert broker.tuples == {OWN_KEY: OWN_VALUE}


def test_broker_forget_drops_a_tuple_silently() -> None:
    broker = GossipBrokerEngine()
    hello(broker, A)
    broker.handle(A, publish("K", "v"), NOW)
    broker.forget("K")
    broker.forget("never-known")
    assert broker.tuples == {}
    assert hello(broker, B) == []
    # Once forgotten, the same tuple is new again and forwarded.
    assert len(broker.handle(A, publish("K", "v"), NOW)) == 2


def test_broker_tuples_property_is_a_copy() -> None:
    broker = GossipBrokerEngine()
    broker.publish("K", "v")
    broker.tuples["K"] = "changed"
    assert broker.tuples == {"K": "v"}


def test_client_and_broker_end_to_end() -> None:
    """Two clients meet through one broker: each learns the other's tuple."""
    broker = GossipBrokerEngine()
    alice = GossipClientEngine(key="A" * 32, value="tcp://a:1", now=NOW)
    bob = GossipClientEngine(key="B" * 32, value="tcp://b:2", now=NOW)
    clients = {A: alice, B: bob}
    queue: list[tuple[bytes, bytes]] = []
    for rid, client in clients.items():
        queue += [(rid, frame) for frame in client.greeting(NOW)]
    while queue:
        rid, frame = queue.pop(0)
        for target, reply in broker.handle(rid, frame, NOW):
            queue += [(target, back) for back in clients[target].handle(reply, NOW)]
    assert ("B" * 32, "tcp://b:2") in alice.drain_tuples()
    assert ("A" * 32, "tcp://a:1") in bob.drain_tuples()
    assert broker.tuples == {"A" * 32: "tcp://a:1", "B" * 32: "tcp://b:2"}
