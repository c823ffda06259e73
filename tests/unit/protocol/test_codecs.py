"""ZRE, beacon, zgossip and Z85 codecs: golden bytes from ``shared/spec/zre.md`` and edge cases.

Every hex vector below is copied from the captures quoted in the spec (§2.1, §4.4, §11.2), so a
failure here means patchwire would not talk to a real Ingescape 4.7 agent byte for byte.
"""

from __future__ import annotations

import struct
from uuid import UUID

import pytest

from patchwire.errors import DecodeError, RemoteProtocolError
from patchwire.protocol.zre.beacon import BEACON_PREFIX, Beacon, decode_beacon
from patchwire.protocol.zre.gossip import (
    GossipHello,
    GossipId,
    GossipInvalid,
    GossipMessage,
    GossipPing,
    GossipPong,
    GossipPublish,
    decode_gossip,
)
from patchwire.protocol.zre.messages import (
    SIGNATURE,
    VERSION,
    Elect,
    Goodbye,
    Hello,
    Join,
    Leader,
    Leave,
    Message,
    MessageId,
    Ping,
    PingOk,
    Shout,
    Whisper,
    decode_message,
)
from patchwire.protocol.zre.wire import Reader, Writer, decode_text, encode_text
from patchwire.protocol.zre.z85 import z85_decode, z85_encode


def h(text: str) -> bytes:
    """Hex dump (spaces and newlines allowed) to bytes."""
    return bytes.fromhex("".join(text.split()))


AGENT_UUID = "E313DC887D2B02C722FEC75BF458F85E"
UUID_001 = "0" * 31 + "1"

# One instance of each of the ten messages, with every field set to something non-default.
ALL_MESSAGES: list[Message] = [
    Hello(
        sequence=1,
        endpoint="tcp://10.77.0.1:49154",
        groups=("INGESCAPE_PRIVATE", "igs_probe_target-IGS", "\\o/ E1"),
        status=4,
        name="igs_probe_target",
        headers={"ingescape": "v4.7.0", "publisher": "49152", "pid": "21983"},
    ),
    Whisper(sequence=2, content=(b"EXTERNAL_DEFINITION#", b"{}", AGENT_UUID.encode())),
    Shout(sequence=10, group="PROBE_CHAN", content=(b"shout #2 from ingescape",)),
    Join(sequence=2, group="PROBE_CHAN", status=1),
    Leave(sequence=6, group="PROBE_GROUP", status=3),
    Ping(sequence=12),
    PingOk(sequence=2),
    Elect(sequence=2, group="\\o/ E1", challenger=AGENT_UUID),
    Leader(sequence=4, group="\\o/ E1", leader=UUID_001),
    Goodbye(sequence=4),
]


def _ids(messages: list[Message]) -> list[str]:
    return [type(message).__name__ for message in messages]


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=_ids(ALL_MESSAGES))
def test_every_message_round_trips(message: Message) -> None:
    frames = message.encode()
    assert decode_message(frames) == message
    # And re-encoding what was decoded gives the very same bytes.
    assert decode_message(frames).encode() == frames


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=_ids(ALL_MESSAGES))
def test_every_message_starts_with_the_common_header(message: Message) -> None:
    head = message.encode()[0]
    signature, message_id, version, sequence = struct.unpack_from(">HBBH", head)
    assert (signature, version) == (0xAAA1, 2)
    assert message_id == type(message).ID
    assert sequence == message.sequence


def test_message_ids_and_constants_match_the_spec() -> None:
    assert SIGNATURE == 0xAAA1
    assert VERSION == 2
    assert {member.name: member.value for member in MessageId} == {
        "HELLO": 1,
        "WHISPER": 2,
        "SHOUT": 3,
        "JOIN": 4,
        "LEAVE": 5,
        "PING": 6,
        "PING_OK": 7,
        "ELECT": 8,
        "LEADER": 9,
        "GOODBYE": 10,
    }
    assert sorted(type(message).ID for message in ALL_MESSAGES) == list(range(1, 11))


def test_hello_defaults_are_sequence_one_and_empty_fields() -> None:
    hello = Hello(endpoint="tcp://1.2.3.4:5")
    assert (hello.sequence, hello.groups, hello.status, hello.name, hello.headers) == (
        1,
        (),
        0,
        "",
        {},
    )
    assert hello.encode() == [
        h("aa a1 01 02 00 01 0f") + b"tcp://1.2.3.4:5" + h("00000000 00 00 00000000")
    ]


# --------------------------------------------------------------------------- golden bytes


HELLO_PROBE_85 = h(
    """
    aa a1 01 02 00 01 15 74 63 70 3a 2f 2f 31 30 2e
    37 37 2e 30 2e 32 3a 34 36 33 39 37 00 00 00 01
    00 00 00 0b 50 52 4f 42 45 5f 47 52 4f 55 50 00
    0f 70 61 74 63 68 77 69 72 65 5f 70 72 6f 62 65
    00 00 00 01 0b 78 2d 70 61 74 63 68 77 69 72 65
    00 00 00 01 31
    """
)


def test_probe_hello_85_bytes_decodes_and_re_encodes_identically() -> None:
    assert len(HELLO_PROBE_85) == 85
    hello = decode_message([HELLO_PROBE_85])
    assert hello == Hello(
        sequence=1,
        endpoint="tcp://10.77.0.2:46397",
        groups=("PROBE_GROUP",),
        status=0,
        name="patchwire_probe",
        headers={"x-patchwire": "1"},
    )
    assert hello.encode() == [HELLO_PROBE_85]


def test_agent_hello_layout_with_headers() -> None:
    """The 460-byte agent HELLO of §4.4, rebuilt field by field (the commandline is elided in
    the spec, so this checks the layout on a shorter one)."""
    headers = {
        "inproc": f"inproc://{AGENT_UUID}",
        "pid": "21983",
        "protocol": "v5",
        "ingescape": "v4.7.0",
    }
    hello = Hello(
        sequence=1,
        endpoint="tcp://10.77.0.1:49154",
        groups=(
            "INGESCAPE_PRIVATE",
            "igs_probe_target-IGS-REPLAY",
            "igs_probe_target-IGS",
            "PROBE_CHAN",
        ),
        status=4,
        name="igs_probe_target",
        headers=headers,
    )
    expected = (
        h("aa a1 01 02 00 01 15")
        + b"tcp://10.77.0.1:49154"
        + h("00 00 00 04")
        + h("00 00 00 11")
        + b"INGESCAPE_PRIVATE"
        + h("00 00 00 1b")
        + b"igs_probe_target-IGS-REPLAY"
        + h("00 00 00 14")
        + b"igs_probe_target-IGS"
        + h("00 00 00 0a")
        + b"PROBE_CHAN"
        + h("04 10")
        + b"igs_probe_target"
        + h("00 00 00 04")
        + h("06")
        + b"inproc"
        + h("00 00 00 29")
        + f"inproc://{AGENT_UUID}".encode()
        + h("03")
        + b"pid"
        + h("00 00 00 05")
        + b"21983"
        + h("08")
        + b"protocol"
        + h("00 00 00 02")
        + b"v5"
        + h("09")
        + b"ingescape"
        + h("00 00 00 06")
        + b"v4.7.0"
    )
    assert hello.encode() == [expected]
    assert decode_message([expected]) == hello


def test_join_bytes_from_the_probe_run() -> None:
    frame = h("aa a1 04 02 00 02 0a 50 52 4f 42 45 5f 43 48 41 4e 01")
    message = Join(sequence=2, group="PROBE_CHAN", status=1)
    assert message.encode() == [frame]
    assert decode_message([frame]) == message


def test_leave_bytes_from_the_probe_run() -> None:
    frame = h("aa a1 05 02 00 06 0b 50 52 4f 42 45 5f 47 52 4f 55 50 03")
    message = Leave(sequence=6, group="PROBE_GROUP", status=3)
    assert message.encode() == [frame]
    assert decode_message([frame]) == message


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("aa a1 06 02 00 0c", Ping(sequence=12)),
        ("aa a1 07 02 00 02", PingOk(sequence=2)),
        ("aa a1 0a 02 00 04", Goodbye(sequence=4)),
    ],
    ids=["PING", "PING_OK", "GOODBYE"],
)
def test_header_only_messages_captured_from_the_agent(frame: str, message: Message) -> None:
    assert message.encode() == [h(frame)]
    assert decode_message([h(frame)]) == message


def test_shout_from_the_agent() -> None:
    frames = [h("aa a1 03 02 00 0a 0a 50 52 4f 42 45 5f 43 48 41 4e"), b"shout #2 from ingescape"]
    message = Shout(sequence=10, group="PROBE_CHAN", content=(b"shout #2 from ingescape",))
    assert decode_message(frames) == message
    assert message.encode() == frames


def test_whisper_from_the_probe_with_two_frames() -> None:
    frames = [h("aa a1 02 02 00 04"), b"first", b"second"]
    message = decode_message(frames)
    assert message == Whisper(sequence=4, content=(b"first", b"second"))
    assert message.encode() == frames


def test_elect_prefix_from_the_agent() -> None:
    challenger = "AB7131E8" + "0" * 20 + "3318"
    frame = Elect(sequence=2, group="\\o/ E1", challenger=challenger).encode()
    assert len(frame) == 1
    assert frame[0].startswith(h("aa a1 08 02 00 02 06 5c 6f 2f 20 45 31 20 41 42 37 31"))
    assert frame[0] == h("aa a1 08 02 00 02 06 5c 6f 2f 20 45 31 20") + challenger.encode()
    assert decode_message(frame) == Elect(sequence=2, group="\\o/ E1", challenger=challenger)


def test_leader_bytes_from_the_agent() -> None:
    frame = h("aa a1 09 02 00 04 06 5c 6f 2f 20 45 31 20") + UUID_001.encode()
    assert frame.startswith(h("aa a1 09 02 00 04 06 5c 6f 2f 20 45 31 20 30 30"))
    assert frame.endswith(h("31"))
    message = Leader(sequence=4, group="\\o/ E1", leader=UUID_001)
    assert message.encode() == [frame]
    assert decode_message([frame]) == message


# --------------------------------------------------------------------------- sequence numbers


@pytest.mark.parametrize("sequence", [0, 1, 255, 256, 65534, 65535])
def test_sequence_extremes_encode_and_decode(sequence: int) -> None:
    ping = Ping(sequence=sequence)
    frame = ping.encode()[0]
    assert frame[4:6] == sequence.to_bytes(2, "big")
    assert decode_message([frame]) == ping


def test_sequence_65535_in_a_join() -> None:
    join = Join(sequence=65535, group="G", status=255)
    assert join.encode() == [h("aa a1 04 02 ff ff 01 47 ff")]
    assert decode_message(join.encode()) == join


# --------------------------------------------------------------------------- string limits


def _too_long_cases() -> list[tuple[str, Message]]:
    long = "x" * 256
    return [
        ("hello-endpoint", Hello(endpoint=long)),
        ("hello-name", Hello(endpoint="tcp://a:1", name=long)),
        ("hello-header-key", Hello(endpoint="tcp://a:1", headers={long: "v"})),
        ("shout-group", Shout(sequence=1, group=long)),
        ("join-group", Join(sequence=1, group=long, status=1)),
        ("leave-group", Leave(sequence=1, group=long, status=1)),
        ("elect-group", Elect(sequence=1, group=long, challenger="C")),
        ("elect-challenger", Elect(sequence=1, group="G", challenger=long)),
        ("leader-group", Leader(sequence=1, group=long, leader="L")),
        ("leader-leader", Leader(sequence=1, group="G", leader=long)),
        # 128 two-byte characters: 128 characters but 256 bytes.
        ("multibyte", Join(sequence=1, group="é" * 128, status=1)),
    ]


@pytest.mark.parametrize(
    "message", [case for _, case in _too_long_cases()], ids=[n for n, _ in _too_long_cases()]
)
def test_string_fields_longer_than_255_bytes_are_refused_at_encode(message: Message) -> None:
    with pytest.raises(ValueError, match="255"):
        message.encode()


def test_string_fields_of_exactly_255_bytes_are_accepted() -> None:
    group = "g" * 255
    join = Join(sequence=3, group=group, status=7)
    frame = join.encode()[0]
    assert frame[6] == 255
    assert decode_message([frame]) == join
    # A multibyte string at the limit too: 85 three-byte characters = 255 bytes.
    euro = "€" * 85
    assert decode_message(Shout(sequence=1, group=euro).encode()) == Shout(sequence=1, group=euro)


def test_longstr_fields_may_exceed_255_bytes() -> None:
    hello = Hello(
        endpoint="tcp://a:1",
        groups=("g" * 1000,),
        headers={"commandline": "c" * 70_000},
    )
    assert decode_message(hello.encode()) == hello


# --------------------------------------------------------------------------- decoder tolerance


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=_ids(ALL_MESSAGES))
def test_trailing_bytes_in_frame_zero_are_ignored(message: Message) -> None:
    frames = message.encode()
    padded = [frames[0] + b"\x00trailing\xff", *frames[1:]]
    assert decode_message(padded) == message


@pytest.mark.parametrize(
    ("kind", "group"), [(Whisper, None), (Shout, "CHAN")], ids=["WHISPER", "SHOUT"]
)
@pytest.mark.parametrize(
    "content",
    [(), (b"",), (b"one",), (b"a", b"", b"c" * 5000), tuple(bytes([i]) for i in range(20))],
    ids=["none", "one-empty", "one", "three", "twenty"],
)
def test_whisper_and_shout_carry_zero_or_several_content_frames(
    kind: type, group: str | None, content: tuple[bytes, ...]
) -> None:
    message = (
        kind(sequence=9, content=content)
        if group is None
        else kind(sequence=9, group=group, content=content)
    )
    frames = message.encode()
    assert len(frames) == 1 + len(content)
    assert frames[1:] == list(content)
    decoded = decode_message(frames)
    assert decoded == message
    assert decoded.content == content


def test_ping_ignores_extra_frames() -> None:
    """Only WHISPER and SHOUT have content; extra frames after other messages are dropped."""
    assert decode_message([h("aa a1 06 02 00 05"), b"junk"]) == Ping(sequence=5)


def test_non_utf8_fields_survive_decode_and_re_encode() -> None:
    raw_group = b"\xff\xfe-group-\x80"
    frame = h("aa a1 04 02 00 02") + bytes([len(raw_group)]) + raw_group + h("01")
    join = decode_message([frame])
    assert isinstance(join, Join)
    assert join.group == raw_group.decode("utf-8", "surrogateescape")
    assert join.encode() == [frame]


def test_hello_hash_with_non_utf8_key_and_value() -> None:
    key, value = b"k\xc3", b"\xff\x00v"
    frame = (
        h("aa a1 01 02 00 01 00 00000000 00 00 00000001")
        + bytes([len(key)])
        + key
        + len(value).to_bytes(4, "big")
        + value
    )
    hello = decode_message([frame])
    assert isinstance(hello, Hello)
    assert hello.headers == {decode_text(key): decode_text(value)}
    assert hello.encode() == [frame]


# --------------------------------------------------------------------------- decoder errors


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        ([], "without frames"),
        ([b""], "header"),
        ([h("aa a1 06 02 00")], "header"),
        ([h("aa a0 06 02 00 01")], "signature"),
        ([h("ab a1 06 02 00 01")], "signature"),
        ([h("aa a1 06 01 00 01")], "version"),
        ([h("aa a1 06 03 00 01")], "version"),
        ([h("aa a1 00 02 00 01")], "unknown"),
        ([h("aa a1 0b 02 00 01")], "unknown"),
        ([h("aa a1 ff 02 00 01")], "unknown"),
        ([h("aa a1 04 02 00 02")], "truncated"),
        ([h("aa a1 04 02 00 02 05 41 42")], "truncated"),
        ([h("aa a1 04 02 00 02 01 41")], "truncated"),
        ([h("aa a1 03 02 00 02 03 41")], "truncated"),
        ([h("aa a1 08 02 00 02 01 47")], "truncated"),
        ([h("aa a1 09 02 00 02 01 47 05 41")], "truncated"),
        ([h("aa a1 01 02 00 01 00 00 00 00 00 00")], "truncated in name"),
        ([h("aa a1 01 02 00 01 00 00 00 00 01")], "claims 1 items"),
    ],
)
def test_malformed_frames_raise_decode_error(frames: list[bytes], reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        decode_message(frames)
    assert isinstance(info.value, RemoteProtocolError)
    assert info.value.code == "decode"
    assert len(info.value.data) <= 64


def test_huge_list_and_hash_counts_are_refused_before_allocating() -> None:
    groups = h("aa a1 01 02 00 01 00 ff ff ff ff") + b"\x00" * 32
    with pytest.raises(DecodeError, match="claims"):
        decode_message([groups])
    headers = h("aa a1 01 02 00 01 00 00000000 00 00 7fffffff") + b"\x00" * 32
    with pytest.raises(DecodeError, match="claims"):
        decode_message([headers])


def test_every_truncation_of_the_probe_hello_is_a_decode_error() -> None:
    for size in range(len(HELLO_PROBE_85)):
        with pytest.raises(DecodeError):
            decode_message([HELLO_PROBE_85[:size]])


def test_decode_error_keeps_a_bounded_preview() -> None:
    with pytest.raises(DecodeError) as info:
        decode_message([h("aa a1 ee 02 00 01") + b"x" * 500])
    assert info.value.data == (h("aa a1 ee 02 00 01") + b"x" * 500)[:64]


# --------------------------------------------------------------------------- wire primitives


def test_writer_and_reader_primitives() -> None:
    data = (
        Writer(b"\x99")
        .u8(7)
        .u16(0xBEEF)
        .u32(0xDEADBEEF)
        .raw(b"RAW")
        .string("s")
        .longstr("long")
        .strings(["a", "bc"])
        .hash({"k": "v"})
        .getvalue()
    )
    assert data == h(
        "99 07 be ef de ad be ef 52 41 57 01 73 00 00 00 04 6c 6f 6e 67"
        " 00 00 00 02 00 00 00 01 61 00 00 00 02 62 63 00 00 00 01 01 6b 00 00 00 01 76"
    )
    reader = Reader(data, 1)
    assert reader.u8("a") == 7
    assert reader.u16("b") == 0xBEEF
    assert reader.u32("c") == 0xDEADBEEF
    assert reader.raw(3, "d") == b"RAW"
    assert reader.string("e") == "s"
    assert reader.longstr("f") == "long"
    assert reader.strings("g") == ("a", "bc")
    assert reader.hash("h") == {"k": "v"}
    assert reader.remaining == 0
    with pytest.raises(DecodeError, match="truncated in tail"):
        reader.u8("tail")


def test_empty_writer_and_text_helpers() -> None:
    assert Writer().getvalue() == b""
    assert encode_text("\udcff") == b"\xff"
    assert decode_text(b"\xff") == "\udcff"
    assert decode_text(encode_text("héllo")) == "héllo"


# --------------------------------------------------------------------------- beacons


BEACON_22 = h("5a 52 45 01 2d e5 1a 7a 1c 62 c9 95 f7 ec b9 22 ba d3 76 d9 c0 02")
BEACON_54 = h(
    """
    5a 52 45 03 e5 f5 a6 08 55 a8 74 0e 22 a6 5b 26
    d4 a1 02 80 c0 02 ea cf 2f b7 84 34 64 64 fa ac
    d5 7f 4d 9f c7 89 e2 6a 21 6c 39 28 18 ec 97 40
    a1 a2 35 af d9 3f
    """
)
CURVE_KEY_TEXT = "(D.b)GFWjI}Mej%o}PE.&+xSMivC:hMQ4mshlUW$"


def test_captured_plain_beacon_decodes_and_re_encodes() -> None:
    assert len(BEACON_22) == 22
    beacon = decode_beacon(BEACON_22)
    assert beacon.uuid == UUID(hex="2DE51A7A1C62C995F7ECB922BAD376D9")
    assert beacon.port == 49154
    assert beacon.public_key is None
    assert beacon.version == 1
    assert not beacon.leaving
    assert beacon.encode() == BEACON_22
    assert "2DE51A7A1C62C995F7ECB922BAD376D9" in str(beacon)


def test_captured_stop_beacon_has_port_zero() -> None:
    stop = BEACON_22[:-2] + b"\x00\x00"
    beacon = decode_beacon(stop)
    assert beacon.leaving
    assert beacon.port == 0
    assert Beacon(uuid=beacon.uuid, port=0).encode() == stop


def test_captured_curve_beacon_carries_the_z85_key() -> None:
    assert len(BEACON_54) == 54
    beacon = decode_beacon(BEACON_54)
    assert beacon.version == 3
    assert beacon.port == 49154
    assert beacon.uuid == UUID(bytes=BEACON_54[4:20])
    assert beacon.public_key == z85_decode(CURVE_KEY_TEXT)
    assert beacon.public_key is not None
    assert beacon.public_key.hex().startswith("eacf2fb7")
    assert beacon.public_key.hex().endswith("d93f")
    assert z85_encode(beacon.public_key) == CURVE_KEY_TEXT
    assert beacon.encode() == BEACON_54
    assert "curve" in str(beacon)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "22 or 54"),
        (BEACON_22[:-1], "22 or 54"),
        (BEACON_22 + b"\x00", "22 or 54"),
        (BEACON_54[:-1], "22 or 54"),
        (BEACON_54 + b"\x00", "22 or 54"),
        (b"ZRF" + BEACON_22[3:], "ZRE"),
        (b"zre" + BEACON_22[3:], "ZRE"),
        (BEACON_22[:3] + b"\x03" + BEACON_22[4:], "version"),
        (BEACON_22[:3] + b"\x02" + BEACON_22[4:], "version"),
        (BEACON_54[:3] + b"\x01" + BEACON_54[4:], "version"),
    ],
)
def test_bad_beacons_raise_decode_error(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_beacon(data)


def test_beacon_constructor_refuses_impossible_values() -> None:
    uuid = UUID(int=1)
    with pytest.raises(ValueError, match="port"):
        Beacon(uuid=uuid, port=65536)
    with pytest.raises(ValueError, match="port"):
        Beacon(uuid=uuid, port=-1)
    with pytest.raises(ValueError, match="32"):
        Beacon(uuid=uuid, port=1, public_key=b"\x01" * 31)
    assert BEACON_PREFIX == b"ZRE"
    assert Beacon(uuid=uuid, port=65535).encode()[-2:] == b"\xff\xff"


# --------------------------------------------------------------------------- zgossip


GOSSIP_PUBLISH = (
    h("aa a0 02 01 20")
    + b"12D1B70C1AC4C6AEF6CA0D2D30BF2EBE"
    + h("00 00 00 15")
    + b"tcp://127.0.0.1:15680"
    + h("00 00 00 00")
)


def test_gossip_publish_from_the_agent() -> None:
    message = decode_gossip(GOSSIP_PUBLISH)
    assert message == GossipPublish(
        key="12D1B70C1AC4C6AEF6CA0D2D30BF2EBE", value="tcp://127.0.0.1:15680", ttl=0
    )
    assert message.encode() == GOSSIP_PUBLISH


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("aa a0 01 01", GossipHello()),
        ("aa a0 03 01", GossipPing()),
        ("aa a0 04 01", GossipPong()),
        ("aa a0 05 01", GossipInvalid()),
    ],
    ids=["HELLO", "PING", "PONG", "INVALID"],
)
def test_gossip_simple_messages(frame: str, message: GossipMessage) -> None:
    assert decode_gossip(h(frame)) == message
    assert message.encode() == h(frame)
    # Trailing bytes are ignored, as for ZRE.
    assert decode_gossip(h(frame) + b"\x00\x01") == message


def test_gossip_publish_with_curve_value_and_ttl() -> None:
    value = f"tcp://127.0.0.1:15700|{CURVE_KEY_TEXT}"
    message = GossipPublish(key="K", value=value, ttl=0xFFFFFFFF)
    frame = message.encode()
    assert frame == h("aa a0 02 01 01 4b") + len(value).to_bytes(4, "big") + value.encode() + (
        b"\xff" * 4
    )
    assert decode_gossip(frame) == message
    assert decode_gossip(frame + b"extra") == message


def test_gossip_ids() -> None:
    assert [member.value for member in GossipId] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", "header"),
        (h("aa a0 01"), "header"),
        (h("aa a1 01 01"), "signature"),
        (h("aa a0 01 02"), "version"),
        (h("aa a0 00 01"), "unknown"),
        (h("aa a0 06 01"), "unknown"),
        (h("aa a0 02 01"), "truncated"),
        (GOSSIP_PUBLISH[:-1], "truncated"),
        (GOSSIP_PUBLISH[:30], "truncated"),
    ],
)
def test_bad_gossip_frames_raise_decode_error(frame: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_gossip(frame)


def test_every_truncation_of_the_gossip_publish_is_a_decode_error() -> None:
    for size in range(len(GOSSIP_PUBLISH)):
        with pytest.raises(DecodeError):
            decode_gossip(GOSSIP_PUBLISH[:size])


def test_gossip_key_longer_than_255_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="255"):
        GossipPublish(key="k" * 256, value="v").encode()


# --------------------------------------------------------------------------- Z85


def test_z85_rfc32_vector() -> None:
    raw = h("86 4F D2 6F B5 59 F7 5B")
    assert z85_encode(raw) == "HelloWorld"
    assert z85_decode("HelloWorld") == raw


def test_z85_spec_key_decodes_to_the_beacon_bytes() -> None:
    raw = z85_decode(CURVE_KEY_TEXT)
    assert raw == BEACON_54[22:]
    assert raw.hex() == "eacf2fb784346464faacd57f4d9fc789e26a216c392818ec9740a1a235afd93f"


def test_z85_extremes() -> None:
    assert z85_encode(b"") == ""
    assert z85_decode("") == b""
    assert z85_encode(b"\x00" * 4) == "00000"
    assert z85_encode(b"\xff" * 4) == "%nSc0"
    assert z85_decode("%nSc0") == b"\xff" * 4


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abcd", "multiple of 5"),
        ("HelloWorl", "multiple of 5"),
        ('abc"e', "not a Z85 character"),
        ("abc\\e", "not a Z85 character"),
        ("abc e", "not a Z85 character"),
        ("%nSc1", "overflows"),
        ("#####", "overflows"),
    ],
)
def test_z85_decode_errors(text: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        z85_decode(text)


def test_z85_encode_refuses_partial_groups() -> None:
    with pytest.raises(ValueError, match="4-byte"):
        z85_encode(b"abc")


@pytest.mark.parametrize("text", ["é0000", "\U0001f600abcd"])
def test_z85_decode_rejects_non_ascii_characters(text: str) -> None:
    """Bug: ``z85_decode`` encodes the text with ``errors="replace"``, which turns every
    non-ASCII character into ``?`` — itself a valid Z85 digit — so ``"é0000"`` decodes to
    4 bytes instead of being refused. A corrupted key in a gossip value or an ``X-PUBLICKEY``
    header would then be accepted as a different key."""
    with pytest.raises(DecodeError):
        z85_decode(text)


# --------------------------------------------------------------------------- log forms


def test_messages_have_readable_log_forms() -> None:
    texts = [str(message) for message in ALL_MESSAGES]
    assert texts[0] == (
        "HELLO#1 'igs_probe_target' tcp://10.77.0.1:49154 groups=['INGESCAPE_PRIVATE', "
        "'igs_probe_target-IGS', '\\\\o/ E1'] status=4 headers=3"
    )
    assert texts[1] == (f"WHISPER#2 ['EXTERNAL_DEFINITION#', '{{}}', '{AGENT_UUID}']")
    assert texts[2] == "SHOUT#10 [PROBE_CHAN] ['shout #2 from ingescape']"
    assert texts[3:] == [
        "JOIN#2 PROBE_CHAN status=1",
        "LEAVE#6 PROBE_GROUP status=3",
        "PING#12",
        "PING_OK#2",
        f"ELECT#2 \\o/ E1 {AGENT_UUID}",
        f"LEADER#4 \\o/ E1 {UUID_001}",
        "GOODBYE#4",
    ]


def test_content_preview_shows_binary_as_hex_and_counts_extra_frames() -> None:
    binary = bytes(range(40))
    text = str(Whisper(sequence=1, content=(binary, b"ok", b"", b"x", b"y", b"z")))
    assert text == f"WHISPER#1 [{binary[:16].hex()}, 'ok', '', 'x' +2]"
    long_text = b"a" * 100
    assert str(Shout(sequence=1, group="G", content=(long_text,))) == (
        f"SHOUT#1 [G] ['{'a' * 32}']"
    )
    assert str(Whisper(sequence=3)) == "WHISPER#3 []"
