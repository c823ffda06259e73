"""Capture output publications (PUB/SUB frames) from a real Ingescape 4.7 agent.

Run by hand with an interpreter that has ``ingescape`` and ``pyzmq``::

    /tmp/pwvenv/bin/python tests/vectors/igs/capture_publications.py [--out FILE.json]

What it does (spec ``ingescape.md`` §7.1–7.3):

* starts a real agent in a subprocess (``--agent``), in broker mode on 127.0.0.1 only, with its
  publisher bound to a known free port and one output of each of the six types;
* connects a raw pyzmq SUB (subscribed to ``b""``) to that publisher on 127.0.0.1;
* tells the agent to publish a scripted list of values (edge values included) in three
  phases: timestamps off, timestamps on (real-time clock), timestamps on with a manual clock
  (``igs.rt_set_time``);
* writes every multipart message it received, as hex, next to what was published (the
  ``expected`` fields come from the script, not from patchwire; the timestamp of the
  real-time phase is read from the bundle by the small independent parser below).

Nothing leaves 127.0.0.1. The agent has a self-stop deadline and is killed by PID at the end.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "publications_ingescape_4.7.0.json"
MANUAL_TIME_US = 1_700_000_000_123_456
AGENT_DEADLINE_S = 30.0

OUTPUTS = {
    "out_int": 1,
    "out_double": 2,
    "out_string": 3,
    "out_bool": 4,
    "out_impulsion": 5,
    "out_data": 6,
}


def _script() -> list[tuple[str, Any]]:
    """The (output, value) writes of one phase, in order. Values are JSON-friendly tags."""
    ints = [42, -2, 0, 1, -1, 2**31 - 1, -(2**31), 255, 256, 65536]
    doubles = [
        3.14159,
        -0.5,
        0.0,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        5e-324,
        1.7976931348623157e308,
        1e-300,
    ]
    strings = ["hello", "", "é✓日本語🎉", "x" * 254, "y" * 255, "z" * 1000, "with\nnewline"]
    datas = [b"", b"\x00\x01\x02\xff", bytes(range(256)) * 4, b"\xaa" * 254, b"\xbb" * 255]
    writes: list[tuple[str, Any]] = []
    writes += [("out_int", v) for v in ints]
    writes += [("out_double", v.hex()) for v in doubles]
    writes += [("out_string", v) for v in strings]
    writes += [("out_bool", v) for v in (True, False, True)]
    writes += [("out_impulsion", None), ("out_impulsion", None)]
    writes += [("out_data", v.hex()) for v in datas]
    return writes


# -- agent side (subprocess) ------------------------------------------------------------------


def run_agent(pub_port: int, broker_port: int) -> int:
    import ingescape as igs  # imported here: only the subprocess loads the C library

    igs.log_set_console(False)
    igs.agent_set_name("capture_publications")
    igs.definition_set_version("1.0")
    for name, code in OUTPUTS.items():
        igs.output_create(name, code, None)
    igs.net_set_publishing_port(pub_port)
    endpoint = f"tcp://127.0.0.1:{broker_port}"
    igs.broker_enable_with_endpoint(endpoint)
    if int(igs.start_with_brokers(endpoint)) != igs.SUCCESS:
        print(json.dumps({"event": "start_failed"}), flush=True)
        return 1
    print(json.dumps({"event": "ready", "uuid": igs.agent_uuid()}), flush=True)
    deadline = time.monotonic() + AGENT_DEADLINE_S
    try:
        for line in sys.stdin:
            if time.monotonic() > deadline:
                break
            phase = line.strip()
            if phase == "quit":
                break
            if phase == "timestamps":
                igs.rt_set_timestamps(True)
            elif phase == "manual":
                igs.rt_set_timestamps(True)
                igs.rt_set_time(MANUAL_TIME_US)
            for name, tag in _script():
                _publish(igs, name, tag)
                time.sleep(0.005)
            print(json.dumps({"event": "published", "phase": phase}), flush=True)
    finally:
        igs.stop()
    return 0


def _publish(igs: Any, name: str, tag: Any) -> None:
    code = OUTPUTS[name]
    if code == 1:
        igs.output_set_int(name, tag)
    elif code == 2:
        igs.output_set_double(name, float.fromhex(tag))
    elif code == 3:
        igs.output_set_string(name, tag)
    elif code == 4:
        igs.output_set_bool(name, tag)
    elif code == 5:
        igs.output_set_impulsion(name)
    else:
        igs.output_set_data(name, bytes.fromhex(tag))


# -- capture side -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _read_event(proc: subprocess.Popen[str], want: str) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"agent exited while waiting for {want!r}")
        try:
            event: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == want:
            return event
        if event.get("event") == "start_failed":
            raise RuntimeError("the agent could not start")


def _bundle_timestamp(value_frame: bytes) -> int:
    """Independent parser: the int64 LE at the end of a czmq-encoded [value, ts] bundle."""
    return int(struct.unpack("<q", value_frame[-8:])[0])


def capture(out: Path) -> None:
    import zmq

    pub_port, broker_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--agent", str(pub_port), str(broker_port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.RCVHWM, 100_000)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        ready = _read_event(proc, "ready")
        uuid = str(ready["uuid"])
        sub.connect(f"tcp://127.0.0.1:{pub_port}")
        time.sleep(1.0)  # slow joiner: let the subscription reach the publisher
        assert proc.stdin is not None
        for phase in ("plain", "timestamps", "manual"):
            proc.stdin.write(phase + "\n")
            proc.stdin.flush()
            _read_event(proc, "published")
            time.sleep(0.3)
            received: list[list[bytes]] = []
            while sub.poll(300):
                received.append(sub.recv_multipart())
            script = _script()
            if len(received) != len(script):
                notes.append(f"{phase}: published {len(script)}, received {len(received)}")
            for (name, tag), frames in zip(script, received, strict=False):
                code = OUTPUTS[name]
                expected_topic = f"{uuid}-{name}".encode()
                if frames[0] != expected_topic:
                    notes.append(f"{phase}: topic {frames[0]!r} != {expected_topic!r}")
                timestamp: int | None = None
                if phase == "timestamps" and len(frames) == 3:
                    timestamp = _bundle_timestamp(frames[2])
                elif phase == "manual":
                    timestamp = MANUAL_TIME_US
                records.append(
                    {
                        "name": f"{phase}/{name}/{len(records)}",
                        "frames_hex": [f.hex() for f in frames],
                        "expected": {
                            "agent_uuid": uuid,
                            "output": name,
                            "type": code,
                            "value": tag,
                            "timestamp_us": timestamp,
                        },
                    }
                )
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(timeout=10)
    finally:
        sub.close()
        ctx.term()
        if proc.poll() is None:
            proc.kill()  # only the agent this script started, by its Popen handle (PID)
            proc.wait(timeout=5)
    doc = {
        "description": (
            "Output publications of a real Ingescape agent, captured by a raw SUB on "
            "127.0.0.1. frames_hex = [topic, type code, value]. expected.value: int, "
            "float.hex() string (DOUBLE), str, bool, null (IMPULSION), hex string (DATA)."
        ),
        "ingescape": importlib.metadata.version("ingescape"),
        "captured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "generator": "tests/vectors/igs/capture_publications.py",
        "notes": notes,
        "records": records,
    }
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(records)} records -> {out}")
    for note in notes:
        print("NOTE:", note)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--agent", nargs=2, type=int, metavar=("PUB_PORT", "BROKER_PORT"))
    args = ap.parse_args()
    if args.agent:
        return run_agent(*args.agent)
    capture(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
