"""Pedersen/Feldman distributed key generation, t of n (specs/crypto.md §4, docs/trustees.md).

Two layers, both free of I/O:

- `PublicRecord` checks and records the posted messages in board order; it is shared by every
  trustee's state machine and by the observer's `derive_public_outcome`, so that the trustees
  and any verifier reach the same QUAL, joint key pk and verification keys X_j from the same
  messages. A message that breaks a rule (DKG1…DKG7 below) is refused and changes nothing.
- `DkgTrustee` is one trustee's state machine in the style of h11: `start()`, `receive(msg)`
  and `deadline()` return the messages to post; every transition is in `_TRANSITIONS`.

Rules a posted message must satisfy (the observer reports the step name on failure):

    DKG0 decode        canonical JSON of a known kind (`trustees.messages`)
    DKG1 election      its election fingerprint is this election's
    DKG2 sender        the sender is a trustee 1..n; recipients and dealers too, never itself
    DKG3 signature     the sender's Ed25519 signature verifies
    DKG4 round order   rounds never go back: dealing (1) < complaints (2) < reveals (3)
    DKG5 unique        one message per slot (no replay, no equivocation)
    DKG6 shape         t commitments and proofs
    DKG7 reveal        a reveal answers complaints made against its sender, and only those

Attributable misbehaviour is recorded and leads to disqualification, with a reason:
no commitments; a Schnorr proof that fails (S1); a complaint not answered by a revealed share;
a revealed share that fails g^{s_ij} = ∏_k A_ik^{j^k}.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group, Scalar
from mixnet.proofs import schnorr
from mixnet.rng import RandomSource
from mixnet.transcript import Transcript
from trustees import channel
from trustees.config import CeremonyConfig, TrusteePrivateKeys
from trustees.errors import CeremonyFailed, LocalProtocolError, PeerProtocolError
from trustees.labels import TrusteeLabel
from trustees.messages import (
    Commitments,
    Complaints,
    DkgMessage,
    EncryptedShare,
    Reveal,
    decode_message,
    sign_message,
)

__all__ = [
    "DkgOutcome",
    "DkgTrustee",
    "KeyShare",
    "Phase",
    "Polynomial",
    "PublicRecord",
    "coefficient_transcript",
    "derive_public_outcome",
    "feldman_check",
]


# ---------------------------------------------------------------- polynomials and proofs


@dataclass(frozen=True)
class Polynomial:
    """f(x) = a_0 + a_1·x + … + a_{t−1}·x^{t−1} over Z_q. Secret: never printed."""

    coefficients: tuple[Scalar, ...] = field(repr=False)

    @classmethod
    def random(cls, group: Group, degree: int, rng: RandomSource) -> Polynomial:
        return cls(tuple(group.random_scalar(rng) for _ in range(degree + 1)))

    def __call__(self, x: int) -> Scalar:
        acc = self.coefficients[-1]
        for a in reversed(self.coefficients[:-1]):
            acc = acc * x + a
        return acc

    def __repr__(self) -> str:
        return f"Polynomial(degree={len(self.coefficients) - 1}, <hidden>)"

    __str__ = __repr__


def coefficient_transcript(config: CeremonyConfig, dealer: int, k: int) -> Transcript:
    """The context of the Schnorr proof for A_ik: election, t, n, dealer i, coefficient k."""
    return Transcript(
        [TrusteeLabel.COEFFICIENT, config.election, config.threshold, config.n, dealer, k]
    )


def feldman_check(commitments: Sequence[Element], recipient: int) -> Element:
    """∏_k A_k^{j^k}: what g^{s_ij} must equal for recipient j."""
    group = commitments[0].group
    q = group.order
    powers = [pow(recipient, k, q) for k in range(len(commitments))]
    return group.multi_exp(list(commitments), powers)


# ---------------------------------------------------------------- the public record


class DkgOutcome(NamedTuple):
    """What anyone derives from the record: pk, {j: X_j}, QUAL and the disqualified."""

    pk: Element
    verification_keys: dict[int, Element]
    qualified: tuple[int, ...]
    disqualified: dict[int, str]


class PublicRecord:
    """The posted DKG messages in board order, checked one by one (rules DKG1…DKG7)."""

    def __init__(self, config: CeremonyConfig) -> None:
        self.config = config
        self.round = 1
        self.messages: list[DkgMessage] = []
        self.slots: dict[tuple[Any, ...], DkgMessage] = {}
        self.commitments: dict[int, Commitments] = {}
        self.proof_failures: dict[int, str] = {}
        self.shares: dict[tuple[int, int], EncryptedShare] = {}
        self.complaints: dict[int, Complaints] = {}
        self.reveals: dict[int, Reveal] = {}

    # -- checks --
    def check(self, msg: DkgMessage) -> None:
        """Raise `PeerProtocolError` unless `msg` may be appended now."""
        cfg = self.config
        if msg.election != cfg.election:
            raise PeerProtocolError("DKG1 election", "message of another election")
        if msg.sender not in cfg.indices:
            raise PeerProtocolError("DKG2 sender", f"no trustee {msg.sender}")
        others: list[int] = []
        if isinstance(msg, EncryptedShare):
            others = [msg.recipient]
        elif isinstance(msg, Complaints):
            others = [i for i, _ in msg.complaints]
        elif isinstance(msg, Reveal):
            others = [j for j, _ in msg.shares]
        for other in others:
            if other not in cfg.indices or other == msg.sender:
                raise PeerProtocolError(
                    "DKG2 sender", f"trustee {msg.sender} names trustee {other}"
                )
        try:
            channel.verify_payload(cfg.keys(msg.sender).ed25519_public, msg.signature, msg.body())
        except VerificationError as exc:
            raise PeerProtocolError(exc.check, f"{msg.KIND} from trustee {msg.sender}") from exc
        if msg.ROUND < self.round:
            raise PeerProtocolError(
                "DKG4 round order", f"{msg.KIND} (round {msg.ROUND}) after round {self.round}"
            )
        if msg.slot in self.slots:
            same = self.slots[msg.slot] == msg
            raise PeerProtocolError(
                "DKG5 unique",
                f"{'replay of' if same else 'a second, different'} {msg.KIND} "
                f"from trustee {msg.sender}",
            )
        if isinstance(msg, Commitments) and len(msg.commitments) != cfg.threshold:
            raise PeerProtocolError("DKG6 shape", f"{cfg.threshold} commitments expected")
        if isinstance(msg, Reveal):
            accused_by = {
                j
                for j, c in self.complaints.items()
                if any(i == msg.sender for i, _ in c.complaints)
            }
            extra = [j for j, _ in msg.shares if j not in accused_by]
            if extra:
                raise PeerProtocolError(
                    "DKG7 reveal", f"trustee {msg.sender} reveals unrequested shares {extra}"
                )

    def append(self, msg: DkgMessage) -> None:
        """Check `msg` and record it (nothing changes if it is refused)."""
        self.check(msg)
        self.messages.append(msg)
        self.slots[msg.slot] = msg
        self.round = max(self.round, msg.ROUND)
        if isinstance(msg, Commitments):
            self.commitments[msg.sender] = msg
            failure = self._verify_proofs(msg)
            if failure:
                self.proof_failures[msg.sender] = failure
        elif isinstance(msg, EncryptedShare):
            self.shares[(msg.sender, msg.recipient)] = msg
        elif isinstance(msg, Complaints):
            self.complaints[msg.sender] = msg
        else:
            self.reveals[msg.sender] = msg

    def _verify_proofs(self, msg: Commitments) -> str | None:
        g = self.config.group.generator()
        for k, (a, proof) in enumerate(zip(msg.commitments, msg.proofs)):
            try:
                schnorr.verify(
                    schnorr.Statement(g, a),
                    proof,
                    transcript=coefficient_transcript(self.config, msg.sender, k),
                )
            except VerificationError as exc:
                return f"proof of knowledge for coefficient {k} fails ({exc.check})"
        return None

    # -- views --
    def valid_dealers(self) -> list[int]:
        """Dealers whose commitments are posted with valid proofs."""
        return [i for i in sorted(self.commitments) if i not in self.proof_failures]

    def accusations(self) -> list[tuple[int, int]]:
        """(dealer i, complainer j) pairs, sorted."""
        return sorted((i, j) for j, c in self.complaints.items() for i, _ in c.complaints)

    def revealed(self, dealer: int, recipient: int) -> Scalar | None:
        reveal = self.reveals.get(dealer)
        if reveal is None:
            return None
        return dict(reveal.shares).get(recipient)

    def outcome(self) -> DkgOutcome:
        """QUAL, pk and every X_j from the record as it stands (spec §4, step 5)."""
        cfg = self.config
        group = cfg.group
        g = group.generator()
        disqualified: dict[int, str] = {}
        for i in cfg.indices:
            if i not in self.commitments:
                disqualified[i] = "posted no commitments"
            elif i in self.proof_failures:
                disqualified[i] = self.proof_failures[i]
        for i, j in self.accusations():
            if i in disqualified:
                continue
            s = self.revealed(i, j)
            if s is None:
                disqualified[i] = f"did not answer the complaint of trustee {j}"
            elif g**s != feldman_check(self.commitments[i].commitments, j):
                disqualified[i] = f"revealed share for trustee {j} fails g^s = ∏ A_k^(j^k)"
        qualified = tuple(i for i in cfg.indices if i not in disqualified)
        if len(qualified) < cfg.threshold:
            raise CeremonyFailed(
                f"only {len(qualified)} qualified dealers, at least t = {cfg.threshold} needed; "
                + "; ".join(f"trustee {i}: {r}" for i, r in sorted(disqualified.items()))
            )
        joint = [
            group.multi_exp([self.commitments[i].commitments[k] for i in qualified],
                            [1] * len(qualified))
            for k in range(cfg.threshold)
        ]
        keys = {j: feldman_check(joint, j) for j in cfg.indices}
        return DkgOutcome(joint[0], keys, qualified, disqualified)


def derive_public_outcome(
    posted_messages: Iterable[DkgMessage | bytes], config: CeremonyConfig
) -> DkgOutcome:
    """The observer's function: (pk, {j: X_j}, QUAL, disqualified) from the posted messages.

    Raises `VerificationError` naming the rule (DKG0…DKG7) and the message's position when the
    record is inconsistent, and `CeremonyFailed` when fewer than t dealers qualify.
    """
    record = PublicRecord(config)
    for pos, item in enumerate(posted_messages):
        try:
            msg = decode_message(item, config.group) if isinstance(item, bytes) else item
        except DecodeError as exc:
            raise VerificationError("DKG0 decode", f"message {pos}: {exc}") from exc
        try:
            record.append(msg)
        except PeerProtocolError as exc:
            raise VerificationError(exc.step, f"message {pos}: {exc.detail}") from exc
    return record.outcome()


# ---------------------------------------------------------------- one trustee's machine


class Phase(enum.Enum):
    IDLE = "idle"  # not started
    DEALT = "dealt"  # commitments and shares posted; waiting for everyone's dealing
    COMPLAINED = "complained"  # complaints posted; waiting for everyone's complaints
    ANSWERED = "answered"  # reveals posted if accused; waiting for the accused dealers
    DONE = "done"  # outcome and key share known


class _Event(enum.Enum):
    START = "start"
    DEALING_COMPLETE = "dealing complete"
    COMPLAINTS_COMPLETE = "complaints complete"
    REVEALS_COMPLETE = "reveals complete"
    DEADLINE = "deadline"


#: Every transition of a trustee: (phase, event) → (action, next phase).
_TRANSITIONS: dict[tuple[Phase, _Event], tuple[str, Phase]] = {
    (Phase.IDLE, _Event.START): ("_deal", Phase.DEALT),
    (Phase.DEALT, _Event.DEALING_COMPLETE): ("_complain", Phase.COMPLAINED),
    (Phase.DEALT, _Event.DEADLINE): ("_complain", Phase.COMPLAINED),
    (Phase.COMPLAINED, _Event.COMPLAINTS_COMPLETE): ("_reveal", Phase.ANSWERED),
    (Phase.COMPLAINED, _Event.DEADLINE): ("_reveal", Phase.ANSWERED),
    (Phase.ANSWERED, _Event.REVEALS_COMPLETE): ("_finish", Phase.DONE),
    (Phase.ANSWERED, _Event.DEADLINE): ("_finish", Phase.DONE),
}


@dataclass(frozen=True)
class KeyShare:
    """Trustee j's result: x_j (secret) with X_j = g^{x_j}, and the public outcome."""

    index: int
    secret: Scalar = field(repr=False)
    outcome: DkgOutcome = field(repr=False)

    @property
    def verification_key(self) -> Element:
        return self.outcome.verification_keys[self.index]

    def __repr__(self) -> str:
        return f"KeyShare(index={self.index}, secret=<hidden>, X={self.verification_key!r})"

    __str__ = __repr__


class DkgTrustee:
    """Trustee `index` in the ceremony. Feed it every posted message in board order — its own
    too — and post what it returns. No I/O, no clock: the driver calls `deadline()` when the
    current round's time is up.

    `polynomial` restores a trustee whose polynomial is already in its keystore (offline mode,
    restarts); otherwise `start()` draws one from `rng`.
    """

    def __init__(
        self,
        config: CeremonyConfig,
        index: int,
        keys: TrusteePrivateKeys,
        rng: RandomSource,
        polynomial: Polynomial | None = None,
    ) -> None:
        if index not in config.indices:
            raise LocalProtocolError(f"no trustee {index} in this ceremony")
        if keys.public(index) != config.keys(index):
            raise LocalProtocolError(f"these private keys are not trustee {index}'s")
        if polynomial is not None and len(polynomial.coefficients) != config.threshold:
            raise LocalProtocolError("the polynomial's degree is not t − 1")
        self.config = config
        self.index = index
        self._keys = keys
        self._rng = rng
        self.polynomial = polynomial
        self.record = PublicRecord(config)
        self.phase = Phase.IDLE
        self._outcome: DkgOutcome | None = None
        self.key_share: KeyShare | None = None
        #: Why this trustee holds no usable share (None while none is known or when it has one).
        self.share_problem: str | None = None

    def __repr__(self) -> str:
        return f"DkgTrustee(index={self.index}, phase={self.phase.value})"

    # -- the public interface --
    def start(self) -> list[DkgMessage]:
        """Post commitments and shares (those not already in the record)."""
        return self._fire(_Event.START) + self._progress()

    def deadline(self) -> list[DkgMessage]:
        """The current round's time is up: act on what has been received."""
        return self._fire(_Event.DEADLINE) + self._progress()

    def receive(self, message: DkgMessage) -> list[DkgMessage]:
        """Record one posted message; returns the messages to post in response.

        Raises `PeerProtocolError` (state unchanged) if the message is refused.
        """
        if self.phase is Phase.DONE:
            raise PeerProtocolError("DKG4 round order", "the ceremony is over for this trustee")
        self.record.append(message)
        return self._progress()

    @property
    def outcome(self) -> DkgOutcome:
        """The public outcome, once the machine is DONE."""
        if self._outcome is None:
            raise LocalProtocolError(f"no outcome yet (phase {self.phase.value})")
        return self._outcome

    # -- transitions --
    def _fire(self, event: _Event) -> list[DkgMessage]:
        entry = _TRANSITIONS.get((self.phase, event))
        if entry is None:
            raise LocalProtocolError(f"{event.value!r} is not allowed in phase {self.phase.value}")
        action, nxt = entry
        out: list[DkgMessage] = getattr(self, action)()
        self.phase = nxt
        return out

    def _progress(self) -> list[DkgMessage]:
        """Fire the completion events whose condition now holds."""
        out: list[DkgMessage] = []
        while (event := self._ready()) is not None:
            out += self._fire(event)
        return out

    def _ready(self) -> _Event | None:
        rec, cfg = self.record, self.config
        if self.phase is Phase.DEALT:
            # all dealing on the board, not only the shares for this trustee: closing round 1
            # early would leave a slower dealer's later shares refused (DKG4)
            complete = rec.round >= 2 or (
                len(rec.commitments) == cfg.n and len(rec.shares) == cfg.n * (cfg.n - 1)
            )
            return _Event.DEALING_COMPLETE if complete else None
        if self.phase is Phase.COMPLAINED:
            complete = rec.round >= 3 or len(rec.complaints) == cfg.n
            return _Event.COMPLAINTS_COMPLETE if complete else None
        if self.phase is Phase.ANSWERED:
            return None if self._pending_reveals() else _Event.REVEALS_COMPLETE
        return None

    def _pending_reveals(self) -> set[int]:
        rec = self.record
        valid = set(rec.valid_dealers())
        return {i for i, _ in rec.accusations() if i in valid and i not in rec.reveals}

    def _sign(self, msg: DkgMessage) -> DkgMessage:
        return sign_message(msg, self._keys.ed25519_key())

    # -- actions --
    def _deal(self) -> list[DkgMessage]:
        cfg, rec = self.config, self.record
        g = cfg.group.generator()
        posted = rec.commitments.get(self.index)
        if self.polynomial is None:
            if posted is not None:
                raise LocalProtocolError("my commitments are posted but my polynomial is lost")
            self.polynomial = Polynomial.random(cfg.group, cfg.threshold - 1, self._rng)
        coeffs = self.polynomial.coefficients
        commitments = tuple(g**a for a in coeffs)
        if posted is not None and posted.commitments != commitments:
            raise LocalProtocolError("the posted commitments are not those of my polynomial")
        if posted is not None and rec.round > 1:
            return []  # too late for the missing shares: their recipients complain, we reveal
        out: list[DkgMessage] = []
        if posted is None:
            proofs = tuple(
                schnorr.prove(
                    schnorr.Statement(g, commitments[k]),
                    a,
                    transcript=coefficient_transcript(cfg, self.index, k),
                    rng=self._rng,
                )
                for k, a in enumerate(coeffs)
            )
            out.append(self._sign(Commitments(cfg.election, self.index, commitments, proofs)))
        for j in cfg.indices:
            if j == self.index or ("dkg.share", self.index, j) in rec.slots:
                continue
            ephemeral, ciphertext = channel.seal_share(
                cfg, self.index, j, self.polynomial(j), self._rng
            )
            out.append(
                self._sign(EncryptedShare(cfg.election, self.index, j, ephemeral, ciphertext))
            )
        if out and rec.round > 1:
            raise LocalProtocolError("dealing is closed on the board (round 1 is over)")
        return out

    def _share_from(self, dealer: int) -> tuple[Scalar | None, str | None]:
        """s_ij from dealer i as received, or the complaint reason."""
        rec, cfg = self.record, self.config
        msg = rec.shares.get((dealer, self.index))
        if msg is None:
            return None, "missing"
        try:
            s = channel.open_share(cfg, dealer, self.index, self._keys.x25519_key(),
                                   msg.ephemeral, msg.ciphertext)
        except VerificationError:
            return None, "undecryptable"
        if cfg.group.generator() ** s != feldman_check(rec.commitments[dealer].commitments,
                                                       self.index):
            return None, "inconsistent"
        return s, None

    def _complain(self) -> list[DkgMessage]:
        if ("dkg.complaints", self.index) in self.record.slots:
            return []
        complaints = []
        for i in self.record.valid_dealers():
            if i != self.index:
                _, reason = self._share_from(i)
                if reason is not None:
                    complaints.append((i, reason))
        if self.record.round > 2:
            return []  # too late to complain; `_finish` will note the unusable share
        msg = Complaints(self.config.election, self.index, tuple(complaints))
        return [self._sign(msg)]

    def _reveal(self) -> list[DkgMessage]:
        if ("dkg.reveal", self.index) in self.record.slots or self.polynomial is None:
            return []
        accusers = sorted(j for i, j in self.record.accusations() if i == self.index)
        if not accusers:
            return []
        shares = tuple((j, self.polynomial(j)) for j in accusers)
        return [self._sign(Reveal(self.config.election, self.index, shares))]

    def _finish(self) -> list[DkgMessage]:
        outcome = self.record.outcome()
        cfg = self.config
        x = cfg.group.scalar(0)
        for i in outcome.qualified:
            if i == self.index and self.polynomial is not None:
                s: Scalar | None = self.polynomial(self.index)
            else:
                s = self.record.revealed(i, self.index)
                if s is None:
                    s, _ = self._share_from(i)
            if s is None:
                self.share_problem = f"no valid share from qualified dealer {i}"
                break
            x = x + s
        if self.share_problem is None and (
            cfg.group.generator() ** x != outcome.verification_keys[self.index]
        ):
            self.share_problem = "g^x_j differs from the public verification key X_j"
        self._outcome = outcome
        if self.share_problem is None:
            self.key_share = KeyShare(self.index, x, outcome)
        return []
