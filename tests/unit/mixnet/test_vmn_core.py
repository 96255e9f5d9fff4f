"""mixnet.vmn: byte trees, oracles, groups and the proof of a shuffle, prover against verifier.

Verificatum-made data is in tests/vectors/vmn/ (tests/vectors/test_vmn_vectors.py); here the
prover's proofs are verified, and each equation's check is shown to catch its own forgery.
"""

from __future__ import annotations

import hashlib

import pytest

import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
from mixnet.elgamal import encrypt_rows, keygen
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle.shuffle import ShuffleWitness, shuffle
from mixnet.vmn import bytetree as bt
from mixnet.vmn.groups import VmnGroup, parse_pgroup
from mixnet.vmn.oracle import Prg, random_oracle
from mixnet.vmn.session import VmnParams, VmnSession, ciphertexts_from_tree, ciphertexts_tree
from mixnet.vmn.shuffle import PosProof, prove, verify


def test_byte_tree_worked_example() -> None:
    # node(node(leaf(AF), leaf(03 E1)), leaf()) written out byte by byte; Verificatum's own
    # `vbt -hex` prints these bytes as [["af", "03e1"], ""] (checked with vmn 3.1.0)
    tree = bt.node(bt.node(bt.Leaf(b"\xaf"), bt.Leaf(b"\x03\xe1")), bt.Leaf(b""))
    expected = bytes.fromhex(
        "0000000002" + "0000000002" + "0100000001af" + "010000000203e1" + "0100000000"
    )
    assert bt.encode(tree) == expected
    assert bt.decode(expected) == tree
    assert bt.encode(bt.leaf_int(-1)) == bytes.fromhex("0100000004ffffffff")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("0100000002af", "longer than its input"),
        ("0100000001af00", "follow the byte tree"),
        ("01000000", "truncated"),
        ("0200000000", "neither leaf"),
        ("0000000002" + "0100000000", "truncated"),
        ("00ffffffff", "Java int"),
        ("00" + "7fffffff", "more children"),
    ],
)
def test_byte_tree_decoding_is_strict(data: str, why: str) -> None:
    raw = bytes.fromhex(data)
    with pytest.raises(DecodeError, match=why):
        bt.decode(raw)


def test_byte_tree_depth_is_bounded() -> None:
    deep = bt.Leaf(b"")
    for _ in range(bt.MAX_DEPTH + 1):
        deep = bt.node(deep)
    with pytest.raises(DecodeError, match="deeply"):
        bt.decode(bt.encode(deep))


def test_prg_and_random_oracle_follow_their_definitions() -> None:
    seed = bytes(range(32))
    stream = Prg("SHA-256", seed).read(70)
    blocks = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(3))
    assert stream == blocks[:70]
    assert Prg("SHA-256", seed).integer(12) == int.from_bytes(blocks[:2], "big") & 0xFFF
    out = random_oracle("SHA-256", 65, b"data")
    s = hashlib.sha256((65).to_bytes(4, "big") + b"data").digest()
    first = Prg("SHA-256", s).read(9)
    assert out == bytes([first[0] & 1]) + first[1:]
    with pytest.raises(ValueError, match="seed has 32 bytes"):
        Prg("SHA-256", b"short")
    with pytest.raises(DecodeError, match="unsupported"):
        random_oracle("MD5", 8, b"")


@pytest.mark.parametrize("name", ["modp2048", "secp256k1", "test-safe-256"])
def test_group_description_and_elements_round_trip(name: str) -> None:
    vg = VmnGroup.from_tohyo(get_group(name))
    again = parse_pgroup(vg.pgroup_string())
    assert again.group == vg.group and again.tree == vg.tree
    g = vg.group.generator()
    for e in (g, g**12345, vg.group.identity() if vg.kind == "ec" else g**2):
        assert vg.element_from_tree(vg.element_tree(e)) == e
    assert vg.scalar_from_tree(vg.scalar_tree(vg.order - 1)) == vg.order - 1


def test_group_decoding_refuses_non_members_and_bad_lengths() -> None:
    vg = VmnGroup.from_tohyo(get_group("modp2048"))
    nonresidue = next(x for x in range(2, 100) if pow(x, vg.order, vg.p) != 1)
    with pytest.raises(DecodeError):
        vg.element_from_tree(bt.Leaf(nonresidue.to_bytes(vg.element_len, "big")))
    with pytest.raises(DecodeError, match="257 bytes"):
        vg.element_from_tree(bt.Leaf(b"\x04"))
    with pytest.raises(DecodeError, match="outside"):
        vg.scalar_from_tree(bt.Leaf(vg.order.to_bytes(vg.scalar_len, "big")))
    ec = VmnGroup.from_tohyo(get_group("secp256k1"))
    point = ec.element_tree(ec.group.generator())
    assert isinstance(point, bt.Node)
    x, y = point.children
    assert isinstance(y, bt.Leaf)
    off_curve = bt.node(x, bt.Leaf((int.from_bytes(y.data, "big") + 1).to_bytes(33, "big")))
    with pytest.raises(DecodeError, match="not on secp256k1"):
        ec.element_from_tree(off_curve)


def test_unsupported_groups_are_refused() -> None:
    curve = bt.encode(bt.node(bt.Leaf(b"com.verificatum.arithm.ECqPGroup"), bt.Leaf(b"P-256")))
    with pytest.raises(ValueError, match="secp256k1"):
        parse_pgroup(f"ECqPGroup(P-256)::{curve.hex()}")
    vg = VmnGroup.from_tohyo(get_group("modp2048"))
    assert isinstance(vg.tree, bt.Node)
    cls, payload = vg.tree.children
    assert isinstance(payload, bt.Node)
    other_p = bt.node(bt.Leaf(b"\x00\xff\xfb"), *payload.children[1:])
    with pytest.raises(ValueError, match="safe primes"):
        parse_pgroup("x::" + bt.encode(bt.node(cls, other_p)).hex())


def _session(group_name: str) -> VmnSession:
    vg = VmnGroup.from_tohyo(get_group(group_name))
    return VmnSession(VmnParams.tohyo_defaults(vg.pgroup_string(), "tohyoUnit"), "default")


def _mix(group_name: str, n: int, width: int, seed: str):  # type: ignore[no-untyped-def]
    session = _session(group_name)
    rng = DeterministicRandom(seed)
    key = keygen(session.group, rng)
    rows, _ = encrypt_rows(key.public, [[i % 5] * width for i in range(n)], rng)
    out, witness = shuffle(key.public, rows, rng)
    proof = prove(session, key.public, rows, out, witness, rng)
    return session, key, rows, out, witness, proof


@pytest.mark.parametrize(
    ("group_name", "width"), [("test-safe-256", 1), ("secp256k1", 3), ("modp2048", 2)]
)
def test_prover_output_verifies(group_name: str, width: int) -> None:
    session, key, rows, out, _, proof = _mix(group_name, 7, width, f"vmn {group_name}")
    verify(session, key.public, rows, out, proof, DeterministicRandom("batch"))
    lists = ciphertexts_tree(session.vgroup, out, width)
    assert ciphertexts_from_tree(session.vgroup, bt.decode(bt.encode(lists)), width) == out


def test_a_false_shuffle_is_refused_by_pos_f() -> None:
    session, key, rows, out, witness, _ = _mix("test-safe-256", 6, 1, "false shuffle")
    swapped = [out[0], out[1], *out[2:]]
    swapped[0] = rows[0]  # one output row is not a re-encryption of its claimed input
    forged = prove(session, key.public, rows, swapped, witness, DeterministicRandom("p"))
    with pytest.raises(VerificationError) as info:
        verify(session, key.public, rows, swapped, forged, DeterministicRandom("v"))
    assert info.value.check == "PoS.F"


def _replace_reply(session: VmnSession, proof: PosProof, index: int) -> PosProof:
    """Add 1 to one reply component (k_A … k_F: index 0 … 5; arrays: their first entry)."""
    reply = bt.decode(proof.reply)
    assert isinstance(reply, bt.Node)
    parts = list(reply.children)
    vg = session.vgroup

    def bump(leaf: bt.ByteTree) -> bt.ByteTree:
        return vg.scalar_tree(vg.scalar_from_tree(leaf) + 1)

    target = parts[index]
    if isinstance(target, bt.Node):
        parts[index] = bt.node(bump(target.children[0]), *target.children[1:])
    else:
        parts[index] = bump(target)
    return PosProof(proof.permutation_commitment, proof.commitment, bt.encode(bt.node(*parts)))


@pytest.mark.parametrize(
    ("index", "check"),
    [(0, "PoS.A"), (1, "PoS.B"), (2, "PoS.C"), (3, "PoS.D"), (4, "PoS.A"), (5, "PoS.F")],
)
def test_each_reply_component_is_checked_by_its_equation(index: int, check: str) -> None:
    session, key, rows, out, _, proof = _mix("test-safe-256", 5, 1, "reply")
    bad = _replace_reply(session, proof, index)
    with pytest.raises(VerificationError) as info:
        verify(session, key.public, rows, out, bad, DeterministicRandom("v"))
    assert info.value.check == check


def test_malformed_proof_files_name_their_part() -> None:
    session, key, rows, out, _, proof = _mix("test-safe-256", 4, 1, "malformed")
    cases = {
        "u": PosProof(b"\x00", proof.commitment, proof.reply),
        "PoS.commitment": PosProof(proof.permutation_commitment, proof.reply, proof.reply),
        "PoS.reply": PosProof(proof.permutation_commitment, proof.commitment, proof.commitment),
    }
    for check, bad in cases.items():
        with pytest.raises(VerificationError) as info:
            verify(session, key.public, rows, out, bad, DeterministicRandom("v"))
        assert info.value.check == check


def test_witness_orientation_matches_tohyo_shuffle() -> None:
    # output i is input π(i) re-encrypted: a witness with another permutation fails PoS.F
    session, key, rows, out, witness, _ = _mix("test-safe-256", 4, 1, "orientation")
    perm = witness.permutation
    other = ShuffleWitness(tuple(perm[1:] + perm[:1]), witness.randomness)
    bad = prove(session, key.public, rows, out, other, DeterministicRandom("p"))
    with pytest.raises(VerificationError) as info:
        verify(session, key.public, rows, out, bad, DeterministicRandom("v"))
    assert info.value.check == "PoS.F"


def test_another_generator_of_the_same_safe_prime_group() -> None:
    base = VmnGroup.from_tohyo(get_group("test-safe-256"))
    assert isinstance(base.tree, bt.Node)
    cls, payload = base.tree.children
    assert isinstance(payload, bt.Node)
    p_leaf, q_leaf, g_leaf, enc = payload.children
    assert isinstance(g_leaf, bt.Leaf)
    nine = bt.Leaf((9).to_bytes(len(g_leaf.data), "big"))
    vg = parse_pgroup("x::" + bt.encode(bt.node(cls, bt.node(p_leaf, q_leaf, nine, enc))).hex())
    assert int(vg.group.generator().value) == 9 and vg.group.order == base.group.order
    assert vg.tree != base.tree  # ρ hashes the description as given
    minus_one = bt.Leaf((base.p - 1).to_bytes(len(g_leaf.data), "big"))  # not a residue
    with pytest.raises(ValueError, match="quadratic residue"):
        parse_pgroup("x::" + bt.encode(bt.node(cls, bt.node(p_leaf, q_leaf, minus_one, enc))).hex())
    ro_encoding = bt.leaf_int(0)
    with pytest.raises(ValueError, match="encoding"):
        parse_pgroup(
            "x::" + bt.encode(bt.node(cls, bt.node(p_leaf, q_leaf, nine, ro_encoding))).hex()
        )
