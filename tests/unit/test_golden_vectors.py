"""Golden vectors: bytes captured from real Ingescape 4.7 agents, through patchwire's codecs.

The records in ``tests/vectors/*.json`` were written by ``tests/vectors/capture.py`` (run by
hand, as root, against the ``ingescape`` 4.7.0 wheel); their ``expected`` fields come from the
capture's own small parser, not from patchwire. Every record must decode with patchwire's
codec to exactly those fields and re-encode to exactly the captured bytes. This module only
reads the JSON files: no root, no network, no Ingescape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from patchwire.errors import DecodeError
from patchwire.protocol.zre.beacon import Beacon, decode_beacon
from patchwire.protocol.zre.gossip import GossipMessage, GossipPublish, decode_gossip
from patchwire.protocol.zre.messages import VERSION, Message, decode_message
from patchwire.protocol.zre.z85 import z85_decode, z85_encode

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTOR_FILES = sorted(VECTOR_DIR.glob("*.json"))

REQUIRED = {
    "hello_from_agent",
    "whisper_private_external_definition",
    "whisper_channel_str",
    "shout_channel_str",
    "join_from_agent",
    "leave_from_agent",
    "ping_from_agent",
    "ping_ok_from_agent",
    "elect_from_agent",
    "leader_from_agent",
    "goodbye_from_agent",
    "gossip_hello_from_agent",
    "gossip_publish_from_agent",
    "gossip_pong_from_agent",
    "gossip_invalid_from_agent",
    "beacon_v1_from_agent",
    "beacon_v1_leaving_from_agent",
    "beacon_v3_from_secure_agent",
}
"""Vectors the capture must always provide (capture.py ``REQUIRED``)."""

ZRE_FIELDS: dict[str, tuple[str, ...]] = {
    "HELLO": ("endpoint", "groups", "status", "name", "headers"),
    "WHISPER": ("content",),
    "SHOUT": ("group", "content"),
    "JOIN": ("group", "status"),
    "LEAVE": ("group", "status"),
    "PING": (),
    "PING_OK": (),
    "ELECT": ("group", "challenger"),
    "LEADER": ("group", "leader"),
    "GOODBYE": (),
}
"""Fields of each ZRE message after the common header, in wire order."""


def _load() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in VECTOR_FILES:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(loaded, list), f"{path.name}: a vector file holds a JSON list"
        records.extend(loaded)
    return records


RECORDS = _load()
BY_NAME = {record["name"]: record for record in RECORDS}


def _records(kind: str) -> list[Any]:
    return [pytest.param(r, id=r["name"]) for r in RECORDS if r["kind"] == kind]


def _frames(record: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(frame) for frame in record["frames"]]


def zre_fields(msg: Message) -> dict[str, Any]:
    """patchwire's decoded message in the shape of a record's ``expected``."""
    kind = msg.ID.name
    out: dict[str, Any] = {
        "type": kind,
        "id": int(msg.ID),
        "version": VERSION,
        "sequence": msg.sequence,
    }
    for name in ZRE_FIELDS[kind]:
        value = getattr(msg, name)
        if name == "headers":
            value = [[key, text] for key, text in value.items()]  # wire order kept
        elif name == "content":
            value = [frame.hex() for frame in value]
        elif name == "groups":
            value = list(value)
        out[name] = value
    return out


def beacon_fields(beacon: Beacon) -> dict[str, Any]:
    key = beacon.public_key
    return {
        "protocol": "ZRE",
        "version": beacon.version,
        "uuid": beacon.uuid.hex.upper(),
        "port": beacon.port,
        "leaving": beacon.leaving,
        "public_key": None if key is None else key.hex(),
        "public_key_z85": None if key is None else z85_encode(key),
    }


def gossip_fields(msg: GossipMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"type": msg.ID.name, "id": int(msg.ID), "version": 1}
    if isinstance(msg, GossipPublish):
        out.update(key=msg.key, value=msg.value, ttl=msg.ttl)
    return out


def _assert_fields(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert key in actual, f"patchwire does not expose {key!r}"
        assert actual[key] == value, f"{key}: decoded {actual[key]!r}, captured {value!r}"
    assert set(actual) == set(expected), f"fields not in the vector: {set(actual) - set(expected)}"


# -- the vector files themselves -----------------------------------------------------------


def test_vector_files_are_present_and_well_formed() -> None:
    assert VECTOR_FILES, f"no vector file in {VECTOR_DIR}"
    assert len(BY_NAME) == len(RECORDS), "vector names must be unique"
    for record in RECORDS:
        assert {"name", "kind", "source", "frames", "expected"} <= set(record), record["name"]
        assert record["kind"] in ("zre", "beacon", "gossip"), record["name"]
        assert record["source"].startswith("ingescape 4.7.0 "), record["name"]
        assert record["frames"], record["name"]
    missing = REQUIRED - set(BY_NAME)
    assert not missing, f"missing golden vectors: {sorted(missing)}"


# -- decode, check every field, re-encode byte for byte ------------------------------------


@pytest.mark.parametrize("record", _records("zre"))
def test_zre_vector(record: dict[str, Any]) -> None:
    frames = _frames(record)
    expected = record["expected"]
    assert frames[0][:2] == b"\xaa\xa1"
    assert frames[0][2] == expected["id"]
    assert frames[0][3] == expected["version"] == VERSION
    msg = decode_message(frames)
    _assert_fields(zre_fields(msg), expected)
    assert msg.encode() == frames


@pytest.mark.parametrize("record", _records("beacon"))
def test_beacon_vector(record: dict[str, Any]) -> None:
    (data,) = _frames(record)
    expected = record["expected"]
    beacon = decode_beacon(data)
    _assert_fields(beacon_fields(beacon), expected)
    if expected["public_key_z85"] is not None:
        assert z85_decode(expected["public_key_z85"]) == beacon.public_key
    key = expected["public_key"]
    rebuilt = Beacon(
        uuid=UUID(expected["uuid"]),
        port=expected["port"],
        public_key=None if key is None else bytes.fromhex(key),
    )
    assert beacon.encode() == data
    assert rebuilt.encode() == data


@pytest.mark.parametrize("record", _records("gossip"))
def test_gossip_vector(record: dict[str, Any]) -> None:
    (frame,) = _frames(record)
    msg = decode_gossip(frame)
    _assert_fields(gossip_fields(msg), record["expected"])
    assert msg.encode() == frame


@pytest.mark.parametrize("record", [pytest.param(r, id=r["name"]) for r in RECORDS])
def test_truncated_vector_is_rejected(record: dict[str, Any]) -> None:
    """One byte less than a real frame 0 / datagram is a DecodeError, never a wrong value."""
    frames = _frames(record)
    short = frames[0][:-1]
    decoders = {
        "zre": lambda: decode_message([short, *frames[1:]]),
        "beacon": lambda: decode_beacon(short),
        "gossip": lambda: decode_gossip(short),
    }
    with pytest.raises(DecodeError):
        decoders[record["kind"]]()


# -- what the records say about each other (the capture is one consistent story) -----------


def _sender(record: dict[str, Any]) -> str:
    routing_id = bytes.fromhex(record["context"]["routing_id"])
    assert len(routing_id) == 17
    assert routing_id[0] == 1
    return routing_id[1:].hex().upper()


def test_zre_routing_ids_are_the_senders_node_uuid() -> None:
    for record in RECORDS:
        if record["kind"] == "zre" and record["expected"]["type"] == "HELLO":
            headers = dict(record["expected"]["headers"])
            assert headers["inproc"] == f"inproc://{_sender(record)}", record["name"]


def test_beacon_matches_the_agents_hello() -> None:
    beacon = BY_NAME["beacon_v1_from_agent"]["expected"]
    hello = BY_NAME["hello_from_agent"]
    assert _sender(hello) == beacon["uuid"]
    assert hello["expected"]["endpoint"].endswith(f":{beacon['port']}")
    leaving = BY_NAME["beacon_v1_leaving_from_agent"]
    assert leaving["expected"]["uuid"] == beacon["uuid"]
    assert leaving["expected"]["port"] == 0
    assert (
        bytes.fromhex(leaving["frames"][0])[:20]
        == bytes.fromhex(BY_NAME["beacon_v1_from_agent"]["frames"][0])[:20]
    )


def test_status_byte_counts_the_agents_joins_and_leaves() -> None:
    hello = BY_NAME["hello_from_agent"]["expected"]
    join = BY_NAME["join_from_agent"]["expected"]
    leave = BY_NAME["leave_from_agent"]["expected"]
    assert hello["status"] == len(hello["groups"])
    assert join["status"] == hello["status"] + 1
    assert leave["status"] == join["status"] + 1
    assert leave["group"] == join["group"]


def test_election_waves_name_the_agent() -> None:
    agent = _sender(BY_NAME["hello_from_agent"])
    assert BY_NAME["elect_from_agent"]["expected"]["challenger"] == agent
    assert BY_NAME["leader_from_agent"]["expected"]["leader"] == agent
    group = BY_NAME["elect_from_agent"]["expected"]["group"]
    assert group.encode() == b"\\o/ E1"
    assert group in BY_NAME["hello_from_agent"]["expected"]["groups"]


def test_gossip_tuple_is_the_broker_mode_agents_endpoint() -> None:
    publish = BY_NAME["gossip_publish_from_agent"]["expected"]
    assert publish["ttl"] == 0
    if "hello_from_agent_broker_mode" in BY_NAME:
        hello = BY_NAME["hello_from_agent_broker_mode"]
        assert _sender(hello) == publish["key"]
        assert hello["expected"]["endpoint"] == publish["value"]
    goodbye = BY_NAME["goodbye_from_agent"]
    assert _sender(goodbye) == publish["key"]


def test_secure_agent_key_is_the_same_everywhere() -> None:
    beacon = BY_NAME["beacon_v3_from_secure_agent"]["expected"]
    assert beacon["version"] == 3
    assert len(bytes.fromhex(beacon["public_key"])) == 32
    if "hello_from_secure_agent" in BY_NAME:
        hello = BY_NAME["hello_from_secure_agent"]
        assert _sender(hello) == beacon["uuid"]
        assert dict(hello["expected"]["headers"])["X-PUBLICKEY"] == beacon["public_key_z85"]
