"""Terelius–Wikström proof of a shuffle of rows (docs/protocol.md §8).

The Haenni et al. pseudo-code form (GenShuffleProof / CheckShuffleProof), for rows of w
ciphertexts shuffled by one permutation, with three engineering choices documented in the
protocol:

- **short challenges**: the batching vector u has `U_BITS`-bit entries and the main challenge c
  has `C_BITS` bits;
- **statistically hiding short randomizers**: ω'_i has `U_BITS + C_BITS + STAT_BITS` bits and
  s'_i = ω'_i + c·u'_i is an integer (not reduced), when q is much longer than that (safe-prime
  groups); otherwise everything is reduced mod q;
- **the commitment chain unrolled**: ĉ_i = g^{R_i}·h^{U_i} with U_i = ∏_{k≤i} u'_k, so every
  ĉ_i and t̂_i is two fixed-base exponentiations and the work parallelises.

Names follow the protocol: inputs e, outputs e', permutation commitment c, chain ĉ, commitments
t_1, t_2, t_3, t_4 (one pair per column), t̂, responses s_1..s_4, ŝ, s'.

The verifier checks (each raises a `VerificationError` naming it):

- TW0  lengths, group membership of every element, ranges of every response;
- TW1  t_1 · c̄^c = g^{s_1}                           with c̄ = ∏c_j / ∏h_j
- TW2  t_2 · ĉ^c = g^{s_2}                           with ĉ = ĉ_N / h^{∏u_j}
- TW3  t_3 · c̃^c = g^{s_3} · ∏h_i^{s'_i}            with c̃ = ∏c_j^{u_j}
- TW4a t_{4,a,k} · a*_k^c · pk^{s_{4,k}} = ∏a'_{i,k}^{s'_i}    with a*_k = ∏a_{j,k}^{u_j}
- TW4b t_{4,b,k} · b*_k^c · g^{s_{4,k}} = ∏b'_{i,k}^{s'_i}     with b*_k = ∏b_{j,k}^{u_j}
- TW5  t̂_i · ĉ_i^c = g^{ŝ_i} · ĉ_{i−1}^{s'_i} for every i (ĉ_0 = h), checked in one batch with
       random 128-bit weights, and one by one only to name the failing i.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from mixnet.elgamal import Ciphertext, Row
from mixnet.errors import DecodeError, VerificationError
from mixnet.generators import GeneratorSet, derive_generators
from mixnet.groups.base import BATCH_BITS, Element, Group
from mixnet.rng import RandomSource, system_random
from mixnet.transcript import Label, Transcript

if TYPE_CHECKING:
    from mixnet.shuffle.shuffle import ShuffleWitness

__all__ = [
    "C_BITS",
    "GENERATOR_PURPOSE",
    "STAT_BITS",
    "U_BITS",
    "ShuffleProof",
    "ShuffleStatement",
    "prove",
    "verify",
]

U_BITS: Final = 160  # batching vector u: soundness error ≤ N / 2^160
C_BITS: Final = 128  # main challenge c
STAT_BITS: Final = 128  # statistical hiding of the short randomizers ω'
GENERATOR_PURPOSE: Final = "shuffle"


def _short_responses(group: Group) -> bool:
    """Integer responses s' when q is much longer than the randomizer (safe-prime groups)."""
    return group.order.bit_length() > U_BITS + C_BITS + STAT_BITS + 64


def _sequential_chain(group: Group) -> bool:
    """Build the chain step by step when q is long (a table power costs |q|/8 products)."""
    return group.order.bit_length() > 4 * U_BITS


def _s_prime_bound(group: Group) -> int:
    if _short_responses(group):
        return 1 << (U_BITS + C_BITS + STAT_BITS + 1)
    return group.order


@dataclass(frozen=True)
class ShuffleStatement:
    """pk, the input rows e and output rows e'; `generator_context` binds h, h_1..h_N."""

    pk: Element
    inputs: Sequence[Row]
    outputs: Sequence[Row]
    generator_context: Any

    @property
    def group(self) -> Group:
        return self.pk.group

    @property
    def width(self) -> int:
        return len(self.inputs[0]) if self.inputs else 0


@dataclass(frozen=True)
class ShuffleProof:
    c: tuple[Element, ...]  # permutation commitment, by input index
    c_hat: tuple[Element, ...]  # commitment chain ĉ_1..ĉ_N
    t1: Element
    t2: Element
    t3: Element
    t4a: tuple[Element, ...]  # one per column
    t4b: tuple[Element, ...]
    t_hat: tuple[Element, ...]
    s1: int
    s2: int
    s3: int
    s4: tuple[int, ...]
    s_hat: tuple[int, ...]
    s_prime: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        def hexes(xs: Sequence[Element]) -> list[str]:
            return [x.to_hex() for x in xs]

        group = self.t1.group
        sw = group.scalar_bytes
        pw = (_s_prime_bound(group).bit_length() + 7) // 8

        def sc(v: int, width: int = sw) -> str:
            return format(v, f"0{2 * width}x")

        return {
            "c": hexes(self.c),
            "c_hat": hexes(self.c_hat),
            "t1": self.t1.to_hex(),
            "t2": self.t2.to_hex(),
            "t3": self.t3.to_hex(),
            "t4a": hexes(self.t4a),
            "t4b": hexes(self.t4b),
            "t_hat": hexes(self.t_hat),
            "s1": sc(self.s1),
            "s2": sc(self.s2),
            "s3": sc(self.s3),
            "s4": [sc(v) for v in self.s4],
            "s_hat": [sc(v) for v in self.s_hat],
            "s_prime": [sc(v, pw) for v in self.s_prime],
        }

    @classmethod
    def from_json(
        cls,
        group: Group,
        data: Any,
        n: int,
        width: int,
        rng: RandomSource | None = None,
        executor: Executor | None = None,
    ) -> ShuffleProof:
        """Decode; lengths, hex form, element membership and scalar ranges are checked."""
        from mixnet.encoding import hex_to_int

        keys = {
            "c",
            "c_hat",
            "t1",
            "t2",
            "t3",
            "t4a",
            "t4b",
            "t_hat",
            "s1",
            "s2",
            "s3",
            "s4",
            "s_hat",
            "s_prime",
        }
        if not isinstance(data, dict) or set(data) != keys:
            raise DecodeError("a shuffle proof has exactly the fields " + ", ".join(sorted(keys)))
        lengths = {
            "c": n,
            "c_hat": n,
            "t_hat": n,
            "s_hat": n,
            "s_prime": n,
            "t4a": width,
            "t4b": width,
            "s4": width,
        }
        for key, length in lengths.items():
            if not isinstance(data[key], list) or len(data[key]) != length:
                raise DecodeError(f"shuffle proof field {key} must have {length} items")
        sw = group.scalar_bytes
        bound = _s_prime_bound(group)
        pw = (bound.bit_length() + 7) // 8

        def scalar(text: object) -> int:
            v = hex_to_int(text, sw)
            if v >= group.order:
                raise DecodeError("response ≥ q")
            return v

        def s_prime(text: object) -> int:
            v = hex_to_int(text, pw)
            if v >= bound:
                raise DecodeError("response s' out of range")
            return v

        elements = group.elements_from_hex(
            [
                *data["c"],
                *data["c_hat"],
                *data["t_hat"],
                *data["t4a"],
                *data["t4b"],
                data["t1"],
                data["t2"],
                data["t3"],
            ],
            rng,
            executor,
        )
        c, c_hat, t_hat = elements[:n], elements[n : 2 * n], elements[2 * n : 3 * n]
        t4a = elements[3 * n : 3 * n + width]
        t4b = elements[3 * n + width : 3 * n + 2 * width]
        t1, t2, t3 = elements[3 * n + 2 * width :]
        return cls(
            tuple(c),
            tuple(c_hat),
            t1,
            t2,
            t3,
            tuple(t4a),
            tuple(t4b),
            tuple(t_hat),
            scalar(data["s1"]),
            scalar(data["s2"]),
            scalar(data["s3"]),
            tuple(scalar(v) for v in data["s4"]),
            tuple(scalar(v) for v in data["s_hat"]),
            tuple(s_prime(v) for v in data["s_prime"]),
        )


def _rows_tlv(rows: Sequence[Row]) -> Any:
    return ([[ct.a, ct.b] for ct in row] for row in rows)


def _absorb_statement(
    transcript: Transcript, statement: ShuffleStatement, gens: GeneratorSet
) -> None:
    n = len(statement.inputs)
    transcript.append("proof", Label.SHUFFLE)
    transcript.append("group", statement.group.description())
    transcript.append("parameters", [U_BITS, C_BITS, STAT_BITS])
    transcript.append("generators", gens.seed)
    transcript.append("pk", statement.pk)
    transcript.append("shape", [n, statement.width])
    transcript.append_list("inputs", _rows_tlv(statement.inputs), n)
    transcript.append_list("outputs", _rows_tlv(statement.outputs), n)


def _absorb_commitments(transcript: Transcript, p: ShuffleProof) -> None:
    transcript.append_list("c_hat", p.c_hat, len(p.c_hat))
    transcript.append("t", [p.t1, p.t2, p.t3, list(p.t4a), list(p.t4b)])
    transcript.append_list("t_hat", p.t_hat, len(p.t_hat))


def _check_shape(statement: ShuffleStatement) -> None:
    n = len(statement.inputs)
    if n == 0 or len(statement.outputs) != n:
        raise VerificationError(
            "TW0 lengths", "input and output lists differ in length or are empty"
        )
    width = statement.width
    if width == 0 or any(len(r) != width for r in (*statement.inputs, *statement.outputs)):
        raise VerificationError("TW0 lengths", "rows of different widths")


def prove(
    statement: ShuffleStatement,
    witness: ShuffleWitness,
    *,
    transcript: Transcript,
    rng: RandomSource,
    executor: Executor | None = None,
) -> ShuffleProof:
    """GenShuffleProof for rows; the witness is the permutation and re-encryption randomness."""
    _check_shape(statement)
    group, pk = statement.group, statement.pk
    q = group.order
    n, width = len(statement.inputs), statement.width
    psi = witness.permutation
    g = group.generator()
    gens = derive_generators(group, statement.generator_context, GENERATOR_PURPOSE, n, executor)
    h, hs = gens.h, gens.hs
    _absorb_statement(transcript, statement, gens)

    # permutation commitment: c_{ψ(i)} = g^{r_{ψ(i)}} · h_i
    r = [rng.randbelow(q) for _ in range(n)]
    g_r = group.fixed_base_pows(g, r, executor)
    c: list[Element] = [g] * n
    for i in range(n):
        j = psi[i]
        c[j] = g_r[j] * hs[i]
    transcript.append_list("c", c, n)
    u = transcript.challenge_vector(Label.SHUFFLE_U, n, U_BITS)
    u_p = [u[psi[i]] for i in range(n)]

    # commitment chain: ĉ_i = g^{r̂_i}·ĉ_{i−1}^{u'_i} = g^{R_i}·h^{U_i}, ĉ_0 = h (R_0 = 0, U_0 = 1)
    big_u = []
    acc = 1
    for v in u_p:
        acc = acc * v % q
        big_u.append(acc)
    if _sequential_chain(group):
        # long exponents: one short variable-base power per step beats a second table power
        r_hat = [rng.randbelow(q) for _ in range(n)]
        g_r_hat = group.fixed_base_pows(g, r_hat, executor)
        c_hat = []
        previous = h
        for i in range(n):
            previous = g_r_hat[i] * previous ** u_p[i]
            c_hat.append(previous)
        big_r = []
        acc = 0
        for i in range(n):
            acc = (r_hat[i] + u_p[i] * acc) % q
            big_r.append(acc)
    else:
        # short exponents: two table powers per step, all in parallel
        big_r = [rng.randbelow(q) for _ in range(n)]
        c_hat = [
            a * b
            for a, b in zip(
                group.fixed_base_pows(g, big_r, executor),
                group.fixed_base_pows(h, big_u, executor),
            )
        ]
    prev_r = [0, *big_r[:-1]]
    prev_u = [1, *big_u[:-1]]
    if not _sequential_chain(group):
        r_hat = [(big_r[i] - u_p[i] * prev_r[i]) % q for i in range(n)]

    # randomizers
    short = _short_responses(group)
    w1, w2, w3 = (rng.randbelow(q) for _ in range(3))
    w4 = [rng.randbelow(q) for _ in range(width)]
    w_hat = [rng.randbelow(q) for _ in range(n)]
    if short:
        w_p = [rng.randbits(U_BITS + C_BITS + STAT_BITS) for _ in range(n)]
    else:
        w_p = [rng.randbelow(q) for _ in range(n)]

    t1 = g**w1
    t2 = g**w2
    t3 = g**w3 * group.multi_exp(hs, w_p, executor)
    t4a = tuple(
        pk ** (q - w4[k]) * group.multi_exp([row[k].a for row in statement.outputs], w_p, executor)
        for k in range(width)
    )
    t4b = tuple(
        g ** (q - w4[k]) * group.multi_exp([row[k].b for row in statement.outputs], w_p, executor)
        for k in range(width)
    )
    # t̂_i = g^{ω̂_i}·ĉ_{i−1}^{ω'_i} = g^{ω̂_i + ω'_i·R_{i−1}} · h^{ω'_i·U_{i−1}}
    t_hat = [
        a * b
        for a, b in zip(
            group.fixed_base_pows(
                g, [(w_hat[i] + w_p[i] * prev_r[i]) % q for i in range(n)], executor
            ),
            group.fixed_base_pows(h, [w_p[i] * prev_u[i] % q for i in range(n)], executor),
        )
    ]
    partial = ShuffleProof(
        tuple(c), tuple(c_hat), t1, t2, t3, t4a, t4b, tuple(t_hat), 0, 0, 0, (), (), ()
    )
    _absorb_commitments(transcript, partial)
    ch = transcript.challenge_bits(Label.SHUFFLE_C, C_BITS)

    r_bar = sum(r) % q
    r_tilde = sum(rj * uj for rj, uj in zip(r, u)) % q
    r_2 = [sum(witness.randomness[j][k] * u[j] for j in range(n)) % q for k in range(width)]
    s_prime = [w_p[i] + ch * u_p[i] for i in range(n)]
    if not short:
        s_prime = [v % q for v in s_prime]
    return ShuffleProof(
        tuple(c),
        tuple(c_hat),
        t1,
        t2,
        t3,
        t4a,
        t4b,
        tuple(t_hat),
        s1=(w1 + ch * r_bar) % q,
        s2=(w2 + ch * big_r[-1]) % q,
        s3=(w3 + ch * r_tilde) % q,
        s4=tuple((w4[k] + ch * r_2[k]) % q for k in range(width)),
        s_hat=tuple((w_hat[i] + ch * r_hat[i]) % q for i in range(n)),
        s_prime=tuple(s_prime),
    )


def verify(
    statement: ShuffleStatement,
    proof: ShuffleProof,
    *,
    transcript: Transcript,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> None:
    """CheckShuffleProof for rows: return None or raise `VerificationError` naming the check."""
    _check_shape(statement)
    group, pk = statement.group, statement.pk
    q = group.order
    n, width = len(statement.inputs), statement.width
    g = group.generator()

    # TW0: shapes, ranges, membership
    if not (len(proof.c) == len(proof.c_hat) == len(proof.t_hat) == n):
        raise VerificationError("TW0 lengths", "commitment vectors must have N entries")
    if not (len(proof.s_hat) == len(proof.s_prime) == n):
        raise VerificationError("TW0 lengths", "response vectors must have N entries")
    if not (len(proof.t4a) == len(proof.t4b) == len(proof.s4) == width):
        raise VerificationError("TW0 lengths", "t4 and s4 must have one entry per column")
    for name, v in (("s1", proof.s1), ("s2", proof.s2), ("s3", proof.s3)):
        if not 0 <= v < q:
            raise VerificationError("TW0 range", f"{name} is not in [0, q)")
    if any(not 0 <= v < q for v in (*proof.s4, *proof.s_hat)):
        raise VerificationError("TW0 range", "a response s4 or ŝ is not in [0, q)")
    bound = _s_prime_bound(group)
    if any(not 0 <= v < bound for v in proof.s_prime):
        raise VerificationError("TW0 range", "a response s' is out of range")
    elements: list[Element] = [pk]
    for row in (*statement.inputs, *statement.outputs):
        for ct in row:
            elements += (ct.a, ct.b)
    elements += [*proof.c, *proof.c_hat, *proof.t_hat, *proof.t4a, *proof.t4b]
    elements += [proof.t1, proof.t2, proof.t3]
    group.check_members(elements, rng, executor, check="TW0 membership")

    gens = derive_generators(group, statement.generator_context, GENERATOR_PURPOSE, n, executor)
    h, hs = gens.h, gens.hs
    _absorb_statement(transcript, statement, gens)
    transcript.append_list("c", proof.c, n)
    u = transcript.challenge_vector(Label.SHUFFLE_U, n, U_BITS)
    _absorb_commitments(transcript, proof)
    ch = transcript.challenge_bits(Label.SHUFFLE_C, C_BITS)

    # TW1: t1 · c̄^c = g^{s1}
    prod_c = group.identity()
    prod_h = group.identity()
    for cj, hj in zip(proof.c, hs):
        prod_c = prod_c * cj
        prod_h = prod_h * hj
    c_bar = prod_c / prod_h
    if proof.t1 * c_bar**ch != g**proof.s1:
        raise VerificationError(
            "TW1 t1·c̄^c = g^s1", "the commitment is not to a matrix whose columns sum to one"
        )

    # TW2: t2 · ĉ^c = g^{s2}, ĉ = ĉ_N / h^{∏u}
    u_prod = 1
    for v in u:
        u_prod = u_prod * v % q
    c_hat_agg = proof.c_hat[-1] / h**u_prod
    if proof.t2 * c_hat_agg**ch != g**proof.s2:
        raise VerificationError(
            "TW2 t2·ĉ^c = g^s2",
            "the commitment chain does not end in the product of the challenges",
        )

    # TW3: t3 · c̃^c = g^{s3} · ∏h_i^{s'_i}
    c_tilde = group.multi_exp(proof.c, u, executor)
    if proof.t3 * c_tilde**ch != g**proof.s3 * group.multi_exp(hs, proof.s_prime, executor):
        raise VerificationError(
            "TW3 t3·c̃^c = g^s3·∏h_i^s'_i", "the commitment is not to the permuted challenges"
        )

    # TW4: one pair of equations per column
    for k in range(width):
        col_in: list[Ciphertext] = [row[k] for row in statement.inputs]
        col_out: list[Ciphertext] = [row[k] for row in statement.outputs]
        a_star = group.multi_exp([ct.a for ct in col_in], u, executor)
        b_star = group.multi_exp([ct.b for ct in col_in], u, executor)
        rhs_a = group.multi_exp([ct.a for ct in col_out], proof.s_prime, executor)
        if proof.t4a[k] * a_star**ch * pk ** proof.s4[k] != rhs_a:
            raise VerificationError(
                "TW4a t4a·a*^c·pk^s4 = ∏a'_i^s'_i",
                f"column {k}: outputs are not a re-encryption of the inputs",
            )
        rhs_b = group.multi_exp([ct.b for ct in col_out], proof.s_prime, executor)
        if proof.t4b[k] * b_star**ch * g ** proof.s4[k] != rhs_b:
            raise VerificationError(
                "TW4b t4b·b*^c·g^s4 = ∏b'_i^s'_i",
                f"column {k}: outputs are not a re-encryption of the inputs",
            )

    # TW5: t̂_i · ĉ_i^c = g^{ŝ_i} · ĉ_{i−1}^{s'_i}, batched with weights δ_i
    delta = [rng.randbits(BATCH_BITS) | 1 for _ in range(n)]
    lhs = group.multi_exp(
        [*proof.t_hat, *proof.c_hat], [*delta, *(d * ch for d in delta)], executor
    )
    g_exp = sum(d * s for d, s in zip(delta, proof.s_hat)) % q
    prev = [h, *proof.c_hat[:-1]]
    rhs = g**g_exp * group.multi_exp(prev, [d * s for d, s in zip(delta, proof.s_prime)], executor)
    if lhs != rhs:
        for i in range(n):
            if (
                proof.t_hat[i] * proof.c_hat[i] ** ch
                != g ** proof.s_hat[i] * prev[i] ** proof.s_prime[i]
            ):
                raise VerificationError(
                    "TW5 t̂_i·ĉ_i^c = g^ŝ_i·ĉ_{i−1}^s'_i", f"fails at i = {i + 1}"
                )
        raise VerificationError("TW5 t̂_i·ĉ_i^c = g^ŝ_i·ĉ_{i−1}^s'_i", "batch check fails")
