"""The bulletin board: an append-only, signed, Merkle-logged election record (docs/board.md).

The names exported here are the pure part (no I/O) that verifiers and voter clients reuse:
the Merkle log and its proof checks, signed tree heads, entry envelopes, receipts and the
policy protocol. The service lives in `bulletin_board.board` / `.server` / `.storage`, the
HTTP client in `.client`, the mirror in `.mirror`.
"""

from bulletin_board.entry import Envelope, decode_envelope, sign_envelope, verify_envelope
from bulletin_board.log import (
    MerkleLog,
    SignedTreeHead,
    hash_leaf,
    verify_consistency,
    verify_cosignature,
    verify_inclusion,
    verify_tree_head,
)
from bulletin_board.policy import Policy, Refusal, RegistryPolicy
from bulletin_board.receipt import Receipt, verify_receipt

__all__ = [
    "Envelope",
    "MerkleLog",
    "Policy",
    "Receipt",
    "Refusal",
    "RegistryPolicy",
    "SignedTreeHead",
    "decode_envelope",
    "hash_leaf",
    "sign_envelope",
    "verify_consistency",
    "verify_cosignature",
    "verify_envelope",
    "verify_inclusion",
    "verify_receipt",
    "verify_tree_head",
]
