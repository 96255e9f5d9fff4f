"""The Merkle log: RFC 6962/9162 vectors, a naive reference, Hypothesis properties, tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bulletin_board.log import (
    EMPTY_ROOT,
    MerkleLog,
    SignedTreeHead,
    cosign_tree_head,
    hash_children,
    hash_leaf,
    sign_tree_head,
    verify_consistency,
    verify_cosignature,
    verify_inclusion,
    verify_tree_head,
)
from mixnet.errors import DecodeError, VerificationError

VECTORS = json.loads((Path(__file__).parent / "rfc6962_vectors.json").read_text())


# -- a naive recursive implementation, straight from RFC 9162 §2.1.1-2.1.4 -----------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _k(n)
    return hash_children(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def naive_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    if m in (0, len(leaves)):
        return []
    return naive_subproof(m, leaves, True)


def path_shape(m: int, n: int) -> list[bool]:
    """Which side each sibling of leaf m sits on in a tree of n leaves (True: right)."""
    if n == 1:
        return []
    k = _k(n)
    return [*path_shape(m, k), True] if m < k else [*path_shape(m - k, n - k), False]


def leaves_of(n: int) -> list[bytes]:
    return [hash_leaf(i.to_bytes(4, "big")) for i in range(n)]


# -- vectors -------------------------------------------------------------------------------


def _vector_log() -> MerkleLog:
    return MerkleLog(hash_leaf(bytes.fromhex(x)) for x in VECTORS["leaves"])


def test_rfc6962_roots() -> None:
    log = _vector_log()
    for size, root in enumerate(VECTORS["roots"]):
        assert log.root(size).hex() == root
    assert EMPTY_ROOT.hex() == VECTORS["roots"][0]


def test_rfc6962_inclusion_paths() -> None:
    log = _vector_log()
    for v in VECTORS["inclusion"]:
        path = log.inclusion_proof(v["index"], v["size"])
        assert [p.hex() for p in path] == v["path"]
        root = bytes.fromhex(VECTORS["roots"][v["size"]])
        verify_inclusion(log.leaf_hash(v["index"]), v["index"], v["size"], path, root)


def test_rfc6962_consistency_proofs() -> None:
    log = _vector_log()
    for v in VECTORS["consistency"]:
        proof = log.consistency_proof(v["first"], v["second"])
        assert [p.hex() for p in proof] == v["proof"]
        verify_consistency(
            v["first"],
            v["second"],
            proof,
            bytes.fromhex(VECTORS["roots"][v["first"]]),
            bytes.fromhex(VECTORS["roots"][v["second"]]),
        )


def test_exhaustive_small_trees_match_naive() -> None:
    leaves = leaves_of(40)
    log = MerkleLog(leaves)
    for n in range(41):
        assert log.root(n) == naive_mth(leaves[:n])
        for i in range(n):
            assert log.inclusion_proof(i, n) == naive_path(i, leaves[:n])
        for m in range(n + 1):
            proof = log.consistency_proof(m, n)
            assert proof == naive_proof(m, leaves[:n])
            verify_consistency(m, n, proof, log.root(m), log.root(n))


# -- properties ----------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=600)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_verifies_and_every_tampering_fails(data: st.DataObject, n: int) -> None:
    leaves = leaves_of(n)
    log = MerkleLog(leaves)
    i = data.draw(st.integers(0, n - 1))
    root = log.root()
    path = log.inclusion_proof(i)
    verify_inclusion(leaves[i], i, n, path, root)

    with pytest.raises(VerificationError) as e:
        verify_inclusion(hash_leaf(b"other"), i, n, path, root)
    assert e.value.check == "inclusion.root"
    if n > 1:
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i))
        with pytest.raises(VerificationError) as e:
            verify_inclusion(leaves[i], j, n, path, root)
        assert e.value.check.startswith("inclusion.")
        # A size is bound by the signed tree head; the proof alone only fixes the path shape,
        # so a wrong size must fail exactly when it implies a different shape.
        bad_size = data.draw(st.integers(i + 1, 2 * n + 2).filter(lambda s: s != n))
        if path_shape(i, bad_size) != path_shape(i, n):
            with pytest.raises(VerificationError) as e:
                verify_inclusion(leaves[i], i, bad_size, path, root)
            assert e.value.check.startswith("inclusion.")
        k = data.draw(st.integers(0, len(path) - 1))
        altered = list(path)
        altered[k] = bytes([altered[k][0] ^ 1]) + altered[k][1:]
        with pytest.raises(VerificationError) as e:
            verify_inclusion(leaves[i], i, n, altered, root)
        assert e.value.check == "inclusion.root"
        with pytest.raises(VerificationError) as e:
            verify_inclusion(leaves[i], i, n, path[:-1], root)
        assert e.value.check == "inclusion.path_length"
    with pytest.raises(VerificationError) as e:
        verify_inclusion(leaves[i], i, n, [*path, b"\x00" * 32], root)
    assert e.value.check == "inclusion.path_length"
    with pytest.raises(VerificationError) as e:
        verify_inclusion(leaves[i], i, n, path, hashlib.sha256(root).digest())
    assert e.value.check == "inclusion.root"
    with pytest.raises(VerificationError) as e:
        verify_inclusion(leaves[i], n, n, path, root)
    assert e.value.check == "inclusion.index_range"


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_verifies_and_every_tampering_fails(data: st.DataObject, n: int) -> None:
    log = MerkleLog(leaves_of(n))
    m = data.draw(st.integers(1, n))
    proof = log.consistency_proof(m, n)
    old, new = log.root(m), log.root(n)
    verify_consistency(m, n, proof, old, new)
    if m == n:
        with pytest.raises(VerificationError) as e:
            verify_consistency(m, n, proof, old, hash_leaf(b"x"))
        assert e.value.check == "consistency.equal_roots"
        return
    with pytest.raises(VerificationError) as e:
        verify_consistency(m, n, proof, hash_leaf(b"x"), new)
    # for a power-of-two first size the old root is itself the first node of the proof
    assert e.value.check in ("consistency.first_root", "consistency.second_root")
    with pytest.raises(VerificationError) as e:
        verify_consistency(m, n, proof, old, hash_leaf(b"x"))
    assert e.value.check == "consistency.second_root"
    k = data.draw(st.integers(0, len(proof) - 1))
    altered = list(proof)
    altered[k] = bytes([altered[k][0] ^ 0x80]) + altered[k][1:]
    with pytest.raises(VerificationError) as e:
        verify_consistency(m, n, altered, old, new)
    assert e.value.check.startswith("consistency.")
    other = data.draw(st.integers(m + 1, n + 3).filter(lambda s: s != n))
    if len(MerkleLog(leaves_of(other)).consistency_proof(m)) != len(proof):
        with pytest.raises(VerificationError):
            verify_consistency(m, other, proof, old, new)
    with pytest.raises(VerificationError):
        verify_consistency(n, m, proof, new, old)
    with pytest.raises(VerificationError) as e:
        verify_consistency(m, n, [*proof, b"\x01" * 32], old, new)
    assert e.value.check == "consistency.proof_length"


def test_history_rewrite_is_not_consistent() -> None:
    leaves = leaves_of(20)
    honest = MerkleLog(leaves)
    forked = MerkleLog([*leaves[:7], hash_leaf(b"rewritten"), *leaves[8:], hash_leaf(b"more")])
    proof = forked.consistency_proof(12, 21)
    with pytest.raises(VerificationError) as e:
        verify_consistency(12, 21, proof, honest.root(12), forked.root(21))
    assert e.value.check == "consistency.first_root"


def test_proof_nodes_must_be_hashes() -> None:
    log = MerkleLog(leaves_of(5))
    with pytest.raises(VerificationError) as e:
        verify_inclusion(log.leaf_hash(0), 0, 5, [b"short"], log.root())
    assert e.value.check == "inclusion.proof_format"
    with pytest.raises(VerificationError) as e:
        verify_consistency(2, 5, [b"short"], log.root(2), log.root())
    assert e.value.check == "consistency.proof_format"


def test_degenerate_consistency() -> None:
    log = MerkleLog(leaves_of(4))
    verify_consistency(0, 4, [], EMPTY_ROOT, log.root())
    with pytest.raises(VerificationError):
        verify_consistency(0, 4, [log.root()], EMPTY_ROOT, log.root())
    with pytest.raises(VerificationError):
        verify_consistency(3, 4, [], log.root(3), log.root())


def test_range_errors_of_the_producer() -> None:
    log = MerkleLog(leaves_of(3))
    with pytest.raises(ValueError):
        log.root(4)
    with pytest.raises(ValueError):
        log.inclusion_proof(3)
    with pytest.raises(ValueError):
        log.consistency_proof(3, 2)
    with pytest.raises(ValueError):
        log.append(b"short")


def test_large_log_is_incremental() -> None:
    log = MerkleLog()
    for i in range(100_000):
        log.append(hashlib.sha256(i.to_bytes(4, "big")).digest())
    root = log.root()
    path = log.inclusion_proof(77_777)
    verify_inclusion(log.leaf_hash(77_777), 77_777, len(log), path, root)
    proof = log.consistency_proof(65_537)
    verify_consistency(65_537, 100_000, proof, log.root(65_537), root)


# -- signed tree heads ---------------------------------------------------------------------


def test_tree_head_sign_verify_and_forgery() -> None:
    key = Ed25519PrivateKey.generate()
    other = Ed25519PrivateKey.generate()
    sth = sign_tree_head(key, "e1", 5, b"\x11" * 32, 1_700_000_000_000)
    verify_tree_head(sth, key.public_key())
    again = SignedTreeHead.from_json(json.loads(json.dumps(sth.to_json())))
    assert again == sth
    verify_tree_head(again, key.public_key())
    forgeries = [
        sign_tree_head(other, "e1", 5, b"\x11" * 32, 1_700_000_000_000),
        SignedTreeHead("e2", 5, sth.root_hash, sth.timestamp, sth.signature),
        SignedTreeHead("e1", 6, sth.root_hash, sth.timestamp, sth.signature),
        SignedTreeHead("e1", 5, b"\x12" * 32, sth.timestamp, sth.signature),
        SignedTreeHead("e1", 5, sth.root_hash, sth.timestamp + 1, sth.signature),
        SignedTreeHead("e1", 5, sth.root_hash, sth.timestamp, b"\x00" * 64),
    ]
    for forged in forgeries:
        with pytest.raises(VerificationError) as e:
            verify_tree_head(forged, key.public_key())
        assert e.value.check == "tree_head.signature"


def test_cosignature() -> None:
    key, mirror = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    sth = sign_tree_head(key, "e1", 5, b"\x11" * 32, 1)
    cos = cosign_tree_head(mirror, sth)
    verify_cosignature(sth, cos)
    other = sign_tree_head(key, "e1", 6, b"\x11" * 32, 1)
    with pytest.raises(VerificationError) as e:
        verify_cosignature(other, cos)
    assert e.value.check == "tree_head.cosignature"
    # a board signature is not a co-signature (different domain label)
    from bulletin_board.log import Cosignature, public_key_hex

    with pytest.raises(VerificationError):
        verify_cosignature(sth, Cosignature(public_key_hex(key.public_key()), sth.signature))


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {
            "v": 2,
            "election": "e",
            "tree_size": 1,
            "root_hash": "00" * 32,
            "timestamp": 1,
            "signature": "00" * 64,
        },
        {
            "v": 1,
            "election": "e",
            "tree_size": -1,
            "root_hash": "00" * 32,
            "timestamp": 1,
            "signature": "00" * 64,
        },
        {
            "v": 1,
            "election": "e",
            "tree_size": 1,
            "root_hash": "AA" * 32,
            "timestamp": 1,
            "signature": "00" * 64,
        },
        {
            "v": 1,
            "election": "e",
            "tree_size": 1,
            "root_hash": "00" * 31,
            "timestamp": 1,
            "signature": "00" * 64,
        },
        {
            "v": 1,
            "election": "e",
            "tree_size": 1,
            "root_hash": "00" * 32,
            "timestamp": 1,
            "signature": "00" * 64,
            "extra": 1,
        },
        {
            "v": 1,
            "election": "e",
            "tree_size": True,
            "root_hash": "00" * 32,
            "timestamp": 1,
            "signature": "00" * 64,
        },
    ],
)
def test_tree_head_decoder_rejects(doc: dict) -> None:
    with pytest.raises(DecodeError):
        SignedTreeHead.from_json(doc)


def test_truncate_undoes_appends() -> None:
    leaves = leaves_of(37)
    log = MerkleLog(leaves)
    for size in (36, 33, 32, 17, 1, 0):
        log.truncate(size)
        assert len(log) == size
        assert log.root() == naive_mth(leaves[:size])
    for h in leaves:
        log.append(h)
    assert log.root() == naive_mth(leaves)
