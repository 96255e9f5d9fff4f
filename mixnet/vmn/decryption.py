"""Verificatum's proof of joint decryption, verifier side (docs/vmn.md §6.1).

k parties with threshold λ share the key: the polynomial in the exponent (g^{a_0}, …,
g^{a_{λ−1}}) gives y_l = ∏ (g^{a_j})^{l^j} and y = g^{a_0}. Party l publishes decryption
factors f_l (one per ciphertext, of u's group), a commitment (y′_l, B′_l) and a reply k_{x,l}.
Verificatum verifies one combined proof, over the first λ parties the ``CorrectIndices`` file
marks:

- λ′_t = P · ∏_{s ≠ t} l_s / (l_s − l_t) mod q, with P the square of the product of the largest
  power of each prime ≤ k (Verificatum's "modified" Lagrange coefficients);
- f = ∏ f_{l_t}^{λ′_t}, the combined factors; the plaintexts are m_i = v_i · f_i;
- ``Dec.s``: s = RO(ρ ‖ node(node(g, L), node(polynomial, node(f_1 … f_k)))) with L the list
  decrypted; e = PRG(s) as N integers of n_e bits; A = ∏ u_i^{e_i}, B = ∏ f_i^{e_i};
- ``Dec.v``: v = RO_{n_v}(ρ ‖ node(leaf(s), node(node(y′_1, B′_1) … node(y′_k, B′_k))));
- ``Dec.proof``: y^{−v} ∏ y′_{l_t}^{λ′_t} = g^{K} and B^v ∏ B′_{l_t}^{λ′_t} = A^{K}, with
  K = Σ λ′_t k_{x,l_t}.

Beyond ``vmnv``, every party marked correct must pass its own proof (``Dec.proof.l``), so that a
changed reply of a party outside the first λ is refused too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mixnet.elgamal import Row
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups.base import Element
from mixnet.rng import RandomSource
from mixnet.vmn.bytetree import ByteTree, Leaf, Node, children, decode, encode, leaf_data
from mixnet.vmn.session import VmnSession, ciphertexts_tree

__all__ = [
    "DecryptionFiles",
    "DecryptionResult",
    "prod_factor",
    "prove_decryption",
    "verify_decryption",
]


@dataclass(frozen=True)
class DecryptionFiles:
    """The files of a decryption: the polynomial, per party l = 1 … k its factors, commitment
    and reply, the CorrectIndices leaf and the plaintexts."""

    polynomial: bytes
    factors: Sequence[bytes]
    commitments: Sequence[bytes]
    replies: Sequence[bytes]
    correct: bytes
    plaintexts: bytes


@dataclass(frozen=True)
class DecryptionResult:
    """The plaintexts (rows of group elements), and the seed s and challenge v (Dec.s, Dec.v)."""

    plaintexts: list[list[Element]]
    seed: bytes
    challenge: int


def prod_factor(k: int) -> int:
    """P = (∏ over primes p ≤ k of the largest power of p that is ≤ k)^2."""
    res = 1
    for p in range(2, k + 1):
        if all(p % d for d in range(2, p)):
            power = p
            while power * p <= k:
                power *= p
            res *= power
    return res * res


def modified_lagrange(q: int, indices: Sequence[int], k: int) -> list[int]:
    out = []
    for i in indices:
        num, den = prod_factor(k), 1
        for j in indices:
            if j != i:
                num, den = num * j, den * (j - i)
        out.append(num * pow(den, -1, q) % q)
    return out


def _column_arrays(session: VmnSession, tree: ByteTree, width: int, n: int) -> list[list[Element]]:
    """An array of N elements of G^width as its width columns."""
    vg = session.vgroup
    if width == 1:
        return [vg.elements_from_tree(tree, n)]
    return [vg.elements_from_tree(t, n) for t in children(tree, width, "array of G^w")]


def _wide_element(session: VmnSession, tree: ByteTree, width: int) -> list[Element]:
    vg = session.vgroup
    if width == 1:
        return [vg.element_from_tree(tree)]
    return [vg.element_from_tree(t) for t in children(tree, width, "element of G^w")]


def _columns_tree(session: VmnSession, columns: Sequence[Sequence[Element]]) -> ByteTree:
    vg = session.vgroup
    if len(columns) == 1:
        return vg.elements_tree(columns[0])
    return Node(tuple(vg.elements_tree(col) for col in columns))


def _wide_tree(session: VmnSession, parts: Sequence[Element]) -> ByteTree:
    vg = session.vgroup
    if len(parts) == 1:
        return vg.element_tree(parts[0])
    return Node(tuple(vg.element_tree(e) for e in parts))


def prove_decryption(
    session: VmnSession,
    x: int,
    k: int,
    ciphertexts: Sequence[Row],
    rng: RandomSource,
) -> DecryptionFiles:
    """The files of a decryption by k parties with threshold 1, each holding the whole key x.

    With threshold 1 the polynomial is (y) and every y_l = y; Verificatum combines party 1's
    factors raised to P = prod_factor(k), so each party publishes f = u^{−x/P} and proves it
    with the reply k_l = −x·v/P + r_l. This is what `tohyo mix vmn-demo --decrypt` writes: one
    key for all, which is how tohyo's demo key looks to Verificatum, not a threshold sharing.
    """
    group = session.group
    q, g, n, width = group.order, group.generator(), len(ciphertexts), len(ciphertexts[0])
    y = g**x
    inv_p = pow(prod_factor(k), -1, q)
    f_cols = [
        group.pow_many([row[c].b for row in ciphertexts], -x * inv_p % q) for c in range(width)
    ]
    factor_tree = _columns_tree(session, f_cols)
    pk_tree = session.vgroup.elements_tree([y])
    seed_tree = Node(
        (
            Node(
                (
                    session.vgroup.element_tree(g),
                    ciphertexts_tree(session.vgroup, ciphertexts, width),
                )
            ),
            Node((pk_tree, Node((factor_tree,) * k))),
        )
    )
    seed = session.seed(seed_tree)
    e = [v % q for v in session.prg(seed).integers(n, session.params.ebitlenro)]
    a_cols = [group.multi_exp([row[c].b for row in ciphertexts], e) for c in range(width)]
    rs = [rng.randbelow(q) for _ in range(k)]
    commit_trees = [
        Node((session.vgroup.element_tree(g**r), _wide_tree(session, [a**r for a in a_cols])))
        for r in rs
    ]
    v = session.challenge(Node((Leaf(seed), Node(tuple(commit_trees)))))
    replies = [session.vgroup.scalar_tree(-x * inv_p * v + r) for r in rs]
    p = prod_factor(k)
    plain = [[ciphertexts[i][c].a * f_cols[c][i] ** p for i in range(n)] for c in range(width)]
    return DecryptionFiles(
        polynomial=encode(pk_tree),
        factors=[encode(factor_tree)] * k,
        commitments=[encode(t) for t in commit_trees],
        replies=[encode(t) for t in replies],
        correct=encode(Leaf(bytes([1] * (k + 1)))),  # index 0 is unused; vmn writes 1 there
        plaintexts=encode(_columns_tree(session, plain)),
    )


def verify_decryption(
    session: VmnSession,
    y: Element,
    k: int,
    threshold: int,
    ciphertexts: Sequence[Row],
    files: DecryptionFiles,
) -> DecryptionResult:
    """The plaintexts and the derived values once the combined proof holds; else raise."""
    group, vg = session.group, session.vgroup
    q, g, n, width = group.order, group.generator(), len(ciphertexts), len(ciphertexts[0])
    try:
        coeffs = vg.elements_from_tree(decode(files.polynomial), threshold)
    except DecodeError as exc:
        raise VerificationError("bas.y_l", f"polynomial in the exponent: {exc}") from exc
    while len(coeffs) > 1 and coeffs[-1] == group.identity():
        coeffs.pop()  # Verificatum hashes the polynomial without its trailing ones
    if coeffs[0] != y:
        raise VerificationError("bas.y_l", "the polynomial's constant term is not the public key")
    try:
        correct = leaf_data(decode(files.correct), "CorrectIndices")
    except DecodeError as exc:
        raise VerificationError("Dec.correct", str(exc)) from exc
    if len(correct) != k + 1 or any(b not in (0, 1) for b in correct):
        raise VerificationError("Dec.correct", f"CorrectIndices is not {k + 1} booleans")
    chosen = [i for i in range(1, k + 1) if correct[i]][:threshold]
    if len(chosen) < threshold:
        raise VerificationError("Dec.correct", "too few correct decryption factors")
    if not (len(files.factors) == len(files.commitments) == len(files.replies) == k):
        raise VerificationError("Dec.factors", f"expected the files of {k} parties")
    try:
        factor_trees = [decode(f) for f in files.factors]
        factors = [_column_arrays(session, t, width, n) for t in factor_trees]
    except DecodeError as exc:
        raise VerificationError("Dec.factors", str(exc)) from exc
    try:
        commit_trees = [decode(c) for c in files.commitments]
        commits = []
        for tree in commit_trees:
            yp_t, bp_t = children(tree, 2, "decryption commitment")
            commits.append((vg.element_from_tree(yp_t), _wide_element(session, bp_t, width)))
    except DecodeError as exc:
        raise VerificationError("Dec.commitment", str(exc)) from exc
    try:
        replies = [vg.scalar_from_tree(decode(r)) for r in files.replies]
    except DecodeError as exc:
        raise VerificationError("Dec.reply", str(exc)) from exc

    lam = modified_lagrange(q, chosen, k)
    combined = [
        [group.multi_exp([factors[l - 1][c][i] for l in chosen], lam) for i in range(n)]
        for c in range(width)
    ]
    pk_tree = vg.elements_tree(coeffs)
    seed_tree = Node(
        (
            Node((vg.element_tree(g), ciphertexts_tree(vg, ciphertexts, width))),
            Node((pk_tree, Node(tuple(factor_trees)))),
        )
    )
    seed = session.seed(seed_tree)
    e = [x % q for x in session.prg(seed).integers(n, session.params.ebitlenro)]
    v = session.challenge(Node((Leaf(seed), Node(tuple(commit_trees)))))
    big_k = sum(t * replies[l - 1] for t, l in zip(lam, chosen)) % q
    yp = group.multi_exp([commits[l - 1][0] for l in chosen], lam)
    ok = y ** (-v % q) * yp == g**big_k
    for c in range(width):
        a = group.multi_exp([row[c].b for row in ciphertexts], e)
        b = group.multi_exp(combined[c], e)
        bp = group.multi_exp([commits[l - 1][1][c] for l in chosen], lam)
        ok = ok and b**v * bp == a**big_k
    if not ok:
        raise VerificationError("Dec.proof", "the combined proof of decryption fails")
    # tohyo also checks each marked party's own proof, which vmnv skips for parties beyond λ:
    # y_l^{−v/P} y′_l = g^{k_l} and B_l^v B′_l = A^{k_l}, y_l the polynomial at l
    inv_p = pow(prod_factor(k), -1, q)
    a_cols = [group.multi_exp([row[c].b for row in ciphertexts], e) for c in range(width)]
    for l in (i for i in range(1, k + 1) if correct[i]):
        y_l = group.multi_exp(coeffs, [pow(l, j, q) for j in range(len(coeffs))])
        k_l = replies[l - 1]
        ok = y_l ** (-v * inv_p % q) * commits[l - 1][0] == g**k_l
        for c in range(width):
            b_l = group.multi_exp(factors[l - 1][c], e)
            ok = ok and b_l**v * commits[l - 1][1][c] == a_cols[c] ** k_l
        if not ok:
            raise VerificationError("Dec.proof.l", f"party {l}'s proof of decryption fails")
    plain = [[ciphertexts[i][c].a * combined[c][i] for c in range(width)] for i in range(n)]
    try:
        posted = _column_arrays(session, decode(files.plaintexts), width, n)
    except DecodeError as exc:
        raise VerificationError("Plaintexts", str(exc)) from exc
    if any(posted[c][i] != plain[i][c] for i in range(n) for c in range(width)):
        raise VerificationError("Plaintexts", "the plaintexts are not the decryption")
    return DecryptionResult(plain, seed, v)
