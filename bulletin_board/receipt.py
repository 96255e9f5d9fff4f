"""The board's signed receipt for an accepted entry (docs/board.md §4).

A receipt holds: election, the entry's index and hash (the RFC 9162 leaf hash of the entry's
canonical JSON), the signed tree head of the group commit that stored the entry, and the
inclusion proof of the entry in that head. The board signs the short statement
`encode([RECEIPT_LABEL, {"v", "election", "index", "entry_hash", "tree_size", "root_hash"}])`:
this entry is at this index of the log whose head it names. The inclusion proof and the head's
own signature are checked on their own, so the statement does not repeat them.
`verify_receipt` checks all of it and raises `VerificationError` naming the failed step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bulletin_board.log import SignedTreeHead, hash_leaf, verify_inclusion, verify_tree_head
from mixnet.encoding import encode
from mixnet.errors import DecodeError, VerificationError

__all__ = ["RECEIPT_LABEL", "RECEIPT_VERSION", "Receipt", "sign_receipt", "verify_receipt"]

RECEIPT_LABEL = "tohyo/board/receipt"
RECEIPT_VERSION = 2  # 1 signed the whole receipt (head and proof included) as JSON-like TLV


def _hex(value: object, size: int, what: str) -> bytes:
    if (
        not isinstance(value, str)
        or len(value) != 2 * size
        or any(c not in "0123456789abcdef" for c in value)
    ):
        raise DecodeError(f"{what}: {2 * size} lowercase hex digits")
    return bytes.fromhex(value)


@dataclass(frozen=True)
class Receipt:
    election: str
    index: int
    entry_hash: bytes
    tree_head: SignedTreeHead
    inclusion_proof: tuple[bytes, ...]
    signature: bytes

    def signing_bytes(self) -> bytes:
        return _statement(self.election, self.index, self.entry_hash, self.tree_head)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": RECEIPT_VERSION,
            "election": self.election,
            "index": self.index,
            "entry_hash": self.entry_hash.hex(),
            "tree_head": self.tree_head.to_json(with_cosignatures=False),
            "inclusion_proof": [p.hex() for p in self.inclusion_proof],
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> Receipt:
        fields = {
            "v",
            "election",
            "index",
            "entry_hash",
            "tree_head",
            "inclusion_proof",
            "signature",
        }
        if not isinstance(obj, dict) or set(obj) != fields:
            raise DecodeError("receipt: unexpected or missing fields")
        if obj["v"] != RECEIPT_VERSION:
            raise DecodeError(f"receipt: unsupported version {obj['v']!r}")
        index = obj["index"]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DecodeError("receipt: index")
        if not isinstance(obj["election"], str) or not isinstance(obj["inclusion_proof"], list):
            raise DecodeError("receipt: election / inclusion_proof")
        return cls(
            election=obj["election"],
            index=index,
            entry_hash=_hex(obj["entry_hash"], 32, "entry_hash"),
            tree_head=SignedTreeHead.from_json(obj["tree_head"]),
            inclusion_proof=tuple(_hex(p, 32, "proof node") for p in obj["inclusion_proof"]),
            signature=_hex(obj["signature"], 64, "signature"),
        )


def _statement(election: str, index: int, entry_hash: bytes, tree_head: SignedTreeHead) -> bytes:
    return encode(
        [
            RECEIPT_LABEL,
            {
                "v": RECEIPT_VERSION,
                "election": election,
                "index": index,
                "entry_hash": entry_hash,
                "tree_size": tree_head.tree_size,
                "root_hash": tree_head.root_hash,
            },
        ]
    )


def sign_receipt(
    key: Ed25519PrivateKey,
    election: str,
    index: int,
    entry_hash: bytes,
    tree_head: SignedTreeHead,
    inclusion_proof: Sequence[bytes],
) -> Receipt:
    signature = key.sign(_statement(election, index, entry_hash, tree_head))
    return Receipt(election, index, entry_hash, tree_head, tuple(inclusion_proof), signature)


def verify_receipt(
    receipt: Receipt, board_key: Ed25519PublicKey, entry: bytes | None = None
) -> None:
    """Check a receipt (and, if given, that it is for these entry bytes)."""
    try:
        board_key.verify(receipt.signature, receipt.signing_bytes())
    except InvalidSignature as exc:
        raise VerificationError("receipt.signature", "not signed by the board key") from exc
    if entry is not None and hash_leaf(entry) != receipt.entry_hash:
        raise VerificationError("receipt.entry_hash", "receipt is for another entry")
    sth = receipt.tree_head
    if sth.election != receipt.election:
        raise VerificationError("receipt.election", "tree head of another election")
    verify_tree_head(sth, board_key)
    verify_inclusion(
        receipt.entry_hash, receipt.index, sth.tree_size, receipt.inclusion_proof, sth.root_hash
    )
