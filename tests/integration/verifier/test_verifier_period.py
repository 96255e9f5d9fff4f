"""V8.voting_period: a ballot the board signed into its log outside the voting period.

The record's time for a ballot is the timestamp of the first tree head the board signed that
includes it (docs/record.md §7, V8). These records are the exported election with its heads
re-signed by the board's own key at other times: what a board that took a ballot two days
after the period ended would have published.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from election_helpers import Election, ElectionRun

from bulletin_board.entry import decode_envelope
from bulletin_board.log import SignedTreeHead, sign_tree_head
from election.period import CLOCK_TOLERANCE, HEAD_DELAY
from mixnet.encoding import canonical_json, parse_canonical_json
from verifier.record import load_record
from verifier.steps import Options, verify_record


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _with_ballot_signed_at(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path, when: dt.datetime
) -> Path:
    """A copy of the record whose last ballot's first covering head is signed at `when` (and
    every later head no earlier)."""
    el, _, record = election_record
    out = tmp_path / "record"
    shutil.copytree(record, out)
    entries = (out / "entries.jsonl").read_bytes().splitlines()
    last_ballot = max(i for i, e in enumerate(entries) if decode_envelope(e).type == "ballot")
    lines = []
    for line in (out / "tree-heads.jsonl").read_bytes().splitlines():
        sth = SignedTreeHead.from_json(parse_canonical_json(line))
        stamp = max(sth.timestamp, _ms(when)) if sth.tree_size > last_ballot else sth.timestamp
        lines.append(
            canonical_json(
                sign_tree_head(el.board, el.id, sth.tree_size, sth.root_hash, stamp).to_json()
            )
        )
    (out / "tree-heads.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    final = SignedTreeHead.from_json(
        parse_canonical_json((out / "tree-head.json").read_bytes().strip())
    )
    final = sign_tree_head(
        el.board, el.id, final.tree_size, final.root_hash, max(final.timestamp, _ms(when))
    )
    (out / "tree-head.json").write_bytes(canonical_json(final.to_json()) + b"\n")
    return out


@pytest.mark.parametrize(
    ("late", "flagged"),
    [
        (dt.timedelta(days=2), True),  # the ballot, two days after the end
        (CLOCK_TOLERANCE + HEAD_DELAY + dt.timedelta(seconds=1), True),
        (CLOCK_TOLERANCE + HEAD_DELAY, False),  # within the stated tolerance
    ],
)
def test_a_ballot_signed_into_the_log_after_the_period_is_flagged(
    election_record: tuple[Election, ElectionRun, Path],
    tmp_path: Path,
    late: dt.timedelta,
    flagged: bool,
) -> None:
    el = election_record[0]
    record = _with_ballot_signed_at(election_record, tmp_path, el.manifest.voting_end + late)
    report = verify_record(load_record(record), Options(allow_test_groups=True, progress=False))
    v8 = report.step("V8")
    assert report.step("V5").status == "pass"  # the heads are the board's, in order
    if flagged:
        assert (v8.status, v8.check) == ("fail", "V8.voting_period"), v8
        assert "voting-closed" in v8.reason
    else:
        assert v8.status == "pass", v8
        assert report.first_failure is None


def test_a_ballot_signed_into_the_log_before_the_period_is_flagged(
    election_record: tuple[Election, ElectionRun, Path],
    tmp_path: Path,
) -> None:
    """Every head re-signed a day before voting opened (a board that took ballots early)."""
    el, _, record = election_record
    out = tmp_path / "record"
    shutil.copytree(record, out)
    early = _ms(el.manifest.voting_start - dt.timedelta(days=1))
    lines = []
    for line in (out / "tree-heads.jsonl").read_bytes().splitlines():
        sth = SignedTreeHead.from_json(parse_canonical_json(line))
        lines.append(
            canonical_json(
                sign_tree_head(
                    el.board, el.id, sth.tree_size, sth.root_hash, early + sth.tree_size
                ).to_json()
            )
        )
    (out / "tree-heads.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    report = verify_record(load_record(out), Options(allow_test_groups=True, progress=False))
    v8 = report.step("V8")
    assert (v8.status, v8.check) == ("fail", "V8.voting_period"), v8
    assert "voting-not-open" in v8.reason
