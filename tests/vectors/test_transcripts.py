"""Re-check tests/vectors/transcripts/*.json: every proof's transcript, item by item.

For each case the checker rebuilds, from the statement, the proof and the group description
alone, the items that docs/protocol.md §3.3–§3.8 say the proof absorbs — with its own TLV
encoder and transcript hashing (`tests/vectors/reference.py`, never mixnet/transcript.py) — and
compares them with the recorded bytes; it recomputes each challenge's digest and output, takes
the challenge integers from them and checks the proof's equations with its own arithmetic. Then
the library must absorb exactly the recorded items when it verifies the proof, the contexts
built by the code must be the recorded ones, and the generator script must reproduce every file
byte for byte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
from election.entries import ballot_context, mix_context
from mixnet.elgamal import row_from_json
from mixnet.groups import get_group
from mixnet.groups.base import Group
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption as dec
from mixnet.proofs import encryption, schnorr
from mixnet.shuffle import proof as tw
from mixnet.transcript import Transcript
from tests.vectors.reference import (
    Arith,
    ModArith,
    RefTranscript,
    Secp256k1,
    challenge_blocks,
    challenge_length,
    challenge_mod,
    tlv_bytes,
    tlv_element,
    tlv_int,
    tlv_json,
    tlv_list,
    tlv_str,
)
from trustees.config import CeremonyConfig, TrusteeKeys
from trustees.decryption import share_transcript
from trustees.dkg import coefficient_transcript

HERE = Path(__file__).resolve().parent / "transcripts"
SCRIPT = HERE.parent.parent.parent / "scripts" / "make_transcript_vectors.py"
KINDS = ("schnorr", "chaum_pedersen", "chaum_pedersen_batch", "encryption", "decryption", "shuffle")

# A step the checker expects: ("absorb", label, TLV bytes of the value) or
# ("challenge", label, output length); a challenge's generator receives the output bytes.
Step = tuple[str, str, Any]
Items = Generator[Step, bytes, None]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_transcript_vectors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((HERE / f"{kind}.json").read_text())
    return doc


def cases() -> list[tuple[str, int]]:
    return [(kind, i) for kind in KINDS for i in range(len(load(kind)["cases"]))]


def arith_of(description: dict[str, Any]) -> Arith:
    """The checker's arithmetic from the description's own numbers."""
    if description["family"] in ("modp-safe", "modp-schnorr"):
        p, q, g = (int(description[k], 16) for k in ("p", "q", "g"))
        return ModArith(p, q, g, safe=description["family"] == "modp-safe")
    assert description["family"] == "ec-secp256k1"
    return Secp256k1()


def typed_tlv(value: dict[str, Any]) -> bytes:
    ((kind, v),) = value.items()
    if kind == "bytes":
        return tlv_bytes(bytes.fromhex(v))
    if kind == "str":
        return tlv_str(v)
    if kind == "int":
        return tlv_int(int(v))
    return tlv_list([typed_tlv(x) for x in v])


def elements(texts: Sequence[str]) -> bytes:
    return tlv_list([tlv_element(t) for t in texts])


def rows_tlv(rows: Sequence[Sequence[Sequence[str]]]) -> bytes:
    return tlv_list([tlv_list([elements(ct) for ct in row]) for row in rows])


# ---- the tables of docs/protocol.md §3.3–§3.8, as the checker reads them ----


def schnorr_items(case: dict[str, Any], a: Arith) -> Items:
    st, pr, q = case["statement"], case["proof"], a.q
    yield ("absorb", "proof", tlv_str("tohyo/proof/schnorr/v1"))
    yield ("absorb", "group", tlv_json(case["description"]))
    yield ("absorb", "statement", elements([st["base"], st["y"]]))
    yield ("absorb", "commitment", tlv_element(pr["t"]))
    c = challenge_mod((yield ("challenge", "c", challenge_length("mod", q))), q)
    base, y, t, s = a.val(st["base"]), a.val(st["y"]), a.val(pr["t"]), int(pr["s"], 16)
    assert a.exp(base, s) == a.mul(t, a.exp(y, c)), "S1"


def cp_items(case: dict[str, Any], a: Arith, g1: str, x: str, g2: str, d: str) -> Items:
    pr, q = case["proof"], a.q
    yield ("absorb", "proof", tlv_str("tohyo/proof/chaum-pedersen/v1"))
    yield ("absorb", "group", tlv_json(case["description"]))
    yield ("absorb", "statement", elements([g1, x, g2, d]))
    yield ("absorb", "commitment", elements([pr["t1"], pr["t2"]]))
    c = challenge_mod((yield ("challenge", "c", challenge_length("mod", q))), q)
    s = int(pr["s"], 16)
    assert a.exp(a.val(g1), s) == a.mul(a.val(pr["t1"]), a.exp(a.val(x), c)), "CP1"
    assert a.exp(a.val(g2), s) == a.mul(a.val(pr["t2"]), a.exp(a.val(d), c)), "CP2"


def single_items(case: dict[str, Any], a: Arith) -> Items:
    st = case["statement"]
    yield from cp_items(case, a, st["g1"], st["x"], st["g2"], st["d"])


def batch_items(
    case: dict[str, Any], a: Arith, x: str, bases: list[str], factors: list[str]
) -> Items:
    n = len(bases)
    yield ("absorb", "proof", tlv_str("tohyo/proof/chaum-pedersen-batch/v1"))
    yield ("absorb", "group", tlv_json(case["description"]))
    yield ("absorb", "key", tlv_element(x))
    yield ("absorb", "bases", elements(bases))
    yield ("absorb", "factors", elements(factors))
    weights = challenge_blocks(
        (yield ("challenge", "batch", challenge_length("batch", a.q, n))), n, 128
    )
    b = a.to_hex(a.mexp(a.vals(bases), weights))
    d = a.to_hex(a.mexp(a.vals(factors), weights))
    yield from cp_items(case, a, a.to_hex(a.g), x, b, d)


def batch_case_items(case: dict[str, Any], a: Arith) -> Items:
    st = case["statement"]
    yield from batch_items(case, a, st["x"], st["bases"], st["factors"])


def encryption_items(case: dict[str, Any], a: Arith) -> Items:
    st, pr, q = case["statement"], case["proof"], a.q
    yield ("absorb", "proof", tlv_str("tohyo/proof/encryption-randomness/v1"))
    yield ("absorb", "group", tlv_json(case["description"]))
    yield ("absorb", "pk", tlv_element(st["pk"]))
    yield ("absorb", "row", tlv_list([elements(ct) for ct in st["row"]]))
    yield ("absorb", "commitment", elements(pr["t"]))
    c = challenge_mod((yield ("challenge", "c", challenge_length("mod", q))), q)
    for (_, b), t, s in zip(st["row"], pr["t"], pr["s"], strict=True):
        assert a.exp(a.g, int(s, 16)) == a.mul(a.val(t), a.exp(a.val(b), c)), "E1"


def decryption_items(case: dict[str, Any], a: Arith) -> Items:
    st = case["statement"]
    # the rows digest of docs/record.md §1.5, which the context carries
    digest = hashlib.sha256(
        tlv_int(len(st["rows"]))
        + b"".join(tlv_list([elements(ct) for ct in row]) for row in st["rows"])
    ).digest()
    assert digest.hex() == st["rows_digest"] == case["context"]["list"][3]["bytes"]
    yield ("absorb", "proof", tlv_str("tohyo/proof/decryption/v1"))
    yield ("absorb", "rows", rows_tlv(st["rows"]))
    bases = [ct[1] for row in st["rows"] for ct in row]
    yield from batch_items(case, a, st["x"], bases, st["factors"])


def shuffle_items(case: dict[str, Any], a: Arith) -> Items:
    st, pr = case["statement"], case["proof"]
    n, w = len(st["inputs"]), len(st["inputs"][0])
    seed = hashlib.sha256(
        tlv_list(
            [
                tlv_str("tohyo/generators/v1"),
                tlv_json(case["description"]),
                typed_tlv(st["generator_context"]),
                tlv_str("shuffle"),
            ]
        )
    ).digest()
    yield ("absorb", "proof", tlv_str("tohyo/proof/shuffle-tw/v1"))
    yield ("absorb", "group", tlv_json(case["description"]))
    yield ("absorb", "parameters", tlv_list([tlv_int(160), tlv_int(128), tlv_int(128)]))
    yield ("absorb", "generators", tlv_bytes(seed))
    yield ("absorb", "pk", tlv_element(st["pk"]))
    yield ("absorb", "shape", tlv_list([tlv_int(n), tlv_int(w)]))
    yield ("absorb", "inputs", rows_tlv(st["inputs"]))
    yield ("absorb", "outputs", rows_tlv(st["outputs"]))
    yield ("absorb", "c", elements(pr["c"]))
    u = challenge_blocks((yield ("challenge", "u", challenge_length("u", a.q, n))), n, 160)
    yield ("absorb", "c_hat", elements(pr["c_hat"]))
    t = [tlv_element(pr["t1"]), tlv_element(pr["t2"]), tlv_element(pr["t3"])]
    yield ("absorb", "t", tlv_list([*t, elements(pr["t4a"]), elements(pr["t4b"])]))
    yield ("absorb", "t_hat", elements(pr["t_hat"]))
    c = int.from_bytes((yield ("challenge", "c", challenge_length("bits128", a.q))), "big")
    # TW2 with the checker's own h: t2 · (ĉ_N / h^{∏u})^c = g^{s2}
    h = a.hash_to_group(seed + (0).to_bytes(8, "big"))
    prod_u = 1
    for v in u:
        prod_u = prod_u * v % a.q
    c_hat = a.div(a.val(pr["c_hat"][-1]), a.exp(h, prod_u))
    assert a.mul(a.val(pr["t2"]), a.exp(c_hat, c)) == a.exp(a.g, int(pr["s2"], 16)), "TW2"


ITEMS: dict[str, Callable[[dict[str, Any], Arith], Items]] = {
    "schnorr": schnorr_items,
    "chaum_pedersen": single_items,
    "chaum_pedersen_batch": batch_case_items,
    "encryption": encryption_items,
    "decryption": decryption_items,
    "shuffle": shuffle_items,
}


@pytest.mark.parametrize(("kind", "index"), cases())
def test_transcript_is_what_the_tables_say(kind: str, index: int) -> None:
    case = load(kind)["cases"][index]
    assert get_group(case["group"]).description() == case["description"]
    a = arith_of(case["description"])
    log = case["transcript"]
    context = typed_tlv(case["context"])
    assert log[0] == {
        "step": "start",
        "bytes": tlv_list([tlv_str("tohyo/transcript/v1"), context]).hex(),
    }
    ref = RefTranscript(context)
    items = ITEMS[kind](case, a)
    done = 1
    try:
        step = next(items)
        while True:
            assert done < len(log), f"the record ends before {step[:2]}"
            record = log[done]
            done += 1
            what, label, value = step
            if what == "absorb":
                assert record == {"step": "absorb", "label": label, "value": value.hex()}, (
                    f"item {done - 1}"
                )
                ref.absorb(label, value)
                step = next(items)
            else:
                digest, out = ref.challenge(label, value)
                expected = {
                    "step": "challenge",
                    "label": label,
                    "digest": digest.hex(),
                    "output": out.hex(),
                }
                assert record == expected, f"challenge {label} at {done - 1}"
                step = items.send(out)
    except StopIteration:
        pass
    assert done == len(log), "the record absorbs more than the table lists"


def library_verify(kind: str, case: dict[str, Any], group: Group, transcript: Transcript) -> None:
    st, pr = case["statement"], case["proof"]
    el = group.element_from_hex
    if kind == "schnorr":
        proof = schnorr.Proof.from_json(group, pr)
        schnorr.verify(schnorr.Statement(el(st["base"]), el(st["y"])), proof, transcript=transcript)
    elif kind == "chaum_pedersen":
        statement = cp.Statement(el(st["g1"]), el(st["x"]), el(st["g2"]), el(st["d"]))
        cp.verify(statement, cp.Proof.from_json(group, pr), transcript=transcript)
    elif kind == "chaum_pedersen_batch":
        batch = cp.BatchStatement(
            el(st["x"]), [el(b) for b in st["bases"]], [el(d) for d in st["factors"]]
        )
        cp.verify_batch(batch, cp.Proof.from_json(group, pr), transcript=transcript)
    elif kind == "encryption":
        row = row_from_json(group, st["row"])
        proof_e = encryption.Proof.from_json(group, pr, len(row))
        encryption.verify(encryption.Statement(el(st["pk"]), row), proof_e, transcript=transcript)
    elif kind == "decryption":
        rows = [row_from_json(group, r) for r in st["rows"]]
        factors = [el(d) for d in st["factors"]]
        proof_d = cp.Proof.from_json(group, pr)
        dec.verify_factors(el(st["x"]), rows, factors, proof_d, transcript=transcript)
    else:
        inputs = [row_from_json(group, r) for r in st["inputs"]]
        outputs = [row_from_json(group, r) for r in st["outputs"]]
        context = bytes.fromhex(st["generator_context"]["bytes"])
        statement_s = tw.ShuffleStatement(el(st["pk"]), inputs, outputs, context)
        tw.verify(
            statement_s,
            tw.ShuffleProof.from_json(group, pr, len(inputs), len(inputs[0])),
            transcript=transcript,
        )


@pytest.mark.parametrize(("kind", "index"), cases())
def test_library_verifier_absorbs_the_recorded_items(kind: str, index: int) -> None:
    case = load(kind)["cases"][index]
    recorder = load_script().RecordingTranscript
    group = get_group(case["group"])
    context_value = from_typed(case["context"])
    transcript = recorder(context_value)
    library_verify(kind, case, group, transcript)
    assert transcript.log == case["transcript"]


def from_typed(value: dict[str, Any]) -> Any:
    ((kind, v),) = value.items()
    if kind == "bytes":
        return bytes.fromhex(v)
    if kind == "list":
        return [from_typed(x) for x in v]
    if kind == "int":
        return int(v)
    return v


def first_challenge(t: Transcript) -> bytes:
    return t.challenge_bits("probe", 64).to_bytes(8, "big")


def test_recorded_contexts_are_the_ones_the_code_builds() -> None:
    """The DKG, ballot, mix and share contexts of docs/protocol.md §3.2 come from the code."""
    fp = bytes.fromhex(load("schnorr")["cases"][0]["context"]["list"][1]["bytes"])
    keys = tuple(TrusteeKeys(i, bytes(32), bytes(32)) for i in (1, 2, 3))
    config = CeremonyConfig(get_group("test-safe-256"), fp, 2, keys)
    built = {
        "schnorr": coefficient_transcript(config, 1, 0),
        "encryption": Transcript(
            ballot_context(
                fp, bytes.fromhex(load("encryption")["cases"][0]["context"]["list"][2]["bytes"])
            )
        ),
        "shuffle": Transcript(
            mix_context(fp, 1, load("shuffle")["cases"][0]["context"]["list"][3]["str"])
        ),
        "decryption": share_transcript(
            fp, 2, bytes.fromhex(load("decryption")["cases"][0]["context"]["list"][3]["bytes"])
        ),
    }
    for kind, transcript in built.items():
        ref = RefTranscript(typed_tlv(load(kind)["cases"][0]["context"]))
        assert first_challenge(transcript) == ref.challenge("probe", 8)[1], kind


def test_files_are_reproduced_byte_for_byte() -> None:
    script = load_script()
    for kind in KINDS:
        assert (HERE / f"{kind}.json").read_bytes() == script.build(kind), kind


def test_every_kind_covers_both_group_families() -> None:
    for kind in KINDS:
        families = {c["description"]["family"] for c in load(kind)["cases"]}
        assert families == {"modp-safe", "ec-secp256k1"}, kind
