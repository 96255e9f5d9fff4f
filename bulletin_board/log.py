"""The Merkle log of one election (docs/board.md §3), in the style of RFC 9162 §2.1.

Pure: no I/O. `MerkleLog` holds the leaf hashes and every complete-subtree hash ("levels"),
so an append costs O(log n) amortised hashing and any root, inclusion proof or consistency
proof over any prefix costs O(log² n) lookups. The verification functions follow RFC 9162
§2.1.3.2 and §2.1.4.2 step by step and raise `VerificationError` with a stable check name.

Signed tree heads sign the TLV encoding (`mixnet.encoding.encode`) of
{"label": "tohyo/board/tree-head", "v": 1, "election", "tree_size", "root_hash", "timestamp"}
with the board's Ed25519 key. Mirrors co-sign the same map with the label
"tohyo/board/tree-head-cosignature".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mixnet.encoding import encode
from mixnet.errors import DecodeError, VerificationError

__all__ = [
    "COSIGNATURE_LABEL",
    "EMPTY_ROOT",
    "TREE_HEAD_LABEL",
    "Cosignature",
    "MerkleLog",
    "SignedTreeHead",
    "consistency_proof",
    "cosign_tree_head",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "merkle_root",
    "public_key_from_hex",
    "public_key_hex",
    "sign_tree_head",
    "verify_consistency",
    "verify_cosignature",
    "verify_inclusion",
    "verify_tree_head",
]

TREE_HEAD_LABEL = "tohyo/board/tree-head"
COSIGNATURE_LABEL = "tohyo/board/tree-head-cosignature"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def hash_leaf(entry: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleLog:
    """An append-only sequence of leaf hashes with every complete subtree hash cached.

    `levels[k][i]` is the hash of the complete subtree of 2^k leaves starting at leaf i·2^k.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf hash; return its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        levels = self._levels
        index = len(levels[0])
        levels[0].append(leaf_hash)
        k, i = 0, index
        while i % 2 == 1:
            node = hash_children(levels[k][i - 1], levels[k][i])
            k, i = k + 1, i // 2
            if len(levels) == k:
                levels.append([])
            levels[k].append(node)
        return index

    def truncate(self, size: int) -> None:
        """Drop every leaf from `size` on (undo of appends that were not committed)."""
        size = self._check_size(size)
        for k, level in enumerate(self._levels):
            del level[size >> k :]
        while len(self._levels) > 1 and not self._levels[-1]:
            self._levels.pop()

    def leaf_hash(self, index: int) -> bytes:
        return self._levels[0][index]

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); start is always aligned as in RFC 9162's recursion."""
        n = end - start
        if n & (n - 1) == 0:
            k = n.bit_length() - 1
            return self._levels[k][start >> k]
        k = _split(n)
        return hash_children(self._subtree(start, start + k), self._subtree(start + k, end))

    def _check_size(self, size: int | None) -> int:
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise ValueError(f"tree size {size} outside 0..{len(self)}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        size = self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 PATH(index, D[0:size])."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"index {index} outside 0..{size - 1}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start = start + k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 9162 PROOF(first, D[0:second])."""
        second = self._check_size(second)
        if not 0 <= first <= second:
            raise ValueError(f"first size {first} outside 0..{second}")
        if first == 0 or first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self._subtree(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, b), self._subtree(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._subtree(start, start + k)]


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    return MerkleLog(leaf_hashes).root()


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    return MerkleLog(leaf_hashes).inclusion_proof(index)


def consistency_proof(leaf_hashes: Sequence[bytes], first: int) -> list[bytes]:
    return MerkleLog(leaf_hashes).consistency_proof(first)


def _check_hashes(proof: Sequence[bytes], check: str) -> None:
    for node in proof:
        if not isinstance(node, bytes) or len(node) != HASH_SIZE:
            raise VerificationError(check, "a proof node is not a 32-byte hash")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that `leaf_hash` is leaf `index` of the tree with `root`."""
    _check_hashes(proof, "inclusion.proof_format")
    if not 0 <= index < tree_size:
        raise VerificationError("inclusion.index_range", f"index {index}, tree size {tree_size}")
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion.path_length", "proof longer than the tree path")
        if fn % 2 == 1 or fn == sn:
            r = hash_children(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion.path_length", "proof shorter than the tree path")
    if r != root:
        raise VerificationError("inclusion.root", "recomputed root differs from the tree head")


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """RFC 9162 §2.1.4.2: check that tree (second, second_root) extends (first, first_root)."""
    _check_hashes(proof, "consistency.proof_format")
    if not 0 <= first <= second:
        raise VerificationError("consistency.size_order", f"first {first} > second {second}")
    if first == second:
        if proof:
            raise VerificationError("consistency.proof_length", "equal sizes need an empty proof")
        if first_root != second_root:
            raise VerificationError("consistency.equal_roots", "same size, different roots")
        return
    if first == 0:
        if proof:
            raise VerificationError("consistency.proof_length", "size 0 needs an empty proof")
        if first_root != EMPTY_ROOT:
            raise VerificationError("consistency.first_root", "the empty tree has a fixed root")
        return
    path = list(proof)
    if not path:
        raise VerificationError("consistency.proof_length", "empty proof")
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency.proof_length", "proof longer than expected")
        if fn % 2 == 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency.proof_length", "proof shorter than expected")
    if fr != first_root:
        raise VerificationError("consistency.first_root", "proof does not rebuild the old root")
    if sr != second_root:
        raise VerificationError("consistency.second_root", "proof does not rebuild the new root")


# -- signed tree heads ---------------------------------------------------------------------


def _hex_bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size:
        raise DecodeError(f"{what}: expected {2 * size} lowercase hex digits")
    if value != value.lower() or any(c not in "0123456789abcdef" for c in value):
        raise DecodeError(f"{what}: expected lowercase hex")
    return bytes.fromhex(value)


def _nonneg_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DecodeError(f"{what}: expected a non-negative integer")
    return value


def public_key_hex(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def public_key_from_hex(text: object) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_hex_bytes(text, 32, "public key"))


@dataclass(frozen=True)
class Cosignature:
    """A mirror's Ed25519 signature over a tree head (`signer` is its public key, hex)."""

    signer: str
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"signer": self.signer, "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, obj: object) -> Cosignature:
        if not isinstance(obj, dict) or set(obj) != {"signer", "signature"}:
            raise DecodeError("cosignature: expected {signer, signature}")
        _hex_bytes(obj["signer"], 32, "cosignature signer")
        return cls(obj["signer"], _hex_bytes(obj["signature"], 64, "cosignature"))


@dataclass(frozen=True)
class SignedTreeHead:
    """A board-signed statement: election `election` has `tree_size` entries with `root_hash`."""

    election: str
    tree_size: int
    root_hash: bytes
    timestamp: int  # milliseconds since the Unix epoch
    signature: bytes
    cosignatures: tuple[Cosignature, ...] = field(default=(), compare=False)

    def signed_fields(self, label: str = TREE_HEAD_LABEL) -> bytes:
        return encode(
            {
                "label": label,
                "v": 1,
                "election": self.election,
                "tree_size": self.tree_size,
                "root_hash": self.root_hash,
                "timestamp": self.timestamp,
            }
        )

    def to_json(self, *, with_cosignatures: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": 1,
            "election": self.election,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "signature": self.signature.hex(),
        }
        if with_cosignatures:
            out["cosignatures"] = [c.to_json() for c in self.cosignatures]
        return out

    @classmethod
    def from_json(cls, obj: object) -> SignedTreeHead:
        required = {"v", "election", "tree_size", "root_hash", "timestamp", "signature"}
        if not isinstance(obj, dict) or not required <= set(obj) <= required | {"cosignatures"}:
            raise DecodeError("tree head: unexpected or missing fields")
        if obj["v"] != 1:
            raise DecodeError("tree head: unsupported version")
        if not isinstance(obj["election"], str):
            raise DecodeError("tree head: election must be a string")
        cos = obj.get("cosignatures", [])
        if not isinstance(cos, list):
            raise DecodeError("tree head: cosignatures must be a list")
        return cls(
            election=obj["election"],
            tree_size=_nonneg_int(obj["tree_size"], "tree_size"),
            root_hash=_hex_bytes(obj["root_hash"], 32, "root_hash"),
            timestamp=_nonneg_int(obj["timestamp"], "timestamp"),
            signature=_hex_bytes(obj["signature"], 64, "signature"),
            cosignatures=tuple(Cosignature.from_json(c) for c in cos),
        )

    def with_cosignatures(self, cosignatures: Iterable[Cosignature]) -> SignedTreeHead:
        return SignedTreeHead(
            self.election,
            self.tree_size,
            self.root_hash,
            self.timestamp,
            self.signature,
            tuple(cosignatures),
        )


def sign_tree_head(
    key: Ed25519PrivateKey, election: str, tree_size: int, root_hash: bytes, timestamp: int
) -> SignedTreeHead:
    unsigned = SignedTreeHead(election, tree_size, root_hash, timestamp, b"")
    return SignedTreeHead(
        election, tree_size, root_hash, timestamp, key.sign(unsigned.signed_fields())
    )


def verify_tree_head(sth: SignedTreeHead, board_key: Ed25519PublicKey) -> None:
    """Raise `VerificationError("tree_head.signature")` unless the board signed `sth`."""
    try:
        board_key.verify(sth.signature, sth.signed_fields())
    except InvalidSignature as exc:
        raise VerificationError("tree_head.signature", "not signed by the board key") from exc


def cosign_tree_head(key: Ed25519PrivateKey, sth: SignedTreeHead) -> Cosignature:
    return Cosignature(
        public_key_hex(key.public_key()), key.sign(sth.signed_fields(COSIGNATURE_LABEL))
    )


def verify_cosignature(sth: SignedTreeHead, cosignature: Cosignature) -> None:
    """Raise `VerificationError("tree_head.cosignature")` unless the signer co-signed `sth`."""
    try:
        key = public_key_from_hex(cosignature.signer)
        key.verify(cosignature.signature, sth.signed_fields(COSIGNATURE_LABEL))
    except (InvalidSignature, DecodeError, ValueError) as exc:
        raise VerificationError("tree_head.cosignature", "bad co-signature") from exc
