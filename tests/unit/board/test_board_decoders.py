"""Decoders take any bytes and raise only DecodeError; receipts fail on every kind of tampering."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bulletin_board.entry import decode_envelope, sign_envelope
from bulletin_board.log import Cosignature, MerkleLog, SignedTreeHead, hash_leaf, sign_tree_head
from bulletin_board.receipt import Receipt, sign_receipt, verify_receipt
from mixnet.errors import DecodeError, VerificationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_envelope_decoder_on_any_bytes(data: bytes) -> None:
    try:
        decode_envelope(data)
    except DecodeError:
        pass


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_decoders_on_any_json(value: object) -> None:
    for decode in (SignedTreeHead.from_json, Receipt.from_json, Cosignature.from_json):
        try:
            decode(value)
        except DecodeError:
            pass
    try:
        decode_envelope(json.dumps(value).encode())
    except DecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    doc=st.fixed_dictionaries(
        {
            "author": st.sampled_from(["a", "admin", "", "x" * 200, "é"]),
            "body": json_values,
            "election": st.sampled_from(["e1", "E", "", "a" * 70]),
            "signature": st.sampled_from(["00" * 64, "0" * 127, "zz" * 64]),
            "type": st.sampled_from(["ballot", "B", "1a"]),
            "v": st.sampled_from([1, 2, "1", True]),
        }
    )
)
def test_envelope_decoder_on_near_miss_documents(doc: dict) -> None:
    try:
        decode_envelope(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    except DecodeError:
        pass


def _receipt() -> tuple[Receipt, Ed25519PrivateKey, bytes]:
    key, author = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    entries = [sign_envelope(author, "e", "ballot", "r", {"i": i}).to_bytes() for i in range(6)]
    log = MerkleLog(hash_leaf(e) for e in entries)
    sth = sign_tree_head(key, "e", 6, log.root(), 123)
    r = sign_receipt(key, "e", 4, hash_leaf(entries[4]), sth, log.inclusion_proof(4))
    return r, key, entries[4]


def test_receipt_round_trip_and_tampering() -> None:
    r, key, entry = _receipt()
    verify_receipt(r, key.public_key(), entry)
    again = Receipt.from_json(json.loads(json.dumps(r.to_json())))
    assert again == r
    verify_receipt(again, key.public_key(), entry)

    with pytest.raises(VerificationError) as e:
        verify_receipt(r, Ed25519PrivateKey.generate().public_key(), entry)
    assert e.value.check == "receipt.signature"
    with pytest.raises(VerificationError) as e:
        verify_receipt(r, key.public_key(), entry + b" ")
    assert e.value.check == "receipt.entry_hash"

    other_head = SignedTreeHead("e", 5, r.tree_head.root_hash, 123, r.tree_head.signature)
    # one signed field changed at a time, the signature kept: the signature fails
    for changed in (
        replace(r, election="other"),
        replace(r, index=5),
        replace(r, entry_hash=hash_leaf(b"another entry")),
        replace(r, tree_head=other_head),
        replace(r, signature=bytes(64)),
    ):
        with pytest.raises(VerificationError) as e:
            verify_receipt(changed, key.public_key())
        assert e.value.check == "receipt.signature"

    def resigned(**changes: object) -> Receipt:
        fields = {
            "election": r.election,
            "index": r.index,
            "entry_hash": r.entry_hash,
            "tree_head": r.tree_head,
            "inclusion_proof": r.inclusion_proof,
        }
        fields.update(changes)
        return sign_receipt(key, **fields)  # type: ignore[arg-type]

    # a board that signs a wrong receipt is still caught by the head and the proof, one
    # field at a time
    altered = list(r.inclusion_proof)
    altered[0] = bytes(32)
    cases = {
        "inclusion.root": resigned(index=5),
        "inclusion.root ": resigned(entry_hash=hash_leaf(b"another entry")),
        "inclusion.root  ": resigned(inclusion_proof=tuple(altered)),
        "inclusion.path_length": resigned(inclusion_proof=r.inclusion_proof[:-1]),
        "inclusion.index_range": resigned(index=6),
        "tree_head.signature": resigned(
            tree_head=SignedTreeHead("e", 6, r.tree_head.root_hash, 124, r.tree_head.signature)
        ),
        "tree_head.signature ": resigned(tree_head=other_head),
        "receipt.election": resigned(election="other"),
    }
    for check, bad in cases.items():
        with pytest.raises(VerificationError) as e:
            verify_receipt(bad, key.public_key())
        assert e.value.check == check.strip()


def test_receipt_decoder_takes_version_2_only() -> None:
    r, _, _ = _receipt()
    doc = r.to_json()
    assert doc["v"] == 2
    with pytest.raises(DecodeError, match="unsupported version"):
        Receipt.from_json({**doc, "v": 1})  # version 1 signed other bytes
    with pytest.raises(DecodeError, match="unexpected or missing fields"):
        Receipt.from_json({k: v for k, v in doc.items() if k != "signature"})
