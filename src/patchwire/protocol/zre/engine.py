"""ZreEngine: the peer table of one ZRE node, driven by decoded input and an injected clock.

Layer: protocol (pure, sans-I/O). The runtime feeds beacons, gossip tuples and decoded messages
with ``now`` (a monotonic float, seconds) and calls :meth:`ZreEngine.handle_timer` at
:meth:`ZreEngine.next_deadline`. The engine answers with *actions* (connect a DEALER, send frames,
disconnect) drained by :meth:`ZreEngine.drain_actions`, and public events drained by
:meth:`ZreEngine.drain_events`.

Compatibility rules encoded here (``shared/spec/zre.md``):

- §3.2 a peer is created from an unknown UUID in a beacon, gossip tuple or HELLO: connect, HELLO
  with sequence 1; any other known peer at the same endpoint is disconnected first.
- §6 per-peer u16 sequences, HELLO is 1, 65535 wraps to 0; a gap removes the peer.
- §7 evasive/expired timers reset by any valid message; PING every reap tick while evasive.
- §7.4 the guarded re-HELLO rule, which never starts a HELLO storm with Zyre.
- §8 the status byte: +1 per JOIN/LEAVE we send; never a duplicate JOIN or LEAVE.
- §10 elections, relayed even when not contesting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from patchwire.errors import DecodeError, UnknownNameError

from .beacon import Beacon
from .election import ELECTION_PREFIX, Election, Outcome, Send
from .events import (
    ElectionLost,
    ElectionWon,
    PeerEntered,
    PeerEvasive,
    PeerEvent,
    PeerExited,
    PeerJoined,
    PeerLeft,
    PeerSilent,
    ShoutReceived,
    WhisperReceived,
)
from .messages import (
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
)
from .z85 import z85_decode, z85_encode

__all__ = [
    "Connect",
    "Disconnect",
    "EngineAction",
    "Notice",
    "SendFrames",
    "ZreEngine",
    "ZreSettings",
    "ZreStatistics",
]

PUBLIC_KEY_HEADER = "X-PUBLICKEY"

_LOST_REASONS = frozenset({"expired", "sequence"})  # may come back: retry its gossip tuple
_GONE_REASONS = frozenset({"left", "goodbye"})  # said goodbye: forget its tuple
_REVISIT_MAX = 30.0  # seconds between attempts to reach a lost gossip peer, at most
_MIN_REAP = 0.05  # seconds: the fastest reap tick
_TIMER_SLACK = 0.001  # event loops may fire a timer a hair early; do not spin on it
_Builder = Callable[[int], Message]
"""Builds the message to send once its sequence number is known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ZreSettings:
    """Timers, in seconds. Defaults are Ingescape 4.7's (Zyre's expired default is 30 s)."""

    evasive: float = 5.0
    expired: float = 8.0
    reap_interval: float = 1.0
    rehello_guard: float = 1.0
    """After we answered a peer's re-HELLO with a fresh HELLO, a HELLO from it within this delay
    is the echo of ours, not a new restart: it is not answered (no HELLO storm, §7.4)."""
    election_settle: float = 1.0
    """A contestant that joins an election alone waits this long for others before it leads."""

    def __post_init__(self) -> None:
        if not 0 < self.evasive <= self.expired:
            raise ValueError("need 0 < evasive <= expired")
        if self.reap_interval <= 0:
            raise ValueError("reap_interval must be positive")


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a DEALER (identity ``0x01 + own uuid``) to ``endpoint``."""

    peer: bytes
    endpoint: str
    public_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the DEALER of ``peer`` (its queued messages may be dropped)."""

    peer: bytes


@dataclass(frozen=True, slots=True)
class SendFrames:
    peer: bytes
    frames: list[bytes]


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a peer did wrong or that an operator should know; the runtime logs it."""

    peer: str
    text: str


EngineAction = Connect | Disconnect | SendFrames | Notice


@dataclass(slots=True)
class ZreStatistics:
    """Counters of one engine; :meth:`ZreEngine.statistics` returns a copy."""

    messages_in: int = 0
    messages_out: int = 0
    beacons_in: int = 0
    peers_entered: int = 0
    peers_exited: int = 0
    sequence_errors: int = 0
    status_errors: int = 0
    ignored_messages: int = 0
    ignored_beacons: int = 0


@dataclass(slots=True, eq=False)
class _Peer:
    key: bytes
    id: str
    endpoint: str
    public_key: bytes | None
    created_at: float
    evasive_at: float
    expired_at: float
    hello_sent_at: float
    name: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)
    ready: bool = False
    connected: bool = True
    out_sequence: int = 0
    in_sequence: int = 0
    status: int = 0
    evasive_reported: bool = False
    silent_reported: bool = False
    answered_rehello: bool = False


class ZreEngine:
    """One ZRE node's view of its peers, groups and elections."""

    def __init__(
        self,
        *,
        uuid: UUID,
        name: str,
        endpoint: str,
        now: float,
        headers: dict[str, str] | None = None,
        settings: ZreSettings | None = None,
        public_key: bytes | None = None,
    ) -> None:
        self.uuid = uuid
        self.id = uuid.hex.upper()
        self.name = name
        self.endpoint = endpoint
        self.settings = settings or ZreSettings()
        self.public_key = public_key
        self.headers = dict(headers or {})
        if public_key is not None:
            self.headers[PUBLIC_KEY_HEADER] = z85_encode(public_key)
        self._groups: list[str] = []
        self._status = 0
        self._peers: dict[bytes, _Peer] = {}
        self._members: dict[str, dict[bytes, _Peer]] = {}
        self._contested: set[str] = set()
        self._elections: dict[str, Election] = {}
        # Gossip tuples (uuid -> endpoint, key): brokers announce a peer once, so we keep them
        # to greet a peer again after losing it (beacons re-announce by themselves).
        self._directory: dict[bytes, tuple[str, bytes | None]] = {}
        self._revisit: dict[bytes, tuple[float, float]] = {}  # uuid -> (next attempt, backoff)
        self._actions: list[EngineAction] = []
        self._events: list[PeerEvent] = []
        # Zyre ticks every second. Shorter timers need a faster tick (§7.1), and a silent peer
        # must get at least two PING chances between evasive and expired, or one late tick
        # expires a live peer (Zyre has that flaw when expired - evasive == 1 s).
        settings = self.settings
        margin = max((settings.expired - settings.evasive) / 2, _MIN_REAP)
        self._reap = min(settings.reap_interval, settings.evasive, margin)
        self._next_reap = now + self._reap
        self._lone: dict[str, float | None] = {}  # contested groups joined alone -> lead at
        self._stopped = False
        self._stats = ZreStatistics()

    # ------------------------------------------------------------------ queries

    @property
    def groups(self) -> tuple[str, ...]:
        """Our groups, in join order."""
        return tuple(self._groups)

    @property
    def status(self) -> int:
        return self._status

    @property
    def secure(self) -> bool:
        return self.public_key is not None

    def peers(self) -> list[str]:
        """UUIDs of the ready peers."""
        return [peer.id for peer in self._peers.values() if peer.ready]

    def peer_name(self, peer_id: str) -> str:
        return self._ready_peer(peer_id).name

    def peer_headers(self, peer_id: str) -> dict[str, str]:
        return dict(self._ready_peer(peer_id).headers)

    def peer_endpoint(self, peer_id: str) -> str:
        return self._ready_peer(peer_id).endpoint

    def peer_groups(self, peer_id: str) -> set[str]:
        return set(self._ready_peer(peer_id).groups)

    def group_peers(self, group: str) -> list[str]:
        """Ready members of ``group`` that we can reach (what a shout goes to)."""
        members = self._members.get(group, {}).values()
        return [peer.id for peer in members if peer.ready and peer.connected]

    def leader(self, group: str) -> str | None:
        election = self._elections.get(group)
        return election.leader if election else None

    def statistics(self) -> ZreStatistics:
        stats = self._stats
        return ZreStatistics(**{name: getattr(stats, name) for name in stats.__slots__})

    def next_deadline(self) -> float | None:
        return None if self._stopped else self._next_reap

    def drain_actions(self) -> list[EngineAction]:
        actions, self._actions = self._actions, []
        return actions

    def drain_events(self) -> list[PeerEvent]:
        events, self._events = self._events, []
        return events

    def own_beacon(self, port: int) -> Beacon:
        return Beacon(uuid=self.uuid, port=port, public_key=self.public_key)

    def gossip_value(self) -> str:
        """Our tuple value for brokers: the endpoint, plus ``|key`` when secure (§11.2)."""
        if self.public_key is None:
            return self.endpoint
        return f"{self.endpoint}|{z85_encode(self.public_key)}"

    # ------------------------------------------------------------------ inputs

    def handle_beacon(self, beacon: Beacon, source_ip: str, now: float) -> None:
        """A decoded UDP beacon from ``source_ip`` (§2.3)."""
        self._stats.beacons_in += 1
        key = beacon.uuid.bytes
        if (
            self._stopped
            or key == self.uuid.bytes
            or beacon.version != (1 if self.public_key is None else 3)
        ):
            self._stats.ignored_beacons += 1
            return
        if beacon.public_key is not None and beacon.public_key[0] == 0:
            self._stats.ignored_beacons += 1  # Zyre's downgrade guard
            return
        peer = self._peers.get(key)
        if beacon.leaving:
            if peer is not None:
                self._remove_peer(peer, "left", now)
            return
        endpoint = f"tcp://{source_ip}:{beacon.port}"
        if peer is None:
            self._require_peer(key, endpoint, beacon.public_key, now)

    def handle_gossip_tuple(self, key: str, value: str, now: float) -> None:
        """A tuple from a broker: key = 32-hex UUID, value = endpoint[|Z85 key] (§11.2)."""
        try:
            raw = UUID(hex=key).bytes
        except ValueError:
            self._notice(key, "gossip tuple key is not a UUID; ignored")
            return
        endpoint, _, key_text = value.partition("|")
        if self._stopped or raw == self.uuid.bytes or not endpoint.startswith("tcp://"):
            return
        public_key: bytes | None = None
        if key_text:
            public_key = _decode_key(key_text)
            if public_key is None:
                self._notice(
                    key,
                    "gossip tuple carries an invalid key (not a 32-byte Z85 CURVE key); ignored",
                )
                return
        if self.secure and public_key is None:
            self._notice(key, "plain peer announced to a secure node; ignored")
            return
        self._directory[raw] = (endpoint, public_key)
        if raw not in self._peers:
            self._require_peer(raw, endpoint, public_key, now)

    def forget_gossip_tuple(self, key: str) -> None:
        try:
            self._directory.pop(UUID(hex=key).bytes, None)
        except ValueError:
            return

    def handle_message(self, sender: bytes, message: Message, now: float) -> None:
        """A decoded message from the node whose raw 16-byte UUID is ``sender``."""
        if self._stopped:
            return
        self._stats.messages_in += 1
        peer = self._peers.get(sender)
        if isinstance(message, Hello):
            self._on_hello(sender, peer, message, now)
            return
        if peer is None or not peer.ready:
            self._stats.ignored_messages += 1
            if peer is None:
                self._recover_unknown(sender, now)
            return
        expected = (peer.in_sequence + 1) & 0xFFFF
        if message.sequence != expected:
            self._stats.sequence_errors += 1
            self._notice(peer.id, f"messages lost: expected #{expected}, got #{message.sequence}")
            self._remove_peer(peer, "sequence", now)
            return
        peer.in_sequence = expected
        self._refresh(peer, now)
        match message:
            case Whisper(content=content):
                self._events.append(WhisperReceived(peer=peer.id, name=peer.name, content=content))
            case Shout(group=group, content=content):
                self._events.append(
                    ShoutReceived(peer=peer.id, name=peer.name, group=group, content=content)
                )
            case Join(group=group, status=status):
                self._check_status(peer, status)
                self._peer_joins(peer, group)
            case Leave(group=group, status=status):
                self._check_status(peer, status)
                self._peer_leaves(peer, group)
            case Ping():
                self._send(peer, lambda sequence: PingOk(sequence=sequence))
            case PingOk():
                pass
            case Elect(group=group, challenger=challenger):
                self._on_elect(peer, group, challenger)
            case Leader(group=group, leader=leader):
                self._on_leader(peer, group, leader)
            case Goodbye():
                self._remove_peer(peer, "goodbye", now)

    def handle_timer(self, now: float) -> None:
        """Reap tick: PING evasive peers, remove expired ones (§7.1)."""
        if self._stopped or now < self._next_reap - _TIMER_SLACK:
            return
        self._next_reap = now + self._reap
        for peer in list(self._peers.values()):
            if now >= peer.expired_at:
                self._remove_peer(peer, "expired", now)
            elif now >= peer.evasive_at:
                self._send(peer, lambda sequence: Ping(sequence=sequence))
                if not peer.ready:
                    continue
                if not peer.evasive_reported:
                    peer.evasive_reported = True
                    self._events.append(PeerEvasive(peer=peer.id, name=peer.name))
                elif not peer.silent_reported:
                    peer.silent_reported = True
                    self._events.append(PeerSilent(peer=peer.id, name=peer.name))
        for key, (when, backoff) in list(self._revisit.items()):
            if key in self._peers:
                continue
            known = self._directory.get(key)
            if known is None:
                del self._revisit[key]
            elif now >= when:
                self._revisit[key] = (now + backoff, min(backoff * 2, _REVISIT_MAX))
                self._require_peer(key, known[0], known[1], now)
        for group, lead_at in list(self._lone.items()):
            if lead_at is None:
                self._lone[group] = now + self.settings.election_settle
            elif now >= lead_at:
                self._start_election(group)  # still alone: we lead (others would have started)

    # ------------------------------------------------------------------ commands

    def join(self, group: str) -> None:
        """Join ``group``; a no-op when already a member (never a duplicate JOIN, §8)."""
        _check_group(group)
        if group in self._groups:
            return
        self._groups.append(group)
        self._status = (self._status + 1) & 0xFF
        status = self._status
        for peer in self._peers.values():
            self._send(peer, lambda sequence: Join(sequence=sequence, group=group, status=status))
        if group in self._contested:
            self._contest_after_own_join(group)

    def leave(self, group: str) -> None:
        """Leave ``group``; a no-op when not a member."""
        if group not in self._groups:
            return
        self._groups.remove(group)
        self._status = (self._status + 1) & 0xFF
        status = self._status
        for peer in self._peers.values():
            self._send(peer, lambda sequence: Leave(sequence=sequence, group=group, status=status))
        self._elections.pop(group, None)
        self._lone.pop(group, None)

    def set_contest(self, group: str, contest: bool = True) -> None:
        """Whether this node stands in the election held in ``group`` (joined or not yet)."""
        if contest:
            self._contested.add(group)
            if group in self._groups:
                self._contest_after_own_join(group)
        else:
            self._contested.discard(group)
            self._lone.pop(group, None)

    def join_election(self, election: str) -> str:
        """Stand in ``election``: contest and join its group; returns the group name."""
        group = ELECTION_PREFIX + election
        _check_group(group)
        self._contested.add(group)
        self.join(group)
        return group

    def leave_election(self, election: str) -> None:
        group = ELECTION_PREFIX + election
        self._contested.discard(group)
        self.leave(group)

    def whisper(self, peer_id: str, content: Sequence[bytes]) -> None:
        peer = self._ready_peer(peer_id)
        frames = tuple(content)
        self._send(peer, lambda sequence: Whisper(sequence=sequence, content=frames))

    def shout(self, group: str, content: Sequence[bytes]) -> int:
        """Send to every ready member of ``group``; returns how many peers it went to."""
        frames = tuple(content)
        members = [p for p in self._members.get(group, {}).values() if p.ready and p.connected]
        for peer in members:
            self._send(peer, lambda sequence: Shout(sequence=sequence, group=group, content=frames))
        return len(members)

    def stop(self) -> None:
        """GOODBYE to every peer, then disconnect them all; the engine then ignores input."""
        if self._stopped:
            return
        for peer in list(self._peers.values()):
            self._send(peer, lambda sequence: Goodbye(sequence=sequence))
            self._actions.append(Disconnect(peer.key))
            if peer.ready:
                self._stats.peers_exited += 1
                self._events.append(PeerExited(peer=peer.id, name=peer.name, reason="stopped"))
        self._peers.clear()
        self._members.clear()
        self._stopped = True

    # ------------------------------------------------------------------ peers

    def _ready_peer(self, peer_id: str) -> _Peer:
        try:
            key = UUID(hex=peer_id).bytes
        except ValueError:
            key = b""
        peer = self._peers.get(key)
        if peer is None or not peer.ready:
            raise UnknownNameError(
                f"no ready peer {peer_id!r}; known peers: {', '.join(self.peers()) or 'none'}"
            )
        return peer

    def _require_peer(
        self, key: bytes, endpoint: str, public_key: bytes | None, now: float
    ) -> _Peer:
        for other in self._peers.values():
            if other.endpoint == endpoint and other.connected:
                # Restarted with a new UUID at the same address: stop talking to the old one;
                # it expires later (§3.2).
                other.connected = False
                self._actions.append(Disconnect(other.key))
        settings = self.settings
        peer = _Peer(
            key=key,
            id=key.hex().upper(),
            endpoint=endpoint,
            public_key=public_key,
            created_at=now,
            evasive_at=now + settings.evasive,
            expired_at=now + settings.expired,
            hello_sent_at=now,
        )
        self._peers[key] = peer
        self._actions.append(Connect(key, endpoint, public_key))
        groups, status = tuple(self._groups), self._status
        self._send(
            peer,
            lambda sequence: Hello(
                sequence=sequence,
                endpoint=self.endpoint,
                groups=groups,
                status=status,
                name=self.name,
                headers=self.headers,
            ),
        )
        return peer

    def _recover_unknown(self, sender: bytes, now: float) -> None:
        """A message from a peer we dropped but that still talks to us (e.g. after a sequence
        gap in broker mode, where no beacon will bring it back): HELLO it again."""
        known = self._directory.get(sender)
        if known is not None:
            self._require_peer(sender, known[0], known[1], now)

    def _on_hello(self, sender: bytes, peer: _Peer | None, hello: Hello, now: float) -> None:
        if peer is None:
            public_key: bytes | None = None
            if self.secure:
                key_text = hello.headers.get(PUBLIC_KEY_HEADER)
                if key_text is None:
                    self._stats.ignored_messages += 1
                    return
                public_key = _decode_key(key_text)
                if public_key is None:
                    self._stats.ignored_messages += 1
                    return
            peer = self._require_peer(sender, hello.endpoint, public_key, now)
        elif peer.ready:
            if peer.answered_rehello and now - peer.hello_sent_at < self.settings.rehello_guard:
                # The echo of the HELLO we answered its re-HELLO with: resync, do not answer.
                self._resync(peer, hello, now)
                return
            # The other side recreated us (it lost us): start afresh, like a new peer.
            self._remove_peer(peer, "restarted", now)
            peer = self._require_peer(sender, hello.endpoint, peer.public_key, now)
            peer.answered_rehello = True
        if hello.sequence != 1:
            self._stats.sequence_errors += 1
            self._notice(peer.id, f"HELLO with sequence #{hello.sequence}, expected #1")
            self._remove_peer(peer, "sequence", now)
            return
        peer.in_sequence = 1
        peer.name = hello.name
        peer.headers = dict(hello.headers)
        peer.ready = True
        self._revisit.pop(sender, None)
        self._refresh(peer, now)
        self._stats.peers_entered += 1
        self._events.append(
            PeerEntered(peer=peer.id, name=peer.name, endpoint=hello.endpoint, headers=peer.headers)
        )
        for group in hello.groups:
            self._peer_joins(peer, group)
        peer.status = hello.status

    def _resync(self, peer: _Peer, hello: Hello, now: float) -> None:
        peer.in_sequence = 1
        peer.name = hello.name
        peer.headers = dict(hello.headers)
        peer.status = hello.status
        self._refresh(peer, now)
        wanted = set(hello.groups)
        for group in sorted(peer.groups - wanted):
            self._peer_leaves(peer, group)
        for group in hello.groups:
            if group not in peer.groups:
                self._peer_joins(peer, group)

    def _refresh(self, peer: _Peer, now: float) -> None:
        peer.evasive_at = now + self.settings.evasive
        peer.expired_at = now + self.settings.expired
        peer.evasive_reported = False
        peer.silent_reported = False

    def _check_status(self, peer: _Peer, status: int) -> None:
        peer.status = (peer.status + 1) & 0xFF
        if peer.status != status:
            self._stats.status_errors += 1
            self._notice(peer.id, f"JOIN/LEAVE status {status}, expected {peer.status}")
            peer.status = status

    def _remove_peer(self, peer: _Peer, reason: str, now: float) -> None:
        if self._peers.get(peer.key) is not peer:
            return
        del self._peers[peer.key]
        if peer.connected:
            self._actions.append(Disconnect(peer.key))
        if peer.ready:
            self._stats.peers_exited += 1
            self._events.append(PeerExited(peer=peer.id, name=peer.name, reason=reason))
        if reason in _LOST_REASONS and peer.key in self._directory:
            # Lost, not gone: greet it again later (brokers will not announce it twice).
            _, backoff = self._revisit.get(peer.key, (now, 0.5))
            self._revisit[peer.key] = (now + backoff, min(backoff * 2, _REVISIT_MAX))
        elif reason in _GONE_REASONS:
            self._directory.pop(peer.key, None)
            self._revisit.pop(peer.key, None)
        for group in peer.groups:
            members = self._members.get(group)
            if members is not None:
                members.pop(peer.key, None)
            self._membership_changed(group, departed=peer.id)

    def _peer_joins(self, peer: _Peer, group: str) -> None:
        if group in peer.groups:
            return
        peer.groups.add(group)
        self._members.setdefault(group, {})[peer.key] = peer
        self._events.append(PeerJoined(peer=peer.id, name=peer.name, group=group))
        self._membership_changed(group, departed=None)

    def _peer_leaves(self, peer: _Peer, group: str) -> None:
        if group not in peer.groups:
            return
        peer.groups.discard(group)
        self._members.get(group, {}).pop(peer.key, None)
        self._events.append(PeerLeft(peer=peer.id, name=peer.name, group=group))
        self._membership_changed(group, departed=peer.id)

    def _send(self, peer: _Peer, build: _Builder) -> None:
        if not peer.connected:
            return  # Zyre discards without counting (§6)
        peer.out_sequence = (peer.out_sequence + 1) & 0xFFFF
        self._stats.messages_out += 1
        self._actions.append(SendFrames(peer.key, build(peer.out_sequence).encode()))

    def _notice(self, peer: str, text: str) -> None:
        self._actions.append(Notice(peer, text))

    # ------------------------------------------------------------------ elections

    def _group_members(self, group: str) -> list[_Peer]:
        return [peer for peer in self._members.get(group, {}).values() if peer.ready]

    def _election(self, group: str) -> Election:
        election = self._elections.get(group)
        if election is None:
            election = self._elections[group] = Election(self.id)
        return election

    def _membership_changed(self, group: str, *, departed: str | None) -> None:
        if group not in self._groups or not group.startswith(ELECTION_PREFIX):
            return
        election = self._election(group)
        if departed is not None and not election.running and election.leader != departed:
            return  # a follower left between waves: the leader still stands
        if group in self._contested:
            self._start_election(group)
        else:
            election.reset()

    def _contest_after_own_join(self, group: str) -> None:
        """Spec §10: our own JOIN starts nothing in Zyre. With members, we start a wave anyway
        (harmless, faster); alone, we lead only if nobody shows up within election_settle."""
        if self._group_members(group):
            self._start_election(group)
        else:
            self._lone[group] = None

    def _start_election(self, group: str) -> None:
        self._lone.pop(group, None)
        election = self._election(group)
        self._apply_election(group, election.start(len(self._group_members(group))))

    def _on_elect(self, peer: _Peer, group: str, challenger: str) -> None:
        if group not in self._groups or group not in peer.groups:
            self._stats.ignored_messages += 1
            return
        members = len(self._group_members(group))
        contest = group in self._contested
        decisions = self._election(group).on_elect(peer.key, challenger, members, contest=contest)
        self._apply_election(group, decisions)

    def _on_leader(self, peer: _Peer, group: str, leader: str) -> None:
        if group not in self._groups:
            self._stats.ignored_messages += 1
            return
        members = len(self._group_members(group))
        decisions = self._election(group).on_leader(leader, members)
        if decisions is None:
            self._stats.ignored_messages += 1  # stale LEADER of an abandoned wave
            return
        self._apply_election(group, decisions)

    def _apply_election(self, group: str, decisions: Iterable[Send | Outcome]) -> None:
        for decision in decisions:
            if isinstance(decision, Outcome):
                if group in self._contested:
                    if decision.leader == self.id:
                        self._events.append(ElectionWon(group=group))
                    else:
                        self._events.append(ElectionLost(group=group, leader=decision.leader))
                continue
            for target in self._election_targets(group, decision):
                self._send(target, _election_builder(group, decision))

    def _election_targets(self, group: str, decision: Send) -> list[_Peer]:
        if decision.to is not None:
            target = self._peers.get(decision.to)
            return [target] if target is not None else []
        return [p for p in self._group_members(group) if p.key != decision.exclude]


def _election_builder(group: str, decision: Send) -> _Builder:
    candidate = decision.candidate
    if decision.leader:
        return lambda sequence: Leader(sequence=sequence, group=group, leader=candidate)
    return lambda sequence: Elect(sequence=sequence, group=group, challenger=candidate)


def _decode_key(text: str) -> bytes | None:
    """A 40-character Z85 CURVE public key as 32 raw bytes, or None when it is not one."""
    try:
        raw = z85_decode(text)
    except DecodeError:
        return None
    return raw if len(raw) == 32 else None


def _check_group(group: str) -> None:
    size = len(group.encode("utf-8", "surrogateescape"))
    if not 0 < size <= 255:
        raise ValueError(f"group names are 1 to 255 bytes, got {size}: {group[:40]!r}")
