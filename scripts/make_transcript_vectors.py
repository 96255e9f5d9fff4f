"""Write tests/vectors/transcripts/*.json: every proof's Fiat–Shamir transcript, item by item.

For each proof kind (docs/protocol.md §3.3–§3.8) and each of two groups, the file gives the
statement, the context, every absorbed item (its label and the TLV bytes of its value), every
challenge (the digest it was drawn from, its output bytes and the integers taken from them) and
the proof. The transcript is recorded from the library's own prover, through a `Transcript`
that logs what it absorbs; tests/vectors/test_transcripts.py rebuilds every item from the
statement with its own encoder and replays the hashing independently.

Usage: python scripts/make_transcript_vectors.py [--check]
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
from election.entries import ballot_context, mix_context
from mixnet.elgamal import Row, encrypt_rows, keygen, row_to_json
from mixnet.encoding import canonical_json, encode
from mixnet.groups import get_group
from mixnet.groups.base import Group
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption as dec
from mixnet.proofs import encryption, schnorr
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as tw
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript
from trustees.decryption import rows_digest
from trustees.labels import TrusteeLabel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_vectors import typed  # one typed-JSON form for every vector file

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "transcripts"
GROUPS = ("test-safe-256", "secp256k1")
FINGERPRINT = hashlib.sha256(b"tohyo transcript vectors: a stand-in election fingerprint").digest()
#: the contest whose list the shuffle vector's mixer shuffles (each contest is mixed on its own)
CONTEST = "mayor"


class RecordingTranscript(Transcript):
    """A `Transcript` that also logs each absorbed item and each challenge."""

    __slots__ = ("log",)

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.log: list[dict[str, Any]] = [
            {"step": "start", "bytes": encode(["tohyo/transcript/v1", context]).hex()}
        ]

    def append(self, label: str, value: Any) -> None:
        self.log.append({"step": "absorb", "label": label, "value": encode(value).hex()})
        super().append(label, value)

    def append_list(self, label: str, values: Any, count: int) -> None:
        items = list(values)
        self.append(label, items)

    def _expand(self, label: str, nbytes: int) -> bytes:
        digest = self._hash.digest()
        out = super()._expand(label, nbytes)
        self.log[-1] = {
            "step": "challenge",
            "label": label,
            "digest": digest.hex(),
            "output": out.hex(),
        }
        return out


def rows_json(rows: list[Row]) -> list[Any]:
    return [row_to_json(r) for r in rows]


def case(
    group: Group, context: Any, statement: dict[str, Any], t: RecordingTranscript, proof: Any
) -> dict[str, Any]:
    return {
        "group": group.name,
        "description": group.description(),
        "context": typed(context),
        "statement": statement,
        "transcript": t.log,
        "proof": proof,
    }


def schnorr_case(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom(f"tohyo-transcripts/schnorr/{group.name}")
    x = group.random_scalar(rng)
    g = group.generator()
    a = g**x
    context = [TrusteeLabel.COEFFICIENT, FINGERPRINT, 2, 3, 1, 0]
    t = RecordingTranscript(context)
    proof = schnorr.prove(schnorr.Statement(g, a), x, transcript=t, rng=rng)
    return case(group, context, {"base": g.to_hex(), "y": a.to_hex()}, t, proof.to_json())


def chaum_pedersen_case(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom(f"tohyo-transcripts/chaum-pedersen/{group.name}")
    x = group.random_scalar(rng)
    g = group.generator()
    g2 = g ** group.random_scalar(rng)
    st = cp.Statement(g, g**x, g2, g2**x)
    context = ["tohyo/transcript-vectors/chaum-pedersen", FINGERPRINT]
    t = RecordingTranscript(context)
    proof = cp.prove(st, x, transcript=t, rng=rng)
    statement = {"g1": g.to_hex(), "x": st.x_pub.to_hex(), "g2": g2.to_hex(), "d": st.d.to_hex()}
    return case(group, context, statement, t, proof.to_json())


def batch_case(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom(f"tohyo-transcripts/chaum-pedersen-batch/{group.name}")
    x = group.random_scalar(rng)
    g = group.generator()
    bases = [g ** group.random_scalar(rng) for _ in range(3)]
    factors = [b**x for b in bases]
    st = cp.BatchStatement(g**x, bases, factors)
    context = ["tohyo/transcript-vectors/chaum-pedersen-batch", FINGERPRINT]
    t = RecordingTranscript(context)
    proof = cp.prove_batch(st, x, transcript=t, rng=rng)
    statement = {
        "x": st.x_pub.to_hex(),
        "bases": [b.to_hex() for b in bases],
        "factors": [d.to_hex() for d in factors],
    }
    return case(group, context, statement, t, proof.to_json())


def encryption_case(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom(f"tohyo-transcripts/encryption/{group.name}")
    pk = keygen(group, rng).public
    rows, rs = encrypt_rows(pk, [[2, 0, 1]], rng)
    ballot_key = hashlib.sha256(b"a stand-in Ed25519 ballot key").digest()
    context = ballot_context(FINGERPRINT, ballot_key)
    t = RecordingTranscript(context)
    proof = encryption.prove(encryption.Statement(pk, rows[0]), rs[0], transcript=t, rng=rng)
    return case(
        group, context, {"pk": pk.to_hex(), "row": row_to_json(rows[0])}, t, proof.to_json()
    )


def decryption_case(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom(f"tohyo-transcripts/decryption/{group.name}")
    kp = keygen(group, rng)
    rows, _ = encrypt_rows(kp.public, [[1, 2], [0, 3]], rng)
    factors = dec.decryption_factors(kp.secret, rows)
    digest = rows_digest(rows)
    context = [TrusteeLabel.DECRYPTION_SHARE, FINGERPRINT, 2, digest]
    t = RecordingTranscript(context)
    proof = dec.prove_factors(kp.secret, rows, factors, transcript=t, rng=rng)
    statement = {
        "x": kp.public.to_hex(),
        "rows": rows_json(rows),
        "factors": [d.to_hex() for d in factors],
        "rows_digest": digest.hex(),
    }
    return case(group, context, statement, t, proof.to_json())


def shuffle_case(group: Group) -> dict[str, Any]:
    rng = DeterministicRandom(f"tohyo-transcripts/shuffle/{group.name}")
    kp = keygen(group, rng)
    rows, _ = encrypt_rows(kp.public, [[1, 0], [2, 1], [0, 3]], rng)
    outputs, witness = shuffle(kp.public, rows, rng)
    st = tw.ShuffleStatement(kp.public, rows, outputs, FINGERPRINT)
    context = mix_context(FINGERPRINT, 1, CONTEST)
    t = RecordingTranscript(context)
    proof = tw.prove(st, witness, transcript=t, rng=rng)
    statement = {
        "pk": kp.public.to_hex(),
        "inputs": rows_json(rows),
        "outputs": rows_json(outputs),
        "generator_context": {"bytes": FINGERPRINT.hex()},
    }
    return case(group, context, statement, t, proof.to_json())


KINDS = {
    "schnorr": (schnorr_case, "Schnorr proof of knowledge (DKG coefficient), §3.3"),
    "chaum_pedersen": (chaum_pedersen_case, "single Chaum–Pedersen proof, §3.4"),
    "chaum_pedersen_batch": (batch_case, "batched Chaum–Pedersen proof, §3.5"),
    "encryption": (encryption_case, "ballot proof of knowledge of the randomness, §3.6"),
    "decryption": (decryption_case, "decryption proof of a trustee's share, §3.7"),
    "shuffle": (shuffle_case, "Terelius–Wikström shuffle proof, §3.8"),
}


def build(kind: str) -> bytes:
    make, about = KINDS[kind]
    doc = {
        "about": {
            "description": f"{about} of docs/protocol.md: every absorbed item and challenge",
            "format": 1,
            "generator": "scripts/make_transcript_vectors.py",
            "steps": (
                "start: the TLV bytes that begin the SHA-256 state; absorb: TLV(label) ‖ value "
                "is absorbed, value given as its TLV bytes; challenge: digest = SHA-256 of all "
                "bytes absorbed so far, output = SHAKE-256(TLV(['tohyo/challenge/v1', digest, "
                "label])) cut to its length, then absorbed as TLV(label) ‖ TLV(output as bytes)"
            ),
        },
        "cases": [make(get_group(name)) for name in GROUPS],
    }
    return canonical_json(doc) + b"\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for kind in KINDS:
        data = build(kind)
        path = OUT / f"{kind}.json"
        if check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
    if stale:
        print("stale transcript vectors: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
