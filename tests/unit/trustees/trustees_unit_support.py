"""Shared helpers for the trustees' unit tests: groups and sizes to run over, re-signing a
modified message (to play a misbehaving trustee that owns its key), known votes, and a check
that every t-subset of trustees decrypts the known votes."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

from mixnet.elgamal import Row, encrypt_rows
from mixnet.groups import Element
from mixnet.rng import DeterministicRandom
from trustees.config import CeremonyConfig, TrusteePrivateKeys
from trustees.decryption import DecryptionShare, combine_shares, make_share
from trustees.dkg import DkgOutcome, KeyShare
from trustees.messages import DkgMessage, sign_message
from trustees.testing import CeremonyRun

GROUPS = ["test-schnorr-512-128", "test-safe-256"]
SIZES = [(2, 3), (3, 5)]
#: Four ballots of three slots each (small integers: both encodings decode them).
VOTES = [[1, 2, 3], [4, 5, 6], [0, 7, 8], [9, 10, 11]]


def resign(msg: DkgMessage, keys: Sequence[TrusteePrivateKeys], **changes: Any) -> DkgMessage:
    """`msg` with `changes`, signed again by its sender (a trustee misbehaving on purpose)."""
    new = dataclasses.replace(msg, **changes)
    return sign_message(new, keys[new.sender - 1].ed25519_key())


def encrypt_votes(pk: Element, seed: str = "votes") -> list[Row]:
    rows, _ = encrypt_rows(pk, VOTES, DeterministicRandom(seed))
    return rows


def shares_from(
    key_shares: dict[int, KeyShare], rows: Sequence[Row], config: CeremonyConfig
) -> dict[int, DecryptionShare]:
    return {
        j: make_share(k, rows, election=config.election, rng=DeterministicRandom(f"share/{j}"))
        for j, k in key_shares.items()
    }


def key_shares(run: CeremonyRun) -> dict[int, KeyShare]:
    return {i: t.key_share for i, t in run.trustees.items() if t.key_share is not None}


def assert_every_subset_decrypts(run: CeremonyRun, outcome: DkgOutcome | None = None) -> None:
    """Encrypt VOTES under pk; every t-subset of trustees with a key share recovers them."""
    config = run.config
    outcome = outcome or run.outcome()
    rows = encrypt_votes(outcome.pk)
    shares = shares_from(key_shares(run), rows, config)
    assert len(shares) >= config.threshold
    for subset in itertools.combinations(sorted(shares), config.threshold):
        result = combine_shares(
            rows,
            [shares[j] for j in subset],
            outcome.verification_keys,
            config.threshold,
            election=config.election,
        )
        assert [list(r) for r in result.plaintexts] == VOTES
        assert result.used == subset
        assert result.excluded == {}
