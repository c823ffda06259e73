"""Output publication frames: golden vectors from Ingescape 4.7.0, properties, fast helpers.

The vectors (``tests/vectors/igs/publications_ingescape_4.7.0.json``) were written by
``tests/vectors/igs/capture_publications.py`` from a real agent. The example database is
disabled so that a run writes nothing outside the test tree.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchwire.errors import DecodeError
from patchwire.model.values import IMPULSION, INT32_MAX, INT32_MIN, IopType, Value
from patchwire.protocol.igs.publication import (
    Publication,
    decode_publication,
    encode_bool,
    encode_data,
    encode_double,
    encode_impulsion,
    encode_int,
    encode_string,
    encode_value,
    topic,
)

VECTORS = (
    Path(__file__).resolve().parents[3] / "vectors" / "igs" / "publications_ingescape_4.7.0.json"
)
DOC = json.loads(VECTORS.read_text(encoding="utf-8"))
RECORDS = DOC["records"]
UUID = "C0444E57318972880C9F696571E78C4F"

MANY = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _expected_value(iop_type: IopType, tag: Any) -> Value:
    if iop_type is IopType.DOUBLE:
        return float.fromhex(tag)
    if iop_type is IopType.DATA:
        return bytes.fromhex(tag)
    if iop_type is IopType.IMPULSION:
        return IMPULSION
    value: Value = tag
    return value


def _same(a: Value, b: Value) -> bool:
    """Equality that tells -0.0 from 0.0 and treats NaN as equal to itself."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def _same_pub(a: Publication, b: Publication) -> bool:
    return (a.agent_uuid, a.output, a.type, a.timestamp_us) == (
        b.agent_uuid,
        b.output,
        b.type,
        b.timestamp_us,
    ) and _same(a.value, b.value)


# --------------------------------------------------------------------------- golden vectors


def test_vector_file_covers_every_type_with_and_without_timestamp() -> None:
    assert DOC["ingescape"] == "4.7.0"
    assert not DOC["notes"]
    codes = {bytes.fromhex(r["frames_hex"][1]) for r in RECORDS}
    assert codes == {str(i).encode() for i in range(1, 13)}


@pytest.mark.parametrize("record", RECORDS, ids=[r["name"] for r in RECORDS])
def test_vector_decodes_and_reencodes_byte_identically(record: dict[str, Any]) -> None:
    frames = [bytes.fromhex(f) for f in record["frames_hex"]]
    expected = record["expected"]
    iop_type = IopType(expected["type"])
    pub = decode_publication(frames)
    assert pub.agent_uuid == expected["agent_uuid"]
    assert pub.output == expected["output"]
    assert pub.type is iop_type
    assert pub.timestamp_us == expected["timestamp_us"]
    assert _same(pub.value, _expected_value(iop_type, expected["value"]))
    assert pub.encode() == frames
    # The same publication built from the expected fields encodes to the captured bytes.
    built = Publication(
        agent_uuid=expected["agent_uuid"],
        output=expected["output"],
        type=iop_type,
        value=_expected_value(iop_type, expected["value"]),
        timestamp_us=expected["timestamp_us"],
    )
    assert built.encode() == frames
    assert (
        encode_value(topic(UUID, "x"), iop_type, built.value, built.timestamp_us)[1:]
        == (frames[1:])
    )


def test_spec_examples() -> None:
    assert Publication(
        agent_uuid=UUID, output="out_int", type=IopType.INTEGER, value=42
    ).encode() == [
        f"{UUID}-out_int".encode(),
        b"1",
        bytes.fromhex("2a000000"),
    ]
    t = topic(UUID, "o")
    assert encode_string(t, "hello")[2] == b"hello\x00"
    assert encode_string(t, "")[2] == b"\x00"
    assert encode_int(t, 43, 1795316159962437)[1:] == [
        b"7",
        bytes.fromhex("042b00000008455df99dd4600600"),
    ]
    assert encode_double(t, -0.5, 1795316159962437)[2][:9] == bytes.fromhex("08000000000000e0bf")
    big = encode_data(t, bytes(300), 1)[2]
    assert big[:5] == bytes.fromhex("ff0000012c")
    assert len(big) == 314


# --------------------------------------------------------------------------- tolerant decoding


def test_string_without_nul_or_null_string_decodes() -> None:
    t = topic(UUID, "s")
    assert decode_publication([t, b"3", b"no trailing nul"]).value == "no trailing nul"
    assert decode_publication([t, b"3", b""]).value == ""
    assert decode_publication([t, b"3", b"ab\x00cd\x00"]).value == "ab"


def test_long_form_bundle_length_below_255_decodes() -> None:
    t = topic(UUID, "i")
    frame = b"\xff\x00\x00\x00\x04" + struct.pack("<i", 7) + b"\x08" + struct.pack("<q", 5)
    pub = decode_publication([t, b"7", frame])
    assert (pub.value, pub.timestamp_us) == (7, 5)


def test_nonzero_bool_byte_is_true() -> None:
    assert decode_publication([topic(UUID, "b"), b"4", b"\x02"]).value is True


@pytest.mark.parametrize(
    "frames",
    [
        [],
        [b"x"],
        [topic(UUID, "o"), b"1"],
        [topic(UUID, "o"), b"1", b"\x00" * 4, b""],
        [UUID.encode(), b"1", b"\x00" * 4],  # no "-"
        [UUID.encode() + b"_o", b"1", b"\x00" * 4],  # not "-" at byte 32
        [topic(UUID, "o"), b"0", b""],
        [topic(UUID, "o"), b"13", b""],
        [topic(UUID, "o"), b"01", b"\x00" * 4],
        [topic(UUID, "o"), b" 1", b"\x00" * 4],
        [topic(UUID, "o"), b"1", b"\x00" * 3],
        [topic(UUID, "o"), b"2", b"\x00" * 4],
        [topic(UUID, "o"), b"4", b""],
        [topic(UUID, "o"), b"4", b"\x00\x00"],
        [topic(UUID, "o"), b"5", b"\x00"],
        [topic(UUID, "o"), b"11", b"\x00"],  # bundle of one frame
        [topic(UUID, "o"), b"11", b"\x00\x04\x00\x00\x00\x00"],  # 4-byte timestamp
        [topic(UUID, "o"), b"11", b"\x00\x08" + bytes(8) + b"\x00"],  # three frames
        [topic(UUID, "o"), b"12", b"\xff\x00\x00"],
        [topic(UUID, "o"), b"12", b"\x09abc"],
    ],
)
def test_malformed_frames_raise_decode_error(frames: list[bytes]) -> None:
    with pytest.raises(DecodeError):
        decode_publication(frames)


# --------------------------------------------------------------------------- properties

uuids = st.one_of(
    st.binary(min_size=16, max_size=16).map(lambda b: b.hex().upper()),
    st.binary(min_size=32, max_size=32).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
names = st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape"))
timestamps = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
# No NUL (a STRING ends at its first NUL); removed before decoding, so that escaped bytes never
# become neighbours that form valid UTF-8 (a non-canonical text that cannot round-trip).
texts = st.one_of(
    st.text(max_size=300).map(lambda s: s.replace("\x00", "")),
    st.binary(max_size=400).map(
        lambda b: b.replace(b"\x00", b"").decode("utf-8", "surrogateescape")
    ),
)
VALUES: dict[IopType, st.SearchStrategy[Any]] = {
    IopType.INTEGER: st.integers(min_value=INT32_MIN, max_value=INT32_MAX),
    IopType.DOUBLE: st.floats(allow_nan=True, allow_infinity=True),
    IopType.STRING: texts,
    IopType.BOOL: st.booleans(),
    IopType.IMPULSION: st.just(IMPULSION),
    IopType.DATA: st.binary(max_size=600),
}


@st.composite
def publications(draw: st.DrawFn) -> Publication:
    iop_type = draw(st.sampled_from(list(IopType)))
    return Publication(
        agent_uuid=draw(uuids),
        output=draw(names),
        type=iop_type,
        value=draw(VALUES[iop_type]),
        timestamp_us=draw(timestamps),
    )


@pytest.mark.parametrize("iop_type", list(IopType), ids=lambda t: t.name)
def test_round_trip_every_type(iop_type: IopType) -> None:
    @MANY
    @given(uuid=uuids, name=names, value=VALUES[iop_type], timestamp=timestamps)
    def check(uuid: str, name: str, value: Any, timestamp: int | None) -> None:
        pub = Publication(
            agent_uuid=uuid, output=name, type=iop_type, value=value, timestamp_us=timestamp
        )
        frames = pub.encode()
        assert all(isinstance(f, bytes) for f in frames)
        back = decode_publication(frames)
        assert _same_pub(back, pub)
        assert back.encode() == frames

    check()


def _fast(pub: Publication) -> list[bytes]:
    t, ts = topic(pub.agent_uuid, pub.output), pub.timestamp_us
    value: Any = pub.value
    match pub.type:
        case IopType.INTEGER:
            return encode_int(t, value, ts)
        case IopType.DOUBLE:
            return encode_double(t, value, ts)
        case IopType.STRING:
            return encode_string(t, value, ts)
        case IopType.BOOL:
            return encode_bool(t, value, ts)
        case IopType.IMPULSION:
            return encode_impulsion(t, ts)
        case IopType.DATA:
            return encode_data(t, value, ts)


@MANY
@given(pub=publications())
def test_fast_helpers_match_encode(pub: Publication) -> None:
    assert _fast(pub) == pub.encode()
    assert encode_value(pub.topic, pub.type, pub.value, pub.timestamp_us) == pub.encode()


@MANY
@given(frames=st.lists(st.binary(max_size=80), max_size=5))
def test_random_frames_decode_or_raise_decode_error(frames: list[bytes]) -> None:
    try:
        decode_publication(frames)
    except DecodeError:
        pass


@MANY
@given(
    pub=publications(),
    which=st.integers(min_value=0, max_value=2),
    cut=st.integers(min_value=0, max_value=2000),
    flip=st.integers(min_value=0, max_value=2000),
    byte=st.integers(min_value=0, max_value=255),
    type_code=st.sampled_from([str(i).encode() for i in range(1, 13)]),
)
def test_truncated_or_mutated_frames_raise_only_decode_error(
    pub: Publication, which: int, cut: int, flip: int, byte: int, type_code: bytes
) -> None:
    frames = pub.encode()
    candidates = [
        frames[:which],
        [*frames[:which], frames[which][: cut % (len(frames[which]) + 1)], *frames[which + 1 :]],
        [frames[0], type_code, frames[2]],
    ]
    if frames[2]:
        raw = bytearray(frames[2])
        raw[flip % len(raw)] = byte
        candidates.append([frames[0], frames[1], bytes(raw)])
    for candidate in candidates:
        try:
            decoded = decode_publication(candidate)
        except DecodeError:
            continue
        assert isinstance(decoded, Publication)


# --------------------------------------------------------------------------- construction


def test_construction_checks_and_normalises() -> None:
    pub = Publication(agent_uuid=UUID, output="d", type=IopType.DOUBLE, value=3)
    assert pub.value == 3.0
    assert isinstance(pub.value, float)
    assert pub.type_code == 2
    assert (
        Publication(
            agent_uuid=UUID, output="d", type=IopType.DOUBLE, value=1.0, timestamp_us=0
        ).type_code
        == 8
    )
    with pytest.raises(ValueError, match="32"):
        Publication(agent_uuid="short", output="o", type=IopType.INTEGER, value=1)
    with pytest.raises(TypeError):
        Publication(agent_uuid=UUID, output="o", type=IopType.INTEGER, value=2**31)
    with pytest.raises(TypeError):
        Publication(agent_uuid=UUID, output="o", type=IopType.STRING, value="a\x00b")
    with pytest.raises(ValueError, match="int64"):
        Publication(agent_uuid=UUID, output="o", type=IopType.BOOL, value=True, timestamp_us=2**63)
    assert "INTEGER=5" in str(
        Publication(agent_uuid=UUID, output="o", type=IopType.INTEGER, value=5)
    )


def test_nan_and_negative_zero_survive() -> None:
    t = topic(UUID, "d")
    nan = decode_publication(encode_double(t, math.nan)).value
    zero = decode_publication(encode_double(t, -0.0)).value
    assert isinstance(nan, float)
    assert math.isnan(nan)
    assert isinstance(zero, float)
    assert math.copysign(1.0, zero) == -1.0
