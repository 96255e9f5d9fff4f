"""The board policy of a manifest-driven election (docs/record.md §5).

Plugs into `bulletin_board` through its `Policy` protocol: the first entry of an election is
the manifest, signed by the admin key it names; from then on every author is a key of the
manifest with its role, the phases move in order, and each entry type is checked against the
manifest, the key ceremony's outcome and what is already on the board:

- setup / manifest / admin: decodes; a production group unless the test flag is set;
- key_ceremony / dkg / trustee i: the DKG message rules, sender = author (a message of
  another round than the open one: `wrong_phase`);
- key_ceremony / dkg_round / admin: closes the open round of the ceremony, in order (only the
  administrator's entry ends a round, docs/trustees.md §4.1);
- key_ceremony / joint_key / admin: closes the ceremony once its last round is due; equals
  the outcome derived from the DKG messages;
- voting / ballot / registrar: within the voting period by the policy's clock
  (`election.period`), attestation, membership, proof of knowledge bound to the election and
  ballot key, the ballot key's signature, no copied ciphertext;
- closed / mix_input / admin: exactly the last ballot per pseudonym, in board order, split
  into one list per contest (`rules.contest_lists`);
- mixing / shuffle / mix server k, in order: one {contest, outputs, proof} per contest list,
  shape and membership (the proofs are checked by the next mixer and by the verifier, so a bad
  one is on the record for all to see);
- decrypting / decryption_share / trustee j: one share per contest list, shape, sender =
  author (a share whose proof fails is excluded when shares are combined, and named);
- decrypting / result / admin: only after t shares;
- any phase / phase / admin: the next phase in order, with its precondition.

Who may post which type in which phase, the phase order, the once-only entries, the mix
servers' turns, one share per trustee and the ballot checks are the election's rules
(`election.rules`), which the verifier applies too; this module adds what needs the board's
state (the ceremony's outcome, the ballots' order).

`body_cap` sizes each entry type for the board (docs/board.md §8.1): a ballot by the width of
the manifest's row, the record entries (mix input, shuffles, decryption shares, result) by the
number of rows to mix times that; other types get the board's default cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import Envelope, verify_envelope
from bulletin_board.policy import PHASES, Refusal
from election import rules
from election.entries import BODY_VERSION, Ballot, decode_shuffle
from election.manifest import Manifest, ceremony_config
from election.period import outside_voting_period
from election.rules import EntryOrder, RuleBroken
from mixnet import elgamal
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group
from trustees.decryption import DecryptionShare, share_entry_values
from trustees.dkg import CLOSED, PublicRecord
from trustees.errors import CeremonyFailed, PeerProtocolError
from trustees.messages import decode_message

__all__ = [
    "ElectionPolicy",
    "ElectionRecordState",
    "body_cap_of",
    "ceremony_config",
    "check_ballot",
    "check_ballot_only",
    "joint_key_body",
    "mix_input_of",
]


@dataclass
class _Author:
    key: Ed25519PublicKey
    role: str
    index: int = 0


@dataclass
class ElectionRecordState:
    election: str
    size: int = 0
    phase: str | None = None
    manifest: Manifest | None = None
    group: Group | None = None
    fingerprint: bytes = b""
    authors: dict[str, _Author] = field(default_factory=dict)
    order: EntryOrder | None = None
    dkg: PublicRecord | None = None
    pk: Element | None = None
    last_ballot: dict[bytes, int] = field(default_factory=dict)  # pseudonym -> entry index
    # entry index -> row as posted (JSON); checked when the ballot was accepted
    rows: dict[int, list[Any]] = field(default_factory=dict)
    b_values: set[bytes] = field(default_factory=set)
    ballots: int = 0
    superseded: int = 0
    mix_input: list[Any] | None = None
    shuffle_sizes: list[int] = field(default_factory=list)
    shares: dict[int, int] = field(default_factory=dict)  # trustee index -> entry index
    counts: dict[str, int] = field(default_factory=dict)
    # ballot entries the board service built and signed itself once every check passed
    # outside the append lock (see `BallotIntake`), by object identity: id -> the envelope
    prechecked: dict[int, Envelope] = field(default_factory=dict)

    def is_prechecked(self, envelope: Envelope) -> bool:
        """Is `envelope` the very object the intake checked and signed (not merely equal)?"""
        return self.prechecked.get(id(envelope)) is envelope

    def current_size(self) -> int:
        assert self.mix_input is not None
        return self.shuffle_sizes[-1] if self.shuffle_sizes else len(self.mix_input)


#: entry types whose size grows with the number of rows to mix
RECORD_TYPES = frozenset({"mix_input", "shuffle", "decryption_share", "result"})
BALLOT_BASE_BYTES = 16 * 1024  # attestation, ballot key, signatures, JSON
RECORD_BASE_BYTES = 64 * 1024  # the parts of one shuffle proof that do not grow with the rows
# bytes an entry may take per ciphertext, in ciphertexts: a ballot needs < 2 (the ciphertext
# and its proof of knowledge); a shuffle < 4 (output, commitments, responses), the others less
BALLOT_CIPHERTEXTS = 4
RECORD_CIPHERTEXTS = 8


def ciphertext_json_bytes(group: Group) -> int:
    """The size of one ciphertext [a, b] as canonical JSON (hex elements), with a comma."""
    return 2 * (2 * group.element_bytes + 3) + 3  # elements are fixed-width hex


def body_cap_of(state: ElectionRecordState, entry_type: str) -> int | None:
    """The largest entry of this type the election can need now; None: not derived."""
    if state.manifest is None or state.group is None:
        return None
    row = state.manifest.width * ciphertext_json_bytes(state.group)
    if entry_type == "ballot":
        return BALLOT_BASE_BYTES + BALLOT_CIPHERTEXTS * row
    if entry_type in RECORD_TYPES:
        rows = len(state.mix_input) if state.mix_input is not None else len(state.last_ballot)
        lists = len(state.manifest.contests)  # one proof per contest list
        return lists * RECORD_BASE_BYTES + RECORD_CIPHERTEXTS * row * rows
    return None


def mix_input_of(state: ElectionRecordState) -> tuple[list[int], list[Any]]:
    """The ballot that counts per pseudonym (`rules.counted_ballots`, applied one ballot at a
    time as they are accepted), in board order: (entry indices, rows as JSON)."""
    indices = sorted(state.last_ballot.values())
    return indices, [state.rows[i] for i in indices]


def _refusal(broken: RuleBroken) -> Refusal:
    return Refusal(broken.code, broken.detail)


class ElectionPolicy:
    """See the module docstring. `allow_test_groups` is for simulations and tests only;
    `clock` (the time a new ballot is checked at, with its offset) is for tests.

    Authority (docs/board.md §5.1): `admin_keys` (hex) are the administrators whose manifests
    open elections on this board (None: any key; tests only); `board_key` (hex), the board's
    own key, which a manifest must name (None: not checked; tests only).
    """

    def __init__(
        self,
        *,
        allow_test_groups: bool = False,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        admin_keys: Iterable[str] | None = None,
        board_key: str | None = None,
    ) -> None:
        self.allow_test_groups = allow_test_groups
        self.clock = clock
        self.admin_keys = None if admin_keys is None else frozenset(admin_keys)
        self.board_key = board_key

    def initial_state(self, election: str) -> ElectionRecordState:
        return ElectionRecordState(election)

    def accepted_types(self, state: ElectionRecordState) -> frozenset[str]:
        """The entry types the election may accept in its current phase."""
        if state.phase is None:
            return frozenset({"manifest"})
        types = {t for phase, t in rules.POSTER if phase == state.phase}
        if state.phase != PHASES[-1]:
            types.add("phase")  # the admin's, in every phase but the last
        return frozenset(types)

    def describe(self, state: ElectionRecordState) -> dict[str, Any]:
        return {
            "phase": state.phase or "none",
            "counts": dict(sorted(state.counts.items())),
            "ballots": state.ballots,
            "superseded": state.superseded,
            "voters": len(state.last_ballot),
        }

    def body_cap(self, state: ElectionRecordState, entry_type: str) -> int | None:
        return body_cap_of(state, entry_type)

    # ---------------------------------------------------------------- check
    def check(self, state: ElectionRecordState, envelope: Envelope) -> None:
        if state.phase is None:
            self._check_manifest(state, envelope)
            return
        if envelope.type == "manifest":
            raise Refusal("election_exists", "this election already has a manifest")
        author = state.authors.get(envelope.author)
        if author is None:
            raise Refusal("unauthorised_signer", f"{envelope.author} is not in the manifest")
        if not state.is_prechecked(envelope):
            try:
                verify_envelope(envelope, author.key)
            except VerificationError as exc:
                raise Refusal("bad_signature", str(exc)) from exc
        assert state.order is not None
        try:
            state.order.check(envelope.type, author.role, author.index, envelope.body)
        except RuleBroken as broken:
            raise _refusal(broken) from broken
        func = _HANDLERS.get(envelope.type)
        if func is None:
            raise Refusal("wrong_phase", f"{envelope.type} is not accepted in {state.phase}")
        func(self, state, envelope, author)

    def _check_manifest(self, state: ElectionRecordState, envelope: Envelope) -> None:
        if envelope.type != "manifest":
            raise Refusal("unknown_election", "post the manifest first")
        body = envelope.body
        if set(body) != {"manifest"}:
            raise Refusal("bad_body", 'a manifest entry is {"manifest": …}')
        try:
            manifest = Manifest.from_json(body["manifest"])
            if not self.allow_test_groups:
                manifest.check_production()
        except DecodeError as exc:
            raise Refusal("bad_body", f"manifest: {exc}") from exc
        if manifest.election_id != envelope.election:
            raise Refusal("election_mismatch", "the manifest names another election id")
        if envelope.author != "admin":
            raise Refusal("unauthorised_signer", "the manifest is posted by the admin")
        if self.admin_keys is not None and manifest.admin_key not in self.admin_keys:
            raise Refusal("unauthorised_signer", "this board opens no election of this admin key")
        if self.board_key is not None and manifest.board_key != self.board_key:
            raise Refusal("other_board", "the manifest names another board's key")
        try:
            verify_envelope(
                envelope, Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.admin_key))
            )
        except VerificationError as exc:
            raise Refusal("bad_signature", str(exc)) from exc

    def _phase(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        """Order and preconditions: `EntryOrder` (checked before every handler)."""

    def _dkg(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.dkg is not None and state.group is not None
        try:
            msg = decode_message(dict(envelope.body), state.group)
        except DecodeError as exc:
            raise Refusal("bad_body", f"dkg: {exc}") from exc
        try:
            state.dkg.check(msg)
        except PeerProtocolError as exc:
            code = "wrong_phase" if exc.step.startswith("DKG4") else "bad_body"
            raise Refusal(code, f"dkg: {exc}") from exc

    def _dkg_round(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.dkg is not None
        round_ = envelope.body.get("round")
        if set(envelope.body) != {"v", "round"} or type(round_) is not int:
            raise Refusal("bad_body", 'a dkg_round body is {"v": 1, "round": r}')
        try:
            state.dkg.check_close(round_)
        except PeerProtocolError as exc:
            raise Refusal("wrong_phase", f"dkg_round: {exc}") from exc

    def _joint_key(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.dkg is not None and state.group is not None
        try:
            state.dkg.check_close(CLOSED)
        except PeerProtocolError as exc:
            raise Refusal("wrong_phase", f"the ceremony is not over: {exc}") from exc
        try:
            outcome = state.dkg.outcome()
        except CeremonyFailed as exc:
            raise Refusal("wrong_phase", f"the ceremony cannot finish: {exc}") from exc
        expected = _joint_key_body(outcome)
        if dict(envelope.body) != expected:
            raise Refusal("bad_body", "the joint key differs from the ceremony's outcome")

    def _ballot(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None and state.pk is not None
        body = envelope.body
        if set(body) != {"v", "ballot", "attestation"}:
            raise Refusal("bad_body", "a ballot entry is {v, ballot, attestation}")
        m = state.manifest
        if outside_voting_period(m.voting_start, m.voting_end, self.clock()) is not None:
            raise Refusal(
                "outside_voting_period", f"voting is open from {m.voting_start} to {m.voting_end}"
            )
        if state.is_prechecked(envelope):
            row_json = body["ballot"]["row"]
        else:
            ballot = check_ballot(state.group, state.manifest, state.fingerprint, state.pk, body)
            row_json = elgamal.row_to_json(ballot.row)
        try:
            rules.check_fresh_ciphertexts(rules.ciphertext_keys(row_json), state.b_values)
        except RuleBroken as broken:
            raise _refusal(broken) from broken

    def _mix_input(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None
        body = envelope.body
        if set(body) != {"v", "entries", "contests"}:
            raise Refusal("bad_body", "a mix input is {v, entries, contests}")
        indices, rows = mix_input_of(state)
        if not rows:
            raise Refusal("wrong_phase", "no ballots to mix")
        if body["entries"] != indices or body["contests"] != rules.contest_lists_json(
            state.manifest, rows
        ):
            raise Refusal(
                "bad_body",
                "the mix input is not each contest's part of the last ballot of every voter",
            )

    def _shuffle(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None
        size = state.current_size()
        shapes = [(c.id, size, c.width) for c in state.manifest.contests]
        try:
            decode_shuffle(state.group, dict(envelope.body), shapes)
        except DecodeError as exc:
            code = "element_not_in_group" if "element" in str(exc) else "bad_body"
            raise Refusal(code, f"shuffle: {exc}") from exc

    def _share(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None
        size = state.current_size()
        try:
            values = share_entry_values(envelope.body, [c.id for c in state.manifest.contests])
            for contest, value in zip(state.manifest.contests, values):
                share = DecryptionShare.from_json_value(value, state.group)
                if share.trustee != author.index:
                    raise DecodeError("a share names another trustee")
                if len(share.factors) != size * contest.width:
                    raise DecodeError(
                        f"contest {contest.id}: one factor per ciphertext of the last shuffle"
                    )
        except DecodeError as exc:
            raise Refusal("bad_body", f"share: {exc}") from exc

    def _result(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.manifest is not None
        if set(envelope.body) != {"v", "trustees", "plaintexts", "tally"}:
            raise Refusal("bad_body", "a result is {v, trustees, plaintexts, tally}")
        try:
            rules.check_published_rows(state.manifest, envelope.body["plaintexts"])
        except RuleBroken as broken:
            raise _refusal(broken) from broken

    # ---------------------------------------------------------------- on_accept
    def on_accept(self, state: ElectionRecordState, envelope: Envelope, index: int) -> None:
        state.size = index + 1
        state.counts[envelope.type] = state.counts.get(envelope.type, 0) + 1
        body = envelope.body
        if envelope.type != "manifest" and state.order is not None:
            state.order.accept(envelope.type, state.authors[envelope.author].index, body)
        if envelope.type == "manifest":
            manifest = Manifest.from_json(body["manifest"])
            state.manifest = manifest
            state.group = manifest.group_object()
            state.fingerprint = manifest.fingerprint()
            state.phase = PHASES[0]
            key = Ed25519PublicKey.from_public_bytes
            state.authors = {
                "admin": _Author(key(bytes.fromhex(manifest.admin_key)), "admin"),
                "registrar": _Author(key(bytes.fromhex(manifest.registrar_key)), "registrar"),
            }
            for t in manifest.trustees:
                state.authors[t.id] = _Author(key(bytes.fromhex(t.signing_key)), "trustee", t.index)
            for m in manifest.mix_servers:
                state.authors[m.id] = _Author(key(bytes.fromhex(m.signing_key)), "mix", m.position)
            state.dkg = PublicRecord(ceremony_config(manifest))
            state.order = EntryOrder(len(manifest.mix_servers), manifest.threshold)
        elif envelope.type == "phase":
            state.phase = body["phase"]
        elif envelope.type == "dkg":
            assert state.dkg is not None and state.group is not None
            state.dkg.append(decode_message(dict(body), state.group))
        elif envelope.type == "dkg_round":
            assert state.dkg is not None
            state.dkg.close(body["round"])
        elif envelope.type == "joint_key":
            assert state.group is not None and state.dkg is not None
            if not state.dkg.closed:  # a second one (a cheating board) changes nothing
                state.dkg.close(CLOSED)
            state.pk = state.group.element_from_hex(body["pk"])
        elif envelope.type == "ballot":
            assert state.manifest is not None
            if state.is_prechecked(envelope):
                del state.prechecked[id(envelope)]
            row_json = body["ballot"]["row"]
            pseudonym = bytes.fromhex(body["attestation"]["pseudonym"])
            state.ballots += 1
            state.b_values.update(rules.ciphertext_keys(row_json))
            previous = state.last_ballot.get(pseudonym)
            if previous is not None:
                state.superseded += 1
                if not rules.later_ballot_counts(state.manifest.revote):
                    return
                del state.rows[previous]
            state.last_ballot[pseudonym] = index
            state.rows[index] = row_json
        elif envelope.type == "mix_input":
            state.mix_input = mix_input_of(state)[1]
        elif envelope.type == "shuffle":
            state.shuffle_sizes.append(len(body["contests"][0]["outputs"]))
        elif envelope.type == "decryption_share":
            state.shares[int(body["trustee"])] = index


def check_ballot_only(
    group: Group, manifest: Manifest, fingerprint: bytes, pk: Element, ballot_json: Any
) -> Ballot:
    """`rules.check_ballot_alone` (the ballot without its attestation); raises `Refusal`."""
    try:
        return rules.check_ballot_alone(group, manifest, fingerprint, pk, ballot_json)
    except RuleBroken as broken:
        raise _refusal(broken) from broken


def check_ballot(
    group: Group, manifest: Manifest, fingerprint: bytes, pk: Element, body: Any
) -> Ballot:
    """The stateless checks of a ballot entry's body (`rules.check_ballot_body`); raises
    `Refusal`. Safe to run anywhere."""
    try:
        return rules.check_ballot_body(group, manifest, fingerprint, pk, body)[0]
    except RuleBroken as broken:
        raise _refusal(broken) from broken


def _joint_key_body(outcome: Any) -> dict[str, Any]:
    return {
        "v": BODY_VERSION,
        "pk": outcome.pk.to_hex(),
        "verification_keys": [
            outcome.verification_keys[j].to_hex() for j in sorted(outcome.verification_keys)
        ],
        "qualified": list(outcome.qualified),
    }


def joint_key_body(outcome: Any) -> dict[str, Any]:
    """The body of the joint_key entry for a DKG outcome (what the admin posts)."""
    return _joint_key_body(outcome)


#: entry type → its own checks, after `EntryOrder` (who, when, in which order)
_HANDLERS = {
    "phase": ElectionPolicy._phase,
    "dkg": ElectionPolicy._dkg,
    "dkg_round": ElectionPolicy._dkg_round,
    "joint_key": ElectionPolicy._joint_key,
    "ballot": ElectionPolicy._ballot,
    "mix_input": ElectionPolicy._mix_input,
    "shuffle": ElectionPolicy._shuffle,
    "decryption_share": ElectionPolicy._share,
    "result": ElectionPolicy._result,
}
