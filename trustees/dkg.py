"""Pedersen/Feldman distributed key generation, t of n (docs/trustees.md §4).

Two layers, both free of I/O:

- `PublicRecord` checks and records the posted messages and the administrator's round closes
  in board order; it is shared by every trustee's state machine, by the board's policy and by
  the observer's `derive_public_outcome`, so that the trustees and any verifier reach the same
  QUAL, joint key pk and verification keys X_j from the same record. A message that breaks a
  rule (DKG1…DKG9 below) is refused and changes nothing.
- `DkgTrustee` is one trustee's state machine in the style of h11: `start()`, `receive(msg)`
  and `close_round(r)` return the messages to post; every transition is in `_TRANSITIONS`.

Rounds (docs/trustees.md §4.1) end only when the administrator closes them (a signed `dkg_round`
entry; the `joint_key` entry closes the ceremony), never because of a trustee's message:

    1 dealing      commitments, encrypted shares
    2 complaints   one complaints message per trustee: missing | undecryptable | inconsistent
    3 answers      a missing share is re-sent encrypted; an unreadable or wrong one is revealed
    4 rechecks     a trustee that got a re-sent share complains if it is unreadable or wrong
    5 reveals      the answers to round 4's complaints
    (the ceremony closes after round 3 when no share was re-sent, else after round 5)

Rules a posted message must satisfy (the observer reports the rule's name on failure):

    DKG0 decode          canonical JSON of a known kind (`trustees.messages`)
    DKG1 election        its election fingerprint is this election's
    DKG2 sender          the sender is a trustee 1..n; recipients and dealers too, never itself
    DKG3 signature       the sender's Ed25519 signature verifies
    DKG4 round order     the message belongs to the open round (see above); nothing after the
                         ceremony is closed; rounds are closed in order by the administrator
    DKG5 unique          one message per slot (no replay, no equivocation)
    DKG6 shape           t commitments and proofs
    DKG7 reveal          a reveal answers the round's unreadable/wrong complaints against its
                         sender, and only those
    DKG8 secret exposed  a dealer with t or more such complaints reveals nothing, so no dealer
                         ever has t shares in the open (`derive_public_outcome` also checks
                         every signed reveal of a record before anything else)
    DKG9 complaint       a complaint names a dealer that committed (with valid proofs);
                         "missing" only if that share is not on the record, the other reasons
                         only if it is; round 4 only about a share re-sent in round 3

Attributable misbehaviour is recorded and leads to disqualification, with a reason:
no commitments; a Schnorr proof that fails (S1); t or more unreadable/wrong complaints (the
polynomial is dropped, nothing is revealed); a missing share not re-sent; a complaint not
answered by a revealed share; a revealed share that fails g^{s_ij} = ∏_k A_ik^{j^k}.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
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
    COMPLAINT_ROUNDS,
    REVEAL_ROUNDS,
    Commitments,
    Complaints,
    DkgMessage,
    EncryptedShare,
    Reveal,
    decode_message,
    sign_message,
)

__all__ = [
    "CLOSED",
    "DkgOutcome",
    "DkgTrustee",
    "KeyShare",
    "Phase",
    "Polynomial",
    "PublicRecord",
    "RoundClose",
    "ceremony_event",
    "coefficient_transcript",
    "derive_public_outcome",
    "exposed_dealers",
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

#: The last round of a ceremony; `CLOSED` stands for the joint key entry that ends it.
LAST_ROUND = 5
CLOSED = 6
#: Complaints that call for a reveal (a missing share is re-sent instead).
REVEAL_REASONS = ("undecryptable", "inconsistent")


class RoundClose(NamedTuple):
    """The administrator's signed word that the open round is over: `round` opens (2…5), or
    `CLOSED` (the joint key entry) ends the ceremony."""

    round: int


class DkgOutcome(NamedTuple):
    """What anyone derives from the record: pk, {j: X_j}, QUAL and the disqualified."""

    pk: Element
    verification_keys: dict[int, Element]
    qualified: tuple[int, ...]
    disqualified: dict[int, str]


Event = DkgMessage | RoundClose


class PublicRecord:
    """The posted DKG messages and round closes in board order, checked one by one."""

    def __init__(self, config: CeremonyConfig) -> None:
        self.config = config
        self.round = 1
        self.events: list[Event] = []
        self.messages: list[DkgMessage] = []
        self.slots: dict[tuple[Any, ...], DkgMessage] = {}
        self.commitments: dict[int, Commitments] = {}
        self.proof_failures: dict[int, str] = {}
        self.shares: dict[tuple[int, int], EncryptedShare] = {}
        #: (dealer, recipient) of the shares re-sent in round 3
        self.resent: set[tuple[int, int]] = set()
        #: round (2 or 4) → sender → complaints
        self.complaints: dict[int, dict[int, Complaints]] = {r: {} for r in COMPLAINT_ROUNDS}
        #: round (3 or 5) → dealer → reveal
        self.reveals: dict[int, dict[int, Reveal]] = {r: {} for r in REVEAL_ROUNDS}

    @property
    def closed(self) -> bool:
        return self.round == CLOSED

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
        if not self._in_round(msg):
            when = "after the ceremony closed" if self.closed else f"in round {self.round}"
            raise PeerProtocolError(
                "DKG4 round order", f"{_describe(msg)} from trustee {msg.sender} {when}"
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
        if isinstance(msg, Complaints):
            self._check_complaints(msg)
        if isinstance(msg, Reveal):
            self._check_reveal(msg)

    def _in_round(self, msg: DkgMessage) -> bool:
        r = self.round
        if isinstance(msg, Commitments):
            return r == 1
        if isinstance(msg, EncryptedShare):
            asked = (msg.sender, "missing") in self._accused_by(2, msg.recipient)
            return r == 1 or (r == 3 and asked)
        return msg.round == r

    def _accused_by(self, round_: int, complainer: int) -> set[tuple[int, str]]:
        c = self.complaints[round_].get(complainer)
        return set(c.complaints) if c is not None else set()

    def _check_complaints(self, msg: Complaints) -> None:
        valid = set(self.valid_dealers())
        j = msg.sender
        if msg.round == 4 and not any(r == j for _, r in self.resent):
            raise PeerProtocolError(
                "DKG9 complaint", f"no share was re-sent to trustee {j}: nothing to recheck"
            )
        for i, reason in msg.complaints:
            posted = (i, j) in self.shares
            if i not in valid:
                problem = f"trustee {i} posted no valid commitments"
            elif msg.round == 2 and (reason == "missing") == posted:
                problem = (
                    f"trustee {i}'s share to trustee {j} is on the record"
                    if posted
                    else f"trustee {i}'s share to trustee {j} is not on the record"
                )
            elif msg.round == 4 and ((i, j) not in self.resent or reason == "missing"):
                problem = f"round 4 is only about a share re-sent to trustee {j}"
            else:
                continue
            raise PeerProtocolError(
                "DKG9 complaint", f"trustee {j} complains about trustee {i} ({reason}): {problem}"
            )

    def _check_reveal(self, msg: Reveal) -> None:
        i = msg.sender
        asked = {
            j
            for j, c in self.complaints[msg.round - 1].items()
            if any(d == i and r in REVEAL_REASONS for d, r in c.complaints)
        }
        extra = [j for j, _ in msg.shares if j not in asked]
        if extra:
            raise PeerProtocolError(
                "DKG7 reveal", f"trustee {i} reveals unrequested shares {extra}"
            )
        complainers = self.reveal_complainers(i)
        revealed = {
            j for r in REVEAL_ROUNDS if i in self.reveals[r] for j, _ in self.reveals[r][i].shares
        }
        in_the_open = revealed | {j for j, _ in msg.shares}
        if max(len(complainers), len(in_the_open)) >= self.config.threshold:
            raise PeerProtocolError(
                "DKG8 secret exposed",
                f"trustee {i} has t = {self.config.threshold} or more complaints and may "
                "reveal nothing (its polynomial is dropped)",
            )

    def append(self, msg: DkgMessage) -> None:
        """Check `msg` and record it (nothing changes if it is refused)."""
        self.check(msg)
        self.events.append(msg)
        self.messages.append(msg)
        self.slots[msg.slot] = msg
        if isinstance(msg, Commitments):
            self.commitments[msg.sender] = msg
            failure = self._verify_proofs(msg)
            if failure:
                self.proof_failures[msg.sender] = failure
        elif isinstance(msg, EncryptedShare):
            self.shares[(msg.sender, msg.recipient)] = msg
            if self.round == 3:
                self.resent.add((msg.sender, msg.recipient))
        elif isinstance(msg, Complaints):
            self.complaints[msg.round][msg.sender] = msg
        else:
            self.reveals[msg.round][msg.sender] = msg

    def check_close(self, round_: int) -> None:
        """Raise `PeerProtocolError` unless the administrator may close the open round so."""
        if self.closed:
            raise PeerProtocolError("DKG4 round order", "the ceremony is already closed")
        if round_ != self.next_round():
            what = "the ceremony's close" if round_ == CLOSED else f"round {round_}"
            raise PeerProtocolError(
                "DKG4 round order",
                f"{what} cannot follow round {self.round}"
                + (
                    " (shares were re-sent: rounds 4 and 5 come first)"
                    if round_ == CLOSED and self.resent and self.round == 3
                    else ""
                ),
            )

    def close(self, round_: int) -> None:
        """The administrator closed the open round: `round_` opens (or `CLOSED`)."""
        self.check_close(round_)
        self.events.append(RoundClose(round_))
        self.round = round_

    def next_round(self) -> int:
        """What the administrator closes the open round into: the next round, or `CLOSED`
        after round 3 when no share was re-sent, and after round 5."""
        if self.round == LAST_ROUND or (self.round == 3 and not self.resent):
            return CLOSED
        return self.round + 1

    def awaiting(self) -> list[str]:
        """The messages the open round still expects from the trustees (the administrator
        closes it early once this is empty, else at the round's timeout)."""
        cfg, r = self.config, self.round
        valid = self.valid_dealers()
        if r == 1:
            out = [f"commitments of trustee {i}" for i in cfg.indices if i not in self.commitments]
            out += [
                f"share {i}→{j}"
                for i in sorted(self.commitments)
                for j in cfg.indices
                if j != i and (i, j) not in self.shares
            ]
            return out
        if r in COMPLAINT_ROUNDS:
            senders = valid if r == 2 else sorted({j for _, j in self.resent})
            return [
                f"round {r} complaints of trustee {j}"
                for j in senders
                if j not in self.complaints[r]
            ]
        if r in REVEAL_ROUNDS:
            out = []
            for i in valid:
                if len(self.reveal_complainers(i)) >= cfg.threshold:
                    continue
                for j, c in sorted(self.complaints[r - 1].items()):
                    for d, reason in c.complaints:
                        if d != i:
                            continue
                        if reason == "missing" and (i, j) not in self.shares:
                            out.append(f"share {i}→{j} (re-sent)")
                        elif reason in REVEAL_REASONS and i not in self.reveals[r]:
                            out.append(f"round {r} reveal of trustee {i}")
            return sorted(set(out))
        return []

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

    def accusations(self) -> list[tuple[int, int, int, str]]:
        """(round, dealer i, complainer j, reason), sorted."""
        return sorted(
            (r, i, j, reason)
            for r, by in self.complaints.items()
            for j, c in by.items()
            for i, reason in c.complaints
        )

    def reveal_complainers(self, dealer: int) -> set[int]:
        """The trustees that found `dealer`'s share unreadable or wrong (rounds 2 and 4)."""
        return {
            j for _, i, j, reason in self.accusations() if i == dealer and reason in REVEAL_REASONS
        }

    def revealed(self, dealer: int, recipient: int) -> Scalar | None:
        for by in self.reveals.values():
            reveal = by.get(dealer)
            if reveal is not None and recipient in dict(reveal.shares):
                return dict(reveal.shares)[recipient]
        return None

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
            elif len(accusers := self.reveal_complainers(i)) >= cfg.threshold:
                disqualified[i] = (
                    f"t = {cfg.threshold} or more trustees ({sorted(accusers)}) found its share "
                    "unreadable or wrong: polynomial dropped, nothing revealed"
                )
        for _, i, j, reason in self.accusations():
            if i in disqualified:
                continue
            if reason == "missing":
                if (i, j) not in self.resent:
                    disqualified[i] = f"did not re-send the missing share of trustee {j}"
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
            group.multi_exp(
                [self.commitments[i].commitments[k] for i in qualified], [1] * len(qualified)
            )
            for k in range(cfg.threshold)
        ]
        keys = {j: feldman_check(joint, j) for j in cfg.indices}
        return DkgOutcome(joint[0], keys, qualified, disqualified)


def _describe(msg: DkgMessage) -> str:
    if isinstance(msg, Complaints | Reveal):
        return f"{msg.KIND} of round {msg.round}"
    return msg.KIND


def exposed_dealers(messages: Iterable[DkgMessage], config: CeremonyConfig) -> dict[int, list[int]]:
    """Dealer i → the recipients j whose s_ij some signed reveal of i makes public, for every
    dealer with t or more: from those, f_i and its secret a_i0 follow by interpolation.

    Reveals are the only values of f_i a record holds in the open (shares are encrypted to
    their recipient, commitments give only g^{a_ik}), so this is the whole exposure.
    """
    public: dict[int, set[int]] = {}
    for msg in messages:
        if not isinstance(msg, Reveal) or msg.election != config.election:
            continue
        if msg.sender not in config.indices:
            continue
        try:
            channel.verify_payload(
                config.keys(msg.sender).ed25519_public, msg.signature, msg.body()
            )
        except VerificationError:
            continue
        public.setdefault(msg.sender, set()).update(j for j, _ in msg.shares)
    return {i: sorted(js) for i, js in sorted(public.items()) if len(js) >= config.threshold}


def ceremony_event(entry_type: str, body: Mapping[str, Any]) -> dict[str, Any] | RoundClose | None:
    """What a board entry is to the ceremony: a DKG message (its JSON value) for `dkg`, a
    round close for the administrator's `dkg_round`, the ceremony's close for `joint_key`;
    None for any other entry. The one reading of the record that the trustees, the board's
    followers and the verifier share."""
    if entry_type == "dkg":
        return dict(body)
    if entry_type == "dkg_round":
        round_ = body.get("round")
        if set(body) != {"v", "round"} or type(round_) is not int:
            raise DecodeError('a dkg_round body is {"v": 1, "round": r}')
        return RoundClose(round_)
    if entry_type == "joint_key":
        return RoundClose(CLOSED)
    return None


def derive_public_outcome(
    posted: Iterable[DkgMessage | RoundClose | bytes | dict[str, Any]], config: CeremonyConfig
) -> DkgOutcome:
    """The observer's function: (pk, {j: X_j}, QUAL, disqualified) from the posted messages and
    the administrator's round closes, in board order.

    Raises `VerificationError` naming the rule (DKG0…DKG9) and the item's position when the
    record is inconsistent — first "DKG8 secret exposed" when some dealer's signed reveals put t
    or more of its shares in the open — and `CeremonyFailed` when fewer than t dealers qualify.
    """
    items: list[DkgMessage | RoundClose] = []
    for pos, item in enumerate(posted):
        try:
            items.append(
                decode_message(item, config.group) if isinstance(item, bytes | dict) else item
            )
        except DecodeError as exc:
            raise VerificationError("DKG0 decode", f"message {pos}: {exc}") from exc
    exposed = exposed_dealers((m for m in items if not isinstance(m, RoundClose)), config)
    if exposed:
        raise VerificationError(
            "DKG8 secret exposed",
            "; ".join(
                f"trustee {i}'s shares for trustees {js} are revealed: t = "
                f"{config.threshold} of them give its secret"
                for i, js in exposed.items()
            ),
        )
    record = PublicRecord(config)
    for pos, event in enumerate(items):
        try:
            if isinstance(event, RoundClose):
                record.close(event.round)
            else:
                record.append(event)
        except PeerProtocolError as exc:
            raise VerificationError(exc.step, f"message {pos}: {exc.detail}") from exc
    return record.outcome()


# ---------------------------------------------------------------- one trustee's machine


class Phase(enum.Enum):
    IDLE = "idle"  # not started
    DEALT = "dealt"  # round 1: commitments and shares posted
    COMPLAINED = "complained"  # round 2: complaints posted
    ANSWERED = "answered"  # round 3: missing shares re-sent, the others revealed if accused
    RECHECKED = "rechecked"  # round 4: complaints about re-sent shares posted (if any)
    REVEALED = "revealed"  # round 5: answers to round 4's complaints posted
    DONE = "done"  # the ceremony is closed: outcome and key share known


class _Event(enum.Enum):
    START = "start"
    ROUND_2 = "round 2 opens"
    ROUND_3 = "round 3 opens"
    ROUND_4 = "round 4 opens"
    ROUND_5 = "round 5 opens"
    CLOSED = "the ceremony closes"


_OPENS = {
    2: _Event.ROUND_2,
    3: _Event.ROUND_3,
    4: _Event.ROUND_4,
    5: _Event.ROUND_5,
    CLOSED: _Event.CLOSED,
}
#: The phase a trustee is in once it has acted in round r.
_PHASE_OF_ROUND = {
    1: Phase.DEALT,
    2: Phase.COMPLAINED,
    3: Phase.ANSWERED,
    4: Phase.RECHECKED,
    5: Phase.REVEALED,
}

#: Every transition of a trustee: (phase, event) → (action, next phase). Only the
#: administrator's round closes move a trustee on, never another trustee's message.
_TRANSITIONS: dict[tuple[Phase, _Event], tuple[str, Phase]] = {
    (Phase.IDLE, _Event.START): ("_deal", Phase.DEALT),
    (Phase.DEALT, _Event.ROUND_2): ("_complain", Phase.COMPLAINED),
    (Phase.COMPLAINED, _Event.ROUND_3): ("_answer", Phase.ANSWERED),
    (Phase.ANSWERED, _Event.ROUND_4): ("_recheck", Phase.RECHECKED),
    (Phase.RECHECKED, _Event.ROUND_5): ("_answer", Phase.REVEALED),
    (Phase.ANSWERED, _Event.CLOSED): ("_finish", Phase.DONE),
    (Phase.REVEALED, _Event.CLOSED): ("_finish", Phase.DONE),
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
    """Trustee `index` in the ceremony. Feed it every posted message and every round close in
    board order — its own messages too — and post what it returns. No I/O, no clock: the
    administrator's round closes (`close_round`) are the only thing that moves it to the next
    round.

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
        """Post commitments and shares (those not already in the record). A trustee started
        (or restarted) after round 1 acts in the open round only, with what it posted before;
        after the ceremony closed it only derives its outcome and share."""
        rec = self.record
        if rec.round == 1:
            return self._fire(_Event.START)
        if self.index not in rec.commitments or self.polynomial is None:
            raise LocalProtocolError(
                "dealing is closed on the board (round 1 is over) and this trustee has not dealt"
            )
        self._deal()  # checks the posted commitments against the polynomial
        if rec.closed:
            self.phase = Phase.ANSWERED
            return self._fire(_Event.CLOSED)
        self.phase = _PHASE_OF_ROUND[rec.round - 1]
        return self._fire(_OPENS[rec.round])

    def close_round(self, round_: int) -> list[DkgMessage]:
        """The administrator closed the open round: `round_` opens (or `CLOSED`). Raises
        `PeerProtocolError` (state unchanged) if the record does not allow it."""
        if self.phase is Phase.DONE:
            raise PeerProtocolError("DKG4 round order", "the ceremony is over for this trustee")
        self.record.close(round_)
        if self.phase is Phase.IDLE:
            return []
        return self._fire(_OPENS[round_])

    def receive(self, message: DkgMessage) -> list[DkgMessage]:
        """Record one posted message. Nothing is posted in answer before the administrator
        closes the round, so this returns [] (kept for symmetry with `close_round`).

        Raises `PeerProtocolError` (state unchanged) if the message is refused.
        """
        if self.phase is Phase.DONE:
            raise PeerProtocolError("DKG4 round order", "the ceremony is over for this trustee")
        self.record.append(message)
        return []

    def feed(self, event: DkgMessage | RoundClose) -> list[DkgMessage]:
        """`receive` a message or `close_round` on a round close, as it comes on the board."""
        if isinstance(event, RoundClose):
            return self.close_round(event.round)
        return self.receive(event)

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
        if rec.round > 1:
            return []  # too late for the missing shares: their recipients complain, we re-send
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
        out += [
            self._seal(j)
            for j in cfg.indices
            if j != self.index and ("dkg.share", self.index, j) not in rec.slots
        ]
        return out

    def _seal(self, recipient: int) -> DkgMessage:
        assert self.polynomial is not None
        cfg = self.config
        ephemeral, ciphertext = channel.seal_share(
            cfg, self.index, recipient, self.polynomial(recipient), self._rng
        )
        return self._sign(
            EncryptedShare(cfg.election, self.index, recipient, ephemeral, ciphertext)
        )

    def _share_from(self, dealer: int) -> tuple[Scalar | None, str | None]:
        """s_ij from dealer i as received, or the complaint reason."""
        rec, cfg = self.record, self.config
        msg = rec.shares.get((dealer, self.index))
        if msg is None:
            return None, "missing"
        try:
            s = channel.open_share(
                cfg, dealer, self.index, self._keys.x25519_key(), msg.ephemeral, msg.ciphertext
            )
        except VerificationError:
            return None, "undecryptable"
        if cfg.group.generator() ** s != feldman_check(
            rec.commitments[dealer].commitments, self.index
        ):
            return None, "inconsistent"
        return s, None

    def _complaints(self, dealers: Iterable[int]) -> list[DkgMessage]:
        """One complaints message of the open round (possibly empty) about `dealers`."""
        complaints = []
        for i in dealers:
            _, reason = self._share_from(i)
            if reason is not None:
                complaints.append((i, reason))
        msg = Complaints(
            self.config.election, self.index, tuple(complaints), round=self.record.round
        )
        return [] if msg.slot in self.record.slots else [self._sign(msg)]

    def _complain(self) -> list[DkgMessage]:
        """Round 2: about every other committed dealer."""
        return self._complaints(i for i in self.record.valid_dealers() if i != self.index)

    def _recheck(self) -> list[DkgMessage]:
        """Round 4: about the shares re-sent to this trustee in round 3 (if any)."""
        resent = sorted(i for i, j in self.record.resent if j == self.index)
        return self._complaints(resent) if resent else []

    def _answer(self) -> list[DkgMessage]:
        """Round 3 or 5: re-send each missing share encrypted; reveal the shares found
        unreadable or wrong — unless t or more trustees complained so, when this dealer is
        disqualified and reveals nothing."""
        rec = self.record
        r = rec.round
        if self.polynomial is None or len(rec.reveal_complainers(self.index)) >= (
            self.config.threshold
        ):
            return []
        out: list[DkgMessage] = []
        reveal: list[int] = []
        for j, c in sorted(rec.complaints[r - 1].items()):
            for i, reason in c.complaints:
                if i != self.index:
                    continue
                if reason == "missing":
                    if (self.index, j) not in rec.shares:
                        out.append(self._seal(j))
                else:
                    reveal.append(j)
        if reveal and self.index not in rec.reveals[r]:
            shares = tuple((j, self.polynomial(j)) for j in reveal)
            out.append(self._sign(Reveal(self.config.election, self.index, shares, round=r)))
        return out

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
