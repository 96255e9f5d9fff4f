#!/usr/bin/env python3
"""Generate the mix-net test vectors in tests/vectors/ (STYLE.md principle 10).

Every file is made from a `DeterministicRandom` seeded with a fixed string named in the file,
carries no date, and holds positive cases with NAMED INTERMEDIATE VALUES (challenges, batch
weights, generators, the shuffle's u vector …) and NEGATIVE CASES: edits applied to a positive
case with the failure they must cause (the check's id, e.g. "TW1", or "DecodeError").

    python scripts/make_vectors.py           # (re)write tests/vectors/*.json
    python scripts/make_vectors.py --check   # exit 1 if a file differs from what this makes

tests/vectors/test_vectors.py re-derives the files' contents independently and also checks
that `build_all()` reproduces them byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mixnet.groups
from mixnet.elgamal import (
    decrypt_row,
    encrypt_rows,
    keygen,
    reencrypt_rows,
    row_from_json,
    row_to_json,
)
from mixnet.encoding import canonical_json, encode, int_to_hex
from mixnet.errors import DecodeError, VerificationError
from mixnet.generators import derive_generators, generator_seed
from mixnet.groups import Group, ModpGroup, get_group, known_groups
from mixnet.groups.base import BATCH_BITS, Element
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption as dec
from mixnet.proofs import encryption as enc
from mixnet.proofs import schnorr
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as tw
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Label, Transcript

GENERATOR = "scripts/make_vectors.py"
FORMAT = 1
VECTOR_DIR = Path(__file__).resolve().parent.parent / "tests" / "vectors"
PROOF_GROUPS = ("test-safe-256", "test-schnorr-512-128", "modp2048")


def load_group_families() -> None:
    """Import every group family so that all registered groups are known."""
    for info in pkgutil.iter_modules(mixnet.groups.__path__):
        importlib.import_module(f"mixnet.groups.{info.name}")


def modular_groups() -> list[str]:
    load_group_families()
    return [n for n in known_groups() if isinstance(get_group(n), ModpGroup)]


def seed_name(kind: str, case: str = "") -> str:
    return f"tohyo-vectors/{kind}/v{FORMAT}" + (f"/{case}" if case else "")


def about(kind: str, function: str, description: str) -> dict[str, Any]:
    return {
        "generator": GENERATOR,
        "function": function,
        "seed": seed_name(kind),
        "rng": "mixnet.rng.DeterministicRandom(seed + '/' + case name)",
        "format": FORMAT,
        "description": description,
        "negative_cases": "each negative applies `edits` (a path into the case and a new value) "
        "to a copy of its positive case; `expect` is the id of the failing check (the first "
        "word of VerificationError.check) or DecodeError",
    }


def dump(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def context(kind: str, case: str) -> dict[str, Any]:
    return {"vectors": "tohyo", "kind": kind, "case": case}


def hexint(value: int, group: Group, *, scalar: bool = True) -> str:
    return int_to_hex(int(value), group.scalar_bytes if scalar else group.element_bytes)


def upper_hex(text: str) -> str:
    """The same number in uppercase hex (must be refused); forces a letter if there is none."""
    up = text.upper()
    return up if up != text else "A" + text[1:]


def non_member_hex(group: Group) -> str:
    assert isinstance(group, ModpGroup)
    return int_to_hex(int(group.p) - 1, group.element_bytes)  # order 2


def other_member_hex(group: Group, tag: str) -> str:
    return group.hash_to_element(b"tohyo-vectors/other/" + tag.encode()).to_hex()


def bump_hex(text: str, modulus: int) -> str:
    return format((int(text, 16) + 1) % modulus, f"0{len(text)}x")


# ------------------------------------------------------------------ applying negative cases


def apply_edits(case: dict[str, Any], edits: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(case)
    for edit in edits:
        *path, last = edit["path"]
        target = out
        for key in path:
            target = target[key]
        target[last] = copy.deepcopy(edit["value"])
    return out


def outcome(check: Callable[[dict[str, Any]], None], case: dict[str, Any]) -> str:
    """ "ok", "DecodeError" or the failing check's id."""
    try:
        check(case)
    except DecodeError:
        return "DecodeError"
    except VerificationError as exc:
        return exc.check.split()[0]
    return "ok"


def negatives(
    check: Callable[[dict[str, Any]], None],
    case: dict[str, Any],
    specs: list[tuple[str, list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    out = []
    for name, edits in specs:
        result = outcome(check, apply_edits(case, edits))
        if result == "ok":
            raise AssertionError(f"negative case {case['name']}/{name} verifies")
        out.append({"case": case["name"], "name": name, "edits": edits, "expect": result})
    return out


def edit(path: list[Any], value: Any) -> dict[str, Any]:
    return {"path": path, "value": value}


# ------------------------------------------------------------------ checking cases (shared)


def verifier_rng() -> DeterministicRandom:
    return DeterministicRandom(b"tohyo-vectors/verifier")


def check_schnorr(case: dict[str, Any]) -> None:
    group = get_group(case["group"])
    st = schnorr.Statement(
        group.element_from_hex(case["statement"]["base"]),
        group.element_from_hex(case["statement"]["y"]),
    )
    proof = schnorr.Proof.from_json(group, case["proof"])
    schnorr.verify(st, proof, transcript=Transcript(case["context"]), rng=verifier_rng())


def check_cp(case: dict[str, Any]) -> None:
    group = get_group(case["group"])
    s = case["statement"]
    proof = cp.Proof.from_json(group, case["proof"])
    if case["batch"]:
        bst = cp.BatchStatement(
            group.element_from_hex(s["x_pub"]),
            group.elements_from_hex(s["bases"]),
            group.elements_from_hex(s["factors"]),
        )
        cp.verify_batch(bst, proof, transcript=Transcript(case["context"]), rng=verifier_rng())
    else:
        st = cp.Statement(*(group.element_from_hex(s[k]) for k in ("g1", "x_pub", "g2", "d")))
        cp.verify(st, proof, transcript=Transcript(case["context"]), rng=verifier_rng())


def check_encryption(case: dict[str, Any]) -> None:
    group = get_group(case["group"])
    row = row_from_json(group, case["statement"]["row"])
    st = enc.Statement(group.element_from_hex(case["statement"]["pk"]), row)
    proof = enc.Proof.from_json(group, case["proof"], len(row))
    enc.verify(st, proof, transcript=Transcript(case["context"]), rng=verifier_rng())


def check_decryption(case: dict[str, Any]) -> None:
    group = get_group(case["group"])
    s = case["statement"]
    rows = [row_from_json(group, r) for r in s["rows"]]
    factors = group.elements_from_hex(s["factors"])
    proof = cp.Proof.from_json(group, case["proof"])
    dec.verify_factors(
        group.element_from_hex(s["x_pub"]),
        rows,
        factors,
        proof,
        transcript=Transcript(case["context"]),
        rng=verifier_rng(),
    )


def check_shuffle(case: dict[str, Any]) -> None:
    group = get_group(case["group"])
    s = case["statement"]
    n, width = case["n"], case["width"]
    st = tw.ShuffleStatement(
        group.element_from_hex(s["pk"]),
        [row_from_json(group, r, width) for r in s["inputs"]],
        [row_from_json(group, r, width) for r in s["outputs"]],
        s["generator_context"],
    )
    proof = tw.ShuffleProof.from_json(group, case["proof"], n, width)
    tw.verify(st, proof, transcript=Transcript(case["context"]), rng=verifier_rng())


# ------------------------------------------------------------------ encoding


def typed(value: Any) -> Any:
    """A JSON form of a TLV input that keeps its type."""
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, dict):
        return {"map": {k: typed(v) for k, v in value.items()}}
    if isinstance(value, Element):
        return {"element": {"group": value.group.name, "hex": value.to_hex()}}
    return {"list": [typed(v) for v in value]}


def encoding_vectors() -> dict[str, Any]:
    group = get_group("test-safe-256")
    tlv_inputs: list[tuple[str, Any]] = [
        ("empty bytes", b""),
        ("bytes", b"\x00\x01\xff"),
        ("empty string", ""),
        ("ascii string", "AB"),
        ("utf-8 string", "投票"),
        ("zero", 0),
        ("small int", 255),
        ("two-byte int", 256),
        ("2^64", 2**64),
        ("empty list", []),
        ("list A,B", ["A", "B"]),
        ("list AB", ["AB"]),
        ("nested list", [["a"], "b"]),
        ("flat list", [["a", "b"]]),
        ("map", {"b": 1, "a": "x"}),
        ("map a:bc", {"a": "bc"}),
        ("map ab:c", {"ab": "c"}),
        ("element g", group.generator()),
        ("transcript header", [Label.TRANSCRIPT, {"election": "e"}]),
    ]
    tlv = [
        {
            "name": name,
            "value": typed(v),
            "tlv": encode(v).hex(),
            "sha256": hashlib.sha256(encode(v)).hexdigest(),
        }
        for name, v in tlv_inputs
    ]
    tlv.append(
        {
            "name": "scalar 5",
            "value": {"scalar": {"group": group.name, "hex": group.scalar(5).to_hex()}},
            "tlv": encode(group.scalar(5)).hex(),
            "sha256": hashlib.sha256(encode(group.scalar(5))).hexdigest(),
        }
    )
    json_values: list[Any] = [
        {"b": [1, 2, {"d": None, "c": True}], "a": "é"},
        [],
        {},
        "\u2028",
        2**53 - 1,
        -(2**53) + 1,
        {"": ""},
    ]
    canonical = [{"value": v, "canonical": canonical_json(v).decode("utf-8")} for v in json_values]
    rejected = [
        ("space after colon", b'{"a": 1}'),
        ("trailing newline", b'{"a":1}\n'),
        ("unsorted keys", b'{"b":1,"a":2}'),
        ("duplicate keys", b'{"a":1,"a":1}'),
        ("float", b"1.0"),
        ("exponent", b"1e3"),
        ("NaN", b"NaN"),
        ("integer 2^53", b"9007199254740992"),
        ("negative zero", b"-0"),
        ("escaped ASCII", b'"\\u0041"'),
        ("not UTF-8", b'"\xff"'),
        ("byte-order mark", b"\xef\xbb\xbf{}"),
    ]
    hex_cases = [
        {"text": "00ff", "width": 2, "value": "255"},
        {"text": "0000", "width": 2, "value": "0"},
        {"text": "00FF", "width": 2, "value": None},
        {"text": "0ff", "width": 2, "value": None},
        {"text": "000ff", "width": 2, "value": None},
        {"text": "0x0f", "width": 2, "value": None},
        {"text": "+0ff", "width": 2, "value": None},
        {"text": "0_ff", "width": 2, "value": None},
    ]
    return {
        "about": about(
            "encoding",
            "encoding_vectors",
            "TLV encodings with SHA-256 of each; canonical JSON forms; byte strings the "
            "canonical JSON parser must refuse; fixed-width hex decoding",
        ),
        "tlv": tlv,
        "canonical_json": canonical,
        "canonical_json_rejected": [{"name": n, "bytes": b.hex()} for n, b in rejected],
        "hex": hex_cases,
    }


# ------------------------------------------------------------------ groups and generators


def group_vectors() -> dict[str, Any]:
    cases = []
    negative = []
    for name in modular_groups():
        group = get_group(name)
        assert isinstance(group, ModpGroup)
        params = group.params
        description = group.description()
        cases.append(
            {
                "name": name,
                "family": params.family,
                "generation": params.generation,
                "p": hexint(params.p, group, scalar=False),
                "q": hexint(params.q, group),
                "g": hexint(params.g, group, scalar=False),
                "security_bits": params.security_bits,
                "production": params.production,
                "description": description,
                "fingerprint": group.fingerprint().hex(),
            }
        )
        gen = params.generation
        tampers: list[tuple[str, dict[str, Any]]] = [
            ("p + 2", {"p": hexint(params.p + 2, group, scalar=False)}),
            ("g squared", {"g": hexint(params.g**2 % params.p, group, scalar=False)}),
        ]
        if "counter" in gen:
            tampers.append(("counter + 1", {"generation": dict(gen, counter=gen["counter"] + 1)}))
        if "seed" in gen:
            seed = bytes.fromhex(gen["seed"])
            tampers.append(
                ("seed", {"generation": dict(gen, seed=(seed[:-1] + bytes([seed[-1] ^ 1])).hex())})
            )
        for tname, change in tampers:
            negative.append(
                {"case": name, "name": tname, "change": change, "expect": "ParameterError"}
            )
    return {
        "about": about(
            "groups",
            "group_vectors",
            "every registered modular group: its generation record and the p, q, g derived "
            "from it, its canonical description and fingerprint (SHA-256 of the description's "
            "TLV); negative cases change one field and check_generation must refuse them",
        ),
        "cases": cases,
        "negative": negative,
    }


def generator_vectors() -> dict[str, Any]:
    cases = []
    for name in PROOF_GROUPS:
        group = get_group(name)
        ctx = {"election": "vectors", "mixer": 1}
        count = 5
        gens = derive_generators(group, ctx, tw.GENERATOR_PURPOSE, count)
        seed = generator_seed(group, ctx, tw.GENERATOR_PURPOSE)
        cases.append(
            {
                "name": f"{name} shuffle generators",
                "group": name,
                "context": ctx,
                "purpose": tw.GENERATOR_PURPOSE,
                "count": count,
                "seed": seed.hex(),
                "h": gens.h.to_hex(),
                "hs": [h.to_hex() for h in gens.hs],
            }
        )
    return {
        "about": about(
            "generators",
            "generator_vectors",
            "seed = SHA-256(TLV(Label.GENERATORS, group description, context, purpose)); "
            "candidate i = hash_to_group(seed ‖ i as 8 bytes big-endian), i = 0, 1, …, "
            "skipping the identity, g and repeats; h is the first, h_1..h_N the next",
        ),
        "cases": cases,
    }


# ------------------------------------------------------------------ ElGamal


def elgamal_vectors() -> dict[str, Any]:
    cases = []
    negative = []
    for name in PROOF_GROUPS:
        group = get_group(name)
        rng = DeterministicRandom(seed_name("elgamal", name))
        kp = keygen(group, rng)
        messages = [[0, 1, 7], [3, 2, 5]]
        rows, rs = encrypt_rows(kp.public, messages, rng)
        case = {
            "name": name,
            "group": name,
            "rng_seed": seed_name("elgamal", name),
            "secret": kp.secret.to_hex(),
            "pk": kp.public.to_hex(),
            "messages": messages,
            "encoded_messages": [[group.encode_message(m).to_hex() for m in ms] for ms in messages],
            "randomness": [[r.to_hex() for r in row] for row in rs],
            "rows": [row_to_json(r) for r in rows],
        }
        assert [decrypt_row(kp.secret, r, 16) for r in rows] == messages
        cases.append(case)

        def check(c: dict[str, Any], group: Group = group) -> None:
            for r in c["rows"]:
                row_from_json(group, r, 3)

        negative += negatives(
            check,
            case,
            [
                ("a outside the subgroup", [edit(["rows", 0, 1, 0], non_member_hex(group))]),
                ("b uppercase", [edit(["rows", 1, 0, 1], upper_hex(case["rows"][1][0][1]))]),
                ("b is zero", [edit(["rows", 1, 2, 1], "00" * group.element_bytes)]),
                ("row too short", [edit(["rows", 0], case["rows"][0][:2])]),
            ],
        )
    return {
        "about": about(
            "elgamal",
            "elgamal_vectors",
            "rows (a, b) = (encode(m)·pk^r, g^r) with their secret key and randomness; "
            "negative cases are rows the decoder must refuse",
        ),
        "cases": cases,
        "negative": negative,
    }


# ------------------------------------------------------------------ Σ-proofs


def schnorr_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        seed = seed_name("schnorr", name)
        rng = DeterministicRandom(seed)
        x = group.random_scalar(rng)
        g = group.generator()
        st = schnorr.Statement(g, g**x)
        ctx = context("schnorr", name)
        proof = schnorr.prove(st, x, transcript=Transcript(ctx), rng=rng)
        t = Transcript(ctx)
        st.absorb(t)
        t.append("commitment", proof.t)
        c = t.challenge_mod(Label.C, group.order)
        case = {
            "name": name,
            "group": name,
            "rng_seed": seed,
            "context": ctx,
            "witness": {"x": x.to_hex()},
            "statement": {"base": g.to_hex(), "y": st.y.to_hex()},
            "proof": proof.to_json(),
            "intermediate": {"c": hexint(c, group)},
        }
        check_schnorr(case)
        cases.append(case)
        q = group.order
        negative += negatives(
            check_schnorr,
            case,
            [
                ("response + 1", [edit(["proof", "s"], bump_hex(case["proof"]["s"], q))]),
                ("commitment replaced", [edit(["proof", "t"], other_member_hex(group, "t"))]),
                ("another public key", [edit(["statement", "y"], other_member_hex(group, "y"))]),
                ("another context", [edit(["context", "case"], "another")]),
                ("commitment of order 2", [edit(["proof", "t"], non_member_hex(group))]),
                ("response = q", [edit(["proof", "s"], hexint(q, group))]),
                ("uppercase hex", [edit(["proof", "t"], upper_hex(case["proof"]["t"]))]),
            ],
        )
    return {
        "about": about(
            "schnorr",
            "schnorr_vectors",
            "Schnorr proofs y = g^x with the challenge c = challenge_mod('c', q) after "
            "absorbing proof label, group, statement [base, y] and commitment t",
        ),
        "cases": cases,
        "negative": negative,
    }


def cp_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        q = group.order
        g = group.generator()
        # single
        seed = seed_name("chaum-pedersen", name)
        rng = DeterministicRandom(seed)
        x = group.random_scalar(rng)
        g2 = group.hash_to_element(b"tohyo-vectors/g2")
        st = cp.Statement(g, g**x, g2, g2**x)
        ctx = context("chaum-pedersen", name)
        proof = cp.prove(st, x, transcript=Transcript(ctx), rng=rng)
        t = Transcript(ctx)
        st.absorb(t)
        t.append("commitment", [proof.t1, proof.t2])
        c = t.challenge_mod(Label.C, q)
        case = {
            "name": name,
            "group": name,
            "batch": False,
            "rng_seed": seed,
            "context": ctx,
            "witness": {"x": x.to_hex()},
            "statement": {
                "g1": g.to_hex(),
                "x_pub": st.x_pub.to_hex(),
                "g2": g2.to_hex(),
                "d": st.d.to_hex(),
            },
            "proof": proof.to_json(),
            "intermediate": {"c": hexint(c, group)},
        }
        check_cp(case)
        cases.append(case)
        negative += negatives(
            check_cp,
            case,
            [
                ("response + 1", [edit(["proof", "s"], bump_hex(case["proof"]["s"], q))]),
                ("t2 replaced", [edit(["proof", "t2"], other_member_hex(group, "t2"))]),
                ("another factor", [edit(["statement", "d"], other_member_hex(group, "d"))]),
                ("another context", [edit(["context", "case"], "another")]),
                ("factor of order 2", [edit(["statement", "d"], non_member_hex(group))]),
                ("response = q", [edit(["proof", "s"], hexint(q, group))]),
            ],
        )
        # batch
        bname = f"{name} batch"
        seed = seed_name("chaum-pedersen", bname)
        rng = DeterministicRandom(seed)
        x = group.random_scalar(rng)
        bases = [g ** group.random_scalar(rng) for _ in range(4)]
        bst = cp.BatchStatement(g**x, bases, [b**x for b in bases])
        ctx = context("chaum-pedersen", bname)
        proof = cp.prove_batch(bst, x, transcript=Transcript(ctx), rng=rng)
        t = Transcript(ctx)
        t.append("proof", Label.CHAUM_PEDERSEN_BATCH)
        t.append("group", group.description())
        t.append("key", bst.x_pub)
        t.append("bases", list(bst.bases))
        t.append("factors", list(bst.factors))
        weights = t.challenge_vector(Label.BATCH, len(bases), BATCH_BITS)
        b_comb = group.multi_exp(bases, weights)
        d_comb = group.multi_exp(list(bst.factors), weights)
        cst = cp.Statement(g, bst.x_pub, b_comb, d_comb)
        cst.absorb(t)
        t.append("commitment", [proof.t1, proof.t2])
        c = t.challenge_mod(Label.C, q)
        case = {
            "name": bname,
            "group": name,
            "batch": True,
            "rng_seed": seed,
            "context": ctx,
            "witness": {"x": x.to_hex()},
            "statement": {
                "x_pub": bst.x_pub.to_hex(),
                "bases": [b.to_hex() for b in bases],
                "factors": [d.to_hex() for d in bst.factors],
            },
            "proof": proof.to_json(),
            "intermediate": {
                "weights": [format(w, "032x") for w in weights],
                "combined_base": b_comb.to_hex(),
                "combined_factor": d_comb.to_hex(),
                "c": hexint(c, group),
            },
        }
        check_cp(case)
        cases.append(case)
        f = case["statement"]["factors"]
        negative += negatives(
            check_cp,
            case,
            [
                ("two factors swapped", [edit(["statement", "factors"], [f[1], f[0], *f[2:]])]),
                (
                    "one factor replaced",
                    [edit(["statement", "factors", 2], other_member_hex(group, "f"))],
                ),
                (
                    "one base replaced",
                    [edit(["statement", "bases", 3], other_member_hex(group, "b"))],
                ),
                ("response + 1", [edit(["proof", "s"], bump_hex(case["proof"]["s"], q))]),
                ("another context", [edit(["context", "case"], "another")]),
                ("factor of order 2", [edit(["statement", "factors", 0], non_member_hex(group))]),
                ("one factor missing", [edit(["statement", "factors"], f[:-1])]),
            ],
        )
    return {
        "about": about(
            "chaum-pedersen",
            "cp_vectors",
            "Chaum–Pedersen proofs log_g1 X = log_g2 D, and batched proofs D_i = B_i^x with "
            "128-bit weights e_i = challenge_vector('batch') and the combined statement "
            "B = ∏B_i^e_i, D = ∏D_i^e_i proved with one challenge c",
        ),
        "cases": cases,
        "negative": negative,
    }


def encryption_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        q = group.order
        seed = seed_name("encryption", name)
        rng = DeterministicRandom(seed)
        pk = keygen(group, rng).public
        rows, rs = encrypt_rows(pk, [[1, 0, 3]], rng)
        st = enc.Statement(pk, rows[0])
        ctx = context("encryption", name) | {"ballot_key": "voter-1"}
        proof = enc.prove(st, rs[0], transcript=Transcript(ctx), rng=rng)
        t = Transcript(ctx)
        st.absorb(t)
        t.append("commitment", list(proof.t))
        c = t.challenge_mod(Label.C, q)
        rerandomised = reencrypt_rows(pk, rows, [[1, 2, 3]])[0]
        case = {
            "name": name,
            "group": name,
            "rng_seed": seed,
            "context": ctx,
            "witness": {"randomness": [r.to_hex() for r in rs[0]], "messages": [1, 0, 3]},
            "statement": {"pk": pk.to_hex(), "row": row_to_json(rows[0])},
            "proof": proof.to_json(),
            "intermediate": {"c": hexint(c, group)},
        }
        check_encryption(case)
        cases.append(case)
        s = case["proof"]["s"]
        negative += negatives(
            check_encryption,
            case,
            [
                ("another ballot key", [edit(["context", "ballot_key"], "voter-2")]),
                ("re-randomised row", [edit(["statement", "row"], row_to_json(rerandomised))]),
                ("a replaced", [edit(["statement", "row", 1, 0], other_member_hex(group, "a"))]),
                ("response + 1", [edit(["proof", "s", 2], bump_hex(s[2], q))]),
                ("commitment of order 2", [edit(["proof", "t", 0], non_member_hex(group))]),
                ("a of order 2", [edit(["statement", "row", 0, 0], non_member_hex(group))]),
                ("response = q", [edit(["proof", "s", 1], hexint(q, group))]),
            ],
        )
    return {
        "about": about(
            "encryption",
            "encryption_vectors",
            "proofs of knowledge of a row's randomness (ballot non-malleability), bound to a "
            "context holding the ballot key; c = challenge_mod('c', q) after the statement "
            "[pk, row] and commitments t",
        ),
        "cases": cases,
        "negative": negative,
    }


def decryption_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        q = group.order
        seed = seed_name("decryption", name)
        rng = DeterministicRandom(seed)
        kp = keygen(group, rng)
        messages = [[2, 0], [1, 4]]
        rows, _ = encrypt_rows(kp.public, messages, rng)
        factors = dec.decryption_factors(kp.secret, rows)
        ctx = context("decryption", name)
        proof = dec.prove_factors(kp.secret, rows, factors, transcript=Transcript(ctx), rng=rng)
        bs = [ct.b for row in rows for ct in row]
        t = Transcript(ctx)
        t.append("proof", Label.DECRYPTION)
        t.append("rows", [[[ct.a, ct.b] for ct in row] for row in rows])
        t.append("proof", Label.CHAUM_PEDERSEN_BATCH)
        t.append("group", group.description())
        t.append("key", kp.public)
        t.append("bases", bs)
        t.append("factors", factors)
        weights = t.challenge_vector(Label.BATCH, len(bs), BATCH_BITS)
        b_comb, d_comb = group.multi_exp(bs, weights), group.multi_exp(factors, weights)
        cp.Statement(group.generator(), kp.public, b_comb, d_comb).absorb(t)
        t.append("commitment", [proof.t1, proof.t2])
        c = t.challenge_mod(Label.C, q)
        plain = [ct.a / d for ct, d in zip([ct for row in rows for ct in row], factors)]
        case = {
            "name": name,
            "group": name,
            "rng_seed": seed,
            "context": ctx,
            "witness": {"x": kp.secret.to_hex()},
            "statement": {
                "x_pub": kp.public.to_hex(),
                "rows": [row_to_json(r) for r in rows],
                "factors": [d.to_hex() for d in factors],
            },
            "proof": proof.to_json(),
            "intermediate": {
                "weights": [format(w, "032x") for w in weights],
                "combined_base": b_comb.to_hex(),
                "combined_factor": d_comb.to_hex(),
                "c": hexint(c, group),
                "plaintext_elements": [p.to_hex() for p in plain],
                "messages": messages,
            },
        }
        check_decryption(case)
        cases.append(case)
        f = case["statement"]["factors"]
        negative += negatives(
            check_decryption,
            case,
            [
                ("two factors swapped", [edit(["statement", "factors"], [f[1], f[0], *f[2:]])]),
                (
                    "factor replaced",
                    [edit(["statement", "factors", 3], other_member_hex(group, "d"))],
                ),
                ("another key", [edit(["statement", "x_pub"], other_member_hex(group, "X"))]),
                (
                    "b replaced",
                    [edit(["statement", "rows", 1, 0, 1], other_member_hex(group, "b"))],
                ),
                ("another context", [edit(["context", "case"], "another")]),
                ("one factor missing", [edit(["statement", "factors"], f[:-1])]),
                ("factor of order 2", [edit(["statement", "factors", 1], non_member_hex(group))]),
                ("response = q", [edit(["proof", "s"], hexint(q, group))]),
            ],
        )
    return {
        "about": about(
            "decryption",
            "decryption_vectors",
            "decryption factors d = b^x for every ciphertext, row-major, with a batched "
            "Chaum–Pedersen proof (after absorbing the decryption label); the plaintext "
            "elements a/d and the messages they encode",
        ),
        "cases": cases,
        "negative": negative,
    }


# ------------------------------------------------------------------ shuffle

SHUFFLE_CASES = (
    ("test-safe-256", 3, 1),
    ("test-safe-256", 4, 2),
    ("test-schnorr-512-128", 3, 1),
    ("test-schnorr-512-128", 3, 2),
    ("modp2048", 4, 1),
)


def shuffle_challenges(
    statement: tw.ShuffleStatement, proof: tw.ShuffleProof, ctx: Any, seed: bytes
) -> tuple[list[int], int]:
    """u and c, absorbing exactly what mixnet/shuffle/proof.py absorbs, in its order."""
    group = statement.group
    n = len(statement.inputs)
    t = Transcript(ctx)
    t.append("proof", Label.SHUFFLE)
    t.append("group", group.description())
    t.append("parameters", [tw.U_BITS, tw.C_BITS, tw.STAT_BITS])
    t.append("generators", seed)
    t.append("pk", statement.pk)
    t.append("shape", [n, statement.width])
    t.append("inputs", [[[ct.a, ct.b] for ct in row] for row in statement.inputs])
    t.append("outputs", [[[ct.a, ct.b] for ct in row] for row in statement.outputs])
    t.append("c", list(proof.c))
    u = t.challenge_vector(Label.SHUFFLE_U, n, tw.U_BITS)
    t.append("c_hat", list(proof.c_hat))
    t.append("t", [proof.t1, proof.t2, proof.t3, list(proof.t4a), list(proof.t4b)])
    t.append("t_hat", list(proof.t_hat))
    return u, t.challenge_bits(Label.SHUFFLE_C, tw.C_BITS)


def shuffle_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name, n, width in SHUFFLE_CASES:
        group = get_group(name)
        q = group.order
        cname = f"{name} N={n} w={width}"
        seed = seed_name("shuffle", cname)
        rng = DeterministicRandom(seed)
        kp = keygen(group, rng)
        messages = [[(3 * i + k) % 5 for k in range(width)] for i in range(n)]
        rows, _ = encrypt_rows(kp.public, messages, rng)
        outputs, witness = shuffle(kp.public, rows, rng)
        gen_ctx = {"election": "vectors", "mixer": 1, "case": cname}
        st = tw.ShuffleStatement(kp.public, rows, outputs, gen_ctx)
        ctx = context("shuffle", cname)
        proof = tw.prove(st, witness, transcript=Transcript(ctx), rng=rng)
        gens = derive_generators(group, gen_ctx, tw.GENERATOR_PURPOSE, n)
        u, c = shuffle_challenges(st, proof, ctx, gens.seed)
        u_prod = 1
        for v in u:
            u_prod = u_prod * v % q
        case = {
            "name": cname,
            "group": name,
            "n": n,
            "width": width,
            "rng_seed": seed,
            "context": ctx,
            "secret_key": kp.secret.to_hex(),
            "messages": messages,
            "witness": {
                "permutation": list(witness.permutation),
                "randomness": [[hexint(r, group) for r in row] for row in witness.randomness],
            },
            "statement": {
                "pk": kp.public.to_hex(),
                "generator_context": gen_ctx,
                "inputs": [row_to_json(r) for r in rows],
                "outputs": [row_to_json(r) for r in outputs],
            },
            "proof": proof.to_json(),
            "intermediate": {
                "generator_seed": gens.seed.hex(),
                "h": gens.h.to_hex(),
                "h_i": [h.to_hex() for h in gens.hs],
                "u": [format(v, f"0{tw.U_BITS // 4}x") for v in u],
                "u_product": hexint(u_prod, group),
                "c": format(c, f"0{tw.C_BITS // 4}x"),
                "s_prime_bound_bits": (
                    tw.U_BITS + tw.C_BITS + tw.STAT_BITS + 1
                    if q.bit_length() > tw.U_BITS + tw.C_BITS + tw.STAT_BITS + 64
                    else None
                ),
            },
        }
        check_shuffle(case)
        cases.append(case)
        out = case["statement"]["outputs"]
        p = case["proof"]
        ct = out[1][0]
        altered = group.element_from_hex(ct[0]) * group.generator()
        negative += negatives(
            check_shuffle,
            case,
            [
                ("output altered", [edit(["statement", "outputs", 1, 0, 0], altered.to_hex())]),
                (
                    "two outputs swapped",
                    [edit(["statement", "outputs"], [out[1], out[0], *out[2:]])],
                ),
                (
                    "commitment c_1 replaced",
                    [edit(["proof", "c", 0], other_member_hex(group, "c"))],
                ),
                (
                    "t_hat_N replaced",
                    [edit(["proof", "t_hat", n - 1], other_member_hex(group, "th"))],
                ),
                ("s1 + 1", [edit(["proof", "s1"], bump_hex(p["s1"], q))]),
                ("s'_2 + 1", [edit(["proof", "s_prime", 1], bump_hex(p["s_prime"][1], 1 << 600))]),
                ("another public key", [edit(["statement", "pk"], other_member_hex(group, "pk"))]),
                (
                    "another generator context",
                    [edit(["statement", "generator_context", "mixer"], 2)],
                ),
                ("another transcript context", [edit(["context", "case"], "another")]),
                (
                    "input of order 2",
                    [edit(["statement", "inputs", 0, 0, 1], non_member_hex(group))],
                ),
                ("commitment of order 2", [edit(["proof", "c_hat", 0], non_member_hex(group))]),
                ("s1 = q", [edit(["proof", "s1"], hexint(q, group))]),
                ("c one entry short", [edit(["proof", "c"], p["c"][:-1])]),
            ],
        )
    return {
        "about": about(
            "shuffle",
            "shuffle_vectors",
            "Terelius–Wikström proofs of a shuffle of rows (docs/protocol.md §8) with the "
            "witness (ψ, r'), the generators (seed, h, h_1..h_N), the batching vector u "
            "(U_BITS-bit entries), ∏u mod q and the main challenge c (C_BITS bits)",
        ),
        "cases": cases,
        "negative": negative,
    }


# ------------------------------------------------------------------ all files

BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "encoding.json": encoding_vectors,
    "groups.json": group_vectors,
    "generators.json": generator_vectors,
    "elgamal.json": elgamal_vectors,
    "schnorr.json": schnorr_vectors,
    "chaum_pedersen.json": cp_vectors,
    "encryption.json": encryption_vectors,
    "decryption.json": decryption_vectors,
    "shuffle.json": shuffle_vectors,
}


def build(filename: str) -> bytes:
    load_group_families()
    return dump(BUILDERS[filename]())


def build_all() -> dict[str, bytes]:
    return {filename: build(filename) for filename in BUILDERS}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    differ = []
    for filename, data in build_all().items():
        path = VECTOR_DIR / filename
        if check:
            if not path.exists() or path.read_bytes() != data:
                differ.append(filename)
        else:
            path.write_bytes(data)
            print(f"wrote {path} ({len(data)} bytes)")
    if differ:
        print("differ from the generator: " + ", ".join(differ), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
