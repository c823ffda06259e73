"""A patchwire platform in one minute, on 127.0.0.1 only.

Starts a broker and three peers, lets them discover each other, chat in a group, whisper,
and elect a leader; if the official Ingescape binding is installed (``pip install ingescape``),
a real Ingescape agent joins the same platform in a subprocess and takes part.

    python examples/demo.py
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import time

import patchwire as pw


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


INGESCAPE_AGENT = textwrap.dedent(
    """
    import sys, time, ingescape as igs
    broker, endpoint = sys.argv[1], sys.argv[2]
    igs.agent_set_name("ingescape_agent")
    igs.log_set_console(False)
    igs.broker_add(broker)
    igs.election_join("leader")
    if igs.start_with_brokers(endpoint) != igs.SUCCESS:
        sys.exit(2)
    igs.channel_join("CHAT")
    time.sleep(1.0)
    igs.channel_shout_str("CHAT", "hello from a real Ingescape agent")
    sys.stdin.readline()          # run until the demo closes our stdin
    igs.stop()
    """
)


def start_ingescape(broker: str) -> subprocess.Popen[bytes] | None:
    try:
        import ingescape  # noqa: F401
    except ImportError:
        print("(ingescape is not installed: the demo runs with patchwire peers only)")
        return None
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    return subprocess.Popen(
        [sys.executable, "-c", INGESCAPE_AGENT, broker, endpoint],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def main() -> None:
    broker = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - t0:5.2f}s] {text}")

    hub = pw.Node("hub", network=pw.Network(broker_bind=broker))
    peers = [pw.Node(name, network=pw.Network(brokers=(broker,))) for name in ("ada", "bob", "cy")]
    for node in (hub, *peers):
        node.join("CHAT")
        node.join_election("leader")
    agent = start_ingescape(broker)
    expected = len(peers) + (1 if agent else 0)
    try:
        await hub.start()
        say(f"broker and hub listening on {broker}")
        for node in peers:
            await node.start()
        log = hub.events()
        await hub.wait_until(lambda: len(hub.peers()) >= expected or None, timeout=15)
        for info in hub.peers():
            say(f"hub sees {info.name:16} {info.id} at {info.endpoint}")
        ada = peers[0]
        ada.shout("CHAT", "hello everyone")
        ada.whisper("bob", "psst, bob")
        shouts_expected = {"ada"} | ({"ingescape_agent"} if agent else set())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while shouts_expected and loop.time() < deadline:
            try:
                event = await log.get(timeout=deadline - loop.time())
            except TimeoutError:
                break
            if isinstance(event, pw.ShoutReceived):
                say(f"hub heard {event.name} on {event.group}: {event.content[0].decode()!r}")
                shouts_expected.discard(event.name)

        def agreed_leader() -> str | None:
            views = {node.leader("leader") for node in (hub, *peers)}
            return views.pop() if len(views) == 1 and None not in views else None

        leader = await hub.wait_until(agreed_leader, timeout=10)
        names = {info.id: info.name for info in hub.peers()} | {hub.id: "hub"}
        say(f"every patchwire node agrees on the leader: {names.get(leader, leader)}")
    finally:
        for node in (*peers, hub):
            await node.stop()
        if agent is not None:
            if agent.stdin is not None:
                agent.stdin.close()
            try:
                agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                agent.kill()
    say("all stopped")


if __name__ == "__main__":
    asyncio.run(main())
