"""False statements, honestly proven: one table per proof, one row per verification equation.

Each row runs the prover's own algorithm on a statement that is false in exactly one way, and
asserts the exact id of the equation that catches it (docs/protocol.md §6, §8). Tampering with
a proof after it is made (the other property tests) changes the Fiat–Shamir challenge, so the
first equation fails first and the later ones are never the reason for a failure; here the
proof is made for the false statement, every other equation holds, and only the named one
fails. A verifier with that equation deleted accepts the row's statement
(`scripts/mutate_verifiers.py` checks this for every `raise` of every verifier).

Equations no false statement can reach, and why:

- S0/CP0/E0/TW0 lengths and ranges, and E0 group: the honest prover makes exactly one
  commitment and response per value of the statement, each reduced into range, and it cannot
  even compute a proof over elements of two groups; only a proof altered in transit breaks
  them (the tamper tests in test_prop_mixnet_sigma.py and test_prop_mixnet_shuffle.py).
- CP0 inside a batched proof: CPB0 membership has already checked every base and factor, and
  the combined statement is made of products of members.
- TW1, TW2, TW3, TW5 with the library's prover: it takes a permutation ψ, so its commitment,
  chain and responses describe one permutation whatever the statement. Those rows use
  `tests/shuffle_deviations.py`, the same algorithm for a matrix M: the mixer that raises one vote
  to a power (TW1), combines two inputs (TW2), commits to another permutation than it applies
  (TW3), or builds its chain for another permutation (TW5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from mixnet_property_support import non_member

from mixnet.elgamal import Ciphertext, Row, encrypt_rows, keygen
from mixnet.errors import VerificationError
from mixnet.groups import Group, get_group
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption as dec
from mixnet.proofs import encryption as enc
from mixnet.proofs import schnorr
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as tw
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript
from tests import shuffle_deviations as dev

#: Groups where every equation is exercised: a safe-prime group, a Schnorr group, a curve.
#: (Their s' responses are reduced mod q, which the matrix prover relies on.)
GROUPS = ["test-safe-256", "test-schnorr-512-128", "secp256k1"]
#: Groups with elements outside the subgroup (the membership rows).
MODP = ["test-safe-256", "test-schnorr-512-128"]
OTHER_GROUP = {"test-safe-256": "test-schnorr-512-128"}
CTX = {"election": "false-statements"}
GEN_CTX = {"election": "false-statements", "mixer": 1}


def tr() -> Transcript:
    return Transcript(CTX)


def expect_exact(check_id: str, run: Callable[[], object]) -> None:
    """`run` raises a `VerificationError` whose check is exactly `check_id` (its leading
    words: "CP2", "S0 membership", …)."""
    with pytest.raises(VerificationError) as info:
        run()
    words = info.value.check.split()
    assert " ".join(words[: len(check_id.split())]) == check_id, info.value.check


@dataclass(frozen=True)
class Row_:
    """One row of a table: the equation id it trips and the groups it runs in."""

    check: str
    run: Callable[[Group], None]
    groups: tuple[str, ...] = tuple(GROUPS)


def table(rows: dict[str, Row_]) -> list[object]:
    return [
        pytest.param(row, get_group(g), id=f"{name}-{row.check}-{g}")
        for name, row in rows.items()
        for g in row.groups
    ]


def nm(group: Group) -> object:
    return non_member(group, "order-2")


# ---------------------------------------------------------------- Schnorr (S)


def schnorr_false(y_of: Callable[[Group, object], object]) -> Callable[[Group], None]:
    """Prove knowledge of x for y = y_of(group, x), which is not base^x."""

    def run(group: Group) -> None:
        rng = DeterministicRandom(1)
        x = group.random_scalar(rng)
        base = group.generator()
        statement = schnorr.Statement(base, y_of(group, x))
        proof = schnorr.prove(statement, x, transcript=tr(), rng=rng)
        schnorr.verify(statement, proof, transcript=tr())

    return run


def other_group_key(group: Group, x: object) -> object:
    other = get_group(OTHER_GROUP[group.name])
    return other.generator() ** int(x.value)


SCHNORR: dict[str, Row_] = {
    "key of another group": Row_("S0 group", schnorr_false(other_group_key), ("test-safe-256",)),
    "key outside the subgroup": Row_(
        "S0 membership",
        schnorr_false(lambda g, x: g.generator() ** x * nm(g)),
        tuple(MODP),
    ),
    "key of another secret": Row_("S1", schnorr_false(lambda g, x: g.generator() ** (x + 1))),
}


@pytest.mark.parametrize(("row", "group"), table(SCHNORR))
def test_schnorr_false_statement(row: Row_, group: Group) -> None:
    expect_exact(row.check, lambda: row.run(group))


# ---------------------------------------------------------------- Chaum–Pedersen (CP)


def cp_false(key_shift: int, factor_shift: int, d_extra: bool = False) -> Callable[[Group], None]:
    """Prove log_g1 X = log_g2 D with X = g1^(x + key_shift), D = g2^(x + factor_shift)."""

    def run(group: Group) -> None:
        rng = DeterministicRandom(2)
        x = group.random_scalar(rng)
        g1, g2 = group.generator(), group.hash_to_element(b"false-statements/g2")
        d = g2 ** (x + factor_shift)
        if d_extra:
            d = d * nm(group)
        statement = cp.Statement(g1, g1 ** (x + key_shift), g2, d)
        proof = cp.prove(statement, x, transcript=tr(), rng=rng)
        cp.verify(statement, proof, transcript=tr())

    return run


def cp_foreign_factor(group: Group) -> None:
    rng = DeterministicRandom(2)
    x = group.random_scalar(rng)
    other = get_group(OTHER_GROUP[group.name])
    g1, g2 = group.generator(), group.hash_to_element(b"false-statements/g2")
    statement = cp.Statement(g1, g1**x, g2, other.generator() ** int(x.value))
    proof = cp.prove(statement, x, transcript=tr(), rng=rng)
    cp.verify(statement, proof, transcript=tr())


CHAUM_PEDERSEN: dict[str, Row_] = {
    "factor of another group": Row_("CP0 group", cp_foreign_factor, ("test-safe-256",)),
    "factor outside the subgroup": Row_("CP0 membership", cp_false(0, 0, True), tuple(MODP)),
    "key of another secret": Row_("CP1", cp_false(1, 0)),
    "factor of another secret": Row_("CP2", cp_false(0, 1)),
}


@pytest.mark.parametrize(("row", "group"), table(CHAUM_PEDERSEN))
def test_chaum_pedersen_false_statement(row: Row_, group: Group) -> None:
    expect_exact(row.check, lambda: row.run(group))


# ---------------------------------------------------------------- batched Chaum–Pedersen (CPB)


def batch_statement(group: Group, rng: DeterministicRandom) -> tuple[object, cp.BatchStatement]:
    x = group.random_scalar(rng)
    bases = [group.hash_to_element(b"false-statements/b%d" % i) for i in range(4)]
    return x, cp.BatchStatement(group.generator() ** x, bases, [b**x for b in bases])


def cpb_false(
    change: Callable[[Group, cp.BatchStatement], cp.BatchStatement],
) -> Callable[[Group], None]:
    def run(group: Group) -> None:
        rng = DeterministicRandom(3)
        x, honest = batch_statement(group, rng)
        statement = change(group, honest)
        proof = cp.prove_batch(statement, x, transcript=tr(), rng=rng)
        cp.verify_batch(statement, proof, transcript=tr())

    return run


def with_factor(st: cp.BatchStatement, i: int, value: object) -> cp.BatchStatement:
    factors = list(st.factors)
    factors[i] = value
    return replace(st, factors=factors)


def cpb_lengths(group: Group) -> None:
    """The prover refuses a statement with a factor missing, and so does the verifier (with a
    proof made for the whole list)."""
    rng = DeterministicRandom(3)
    x, honest = batch_statement(group, rng)
    short = replace(honest, factors=list(honest.factors)[:-1])
    expect_exact("CPB0 lengths", lambda: cp.prove_batch(short, x, transcript=tr(), rng=rng))
    proof = cp.prove_batch(honest, x, transcript=tr(), rng=rng)
    cp.verify_batch(short, proof, transcript=tr())


CHAUM_PEDERSEN_BATCH: dict[str, Row_] = {
    "a factor missing": Row_("CPB0 lengths", cpb_lengths),
    "a factor outside the subgroup": Row_(
        "CPB0 membership",
        cpb_false(lambda g, st: with_factor(st, 2, st.factors[2] * nm(g))),
        tuple(MODP),
    ),
    "key of another secret": Row_(
        "CP1", cpb_false(lambda g, st: replace(st, x_pub=st.x_pub * g.generator()))
    ),
    "one factor of another secret": Row_(
        "CP2", cpb_false(lambda g, st: with_factor(st, 1, st.factors[1] * st.bases[1]))
    ),
}


@pytest.mark.parametrize(("row", "group"), table(CHAUM_PEDERSEN_BATCH))
def test_chaum_pedersen_batch_false_statement(row: Row_, group: Group) -> None:
    expect_exact(row.check, lambda: row.run(group))


# ---------------------------------------------------------------- encryption (E)


def enc_false(
    change: Callable[[Group, Row, list[object]], tuple[Row, list[object]]],
) -> Callable[[Group], None]:
    """Prove knowledge of the randomness of a row after `change` (row, randomness)."""

    def run(group: Group) -> None:
        rng = DeterministicRandom(4)
        keys = keygen(group, rng)
        rows, rs = encrypt_rows(keys.public, [[3, 5, 7]], rng)
        row, randomness = change(group, rows[0], list(rs[0]))
        statement = enc.Statement(keys.public, row)
        proof = enc.prove(statement, randomness, transcript=tr(), rng=rng)
        enc.verify(statement, proof, transcript=tr())

    return run


def with_ct(row: Row, j: int, ct: Ciphertext) -> Row:
    return (*row[:j], ct, *row[j + 1 :])


ENCRYPTION: dict[str, Row_] = {
    "an a outside the subgroup": Row_(
        "E0 membership",
        enc_false(lambda g, row, rs: (with_ct(row, 1, replace(row[1], a=row[1].a * nm(g))), rs)),
        tuple(MODP),
    ),
    "randomness other than b's": Row_(
        "E1",
        enc_false(lambda g, row, rs: (row, [rs[0], rs[1] + 1, rs[2]])),
    ),
}


@pytest.mark.parametrize(("row", "group"), table(ENCRYPTION))
def test_encryption_false_statement(row: Row_, group: Group) -> None:
    expect_exact(row.check, lambda: row.run(group))


# ---------------------------------------------------------------- verifiable decryption (D)


def dec_false(
    change: Callable[[Group, object, list[object]], tuple[object, list[object]]],
) -> Callable[[Group], None]:
    """Prove the factors of two rows after `change` (public key, factors)."""

    def run(group: Group) -> None:
        rng = DeterministicRandom(5)
        keys = keygen(group, rng)
        rows, _ = encrypt_rows(keys.public, [[1, 2], [3, 4]], rng)
        honest = dec.decryption_factors(keys.secret, rows)
        x_pub, factors = change(group, keys.public, list(honest))
        proof = dec.prove_factors(keys.secret, rows, factors, transcript=tr(), rng=rng)
        dec.verify_factors(x_pub, rows, factors, proof, transcript=tr())

    return run


def dec_lengths(group: Group) -> None:
    rng = DeterministicRandom(5)
    keys = keygen(group, rng)
    rows, _ = encrypt_rows(keys.public, [[1, 2], [3, 4]], rng)
    factors = dec.decryption_factors(keys.secret, rows)
    expect_exact(
        "CPB0 lengths",
        lambda: dec.prove_factors(keys.secret, rows, factors[:-1], transcript=tr(), rng=rng),
    )
    proof = dec.prove_factors(keys.secret, rows, factors, transcript=tr(), rng=rng)
    dec.verify_factors(keys.public, rows, factors[:-1], proof, transcript=tr())


DECRYPTION: dict[str, Row_] = {
    "a factor missing": Row_("D0 lengths", dec_lengths),
    "a factor outside the subgroup": Row_(
        "CPB0 membership",
        dec_false(lambda g, pk, fs: (pk, [*fs[:3], fs[3] * nm(g)])),
        tuple(MODP),
    ),
    "another decryptor's key": Row_(
        "CP1",
        dec_false(lambda g, pk, fs: (pk * g.generator(), fs)),
    ),
    "a wrong decryption factor": Row_(
        "CP2",
        dec_false(lambda g, pk, fs: (pk, [fs[0], fs[1] * g.generator(), *fs[2:]])),
    ),
}


@pytest.mark.parametrize(("row", "group"), table(DECRYPTION))
def test_decryption_false_statement(row: Row_, group: Group) -> None:
    expect_exact(row.check, lambda: row.run(group))


# ---------------------------------------------------------------- shuffle (TW)

N, WIDTH = 3, 2
PSI = [2, 0, 1]
OTHER_PSI = [1, 2, 0]


def shuffle_inputs(group: Group) -> tuple[object, list[Row], DeterministicRandom]:
    rng = DeterministicRandom(6)
    keys = keygen(group, rng)
    inputs, _ = encrypt_rows(keys.public, [[1, 2], [3, 4], [5, 6]], rng)
    return keys.public, inputs, rng


def tw_honest(change: Callable[[Group, list[Row]], list[Row]]) -> Callable[[Group], None]:
    """The library's prover, on outputs changed after shuffling (the witness unchanged)."""

    def run(group: Group) -> None:
        pk, inputs, rng = shuffle_inputs(group)
        outputs, witness = shuffle(pk, inputs, rng)
        statement = tw.ShuffleStatement(pk, inputs, change(group, outputs), GEN_CTX)
        proof = tw.prove(statement, witness, transcript=tr(), rng=rng)
        tw.verify(statement, proof, transcript=tr())

    return run


def tw_matrix(
    matrix: Callable[[int], dev.Matrix],
    commit: dev.Matrix | None = None,
    chain: dev.Matrix | None = None,
) -> Callable[[Group], None]:
    """The honest algorithm for the map `matrix(q)` (see tests/shuffle_deviations.py)."""

    def run(group: Group) -> None:
        pk, inputs, rng = shuffle_inputs(group)
        m = matrix(group.order)
        mixed = dev.outputs_for(pk, inputs, m, rng)
        statement = tw.ShuffleStatement(pk, inputs, mixed.outputs, GEN_CTX)
        proof = dev.prove(
            statement,
            mixed.rho,
            m,
            transcript=tr(),
            rng=rng,
            commit_matrix=commit,
            chain_matrix=chain,
        )
        tw.verify(statement, proof, transcript=tr())

    return run


def with_output(group: Group, outputs: list[Row], part: str) -> list[Row]:
    """Output row 1, column 0, with only its `part` multiplied by g."""
    ct = outputs[1][0]
    g = group.generator()
    changed = replace(ct, a=ct.a * g) if part == "a" else replace(ct, b=ct.b * g)
    return [outputs[0], with_ct(outputs[1], 0, changed), outputs[2]]


def powers(q: int) -> dev.Matrix:
    return dev.powers(PSI, q)


def combination(q: int) -> dev.Matrix:
    return dev.combination(N, q)


def tw_lengths(group: Group) -> None:
    pk, inputs, rng = shuffle_inputs(group)
    outputs, witness = shuffle(pk, inputs, rng)
    short = tw.ShuffleStatement(pk, inputs, outputs[:-1], GEN_CTX)
    expect_exact("TW0 lengths", lambda: tw.prove(short, witness, transcript=tr(), rng=rng))
    full = tw.ShuffleStatement(pk, inputs, outputs, GEN_CTX)
    proof = tw.prove(full, witness, transcript=tr(), rng=rng)
    tw.verify(short, proof, transcript=tr())


SHUFFLE: dict[str, Row_] = {
    "an output missing": Row_("TW0 lengths", tw_lengths),
    "an output outside the subgroup": Row_(
        "TW0 membership",
        tw_honest(
            lambda g, out: [
                out[0],
                with_ct(out[1], 1, replace(out[1][1], b=out[1][1].b * nm(g))),
                out[2],
            ]
        ),
        tuple(MODP),
    ),
    "one vote squared, one square-rooted": Row_("TW1", tw_matrix(powers)),
    "two inputs combined": Row_("TW2", tw_matrix(combination)),
    "commits to another permutation": Row_(
        "TW3",
        tw_matrix(lambda q: dev.permutation_matrix(PSI), commit=dev.permutation_matrix(OTHER_PSI)),
    ),
    "only an a changed": Row_("TW4a", tw_honest(lambda g, out: with_output(g, out, "a"))),
    "only a b changed": Row_("TW4b", tw_honest(lambda g, out: with_output(g, out, "b"))),
    "chain of another permutation": Row_(
        "TW5",
        tw_matrix(lambda q: dev.permutation_matrix(PSI), chain=dev.permutation_matrix(OTHER_PSI)),
    ),
}


@pytest.mark.parametrize(("row", "group"), table(SHUFFLE))
def test_shuffle_false_statement(row: Row_, group: Group) -> None:
    expect_exact(row.check, lambda: row.run(group))


def test_tw5_names_the_first_row_whose_chain_step_fails() -> None:
    """TW5 is checked in one batch, then row by row to name i: the chain of OTHER_PSI differs
    from that of PSI from its first step."""
    with pytest.raises(VerificationError) as info:
        SHUFFLE["chain of another permutation"].run(get_group("test-safe-256"))
    assert info.value.detail == "fails at i = 1"


@pytest.mark.parametrize("name", GROUPS)
def test_the_matrix_prover_is_honest_for_a_permutation(name: str) -> None:
    """Without a deviation, `tests/shuffle_deviations.py` makes proofs that verify: so each TW
    row above fails for its one deviation, not for a difference between the two provers."""
    tw_matrix(lambda q: dev.permutation_matrix(PSI))(get_group(name))


def test_the_matrix_prover_proves_what_it_was_given() -> None:
    """The TW1 and TW2 rows change votes: their outputs decrypt to other plaintext elements
    than the inputs (as a multiset), while a permutation keeps them."""
    group = get_group("test-schnorr-512-128")
    rng = DeterministicRandom(6)
    keys = keygen(group, rng)
    inputs, _ = encrypt_rows(keys.public, [[1, 2], [3, 4], [5, 6]], rng)

    def plaintexts(rows: list[Row]) -> list[list[str]]:
        return sorted([(ct.a / ct.b**keys.secret).to_hex() for ct in row] for row in rows)

    for matrix, changes in (
        (powers, True),
        (combination, True),
        (lambda q: dev.permutation_matrix(PSI), False),
    ):
        mixed = dev.outputs_for(keys.public, inputs, matrix(group.order), rng)
        assert (plaintexts(mixed.outputs) != plaintexts(inputs)) == changes
