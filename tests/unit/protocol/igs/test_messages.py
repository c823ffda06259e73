"""Ingescape control message codecs (``patchwire.protocol.igs.messages``).

Byte examples come from ``shared/spec/ingescape.md`` (§4, §8, §9) and the decoded capture
``shared/probes/ingescape/out/s2_decoded.txt`` (scenario 2, real 4.7.0 agent ``igsA``).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patchwire.errors import DecodeError, LocalProtocolError, ValueTypeError
from patchwire.model.values import IMPULSION, INT32_MAX, INT32_MIN, IopType, Value
from patchwire.protocol.igs.messages import (
    SHOUT_TITLES,
    AgentCommand,
    AgentFlag,
    AgentPath,
    AgentState,
    ClearMapping,
    CurrentValue,
    CurrentValues,
    EditEntry,
    ExternalDefinition,
    ExternalMapping,
    GetCurrentValues,
    IgsMessage,
    LoadDefinition,
    LoadMapping,
    MuteOutput,
    OutputMuteState,
    PeerCommand,
    Ping,
    RemoteAgentExit,
    RemotePeerKnowsAgent,
    RtSetTime,
    ServiceCall,
    SetFilePath,
    SetLogPath,
    SetValue,
    SplitterWork,
    StartAgent,
    Title,
    UnknownMessage,
    WorkerGoodbye,
    WorkerHello,
    WorkerReady,
    decode_igs_message,
    decode_service_arguments,
    decode_service_timestamp,
    encode_service_arguments,
    is_agent_uuid,
)

A = "46E4325333139C9F6E14E5E9BF99B1BB"  # s2: real agent igsA
P = "3BB8007E58074AB3A8408AA225B03C6D"  # s2: the probe's agent
B1 = "6650415F05E41DA839C036D29203F1DD"  # spec §8 / §9: agent of igsB
A1 = "C0444E57318972880C9F696571E78C4F"  # spec §1 / §8: agent igsA (scenario 1)

# spec §4.1, WHISPER seq 11 (and s2_decoded.txt seq 3): the empty mapping, pretty-printed
EMPTY_MAPPING_JSON = bytes.fromhex(
    "7b0a202020202022 6d617070696e6773223a205b0a0a202020205d2c0a"
    "20202020227370 6c697473223a205b0a0a202020205d0a7d0a".replace(" ", "")
)

ARG_TYPES = [IopType.BOOL, IopType.INTEGER, IopType.DOUBLE, IopType.STRING, IopType.DATA]

# (source, frames, message): decode(frames) == message and message.encode() == frames
EXACT: list[tuple[str, list[bytes], IgsMessage]] = [
    (
        "spec §4.1 seq 11 / s2 seq 3",
        [b"EXTERNAL_MAPPING#", EMPTY_MAPPING_JSON, A.encode()],
        ExternalMapping(mapping_json=EMPTY_MAPPING_JSON.decode(), agent_uuid=A),
    ),
    (
        "s2 seq 4",
        [b"OUTPUT_UNMUTED", b"out_data", A.encode()],
        OutputMuteState(title=Title.OUTPUT_UNMUTED, output="out_data", agent_uuid=A),
    ),
    (
        "s2 seq 10",
        [b"MUTED", b"0", A.encode()],
        AgentFlag(title=Title.MUTED, value=False, agent_uuid=A),
    ),
    (
        "s2 seq 11",
        [b"FROZEN", b"0", A.encode()],
        AgentFlag(title=Title.FROZEN, value=False, agent_uuid=A),
    ),
    (
        "spec §4.1 seq 21",
        [b"LOG_IN_STREAM", b"1", A1.encode()],
        AgentFlag(title=Title.LOG_IN_STREAM, value=True, agent_uuid=A1),
    ),
    (
        "s2 seq 13",
        [b"LOG_IN_FILE", b"0", A.encode()],
        AgentFlag(title=Title.LOG_IN_FILE, value=False, agent_uuid=A),
    ),
    (
        "s2 seq 14 (empty path frame)",
        [b"LOG_FILE_PATH", b"", A.encode()],
        AgentPath(title=Title.LOG_FILE_PATH, path="", agent_uuid=A),
    ),
    (
        "spec §4.1 seq 19",
        [b"STATE", b"starting", A1.encode()],
        AgentState(state="starting", agent_uuid=A1),
    ),
    (
        "s2 seq 15",
        [b"REMOTE_PEER_KNOWS_AGENT", P.encode()],
        RemotePeerKnowsAgent(agent_uuid=P),
    ),
    (
        "spec §4.1 scenario 2 deactivation",
        [b"REMOTE_AGENT_EXIT", A1.encode(), b"igsA"],
        RemoteAgentExit(agent_uuid=A1, agent_name="igsA"),
    ),
    (
        "spec §4.1 scenario 2 re-activation (5th frame '1')",
        [b"EXTERNAL_DEFINITION#", b"{}", A1.encode(), b"igsA", b"1"],
        ExternalDefinition(
            definition_json="{}", agent_uuid=A1, agent_name="igsA", reactivated=True
        ),
    ),
    (
        "spec §4.2 CURRENT_OUTPUTS",
        [
            b"CURRENT_OUTPUTS",
            A.encode(),
            b"out_data",
            b"6",
            b"\x04\x00",
            b"out_bool",
            b"4",
            b"\x01",
            b"out_double",
            b"2",
            bytes.fromhex("000000000000f83f"),
            b"out_int",
            b"1",
            bytes.fromhex("05000000"),
            b"out_string",
            b"3",
            b"s5",
        ],
        CurrentValues(
            title=Title.CURRENT_OUTPUTS,
            agent_uuid=A,
            values=(
                CurrentValue(name="out_data", type=IopType.DATA, value=b"\x04\x00"),
                CurrentValue(name="out_bool", type=IopType.BOOL, value=True),
                CurrentValue(name="out_double", type=IopType.DOUBLE, value=1.5),
                CurrentValue(name="out_int", type=IopType.INTEGER, value=5),
                CurrentValue(name="out_string", type=IopType.STRING, value="s5"),
            ),
        ),
    ),
    (
        "s2 seq 17 (NULL string = empty frame)",
        [b"CURRENT_INPUTS", A.encode(), b"in_int", b"1", bytes(4), b"in_str", b"3", b""],
        CurrentValues(
            title=Title.CURRENT_INPUTS,
            agent_uuid=A,
            values=(
                CurrentValue(name="in_int", type=IopType.INTEGER, value=0),
                CurrentValue(name="in_str", type=IopType.STRING, value=""),
            ),
        ),
    ),
    (
        "s2 seq 18",
        [
            b"CURRENT_ATTRIBUTES",
            A.encode(),
            b"attr_int",
            b"1",
            b"\x03\0\0\0",
            b"attr_str",
            b"3",
            b"abc",
        ],
        CurrentValues(
            title=Title.CURRENT_ATTRIBUTES,
            agent_uuid=A,
            values=(
                CurrentValue(name="attr_int", type=IopType.INTEGER, value=3),
                CurrentValue(name="attr_str", type=IopType.STRING, value="abc"),
            ),
        ),
    ),
    (
        "spec §8 no arguments, no token",
        [b"SERVICE", B1.encode(), A1.encode(), b"noargs", b""],
        ServiceCall(caller_uuid=B1, callee_uuid=A1, service="noargs"),
    ),
    (
        "spec §9 SPLITTER_WORK (s2 uuids)",
        [b"SPLITTER_WORK", A.encode(), b"p_split", b"out_int", b"1", b"\x0f\0\0\0", P.encode()],
        SplitterWork(
            splitter_uuid=A,
            worker_input="p_split",
            splitter_output="out_int",
            type=IopType.INTEGER,
            value=15,
            worker_uuid=P,
        ),
    ),
    (
        "spec §9 WORKER_READY (probe)",
        [b"WORKER_READY", P.encode(), b"p_split", b"out_int", A.encode()],
        WorkerReady(
            worker_uuid=P, worker_input="p_split", splitter_output="out_int", splitter_uuid=A
        ),
    ),
    (
        "spec §9 WORKER_HELLO (real worker)",
        [b"WORKER_HELLO", B1.encode(), b"sp_int", b"out_int", b"3", A1.encode()],
        WorkerHello(
            worker_uuid=B1,
            worker_input="sp_int",
            splitter_output="out_int",
            credit=3,
            splitter_uuid=A1,
        ),
    ),
    ("spec §4.5 RT_SET_TIME", [b"RT_SET_TIME 1000000"], RtSetTime(time_us=1_000_000)),
]


@pytest.mark.parametrize(("source", "frames", "message"), EXACT, ids=[e[0] for e in EXACT])
def test_exact_bytes(source: str, frames: list[bytes], message: IgsMessage) -> None:
    assert decode_igs_message(frames) == message
    assert message.encode() == frames


def test_service_spec_example_with_timestamp() -> None:
    # spec §8, [LIVE] B → A: BOOL is 4 bytes, STRING "" is a NUL, DATA empty, then a timestamp
    payload = [
        bytes(4),
        b"\xff\xff\xff\xff",
        bytes.fromhex("000000000000d0bf"),
        b"\x00",
        b"",
        bytes.fromhex("1c1f0d9ed4600600"),
    ]
    frames = [b"SERVICE", B1.encode(), A1.encode(), b"echo", b"tok-2", *payload]
    call = decode_igs_message(frames)
    assert isinstance(call, ServiceCall)
    assert (call.caller_uuid, call.callee_uuid, call.service, call.token) == (
        B1,
        A1,
        "echo",
        "tok-2",
    )
    assert decode_service_arguments(call.payload, ARG_TYPES) == [False, -1, -0.25, "", b""]
    assert decode_service_timestamp(call.payload, ARG_TYPES) == 0x000660D49E0D1F1C
    built = ServiceCall.with_arguments(
        caller_uuid=B1,
        callee_uuid=A1,
        service="echo",
        token="tok-2",
        arguments=list(zip(ARG_TYPES, [False, -1, -0.25, "", b""], strict=True)),
        timestamp=0x000660D49E0D1F1C,
    )
    assert built == call
    assert built.encode() == frames


@pytest.mark.parametrize(
    ("source", "frames", "values"),
    [
        (
            "s2 seq 19",
            [
                b"\x01\0\0\0",
                b"\xd6\xff\xff\xff",
                bytes.fromhex("000000000000c03f"),
                b"probe string\0",
                b"\0\1\2",
            ],
            [True, -42, 0.125, "probe string", b"\0\1\2"],
        ),
        (
            "spec §8 A answered B",
            [
                b"\x01\0\0\0",
                b"\x07\0\0\0",
                bytes.fromhex("0000000000000440"),
                b"svc string\0",
                b"\xde\xad\xbe\xef",
            ],
            [True, 7, 2.5, "svc string", b"\xde\xad\xbe\xef"],
        ),
    ],
)
def test_service_argument_bytes(source: str, frames: list[bytes], values: list[Value]) -> None:
    assert encode_service_arguments(list(zip(ARG_TYPES, values, strict=True))) == frames
    assert decode_service_arguments(frames, ARG_TYPES) == values
    assert decode_service_timestamp(frames, ARG_TYPES) is None


def test_service_callee_decoding_rules() -> None:
    # spec §8: the callee reads 1 byte for BOOL (a 1-byte 01 was accepted)
    assert decode_service_arguments([b"\x01"], [IopType.BOOL]) == [True]
    assert decode_service_arguments([b"", b"x"], [IopType.IMPULSION, IopType.STRING]) == [
        IMPULSION,
        "x",
    ]
    with pytest.raises(DecodeError, match="only 1 frames"):
        decode_service_arguments([b"\x01"], [IopType.BOOL, IopType.INTEGER])
    with pytest.raises(DecodeError, match="8-byte timestamp"):
        decode_service_arguments([b"\x01", b"abc"], [IopType.BOOL])
    with pytest.raises(DecodeError, match="INTEGER needs 4 bytes"):
        decode_service_arguments([b"\x01"], [IopType.INTEGER])
    with pytest.raises(ValueTypeError):
        encode_service_arguments([(IopType.INTEGER, "1")])
    with pytest.raises(LocalProtocolError):
        ServiceCall.with_arguments(caller_uuid=A, callee_uuid=P, service="s", timestamp=2**63)


def test_legacy_call_title() -> None:
    frames = [b"CALL", B1.encode(), A1.encode(), b"echo", b""]
    call = decode_igs_message(frames)
    assert call == ServiceCall(caller_uuid=B1, callee_uuid=A1, service="echo", legacy=True)
    assert call.encode() == frames


def test_splitter_string_garbage_is_tolerated() -> None:
    # spec §9: a C 4.7 splitter sends the pointer bytes instead of the string
    frames = [
        b"SPLITTER_WORK",
        A.encode(),
        b"in",
        b"out_s",
        b"3",
        bytes.fromhex("b033d3e289550000"),
    ]
    work = decode_igs_message(frames)
    assert isinstance(work, SplitterWork)
    assert work.type is IopType.STRING
    assert isinstance(work.value, str)
    assert work.worker_uuid is None
    assert (
        SplitterWork(
            splitter_uuid=A,
            worker_input="in",
            splitter_output="o",
            type=IopType.STRING,
            value="split-0",
        ).encode()[5]
        == b"split-0\0"
    )


# ---------------------------------------------------------------------------------------
# Every title round-trips
# ---------------------------------------------------------------------------------------

SAMPLES: list[IgsMessage] = [
    ExternalDefinition(definition_json='{"definition": {}}', agent_uuid=A, agent_name="igsA"),
    ExternalDefinition(definition_json="{}", agent_uuid=A, agent_name="igsA", reactivated=True),
    ExternalMapping(mapping_json="", agent_uuid=A),
    RemotePeerKnowsAgent(agent_uuid=P),
    RemoteAgentExit(agent_uuid=A, agent_name="igsA"),
    AgentState(state="running", agent_uuid=A),
    *(
        OutputMuteState(title=t, output="o", agent_uuid=A)
        for t in (Title.OUTPUT_MUTED, Title.OUTPUT_UNMUTED)
    ),
    *(
        AgentFlag(title=t, value=True, agent_uuid=A)
        for t in (Title.MUTED, Title.FROZEN, Title.LOG_IN_STREAM, Title.LOG_IN_FILE)
    ),
    *(
        AgentPath(title=t, path="/tmp/x", agent_uuid=A)
        for t in (Title.LOG_FILE_PATH, Title.DEFINITION_FILE_PATH, Title.MAPPING_FILE_PATH)
    ),
    *(
        GetCurrentValues(title=t, agent_uuid=A)
        for t in (Title.GET_CURRENT_OUTPUTS, Title.GET_CURRENT_INPUTS, Title.GET_CURRENT_ATTRIBUTES)
    ),
    *(
        CurrentValues(
            title=t,
            agent_uuid=A,
            values=(
                CurrentValue(name="i", type=IopType.IMPULSION, value=IMPULSION),
                CurrentValue(name="s", type=IopType.STRING, value="é"),
            ),
        )
        for t in (Title.CURRENT_OUTPUTS, Title.CURRENT_INPUTS, Title.CURRENT_ATTRIBUTES)
    ),
    ServiceCall.with_arguments(
        caller_uuid=A, callee_uuid=P, service="svc", token="t", arguments=[(IopType.INTEGER, 1)]
    ),
    ServiceCall(caller_uuid=A, callee_uuid=P, service="svc", legacy=True),
    WorkerHello(worker_uuid=P, worker_input="i", splitter_output="o"),
    WorkerReady(worker_uuid=P, worker_input="i", splitter_output="o", splitter_uuid=A),
    WorkerGoodbye(worker_uuid=P, worker_input="i", splitter_output="o"),
    WorkerGoodbye(worker_uuid=P, worker_input="i", splitter_output="o", splitter_uuid=A),
    SplitterWork(
        splitter_uuid=A,
        worker_input="i",
        splitter_output="o",
        type=IopType.DOUBLE,
        value=2.5,
        worker_uuid=P,
    ),
    LoadDefinition(definition_json="{}", agent_uuid=A),
    LoadMapping(mapping_json="{}", agent_uuid=A),
    ClearMapping(agent_uuid=A),
    *(
        EditEntry(title=t, input="in", agent_name="igsB", output="out", agent_uuid=A)
        for t in (Title.MAP, Title.UNMAP, Title.ADD_SPLIT, Title.REMOVE_SPLIT)
    ),
    *(
        SetValue(title=t, name="x", value="42", agent_uuid=A, value_type=1)
        for t in (Title.SET_INPUT, Title.SET_OUTPUT, Title.SET_ATTRIBUTE)
    ),
    SetValue(title=Title.SET_INPUT, name="x", value="", agent_uuid=A),
    *(MuteOutput(title=t, output="o", agent_uuid=A) for t in (Title.MUTE, Title.UNMUTE)),
    *(
        AgentCommand(title=t, agent_uuid=A)
        for t in (
            Title.MUTE_AGENT,
            Title.UNMUTE_AGENT,
            Title.STOP_AGENT,
            Title.SAVE_DEFINITION_TO_PATH,
            Title.SAVE_MAPPING_TO_PATH,
        )
    ),
    *(
        PeerCommand(title=t)
        for t in (
            Title.MUTE_ALL,
            Title.UNMUTE_ALL,
            Title.FREEZE,
            Title.UNFREEZE,
            Title.STOP_PEER,
            Title.ENABLE_LOG_STREAM,
            Title.DISABLE_LOG_STREAM,
            Title.ENABLE_LOG_FILE,
            Title.DISABLE_LOG_FILE,
        )
    ),
    StartAgent(agent_name="igsA2"),
    SetLogPath(path="/tmp/log"),
    *(
        SetFilePath(title=t, path="/p", agent_uuid=A)
        for t in (Title.SET_DEFINITION_PATH, Title.SET_MAPPING_PATH)
    ),
    RtSetTime(time_us=-5),
    Ping(count=3, payload=b"xyz"),
    Ping(count=2**64 - 1, pong=True),
    UnknownMessage(title="GET_CURRENT_PARAMETERS", frames=(A.encode(),)),
]


def _title_of(message: IgsMessage) -> str:
    return Title.RT_SET_TIME.value if isinstance(message, RtSetTime) else message.title


def test_samples_cover_every_title() -> None:
    assert {_title_of(m) for m in SAMPLES} >= {t.value for t in Title}


@pytest.mark.parametrize("message", SAMPLES, ids=str)
def test_round_trip(message: IgsMessage) -> None:
    frames = message.encode()
    assert all(isinstance(f, bytes) for f in frames)
    assert decode_igs_message(frames) == message
    text = str(message)
    assert text
    assert "\n" not in text
    if not isinstance(message, UnknownMessage):
        assert text.startswith(_title_of(message).rstrip())


def _reads_trailing_frame(message: IgsMessage) -> bool:
    """Messages whose next frame would carry meaning (spec §4 exceptions, optional uuids)."""
    if isinstance(message, SetValue):
        return message.value_type is None
    if isinstance(message, WorkerHello | WorkerReady | WorkerGoodbye):
        return message.splitter_uuid is None
    if isinstance(message, SplitterWork):
        return message.worker_uuid is None
    return isinstance(message, ServiceCall | UnknownMessage)


@pytest.mark.parametrize("message", [m for m in SAMPLES if not _reads_trailing_frame(m)], ids=str)
def test_extra_trailing_frames_ignored(message: IgsMessage) -> None:
    # spec §4: igs_channel_whisper_zmsg appends the target agent uuid; handlers ignore it
    assert decode_igs_message([*message.encode(), P.encode()]) == message
    assert decode_igs_message([*message.encode(), P.encode(), b"\xff"]) == message


@pytest.mark.parametrize("message", SAMPLES, ids=str)
def test_truncations_raise_only_decode_error(message: IgsMessage) -> None:
    frames = message.encode()
    for end in range(len(frames)):
        try:
            decoded = decode_igs_message(frames[:end])
        except DecodeError:
            continue
        decoded.encode()


def test_decode_errors() -> None:
    with pytest.raises(DecodeError, match="without a title"):
        decode_igs_message([])
    with pytest.raises(DecodeError, match="needs 4 frames"):
        decode_igs_message([b"MAP", b"a", b"b", b"c"][:3])
    with pytest.raises(DecodeError, match="'0' or '1'"):
        decode_igs_message([b"MUTED", b"yes", A.encode()])
    with pytest.raises(DecodeError, match="value type 7"):
        decode_igs_message([b"CURRENT_OUTPUTS", A.encode(), b"n", b"7", b""])
    with pytest.raises(DecodeError, match="decimal"):
        decode_igs_message([b"WORKER_HELLO", P.encode(), b"i", b"o", b"three"])
    with pytest.raises(DecodeError, match="8 bytes"):
        decode_igs_message([b"SET_INPUT", b"x", b"1", A.encode(), b"\x01"])
    with pytest.raises(DecodeError, match="RT_SET_TIME"):
        decode_igs_message([b"RT_SET_TIME abc"])
    with pytest.raises(DecodeError, match="count"):
        decode_igs_message([b"PING", b"\x01", b""])


def test_set_value_type_frame_reads_first_eight_bytes() -> None:
    # spec §4: the 5th frame is an int64 value type; C reads 8 bytes of it
    frames = [b"SET_OUTPUT", b"x", b"1.5", A.encode(), struct.pack("<q", 2) + b"junk"]
    assert decode_igs_message(frames) == SetValue(
        title=Title.SET_OUTPUT, name="x", value="1.5", agent_uuid=A, value_type=2
    )


def test_unknown_titles_are_kept() -> None:
    message = decode_igs_message([b"\xffuser", b"a", b"b"])
    assert isinstance(message, UnknownMessage)
    assert message.encode() == [b"\xffuser", b"a", b"b"]


def test_family_title_checked() -> None:
    with pytest.raises(LocalProtocolError):
        AgentFlag(title=Title.MAP, value=True, agent_uuid=A)  # type: ignore[arg-type]
    with pytest.raises(ValueTypeError):
        CurrentValues(
            title=Title.CURRENT_INPUTS,
            agent_uuid=A,
            values=(CurrentValue(name="n", type=IopType.INTEGER, value=2**40),),
        ).encode()


def test_shout_titles_and_uuid_shape() -> None:
    assert SHOUT_TITLES == {Title.REMOTE_AGENT_EXIT, Title.STATE, Title.RT_SET_TIME}
    assert is_agent_uuid(A1)
    assert not is_agent_uuid(A1.lower())
    assert not is_agent_uuid(A1 + "0")


# ---------------------------------------------------------------------------------------
# Hypothesis
# ---------------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=20)
c_texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
VALUES: dict[IopType, st.SearchStrategy[Value]] = {
    IopType.INTEGER: st.integers(INT32_MIN, INT32_MAX),
    IopType.DOUBLE: st.floats(allow_nan=False),
    IopType.STRING: c_texts,
    IopType.BOOL: st.booleans(),
    IopType.IMPULSION: st.just(IMPULSION),
    IopType.DATA: st.binary(max_size=20),
}
typed_values = st.sampled_from(list(IopType)).flatmap(lambda t: st.tuples(st.just(t), VALUES[t]))


@settings(max_examples=150, deadline=None)
@given(agent=texts, items=st.lists(st.tuples(texts, typed_values), max_size=5))
def test_current_values_round_trip(
    agent: str, items: list[tuple[str, tuple[IopType, Value]]]
) -> None:
    message = CurrentValues(
        title=Title.CURRENT_INPUTS,
        agent_uuid=agent,
        values=tuple(CurrentValue(name=n, type=t, value=v) for n, (t, v) in items),
    )
    assert decode_igs_message(message.encode()) == message


@settings(max_examples=150, deadline=None)
@given(typed=typed_values, names=st.tuples(texts, texts, texts), worker=st.none() | texts)
def test_splitter_work_round_trip(
    typed: tuple[IopType, Value], names: tuple[str, str, str], worker: str | None
) -> None:
    message = SplitterWork(
        splitter_uuid=names[0],
        worker_input=names[1],
        splitter_output=names[2],
        type=typed[0],
        value=typed[1],
        worker_uuid=worker,
    )
    assert decode_igs_message(message.encode()) == message


@settings(max_examples=150, deadline=None)
@given(
    arguments=st.lists(typed_values, max_size=6),
    token=texts,
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
)
def test_service_arguments_round_trip(
    arguments: list[tuple[IopType, Value]], token: str, timestamp: int | None
) -> None:
    call = ServiceCall.with_arguments(
        caller_uuid=A,
        callee_uuid=P,
        service="s",
        token=token,
        arguments=arguments,
        timestamp=timestamp,
    )
    decoded = decode_igs_message(call.encode())
    assert decoded == call
    assert isinstance(decoded, ServiceCall)
    types = [t for t, _ in arguments]
    assert decode_service_arguments(decoded.payload, types) == [v for _, v in arguments]
    assert decode_service_timestamp(decoded.payload, types) == timestamp


@settings(max_examples=150, deadline=None)
@given(
    title=st.sampled_from([Title.SET_INPUT, Title.SET_OUTPUT, Title.SET_ATTRIBUTE]),
    name=texts,
    value=texts,
    value_type=st.none() | st.integers(-(2**63), 2**63 - 1),
    count=st.integers(0, 2**64 - 1),
    time_us=st.integers(-(10**18), 10**18),
)
def test_scalar_messages_round_trip(
    title: Title, name: str, value: str, value_type: int | None, count: int, time_us: int
) -> None:
    messages: list[IgsMessage] = [
        SetValue(title=title, name=name, value=value, agent_uuid=A, value_type=value_type),  # type: ignore[arg-type]
        Ping(count=count, payload=value.encode()),
        RtSetTime(time_us=time_us),
        EditEntry(title=Title.MAP, input=name, agent_name=value, output=name, agent_uuid=A),
        ExternalDefinition(definition_json=value, agent_uuid=A, agent_name=name),
    ]
    for message in messages:
        assert decode_igs_message(message.encode()) == message


unknown_titles = texts.filter(
    lambda t: t not in {x.value for x in Title} and not t.startswith(Title.RT_SET_TIME.value)
)


@settings(max_examples=100, deadline=None)
@given(title=unknown_titles, frames=st.lists(st.binary(max_size=10), max_size=4))
def test_unknown_round_trip(title: str, frames: list[bytes]) -> None:
    message = UnknownMessage(title=title, frames=tuple(frames))
    assert decode_igs_message(message.encode()) == message


frame_lists = st.lists(st.binary(max_size=12), max_size=8)


@settings(max_examples=400, deadline=None)
@given(
    title=st.sampled_from([t.value.encode() for t in Title] + [b"RT_SET_TIME 12", b"CALL"])
    | st.binary(max_size=8),
    frames=frame_lists,
)
def test_garbage_gives_only_decode_error(title: bytes, frames: list[bytes]) -> None:
    try:
        message = decode_igs_message([title, *frames])
    except DecodeError:
        return
    message.encode()
    str(message)
