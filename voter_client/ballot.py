"""Ballot building: from a voter's choices to an encrypted, proven ballot (pure; no I/O).

Choices per contest (`docs/record.md` §3 for the row layout, `election.counting` for validity):

- single: an option id, or None for an explicit blank;
- k_of_n: a list of distinct option ids (empty for blank);
- ranked: a list in order of preference; an item may be a list of option ids that share a rank
  when the contest allows ties (then the next rank skips, "1224"); empty for blank.

Invalid choices raise `InvalidChoice` before anything is encrypted, so nothing leaves the
device. The row that is encrypted is checked once more with `election.counting.classify`, the
verifier's own counting rule, so a ballot the client accepts is never counted as invalid.

`audit_record` writes the Benaloh audit file of docs/record.md §9: the choices and the
randomness of a ballot the voter decided to check instead of casting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from election.counting import BLANK, INVALID, classify
from election.entries import Ballot
from election.manifest import Contest, Manifest
from mixnet import elgamal
from mixnet.encoding import canonical_json
from mixnet.groups import Element, Scalar
from mixnet.rng import RandomSource, system_random

__all__ = [
    "AUDIT_FORMAT",
    "EncryptedBallot",
    "InvalidChoice",
    "audit_record",
    "contest_slots",
    "describe_choices",
    "encrypt_ballot",
    "plaintext_row",
    "tracking_code",
]

AUDIT_FORMAT = "tohyo-ballot-audit/1"

Choice = str | None | Sequence[Any]


class InvalidChoice(ValueError):
    """The choices break the contest's rules; the message says how, in plain words, and
    `why` names the broken rule (with `n`, its number) for words in another language."""

    def __init__(self, message: str, why: str = "", n: int = 0) -> None:
        self.why, self.n = why, n
        super().__init__(message)


def _number(contest: Contest, option_id: object) -> int:
    for i, option in enumerate(contest.options):
        if option.id == option_id:
            return i + 1
    raise InvalidChoice(f"{contest.title}: there is no option {option_id!r}", "no_option")


def contest_slots(contest: Contest, choice: Choice) -> list[int]:
    """The slot values of one contest for `choice` (see the module docstring)."""
    n = len(contest.options)
    if contest.rule == "single":
        if isinstance(choice, list | tuple):
            if len(choice) > 1:
                raise InvalidChoice(f"{contest.title}: choose one option only", "one_only")
            choice = choice[0] if choice else None
        slots = [0 if choice is None else _number(contest, choice)]
    elif contest.rule == "k_of_n":
        if choice is None:
            choice = []
        if isinstance(choice, str):
            choice = [choice]
        numbers = [_number(contest, c) for c in choice]
        if len(set(numbers)) != len(numbers):
            raise InvalidChoice(f"{contest.title}: an option is chosen twice", "twice")
        if len(numbers) > contest.max_choices:
            raise InvalidChoice(
                f"{contest.title}: choose at most {contest.max_choices}",
                "at_most",
                contest.max_choices,
            )
        if 0 < len(numbers) < contest.min_choices:
            raise InvalidChoice(
                f"{contest.title}: choose at least {contest.min_choices}",
                "at_least",
                contest.min_choices,
            )
        slots = sorted(numbers) + [0] * (contest.width - len(numbers))
    else:  # ranked
        if choice is None:
            choice = []
        ranks = [0] * n
        rank = 1
        seen = 0
        for item in choice:
            group = [item] if isinstance(item, str) else list(item)
            if not group:
                continue
            if len(group) > 1 and not contest.allow_ties:
                raise InvalidChoice(
                    f"{contest.title}: two options cannot share a rank", "shared_rank"
                )
            for option_id in group:
                k = _number(contest, option_id)
                if ranks[k - 1]:
                    raise InvalidChoice(f"{contest.title}: an option is ranked twice", "twice")
                ranks[k - 1] = rank
            seen += len(group)
            rank += len(group)
        if seen > contest.max_choices:
            raise InvalidChoice(
                f"{contest.title}: rank at most {contest.max_choices} options",
                "at_most",
                contest.max_choices,
            )
        if 0 < seen < contest.min_choices:
            raise InvalidChoice(
                f"{contest.title}: rank at least {contest.min_choices} options",
                "at_least",
                contest.min_choices,
            )
        slots = ranks
    if not any(slots) and not contest.allow_blank:
        raise InvalidChoice(
            f"{contest.title}: a blank vote is not allowed in this contest", "no_blank"
        )
    verdict = classify(contest, slots)
    if verdict == INVALID or (verdict == BLANK and not contest.allow_blank):
        raise InvalidChoice(f"{contest.title}: these choices would not count")
    return slots


def plaintext_row(manifest: Manifest, choices: Mapping[str, Choice]) -> list[int]:
    """The whole plaintext row: every contest's slots, in manifest order.

    A contest missing from `choices` is a blank (refused where blanks are not allowed).
    """
    unknown = set(choices) - {c.id for c in manifest.contests}
    if unknown:
        raise InvalidChoice(f"no contest {sorted(unknown)[0]!r} in this election")
    row: list[int] = []
    for contest in manifest.contests:
        row += contest_slots(contest, choices.get(contest.id))
    return row


@dataclass(frozen=True)
class EncryptedBallot:
    """A ballot ready to be signed by the card, with what an audit would reveal."""

    ballot: Ballot
    plaintext: tuple[int, ...]
    randomness: tuple[Scalar, ...] = field(repr=False)
    ballot_key: Ed25519PrivateKey = field(repr=False)


def encrypt_ballot(
    manifest: Manifest,
    pk: Element,
    choices: Mapping[str, Choice],
    rng: RandomSource = system_random,
) -> EncryptedBallot:
    """Check the choices, encrypt the row under `pk`, prove it, sign with a fresh ballot key."""
    row_values = plaintext_row(manifest, choices)
    row, randomness = elgamal.encrypt_row(pk, row_values, rng)
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    ballot = Ballot.create(manifest.fingerprint(), pk, row, randomness, key, rng)
    return EncryptedBallot(ballot, tuple(row_values), tuple(randomness), key)


def tracking_code(ballot: Mapping[str, Any]) -> str:
    """The short code a voter sees for one encrypted ballot (JSON, as cast) on the review page,
    on the receipt and in the receipt check: 12 hex digits of its hash, in groups of four."""
    digest = hashlib.sha256(b"tohyo tracking code\x00" + canonical_json(dict(ballot))).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 12, 4))


def audit_record(manifest: Manifest, pk: Element, encrypted: EncryptedBallot) -> dict[str, Any]:
    """The Benaloh audit file (docs/record.md §9) for a ballot that will NOT be cast."""
    return {
        "format": AUDIT_FORMAT,
        "manifest": manifest.to_json(),
        "fingerprint": manifest.fingerprint().hex(),
        "pk": pk.to_hex(),
        "row": elgamal.row_to_json(encrypted.ballot.row),
        "randomness": [r.to_hex() for r in encrypted.randomness],
        "choices": list(encrypted.plaintext),
    }


def describe_choices(manifest: Manifest, choices: Mapping[str, Choice]) -> list[str]:
    """One line per contest in plain words, for the review screen."""
    lines = []
    row = plaintext_row(manifest, choices)
    for contest, part in manifest.contest_slices():
        slots = row[part]
        names = {i + 1: o.name for i, o in enumerate(contest.options)}
        if not any(slots):
            lines.append(f"{contest.title}: blank (白票)")
        elif contest.rule == "ranked":
            order = sorted((r, names[i + 1]) for i, r in enumerate(slots) if r)
            lines.append(f"{contest.title}: " + ", ".join(f"{r}. {n}" for r, n in order))
        else:
            lines.append(f"{contest.title}: " + ", ".join(names[v] for v in slots if v))
    return lines
