#!/usr/bin/env python3
"""Generate the mix-net test vectors in tests/vectors/ (docs/contributing.md §3).

Every file is made from a `DeterministicRandom` seeded with a fixed string named in the file,
carries no date, and holds positive cases with NAMED INTERMEDIATE VALUES (challenges, batch
weights, generators, the shuffle's u vector …) and NEGATIVE CASES: edits applied to a positive
case with the failure they must cause (the check's id, e.g. "TW1", or "DecodeError").

    python scripts/make_vectors.py           # (re)write tests/vectors/*.json
    python scripts/make_vectors.py --check   # exit 1 if a file differs from what this makes

Every file holds modular cases and secp256k1 cases. Modular negative cases put an element of
order 2 where a member is expected; on secp256k1 (cofactor 1, so every point is a member) they
put refused encodings there instead: off the curve, a bad prefix, x ≥ p, SEC1's one-byte
infinity, the uncompressed form. These are found with the group's own decoder; nothing here
does curve arithmetic.

tests/vectors/test_vectors.py re-derives the files' contents independently (modular integers,
and affine secp256k1 arithmetic of its own in tests/vectors/reference.py) and also checks that
`build_all()` reproduces them byte for byte.
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

import coincurve

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
from mixnet.groups import Group, ModpGroup, get_group, group_from_description, known_groups
from mixnet.groups.base import BATCH_BITS, Element, Scalar
from mixnet.groups.ec import GX, GY, SECP256K1
from mixnet.groups.ec import P as EC_P
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
PROOF_GROUPS = ("test-safe-256", "test-schnorr-512-128", "modp2048", SECP256K1)


def load_group_families() -> None:
    """Import every group family so that all registered groups are known."""
    for info in pkgutil.iter_modules(mixnet.groups.__path__):
        importlib.import_module(f"mixnet.groups.{info.name}")


def modular_groups() -> list[str]:
    load_group_families()
    return [n for n in known_groups() if isinstance(get_group(n), ModpGroup)]


def curve_groups() -> list[str]:
    load_group_families()
    return [n for n in known_groups() if not isinstance(get_group(n), ModpGroup)]


def seed_name(kind: str, case: str = "") -> str:
    return f"tohyo-vectors/{kind}/v{FORMAT}" + (f"/{case}" if case else "")


def seeded(kind: str, case: str) -> tuple[str, DeterministicRandom]:
    """A case's seed name and the random source it seeds."""
    seed = seed_name(kind, case)
    return seed, DeterministicRandom(seed)


def case_head(name: str, group: str, seed: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """The fields every proof case starts with."""
    return {"name": name, "group": group, "rng_seed": seed, "context": ctx}


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


def vector_file(
    kind: str, function: str, description: str, cases: list[Any], negative: list[Any]
) -> dict[str, Any]:
    """A vector file: its `about` block, positive cases and negative cases."""
    return {"about": about(kind, function, description), "cases": cases, "negative": negative}


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


# ------------------------------------------------------------------ secp256k1 encodings
#
# Bad encodings are found with the group's own decoder (no curve arithmetic here); the checker
# re-derives why each one is refused with its own integers.

#: The kinds of refused secp256k1 element encodings used by the negative cases.
EC_BAD = {
    "off-curve": "not on the curve",
    "prefix-04": "with prefix 04 (33 bytes)",
    "x+p": "with x ≥ p (x + p of a point)",
    "infinity-00": "as SEC1 infinity (one byte 00)",
    "zero-prefix": "with prefix 00 before its x",
    "uncompressed": "uncompressed (65 bytes)",
}
#: First bytes refused before a valid x (02 and 03 are the only compressed prefixes).
EC_BAD_PREFIXES = ("01", "04", "05", "06", "07", "ff")


def ec_decodes(group: Group, data: bytes) -> bool:
    try:
        group.element_from_bytes(data)
    except DecodeError:
        return False
    return True


def ec_off_curve(group: Group, valid: str) -> str:
    """The same prefix with the next x above the point's own for which x³ + 7 is no square."""
    x = int(valid[2:], 16)
    while True:
        x = (x + 1) % EC_P
        data = bytes.fromhex(valid[:2]) + x.to_bytes(32, "big")
        if not ec_decodes(group, data):
            return data.hex()


def ec_first_x(group: Group) -> int:
    """The smallest x of a point of the curve (its x + p still fits in 32 bytes)."""
    x = 0
    while not ec_decodes(group, b"\x02" + x.to_bytes(32, "big")):
        x += 1
    return x


def ec_uncompressed(valid: str) -> str:
    return coincurve.PublicKey(bytes.fromhex(valid)).format(compressed=False).hex()


def ec_bad_hex(group: Group, kind: str, valid: str) -> str:
    """A refused encoding of kind `kind` made from the valid encoding `valid`."""
    if kind == "off-curve":
        return ec_off_curve(group, valid)
    if kind == "prefix-04":
        return "04" + valid[2:]
    if kind == "x+p":
        return "02" + int_to_hex(ec_first_x(group) + EC_P, 32)
    if kind == "infinity-00":
        return "00"
    if kind == "zero-prefix":
        return "00" + valid[2:]
    if kind == "uncompressed":
        return ec_uncompressed(valid)
    raise ValueError(kind)


def ec_negated_hex(valid: str) -> str:
    """−P: the same x with the other y parity (a valid point, a different element)."""
    return ("03" if valid[:2] == "02" else "02") + valid[2:]


def not_members(
    group: Group, what: str, path: list[Any], valid: str, *kinds: str
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Negative cases putting a non-member at `path`: an element of order 2 in a modular
    group; in secp256k1, one refused encoding of each kind in `kinds`."""
    if isinstance(group, ModpGroup):
        return [(f"{what} of order 2", [edit(path, non_member_hex(group))])]
    return [(f"{what} {EC_BAD[k]}", [edit(path, ec_bad_hex(group, k, valid))]) for k in kinds]


def curve_only(
    group: Group, specs: list[tuple[str, list[dict[str, Any]]]]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Negative cases that apply to secp256k1 only (the modular cases stay as they were)."""
    return [] if isinstance(group, ModpGroup) else specs


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
    if isinstance(value, Scalar):
        return {"scalar": {"group": value.group.name, "hex": value.to_hex()}}
    return {"list": [typed(v) for v in value]}


def tlv_case(name: str, value: Any) -> dict[str, Any]:
    return {
        "name": name,
        "value": typed(value),
        "tlv": encode(value).hex(),
        "sha256": hashlib.sha256(encode(value)).hexdigest(),
    }


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
    tlv = [tlv_case(name, v) for name, v in tlv_inputs]
    tlv.append(tlv_case("scalar 5", group.scalar(5)))
    ec = get_group(SECP256K1)
    tlv += [
        tlv_case("secp256k1 element G", ec.generator()),
        tlv_case("secp256k1 identity", ec.identity()),
        tlv_case("secp256k1 scalar n − 1", -ec.scalar(1)),
    ]
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
            "canonical JSON parser must refuse; fixed-width hex decoding; secp256k1 element "
            "encodings the decoder accepts (with x, y and k for k·G) and refuses (with the "
            "reason: length, hex, prefix, x ≥ p, not on the curve), and scalars below and "
            "from n",
        ),
        "tlv": tlv,
        "canonical_json": canonical,
        "canonical_json_rejected": [{"name": n, "bytes": b.hex()} for n, b in rejected],
        "hex": hex_cases,
        "elements": ec_elements(ec),
        "elements_rejected": ec_elements_rejected(ec),
        "scalars": ec_scalars(ec),
    }


def ec_elements(group: Group) -> list[dict[str, Any]]:
    """Encodings the decoder accepts, with the affine x and y (from the library's uncompressed
    form) and the multiple of G where known."""
    g = group.generator()
    points: list[tuple[str, Element, int | None]] = [
        ("identity", group.identity(), 0),
        ("G", g, 1),
        ("2G", g**2, 2),
        ("3G", g**3, 3),
        ("−G (odd y)", g.inverse(), group.order - 1),
        ("2^128·G", g ** (1 << 128), 1 << 128),
        ("the point with x = 1", group.element_from_bytes(b"\x02" + (1).to_bytes(32, "big")), None),
    ]
    out = []
    for name, point, k in points:
        text = point.to_hex()
        case: dict[str, Any] = {"group": group.name, "name": name, "hex": text}
        if k is not None:
            case["k"] = hexint(k, group)
        if point != group.identity():
            full = ec_uncompressed(text)
            case |= {"x": full[2:66], "y": full[66:]}
        out.append(case)
    return out


def ec_elements_rejected(group: Group) -> list[dict[str, Any]]:
    """Encodings the decoder must refuse, each with the reason a checker can re-derive:
    "length", "hex", "prefix", "x ≥ p" or "not on the curve"."""
    g = group.generator().to_hex()
    x_g = g[2:]
    hybrid = ("06" if GY % 2 == 0 else "07") + int_to_hex(GX, 32) + int_to_hex(GY, 32)
    cases = [
        ("SEC1 infinity (one byte 00)", "00", "length"),
        ("G uncompressed (65 bytes)", ec_uncompressed(g), "length"),
        ("G hybrid (65 bytes)", hybrid, "length"),
        ("G without its prefix (32 bytes)", x_g, "length"),
        ("G with a trailing 00 (34 bytes)", g + "00", "length"),
        ("G in uppercase hex", upper_hex(g), "hex"),
        ("prefix 00 before the x of G", "00" + x_g, "prefix"),
        ("prefix 00 before x = 1", "00" + int_to_hex(1, 32), "prefix"),
        *((f"prefix {b} before the x of G", b + x_g, "prefix") for b in EC_BAD_PREFIXES),
        ("x = p", "02" + int_to_hex(EC_P, 32), "x ≥ p"),
        ("x = 1 + p (the point with x = 1)", "02" + int_to_hex(1 + EC_P, 32), "x ≥ p"),
        ("x = 2^256 − 1", "03" + "ff" * 32, "x ≥ p"),
        ("x = 0", "02" + int_to_hex(0, 32), "not on the curve"),
        ("x = 5", "03" + int_to_hex(5, 32), "not on the curve"),
        ("the next x above G's that is off the curve", ec_off_curve(group, g), "not on the curve"),
    ]
    for name, text, _ in cases:
        try:
            group.element_from_hex(text)
        except DecodeError:
            continue
        raise AssertionError(f"secp256k1 decodes the refused encoding {name!r}")
    return [{"group": group.name, "name": n, "hex": t, "reason": r} for n, t, r in cases]


def ec_scalars(group: Group) -> list[dict[str, Any]]:
    """Scalars as 64 hex digits: below n accepted (`value`), n and above refused."""
    n = group.order
    cases: list[tuple[str, str, int | None]] = [
        ("zero", hexint(0, group), 0),
        ("n − 1", hexint(n - 1, group), n - 1),
        ("n", hexint(n, group), None),
        ("n + 1", hexint(n + 1, group), None),
        ("2^256 − 1", "ff" * 32, None),
        ("n − 1 in uppercase hex", upper_hex(hexint(n - 1, group)), None),
        ("31 bytes", hexint(1, group)[2:], None),
    ]
    return [
        {"group": group.name, "name": name, "hex": text, "value": None if v is None else str(v)}
        for name, text, v in cases
    ]


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
    for name in curve_groups():
        case, changes = curve_group_case(get_group(name))
        cases.append(case)
        for tname, change in changes:
            negative.append(
                {
                    "case": name,
                    "name": tname,
                    "change": {"description": change},
                    "expect": "DecodeError",
                }
            )
    return vector_file(
        "groups",
        "group_vectors",
        "every registered modular group: its generation record and the p, q, g derived "
        "from it, its canonical description and fingerprint (SHA-256 of the description's "
        "TLV); negative cases change one field and check_generation must refuse them. "
        "secp256k1: the SEC 2 constants p, n (q), G = (g_x, g_y) with b = 7, multiples k·G, "
        "description and fingerprint; its negative cases change one field of the "
        "description and group_from_description(recheck=True) must refuse them",
        cases,
        negative,
    )


def curve_group_case(group: Group) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    description = group.description()
    g = group.generator()
    multiples = [1, 2, 3, 7, 1 << 128, group.order - 1, group.order]
    case = {
        "name": group.name,
        "family": group.family,
        "source": "SEC 2 v2 (Certicom, 2010), §2.4.1",
        "p": int_to_hex(EC_P, 32),
        "q": hexint(group.order, group),
        "a": int_to_hex(0, 32),
        "b": int_to_hex(7, 32),
        "cofactor": 1,
        "g": g.to_hex(),
        "g_x": int_to_hex(GX, 32),
        "g_y": int_to_hex(GY, 32),
        "security_bits": group.security_bits,
        "production": group.production,
        "description": description,
        "fingerprint": group.fingerprint().hex(),
        "multiples": [{"k": hexint(k, group), "point": (g**k).to_hex()} for k in multiples],
    }
    changes = [
        ("p + 2", dict(description, p=int_to_hex(EC_P + 2, 32))),
        ("q − 1", dict(description, q=hexint(group.order - 1, group))),
        ("g negated", dict(description, g=ec_negated_hex(g.to_hex()))),
        ("g = 2G", dict(description, g=(g**2).to_hex())),
        ("curve b = 5", dict(description, curve=description["curve"].replace("+ 7", "+ 5"))),
        (
            "another hash-to-group label",
            dict(description, hash_to_group=description["hash_to_group"].replace("/v1", "/v2")),
        ),
    ]
    for _, change in changes:
        assert change != description
        try:
            group_from_description(change, recheck=True)
        except DecodeError:
            continue
        raise AssertionError("a changed secp256k1 description is accepted")
    return case, changes


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

        rows_json = case["rows"]
        if isinstance(group, ModpGroup):
            a_bad = [("a outside the subgroup", [edit(["rows", 0, 1, 0], non_member_hex(group))])]
            b_bad = [("b is zero", [edit(["rows", 1, 2, 1], "00" * group.element_bytes)])]
        else:
            a_bad = not_members(
                group, "a", ["rows", 0, 1, 0], rows_json[0][1][0], "off-curve", "prefix-04", "x+p"
            )
            b_bad = not_members(
                group,
                "b",
                ["rows", 1, 2, 1],
                rows_json[1][2][1],
                "infinity-00",
                "zero-prefix",
                "uncompressed",
            )
        negative += negatives(
            check,
            case,
            [
                *a_bad,
                ("b uppercase", [edit(["rows", 1, 0, 1], upper_hex(rows_json[1][0][1]))]),
                *b_bad,
                ("row too short", [edit(["rows", 0], rows_json[0][:2])]),
            ],
        )
    return vector_file(
        "elgamal",
        "elgamal_vectors",
        "rows (a, b) = (encode(m)·pk^r, g^r) with their secret key and randomness; "
        "negative cases are rows the decoder must refuse",
        cases,
        negative,
    )


# ------------------------------------------------------------------ Σ-proofs


def schnorr_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        seed, rng = seeded("schnorr", name)
        x = group.random_scalar(rng)
        g = group.generator()
        st = schnorr.Statement(g, g**x)
        ctx = context("schnorr", name)
        proof = schnorr.prove(st, x, transcript=Transcript(ctx), rng=rng)
        t = Transcript(ctx)
        st.absorb(t)
        t.append("commitment", proof.t)
        c = t.challenge_mod(Label.C, group.order)
        case = case_head(name, name, seed, ctx) | {
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
                *not_members(
                    group,
                    "commitment",
                    ["proof", "t"],
                    case["proof"]["t"],
                    *EC_BAD,
                ),
                ("response = q", [edit(["proof", "s"], hexint(q, group))]),
                ("uppercase hex", [edit(["proof", "t"], upper_hex(case["proof"]["t"]))]),
                *curve_only(
                    group,
                    [
                        ("response = 2^256 − 1", [edit(["proof", "s"], "ff" * 32)]),
                        (
                            "commitment negated",
                            [edit(["proof", "t"], ec_negated_hex(case["proof"]["t"]))],
                        ),
                        (
                            "commitment = identity",
                            [edit(["proof", "t"], group.identity().to_hex())],
                        ),
                    ],
                ),
            ],
        )
    return vector_file(
        "schnorr",
        "schnorr_vectors",
        "Schnorr proofs y = g^x with the challenge c = challenge_mod('c', q) after "
        "absorbing proof label, group, statement [base, y] and commitment t",
        cases,
        negative,
    )


def cp_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        q = group.order
        g = group.generator()
        # single
        seed, rng = seeded("chaum-pedersen", name)
        x = group.random_scalar(rng)
        g2 = group.hash_to_element(b"tohyo-vectors/g2")
        st = cp.Statement(g, g**x, g2, g2**x)
        ctx = context("chaum-pedersen", name)
        proof = cp.prove(st, x, transcript=Transcript(ctx), rng=rng)
        t = Transcript(ctx)
        st.absorb(t)
        t.append("commitment", [proof.t1, proof.t2])
        c = t.challenge_mod(Label.C, q)
        case = case_head(name, name, seed, ctx) | {
            "batch": False,
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
                *not_members(
                    group, "factor", ["statement", "d"], case["statement"]["d"], "off-curve", "x+p"
                ),
                ("response = q", [edit(["proof", "s"], hexint(q, group))]),
                *curve_only(
                    group,
                    [
                        (
                            "factor negated",
                            [edit(["statement", "d"], ec_negated_hex(case["statement"]["d"]))],
                        )
                    ],
                ),
            ],
        )
        # batch
        bname = f"{name} batch"
        seed, rng = seeded("chaum-pedersen", bname)
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
        case = case_head(bname, name, seed, ctx) | {
            "batch": True,
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
                *not_members(
                    group,
                    "factor",
                    ["statement", "factors", 0],
                    f[0],
                    "prefix-04",
                    "infinity-00",
                ),
                ("one factor missing", [edit(["statement", "factors"], f[:-1])]),
                *curve_only(
                    group,
                    [
                        (
                            "one factor = identity",
                            [edit(["statement", "factors", 1], group.identity().to_hex())],
                        )
                    ],
                ),
            ],
        )
    return vector_file(
        "chaum-pedersen",
        "cp_vectors",
        "Chaum–Pedersen proofs log_g1 X = log_g2 D, and batched proofs D_i = B_i^x with "
        "128-bit weights e_i = challenge_vector('batch') and the combined statement "
        "B = ∏B_i^e_i, D = ∏D_i^e_i proved with one challenge c",
        cases,
        negative,
    )


def encryption_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        q = group.order
        seed, rng = seeded("encryption", name)
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
        case = case_head(name, name, seed, ctx) | {
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
                *not_members(
                    group, "commitment", ["proof", "t", 0], case["proof"]["t"][0], "off-curve"
                ),
                *not_members(
                    group,
                    "a",
                    ["statement", "row", 0, 0],
                    case["statement"]["row"][0][0],
                    "zero-prefix",
                    "uncompressed",
                ),
                ("response = q", [edit(["proof", "s", 1], hexint(q, group))]),
                *curve_only(
                    group,
                    [
                        (
                            "b negated",
                            [
                                edit(
                                    ["statement", "row", 2, 1],
                                    ec_negated_hex(case["statement"]["row"][2][1]),
                                )
                            ],
                        )
                    ],
                ),
            ],
        )
    return vector_file(
        "encryption",
        "encryption_vectors",
        "proofs of knowledge of a row's randomness (ballot non-malleability), bound to a "
        "context holding the ballot key; c = challenge_mod('c', q) after the statement "
        "[pk, row] and commitments t",
        cases,
        negative,
    )


def decryption_vectors() -> dict[str, Any]:
    cases, negative = [], []
    for name in PROOF_GROUPS:
        group = get_group(name)
        q = group.order
        seed, rng = seeded("decryption", name)
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
        case = case_head(name, name, seed, ctx) | {
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
                *not_members(
                    group, "factor", ["statement", "factors", 1], f[1], "off-curve", "x+p"
                ),
                ("response = q", [edit(["proof", "s"], hexint(q, group))]),
                *curve_only(
                    group,
                    [
                        (
                            "factor negated",
                            [edit(["statement", "factors", 0], ec_negated_hex(f[0]))],
                        ),
                        (
                            "factor = identity",
                            [edit(["statement", "factors", 2], group.identity().to_hex())],
                        ),
                    ],
                ),
            ],
        )
    return vector_file(
        "decryption",
        "decryption_vectors",
        "decryption factors d = b^x for every ciphertext, row-major, with a batched "
        "Chaum–Pedersen proof (after absorbing the decryption label); the plaintext "
        "elements a/d and the messages they encode",
        cases,
        negative,
    )


# ------------------------------------------------------------------ shuffle

SHUFFLE_CASES = (
    ("test-safe-256", 3, 1),
    ("test-safe-256", 4, 2),
    ("test-schnorr-512-128", 3, 1),
    ("test-schnorr-512-128", 3, 2),
    ("modp2048", 4, 1),
    (SECP256K1, 3, 1),
    (SECP256K1, 4, 2),
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
        seed, rng = seeded("shuffle", cname)
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
        case = case_head(cname, name, seed, ctx) | {
            "n": n,
            "width": width,
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
                *not_members(
                    group,
                    "input",
                    ["statement", "inputs", 0, 0, 1],
                    case["statement"]["inputs"][0][0][1],
                    "off-curve",
                    "infinity-00",
                ),
                *not_members(
                    group, "commitment", ["proof", "c_hat", 0], p["c_hat"][0], "x+p", "prefix-04"
                ),
                ("s1 = q", [edit(["proof", "s1"], hexint(q, group))]),
                ("c one entry short", [edit(["proof", "c"], p["c"][:-1])]),
                *curve_only(
                    group,
                    [
                        (
                            "c_hat_1 negated",
                            [edit(["proof", "c_hat", 0], ec_negated_hex(p["c_hat"][0]))],
                        ),
                        ("t1 = identity", [edit(["proof", "t1"], group.identity().to_hex())]),
                        ("s'_1 = q", [edit(["proof", "s_prime", 0], hexint(q, group))]),
                    ],
                ),
            ],
        )
    return vector_file(
        "shuffle",
        "shuffle_vectors",
        "Terelius–Wikström proofs of a shuffle of rows (docs/protocol.md §8) with the "
        "witness (ψ, r'), the generators (seed, h, h_1..h_N), the batching vector u "
        "(U_BITS-bit entries), ∏u mod q and the main challenge c (C_BITS bits)",
        cases,
        negative,
    )


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
