"""Property tests for the trustees: honest runs always work, and every kind of tampering is
caught — by exclusion or disqualification when it is attributable, by a named refusal
otherwise — without ever changing a decrypted vote."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixnet.elgamal import encrypt_rows
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from trustees import channel
from trustees.config import generate_trustee_keys
from trustees.decryption import combine_shares, lagrange_coefficients, make_share
from trustees.dkg import Polynomial, RoundClose, derive_public_outcome
from trustees.errors import KeystoreTampered, NotEnoughShares, WrongPassphrase
from trustees.keystore import KdfParams, seal, unseal
from trustees.messages import EncryptedShare, Reveal, sign_message
from trustees.private import TrusteeSecrets
from trustees.testing import make_config, run_ceremony

GROUPS = ["test-schnorr-512-128", "test-safe-256"]
FAST = KdfParams(name="scrypt", n=2**10)
SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
seeds = st.integers(min_value=0, max_value=2**32)


@st.composite
def sizes(draw):
    n = draw(st.integers(min_value=1, max_value=5))
    return draw(st.integers(min_value=1, max_value=n)), n


def _votes(draw_seed: int, rows: int = 3, width: int = 2) -> list[list[int]]:
    rng = DeterministicRandom(f"votes/{draw_seed}")
    return [[rng.randbelow(50) for _ in range(width)] for _ in range(rows)]


@pytest.mark.parametrize("name", GROUPS)
@SETTINGS
@given(size=sizes(), seed=seeds, data=st.data())
def test_any_t_subset_decrypts(name, size, seed, data):
    t, n = size
    group = get_group(name)
    config, keys = make_config(group, t, n, seed=f"p{seed}")
    run = run_ceremony(config, keys, seed=f"p{seed}")
    outcome = run.outcome()
    assert derive_public_outcome(run.events, config) == outcome
    votes = _votes(seed)
    rows, _ = encrypt_rows(outcome.pk, votes, DeterministicRandom(seed))
    subset = data.draw(
        st.lists(st.sampled_from(list(config.indices)), min_size=t, max_size=n, unique=True)
    )
    shares = [
        make_share(
            run.trustees[j].key_share, rows, election=config.election, rng=DeterministicRandom(j)
        )
        for j in subset
    ]
    result = combine_shares(rows, shares, outcome.verification_keys, t, election=config.election)
    assert [list(r) for r in result.plaintexts] == votes
    assert set(result.used) | set(result.spare) == set(subset)
    if t > 1:
        with pytest.raises(NotEnoughShares, match=f"{t} needed"):
            combine_shares(
                rows, shares[: t - 1], outcome.verification_keys, t, election=config.election
            )


@pytest.mark.parametrize("name", GROUPS)
@SETTINGS
@given(seed=seeds, data=st.data())
def test_tampered_factor_is_always_excluded(name, seed, data):
    group = get_group(name)
    config, keys = make_config(group, 2, 3, seed="tamper-factor")
    run = run_ceremony(config, keys, seed="tamper-factor")
    outcome = run.outcome()
    votes = _votes(seed)
    rows, _ = encrypt_rows(outcome.pk, votes, DeterministicRandom(seed))
    shares = {
        j: make_share(
            t.key_share, rows, election=config.election, rng=DeterministicRandom(seed + j)
        )
        for j, t in run.trustees.items()
    }
    victim = data.draw(st.sampled_from([1, 2, 3]))
    pos = data.draw(st.integers(0, len(shares[victim].factors) - 1))
    k = data.draw(st.integers(1, group.order - 1))
    s = shares[victim]
    factors = list(s.factors)
    factors[pos] = factors[pos] * group.generator() ** k
    shares[victim] = type(s)(s.election, s.trustee, s.rows_digest, tuple(factors), s.proof)
    result = combine_shares(
        rows, list(shares.values()), outcome.verification_keys, 2, election=config.election
    )
    assert set(result.excluded) == {victim}
    assert [list(r) for r in result.plaintexts] == votes


@pytest.mark.parametrize("name", GROUPS)
@SETTINGS
@given(data=st.data())
def test_any_changed_byte_of_the_transcript_is_named(name, data):
    group = get_group(name)
    config, keys = make_config(group, 2, 3, seed="flip")
    run = run_ceremony(config, keys, seed="flip")
    posted = [e if isinstance(e, RoundClose) else e.to_json() for e in run.events]
    k = data.draw(st.sampled_from([i for i, e in enumerate(posted) if isinstance(e, bytes)]))
    pos = data.draw(st.integers(0, len(posted[k]) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(posted[k])
    flipped[pos] ^= 1 << bit
    posted[k] = bytes(flipped)
    with pytest.raises(VerificationError) as info:
        derive_public_outcome(posted, config)
    assert info.value.check.split()[0] in {f"DKG{i}" for i in range(10)}
    assert info.value.detail.startswith(f"message {k}:")


@pytest.mark.parametrize("name", GROUPS)
@settings(max_examples=8, deadline=None)
@given(seed=seeds, data=st.data())
def test_bad_dealers_are_handled_by_complaints(name, seed, data):
    """Random dealers send bad shares to random recipients; some answer, some stay silent.
    QUAL is exactly the dealers who answered and had fewer than t complaints; votes always
    decrypt."""
    group = get_group(name)
    t, n = 2, 4
    config, keys = make_config(group, t, n, seed=f"c{seed}")
    cheats = data.draw(
        st.sets(
            st.tuples(st.integers(1, n), st.integers(1, n)).filter(lambda p: p[0] != p[1]),
            max_size=4,
        )
    )
    silent = data.draw(
        st.sets(st.sampled_from(sorted({i for i, _ in cheats}) or [1]), max_size=2)
    ) & {i for i, _ in cheats}
    accused = {i: sum(1 for d, _ in cheats if d == i) for i in config.indices}
    dropped = {i for i, count in accused.items() if count >= t}  # nothing revealed (DKG8)
    if n - len(silent | dropped) < t:
        return

    def intercept(m):
        if isinstance(m, EncryptedShare) and (m.sender, m.recipient) in cheats:
            eph, ct = channel.seal_share(
                config, m.sender, m.recipient, group.scalar(7), DeterministicRandom(seed)
            )
            return [
                sign_message(
                    replace(m, ephemeral=eph, ciphertext=ct), keys[m.sender - 1].ed25519_key()
                )
            ]
        if isinstance(m, Reveal) and m.sender in silent:
            return []
        return [m]

    run = run_ceremony(config, keys, seed=f"c{seed}", intercept=intercept)
    outcome = run.outcome()
    assert set(outcome.disqualified) == silent | dropped
    assert derive_public_outcome(run.events, config) == outcome
    votes = _votes(seed)
    rows, _ = encrypt_rows(outcome.pk, votes, DeterministicRandom(seed))
    holders = {j: tr.key_share for j, tr in run.trustees.items() if tr.key_share is not None}
    assert set(holders) == set(config.indices)
    for subset in itertools.combinations(sorted(holders), t):
        shares = [
            make_share(holders[j], rows, election=config.election, rng=DeterministicRandom(j))
            for j in subset
        ]
        result = combine_shares(
            rows, shares, outcome.verification_keys, t, election=config.election
        )
        assert [list(r) for r in result.plaintexts] == votes


@pytest.mark.parametrize("name", GROUPS)
@settings(max_examples=30, deadline=None)
@given(seed=seeds, t=st.integers(1, 6), data=st.data())
def test_lagrange_recovers_the_constant_term(name, seed, t, data):
    group = get_group(name)
    poly = Polynomial.random(group, t - 1, DeterministicRandom(seed))
    subset = data.draw(st.lists(st.integers(1, 50), min_size=t, max_size=t + 3, unique=True))
    lam = lagrange_coefficients(subset, group.order)
    assert sum(lam[j] * poly(j).value for j in subset) % group.order == poly.coefficients[0].value


@pytest.mark.parametrize("name", GROUPS)
@settings(max_examples=30, deadline=None)
@given(seed=seeds, data=st.data())
def test_share_channel_round_trip_and_tampering(name, seed, data):
    group = get_group(name)
    config, keys = make_config(group, 2, 3, seed="channel")
    s = group.random_scalar(DeterministicRandom(seed))
    eph, ct = channel.seal_share(config, 1, 2, s, DeterministicRandom(seed))
    assert channel.open_share(config, 1, 2, keys[1].x25519_key(), eph, ct) == s
    pos = data.draw(st.integers(0, len(ct) - 1))
    bad = bytearray(ct)
    bad[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(VerificationError, match="DKG share decryption"):
        channel.open_share(config, 1, 2, keys[1].x25519_key(), eph, bytes(bad))
    with pytest.raises(VerificationError):  # bound to sender and recipient
        channel.open_share(config, 3, 2, keys[1].x25519_key(), eph, ct)


@settings(max_examples=15, deadline=None)
@given(passphrase=st.text(min_size=1, max_size=30), seed=seeds, data=st.data())
def test_keystore_never_returns_wrong_secrets(passphrase, seed, data):
    rng = DeterministicRandom(seed)
    secrets = TrusteeSecrets(
        1,
        bytes(32),
        "test-safe-256",
        generate_trustee_keys(rng),
        (rng.randbits(200), rng.randbits(200)),
        rng.randbits(200),
    )
    blob = seal(secrets, passphrase, kdf=FAST, rng=rng)
    assert unseal(blob, passphrase) == secrets
    pos = data.draw(st.integers(0, len(blob) - 1))
    bad = bytearray(blob)
    bad[pos] ^= 1 << data.draw(st.integers(0, 6))
    try:
        opened = unseal(bytes(bad), passphrase)
    except (KeystoreTampered, WrongPassphrase, DecodeError):
        return
    raise AssertionError(f"a changed file opened: {opened!r}")
