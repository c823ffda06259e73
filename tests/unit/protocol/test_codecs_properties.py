"""Hypothesis properties of the ZRE, beacon, zgossip and Z85 codecs.

- ``decode(encode(m)) == m`` for every message kind, with arbitrary field content, including
  bytes that are not UTF-8 (strings are decoded with ``surrogateescape``);
- random bytes, mutated and truncated valid encodings give a valid message or
  :class:`~patchwire.errors.DecodeError`, never another exception.

The example database is disabled so that a run writes nothing outside the test tree.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchwire.errors import DecodeError
from patchwire.protocol.zre.beacon import Beacon, decode_beacon
from patchwire.protocol.zre.gossip import (
    GossipHello,
    GossipInvalid,
    GossipMessage,
    GossipPing,
    GossipPong,
    GossipPublish,
    decode_gossip,
)
from patchwire.protocol.zre.messages import (
    Elect,
    Goodbye,
    Hello,
    Join,
    Leader,
    Leave,
    Message,
    Ping,
    PingOk,
    Shout,
    Whisper,
    decode_message,
)
from patchwire.protocol.zre.wire import decode_text, encode_text
from patchwire.protocol.zre.z85 import z85_decode, z85_encode

MANY = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MID = settings(max_examples=600, deadline=None, database=None)
SOME = settings(max_examples=300, deadline=None, database=None)

# --------------------------------------------------------------------------- strategies

# A ``string`` field holds at most 255 bytes: 60 code points are at most 240 UTF-8 bytes, and raw
# bytes decoded with surrogateescape re-encode to exactly themselves.
short_text = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=255).map(decode_text),
)
long_text = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=300).map(decode_text),
)
sequences = st.integers(min_value=0, max_value=0xFFFF)
statuses = st.integers(min_value=0, max_value=0xFF)
contents = st.lists(st.binary(max_size=32), max_size=4).map(tuple)

MESSAGE_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "HELLO": st.builds(
        Hello,
        sequence=sequences,
        endpoint=short_text,
        groups=st.lists(long_text, max_size=4).map(tuple),
        status=statuses,
        name=short_text,
        headers=st.dictionaries(short_text, long_text, max_size=4),
    ),
    "WHISPER": st.builds(Whisper, sequence=sequences, content=contents),
    "SHOUT": st.builds(Shout, sequence=sequences, group=short_text, content=contents),
    "JOIN": st.builds(Join, sequence=sequences, group=short_text, status=statuses),
    "LEAVE": st.builds(Leave, sequence=sequences, group=short_text, status=statuses),
    "PING": st.builds(Ping, sequence=sequences),
    "PING_OK": st.builds(PingOk, sequence=sequences),
    "ELECT": st.builds(Elect, sequence=sequences, group=short_text, challenger=short_text),
    "LEADER": st.builds(Leader, sequence=sequences, group=short_text, leader=short_text),
    "GOODBYE": st.builds(Goodbye, sequence=sequences),
}
messages: st.SearchStrategy[Message] = st.one_of(*MESSAGE_STRATEGIES.values())

gossip_messages: st.SearchStrategy[GossipMessage] = st.one_of(
    st.just(GossipHello()),
    st.just(GossipPing()),
    st.just(GossipPong()),
    st.just(GossipInvalid()),
    st.builds(
        GossipPublish,
        key=short_text,
        value=long_text,
        ttl=st.integers(min_value=0, max_value=0xFFFFFFFF),
    ),
)

beacons = st.builds(
    Beacon,
    uuid=st.uuids(),
    port=st.integers(min_value=0, max_value=0xFFFF),
    public_key=st.none() | st.binary(min_size=32, max_size=32),
)

# Random frames that at least start like ZRE: right signature and version, any id (also invalid
# ones), any sequence, then random bytes; or fully random bytes.
zre_heads = st.builds(
    lambda message_id, version, sequence, tail: (
        bytes([0xAA, 0xA1, message_id, version]) + sequence.to_bytes(2, "big") + tail
    ),
    st.integers(min_value=0, max_value=12),
    st.sampled_from([2, 2, 2, 1, 3]),
    sequences,
    st.binary(max_size=80),
)
zre_frame_lists = st.one_of(
    st.lists(st.binary(max_size=80), max_size=4),
    st.tuples(zre_heads, st.lists(st.binary(max_size=16), max_size=3)).map(
        lambda pair: [pair[0], *pair[1]]
    ),
)
gossip_frames = st.one_of(
    st.binary(max_size=80),
    st.builds(
        lambda message_id, version, tail: bytes([0xAA, 0xA0, message_id, version]) + tail,
        st.integers(min_value=0, max_value=7),
        st.sampled_from([1, 1, 1, 0, 2]),
        st.binary(max_size=80),
    ),
)
beacon_datagrams = st.one_of(
    st.binary(max_size=60),
    st.builds(
        lambda version, body: b"ZRE" + bytes([version]) + body,
        st.integers(min_value=0, max_value=4),
        st.sampled_from([18, 50]).flatmap(lambda size: st.binary(min_size=size, max_size=size)),
    ),
)
z85_alphabet = (
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
)


def _decode_or_error(frames: list[bytes]) -> Message | None:
    try:
        return decode_message(frames)
    except DecodeError:
        return None


# --------------------------------------------------------------------------- ZRE messages


@MANY
@given(message=messages)
def test_every_zre_message_round_trips(message: Message) -> None:
    frames = message.encode()
    decoded = decode_message(frames)
    assert decoded == message
    assert type(decoded) is type(message)
    assert decoded.encode() == frames


@SOME
@given(
    message=st.one_of(MESSAGE_STRATEGIES["WHISPER"], MESSAGE_STRATEGIES["SHOUT"]),
)
def test_content_frames_are_kept_verbatim(message: Whisper | Shout) -> None:
    frames = message.encode()
    assert frames[1:] == list(message.content)
    decoded = decode_message(frames)
    assert isinstance(decoded, Whisper | Shout)
    assert decoded.content == message.content


@MANY
@given(frames=zre_frame_lists)
def test_random_frames_decode_or_raise_decode_error(frames: list[bytes]) -> None:
    try:
        message = decode_message(frames)
    except DecodeError:
        return
    # Whatever decoded must re-encode to a prefix-compatible frame 0.
    assert frames[0].startswith(message.encode()[0])


@MID
@given(message=messages, data=st.data())
def test_every_truncation_of_frame_zero_is_a_decode_error(
    message: Message, data: st.DataObject
) -> None:
    frames = message.encode()
    head = frames[0]
    cut = data.draw(st.integers(min_value=0, max_value=len(head) - 1), label="cut")
    try:
        decode_message([head[:cut], *frames[1:]])
    except DecodeError:
        return
    raise AssertionError(f"a frame 0 cut at {cut} of {len(head)} bytes decoded")


@SOME
@given(message=messages)
def test_all_truncations_of_one_message(message: Message) -> None:
    frames = message.encode()
    head = frames[0]
    for cut in range(len(head)):
        assert _decode_or_error([head[:cut], *frames[1:]]) is None


@MID
@given(message=messages, data=st.data())
def test_mutated_encodings_decode_or_raise_decode_error(
    message: Message, data: st.DataObject
) -> None:
    head = bytearray(message.encode()[0])
    flips = data.draw(st.lists(st.integers(0, len(head) - 1), min_size=1, max_size=4))
    for index in flips:
        head[index] = data.draw(st.integers(0, 255))
    _decode_or_error([bytes(head)])


@SOME
@given(message=messages, tail=st.binary(min_size=1, max_size=40))
def test_trailing_bytes_never_change_the_message(message: Message, tail: bytes) -> None:
    frames = message.encode()
    assert decode_message([frames[0] + tail, *frames[1:]]) == message


@SOME
@given(raw=st.binary(max_size=300))
def test_surrogateescape_text_round_trips_any_bytes(raw: bytes) -> None:
    assert encode_text(decode_text(raw)) == raw


# --------------------------------------------------------------------------- beacons


@MANY
@given(beacon=beacons)
def test_every_beacon_round_trips(beacon: Beacon) -> None:
    data = beacon.encode()
    assert len(data) == (22 if beacon.public_key is None else 54)
    assert decode_beacon(data) == beacon


@MANY
@given(data=beacon_datagrams)
def test_random_datagrams_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        beacon = decode_beacon(data)
    except DecodeError:
        return
    assert beacon.encode() == data


@SOME
@given(beacon=beacons)
def test_every_truncation_of_a_beacon_is_a_decode_error(beacon: Beacon) -> None:
    data = beacon.encode()
    # Includes the cut at 22 bytes of a v3 beacon: the right size, with version 3.
    for cut in range(len(data)):
        try:
            decode_beacon(data[:cut])
        except DecodeError:
            continue
        raise AssertionError(f"beacon cut at {cut} decoded")


# --------------------------------------------------------------------------- zgossip


@MANY
@given(message=gossip_messages)
def test_every_gossip_message_round_trips(message: GossipMessage) -> None:
    frame = message.encode()
    assert decode_gossip(frame) == message
    assert decode_gossip(frame).encode() == frame


@MANY
@given(frame=gossip_frames)
def test_random_gossip_frames_decode_or_raise_decode_error(frame: bytes) -> None:
    try:
        message = decode_gossip(frame)
    except DecodeError:
        return
    assert frame.startswith(message.encode())


@SOME
@given(message=gossip_messages)
def test_every_truncation_of_a_gossip_message_is_a_decode_error(message: GossipMessage) -> None:
    frame = message.encode()
    for cut in range(len(frame)):
        try:
            decode_gossip(frame[:cut])
        except DecodeError:
            continue
        raise AssertionError(f"gossip frame cut at {cut} decoded")


# --------------------------------------------------------------------------- Z85


@MANY
@given(raw=st.lists(st.binary(min_size=4, max_size=4), max_size=12).map(b"".join))
def test_z85_round_trips(raw: bytes) -> None:
    text = z85_encode(raw)
    assert len(text) == len(raw) * 5 // 4
    assert set(text) <= set(z85_alphabet)
    assert z85_decode(text) == raw


@MANY
@given(
    text=st.one_of(
        st.text(max_size=50),
        st.text(alphabet=z85_alphabet, max_size=50),
        st.text(alphabet=z85_alphabet + " \"'\\,;_`|~é", max_size=50),
    )
)
def test_random_text_z85_decodes_or_raises_decode_error(text: str) -> None:
    try:
        raw = z85_decode(text)
    except DecodeError:
        return
    assert len(raw) == len(text) // 5 * 4


@SOME
@given(uuid=st.uuids())
def test_uuid_strings_fit_in_string_fields(uuid: UUID) -> None:
    """ELECT/LEADER carry the 32-hex upper-case form (§1)."""
    elect = Elect(sequence=1, group="\\o/ E", challenger=uuid.hex.upper())
    assert decode_message(elect.encode()) == elect
