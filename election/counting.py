"""Counting rules: from decrypted ballot rows to each contest's result (docs/record.md §6).

Pure functions, no I/O. A decrypted row holds one small integer per slot (the contests' slots
side by side, in manifest order); a slot that did not decode to an integer in range is given
as `None`. Per contest, a row is *valid*, *blank* or *invalid*:

- single: one slot v. v = 0 is blank (invalid unless blanks are allowed); 1 ≤ v ≤ n is a vote
  for option v; anything else is invalid. Result: plurality.
- k_of_n: `max_choices` slots: distinct option numbers in ascending order, then zeros. c = the
  number of non-zero slots; c = 0 is blank; c < min_choices is invalid. Result: approval counts.
- ranked: one slot per option holding its rank 1..n, 0 = unranked. Without ties the ranks used
  are exactly 1..c; with ties (`allow_ties`) they are a standard competition ranking ("1224":
  an option of rank r has exactly r − 1 options ranked before it). c = 0 is blank;
  c < min_choices or c > max_choices is invalid. Result: instant-runoff without ties, Borda
  count (n − r points for rank r, 0 unranked) when ties are allowed.

Invalid rows are counted as invalid, never dropped. Every result is a JSON value of strings,
non-negative integers, lists and objects only, so it can be published on the board and
compared byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from election.manifest import Contest, Manifest

__all__ = [
    "BLANK",
    "INVALID",
    "ContestTally",
    "Vote",
    "classify",
    "count_contest",
    "count_election",
    "instant_runoff",
]

BLANK = "blank"
INVALID = "invalid"

Slot = int | None


@dataclass(frozen=True)
class Vote:
    """A valid, non-blank vote in one contest, in the rule's terms."""

    chosen: tuple[int, ...] = ()  # single, k_of_n: option numbers 1..n
    ranks: tuple[int, ...] = ()  # ranked: the rank of each option, 0 = unranked


def classify(contest: Contest, slots: Sequence[Slot]) -> Vote | str:
    """The vote in `slots` (this contest's part of a row), or BLANK or INVALID."""
    n = len(contest.options)
    if len(slots) != contest.width or any(
        not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= n for v in slots
    ):
        return INVALID
    values = [int(v) for v in slots]  # type: ignore[arg-type]
    nonzero = [v for v in values if v]
    if not nonzero:
        return BLANK if contest.allow_blank else INVALID
    if contest.rule == "single":
        return Vote(chosen=(values[0],))
    if contest.rule == "k_of_n":
        c = len(nonzero)
        if values[:c] != nonzero or any(a >= b for a, b in pairwise(nonzero)):
            return INVALID
        if c < contest.min_choices:
            return INVALID
        return Vote(chosen=tuple(nonzero))
    # ranked
    c = len(nonzero)
    if c < contest.min_choices or c > contest.max_choices:
        return INVALID
    if contest.allow_ties:
        for r in nonzero:
            if sum(1 for x in nonzero if x < r) != r - 1:
                return INVALID
    elif sorted(nonzero) != list(range(1, c + 1)):
        return INVALID
    return Vote(ranks=tuple(values))


@dataclass(frozen=True)
class ContestTally:
    """One contest's result; `to_json` is what the result entry publishes."""

    contest: Contest
    valid: int
    blank: int
    invalid: int
    counts: dict[str, int]  # single, k_of_n: votes; ranked + ties: Borda scores; IRV: round 1
    rounds: tuple[dict[str, int], ...] = ()  # IRV only: continuing options' counts per round
    exhausted: tuple[int, ...] = ()  # IRV only: ballots with no continuing option, per round
    winners: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        if self.contest.rule == "single":
            return "plurality"
        if self.contest.rule == "k_of_n":
            return "approval"
        return "borda" if self.contest.allow_ties else "instant_runoff"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.contest.rule,
            "method": self.method,
            "ballots": self.valid + self.blank + self.invalid,
            "valid": self.valid,
            "blank": self.blank,
            "invalid": self.invalid,
            "counts": dict(self.counts),
            "winners": list(self.winners),
        }
        if self.method == "instant_runoff":
            out["rounds"] = [dict(r) for r in self.rounds]
            out["exhausted"] = list(self.exhausted)
        return out


def _top(scores: dict[str, int]) -> tuple[str, ...]:
    best = max(scores.values(), default=0)
    if best == 0:
        return ()
    return tuple(k for k, v in scores.items() if v == best)


def instant_runoff(
    n: int, ballots: Sequence[Sequence[int]]
) -> tuple[list[dict[int, int]], list[int], int | None]:
    """IRV over option numbers 1..n; each ballot lists its options from first preference on.

    Each round counts every ballot for its highest-ranked continuing option. An option with more
    than half of the ballots still counting wins; else the option with the fewest votes is
    eliminated. Ties for elimination are broken by the counts of the previous rounds, latest
    first, then by eliminating the option that comes last in the manifest. Returns the rounds'
    counts, the exhausted ballots per round and the winner (None when no ballot counts).
    """
    continuing = list(range(1, n + 1))
    rounds: list[dict[int, int]] = []
    exhausted: list[int] = []
    while continuing:
        counts = dict.fromkeys(continuing, 0)
        spent = 0
        for prefs in ballots:
            top = next((o for o in prefs if o in counts), None)
            if top is None:
                spent += 1
            else:
                counts[top] += 1
        rounds.append(counts)
        exhausted.append(spent)
        total = sum(counts.values())
        if total == 0:
            return rounds, exhausted, None
        leader = max(continuing, key=lambda o: (counts[o], -o))
        if 2 * counts[leader] > total or len(continuing) == 1:
            return rounds, exhausted, leader

        def weakness(o: int) -> tuple[int, ...]:
            return (*(r[o] for r in reversed(rounds)), -o)

        continuing.remove(min(continuing, key=weakness))
    return rounds, exhausted, None  # pragma: no cover - the loop always returns


def count_contest(contest: Contest, rows: Sequence[Sequence[Slot]]) -> ContestTally:
    """Count this contest's slots of every row (each `rows[i]` is the contest's slice)."""
    ids = [o.id for o in contest.options]
    n = len(ids)
    valid: list[Vote] = []
    blank = invalid = 0
    for slots in rows:
        v = classify(contest, slots)
        if v == BLANK:
            blank += 1
        elif v == INVALID:
            invalid += 1
        else:
            assert isinstance(v, Vote)
            valid.append(v)
    if contest.rule in ("single", "k_of_n"):
        counts = dict.fromkeys(ids, 0)
        for vote in valid:
            for o in vote.chosen:
                counts[ids[o - 1]] += 1
        winners = _top(counts) if contest.rule == "single" else ()
        return ContestTally(contest, len(valid), blank, invalid, counts, winners=winners)
    if contest.allow_ties:
        scores = dict.fromkeys(ids, 0)
        for vote in valid:
            for i, r in enumerate(vote.ranks):
                if r:
                    scores[ids[i]] += n - r
        return ContestTally(contest, len(valid), blank, invalid, scores, winners=_top(scores))
    prefs = [
        [i + 1 for i in sorted((i for i, r in enumerate(v.ranks) if r), key=lambda i: v.ranks[i])]
        for v in valid
    ]
    rounds, exhausted, winner = instant_runoff(n, prefs)
    named = tuple({ids[o - 1]: c for o, c in r.items()} for r in rounds)
    first = dict.fromkeys(ids, 0) | (dict(named[0]) if named else {})
    return ContestTally(
        contest,
        len(valid),
        blank,
        invalid,
        first,
        rounds=named,
        exhausted=tuple(exhausted),
        winners=(ids[winner - 1],) if winner is not None else (),
    )


def count_election(manifest: Manifest, rows: Sequence[Sequence[Slot]]) -> dict[str, Any]:
    """The published tally: {contest id: ContestTally.to_json()} for every contest.

    Raises `ValueError` if a row is not as wide as the manifest's ballot.
    """
    for i, row in enumerate(rows):
        if len(row) != manifest.width:
            raise ValueError(f"row {i} has {len(row)} slots, the ballot has {manifest.width}")
    return {
        contest.id: count_contest(contest, [row[part] for row in rows]).to_json()
        for contest, part in manifest.contest_slices()
    }
