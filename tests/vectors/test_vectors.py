"""Re-check every vector file in tests/vectors/.

For each file: re-derive what can be derived from the file alone — TLV bytes by an independent
encoder, group parameters from their seeds, generators by hashing into the group, challenges by
replaying the transcript, every verification equation with plain integers — run the library's
verifier on positive cases, expect the named failure on every negative case, and check that the
generator script reproduces the file byte for byte.

The group arithmetic of these checks is `tests/vectors/reference.py`: modular integers, and for
secp256k1 affine points with a SEC1 decoder of its own (never mixnet/groups/ec.py); the
`cryptography` package's SECP256K1 decoding cross-checks the curve encodings.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import gmpy2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec as pyca_ec

from mixnet.elgamal import decrypt_row, row_from_json
from mixnet.encoding import canonical_json, encode, hex_to_int, parse_canonical_json
from mixnet.errors import DecodeError, ParameterError, VerificationError
from mixnet.generators import derive_generators
from mixnet.groups import (
    Group,
    GroupParameters,
    ModpGroup,
    check_generation,
    get_group,
    group_from_description,
)
from mixnet.groups.base import BATCH_BITS, Element
from mixnet.shuffle import proof as tw
from mixnet.transcript import Label, Transcript
from tests.vectors.reference import (
    EC_B,
    EC_GX,
    EC_GY,
    EC_N,
    EC_P,
    Arith,
    NotAPoint,
    Secp256k1,
    rows_outcome,
)

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent.parent / "scripts" / "make_vectors.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_vectors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_vectors", module)
    spec.loader.exec_module(module)
    return module


mv = load_script()
mv.load_group_families()
FILES = list(mv.BUILDERS)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return data


def positive(doc: dict[str, Any], name: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in doc["cases"] if c["name"] == name)
    return case


def open_case(filename: str, name: str) -> tuple[dict[str, Any], Group, Arith]:
    """A positive case of a vector file, its group and the checker's arithmetic for it."""
    case = positive(load(filename), name)
    group = get_group(case["group"])
    return case, group, arith(group.name)


def negative_ids(name: str) -> list[tuple[str, str]]:
    return [(n["case"], n["name"]) for n in load(name).get("negative", [])]


def modp(name: str) -> ModpGroup:
    group = get_group(name)
    assert isinstance(group, ModpGroup)
    return group


def arith(name: str) -> Arith:
    """The checker's own arithmetic for a group of the vectors."""
    return mv.reference_arith(get_group(name))


def ints(texts: list[str]) -> list[int]:
    return [int(t, 16) for t in texts]


def case_names(filename: str, section: str = "cases") -> list[str]:
    return [c["name"] for c in load(filename)[section]]


# ------------------------------------------------------------------ every file


@pytest.mark.parametrize("filename", FILES)
def test_file_is_reproduced_byte_for_byte(filename: str) -> None:
    assert mv.build(filename) == (HERE / filename).read_bytes()


@pytest.mark.parametrize("filename", FILES)
def test_file_says_how_it_was_made(filename: str) -> None:
    text = (HERE / filename).read_text(encoding="utf-8")
    doc = json.loads(text)
    about = doc["about"]
    assert about["generator"] == "scripts/make_vectors.py"
    assert about["seed"].startswith("tohyo-vectors/") and about["format"] == 1
    assert callable(getattr(mv, about["function"]))
    assert not re.search(r"20\d\d-\d\d-\d\d", text), "vector files carry no date"
    for case in doc.get("cases", []):
        if "rng_seed" in case:
            assert case["rng_seed"] == f"{about['seed']}/{case['name']}"
    if doc.get("negative"):
        names = {c["name"] for c in doc["cases"]}
        assert all(n["case"] in names for n in doc["negative"])


def apply(case: dict[str, Any], edits: list[dict[str, Any]]) -> dict[str, Any]:
    """Edits are applied here independently of the script's own helper."""
    out = copy.deepcopy(case)
    for e in edits:
        target = out
        for key in e["path"][:-1]:
            target = target[key]
        assert e["path"][-1] in target if isinstance(target, dict) else True
        target[e["path"][-1]] = e["value"]
    return out


def outcome(check: Any, case: dict[str, Any]) -> str:
    try:
        check(case)
    except DecodeError:
        return "DecodeError"
    except VerificationError as exc:
        return str(exc.check.split()[0])
    return "ok"


def run_negative(filename: str, case_name: str, neg_name: str, check: Any, expected: Any) -> None:
    """The reference arithmetic (`expected`, tests/vectors/reference.py) gives the file's
    `expect`, and so does the library's verifier `check`."""
    doc = load(filename)
    neg = next(n for n in doc["negative"] if n["case"] == case_name and n["name"] == neg_name)
    case = positive(doc, case_name)
    bad = apply(case, neg["edits"])
    assert bad != case
    assert expected(bad) == neg["expect"], "the reference disagrees with the file"
    assert outcome(check, bad) == neg["expect"], "the library disagrees with the reference"
    if case.get("group", case_name) == "secp256k1":
        check_curve_edits(neg)


def is_scalar_slot(path: list[Any]) -> bool:
    return path[0] == "proof" and str(path[1]).startswith("s")


def my_scalar(text: str) -> int:
    """A scalar as the checker reads it: 64 lowercase hex digits, below n."""
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise ValueError("not 64 lowercase hex digits")
    if int(text, 16) >= EC_N:
        raise ValueError("scalar ≥ n")
    return int(text, 16)


def check_curve_edits(neg: dict[str, Any]) -> None:
    """A secp256k1 negative case refused by the decoder edits in a value that the checker's own
    decoder refuses too; a case refused by a proof check edits in only valid encodings."""
    ec = Secp256k1()
    refused = []
    for e in neg["edits"]:
        if not isinstance(e["value"], str) or e["path"][0] == "context":
            continue
        try:
            if is_scalar_slot(e["path"]):
                my_scalar(e["value"])
            else:
                ec.val(e["value"])
        except ValueError:
            refused.append(e)
    if neg["expect"] == "DecodeError":
        assert refused or any(isinstance(e["value"], list) for e in neg["edits"])
    else:
        assert not refused


# ------------------------------------------------------------------ encoding


def tlv(tag: int, payload: bytes, count: int | None = None) -> bytes:
    return bytes([tag]) + (len(payload) if count is None else count).to_bytes(8, "big") + payload


def my_encode(v: dict[str, Any]) -> bytes:
    """docs/protocol.md §2 written out again: tag (1 byte) ‖ length (8 bytes) ‖ payload."""
    ((kind, x),) = v.items()
    if kind == "bytes":
        return tlv(0x01, bytes.fromhex(x))
    if kind == "str":
        return tlv(0x02, x.encode("utf-8"))
    if kind == "int":
        n = int(x)
        return tlv(0x03, n.to_bytes((n.bit_length() + 7) // 8, "big"))
    if kind == "list":
        return tlv(0x04, b"".join(my_encode(i) for i in x), len(x))
    if kind == "map":
        return tlv(
            0x07, b"".join(my_encode({"str": k}) + my_encode(x[k]) for k in sorted(x)), len(x)
        )
    if kind == "element":
        return tlv(0x05, bytes.fromhex(x["hex"]))
    if kind == "scalar":
        return tlv(0x06, bytes.fromhex(x["hex"]))
    raise AssertionError(kind)


def from_typed(v: dict[str, Any]) -> Any:
    ((kind, x),) = v.items()
    if kind == "bytes":
        return bytes.fromhex(x)
    if kind == "str":
        return x
    if kind == "int":
        return int(x)
    if kind == "list":
        return [from_typed(i) for i in x]
    if kind == "map":
        return {k: from_typed(i) for k, i in x.items()}
    group = get_group(x["group"])
    if kind == "element":
        return group.element_from_hex(x["hex"])
    return group.scalar_from_hex(x["hex"])


@pytest.mark.parametrize("name", [c["name"] for c in load("encoding.json")["tlv"]])
def test_tlv_vectors(name: str) -> None:
    case = next(c for c in load("encoding.json")["tlv"] if c["name"] == name)
    data = bytes.fromhex(case["tlv"])
    assert my_encode(case["value"]) == data
    assert encode(from_typed(case["value"])) == data
    assert hashlib.sha256(data).hexdigest() == case["sha256"]


def test_tlv_vectors_are_pairwise_distinct() -> None:
    cases = load("encoding.json")["tlv"]
    assert len({c["tlv"] for c in cases}) == len(cases)


def test_canonical_json_vectors() -> None:
    doc = load("encoding.json")
    for case in doc["canonical_json"]:
        data = case["canonical"].encode("utf-8")
        assert canonical_json(case["value"]) == data
        assert parse_canonical_json(data) == case["value"]
        assert data == json.dumps(
            case["value"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    for case in doc["canonical_json_rejected"]:
        with pytest.raises(DecodeError):
            parse_canonical_json(bytes.fromhex(case["bytes"]))


def test_hex_vectors() -> None:
    for case in load("encoding.json")["hex"]:
        if case["value"] is None:
            with pytest.raises(DecodeError):
                hex_to_int(case["text"], case["width"])
        else:
            assert hex_to_int(case["text"], case["width"]) == int(case["value"])


def pyca_point(data: bytes) -> tuple[int, int]:
    """The point as the `cryptography` package (OpenSSL) decodes it; ValueError if refused."""
    key = pyca_ec.EllipticCurvePublicKey.from_encoded_point(pyca_ec.SECP256K1(), data)
    numbers = key.public_numbers()
    return numbers.x, numbers.y


@pytest.mark.parametrize("name", case_names("encoding.json", "elements"))
def test_curve_element_vectors(name: str) -> None:
    case = next(c for c in load("encoding.json")["elements"] if c["name"] == name)
    ec = Secp256k1()
    point = ec.val(case["hex"])
    assert ec.to_hex(point) == case["hex"]
    assert get_group(case["group"]).element_from_hex(case["hex"]).to_hex() == case["hex"]
    if "k" in case:
        assert ec.exp(ec.g, int(case["k"], 16)) == point
    if point is None:
        assert case["hex"] == "00" * 33 and "x" not in case
        return
    assert point == (int(case["x"], 16), int(case["y"], 16)) and ec.on_curve(point)
    assert pyca_point(bytes.fromhex(case["hex"])) == point
    assert pyca_point(bytes.fromhex("04" + case["x"] + case["y"])) == point


@pytest.mark.parametrize("name", case_names("encoding.json", "elements_rejected"))
def test_curve_element_rejected_vectors(name: str) -> None:
    case = next(c for c in load("encoding.json")["elements_rejected"] if c["name"] == name)
    with pytest.raises(DecodeError):
        get_group(case["group"]).element_from_hex(case["hex"])
    with pytest.raises(NotAPoint) as refused:
        Secp256k1().val(case["hex"])
    assert refused.value.reason == case["reason"]
    if case["reason"] in ("x ≥ p", "not on the curve"):  # OpenSSL refuses these points too
        with pytest.raises(ValueError):
            pyca_point(bytes.fromhex(case["hex"]))
    if case["reason"] == "not on the curve":
        x = int(case["hex"][2:], 16)
        assert pow(x**3 + EC_B, (EC_P - 1) // 2, EC_P) == EC_P - 1  # Euler: not a square
    if case["reason"] == "x ≥ p":
        assert int(case["hex"][2:], 16) >= EC_P


def test_curve_uncompressed_form_is_refused_although_valid_sec1() -> None:
    """The 65-byte form of G is a valid SEC1 encoding (OpenSSL reads G) yet not canonical here."""
    case = next(
        c
        for c in load("encoding.json")["elements_rejected"]
        if c["hex"].startswith("04") and len(c["hex"]) == 130
    )
    assert pyca_point(bytes.fromhex(case["hex"])) == (EC_GX, EC_GY)


@pytest.mark.parametrize("name", case_names("encoding.json", "scalars"))
def test_curve_scalar_vectors(name: str) -> None:
    case = next(c for c in load("encoding.json")["scalars"] if c["name"] == name)
    group = get_group(case["group"])
    if case["value"] is None:
        with pytest.raises(ValueError):
            my_scalar(case["hex"])
        with pytest.raises(DecodeError):
            group.scalar_from_hex(case["hex"])
    else:
        assert my_scalar(case["hex"]) == int(case["value"])
        assert group.scalar_from_hex(case["hex"]).value == int(case["value"])


# ------------------------------------------------------------------ groups


def my_expand_seed(seed: bytes, label: str, bits: int) -> int:
    data = my_encode(
        {"list": [{"str": "tohyo/group-generation/v1"}, {"bytes": seed.hex()}, {"str": label}]}
    )
    nbytes = (bits + 7) // 8
    return int.from_bytes(hashlib.shake_256(data).digest(nbytes), "big") >> (8 * nbytes - bits)


def params_of(case: dict[str, Any]) -> GroupParameters:
    return GroupParameters(
        case["name"],
        case["family"],
        int(case["p"], 16),
        int(case["q"], 16),
        int(case["g"], 16),
        case["security_bits"],
        case["production"],
        case["generation"],
    )


def family_cases(prefix: str) -> list[str]:
    return [c["name"] for c in load("groups.json")["cases"] if c["family"].startswith(prefix)]


@pytest.mark.parametrize("name", family_cases("modp-"))
def test_group_vectors(name: str) -> None:
    case = positive(load("groups.json"), name)
    params = params_of(case)
    p, q, g = params.p, params.q, params.g
    check_generation(params)
    assert gmpy2.is_prime(p, 30) and gmpy2.is_prime(q, 30)
    assert (p - 1) % q == 0 and pow(g, q, p) == 1 and g not in (0, 1)
    if case["family"] == "modp-safe":
        assert p == 2 * q + 1 and g == 4
    else:
        r = (p - 1) // (2 * q)
        assert (p - 1) == 2 * q * r and gmpy2.is_prime(r, 30)
    gen = case["generation"]
    if gen["method"] == "tohyo-seed-v1" and case["family"] == "modp-safe":
        start = my_expand_seed(bytes.fromhex(gen["seed"]), "q", gen["bits"] - 1)
        start |= (1 << (gen["bits"] - 2)) | 1
        assert q == start + 2 * gen["counter"]
    if gen["method"] == "tohyo-seed-v1" and case["family"] == "modp-schnorr":
        seed = bytes.fromhex(gen["seed"])
        h = my_expand_seed(seed, f"g{gen['g_counter']}", p.bit_length() + 128) % p
        assert g == pow(h, (p - 1) // q, p)
        q0 = my_expand_seed(seed, "q", gen["q_bits"]) | (1 << (gen["q_bits"] - 1))
        assert q == int(gmpy2.next_prime(q0))
    group = modp(name)
    assert group.description() == case["description"]
    assert group.params == params
    assert (
        hashlib.sha256(my_encode(typed_json(case["description"]))).hexdigest()
        == case["fingerprint"]
    )
    assert group.fingerprint().hex() == case["fingerprint"]


def typed_json(value: Any) -> dict[str, Any]:
    """A JSON description as a typed TLV value (strings, non-negative ints, maps)."""
    if isinstance(value, dict):
        return {"map": {k: typed_json(v) for k, v in value.items()}}
    if isinstance(value, str):
        return {"str": value}
    assert isinstance(value, int) and value >= 0
    return {"int": str(value)}


@pytest.mark.parametrize("name", family_cases("ec-"))
def test_curve_group_vectors(name: str) -> None:
    case = positive(load("groups.json"), name)
    p, n = int(case["p"], 16), int(case["q"], 16)
    gx, gy = int(case["g_x"], 16), int(case["g_y"], 16)
    assert (p, n, gx, gy, int(case["b"], 16), int(case["a"], 16)) == (
        EC_P,
        EC_N,
        EC_GX,
        EC_GY,
        7,
        0,
    )
    assert gmpy2.is_prime(p, 64) and gmpy2.is_prime(n, 64)
    ec = Secp256k1()
    assert ec.on_curve((gx, gy)) and ec.val(case["g"]) == (gx, gy)
    assert ec.exp((gx, gy), n - 1) == ec.inv((gx, gy))  # so n·G = ∞: G has order n
    # Hasse: |#E − (p + 1)| ≤ 2√p, and n is the only multiple of n in that window: cofactor 1
    assert (
        case["cofactor"] == 1 and (p + 1 - n) ** 2 <= 4 * p and 2 * n > p + 1 + 2 * gmpy2.isqrt(p)
    )
    for m in case["multiples"]:
        k = int(m["k"], 16)
        point = None if k == n else ec.exp(ec.g, k)
        assert ec.to_hex(point) == m["point"]
    desc = case["description"]
    assert (desc["p"], desc["q"], desc["g"]) == (case["p"], case["q"], case["g"])
    assert desc["hash_to_group"] == "tohyo/hash-to-group/secp256k1/v1"
    assert "x^3 + 7" in desc["curve"]
    group = group_from_description(desc, recheck=True)
    assert group.name == name and group.family == case["family"]
    assert (group.security_bits, group.production) == (case["security_bits"], case["production"])
    assert (
        hashlib.sha256(my_encode(typed_json(desc))).hexdigest()
        == case["fingerprint"]
        == group.fingerprint().hex()
    )


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("groups.json"))
def test_group_negative_vectors(case_name: str, neg_name: str) -> None:
    doc = load("groups.json")
    neg = next(n for n in doc["negative"] if n["case"] == case_name and n["name"] == neg_name)
    case = dict(positive(doc, case_name), **neg["change"])
    if case["family"].startswith("ec-"):
        assert neg["expect"] == "DecodeError"
        assert case["description"] != positive(doc, case_name)["description"]
        with pytest.raises(DecodeError):
            group_from_description(case["description"], recheck=True)
        return
    assert neg["expect"] == "ParameterError"
    with pytest.raises(ParameterError):
        check_generation(params_of(case))


# ------------------------------------------------------------------ generators


def my_generators(group: Group, context: Any, purpose: str, count: int) -> tuple[bytes, list[Any]]:
    seed = hashlib.sha256(
        my_encode(
            {
                "list": [
                    {"str": Label.GENERATORS},
                    typed_json(group.description()),
                    typed_json(context),
                    {"str": purpose},
                ]
            }
        )
    ).digest()
    a = arith(group.name)
    seen = [a.one, a.g]
    out: list[Any] = []
    i = 0
    while len(out) < count + 1:
        y = a.hash_to_group(seed + i.to_bytes(8, "big"))
        i += 1
        if y not in seen:
            seen.append(y)
            out.append(y)
    return seed, out


@pytest.mark.parametrize("name", case_names("generators.json"))
def test_generator_vectors(name: str) -> None:
    case = positive(load("generators.json"), name)
    group = get_group(case["group"])
    seed, values = my_generators(group, case["context"], case["purpose"], case["count"])
    assert seed.hex() == case["seed"]
    assert values == arith(group.name).vals([case["h"], *case["hs"]])
    gens = derive_generators(group, case["context"], case["purpose"], case["count"])
    assert [gens.h.to_hex(), *(h.to_hex() for h in gens.hs)] == [case["h"], *case["hs"]]


# ------------------------------------------------------------------ ElGamal


@pytest.mark.parametrize("name", case_names("elgamal.json"))
def test_elgamal_vectors(name: str) -> None:
    case, group, a = open_case("elgamal.json", name)
    x = int(case["secret"], 16)
    pk = a.val(case["pk"])
    assert pk == a.exp(a.g, x)
    for ms, encs, rs, row in zip(
        case["messages"], case["encoded_messages"], case["randomness"], case["rows"]
    ):
        for m, e, r, (ct_a, ct_b) in zip(ms, a.vals(encs), ints(rs), row):
            assert e == a.message(m)
            assert a.val(ct_b) == a.exp(a.g, r)
            assert a.val(ct_a) == a.mul(e, a.exp(pk, r))
        decoded = row_from_json(group, row, len(ms))
        assert decrypt_row(group.scalar(x), decoded, 16) == ms


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("elgamal.json"))
def test_elgamal_negative_vectors(case_name: str, neg_name: str) -> None:
    def check(case: dict[str, Any]) -> None:
        for row in case["rows"]:
            row_from_json(get_group(case["group"]), row, 3)

    def expected(case: dict[str, Any]) -> str:
        return rows_outcome(arith(case["group"]), case, 3)

    run_negative("elgamal.json", case_name, neg_name, check, expected)


# ------------------------------------------------------------------ Σ-proofs


def elements(group: Group, a: Arith, values: list[Any]) -> list[Element]:
    """The library's elements for values the checker computed (to absorb into a transcript)."""
    return [group.element_from_hex(a.to_hex(v)) for v in values]


@pytest.mark.parametrize("name", case_names("schnorr.json"))
def test_schnorr_vectors(name: str) -> None:
    case, group, a = open_case("schnorr.json", name)
    st, pr = case["statement"], case["proof"]
    tr = Transcript(case["context"])
    tr.append("proof", Label.SCHNORR)
    tr.append("group", group.description())
    tr.append("statement", [group.element_from_hex(st[k]) for k in ("base", "y")])
    tr.append("commitment", group.element_from_hex(pr["t"]))
    c = tr.challenge_mod(Label.C, a.q)
    assert c == int(case["intermediate"]["c"], 16)
    base, y, t = a.val(st["base"]), a.val(st["y"]), a.val(pr["t"])
    assert a.exp(base, int(pr["s"], 16)) == a.mul(t, a.exp(y, c))  # S1
    assert y == a.exp(base, int(case["witness"]["x"], 16))
    mv.check_schnorr(case)


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("schnorr.json"))
def test_schnorr_negative_vectors(case_name: str, neg_name: str) -> None:
    run_negative("schnorr.json", case_name, neg_name, mv.check_schnorr, mv.expected_schnorr)


@pytest.mark.parametrize("name", case_names("chaum_pedersen.json"))
def test_chaum_pedersen_vectors(name: str) -> None:
    case, group, a = open_case("chaum_pedersen.json", name)
    st, pr, inter = case["statement"], case["proof"], case["intermediate"]
    x = int(case["witness"]["x"], 16)
    tr = Transcript(case["context"])
    if case["batch"]:
        bases, factors = a.vals(st["bases"]), a.vals(st["factors"])
        assert factors == [a.exp(b, x) for b in bases]
        tr.append("proof", Label.CHAUM_PEDERSEN_BATCH)
        tr.append("group", group.description())
        tr.append("key", group.element_from_hex(st["x_pub"]))
        tr.append("bases", group.elements_from_hex(st["bases"]))
        tr.append("factors", group.elements_from_hex(st["factors"]))
        weights = tr.challenge_vector(Label.BATCH, len(bases), BATCH_BITS)
        assert weights == ints(inter["weights"])
        g2, d = a.mexp(bases, weights), a.mexp(factors, weights)
        assert (g2, d) == (a.val(inter["combined_base"]), a.val(inter["combined_factor"]))
        g1, x_pub = a.g, a.val(st["x_pub"])
    else:
        g1, x_pub, g2, d = (a.val(st[k]) for k in ("g1", "x_pub", "g2", "d"))
        assert d == a.exp(g2, x)
    assert x_pub == a.exp(g1, x)
    tr.append("proof", Label.CHAUM_PEDERSEN)
    tr.append("group", group.description())
    tr.append("statement", elements(group, a, [g1, x_pub, g2, d]))
    tr.append("commitment", group.elements_from_hex([pr["t1"], pr["t2"]]))
    c = tr.challenge_mod(Label.C, a.q)
    assert c == int(inter["c"], 16)
    s, t1, t2 = int(pr["s"], 16), a.val(pr["t1"]), a.val(pr["t2"])
    assert a.exp(g1, s) == a.mul(t1, a.exp(x_pub, c))  # CP1
    assert a.exp(g2, s) == a.mul(t2, a.exp(d, c))  # CP2
    mv.check_cp(case)


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("chaum_pedersen.json"))
def test_chaum_pedersen_negative_vectors(case_name: str, neg_name: str) -> None:
    run_negative("chaum_pedersen.json", case_name, neg_name, mv.check_cp, mv.expected_cp)


@pytest.mark.parametrize("name", case_names("encryption.json"))
def test_encryption_vectors(name: str) -> None:
    case, group, a = open_case("encryption.json", name)
    st, pr = case["statement"], case["proof"]
    pk = a.val(st["pk"])
    rs = ints(case["witness"]["randomness"])
    for (ct_a, ct_b), r, m in zip(st["row"], rs, case["witness"]["messages"]):
        assert a.val(ct_b) == a.exp(a.g, r)
        assert a.val(ct_a) == a.mul(a.message(m), a.exp(pk, r))
    tr = Transcript(case["context"])
    tr.append("proof", Label.ENCRYPTION)
    tr.append("group", group.description())
    tr.append("pk", group.element_from_hex(st["pk"]))
    tr.append("row", [group.elements_from_hex(ct) for ct in st["row"]])
    tr.append("commitment", group.elements_from_hex(pr["t"]))
    c = tr.challenge_mod(Label.C, a.q)
    assert c == int(case["intermediate"]["c"], 16)
    for (_, ct_b), t, s in zip(st["row"], a.vals(pr["t"]), ints(pr["s"])):
        assert a.exp(a.g, s) == a.mul(t, a.exp(a.val(ct_b), c))  # E1
    mv.check_encryption(case)


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("encryption.json"))
def test_encryption_negative_vectors(case_name: str, neg_name: str) -> None:
    run_negative(
        "encryption.json", case_name, neg_name, mv.check_encryption, mv.expected_encryption
    )


@pytest.mark.parametrize("name", case_names("decryption.json"))
def test_decryption_vectors(name: str) -> None:
    case, group, a = open_case("decryption.json", name)
    st, pr, inter = case["statement"], case["proof"], case["intermediate"]
    x = int(case["witness"]["x"], 16)
    x_pub = a.val(st["x_pub"])
    assert x_pub == a.exp(a.g, x)
    cts = [ct for row in st["rows"] for ct in row]
    bs, factors = [a.val(b) for _, b in cts], a.vals(st["factors"])
    assert factors == [a.exp(b, x) for b in bs]
    plain = [a.div(a.val(ct_a), d) for (ct_a, _), d in zip(cts, factors)]
    assert plain == a.vals(inter["plaintext_elements"])
    messages = [m for row in inter["messages"] for m in row]
    assert plain == [a.message(m) for m in messages]
    tr = Transcript(case["context"])
    tr.append("proof", Label.DECRYPTION)
    tr.append("rows", [[group.elements_from_hex(ct) for ct in row] for row in st["rows"]])
    tr.append("proof", Label.CHAUM_PEDERSEN_BATCH)
    tr.append("group", group.description())
    tr.append("key", group.element_from_hex(st["x_pub"]))
    tr.append("bases", group.elements_from_hex([b for _, b in cts]))
    tr.append("factors", group.elements_from_hex(st["factors"]))
    weights = tr.challenge_vector(Label.BATCH, len(bs), BATCH_BITS)
    assert weights == ints(inter["weights"])
    b_comb, d_comb = a.mexp(bs, weights), a.mexp(factors, weights)
    assert b_comb == a.val(inter["combined_base"])
    assert d_comb == a.val(inter["combined_factor"])
    tr.append("proof", Label.CHAUM_PEDERSEN)
    tr.append("group", group.description())
    tr.append("statement", elements(group, a, [a.g, x_pub, b_comb, d_comb]))
    tr.append("commitment", group.elements_from_hex([pr["t1"], pr["t2"]]))
    c = tr.challenge_mod(Label.C, a.q)
    assert c == int(inter["c"], 16)
    s, t1, t2 = int(pr["s"], 16), a.val(pr["t1"]), a.val(pr["t2"])
    assert a.exp(a.g, s) == a.mul(t1, a.exp(x_pub, c))
    assert a.exp(b_comb, s) == a.mul(t2, a.exp(d_comb, c))
    mv.check_decryption(case)


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("decryption.json"))
def test_decryption_negative_vectors(case_name: str, neg_name: str) -> None:
    run_negative(
        "decryption.json", case_name, neg_name, mv.check_decryption, mv.expected_decryption
    )


# ------------------------------------------------------------------ shuffle


@pytest.mark.parametrize("name", case_names("shuffle.json"))
def test_shuffle_vectors(name: str) -> None:
    case, group, a = open_case("shuffle.json", name)
    q, g = a.q, a.g
    n, width = case["n"], case["width"]
    st, pr, inter = case["statement"], case["proof"], case["intermediate"]
    pk = a.val(st["pk"])
    assert pk == a.exp(g, int(case["secret_key"], 16))
    inputs = [[(a.val(x), a.val(y)) for x, y in row] for row in st["inputs"]]
    outputs = [[(a.val(x), a.val(y)) for x, y in row] for row in st["outputs"]]

    # the witness: output i is input ψ(i) re-encrypted with r'_{ψ(i)}
    psi = case["witness"]["permutation"]
    r_prime = [ints(row) for row in case["witness"]["randomness"]]
    assert sorted(psi) == list(range(n))
    for i, j in enumerate(psi):
        for k in range(width):
            ct_a, ct_b = inputs[j][k]
            r = r_prime[j][k]
            assert outputs[i][k] == (a.mul(ct_a, a.exp(pk, r)), a.mul(ct_b, a.exp(g, r)))
            assert (
                decrypt_row(
                    group.scalar(int(case["secret_key"], 16)),
                    row_from_json(group, st["outputs"][i], width),
                    16,
                )
                == case["messages"][j]
            )

    # generators, recomputed by hashing into the group
    seed, values = my_generators(group, st["generator_context"], tw.GENERATOR_PURPOSE, n)
    assert seed.hex() == inter["generator_seed"]
    assert values == a.vals([inter["h"], *inter["h_i"]])
    h, hs = values[0], values[1:]

    # the challenges, by replaying the transcript of docs/protocol.md §8
    def el(text: str) -> Element:
        return group.element_from_hex(text)

    tr = Transcript(case["context"])
    tr.append("proof", Label.SHUFFLE)
    tr.append("group", group.description())
    tr.append("parameters", [tw.U_BITS, tw.C_BITS, tw.STAT_BITS])
    tr.append("generators", seed)
    tr.append("pk", el(st["pk"]))
    tr.append("shape", [n, width])
    tr.append("inputs", [[[el(x), el(y)] for x, y in row] for row in st["inputs"]])
    tr.append("outputs", [[[el(x), el(y)] for x, y in row] for row in st["outputs"]])
    tr.append("c", [el(x) for x in pr["c"]])
    u = tr.challenge_vector(Label.SHUFFLE_U, n, tw.U_BITS)
    assert u == ints(inter["u"])
    tr.append("c_hat", [el(x) for x in pr["c_hat"]])
    tr.append(
        "t",
        [
            el(pr["t1"]),
            el(pr["t2"]),
            el(pr["t3"]),
            [el(x) for x in pr["t4a"]],
            [el(x) for x in pr["t4b"]],
        ],
    )
    tr.append("t_hat", [el(x) for x in pr["t_hat"]])
    c = tr.challenge_bits(Label.SHUFFLE_C, tw.C_BITS)
    assert c == int(inter["c"], 16)
    u_prod = 1
    for v in u:
        u_prod = u_prod * v % q
    assert u_prod == int(inter["u_product"], 16)

    # TW1..TW5 with the checker's own arithmetic, each t̂_i on its own
    cc, c_hat, t_hat = a.vals(pr["c"]), a.vals(pr["c_hat"]), a.vals(pr["t_hat"])
    t1, t2, t3 = a.val(pr["t1"]), a.val(pr["t2"]), a.val(pr["t3"])
    t4a, t4b = a.vals(pr["t4a"]), a.vals(pr["t4b"])
    s1, s2, s3 = int(pr["s1"], 16), int(pr["s2"], 16), int(pr["s3"], 16)
    s4, s_hat, s_prime = ints(pr["s4"]), ints(pr["s_hat"]), ints(pr["s_prime"])
    if inter["s_prime_bound_bits"] is None:
        assert all(v < q for v in s_prime)
    else:
        assert all(v < 1 << inter["s_prime_bound_bits"] for v in s_prime)
        assert q.bit_length() > inter["s_prime_bound_bits"]
    c_bar = a.div(a.prod(cc), a.prod(hs))
    assert a.mul(t1, a.exp(c_bar, c)) == a.exp(g, s1)  # TW1
    c_hat_agg = a.div(c_hat[-1], a.exp(h, u_prod))
    assert a.mul(t2, a.exp(c_hat_agg, c)) == a.exp(g, s2)  # TW2
    c_tilde = a.mexp(cc, u)
    assert a.mul(t3, a.exp(c_tilde, c)) == a.mul(a.exp(g, s3), a.mexp(hs, s_prime))  # TW3
    for k in range(width):
        a_star = a.mexp([row[k][0] for row in inputs], u)
        b_star = a.mexp([row[k][1] for row in inputs], u)
        rhs_a = a.mexp([row[k][0] for row in outputs], s_prime)
        rhs_b = a.mexp([row[k][1] for row in outputs], s_prime)
        assert a.prod([t4a[k], a.exp(a_star, c), a.exp(pk, s4[k])]) == rhs_a  # TW4a
        assert a.prod([t4b[k], a.exp(b_star, c), a.exp(g, s4[k])]) == rhs_b  # TW4b
    prev = [h, *c_hat[:-1]]
    for i in range(n):
        lhs = a.mul(t_hat[i], a.exp(c_hat[i], c))
        assert lhs == a.mul(a.exp(g, s_hat[i]), a.exp(prev[i], s_prime[i]))  # TW5
    # the proof's permutation commitment opens to ψ: c_j = g^{r_j}·h_{ψ⁻¹(j)} — not
    # checkable without r, but u' = u∘ψ makes TW3 hold only for the committed permutation
    u_perm = [u[psi[i]] for i in range(n)]
    u_perm_prod = 1
    for v in u_perm:
        u_perm_prod = u_perm_prod * v % q
    assert u_perm_prod == u_prod

    mv.check_shuffle(case)


@pytest.mark.parametrize(("case_name", "neg_name"), negative_ids("shuffle.json"))
def test_shuffle_negative_vectors(case_name: str, neg_name: str) -> None:
    run_negative("shuffle.json", case_name, neg_name, mv.check_shuffle, mv.expected_shuffle)


def test_shuffle_vectors_cover_the_required_shapes() -> None:
    shapes = {(c["group"], c["n"], c["width"]) for c in load("shuffle.json")["cases"]}
    assert {g for g, _, _ in shapes} >= {
        "test-safe-256",
        "test-schnorr-512-128",
        "modp2048",
        "secp256k1",
    }
    assert {w for _, _, w in shapes} >= {1, 2}
    assert ("modp2048", 4, 1) in shapes
    assert {w for g, _, w in shapes if g == "secp256k1"} == {1, 2}


@pytest.mark.parametrize("filename", [f for f in FILES if f != "encoding.json"])
def test_every_file_covers_secp256k1(filename: str) -> None:
    doc = load(filename)
    groups = {c.get("group", c["name"]) for c in doc["cases"]}
    assert "secp256k1" in groups
    if "negative" in doc:
        assert any(n["case"].startswith("secp256k1") for n in doc["negative"])


def test_encoding_file_covers_secp256k1() -> None:
    doc = load("encoding.json")
    assert {c["reason"] for c in doc["elements_rejected"]} == {
        "length",
        "hex",
        "prefix",
        "x ≥ p",
        "not on the curve",
    }
    assert any(c["value"] is None for c in doc["scalars"])
    assert sum(c["name"].startswith("secp256k1") for c in doc["tlv"]) == 3


def test_negative_vectors_reach_every_equation() -> None:
    """False statements honestly proven make every equation the first (and only) one to fail
    somewhere: not only the first equation, which any change after proving trips."""
    expects = {f: {n["expect"] for n in load(f).get("negative", [])} for f in FILES}
    assert {"TW1", "TW2", "TW3", "TW4a", "TW4b", "TW5"} <= expects["shuffle.json"]
    assert {"CP1", "CP2", "CPB0"} <= expects["chaum_pedersen.json"]
    assert {"CP1", "CP2", "D0"} <= expects["decryption.json"]
    assert "S1" in expects["schnorr.json"] and "E1" in expects["encryption.json"]
