"""An in-memory ceremony for tests and simulations (no I/O, seeded randomness).

`run_ceremony` plays a bulletin board: every message is posted as canonical JSON, decoded
back, and delivered in board order to every present trustee. A message that the public
record refuses is not posted (as the real board refuses it) but is still shown to the
trustees, so tests can check that they refuse it too. `intercept` lets a test replace, drop
or add messages in transit, to play a misbehaving trustee or network.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mixnet.groups import Group
from mixnet.rng import DeterministicRandom
from trustees.config import CeremonyConfig, TrusteePrivateKeys, generate_trustee_keys
from trustees.dkg import DkgOutcome, DkgTrustee, Phase, PublicRecord
from trustees.errors import PeerProtocolError
from trustees.messages import DkgMessage, decode_message

__all__ = ["CeremonyRun", "make_config", "run_ceremony"]

Intercept = Callable[[DkgMessage], Iterable[DkgMessage]]


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
class CeremonyRun:
    config: CeremonyConfig
    trustees: dict[int, DkgTrustee]
    posted: list[DkgMessage] = field(default_factory=list)
    #: (trustee index or 0 for the board, message, error) for every refusal seen
    refusals: list[tuple[int, DkgMessage, PeerProtocolError]] = field(default_factory=list)

    def outcome(self) -> DkgOutcome:
        outcomes = {i: t.outcome for i, t in self.trustees.items()}
        first = next(iter(outcomes.values()))
        assert all(o == first for o in outcomes.values()), "trustees disagree"
        return first


def run_ceremony(
    config: CeremonyConfig,
    keys: list[TrusteePrivateKeys],
    *,
    absent: Iterable[int] = (),
    seed: str = "tohyo test ceremony",
    intercept: Intercept | None = None,
    trustees: dict[int, DkgTrustee] | None = None,
) -> CeremonyRun:
    """Run the whole ceremony; deadlines are called whenever the board falls quiet."""
    absent = set(absent)
    if trustees is None:
        trustees = {
            i: DkgTrustee(config, i, keys[i - 1], DeterministicRandom(f"{seed}/trustee/{i}"))
            for i in config.indices
            if i not in absent
        }
    run = CeremonyRun(config, trustees)
    board = PublicRecord(config)
    queue: deque[DkgMessage] = deque()

    def send(messages: Iterable[DkgMessage]) -> None:
        for m in messages:
            queue.extend(intercept(m) if intercept else [m])

    def drain() -> None:
        while queue:
            msg = decode_message(queue.popleft().to_json(), config.group)
            try:
                board.append(msg)
                run.posted.append(msg)
            except PeerProtocolError as exc:
                run.refusals.append((0, msg, exc))
            for i, t in trustees.items():
                if t.phase is Phase.DONE:
                    continue
                try:
                    send(t.receive(msg))
                except PeerProtocolError as exc:
                    run.refusals.append((i, msg, exc))

    for t in trustees.values():
        if t.phase is Phase.IDLE:
            send(t.start())
    drain()
    for _ in range(4):
        if all(t.phase is Phase.DONE for t in trustees.values()):
            break
        for t in trustees.values():
            if t.phase is not Phase.DONE:
                send(t.deadline())
                drain()
    return run
