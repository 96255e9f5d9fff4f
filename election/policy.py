"""The board policy of a manifest-driven election (docs/record.md §5).

Plugs into `bulletin_board` through its `Policy` protocol: the first entry of an election is
the manifest, signed by the admin key it names; from then on every author is a key of the
manifest with its role, the phases move in order, and each entry type is checked against the
manifest, the key ceremony's outcome and what is already on the board:

- setup / manifest / admin: decodes; a production group unless the test flag is set;
- key_ceremony / dkg / trustee i: the DKG message rules, sender = author;
- key_ceremony / joint_key / admin: equals the outcome derived from the DKG messages;
- voting / ballot / registrar: attestation, membership, proof of knowledge bound to the
  election and ballot key, the ballot key's signature, no copied ciphertext;
- closed / mix_input / admin: exactly the last ballot per pseudonym, in board order;
- mixing / shuffle / mix server k, in order: shape and membership (the proof is checked by the
  next mixer and by the verifier, so a bad one is on the record for all to see);
- decrypting / decryption_share / trustee j: shape, sender = author (a share whose proof fails
  is excluded when shares are combined, and named);
- decrypting / result / admin: only after t shares;
- any phase / phase / admin: the next phase in order, with its precondition.

`body_cap` sizes each entry type for the board (docs/board.md §8.1): a ballot by the width of
the manifest's row, the record entries (mix input, shuffles, decryption shares, result) by the
number of rows to mix times that; other types get the board's default cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import Envelope, verify_envelope
from bulletin_board.policy import PHASES, Refusal
from election.entries import BODY_VERSION, Ballot
from election.manifest import Manifest, ceremony_config
from jpki.registrar import Attestation, verify_attestation
from mixnet import elgamal
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group
from mixnet.shuffle import proof as shuffle_proof
from trustees.decryption import DecryptionShare
from trustees.dkg import PublicRecord
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
RECORD_BASE_BYTES = 64 * 1024  # the parts of a shuffle proof that do not grow with the rows
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
        return RECORD_BASE_BYTES + RECORD_CIPHERTEXTS * row * rows
    return None


def mix_input_of(state: ElectionRecordState) -> tuple[list[int], list[Any]]:
    """The last valid ballot per pseudonym, in board order: (entry indices, rows as JSON)."""
    indices = sorted(state.last_ballot.values())
    return indices, [state.rows[i] for i in indices]


def _b_keys(row_json: list[Any]) -> list[bytes]:
    return [bytes.fromhex(pair[1]) for pair in row_json]


def _version(body: Any) -> None:
    if body.get("v") != BODY_VERSION:
        raise Refusal("bad_body", f"body version must be {BODY_VERSION}")


def _rows(group: Group, data: Any, width: int, what: str) -> list[elgamal.Row]:
    if not isinstance(data, list) or not data:
        raise Refusal("bad_body", f"{what}: a non-empty list of rows")
    try:
        return elgamal.rows_from_json(group, data, width)
    except DecodeError as exc:
        code = "element_not_in_group" if "element" in str(exc) else "bad_body"
        raise Refusal(code, f"{what}: {exc}") from exc


class ElectionPolicy:
    """See the module docstring. `allow_test_groups` is for simulations and tests only.

    Authority (docs/board.md §5.1): `admin_keys` (hex) are the administrators whose manifests
    open elections on this board (None: any key; tests only); `board_key` (hex), the board's
    own key, which a manifest must name (None: not checked; tests only).
    """

    def __init__(
        self,
        *,
        allow_test_groups: bool = False,
        admin_keys: Iterable[str] | None = None,
        board_key: str | None = None,
    ) -> None:
        self.allow_test_groups = allow_test_groups
        self.admin_keys = None if admin_keys is None else frozenset(admin_keys)
        self.board_key = board_key

    def initial_state(self, election: str) -> ElectionRecordState:
        return ElectionRecordState(election)

    def accepted_types(self, state: ElectionRecordState) -> frozenset[str]:
        """The entry types the election may accept in its current phase."""
        if state.phase is None:
            return frozenset({"manifest"})
        return frozenset(t for phase, t in _HANDLERS if phase == state.phase)

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
        handler = _HANDLERS.get((state.phase, envelope.type))
        if handler is None:
            raise Refusal("wrong_phase", f"{envelope.type} is not accepted in {state.phase}")
        role, func = handler
        if author.role != role:
            raise Refusal("unauthorised_signer", f"a {author.role} may not post {envelope.type}")
        if envelope.type not in ("phase", "dkg"):
            _version(envelope.body)
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
        target = envelope.body.get("phase")
        if set(envelope.body) != {"phase"} or target not in PHASES:
            raise Refusal("bad_body", 'a phase body is {"phase": name}')
        assert state.phase is not None
        if PHASES.index(target) != PHASES.index(state.phase) + 1:
            raise Refusal("wrong_phase", f"{state.phase} cannot move to {target}")
        manifest = state.manifest
        assert manifest is not None
        if target == "voting" and state.pk is None:
            raise Refusal("wrong_phase", "no joint key yet: the key ceremony is not finished")
        if target == "mixing" and state.mix_input is None:
            raise Refusal("wrong_phase", "post the mix input first")
        if target == "decrypting" and len(state.shuffle_sizes) != len(manifest.mix_servers):
            raise Refusal("wrong_phase", "not every mix server has posted its shuffle")
        if target == "tallied" and "result" not in state.counts:
            raise Refusal("wrong_phase", "post the result first")

    def _dkg(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.dkg is not None and state.group is not None
        try:
            msg = decode_message(dict(envelope.body), state.group)
        except DecodeError as exc:
            raise Refusal("bad_body", f"dkg: {exc}") from exc
        if msg.sender != author.index:
            raise Refusal("unauthorised_signer", "a trustee posts only its own DKG messages")
        try:
            state.dkg.check(msg)
        except PeerProtocolError as exc:
            raise Refusal("bad_body", f"dkg: {exc}") from exc

    def _joint_key(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.dkg is not None and state.group is not None
        if state.pk is not None:
            raise Refusal("duplicate_entry", "the joint key is already posted")
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
        if state.is_prechecked(envelope):
            row_json = body["ballot"]["row"]
        else:
            ballot = check_ballot(state.group, state.manifest, state.fingerprint, state.pk, body)
            row_json = elgamal.row_to_json(ballot.row)
        if any(b in state.b_values for b in _b_keys(row_json)):
            raise Refusal("duplicate_ciphertext", "a ciphertext of this ballot is already posted")

    def _mix_input(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None
        if state.mix_input is not None:
            raise Refusal("duplicate_entry", "the mix input is already posted")
        body = envelope.body
        if set(body) != {"v", "entries", "rows"}:
            raise Refusal("bad_body", "a mix input is {v, entries, rows}")
        indices, rows = mix_input_of(state)
        if not rows:
            raise Refusal("wrong_phase", "no ballots to mix")
        if body["entries"] != indices or body["rows"] != rows:
            raise Refusal("bad_body", "the mix input is not the last ballot of every voter")

    def _shuffle(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None
        body = envelope.body
        if set(body) != {"v", "position", "outputs", "proof"}:
            raise Refusal("bad_body", "a shuffle is {v, position, outputs, proof}")
        expected = len(state.shuffle_sizes) + 1
        if body["position"] != author.index or author.index != expected:
            raise Refusal("wrong_phase", f"it is mix server {expected}'s turn")
        size = state.current_size()
        outputs = _rows(state.group, body["outputs"], state.manifest.width, "outputs")
        if len(outputs) != size:
            raise Refusal("bad_body", "a shuffle outputs as many rows as it takes")
        try:
            shuffle_proof.ShuffleProof.from_json(
                state.group, body["proof"], size, state.manifest.width
            )
        except DecodeError as exc:
            raise Refusal("bad_body", f"proof: {exc}") from exc

    def _share(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.group is not None and state.manifest is not None
        body = envelope.body
        if set(body) != {"v", "share"}:
            raise Refusal("bad_body", "a decryption share entry is {v, share}")
        try:
            share = DecryptionShare.from_json_value(body["share"], state.group)
        except DecodeError as exc:
            raise Refusal("bad_body", f"share: {exc}") from exc
        if share.trustee != author.index:
            raise Refusal("unauthorised_signer", "a trustee posts only its own share")
        if author.index in state.shares:
            raise Refusal("duplicate_entry", "this trustee's share is already posted")
        if len(share.factors) != state.current_size() * state.manifest.width:
            raise Refusal("bad_body", "one factor per ciphertext of the last shuffle")

    def _result(self, state: ElectionRecordState, envelope: Envelope, author: _Author) -> None:
        assert state.manifest is not None
        if len(state.shares) < state.manifest.threshold:
            raise Refusal("wrong_phase", f"fewer than t = {state.manifest.threshold} shares")
        if "result" in state.counts:
            raise Refusal("duplicate_entry", "the result is already posted")
        if set(envelope.body) != {"v", "trustees", "plaintexts", "tally"}:
            raise Refusal("bad_body", "a result is {v, trustees, plaintexts, tally}")

    # ---------------------------------------------------------------- on_accept
    def on_accept(self, state: ElectionRecordState, envelope: Envelope, index: int) -> None:
        state.size = index + 1
        state.counts[envelope.type] = state.counts.get(envelope.type, 0) + 1
        body = envelope.body
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
        elif envelope.type == "phase":
            state.phase = body["phase"]
        elif envelope.type == "dkg":
            assert state.dkg is not None and state.group is not None
            state.dkg.append(decode_message(dict(body), state.group))
        elif envelope.type == "joint_key":
            assert state.group is not None
            state.pk = state.group.element_from_hex(body["pk"])
        elif envelope.type == "ballot":
            assert state.manifest is not None
            if state.is_prechecked(envelope):
                del state.prechecked[id(envelope)]
            row_json = body["ballot"]["row"]
            pseudonym = bytes.fromhex(body["attestation"]["pseudonym"])
            state.ballots += 1
            state.b_values.update(_b_keys(row_json))
            previous = state.last_ballot.get(pseudonym)
            if previous is not None:
                state.superseded += 1
                if state.manifest.revote == "first_counts":
                    return
                del state.rows[previous]
            state.last_ballot[pseudonym] = index
            state.rows[index] = row_json
        elif envelope.type == "mix_input":
            state.mix_input = mix_input_of(state)[1]
        elif envelope.type == "shuffle":
            state.shuffle_sizes.append(len(body["outputs"]))
        elif envelope.type == "decryption_share":
            state.shares[int(body["share"]["trustee"])] = index


def check_ballot_only(
    group: Group, manifest: Manifest, fingerprint: bytes, pk: Element, ballot_json: Any
) -> Ballot:
    """Decode a ballot and check it alone (membership, proof, ballot-key signature)."""
    try:
        ballot = Ballot.from_json(group, ballot_json, manifest.width)
    except DecodeError as exc:
        code = "element_not_in_group" if "element" in str(exc) else "bad_body"
        raise Refusal(code, f"ballot: {exc}") from exc
    try:
        ballot.verify(fingerprint, pk)
    except VerificationError as exc:
        code = "bad_signature" if "signature" in exc.check else "bad_proof"
        raise Refusal(code, str(exc)) from exc
    return ballot


def check_ballot(
    group: Group, manifest: Manifest, fingerprint: bytes, pk: Element, body: Any
) -> Ballot:
    """The stateless checks of a ballot entry's body; raises `Refusal`. Safe to run anywhere."""
    ballot = check_ballot_only(group, manifest, fingerprint, pk, body["ballot"])
    try:
        attestation = Attestation.from_json(body["attestation"])
    except ValueError as exc:
        raise Refusal("bad_body", f"attestation: {exc}") from exc
    if attestation.ballot_hash != ballot.hash(fingerprint):
        raise Refusal("bad_body", "the attestation is for another ballot")
    try:
        verify_attestation(attestation, bytes.fromhex(manifest.registrar_key),
                           election_fingerprint=fingerprint)
    except VerificationError as exc:
        raise Refusal("bad_signature", str(exc)) from exc
    return ballot


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


_HANDLERS = {(phase, "phase"): ("admin", ElectionPolicy._phase) for phase in PHASES} | {
    ("key_ceremony", "dkg"): ("trustee", ElectionPolicy._dkg),
    ("key_ceremony", "joint_key"): ("admin", ElectionPolicy._joint_key),
    ("voting", "ballot"): ("registrar", ElectionPolicy._ballot),
    ("closed", "mix_input"): ("admin", ElectionPolicy._mix_input),
    ("mixing", "shuffle"): ("mix", ElectionPolicy._shuffle),
    ("decrypting", "decryption_share"): ("trustee", ElectionPolicy._share),
    ("decrypting", "result"): ("admin", ElectionPolicy._result),
}
