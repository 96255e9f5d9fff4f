"""Threshold decryption: any t shares decrypt; bad shares are excluded and named; fewer than
t valid shares stop with a clear error."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from trustees_unit_support import VOTES, encrypt_votes, key_shares, shares_from

from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from trustees.decryption import (
    DecryptionShare,
    combine_lists,
    combine_shares,
    lagrange_coefficients,
    make_share,
    rows_digest,
    share_entry_values,
    verify_share,
)
from trustees.dkg import KeyShare, Polynomial
from trustees.errors import NotEnoughShares


def _setup(ceremony):
    config, _, run = ceremony
    outcome = run.outcome()
    rows = encrypt_votes(outcome.pk)
    shares = shares_from(key_shares(run), rows, config)
    return config, outcome, rows, shares


def _combine(config, outcome, rows, shares, **kw):
    return combine_shares(
        rows, shares, outcome.verification_keys, config.threshold, election=config.election, **kw
    )


def test_every_subset_of_every_size_decrypts_the_same(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    for size in range(config.threshold, config.n + 1):
        for subset in itertools.combinations(sorted(shares), size):
            result = _combine(config, outcome, rows, [shares[j] for j in subset])
            assert [list(r) for r in result.plaintexts] == VOTES
            assert result.used == subset[: config.threshold]
            assert result.spare == subset[config.threshold :]


def test_n_minus_t_absent_still_completes(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    present = sorted(shares)[-config.threshold :]
    result = _combine(config, outcome, rows, [shares[j] for j in present])
    assert [list(r) for r in result.plaintexts] == VOTES


def test_fewer_than_t_stops_with_a_clear_message(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    few = [shares[j] for j in sorted(shares)[: config.threshold - 1]]
    with pytest.raises(NotEnoughShares) as info:
        _combine(config, outcome, rows, few)
    t = config.threshold
    plural = "" if t - 1 == 1 else "s"
    assert (
        str(info.value) == f"only {t - 1} valid decryption share{plural}, {t} needed "
        f"(threshold {t})"
    )
    assert (info.value.valid, info.value.needed) == (t - 1, t)


def test_wrong_factor_is_excluded_named_and_the_result_still_correct(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    bad = shares[2]
    g = config.group.generator()
    shares[2] = dataclasses.replace(bad, factors=(bad.factors[0] * g, *bad.factors[1:]))
    result = _combine(config, outcome, rows, list(shares.values()))
    assert [list(r) for r in result.plaintexts] == VOTES
    assert 2 not in result.used and 2 not in result.spare
    assert set(result.excluded) == {2}
    assert result.excluded[2].startswith("proof fails (CP")


def test_share_from_a_wrong_secret_with_an_honest_proof_is_excluded(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    real = key_shares(ceremony[2])[1]
    liar = KeyShare(1, real.secret + 1, outcome)
    shares[1] = make_share(liar, rows, election=config.election, rng=DeterministicRandom(4))
    result = _combine(config, outcome, rows, list(shares.values()))
    assert result.excluded == {1: "proof fails (CP1 g1^s = t1·X^c: key equation fails)"}
    assert [list(r) for r in result.plaintexts] == VOTES


def test_bad_shares_can_leave_too_few(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    g = config.group.generator()
    for j in sorted(shares)[: config.n - config.threshold + 1]:
        s = shares[j]
        shares[j] = dataclasses.replace(s, factors=(*s.factors[:-1], s.factors[-1] * g))
    with pytest.raises(NotEnoughShares) as info:
        _combine(config, outcome, rows, list(shares.values()))
    message = str(info.value)
    assert (
        f"only {config.threshold - 1} valid" in message
        and "excluded: trustee 1: proof fails" in message
    )


def test_share_claiming_another_trustee_is_excluded(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    forged = dataclasses.replace(shares[1], trustee=3)
    others = [shares[j] for j in sorted(shares) if j != 3]
    result = _combine(config, outcome, rows, [forged, *others])
    assert "proof fails" in result.excluded[3]


def test_share_for_other_rows_or_another_election(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    other_rows = encrypt_votes(outcome.pk, seed="other")
    with pytest.raises(VerificationError) as info:
        verify_share(shares[1], other_rows, outcome.verification_keys[1], election=config.election)
    assert info.value.check == "T2 rows"
    with pytest.raises(VerificationError) as info:
        verify_share(shares[1], rows, outcome.verification_keys[1], election=bytes(32))
    assert info.value.check == "T1 election"
    # a share whose digest was rewritten to the other rows still fails its proof
    moved = dataclasses.replace(shares[1], rows_digest=rows_digest(other_rows))
    with pytest.raises(VerificationError) as info:
        verify_share(moved, other_rows, outcome.verification_keys[1], election=config.election)
    assert info.value.check.startswith("CP")


def test_duplicates_and_strangers(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    stranger = dataclasses.replace(shares[1], trustee=config.n + 1)
    result = _combine(
        config, outcome, rows, [shares[1], shares[1], stranger, *list(shares.values())[1:]]
    )
    assert result.excluded == {config.n + 1: "not a trustee of this election"}
    assert [list(r) for r in result.plaintexts] == VOTES


def test_garbage_after_a_valid_share_does_not_evict_it(ceremony):
    config, outcome, rows, shares = _setup(ceremony)
    g = config.group.generator()
    junk = dataclasses.replace(shares[1], factors=tuple(d * g for d in shares[1].factors))
    result = _combine(config, outcome, rows, [junk, shares[1], *list(shares.values())[1:]])
    assert 1 in result.used and 1 not in result.excluded


def test_share_json_round_trip(ceremony):
    config, _, _, shares = _setup(ceremony)
    data = shares[1].to_json()
    assert DecryptionShare.from_json(data, config.group) == shares[1]
    with pytest.raises(DecodeError):
        DecryptionShare.from_json(data + b"\n", config.group)
    with pytest.raises(DecodeError):
        DecryptionShare.from_json(data.replace(b'"version":1', b'"version":2'), config.group)


@pytest.mark.parametrize("name", ["test-schnorr-512-128", "test-safe-256"])
def test_lagrange_interpolates_at_zero(name):
    group = get_group(name)
    poly = Polynomial.random(group, 3, DeterministicRandom(name))
    for subset in itertools.combinations(range(1, 8), 4):
        lam = lagrange_coefficients(subset, group.order)
        total = sum(lam[j] * poly(j).value for j in subset) % group.order
        assert total == poly.coefficients[0].value


# ---------------------------------------------------------------- one list per contest


def _lists_setup(ceremony):
    """Two contest lists and every trustee's share of each."""
    config, _, run = ceremony
    outcome = run.outcome()
    lists = [("a", encrypt_votes(outcome.pk, "list a")), ("b", encrypt_votes(outcome.pk, "list b"))]
    ks = key_shares(run)
    shares = {c: shares_from(ks, rows, config) for c, rows in lists}
    return config, outcome, lists, shares


def _combine_lists(config, outcome, lists, shares):
    return combine_lists(
        lists, shares, outcome.verification_keys, config.threshold, election=config.election
    )


def test_lists_decrypt_each_contest_on_its_own(ceremony):
    config, outcome, lists, shares = _lists_setup(ceremony)
    entries = [(j, [shares["a"][j], shares["b"][j]]) for j in sorted(shares["a"])]
    result = _combine_lists(config, outcome, lists, entries)
    assert [c for c, _ in result.plaintexts] == ["a", "b"]
    assert all([list(r) for r in rows] == VOTES for _, rows in result.plaintexts)


def test_a_trustee_short_of_one_list_is_excluded_and_named(ceremony):
    """Trustee 1 gives a share of contest a only: it is excluded for D0 lists, the others
    decrypt both lists (never a share of one list used for another)."""
    config, outcome, lists, shares = _lists_setup(ceremony)
    entries = [(1, [shares["a"][1]])] + [
        (j, [shares["a"][j], shares["b"][j]]) for j in sorted(shares["a"]) if j != 1
    ]
    result = _combine_lists(config, outcome, lists, entries)
    assert "D0 lists" in result.excluded[1]
    assert 1 not in result.used
    assert all([list(r) for r in rows] == VOTES for _, rows in result.plaintexts)


def test_a_share_of_another_trustee_in_an_entry_is_excluded(ceremony):
    """Trustee 1's entry carries trustee 2's (valid) share for contest b: D0 trustee."""
    config, outcome, lists, shares = _lists_setup(ceremony)
    entries = [(1, [shares["a"][1], shares["b"][2]])] + [
        (j, [shares["a"][j], shares["b"][j]]) for j in sorted(shares["a"]) if j != 1
    ]
    result = _combine_lists(config, outcome, lists, entries)
    assert "D0 trustee" in result.excluded[1]
    assert 1 not in result.used


SHARE_ENTRY_CASES = {
    "not an object": ([], "{v, trustee, contests}"),
    "a field missing": ({"v": 1, "contests": []}, "{v, trustee, contests}"),
    "one share for two contests": (
        {"v": 1, "trustee": 1, "contests": [{"contest": "a", "share": {}}]},
        "holds 2",
    ),
    "a part of another shape": (
        {"v": 1, "trustee": 1, "contests": [{"contest": "a"}, {"contest": "b", "share": {}}]},
        "{contest, share}",
    ),
    "contests out of order": (
        {
            "v": 1,
            "trustee": 1,
            "contests": [{"contest": "b", "share": {}}, {"contest": "a", "share": {}}],
        },
        "the share of contest a is posted as 'b'",
    ),
}


@pytest.mark.parametrize("case", SHARE_ENTRY_CASES)
def test_a_share_entry_of_the_wrong_shape_is_refused(case):
    body, message = SHARE_ENTRY_CASES[case]
    with pytest.raises(DecodeError) as info:
        share_entry_values(body, ["a", "b"])
    assert message in str(info.value)


def test_a_share_entry_gives_its_values_in_contest_order():
    body = {
        "v": 1,
        "trustee": 1,
        "contests": [{"contest": "a", "share": {"x": 1}}, {"contest": "b", "share": {"x": 2}}],
    }
    assert share_entry_values(body, ["a", "b"]) == [{"x": 1}, {"x": 2}]
