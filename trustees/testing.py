"""Driving a key ceremony in tests and simulations (no I/O, seeded randomness).

`CeremonyDriver` is the one loop that moves DKG trustees along, the way a board does: the
caller posts what the driver returns, hands back each posted message in board order, and
hands on the administrator's round closes (`close`). It does no I/O, so the same driver serves
the in-memory ceremony here and the ceremonies run through a real board over HTTP in the
integration tests.

`run_ceremony` plays the board and the administrator in memory: every message is posted as
canonical JSON, decoded back, and delivered in board order to every present trustee; when the
board has fallen quiet the administrator closes the round (`PublicRecord.next_round`). A
message that the public record refuses is not posted (as the real board refuses it) but is
still shown to the trustees, so tests can check that they refuse it too. `intercept` lets a
test replace, drop or add messages in transit, to play a misbehaving trustee or network.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mixnet.groups import Group
from mixnet.rng import DeterministicRandom
from trustees.config import CeremonyConfig, TrusteePrivateKeys, generate_trustee_keys
from trustees.dkg import CLOSED, DkgOutcome, DkgTrustee, Phase, PublicRecord, RoundClose
from trustees.errors import CeremonyFailed, PeerProtocolError
from trustees.messages import DkgMessage, decode_message

__all__ = ["CeremonyDriver", "CeremonyRun", "make_config", "run_ceremony"]

Intercept = Callable[[DkgMessage], Iterable[DkgMessage]]
#: A message to post, with the index of the trustee that sends it.
Outgoing = list[tuple[int, DkgMessage]]


def make_config(
    group: Group, threshold: int, n: int, seed: str = "tohyo test ceremony"
) -> tuple[CeremonyConfig, list[TrusteePrivateKeys]]:
    """A ceremony config with n fresh (seeded) trustee key pairs."""
    rng = DeterministicRandom(f"{seed}/keys")
    keys = [generate_trustee_keys(rng) for _ in range(n)]
    election = hashlib.sha256(f"{seed}/election".encode()).digest()
    trustees = tuple(k.public(i + 1) for i, k in enumerate(keys))
    return CeremonyConfig(group, election, threshold, trustees), keys


@dataclass
class CeremonyDriver:
    """The trustees of one ceremony, moved along by what the board shows them."""

    trustees: dict[int, DkgTrustee]
    #: (trustee index, message, error) for every message a trustee refused
    refusals: list[tuple[int, DkgMessage, PeerProtocolError]] = field(default_factory=list)

    def start(self) -> Outgoing:
        """The opening messages of every trustee that has not started yet."""
        return [
            (i, m) for i, t in self.trustees.items() if t.phase is Phase.IDLE for m in t.start()
        ]

    def deliver(self, message: DkgMessage) -> Outgoing:
        """Show a posted message to every trustee still at work, in index order."""
        out: Outgoing = []
        for i, t in self.trustees.items():
            if t.phase is Phase.DONE:
                continue
            try:
                out += [(i, m) for m in t.receive(message)]
            except PeerProtocolError as exc:
                self.refusals.append((i, message, exc))
        return out

    def close(self, round_: int) -> Outgoing:
        """Show the administrator's round close to every trustee still at work."""
        return [
            (i, m)
            for i, t in self.trustees.items()
            if t.phase is not Phase.DONE
            for m in t.close_round(round_)
        ]

    @property
    def done(self) -> bool:
        return all(t.phase is Phase.DONE for t in self.trustees.values())

    def outcome(self) -> DkgOutcome:
        """The outcome every trustee reached; raises if they disagree or are not done."""
        outcomes = [t.outcome for t in self.trustees.values()]
        if any(o != outcomes[0] for o in outcomes):
            raise AssertionError("trustees disagree")
        return outcomes[0]


@dataclass
class CeremonyRun:
    config: CeremonyConfig
    trustees: dict[int, DkgTrustee]
    posted: list[DkgMessage] = field(default_factory=list)
    #: the posted messages and the administrator's round closes, in board order
    events: list[DkgMessage | RoundClose] = field(default_factory=list)
    #: (trustee index or 0 for the board, message, error) for every refusal seen
    refusals: list[tuple[int, DkgMessage, PeerProtocolError]] = field(default_factory=list)

    def outcome(self) -> DkgOutcome:
        return CeremonyDriver(self.trustees).outcome()


def run_ceremony(
    config: CeremonyConfig,
    keys: list[TrusteePrivateKeys],
    *,
    absent: Iterable[int] = (),
    seed: str = "tohyo test ceremony",
    intercept: Intercept | None = None,
    trustees: dict[int, DkgTrustee] | None = None,
) -> CeremonyRun:
    """Run the whole ceremony; the administrator closes a round whenever the board falls
    quiet."""
    absent = set(absent)
    if trustees is None:
        trustees = {
            i: DkgTrustee(config, i, keys[i - 1], DeterministicRandom(f"{seed}/trustee/{i}"))
            for i in config.indices
            if i not in absent
        }
    run = CeremonyRun(config, trustees)
    driver = CeremonyDriver(trustees, run.refusals)
    board = PublicRecord(config)
    queue: deque[DkgMessage] = deque()

    def send(messages: Outgoing) -> None:
        for _, m in messages:
            queue.extend(intercept(m) if intercept else [m])

    def drain() -> None:
        while queue:
            msg = decode_message(queue.popleft().to_json(), config.group)
            try:
                board.append(msg)
                run.posted.append(msg)
                run.events.append(msg)
            except PeerProtocolError as exc:
                run.refusals.append((0, msg, exc))
            send(driver.deliver(msg))

    send(driver.start())
    drain()
    while not board.closed:
        if board.next_round() == CLOSED:
            try:
                board.outcome()
            except CeremonyFailed:
                break  # the administrator cannot post a joint key
        round_ = board.next_round()
        board.close(round_)
        run.events.append(RoundClose(round_))
        send(driver.close(round_))
        drain()
    return run
