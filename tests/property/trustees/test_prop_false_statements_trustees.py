"""False statements, honestly proven, for the trustees' proofs (docs/protocol.md §6,
docs/trustees.md): one table for the key ceremony's proofs and one for decryption shares.

Each row runs the honest prover on a statement false in exactly one way and asserts the id of
the one check that catches it (the tables for the mix-net's proofs, and the equations no false
statement reaches, are in tests/property/mixnet/test_prop_false_statements.py).

Key ceremony: a dealer's proof of knowledge of coefficient k is a Schnorr proof for A_k; a
dealer whose A_k is not g^{a_k} (or not in the subgroup) and proves knowledge of a_k is
disqualified with the Schnorr check's id, and a revealed share that is not f_i(j) fails the
Feldman equation g^s = ∏ A_k^(j^k).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mixnet.elgamal import encrypt_rows, keygen
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group, Scalar, get_group
from mixnet.proofs import schnorr
from mixnet.proofs.decryption import decryption_factors, prove_factors
from mixnet.rng import DeterministicRandom
from tests.mixnet_support import non_member_values
from trustees import channel
from trustees.config import CeremonyConfig, TrusteePrivateKeys
from trustees.decryption import (
    DecryptionShare,
    make_share,
    rows_digest,
    share_transcript,
    verify_share,
)
from trustees.dkg import DkgOutcome, KeyShare, Polynomial, PublicRecord, coefficient_transcript
from trustees.errors import PeerProtocolError
from trustees.messages import (
    Commitments,
    Complaints,
    DkgMessage,
    EncryptedShare,
    Reveal,
    sign_message,
)
from trustees.testing import make_config

GROUPS = ["test-safe-256", "test-schnorr-512-128", "secp256k1"]
MODP = ["test-safe-256", "test-schnorr-512-128"]
DEALER, COMPLAINER = 2, 1


def signed(msg: DkgMessage, keys: list[TrusteePrivateKeys]) -> DkgMessage:
    return sign_message(msg, keys[msg.sender - 1].ed25519_key())


def commitments_message(
    config: CeremonyConfig,
    keys: list[TrusteePrivateKeys],
    dealer: int,
    poly: Polynomial,
    change: Callable[[int, Element], Element] = lambda k, a: a,
) -> Commitments:
    """Dealer's commitments A_k (after `change`), each with an honest proof of knowledge of
    the coefficient a_k."""
    g = config.group.generator()
    commitments = tuple(change(k, g**a) for k, a in enumerate(poly.coefficients))
    proofs = tuple(
        schnorr.prove(
            schnorr.Statement(g, commitments[k]),
            a,
            transcript=coefficient_transcript(config, dealer, k),
            rng=DeterministicRandom(f"proof/{dealer}/{k}"),
        )
        for k, a in enumerate(poly.coefficients)
    )
    msg = signed(Commitments(config.election, dealer, commitments, proofs), keys)
    assert isinstance(msg, Commitments)
    return msg


def share_message(
    config: CeremonyConfig,
    keys: list[TrusteePrivateKeys],
    dealer: int,
    recipient: int,
    poly: Polynomial,
) -> DkgMessage:
    """The dealer's encrypted share f(recipient) for the recipient, signed: what a complaint
    about the share's content must point at."""
    rng = DeterministicRandom(f"share/{dealer}/{recipient}")
    ephemeral, ciphertext = channel.seal_share(config, dealer, recipient, poly(recipient), rng)
    return signed(EncryptedShare(config.election, dealer, recipient, ephemeral, ciphertext), keys)


def ceremony(
    group: Group,
    change: Callable[[int, Element], Element] = lambda k, a: a,
    revealed: Callable[[Scalar], Scalar] | None = None,
) -> dict[int, str]:
    """Three dealers (t = 2) post commitments, the dealer's after `change`; with `revealed`,
    trustee 1 complains about the dealer, who reveals `revealed(f(1))`. Returns who is
    disqualified and why."""
    config, keys = make_config(group, 2, 3, seed="false-statements")
    record = PublicRecord(config)
    polys = {
        i: Polynomial.random(group, 1, DeterministicRandom(f"poly/{i}")) for i in config.indices
    }
    for i in config.indices:
        record.append(
            commitments_message(
                config, keys, i, polys[i], change if i == DEALER else lambda k, a: a
            )
        )
    if revealed is not None:
        record.append(share_message(config, keys, DEALER, COMPLAINER, polys[DEALER]))
        record.close(2)  # the administrator closes dealing: complaints
        record.append(
            signed(Complaints(config.election, COMPLAINER, ((DEALER, "inconsistent"),)), keys)
        )
        record.close(3)  # and the complaints: answers
        share = revealed(polys[DEALER](COMPLAINER))
        record.append(signed(Reveal(config.election, DEALER, ((COMPLAINER, share),)), keys))
    return record.outcome().disqualified


def nm(group: Group) -> Any:
    from mixnet.groups.base import Element as RawElement

    return RawElement(group, dict(non_member_values(group))["order-2"])


DKG: dict[str, tuple[str, Callable[[Group], dict[int, str]], list[str]]] = {
    "commitment outside the subgroup": (
        "(S0 membership",
        lambda g: ceremony(g, lambda k, a: a * nm(g) if k == 0 else a),
        MODP,
    ),
    "commitment to another coefficient": (
        "(S1 ",
        lambda g: ceremony(g, lambda k, a: a * g.generator() if k == 1 else a),
        GROUPS,
    ),
    "revealed share not f(j)": (
        "fails g^s = ∏ A_k^(j^k)",
        lambda g: ceremony(g, revealed=lambda s: s + 1),
        GROUPS,
    ),
}


@pytest.mark.parametrize(
    ("case", "name"), [(case, g) for case, (_, _, groups) in DKG.items() for g in groups]
)
def test_key_ceremony_false_statement(case: str, name: str) -> None:
    check, run, _ = DKG[case]
    disqualified = run(get_group(name))
    assert list(disqualified) == [DEALER]
    assert check in disqualified[DEALER], disqualified


@pytest.mark.parametrize("name", GROUPS)
def test_the_honest_ceremony_disqualifies_nobody(name: str) -> None:
    """The same ceremony without a change (the reveal is f(j) itself) keeps every dealer."""
    assert ceremony(get_group(name)) == {}
    assert ceremony(get_group(name), revealed=lambda s: s) == {}


# ---------------------------------------------------------------- decryption shares


ELECTION, OTHER_ELECTION = b"\x01" * 32, b"\x02" * 32


def share_case(
    group: Group,
    *,
    election: bytes = ELECTION,
    other_rows: bool = False,
    other_key: bool = False,
    wrong_factor: bool = False,
) -> None:
    """Trustee 1 proves its share honestly for a statement false in one way, and the share is
    verified for election ELECTION, the first list of rows and trustee 1's key."""
    rng = DeterministicRandom("share")
    keys = keygen(group, rng)
    key_share = KeyShare(1, keys.secret, DkgOutcome(keys.public, {1: keys.public}, (1,), {}))
    rows, _ = encrypt_rows(keys.public, [[1, 2], [3, 4]], rng)
    made_for = encrypt_rows(keys.public, [[1, 2], [3, 5]], rng)[0] if other_rows else rows
    share = make_share(key_share, made_for, election=election, rng=rng)
    if wrong_factor:
        factors = decryption_factors(keys.secret, rows)
        factors[1] = factors[1] * group.generator()
        digest = rows_digest(rows)
        proof = prove_factors(
            keys.secret, rows, factors, transcript=share_transcript(election, 1, digest), rng=rng
        )
        share = DecryptionShare(election, 1, digest, tuple(factors), proof)
    key = keys.public * group.generator() if other_key else keys.public
    verify_share(share, rows, key, election=ELECTION)


SHARES: dict[str, tuple[str, dict[str, Any]]] = {
    "made for another election": ("T1", {"election": OTHER_ELECTION}),
    "made for another list of rows": ("T2", {"other_rows": True}),
    "another trustee's key": ("CP1", {"other_key": True}),
    "a wrong decryption factor": ("CP2", {"wrong_factor": True}),
}


@pytest.mark.parametrize("case", SHARES)
@pytest.mark.parametrize("name", GROUPS)
def test_decryption_share_false_statement(case: str, name: str) -> None:
    check, changes = SHARES[case]
    with pytest.raises(VerificationError) as info:
        share_case(get_group(name), **changes)
    assert info.value.check.split()[0] == check, info.value.check


@pytest.mark.parametrize("name", GROUPS)
def test_the_honest_share_verifies(name: str) -> None:
    share_case(get_group(name))


# ---------------------------------------------------------------- the record's rules


def record_with_commitments(
    group: Group, dealers: tuple[int, ...] = (1, 2, 3)
) -> tuple[PublicRecord, CeremonyConfig, list[Any]]:
    """Three trustees (t = 2), the dealers' commitments posted, dealing closed; trustee 1
    complains about 2."""
    config, keys = make_config(group, 2, 3, seed="record rules")
    record = PublicRecord(config)
    for i in dealers:
        poly = Polynomial.random(group, 1, DeterministicRandom(f"rules/{i}"))
        record.append(commitments_message(config, keys, i, poly))
        if i == DEALER:
            record.append(share_message(config, keys, DEALER, COMPLAINER, poly))
    record.close(2)  # the administrator closes dealing
    record.append(
        signed(Complaints(config.election, COMPLAINER, ((DEALER, "inconsistent"),)), keys)
    )
    return record, config, keys


def too_many_commitments(group: Group) -> None:
    """A degree-t polynomial (t + 1 commitments), every proof honest."""
    config, keys = make_config(group, 2, 3, seed="record rules")
    poly = Polynomial.random(group, 2, DeterministicRandom("rules/long"))
    PublicRecord(config).append(commitments_message(config, keys, DEALER, poly))


def unknown_sender(group: Group) -> None:
    record, config, _ = record_with_commitments(group)
    record.append(Complaints(config.election, config.n + 1, ((DEALER, "inconsistent"),)))


def commitments_after_round_one(group: Group) -> None:
    """Trustee 3 deals for the first time once the complaints round has begun."""
    record, config, keys = record_with_commitments(group, dealers=(1, 2))
    poly = Polynomial.random(group, 1, DeterministicRandom("rules/late"))
    record.append(commitments_message(config, keys, 3, poly))


def unrequested_reveal(group: Group) -> None:
    """The dealer reveals the share of trustee 3, who did not complain."""
    record, config, keys = record_with_commitments(group)
    record.close(3)  # the answers' round, so only the rule on what may be revealed can refuse
    share = group.scalar(7)
    record.append(signed(Reveal(config.election, DEALER, ((3, share),)), keys))


RECORD_RULES: dict[str, tuple[str, Callable[[Group], None]]] = {
    "a sender who is no trustee": ("DKG2 sender", unknown_sender),
    "commitments after round 1": ("DKG4 round order", commitments_after_round_one),
    "t + 1 commitments": ("DKG6 shape", too_many_commitments),
    "a reveal nobody asked for": ("DKG7 reveal", unrequested_reveal),
}


@pytest.mark.parametrize("case", RECORD_RULES)
@pytest.mark.parametrize("name", ["test-safe-256", "secp256k1"])
def test_the_record_refuses_a_message_that_breaks_one_rule(case: str, name: str) -> None:
    step, run = RECORD_RULES[case]
    with pytest.raises(PeerProtocolError) as info:
        run(get_group(name))
    assert info.value.step == step


# ---------------------------------------------------------------- decoding a share


def share_json(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom("share json")
    keys = keygen(group, rng)
    rows, _ = encrypt_rows(keys.public, [[1, 2]], rng)
    key_share = KeyShare(1, keys.secret, DkgOutcome(keys.public, {1: keys.public}, (1,), {}))
    value: dict[str, Any] = make_share(key_share, rows, election=ELECTION, rng=rng).to_json_value()
    return value


SHARE_DECODING: dict[str, Callable[[dict[str, Any]], object]] = {
    "a field missing": lambda v: {k: x for k, x in v.items() if k != "rows"},
    "a field added": lambda v: {**v, "note": "x"},
    "another kind": lambda v: {**v, "kind": "trustee.other"},
    "version 2": lambda v: {**v, "version": 2},
    "no factors": lambda v: {**v, "factors": []},
    "factors not a list": lambda v: {**v, "factors": v["factors"][0]},
    "not an object": lambda v: [v],
}


@pytest.mark.parametrize("case", SHARE_DECODING)
def test_a_malformed_share_is_refused(case: str) -> None:
    group = get_group("test-safe-256")
    value = share_json(group)
    assert DecryptionShare.from_json_value(value, group).to_json_value() == value
    with pytest.raises(DecodeError):
        DecryptionShare.from_json_value(SHARE_DECODING[case](value), group)
