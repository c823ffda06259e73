"""Echo-wave leader election, per group (Zyre ``zyre_election``).

Layer: protocol (pure). The contestant with the smallest UUID string wins. Every member of the
group relays waves, contesting or not, because each node waits for an echo from every member.
The engine owns the sockets' side; this class only decides what to send. See
``shared/spec/zre.md`` §10.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ELECTION_PREFIX", "Election", "Outcome", "Send"]

ELECTION_PREFIX = "\\o/ "
"""Groups of elections are named ``"\\o/ " + election`` (bytes ``5c 6f 2f 20``)."""


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``ELECT`` (``leader=False``) or ``LEADER`` carrying ``candidate``.

    ``to`` is one peer key, or ``None`` for every group member except ``exclude``.
    """

    leader: bool
    candidate: str
    to: bytes | None = None
    exclude: bytes | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The wave finished: ``leader`` won."""

    leader: str


class Election:
    """State of one group's election as seen by this node."""

    __slots__ = ("caw", "erec", "father", "leader", "lrec", "own")

    def __init__(self, own: str) -> None:
        self.own = own
        self.caw: str | None = None  # current active wave: its challenger
        self.father: bytes | None = None
        self.erec = 0
        self.lrec = 0
        self.leader: str | None = None

    @property
    def running(self) -> bool:
        return self.caw is not None

    def reset(self) -> None:
        self.caw = None
        self.father = None
        self.erec = 0
        self.lrec = 0

    def start(self, members: int) -> list[Send | Outcome]:
        """Start a wave with ourselves as challenger; alone, we lead at once."""
        self.reset()
        if members == 0:
            self.leader = self.own
            return [Outcome(self.own)]
        self.caw = self.own
        return [Send(leader=False, candidate=self.own)]

    def on_elect(
        self, sender: bytes, challenger: str, members: int, *, contest: bool = False
    ) -> list[Send | Outcome]:
        out: list[Send | Outcome] = []
        if self.caw is None and contest and self.own < challenger:
            # A wave for a worse candidate (often a stale one from an abandoned round) reaches a
            # better contestant between rounds: run our own wave, which supersedes it.
            return self.start(members)
        if self.caw is None or challenger < self.caw:
            self.reset()
            self.caw = challenger
            self.father = sender
            out.append(Send(leader=False, candidate=challenger, exclude=sender))
        if challenger == self.caw:
            self.erec += 1
            if self.erec == members:
                if self.caw == self.own:
                    out.append(Send(leader=True, candidate=self.own))
                else:
                    out.append(Send(leader=False, candidate=challenger, to=self.father))
        return out

    def on_leader(self, leader: str, members: int) -> list[Send | Outcome] | None:
        """Returns ``None`` when the LEADER does not belong to the running wave (ignored).

        Zyre counts every LEADER; we count only those naming our wave's candidate, so a LEADER
        left over from an abandoned round cannot finish the current one with the wrong name.
        """
        if self.caw is None or leader != self.caw:
            return None
        out: list[Send | Outcome] = []
        if leader != self.own and self.lrec == 0:
            out.append(Send(leader=True, candidate=leader))
        self.lrec += 1
        if self.lrec >= members:
            self.reset()
            self.leader = leader
            out.append(Outcome(leader))
        return out
