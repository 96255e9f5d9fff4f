"""`tohyo verify ballot FILE`: check one Benaloh-audited (spoiled) ballot (docs/record.md §9).

The voter's device revealed the randomness of a ballot the voter chose to audit instead of
casting. Anyone can re-encrypt the claimed choices with it and compare with the ballot row the
device committed to; a device that encrypted something else is caught. The election (manifest
and joint key) comes from the board, read from the pinned fingerprint
(`verifier.fetch.pinned_board`), never from the file the device wrote: a device that encrypts
under a key of its own is caught too (A5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from election.counting import BLANK, INVALID, Vote, classify
from election.manifest import Contest, Manifest
from mixnet import elgamal
from mixnet.encoding import hex_to_int, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element

__all__ = ["AUDIT_FORMAT", "AuditResult", "describe_choices", "verify_audit"]

AUDIT_FORMAT = "tohyo-ballot-audit/1"
FIELDS = {"format", "manifest", "fingerprint", "pk", "row", "randomness", "choices"}


@dataclass(frozen=True)
class AuditResult:
    manifest: Manifest
    choices: tuple[int, ...]
    words: tuple[str, ...]  # one line per contest


def _choice_words(contest: Contest, slots: list[int]) -> str:
    head = f"{contest.id} ({contest.title}): "
    vote = classify(contest, slots)
    if vote == BLANK:
        return head + "blank"
    if vote == INVALID:
        return head + f"INVALID (slot values {slots})"
    assert isinstance(vote, Vote)
    names = [o.name for o in contest.options]
    if contest.rule in ("single", "k_of_n"):
        return head + ", ".join(names[o - 1] for o in vote.chosen)
    ranked = sorted((r, i) for i, r in enumerate(vote.ranks) if r)
    return head + ", ".join(f"{r}. {names[i]}" for r, i in ranked)


def describe_choices(manifest: Manifest, choices: list[int]) -> tuple[str, ...]:
    return tuple(_choice_words(c, choices[part]) for c, part in manifest.contest_slices())


def verify_audit(data: bytes, manifest: Manifest, pk: Element) -> AuditResult:
    """Raise `VerificationError` (A1–A5, docs/record.md §9) or return the plain-words choices.

    `manifest` and `pk` are the election's, as read from the board from the pinned
    fingerprint; the file's own copies must be the same."""
    try:
        obj: Any = parse_canonical_json(data.removesuffix(b"\n"))
    except DecodeError as exc:
        raise VerificationError("A1 format", f"not canonical JSON: {exc}") from exc
    if not isinstance(obj, dict) or set(obj) != FIELDS or obj["format"] != AUDIT_FORMAT:
        raise VerificationError(
            "A1 format",
            f"an audit file is {AUDIT_FORMAT} with the fields " + ", ".join(sorted(FIELDS)),
        )
    try:
        claimed = Manifest.from_json(obj["manifest"])
    except DecodeError as exc:
        raise VerificationError("A2 manifest", str(exc)) from exc
    if claimed.fingerprint().hex() != obj["fingerprint"]:
        raise VerificationError("A2 manifest", "the fingerprint is not the manifest's")
    if claimed.fingerprint() != manifest.fingerprint():
        raise VerificationError(
            "A2 manifest", "the device's ballot is for another election than the one pinned"
        )
    try:
        group = manifest.group_object()
        claimed_pk = group.element_from_hex(obj["pk"])
        row = elgamal.row_from_json(group, obj["row"], manifest.width)
        rs = obj["randomness"]
        choices = obj["choices"]
        if not isinstance(rs, list) or len(rs) != manifest.width:
            raise DecodeError(f"randomness: {manifest.width} scalars")
        r_values = [hex_to_int(r, group.scalar_bytes) for r in rs]
        if any(r >= group.order for r in r_values):
            raise DecodeError("randomness: a scalar ≥ q")
        if (
            not isinstance(choices, list)
            or len(choices) != manifest.width
            or any(not isinstance(c, int) or isinstance(c, bool) or c < 0 for c in choices)
        ):
            raise DecodeError(f"choices: {manifest.width} non-negative integers")
    except DecodeError as exc:
        raise VerificationError("A3 decode", str(exc)) from exc
    if claimed_pk != pk:
        raise VerificationError(
            "A5 joint key",
            "the device encrypted under a key that is not the election's joint key on the board",
        )
    g = group.generator()
    for j, (ct, r, m) in enumerate(zip(row, r_values, choices)):
        if g**r != ct.b:
            raise VerificationError("A4 re-encryption", f"slot {j}: b ≠ g^r")
        if group.encode_message(m) * pk**r != ct.a:
            raise VerificationError(
                "A4 re-encryption",
                f"slot {j}: the ballot does not encrypt the claimed choice {m}",
            )
    return AuditResult(manifest, tuple(choices), describe_choices(manifest, list(choices)))
