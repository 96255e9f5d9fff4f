"""Record entry bodies: what each entry type of an election carries (docs/record.md §4).

Every body is a JSON object with a format version `v`. The board wraps each in a signed
envelope (`bulletin_board.entry`); here are the bodies, their strict decoders, and the checks
that need only the manifest and the election key (the verifier and the board share them).

A ballot (docs/record.md §4.4) binds three keys together:
- the **ballot key** (Ed25519, fresh per ballot): the proof of knowledge of the encryption
  randomness is bound to it through its transcript context, and it signs the ballot hash;
- the **card** (JPKI): signs the ballot hash with the election fingerprint (kept privately by
  the registrar as evidence);
- the **registrar** (Ed25519): attests {pseudonym, ballot hash}; the board publishes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mixnet import elgamal
from mixnet.encoding import bytes_from_hex, encode
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group
from mixnet.proofs import encryption
from mixnet.rng import RandomSource, system_random
from mixnet.shuffle import proof as shuffle_proof
from mixnet.transcript import Transcript

__all__ = [
    "BODY_VERSION",
    "SHUFFLE_VERSION",
    "Ballot",
    "PostedList",
    "PostedShuffle",
    "ballot_context",
    "ballot_hash",
    "decode_contest_lists",
    "decode_shuffle",
    "mix_context",
    "submission_message",
]

BODY_VERSION = 1


def ballot_context(fingerprint: bytes, ballot_key: bytes) -> list[Any]:
    """Transcript context of a ballot's proof: the election and the ballot key."""
    return ["tohyo/ballot/v1", fingerprint, ballot_key]


def mix_context(fingerprint: bytes, position: int, contest: str) -> list[Any]:
    """Transcript context of mix server `position`'s proof of shuffle of contest `contest`'s
    list: a proof made for one contest's list does not verify in another's slot."""
    return ["tohyo/mix/v2", fingerprint, position, contest]


def ballot_hash(
    fingerprint: bytes, row: elgamal.Row, proof: encryption.Proof, ballot_key: bytes
) -> bytes:
    """SHA-256 of TLV(["tohyo/ballot-hash/v1", fingerprint, row, proof, ballot key])."""
    return hashlib.sha256(
        encode(
            [
                "tohyo/ballot-hash/v1",
                fingerprint,
                [[ct.a, ct.b] for ct in row],
                [list(proof.t), list(proof.s)],
                ballot_key,
            ]
        )
    ).digest()


def submission_message(fingerprint: bytes, digest: bytes) -> bytes:
    """What the ballot key signs: TLV(["tohyo/ballot-submission/v1", fingerprint, ballot hash])."""
    return encode(["tohyo/ballot-submission/v1", fingerprint, digest])


@dataclass(frozen=True)
class Ballot:
    """An encrypted ballot as the voter's device builds it."""

    row: elgamal.Row
    proof: encryption.Proof
    ballot_key: bytes  # Ed25519 public key, 32 bytes
    signature: bytes  # by the ballot key over `submission_message`

    @classmethod
    def create(
        cls,
        fingerprint: bytes,
        pk: Element,
        row: elgamal.Row,
        randomness: list[Any],
        key: Ed25519PrivateKey,
        rng: RandomSource = system_random,
    ) -> Ballot:
        from cryptography.hazmat.primitives import serialization

        ballot_key = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        proof = encryption.prove(
            encryption.Statement(pk, row),
            randomness,
            transcript=Transcript(ballot_context(fingerprint, ballot_key)),
            rng=rng,
        )
        digest = ballot_hash(fingerprint, row, proof, ballot_key)
        return cls(row, proof, ballot_key, key.sign(submission_message(fingerprint, digest)))

    def hash(self, fingerprint: bytes) -> bytes:
        return ballot_hash(fingerprint, self.row, self.proof, self.ballot_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": BODY_VERSION,
            "row": elgamal.row_to_json(self.row),
            "proof": self.proof.to_json(),
            "ballot_key": self.ballot_key.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, group: Group, data: Any, width: int) -> Ballot:
        """Decode; every element is checked for membership, every scalar for range."""
        if not isinstance(data, dict) or set(data) != {
            "v",
            "row",
            "proof",
            "ballot_key",
            "signature",
        }:
            raise DecodeError("a ballot is {v, row, proof, ballot_key, signature}")
        if data["v"] != BODY_VERSION:
            raise DecodeError(f"unsupported ballot version {data['v']!r}")
        proof = data["proof"]
        if not isinstance(proof, dict) or set(proof) != {"t", "s"}:
            raise DecodeError("an encryption proof is {t, s}")
        if not isinstance(proof["t"], list) or len(proof["t"]) != width:
            raise DecodeError(f"an encryption proof has {width} commitments")
        if not isinstance(proof["s"], list) or len(proof["s"]) != width:
            raise DecodeError(f"an encryption proof has {width} responses")
        texts = elgamal.row_texts([data["row"]], width)
        elements = group.elements_from_hex(texts + proof["t"])  # one batched subgroup test
        t = elements[len(texts) :]
        return cls(
            elgamal.rows_from_elements(elements[: len(texts)], width)[0],
            encryption.Proof(t=tuple(t), s=tuple(group.scalar_from_hex(x) for x in proof["s"])),
            bytes_from_hex(data["ballot_key"], 32, "ballot_key"),
            bytes_from_hex(data["signature"], 64, "signature"),
        )

    def verify(self, fingerprint: bytes, pk: Element) -> None:
        """The proof of knowledge bound to this election and ballot key, and the key's signature.

        Raises `VerificationError` with check "B1 proof" or "B2 ballot-key signature".
        """
        try:
            encryption.verify(
                encryption.Statement(pk, self.row),
                self.proof,
                transcript=Transcript(ballot_context(fingerprint, self.ballot_key)),
            )
        except VerificationError as exc:
            raise VerificationError("B1 proof", str(exc)) from exc
        try:
            Ed25519PublicKey.from_public_bytes(self.ballot_key).verify(
                self.signature, submission_message(fingerprint, self.hash(fingerprint))
            )
        except (InvalidSignature, ValueError) as exc:
            raise VerificationError("B2 ballot-key signature", "does not verify") from exc

    def ciphertext_keys(self) -> list[bytes]:
        """Values that must be unique across an election: every b (= g^r) of the row."""
        return [ct.b.to_bytes() for ct in self.row]


# ---------------------------------------------------------------- shuffles

#: a shuffle body's format version
SHUFFLE_VERSION = 1


@dataclass(frozen=True)
class PostedList:
    """One contest's part of a shuffle entry, decoded."""

    contest: str
    outputs: tuple[elgamal.Row, ...]
    proof: shuffle_proof.ShuffleProof


@dataclass(frozen=True)
class PostedShuffle:
    """One shuffle entry's body, decoded: position k and one `PostedList` per contest."""

    position: int
    lists: tuple[PostedList, ...]


def decode_shuffle(
    group: Group,
    body: Any,
    shapes: Sequence[tuple[str, int, int]],
    *,
    rng: Any = None,
    executor: Any = None,
) -> PostedShuffle:
    """Decode a shuffle body for input lists of `shapes` (contest id, n rows, width) and check
    everything: one {contest, outputs, proof} per input list, the same contest in the same
    slot, n output rows of that width (membership of the rows and the proof's elements tested
    in batches, on `executor`)."""
    if not isinstance(body, dict) or set(body) != {"v", "position", "contests"}:
        raise DecodeError("a shuffle is {v, position, contests}")
    if body["v"] != SHUFFLE_VERSION:
        raise DecodeError(f"unsupported shuffle version {body['v']!r}")
    position = body["position"]
    if type(position) is not int or position < 1:
        raise DecodeError("position is a positive integer")
    parts = body["contests"]
    if not isinstance(parts, list) or len(parts) != len(shapes):
        raise DecodeError(f"a shuffle holds {len(shapes)} contest lists")
    out = []
    for part, (contest, n, width) in zip(parts, shapes):
        if not isinstance(part, dict) or set(part) != {"contest", "outputs", "proof"}:
            raise DecodeError("a contest's shuffle is {contest, outputs, proof}")
        if part["contest"] != contest:
            raise DecodeError(f"the list of contest {contest} is posted as {part['contest']!r}")
        outputs = part["outputs"]
        if not isinstance(outputs, list) or len(outputs) != n:
            raise DecodeError(f"contest {contest}: a shuffle outputs {n} rows")
        decoded = tuple(elgamal.rows_from_json(group, outputs, width, rng, executor)) if n else ()
        proof = shuffle_proof.ShuffleProof.from_json(group, part["proof"], n, width, rng, executor)
        out.append(PostedList(contest, decoded, proof))
    return PostedShuffle(position, tuple(out))


def decode_contest_lists(
    group: Group, value: Any, widths: Sequence[int] | None = None
) -> list[tuple[str, list[elgamal.Row]]]:
    """One list of rows per contest, as the mix input holds them (and the trustees' offline
    bundles): a non-empty list of {"contest": id, "rows": [row, …]}, each list non-empty, of
    one width (the given `widths`, in order, when known), all of one length. Every element is
    checked for membership."""
    if (
        not isinstance(value, list)
        or not value
        or any(
            not isinstance(p, dict)
            or set(p) != {"contest", "rows"}
            or not isinstance(p["contest"], str)
            or not isinstance(p["rows"], list)
            or not p["rows"]
            for p in value
        )
    ):
        raise DecodeError("a non-empty list of {contest, rows}, each with rows")
    if widths is not None and len(widths) != len(value):
        raise DecodeError(f"{len(widths)} contest lists expected")
    out = []
    for k, p in enumerate(value):
        first = p["rows"][0]
        width = widths[k] if widths is not None else len(first) if isinstance(first, list) else 0
        # one batched membership test per list; every row of this width
        out.append((p["contest"], elgamal.rows_from_json(group, p["rows"], width)))
    if len({len(rows) for _, rows in out}) != 1:
        raise DecodeError("every contest list has one row per ballot")
    return out
