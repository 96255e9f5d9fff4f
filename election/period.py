"""The voting period: when a ballot may be taken (docs/record.md §2, docs/jpki.md §5.1).

One rule, applied by three parties with their own notion of "when":

- the registrar (R0) and the board (its election policy) refuse a ballot when their clock is
  outside [voting_start − CLOCK_TOLERANCE, voting_end + CLOCK_TOLERANCE];
- the verifier (V8) takes, for each ballot entry, the timestamp of the first tree head the
  board signed that includes it, and applies the same rule with `HEAD_DELAY` more at the end
  (the head is signed after the commit that holds the entry, a moment after the check).

Pure: time is always a parameter.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence

__all__ = [
    "CLOCK_TOLERANCE",
    "HEAD_DELAY",
    "VOTING_CLOSED",
    "VOTING_NOT_OPEN",
    "covering_head_times",
    "outside_voting_period",
]

#: how far the registrar's and the board's clocks may be from the official time
CLOCK_TOLERANCE = dt.timedelta(minutes=2)
#: how long after its check a ballot's commit may be signed into a tree head
HEAD_DELAY = dt.timedelta(minutes=1)

VOTING_NOT_OPEN = "voting-not-open"
VOTING_CLOSED = "voting-closed"


def outside_voting_period(
    voting_start: dt.datetime,
    voting_end: dt.datetime,
    when: dt.datetime,
    *,
    extra: dt.timedelta = dt.timedelta(0),
) -> str | None:
    """None when `when` lies in the voting period (give or take `CLOCK_TOLERANCE`, and
    `extra` more after its end); else `VOTING_NOT_OPEN` or `VOTING_CLOSED`.

    `when` must carry its offset: a naive time is refused (ValueError), never guessed."""
    if when.tzinfo is None:
        raise ValueError("a time without an offset cannot be placed in the voting period")
    if when < voting_start - CLOCK_TOLERANCE:
        return VOTING_NOT_OPEN
    if when > voting_end + CLOCK_TOLERANCE + extra:
        return VOTING_CLOSED
    return None


def covering_head_times(
    heads: Iterable[tuple[int, int]], indices: Sequence[int]
) -> dict[int, dt.datetime]:
    """For each entry index, the time (UTC) of the first signed tree head that includes it.

    `heads`: (tree_size, timestamp in ms) of the signed heads. An index no head covers is left
    out."""
    ordered = sorted(heads)
    sizes = [size for size, _ in ordered]
    out = {}
    for index in indices:
        at = bisect.bisect_right(sizes, index)  # first head with tree_size > index
        if at < len(ordered):
            out[index] = dt.datetime.fromtimestamp(ordered[at][1] / 1000, dt.UTC)
    return out
