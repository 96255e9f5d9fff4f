"""Verificatum's proof of a shuffle (Terelius–Wikström), prover and verifier side by side.

(docs/vmn.md §6.) Notation as in Verificatum's verifier document and its test vectors (the
names ``vmnv -t`` prints): input list w, output list w′ of N ciphertexts of width ω, public key
pk, generators h, permutation commitment u, commitment τ = (B, A′, B′, C′, D′, F′), reply
σ = (k_A, k_B, k_C, k_D, k_E, k_F).

1. s = RO(ρ ‖ node(g, h, u, pk, w, w′)); e = PRG(s) as N integers of n_e bits (PoS.s).
2. v = RO_{n_v}(ρ ‖ node(leaf(s), τ)) (PoS.v).
3. A = ∏ u_i^{e_i}, F = ∏ w_i^{e_i}, C = ∏ u_i / ∏ h_i, D = B_{N−1} / h_0^{∏ e_i}; accept iff
   PoS.A: A^v A′ = g^{k_A} ∏ h_i^{k_{E,i}},
   PoS.B: B_i^v B′_i = g^{k_{B,i}} B_{i−1}^{k_{E,i}} for every i, with B_{−1} = h_0,
   PoS.C: C^v C′ = g^{k_C},
   PoS.D: D^v D′ = g^{k_D},
   PoS.F: F^v F′ = Enc_pk(1, −k_F) ∏ w′_i^{k_{E,i}}.

Output i is input π(i) re-encrypted: w′_i = w_{π(i)} · Enc_pk(1, s_{π(i)}), where tohyo's
`ShuffleWitness` has π = permutation and s = randomness (indexed by input row). The N checks
PoS.B are verified together by one random linear combination (small exponents of 128 bits), so
a false proof passes with probability at most 2^-128 beyond the proof's own soundness error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING

from mixnet.elgamal import Row
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups.base import BATCH_BITS, Element, Group
from mixnet.rng import RandomSource
from mixnet.vmn.bytetree import ByteTree, Leaf, Node, children, decode, encode
from mixnet.vmn.groups import VmnGroup
from mixnet.vmn.session import VmnSession, ciphertexts_tree

if TYPE_CHECKING:  # a type only: the verifier never imports the shuffle itself
    from mixnet.shuffle.shuffle import ShuffleWitness

__all__ = ["PosProof", "prove", "verify"]


@dataclass(frozen=True)
class PosProof:
    """The three proof files of one mixer: PermutationCommitment, PoSCommitment, PoSReply."""

    permutation_commitment: bytes
    commitment: bytes
    reply: bytes


@dataclass(frozen=True)
class _Statement:
    session: VmnSession
    pk: Element
    inputs: Sequence[Row]
    outputs: Sequence[Row]

    @property
    def width(self) -> int:
        return len(self.inputs[0])

    def setup(self) -> tuple[Group, VmnGroup, int, int, Element, list[Element]]:
        """group, its codecs, q, N, g and the generators h_0 … h_{N−1}."""
        s, n = self.session, len(self.inputs)
        group = s.group
        return group, s.vgroup, group.order, n, group.generator(), s.generators(n)


def _seed_tree(st: _Statement, h: Sequence[Element], u_tree: ByteTree) -> Node:
    s, vg = st.session, st.session.vgroup
    return Node(
        (
            vg.element_tree(s.group.generator()),
            vg.elements_tree(h),
            u_tree,
            s.wide_public_key_tree(st.pk, st.width),
            ciphertexts_tree(vg, st.inputs, st.width),
            ciphertexts_tree(vg, st.outputs, st.width),
        )
    )


def _ciphertext_tree(st: _Statement, parts: Sequence[tuple[Element, Element]]) -> ByteTree:
    """One ciphertext of width ω, parts[k] = (u_k, v_k): node(u, v) or node(node(u…), node(v…))."""
    vg = st.session.vgroup
    if st.width == 1:
        return Node((vg.element_tree(parts[0][0]), vg.element_tree(parts[0][1])))
    return Node(
        (
            Node(tuple(vg.element_tree(u) for u, _ in parts)),
            Node(tuple(vg.element_tree(v) for _, v in parts)),
        )
    )


def _ciphertext_from_tree(st: _Statement, tree: ByteTree) -> list[tuple[Element, Element]]:
    vg = st.session.vgroup
    u_t, v_t = children(tree, 2, "ciphertext")
    if st.width == 1:
        return [(vg.element_from_tree(u_t), vg.element_from_tree(v_t))]
    us = children(u_t, st.width, "ciphertext (u)")
    vs = children(v_t, st.width, "ciphertext (v)")
    return [(vg.element_from_tree(a), vg.element_from_tree(b)) for a, b in zip(us, vs)]


def _scalars_or_one(st: _Statement, tree: ByteTree) -> list[int]:
    """k_F: one exponent for width 1, a node of ω exponents otherwise."""
    vg = st.session.vgroup
    if st.width == 1:
        return [vg.scalar_from_tree(tree)]
    return vg.scalars_from_tree(tree, st.width)


def _batch(st: _Statement, h: Sequence[Element], u_tree: ByteTree) -> tuple[bytes, list[int]]:
    s = st.session
    seed = s.seed(_seed_tree(st, h, u_tree))
    q = s.group.order
    return seed, [e % q for e in s.prg(seed).integers(len(h), s.params.ebitlenro)]


def _rows_power(
    st: _Statement, rows: Sequence[Row], exps: Sequence[int]
) -> list[tuple[Element, Element]]:
    """∏ rows_i^{exps_i} componentwise, as (u_k, v_k) per column."""
    group = st.session.group
    out = []
    for k in range(st.width):
        u = group.multi_exp([r[k].b for r in rows], exps)
        v = group.multi_exp([r[k].a for r in rows], exps)
        out.append((u, v))
    return out


def prove(
    session: VmnSession,
    pk: Element,
    inputs: Sequence[Row],
    outputs: Sequence[Row],
    witness: ShuffleWitness,
    rng: RandomSource,
) -> PosProof:
    """The proof files Verificatum's PoSBasicTW writes for this shuffle."""
    st = _Statement(session, pk, inputs, outputs)
    group, vg, q, n, g, h = st.setup()
    pi, s = witness.permutation, witness.randomness

    def rand() -> int:
        return rng.randbelow(q)

    # permutation commitment: u_{π(i)} = g^{r_i} h_i
    r = [rand() for _ in range(n)]
    g_r = group.fixed_base_pows(g, r)
    u: list[Element] = [group.identity()] * n
    for i in range(n):
        u[pi[i]] = g_r[i] * h[i]
    u_tree = vg.elements_tree(u)
    seed, e = _batch(st, h, u_tree)
    ipe = [e[pi[i]] % q for i in range(n)]  # e′_i = e_{π(i)}

    b = [rand() for _ in range(n)]
    x, y = [0] * n, [0] * n
    acc_x, acc_y = 0, 1
    for i in range(n):
        acc_x = (acc_x * ipe[i] + b[i]) % q
        acc_y = acc_y * ipe[i] % q
        x[i], y[i] = acc_x, acc_y
    h0 = h[0]
    big_b = [a * c for a, c in zip(group.fixed_base_pows(g, x), group.fixed_base_pows(h0, y))]
    alpha, gamma, delta = rand(), rand(), rand()
    beta = [rand() for _ in range(n)]
    # ε of n_e + n_v + n_r bits, as Verificatum draws it: it hides e′v within 2^-n_r and keeps
    # k_E short (about 1100 bits in a 2048-bit group), which makes proving and verifying cheaper
    pm = session.params
    eps_bits = pm.ebitlenro + pm.vbitlenro + pm.statdist
    eps = [rng.randbits(eps_bits) % q for _ in range(n)]
    phi = [rand() for _ in range(st.width)]
    xs = [0, *x[:-1]]
    ys = [1, *y[:-1]]
    g_part = group.fixed_base_pows(g, [(beta[i] + xs[i] * eps[i]) % q for i in range(n)])
    h_part = group.fixed_base_pows(h0, [ys[i] * eps[i] % q for i in range(n)])
    big_bp = [a * c for a, c in zip(g_part, h_part)]
    a_p = (g**alpha) * group.multi_exp(h, eps)
    c_p, d_p = g**gamma, g**delta
    w_eps = _rows_power(st, outputs, eps)
    f_p = [
        (g ** (-phi[k] % q) * w_eps[k][0], pk ** (-phi[k] % q) * w_eps[k][1])
        for k in range(st.width)
    ]
    commitment = Node(
        (
            vg.elements_tree(big_b),
            vg.element_tree(a_p),
            vg.elements_tree(big_bp),
            vg.element_tree(c_p),
            vg.element_tree(d_p),
            _ciphertext_tree(st, f_p),
        )
    )
    v = session.challenge(Node((Leaf(seed), commitment)))
    a = sum(ri * ei for ri, ei in zip(r, ipe)) % q
    c = sum(r) % q
    f = [sum(s[j][k] * e[j] for j in range(n)) % q for k in range(st.width)]
    k_f = [(f[k] * v + phi[k]) % q for k in range(st.width)]
    reply = Node(
        (
            vg.scalar_tree(a * v + alpha),
            vg.scalars_tree([bi * v + be for bi, be in zip(b, beta)]),
            vg.scalar_tree(c * v + gamma),
            vg.scalar_tree(x[-1] * v + delta),
            vg.scalars_tree([ie * v + ep for ie, ep in zip(ipe, eps)]),
            vg.scalar_tree(k_f[0]) if st.width == 1 else vg.scalars_tree(k_f),
        )
    )
    return PosProof(encode(u_tree), encode(commitment), encode(reply))


def verify(
    session: VmnSession,
    pk: Element,
    inputs: Sequence[Row],
    outputs: Sequence[Row],
    proof: PosProof,
    rng: RandomSource,
) -> None:
    """Raise `VerificationError` naming the failed check (vmnv's test-vector names)."""
    st = _Statement(session, pk, inputs, outputs)
    if len(outputs) != len(inputs) or any(len(r) != st.width for r in [*inputs, *outputs]):
        raise VerificationError("PoS.shape", "input and output lists differ in shape")
    group, vg, q, n, g, h = st.setup()
    try:
        u_tree = decode(proof.permutation_commitment)
        u = vg.elements_from_tree(u_tree, n)
    except DecodeError as exc:
        raise VerificationError("u", f"permutation commitment malformed: {exc}") from exc
    seed, e = _batch(st, h, u_tree)
    try:
        tau = decode(proof.commitment)
        b_t, ap_t, bp_t, cp_t, dp_t, fp_t = children(tau, 6, "PoS commitment")
        big_b = vg.elements_from_tree(b_t, n)
        a_p = vg.element_from_tree(ap_t)
        big_bp = vg.elements_from_tree(bp_t, n)
        c_p, d_p = vg.element_from_tree(cp_t), vg.element_from_tree(dp_t)
        f_p = _ciphertext_from_tree(st, fp_t)
    except DecodeError as exc:
        raise VerificationError("PoS.commitment", f"malformed: {exc}") from exc
    v = session.challenge(Node((Leaf(seed), tau)))
    try:
        ka_t, kb_t, kc_t, kd_t, ke_t, kf_t = children(decode(proof.reply), 6, "PoS reply")
        k_a = vg.scalar_from_tree(ka_t)
        k_b = vg.scalars_from_tree(kb_t, n)
        k_c, k_d = vg.scalar_from_tree(kc_t), vg.scalar_from_tree(kd_t)
        k_e = vg.scalars_from_tree(ke_t, n)
        k_f = _scalars_or_one(st, kf_t)
    except DecodeError as exc:
        raise VerificationError("PoS.reply", f"malformed: {exc}") from exc

    big_a = group.multi_exp(u, e)
    if big_a**v * a_p != (g**k_a) * group.multi_exp(h, k_e):
        raise VerificationError("PoS.A", "A^v A' ≠ g^k_A ∏ h_i^k_E,i")
    # PoS.B for all i at once: ∏ (B_i^v B'_i g^-k_B,i B_{i-1}^-k_E,i)^t_i = 1
    t = [rng.randbits(BATCH_BITS) | 1 for _ in range(n)]
    prev = [h[0], *big_b[:-1]]
    bases = [*big_b, *big_bp, *prev, g]
    exps = [
        *(v * ti % q for ti in t),
        *t,
        *((-ti * ke) % q for ti, ke in zip(t, k_e)),
        -sum(ti * kb for ti, kb in zip(t, k_b)) % q,
    ]
    if group.multi_exp(bases, exps) != group.identity():
        raise VerificationError("PoS.B", "B_i^v B'_i ≠ g^k_B,i B_{i-1}^k_E,i")
    big_c = group.multi_exp(u, [1] * n) / group.multi_exp(h, [1] * n)
    if big_c**v * c_p != g**k_c:
        raise VerificationError("PoS.C", "C^v C' ≠ g^k_C")
    e_prod = prod(e) % q
    big_d = big_b[-1] / (h[0] ** e_prod)
    if big_d**v * d_p != g**k_d:
        raise VerificationError("PoS.D", "D^v D' ≠ g^k_D")
    big_f = _rows_power(st, inputs, e)
    w_k = _rows_power(st, outputs, k_e)
    for k in range(st.width):
        (fu, fv), (fpu, fpv), (wu, wv) = big_f[k], f_p[k], w_k[k]
        neg = -k_f[k] % q
        if fu**v * fpu != (g**neg) * wu or fv**v * fpv != (pk**neg) * wv:
            raise VerificationError("PoS.F", f"F^v F' ≠ Enc(1, -k_F) ∏ w'_i^k_E,i (column {k})")
