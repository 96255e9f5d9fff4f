"""A shuffle prover that follows the honest algorithm of `mixnet.shuffle.proof.prove` step by
step, but for a statement the honest prover cannot express: outputs that are any linear map of
the inputs (not only a permutation), and commitments to any matrix.

The honest prover takes a permutation ψ, so its commitment c, its chain ĉ and its responses s'
always describe the same permutation, and TW1, TW2, TW3 and TW5 hold for every statement it is
given. Those four equations guard against a prover that departs from that: this one takes

- `matrix` M (n × n, entries mod q): output i is ∏_j e_j^{N_ij} re-encrypted with ρ_i, where
  N = M^{-T} — so TW4a/TW4b hold for u' = M·u — and u' = M·u enters s';
- `commit_matrix` (default M): the matrix c commits to, c_j = g^{r_j}·∏_i h_i^{M_ij};
- `chain_matrix` (default M): the chain ĉ is built from its u'' = M''·u instead of u'.

With M a permutation matrix and no other change, its proofs verify (the test checks that), so
each false statement below differs from an honest proof in that one way only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mixnet.elgamal import Ciphertext, Row
from mixnet.generators import derive_generators
from mixnet.groups import Element, Group
from mixnet.rng import RandomSource
from mixnet.shuffle import proof as tw
from mixnet.transcript import Label, Transcript

Matrix = list[list[int]]


def permutation_matrix(psi: Sequence[int]) -> Matrix:
    """M_ij = 1 when output i is input ψ(i)."""
    n = len(psi)
    return [[int(psi[i] == j) for j in range(n)] for i in range(n)]


def inverse_transpose(m: Matrix, q: int) -> Matrix:
    """M^{-T} mod q by Gauss–Jordan elimination (M must be invertible)."""
    n = len(m)
    aug = [[*row, *(int(i == j) for j in range(n))] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if aug[r][col] % q)
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = pow(aug[col][col], -1, q)
        aug[col] = [v * inv % q for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col]:
                f = aug[r][col]
                aug[r] = [(v - f * w) % q for v, w in zip(aug[r], aug[col])]
    inverse = [row[n:] for row in aug]
    return [[inverse[j][i] for j in range(n)] for i in range(n)]


def apply(m: Matrix, u: Sequence[int], q: int) -> list[int]:
    return [sum(mij * uj for mij, uj in zip(row, u)) % q for row in m]


@dataclass(frozen=True)
class MatrixShuffle:
    """Outputs of `outputs_for` and the ρ used, for `prove`."""

    outputs: list[Row]
    rho: list[list[int]]  # by output row and column


def outputs_for(pk: Element, inputs: Sequence[Row], m: Matrix, rng: RandomSource) -> MatrixShuffle:
    """e'_i = ∏_j e_j^{N_ij} · (pk^{ρ_ik}, g^{ρ_ik}) column by column, N = M^{-T}."""
    group = pk.group
    q, g = group.order, group.generator()
    n_mat = inverse_transpose(m, q)
    width = len(inputs[0])
    rho = [[rng.randbelow(q) for _ in range(width)] for _ in inputs]
    outputs = []
    for i, weights in enumerate(n_mat):
        row = []
        for k in range(width):
            a = group.multi_exp([r[k].a for r in inputs], weights) * pk ** rho[i][k]
            b = group.multi_exp([r[k].b for r in inputs], weights) * g ** rho[i][k]
            row.append(Ciphertext(a, b))
        outputs.append(tuple(row))
    return MatrixShuffle(outputs, rho)


def prove(
    statement: tw.ShuffleStatement,
    rho: Sequence[Sequence[int]],
    m: Matrix,
    *,
    transcript: Transcript,
    rng: RandomSource,
    commit_matrix: Matrix | None = None,
    chain_matrix: Matrix | None = None,
) -> tw.ShuffleProof:
    """The honest algorithm with the matrices above (groups where s' is reduced mod q)."""
    group: Group = statement.group
    pk, q, g = statement.pk, group.order, group.generator()
    n, width = len(statement.inputs), statement.width
    gens = derive_generators(group, statement.generator_context, tw.GENERATOR_PURPOSE, n)
    h, hs = gens.h, gens.hs
    tw._absorb_statement(transcript, statement, gens)

    committed = m if commit_matrix is None else commit_matrix
    r = [rng.randbelow(q) for _ in range(n)]
    c = [g ** r[j] * group.multi_exp(hs, [committed[i][j] for i in range(n)]) for j in range(n)]
    transcript.append_list("c", c, n)
    u = transcript.challenge_vector(Label.SHUFFLE_U, n, tw.U_BITS)
    u_p = apply(m, u, q)
    u_chain = apply(m if chain_matrix is None else chain_matrix, u, q)

    r_hat = [rng.randbelow(q) for _ in range(n)]
    c_hat, big_r = [], []
    previous, acc = h, 0
    for i in range(n):
        previous = g ** r_hat[i] * previous ** u_chain[i]
        c_hat.append(previous)
        acc = (r_hat[i] + u_chain[i] * acc) % q
        big_r.append(acc)
    prev = [h, *c_hat[:-1]]

    w1, w2, w3 = (rng.randbelow(q) for _ in range(3))
    w4 = [rng.randbelow(q) for _ in range(width)]
    w_hat = [rng.randbelow(q) for _ in range(n)]
    w_p = [rng.randbelow(q) for _ in range(n)]
    column = [[row[k] for row in statement.outputs] for k in range(width)]
    t4a = tuple(
        pk ** (q - w4[k]) * group.multi_exp([ct.a for ct in column[k]], w_p) for k in range(width)
    )
    t4b = tuple(
        g ** (q - w4[k]) * group.multi_exp([ct.b for ct in column[k]], w_p) for k in range(width)
    )
    t_hat = tuple(g ** w_hat[i] * prev[i] ** w_p[i] for i in range(n))
    t1, t2 = g**w1, g**w2
    t3 = g**w3 * group.multi_exp(hs, w_p)
    partial = tw.ShuffleProof(
        tuple(c), tuple(c_hat), t1, t2, t3, t4a, t4b, t_hat, 0, 0, 0, (), (), ()
    )
    tw._absorb_commitments(transcript, partial)
    ch = transcript.challenge_bits(Label.SHUFFLE_C, tw.C_BITS)

    r_tilde = sum(rj * uj for rj, uj in zip(r, u)) % q
    r_2 = [sum(rho[i][k] * u_p[i] for i in range(n)) % q for k in range(width)]
    return tw.ShuffleProof(
        tuple(c),
        tuple(c_hat),
        t1,
        t2,
        t3,
        t4a,
        t4b,
        t_hat,
        s1=(w1 + ch * sum(r)) % q,
        s2=(w2 + ch * big_r[-1]) % q,
        s3=(w3 + ch * r_tilde) % q,
        s4=tuple((w4[k] + ch * r_2[k]) % q for k in range(width)),
        s_hat=tuple((w_hat[i] + ch * r_hat[i]) % q for i in range(n)),
        s_prime=tuple((w_p[i] + ch * u_p[i]) % q for i in range(n)),
    )


def powers(psi: Sequence[int], q: int) -> Matrix:
    """ψ with output 0 raised to 1/2 and output 1 squared: the rows of M sum to 2 and 1/2 (not
    one), while ∏(M·u) = ∏u — only TW1 sees it."""
    m = permutation_matrix(psi)
    m[0] = [v * 2 % q for v in m[0]]
    m[1] = [v * pow(2, -1, q) % q for v in m[1]]
    return m


def combination(n: int, q: int) -> Matrix:
    """The identity with row 0 = (2, −1, 0, …): every row sums to one, but ∏(M·u) ≠ ∏u —
    only TW2 sees it. Output 0 = e_0^(1/2), output 1 = e_0^(1/2)·e_1."""
    m = permutation_matrix(range(n))
    m[0][:2] = [2, q - 1]
    return m
