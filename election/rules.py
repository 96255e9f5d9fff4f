"""The election's acceptance rules, written once (docs/record.md §4.9–§7, docs/protocol.md §6.3).

Pure functions and one small state machine, no I/O. Every party that applies a rule calls it
here: the board's policy (`election.policy`, and its ballot prechecks in worker processes), the
administrator's tally (`trustees.coordinator`), the verifier (`verifier.steps` V4, V8, V9, V11,
V12) and the simulations (`simulations.audit`, `simulations.world`). A broken rule raises
`RuleBroken`, which carries both names of the fault: the board's refusal `code`
(docs/board.md §5) and the verifier's `check` id (docs/record.md §7), so the board refuses
exactly what the verifier would reject, and says so in the words of each.

The rules:

- **who posts what, when** (`POSTER`, `EntryOrder`): the role that may post each entry type
  in each phase; phases move one step at a time, each with its precondition; the joint key,
  the mix input and the result once; mix servers in order; one decryption share per trustee,
  its own; the result after t shares.
- **a ballot** (`check_ballot_body`, `check_fresh_ciphertexts`): decodes with every element in
  the group, the registrar's attestation for this ballot hash, the proof of knowledge bound to
  the election and the ballot key, the ballot key's signature; no ciphertext (its b = g^r)
  repeated within the ballot, nor one already posted by an earlier ballot.
- **re-voting** (`later_ballot_counts`, `counted_ballots`): the manifest says whether the last
  or the first ballot of a pseudonym counts.
- **one list per contest** (`contest_lists`): the mix input holds, for each contest, that
  contest's slice of every counted ballot; each list is mixed, decrypted and published on its
  own, so nothing links one voter's choices across contests.
- **plaintexts** (`slot_value`, `contest_decoder`): a decrypted slot is its value when it is
  the encoding of 0 ≤ v < bound, else the marker `INVALID_SLOT`; a contest row whose slots are
  not a valid or blank choice is published as the marker in every one of its slots. Never
  raises, whatever the element.
- **counting** (`check_published_rows`, `count_plaintexts`): the published rows of each
  contest counted with `election.counting`; a marker counts the row as invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from bulletin_board.policy import PHASES
from election.counting import INVALID, classify, count_contest
from election.entries import BODY_VERSION, Ballot
from election.manifest import Contest, Manifest
from jpki.registrar import Attestation, verify_attestation
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group

__all__ = [
    "INVALID_SLOT",
    "NEEDS",
    "ONCE",
    "POSTER",
    "EntryOrder",
    "RuleBroken",
    "check_ballot_alone",
    "check_ballot_body",
    "check_fresh_ciphertexts",
    "check_published_rows",
    "ciphertext_keys",
    "contest_decoder",
    "contest_lists",
    "contest_lists_json",
    "count_plaintexts",
    "counted_ballots",
    "later_ballot_counts",
    "message_bound",
    "plaintext_row",
    "poster_of",
    "published_plaintexts",
    "row_decoder",
    "slot_value",
]

T = TypeVar("T")
R = TypeVar("R", bound=Sequence[Any])


class RuleBroken(Exception):
    """A rule of the election does not hold: `code` is the board's refusal code, `check` the
    verifier's check id, `detail` says what for humans."""

    def __init__(self, code: str, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.code, self.check, self.detail = code, check, detail


# ---------------------------------------------------------------- who posts what, when

#: (phase, entry type) → the one role that may post it; `phase` entries: the admin, any phase
POSTER: dict[tuple[str, str], str] = {
    ("key_ceremony", "dkg"): "trustee",
    # the administrator's signed end of a ceremony round; its body and handler come with the
    # key ceremony's redesign (trustees/dkg.py, election/policy.py `_dkg_round`)
    ("key_ceremony", "dkg_round"): "admin",
    ("key_ceremony", "joint_key"): "admin",
    ("voting", "ballot"): "registrar",
    ("closed", "mix_input"): "admin",
    ("mixing", "shuffle"): "mix",
    ("decrypting", "decryption_share"): "trustee",
    ("decrypting", "result"): "admin",
}
#: entry types an election holds at most once
ONCE = frozenset({"joint_key", "mix_input", "result"})
#: phase → the entry that must be on the record before the election moves to it
NEEDS = {"voting": "joint_key", "mixing": "mix_input", "tallied": "result"}
#: entry types whose body has no format version `v` (their own formats carry one)
UNVERSIONED = frozenset({"phase", "dkg"})


def poster_of(phase: str, entry_type: str) -> str | None:
    """The role that may post `entry_type` in `phase`, or None: not accepted then."""
    return "admin" if entry_type == "phase" else POSTER.get((phase, entry_type))


@dataclass
class EntryOrder:
    """The order rules over a record's entries after the manifest, one entry at a time:
    `check` (raises `RuleBroken`, changes nothing) then `accept`. The board's policy keeps one
    per election; the verifier replays the record through one (step V4)."""

    mixers: int
    threshold: int
    phase: str = PHASES[0]
    seen: dict[str, int] = field(default_factory=lambda: {"manifest": 1})
    next_mixer: int = 1
    shares: set[int] = field(default_factory=set)

    def check(self, entry_type: str, role: str, index: int, body: Mapping[str, Any]) -> None:
        """`role` and `index` are the author's, from the manifest."""
        role_needed = poster_of(self.phase, entry_type)
        if role_needed is None:
            raise RuleBroken(
                "wrong_phase", "V4.phase", f"{entry_type} is not accepted in {self.phase}"
            )
        if role != role_needed:
            raise RuleBroken(
                "unauthorised_signer", "V4.role", f"a {role} may not post {entry_type}"
            )
        if entry_type == "phase":
            self._check_move(body)
            return
        if entry_type not in UNVERSIONED and body.get("v") != BODY_VERSION:
            raise RuleBroken("bad_body", "V4.body", f"body version must be {BODY_VERSION}")
        if entry_type in ONCE and entry_type in self.seen:
            raise RuleBroken("duplicate_entry", "V4.duplicate", f"a second {entry_type} entry")
        if entry_type == "dkg" and body.get("sender") != index:
            raise RuleBroken(
                "unauthorised_signer", "V4.sender", "a trustee posts only its own DKG messages"
            )
        if entry_type == "shuffle" and (index != self.next_mixer or body.get("position") != index):
            raise RuleBroken(
                "wrong_phase", "V4.mix_order", f"it is mix server {self.next_mixer}'s turn"
            )
        if entry_type == "decryption_share":
            if body.get("trustee") != index:
                raise RuleBroken(
                    "unauthorised_signer", "V4.sender", "a trustee posts only its own share"
                )
            if index in self.shares:
                raise RuleBroken(
                    "duplicate_entry", "V4.duplicate", "this trustee's share is already posted"
                )
        if entry_type == "result" and len(self.shares) < self.threshold:
            raise RuleBroken(
                "wrong_phase",
                "V4.phase_order",
                f"fewer than t = {self.threshold} shares before the result",
            )

    def _check_move(self, body: Mapping[str, Any]) -> None:
        target = body.get("phase")
        if set(body) != {"phase"} or target not in PHASES:
            raise RuleBroken("bad_body", "V4.body", 'a phase body is {"phase": name}')
        if PHASES.index(target) != PHASES.index(self.phase) + 1:
            raise RuleBroken(
                "wrong_phase", "V4.phase_order", f"{self.phase} cannot move to {target}"
            )
        if target in NEEDS and NEEDS[target] not in self.seen:
            raise RuleBroken(
                "wrong_phase", "V4.phase_order", f"{target} before the {NEEDS[target]} entry"
            )
        if target == "decrypting" and self.next_mixer <= self.mixers:
            raise RuleBroken(
                "wrong_phase",
                "V4.phase_order",
                "decrypting before every mix server posted its shuffle",
            )

    def accept(self, entry_type: str, index: int, body: Mapping[str, Any]) -> None:
        """Record an entry that passed `check` (and the entry type's own checks)."""
        self.seen[entry_type] = self.seen.get(entry_type, 0) + 1
        if entry_type == "phase":
            self.phase = body["phase"]
        elif entry_type == "shuffle":
            self.next_mixer += 1
        elif entry_type == "decryption_share":
            self.shares.add(index)


# ---------------------------------------------------------------- ballots


def ciphertext_keys(row_json: Sequence[Any]) -> list[bytes]:
    """What must be unique across an election's ballots: the b (= g^r) of every ciphertext of a
    row, as posted (fixed-width lowercase hex, so equal elements give equal keys)."""
    return [bytes.fromhex(pair[1]) for pair in row_json]


def check_fresh_ciphertexts(keys: Sequence[bytes], posted: Container[bytes]) -> None:
    """No ciphertext repeated within the ballot, none already posted by an earlier ballot."""
    if len(set(keys)) != len(keys):
        raise RuleBroken(
            "duplicate_ciphertext",
            "V8.repeated_ciphertext",
            "two slots of the ballot share one ciphertext (one randomness)",
        )
    for k in keys:
        if k in posted:
            raise RuleBroken(
                "duplicate_ciphertext",
                "V8.duplicate_ciphertext",
                "a ciphertext of this ballot is already posted",
            )


def check_ballot_alone(
    group: Group, manifest: Manifest, fingerprint: bytes, pk: Element, ballot_json: Any
) -> Ballot:
    """The checks of a ballot alone: decoding (every element in the group), the proof of
    knowledge bound to the election and the ballot key, the ballot key's signature, no
    ciphertext repeated within the ballot."""
    try:
        ballot = Ballot.from_json(group, ballot_json, manifest.width)
    except DecodeError as exc:
        code = "element_not_in_group" if "element" in str(exc) else "bad_body"
        raise RuleBroken(code, "V8.decode", f"ballot: {exc}") from exc
    try:
        ballot.verify(fingerprint, pk)
    except VerificationError as exc:
        code = "bad_signature" if "signature" in exc.check else "bad_proof"
        raise RuleBroken(code, exc.check, exc.detail) from exc
    check_fresh_ciphertexts(ballot.ciphertext_keys(), ())
    return ballot


def check_ballot_body(
    group: Group, manifest: Manifest, fingerprint: bytes, pk: Element, body: Any
) -> tuple[Ballot, Attestation]:
    """Every check of a ballot entry's body that needs no other entry: its shape,
    `check_ballot_alone`, the registrar's attestation for this ballot hash and its signature."""
    if not isinstance(body, Mapping) or set(body) != {"v", "ballot", "attestation"}:
        raise RuleBroken("bad_body", "V8.body", "a ballot entry is {v, ballot, attestation}")
    ballot = check_ballot_alone(group, manifest, fingerprint, pk, body["ballot"])
    try:
        attestation = Attestation.from_json(body["attestation"])
    except ValueError as exc:
        raise RuleBroken("bad_body", "V8.decode", f"attestation: {exc}") from exc
    if attestation.ballot_hash != ballot.hash(fingerprint):
        raise RuleBroken("bad_body", "V8.attestation_hash", "the attestation is for another ballot")
    try:
        verify_attestation(
            attestation, bytes.fromhex(manifest.registrar_key), election_fingerprint=fingerprint
        )
    except VerificationError as exc:
        raise RuleBroken("bad_signature", exc.check, exc.detail) from exc
    return ballot, attestation


# ---------------------------------------------------------------- re-voting


def later_ballot_counts(revote: str) -> bool:
    """Does a later valid ballot of a pseudonym replace its earlier one (`last_counts`)?"""
    return revote == "last_counts"


def counted_ballots(revote: str, ballots: Iterable[tuple[bytes, T]]) -> list[T]:
    """The ballot that counts for each pseudonym, from (pseudonym, ballot) pairs of valid ballots
    in board order; returned in board order."""
    order: dict[int, T] = {}
    chosen: dict[bytes, int] = {}
    for position, (pseudonym, ballot) in enumerate(ballots):
        previous = chosen.get(pseudonym)
        if previous is not None:
            if not later_ballot_counts(revote):
                continue
            del order[previous]
        chosen[pseudonym] = position
        order[position] = ballot
    return [order[p] for p in sorted(order)]


# ---------------------------------------------------------------- plaintexts and counting

#: what a published plaintext holds for a slot of a contest that is not a valid or blank choice
INVALID_SLOT = "invalid"


def message_bound(manifest: Manifest) -> int:
    """Slot values are 0 … the largest any contest needs; one more is the decoding bound."""
    return max(c.max_slot_value for c in manifest.contests) + 1


def slot_value(group: Group, element: Element, bound: int) -> int | str:
    """The slot value v (0 ≤ v < bound) that `element` encodes, else `INVALID_SLOT`."""
    try:
        value = group.decode_message(element, bound)
    except (DecodeError, ValueError, ArithmeticError):
        return INVALID_SLOT
    return value if 0 <= value < bound else INVALID_SLOT


def _counted(value: int | str) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def plaintext_row(manifest: Manifest, elements: Sequence[Element]) -> list[int | str]:
    """A decrypted full-width row (every contest's slots, in manifest order), each contest
    decoded by `contest_decoder`."""
    return row_decoder(manifest)(elements)


def contest_decoder(
    manifest: Manifest, contest: Contest
) -> Callable[[Sequence[Element]], list[int | str]]:
    """A decrypted row of one contest's list as the result publishes it: its slot values when
    they are a valid or blank choice, else `INVALID_SLOT` in every slot (so an invalid contest
    shows nothing a voter chose: no marker can be read back). The bound is the manifest's
    (`message_bound`), computed once (for `trustees.decryption.combine_shares` and the
    verifier's combination)."""
    bound = message_bound(manifest)

    def decode(elements: Sequence[Element]) -> list[int | str]:
        if not elements:
            return []
        group = elements[0].group
        slots = [slot_value(group, m, bound) for m in elements]
        if classify(contest, [_counted(v) for v in slots]) == INVALID:
            return [INVALID_SLOT] * contest.width
        return slots

    return decode


def row_decoder(manifest: Manifest) -> Callable[[Sequence[Element]], list[int | str]]:
    """`plaintext_row` for one manifest: each contest's slice by its `contest_decoder`."""
    parts = [(contest_decoder(manifest, c), part) for c, part in manifest.contest_slices()]

    def decode(elements: Sequence[Element]) -> list[int | str]:
        if not elements:
            return []
        return [v for dec, part in parts for v in dec(elements[part])]

    return decode


# ---------------------------------------------------------------- one list per contest


def contest_lists(manifest: Manifest, rows: Sequence[R]) -> list[tuple[str, list[R]]]:
    """The mix input's lists (docs/record.md §4.6): for each contest, in manifest order, its
    id and, for every ballot row (full width, in the given order), that contest's slice (of
    the row's own type: a list of JSON pairs, or a tuple of ciphertexts). Each list is mixed
    on its own, so nothing links one voter's choices across contests."""
    return [(c.id, [cast(R, row[part]) for row in rows]) for c, part in manifest.contest_slices()]


def contest_lists_json(manifest: Manifest, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """`contest_lists` as the mix input body holds them: [{"contest": id, "rows": […]}]."""
    return [{"contest": cid, "rows": part} for cid, part in contest_lists(manifest, rows)]


def check_published_rows(manifest: Manifest, plaintexts: Any) -> dict[str, list[list[int | str]]]:
    """The result's plaintexts: one {"contest": id, "rows": […]} per contest, in manifest
    order, each row that contest's width of integers or markers; returned as contest id → rows."""
    out: dict[str, list[list[int | str]]] = {}
    contests = manifest.contests
    if not isinstance(plaintexts, list) or len(plaintexts) != len(contests):
        raise RuleBroken(
            "bad_body", "V12.plaintexts", "plaintexts: one list per contest, in manifest order"
        )
    for contest, part in zip(contests, plaintexts):
        rows = part.get("rows") if isinstance(part, dict) else None
        if (
            not isinstance(part, dict)
            or set(part) != {"contest", "rows"}
            or part["contest"] != contest.id
            or not isinstance(rows, list)
            or any(
                not isinstance(r, list)
                or len(r) != contest.width
                or any(not (_counted(v) is not None or v == INVALID_SLOT) for v in r)
                for r in rows
            )
        ):
            raise RuleBroken(
                "bad_body",
                "V12.plaintexts",
                f"plaintexts of contest {contest.id}: {{contest, rows}}, rows of "
                f'{contest.width} integers or "{INVALID_SLOT}"',
            )
        out[contest.id] = rows
    return out


def published_plaintexts(
    plaintexts: Sequence[tuple[str, Sequence[Sequence[int | str]]]],
) -> list[dict[str, Any]]:
    """The result's plaintexts from the decrypted lists, (contest id, rows) per contest:
    [{"contest": id, "rows": […]}] (what `check_published_rows` reads back)."""
    return [{"contest": c, "rows": [list(r) for r in rows]} for c, rows in plaintexts]


def count_plaintexts(
    manifest: Manifest, plaintexts: Mapping[str, Sequence[Sequence[int | str]]]
) -> dict[str, Any]:
    """The published tally of the published plaintexts (contest id → that contest's rows),
    counted with `election.counting`; a marker makes its row invalid for that contest."""
    return {
        c.id: count_contest(c, [[_counted(v) for v in row] for row in plaintexts[c.id]]).to_json()
        for c in manifest.contests
    }
