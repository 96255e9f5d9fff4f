"""A Verificatum session: its parameters, the prefix ρ, the generators and ciphertext lists.

(docs/vmn.md §5.) The parameters are those of the protocol info file that matter to a proof;
the edge that reads the XML builds `VmnParams` and passes it here.

ρ = H(node(version, sid.auxsid, n_r, n_v, n_e, s_PRG, s_Gq, s_H)) with the strings as UTF-8
leaves and the numbers as 4-byte leaves; every random oracle query is RO(ρ ‖ bytes of a tree).
The independent generators h_0 … h_{N−1} are the group's random elements drawn from PRG(s)
with s = RO(ρ ‖ leaf("generators")) of one PRG seed's length.

Ciphertexts: Verificatum writes an El Gamal ciphertext as (u, v) = (g^r, m·y^r), tohyo as
(a, b) = (m·y^r, g^r); a list of N ciphertexts of width w is node(node(U_1 … U_w),
node(V_1 … V_w)) with U_k the array of column k's u (for w = 1, node(U, V)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from mixnet.elgamal import Ciphertext, Row
from mixnet.errors import DecodeError
from mixnet.groups.base import Element
from mixnet.vmn.bytetree import ByteTree, Node, children, encode, leaf_int, leaf_str
from mixnet.vmn.groups import VmnGroup, parse_pgroup
from mixnet.vmn.oracle import Prg, hash_bytes, random_oracle, seed_bytes

__all__ = [
    "VMN_VERSION",
    "VmnParams",
    "VmnSession",
    "ciphertexts_from_tree",
    "ciphertexts_tree",
]

#: The Verificatum version whose format this module implements (vmn 3.1.0).
VMN_VERSION: Final = "3.1.0"


@dataclass(frozen=True)
class VmnParams:
    """What a proof depends on in a protocol info file (plus the proof's auxsid and width)."""

    sid: str
    statdist: int  # n_r
    vbitlenro: int  # n_v
    ebitlenro: int  # n_e
    prg: str  # s_PRG, e.g. "SHA-256"
    pgroup: str  # s_Gq, the <pgroup> text verbatim
    rohash: str  # s_H
    nopart: int = 1
    thres: int = 1
    keywidth: int = 1
    version: str = VMN_VERSION

    @classmethod
    def tohyo_defaults(cls, pgroup: str, sid: str, nopart: int = 1, thres: int = 1) -> VmnParams:
        """The parameters tohyo uses for its own Verificatum sessions: Verificatum's defaults
        (statistical distance 100, 256-bit challenges and batching, SHA-256 throughout)."""
        return cls(
            sid=sid,
            statdist=100,
            vbitlenro=256,
            ebitlenro=256,
            prg="SHA-256",
            pgroup=pgroup,
            rohash="SHA-256",
            nopart=nopart,
            thres=thres,
        )

    def check(self) -> None:
        if self.keywidth != 1:
            raise DecodeError("only key width 1 is supported")
        if not (0 <= self.statdist <= 256 and self.vbitlenro >= 1 and self.ebitlenro >= 1):
            raise DecodeError("statistical distance or bit lengths out of range")
        if not 1 <= self.thres <= self.nopart:
            raise DecodeError("threshold outside [1, number of parties]")


class VmnSession:
    """ρ, the oracles and the group of one session (sid.auxsid)."""

    def __init__(self, params: VmnParams, auxsid: str = "default") -> None:
        params.check()
        self.params = params
        self.auxsid = auxsid
        self.vgroup: VmnGroup = parse_pgroup(params.pgroup)
        self.group = self.vgroup.group
        self.rho = hash_bytes(params.rohash, encode(self.rho_tree()))
        self.seed_bits = 8 * seed_bytes(params.prg)

    def rho_tree(self) -> Node:
        p = self.params
        return Node(
            (
                leaf_str(p.version),
                leaf_str(f"{p.sid}.{self.auxsid}"),
                leaf_int(p.statdist),
                leaf_int(p.vbitlenro),
                leaf_int(p.ebitlenro),
                leaf_str(p.prg),
                leaf_str(p.pgroup),
                leaf_str(p.rohash),
            )
        )

    def oracle(self, out_bits: int, tree: ByteTree) -> bytes:
        return random_oracle(self.params.rohash, out_bits, self.rho + encode(tree))

    def seed(self, tree: ByteTree) -> bytes:
        """A PRG seed from the oracle (the batching vector's and the generators')."""
        return self.oracle(self.seed_bits, tree)

    def challenge(self, tree: ByteTree) -> int:
        return int.from_bytes(self.oracle(self.params.vbitlenro, tree), "big")

    def prg(self, seed: bytes) -> Prg:
        return Prg(self.params.prg, seed)

    def generators(self, count: int) -> list[Element]:
        # a PRG over the oracle's hash, not the <prg> one (as IndependentGeneratorsRO)
        name = self.params.rohash
        seed = random_oracle(name, 8 * seed_bytes(name), self.rho + encode(leaf_str("generators")))
        return self.vgroup.random_elements(Prg(name, seed), count, self.params.statdist)

    # ---- public key: node(g, y) ----
    def public_key_tree(self, y: Element) -> Node:
        vg = self.vgroup
        return Node((vg.element_tree(self.group.generator()), vg.element_tree(y)))

    def public_key_from_tree(self, tree: ByteTree) -> Element:
        g_t, y_t = children(tree, 2, "public key")
        if self.vgroup.element_from_tree(g_t) != self.group.generator():
            raise DecodeError("the public key's first part is not the group's generator")
        return self.vgroup.element_from_tree(y_t)

    def wide_public_key_tree(self, y: Element, width: int) -> ByteTree:
        if width == 1:
            return self.public_key_tree(y)
        vg = self.vgroup
        g_leaf, y_leaf = vg.element_tree(self.group.generator()), vg.element_tree(y)
        return Node((Node((g_leaf,) * width), Node((y_leaf,) * width)))


def ciphertexts_tree(vg: VmnGroup, rows: Sequence[Row], width: int) -> Node:
    us = [vg.elements_tree([row[k].b for row in rows]) for k in range(width)]
    vs = [vg.elements_tree([row[k].a for row in rows]) for k in range(width)]
    if width == 1:
        return Node((us[0], vs[0]))
    return Node((Node(tuple(us)), Node(tuple(vs))))


def ciphertexts_from_tree(
    vg: VmnGroup, tree: ByteTree, width: int, count: int | None = None
) -> list[Row]:
    u_t, v_t = children(tree, 2, "ciphertext list")
    if width == 1:
        u_cols, v_cols = [u_t], [v_t]
    else:
        u_cols = list(children(u_t, width, "ciphertext list (u)"))
        v_cols = list(children(v_t, width, "ciphertext list (v)"))
    us = [vg.elements_from_tree(t, count) for t in u_cols]
    n = len(us[0])
    vs = [vg.elements_from_tree(t, n) for t in v_cols]
    if any(len(col) != n for col in us):
        raise DecodeError("ciphertext columns of different lengths")
    if n == 0:
        raise DecodeError("an empty ciphertext list")
    return [tuple(Ciphertext(a=vs[k][i], b=us[k][i]) for k in range(width)) for i in range(n)]
