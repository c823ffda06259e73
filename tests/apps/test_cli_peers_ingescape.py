"""``patchwire peers`` run as a subprocess against real Ingescape 4.7 agents.

Broker mode on 127.0.0.1 (an agent is the broker), and beacon mode inside a private LAN of
network namespaces (the CLI on one host, the agent beaconing on another). The agent checks the
other side: it must see the CLI node come and go, stay alive and stop with exit code 0.
Missing prerequisites skip these tests, or fail them when ``CI`` is set.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import patchwire
from tests.interop.interop_support import (
    INGESCAPE_VERSION_HEADER,
    agent_event_pred,
    agent_saw_enter,
    agent_saw_exit,
    finish_agent,
    finish_agents,
    loopback_endpoint,
    require_ingescape,
    require_netns,
    start_agent,
)
from tests.support.netns import Lan, list_namespaces

pytestmark = pytest.mark.interop

SRC = Path(patchwire.__file__).resolve().parents[1]
"""The patchwire the CLI subprocess runs: the one this test process imported (``src``)."""
BEACON_PORT = 5670
WINDOW = "2"
"""``--timeout`` of a listing: seconds the CLI gives discovery (observed: well under 1 s)."""


@pytest.fixture
def need_ingescape() -> None:
    require_ingescape()


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "patchwire", "peers", *args]


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def peers_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_argv(*args), capture_output=True, text=True, env=cli_env(), timeout=60, check=False
    )


def check_clean(res: subprocess.CompletedProcess[str]) -> None:
    assert res.returncode == 0, f"rc={res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert "Traceback" not in res.stderr, res.stderr


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def header(row: str, key: str) -> str | None:
    """The value of ``key=value`` in a table row's HEADERS column."""
    found = re.search(rf"(?:^|\s){re.escape(key)}=(\S*)", row)
    return found.group(1) if found else None


def agent_args(name: str, *extra: str) -> list[str]:
    return ["--name", name, "--header", "x-test=yes", *extra]


def check_agent_record(
    record: dict[str, Any],
    name: str,
    ready: dict[str, Any],
    endpoint_prefix: str,
    *,
    groups: bool = True,
) -> None:
    assert record["name"] == name
    assert record["endpoint"].startswith(endpoint_prefix), record
    headers = record["headers"]
    assert headers["x-test"] == "yes"
    assert headers["ingescape"] == INGESCAPE_VERSION_HEADER
    assert headers["pid"] == str(ready["pid"])
    assert headers["publisher"].isdigit()
    assert headers["inproc"] == f"inproc://{record['id']}"
    if groups:
        assert {"INGESCAPE_PRIVATE", f"{name}-IGS", f"{name}-IGS-REPLAY"} <= set(record["groups"])


def test_peers_table_lists_an_ingescape_broker(need_ingescape: None) -> None:
    broker, endpoint = loopback_endpoint(), loopback_endpoint()
    args = agent_args("igs-cli", "--endpoint", endpoint, "--broker-bind", broker)
    with start_agent(args) as agent:
        ready = agent.wait_ready()
        res = peers_cli("--broker", broker, "--timeout", WINDOW, "--name", "pw-cli")
        check_clean(res)
        lines = res.stdout.splitlines()
        assert lines[0].split() == ["NAME", "UUID", "ENDPOINT", "HEADERS"], res.stdout
        assert len(lines) == 2, res.stdout
        name, uuid, listed_endpoint = lines[1].split()[:3]
        assert (name, listed_endpoint) == ("igs-cli", endpoint)
        assert re.fullmatch("[0-9A-F]{32}", uuid)
        assert header(lines[1], "x-test") == "yes"
        assert header(lines[1], "ingescape") == INGESCAPE_VERSION_HEADER
        assert header(lines[1], "pid") == str(ready["pid"])
        assert (header(lines[1], "publisher") or "").isdigit()
        assert header(lines[1], "inproc") == f"inproc://{uuid}"
        # The agent saw the CLI's node arrive, then leave (GOODBYE) when the listing ended.
        entered = agent.wait_for(agent_event_pred("PEER_ENTERED", name="pw-cli"), 5.0)
        agent_saw_exit(agent, uuid=entered["uuid"])
        finish_agent(agent)


def test_peers_json_lists_every_agent(need_ingescape: None) -> None:
    broker, endpoint = loopback_endpoint(), loopback_endpoint()
    args = agent_args("igs-cli", "--endpoint", endpoint, "--broker-bind", broker, "--channel", "C")
    other = ["--name", "igs-other", "--endpoint", loopback_endpoint(), "--broker", broker]
    with start_agent(args) as agent, start_agent(other) as agent2:
        ready, ready2 = agent.wait_ready(), agent2.wait_ready()
        agent.wait_for(agent_event_pred("PEER_ENTERED", name="igs-other"), 10.0)
        res = peers_cli("--broker", broker, "--timeout", WINDOW, "--json", "--name", "pw-cli")
        check_clean(res)
        records = {r["name"]: r for r in json_lines(res.stdout)}
        assert set(records) == {"igs-cli", "igs-other"}, res.stdout
        assert all(r["event"] == "peer" for r in records.values())
        check_agent_record(records["igs-cli"], "igs-cli", ready, endpoint)
        assert "C" in records["igs-cli"]["groups"]
        assert records["igs-other"]["headers"]["pid"] == str(ready2["pid"])
        assert "x-test" not in records["igs-other"]["headers"]
        for a in (agent, agent2):
            entered = a.wait_for(agent_event_pred("PEER_ENTERED", name="pw-cli"), 5.0)
            agent_saw_exit(a, uuid=entered["uuid"])
        finish_agents(agent2, agent)


def test_peers_watch_reports_an_agent_leaving(need_ingescape: None) -> None:
    broker, endpoint = loopback_endpoint(), loopback_endpoint()
    args = agent_args("igs-cli", "--endpoint", endpoint, "--broker-bind", broker)
    with start_agent(args) as agent:
        ready = agent.wait_ready()
        argv = cli_argv(
            "--broker", broker, "--watch", "--json", "--timeout", "3", "--name", "pw-cli"
        )
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env()
        ) as proc:
            assert proc.stdout is not None
            first = json.loads(proc.stdout.readline() or "null")
            assert first is not None, "the CLI ended without printing anything"
            assert first["event"] == "entered"
            # --watch prints the groups as "joined" events that follow "entered".
            check_agent_record(first, "igs-cli", ready, endpoint, groups=False)
            agent_saw_enter(agent, name="pw-cli")  # its last callback before we stop it
            finish_agent(agent)  # the agent leaves while the CLI watches
            # Not communicate(): it would skip what readline() already buffered.
            out = proc.stdout.read()
            assert proc.stderr is not None
            err = proc.stderr.read()
            proc.wait(30)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        rest = json_lines(out)
        joined = {r["group"] for r in rest if r["event"] == "joined" and r["id"] == first["id"]}
        assert {"INGESCAPE_PRIVATE", "igs-cli-IGS", "igs-cli-IGS-REPLAY"} <= joined, out
        assert [r for r in rest if r["event"] != "joined"] == [
            {"event": "exited", "id": first["id"], "name": "igs-cli", "reason": "goodbye"}
        ], out


@pytest.mark.netns
def test_peers_on_a_device_sees_a_beaconing_agent(need_ingescape: None) -> None:
    require_netns()
    with Lan(2) as lan:
        h1, h2 = lan.hosts
        args = agent_args("igs-lan", "--device", h1.device, "--port", str(BEACON_PORT))
        with start_agent(args, host=h1) as agent:
            ready = agent.wait_ready()
            cli: Sequence[str] = cli_argv(
                *("--device", h2.device, "--port", str(BEACON_PORT)),
                *("--timeout", WINDOW, "--json", "--name", "pw-cli"),
            )
            res = h2.run(cli, timeout=60, env=cli_env())
            check_clean(res)
            records = json_lines(res.stdout)
            assert len(records) == 1, res.stdout
            check_agent_record(records[0], "igs-lan", ready, f"tcp://{h1.ip}:")
            # The agent saw the CLI's node (from h2) arrive, then leave when it stopped.
            entered = agent.wait_for(agent_event_pred("PEER_ENTERED", name="pw-cli"), 5.0)
            agent_saw_exit(agent, uuid=entered["uuid"], timeout=3.0)
            finish_agent(agent)
    assert not {lan.switch_ns, *(h.ns for h in lan)} & list_namespaces()
