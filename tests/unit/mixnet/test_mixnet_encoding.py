"""The canonical encoding: binary TLV (injective) and canonical JSON (one accepted form)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixnet.encoding import (
    MAX_JSON_DEPTH,
    MAX_JSON_INT,
    TAG_BYTES,
    TAG_ELEMENT,
    TAG_INT,
    TAG_LIST,
    TAG_MAP,
    TAG_SCALAR,
    TAG_STR,
    canonical_json,
    encode,
    hex_to_int,
    int_to_hex,
    parse_canonical_json,
    parse_json_strict,
)
from mixnet.errors import DecodeError
from mixnet.groups import get_group

# ---------------------------------------------------------------- TLV


def parse_tlv(data: bytes, pos: int = 0) -> tuple[Any, int]:
    """An independent TLV reader: the left inverse that proves `encode` injective."""
    tag = data[pos]
    length = int.from_bytes(data[pos + 1 : pos + 9], "big")
    pos += 9
    if tag in (TAG_LIST, TAG_MAP):
        items = []
        for _ in range(length * (2 if tag == TAG_MAP else 1)):
            item, pos = parse_tlv(data, pos)
            items.append(item)
        if tag == TAG_MAP:
            return ("map", tuple(zip(items[::2], items[1::2]))), pos
        return ("list", tuple(items)), pos
    payload = data[pos : pos + length]
    assert len(payload) == length
    pos += length
    if tag == TAG_BYTES:
        return ("bytes", payload), pos
    if tag == TAG_STR:
        return ("str", payload.decode("utf-8")), pos
    if tag == TAG_INT:
        assert not payload.startswith(b"\x00"), "integers are minimal big-endian"
        return ("int", int.from_bytes(payload, "big")), pos
    if tag in (TAG_ELEMENT, TAG_SCALAR):
        return (tag, payload), pos
    raise AssertionError(f"unknown tag {tag}")


def normal(value: Any) -> Any:
    """What a value means for the encoding (tuples and lists are both sequences)."""
    if isinstance(value, bytes):
        return ("bytes", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, bool | int):
        return ("int", int(value))
    if isinstance(value, dict):
        return ("map", tuple((normal(k), normal(value[k])) for k in sorted(value)))
    return ("list", tuple(normal(v) for v in value))


tlv_values = st.recursive(
    st.binary(max_size=20) | st.text(max_size=10) | st.integers(0, 2**300) | st.booleans(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(tlv_values)
@settings(max_examples=150, deadline=None)
def test_tlv_has_a_left_inverse(value: Any) -> None:
    data = encode(value)
    parsed, end = parse_tlv(data)
    assert end == len(data)
    assert parsed == normal(value)


@given(tlv_values, tlv_values)
@settings(max_examples=150, deadline=None)
def test_tlv_is_injective(a: Any, b: Any) -> None:
    assert (encode(a) == encode(b)) == (normal(a) == normal(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (["A", "B"], ["AB"]),
        (["AB", ""], ["A", "B"]),
        ("A", b"A"),
        (1, b"\x01"),
        (0, b""),
        (0, ""),
        ([], {}),
        ([], ""),
        ([[]], [[], []]),
        ([["a"], "b"], [["a", "b"]]),
        ({"a": "bc"}, {"ab": "c"}),
        ({"a": 1}, ["a", 1]),
        (256, [1, 0]),
    ],
)
def test_tlv_distinguishes(a: Any, b: Any) -> None:
    assert encode(a) != encode(b)


def test_tlv_layout() -> None:
    assert encode(b"xy") == bytes([TAG_BYTES]) + (2).to_bytes(8, "big") + b"xy"
    assert encode("é") == bytes([TAG_STR]) + (2).to_bytes(8, "big") + "é".encode()
    assert encode(0) == bytes([TAG_INT]) + bytes(8)
    assert encode(258) == bytes([TAG_INT]) + (2).to_bytes(8, "big") + b"\x01\x02"
    assert encode(["a"]) == bytes([TAG_LIST]) + (1).to_bytes(8, "big") + encode("a")
    assert encode({"b": 1, "a": 2}) == bytes([TAG_MAP]) + (2).to_bytes(8, "big") + encode(
        "a"
    ) + encode(2) + encode("b") + encode(1)


def test_tlv_of_group_values_is_tagged_and_fixed_width() -> None:
    group = get_group("test-safe-256")
    g = group.generator()
    assert encode(g) == bytes([TAG_ELEMENT]) + (32).to_bytes(8, "big") + g.to_bytes()
    s = group.scalar(5)
    assert encode(s) == bytes([TAG_SCALAR]) + (32).to_bytes(8, "big") + (5).to_bytes(32, "big")
    assert encode(s) != encode(5)
    assert encode(group.identity()) != encode(group.scalar(1))


@pytest.mark.parametrize("bad", [-1, 1.5, None, object(), {1: "a"}, {"a": -3}])
def test_tlv_refuses_values_without_an_encoding(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        encode(bad)


# ---------------------------------------------------------------- canonical JSON


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_JSON_INT, MAX_JSON_INT) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(json_values)
@settings(max_examples=1000, deadline=None)
def test_canonical_json_round_trips(value: Any) -> None:
    data = canonical_json(value)
    assert parse_canonical_json(data) == value
    assert canonical_json(parse_canonical_json(data)) == data
    # and it is what the standard library writes with sorted keys and no spaces
    assert data == _stdlib(value)


def test_canonical_json_writes_every_code_point_as_the_standard_library() -> None:
    """`canonical_json` writes with orjson: byte for byte what the standard library writes,
    for every code point, as a value and as a key; the surrogates, which UTF-8 cannot carry,
    are refused by both."""
    for start in range(0, 0x110000, 0x800):
        chars = [chr(c) for c in range(start, start + 0x800) if not 0xD800 <= c < 0xE000]
        text = "".join(chars)
        value = {c: [c, text] for c in chars[:64]} | {"all": text}
        assert canonical_json(value) == _stdlib(value)
        assert parse_canonical_json(canonical_json(value)) == value
    for surrogate in ("\ud800", "a\udfff"):
        value = json.loads(f'"{surrogate}"')
        with pytest.raises(UnicodeEncodeError):
            _stdlib(value)
        with pytest.raises((TypeError, ValueError)):
            canonical_json(value)


@given(json_values)
@settings(max_examples=100, deadline=None)
def test_pretty_printed_json_is_refused_unless_identical(value: Any) -> None:
    pretty = json.dumps(value, indent=1, ensure_ascii=True).encode()
    if pretty != canonical_json(value):
        with pytest.raises(DecodeError):
            parse_canonical_json(pretty)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',  # a space after the colon
        b'{"a":1 }',
        b' {"a":1}',
        b'{"a":1}\n',
        b"[1, 2]",
        b'{"b":1,"a":2}',  # unsorted keys
        b'{"a":1,"a":1}',  # duplicate key, same value
        b'{"a":1,"a":2}',
        b'{"x":{"k":1,"k":2}}',  # nested duplicate
        b"1.0",  # floats in any form
        b"1e3",
        b"-0.0",
        b"[0.5]",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"-0",  # re-encodes as 0
        b"01",
        b"9007199254740992",  # 2^53: big ints travel as hex
        b"-9007199254740992",
        b"123456789012345678901234567890",
        b'"\\u0041"',  # escaped where a raw character is canonical
        b'"\\u00e9"',
        b'"\\/"',
        b"\xff",  # not UTF-8
        b'"\xc3"',
        b'"\xed\xa0\x80"',  # an encoded surrogate
        b"\xef\xbb\xbf1",  # a byte-order mark
        b"",
        b"{",
        b"[1,]",
        b"'a'",
        b"True",
    ],
)
def test_non_canonical_json_is_refused(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_canonical_json(data)


def test_canonical_json_accepts_the_extremes() -> None:
    for v in (MAX_JSON_INT, -MAX_JSON_INT, 0, "é☃", "\u2028", {"": []}):
        assert parse_canonical_json(canonical_json(v)) == v


def test_canonical_json_size_limit() -> None:
    data = canonical_json(["x" * 100])
    assert parse_canonical_json(data, max_bytes=len(data)) == ["x" * 100]
    with pytest.raises(DecodeError):
        parse_canonical_json(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("bad", [1.0, float("nan"), 2**53, -(2**53), {1: 2}, b"x", {"a": {0.5}}])
def test_canonical_json_refuses_to_write(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(bad)


# ---------------------------------------------------------------- fixed-width hex


@given(st.integers(1, 40).flatmap(lambda w: st.tuples(st.just(w), st.integers(0, 256**w - 1))))
def test_hex_round_trip(case: tuple[int, int]) -> None:
    width, value = case
    text = int_to_hex(value, width)
    assert len(text) == 2 * width and text == text.lower()
    assert hex_to_int(text, width) == value


@pytest.mark.parametrize(
    "text",
    [
        "0A",  # uppercase
        "AB",
        "0x0a",
        "0a0",  # wrong length
        "a",
        "",
        "0a ",
        " 0a",
        "+a",
        "-a",
        "_a",
        "0_",
        "gg",
        "٠١",  # non-ASCII digits that int() would accept
        "０a",
        b"0a",  # not a string
        10,
        None,
        ["0a"],
    ],
)
def test_hex_decoding_is_strict(text: Any) -> None:
    # at the width the text's length suggests, so that its content is what is refused
    width = len(text) // 2 if isinstance(text, str) and len(text) >= 2 else 1
    with pytest.raises(DecodeError):
        hex_to_int(text, width)


def test_hex_encoding_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError):
        int_to_hex(256, 1)
    with pytest.raises(ValueError):
        int_to_hex(-1, 4)
    assert int_to_hex(255, 1) == "ff"
    assert int_to_hex(0, 3) == "000000"


@pytest.mark.parametrize("depth", [1000, 20000])
def test_deeply_nested_json_is_a_decode_error(depth: int) -> None:
    data = b"[" * depth + b"]" * depth  # a few kilobytes of outside input
    with pytest.raises(DecodeError):
        parse_canonical_json(data)


def test_moderately_nested_json_is_accepted() -> None:
    data = b"[" * 50 + b"]" * 50
    assert canonical_json(parse_canonical_json(data)) == data


def test_bytes_from_hex_is_strict() -> None:
    from mixnet.encoding import bytes_from_hex

    assert bytes_from_hex("0aff", 2) == b"\x0a\xff"
    for bad in ("0AFF", "0aff00", "0af", "0a f", "zzzz", 10, None):
        with pytest.raises(DecodeError, match="lowercase hex"):
            bytes_from_hex(bad, 2, "key")


def test_parse_json_strict_rejects_what_canonical_json_rejects_but_keeps_layout() -> None:
    from mixnet.encoding import parse_json_strict

    assert parse_json_strict(b'{ "b": 1, "a": [2] }') == {"a": [2], "b": 1}
    for bad in (b'{"a":1,"a":2}', b'{"a":1.5}', b"NaN", b"\xff", b"[" * 5000 + b"]" * 5000):
        with pytest.raises(DecodeError):
            parse_json_strict(bad)
    with pytest.raises(DecodeError, match="larger"):
        parse_json_strict(b"[1]", max_bytes=2)


@pytest.mark.parametrize("canonical", [True, False])
def test_json_nesting_is_bounded(canonical: bool) -> None:
    """64 levels of arrays and objects parse; one more is a DecodeError, never a RecursionError
    (100,000 levels included), in the canonical fast path and the strict slow one."""
    space = b"" if canonical else b" "

    def nested(levels: int) -> bytes:
        return (
            b'{"a":' * (levels // 2)
            + b"[" * (levels - levels // 2)
            + space
            + b"1"
            + b"]" * (levels - levels // 2)
            + b"}" * (levels // 2)
        )

    if canonical:
        assert parse_canonical_json(nested(MAX_JSON_DEPTH)) is not None
    assert parse_json_strict(nested(MAX_JSON_DEPTH)) is not None
    for levels in (MAX_JSON_DEPTH + 1, 100_000):
        with pytest.raises(DecodeError, match="nested deeper"):
            parse_json_strict(nested(levels))
        with pytest.raises(DecodeError):
            parse_canonical_json(nested(levels))
    with pytest.raises(ValueError, match="nested deeper"):
        canonical_json(json.loads(nested(MAX_JSON_DEPTH + 1)))


def test_json_integer_literals_are_bounded_before_conversion() -> None:
    """A literal of more than 16 digits is refused before Python converts it (a 5000-digit
    one used to raise the interpreter's own ValueError, unhandled)."""
    assert parse_json_strict(b"[9007199254740991]") == [MAX_JSON_INT]
    for text in (b"[12345678901234567]", b"[" + b"7" * 5000 + b"]", b"[-" + b"7" * 17 + b"]"):
        with pytest.raises(DecodeError, match="at most 16 digits"):
            parse_json_strict(text)
        with pytest.raises(DecodeError):
            parse_canonical_json(text)
    with pytest.raises(DecodeError):
        parse_json_strict(b"[9007199254740992]")  # 16 digits, beyond ±(2^53 − 1)
