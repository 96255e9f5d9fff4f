"""Voting codes: generation for postcards, hashes to keep, normalisation."""

from __future__ import annotations

import csv
import io
import random

import pytest

from jpki.voting_codes import (
    ALPHABET,
    CODE_LENGTH,
    generate_voting_codes,
    hash_voting_code,
    normalize_voting_code,
)


def parse(csv_text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["number", "voting_code"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, len(rows)))
    return [r[1] for r in rows[1:]]


def test_generates_n_distinct_codes_and_only_hashes_to_keep() -> None:
    csv_text, hashes = generate_voting_codes(200)
    codes = parse(csv_text)
    assert len(codes) == 200 == len(set(codes))
    assert len(hashes) == 200 == len(set(hashes))
    assert list(hashes) == sorted(hashes)
    assert {hash_voting_code(c) for c in codes} == set(hashes)
    for code in codes:
        assert len(code) == CODE_LENGTH + 3 and code.count("-") == 3
        assert set(code.replace("-", "")) <= set(ALPHABET)
        assert code not in "".join(hashes)


def test_seeded_generation_is_reproducible() -> None:
    a = generate_voting_codes(5, choice=random.Random(7).choice)
    b = generate_voting_codes(5, choice=random.Random(7).choice)
    c = generate_voting_codes(5, choice=random.Random(8).choice)
    assert a == b and a != c


def test_duplicates_from_a_bad_rng_are_skipped() -> None:
    values = iter(["A"] * CODE_LENGTH * 3 + ["B"] * CODE_LENGTH)
    csv_text, hashes = generate_voting_codes(2, choice=lambda alphabet: next(values))
    assert parse(csv_text) == ["AAAA-AAAA-AAAA-AAAA", "BBBB-BBBB-BBBB-BBBB"]
    assert len(hashes) == 2


def test_normalisation() -> None:
    code = "ABCD-EFGH-JKLM-NPQR"
    assert normalize_voting_code("abcd efgh jklm npqr") == code.replace("-", "")
    assert normalize_voting_code("ＡＢＣＤ－ＥＦＧＨ　ＪＫＬＭ－ＮＰＱＲ") == code.replace("-", "")
    assert hash_voting_code(code) == hash_voting_code(code.lower())


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDーEFGHーJKLMーNPQR",  # the IME's long vowel mark
        "ABCD‐EFGH‐JKLM‐NPQR",  # U+2010 hyphen
        "ABCD−EFGH−JKLM−NPQR",  # U+2212 minus sign
        "ABCD–EFGH—JKLM―NPQR",  # en dash, em dash, horizontal bar
        "ABCDｰEFGH－JKLM‑NPQR",  # half-width ｰ, full-width －, non-breaking hyphen
        "ABCD\u3000EFGH\tJKLM NPQR",  # ideographic space, tab, space
        " abcd-efgh-jklm-npqr ",
    ],
)
def test_common_dash_and_space_variants(typed: str) -> None:
    assert normalize_voting_code(typed) == "ABCDEFGHJKLMNPQR"


@pytest.mark.parametrize(
    "bad", ["ABCD_EFGH_JKLM_NPQR", "ABCD.EFGH.JKLM.NPQR", "ABCD〜EFGH〜JKLM〜NPQR"]
)
def test_other_marks_are_not_separators(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_voting_code(bad)


@pytest.mark.parametrize(
    "bad", ["", "ABCD", "ABCD-EFGH-JKLM-NPQ0", "ABCD-EFGH-JKLM-NPQRS", "ABCD-EFGH-JKLM-NPQI"]
)
def test_bad_codes(bad: str) -> None:
    with pytest.raises(ValueError):
        hash_voting_code(bad)


def test_count_must_be_positive() -> None:
    with pytest.raises(ValueError):
        generate_voting_codes(0)
