"""ElGamal over rows (docs/protocol.md §5).

A ciphertext is (a, b) = (m · pk^r, g^r); a ballot is a row of w ciphertexts, each with its own
randomness. Messages are small integers embedded by the group's message encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from mixnet.errors import DecodeError
from mixnet.groups.base import Element, Group, Scalar
from mixnet.rng import RandomSource

__all__ = [
    "Ciphertext",
    "KeyPair",
    "Row",
    "decrypt_row",
    "encrypt_row",
    "encrypt_rows",
    "keygen",
    "reencrypt_rows",
    "row_from_json",
    "row_texts",
    "row_to_json",
    "rows_from_elements",
    "rows_from_json",
]


@dataclass(frozen=True, slots=True)
class Ciphertext:
    a: Element  # m · pk^r
    b: Element  # g^r

    def encode_tlv(self) -> bytes:
        from mixnet.encoding import encode

        return encode([self.a, self.b])


Row = tuple[Ciphertext, ...]


@dataclass(frozen=True)
class KeyPair:
    secret: Scalar
    public: Element

    def __repr__(self) -> str:  # never show the secret
        return f"KeyPair(public={self.public!r})"


def keygen(group: Group, rng: RandomSource) -> KeyPair:
    x = group.random_scalar(rng)
    return KeyPair(x, group.generator() ** x)


def encrypt_row(
    pk: Element, messages: Sequence[int], rng: RandomSource
) -> tuple[Row, list[Scalar]]:
    """Encrypt one row; returns the row and its randomness (the voter keeps it for audits)."""
    group = pk.group
    g = group.generator()
    rs = [group.random_scalar(rng) for _ in messages]
    row = tuple(Ciphertext(group.encode_message(m) * pk**r, g**r) for m, r in zip(messages, rs))
    return row, rs


def encrypt_rows(
    pk: Element,
    messages: Sequence[Sequence[int]],
    rng: RandomSource,
    executor: Executor | None = None,
) -> tuple[list[Row], list[list[Scalar]]]:
    """Encrypt many rows with fixed-base tables for g and pk."""
    group = pk.group
    width = len(messages[0]) if messages else 0
    if any(len(m) != width for m in messages):
        raise ValueError("rows of different widths")
    rs = [[group.random_scalar(rng) for _ in range(width)] for _ in messages]
    flat = [r.value for row in rs for r in row]
    g_pows = group.fixed_base_pows(group.generator(), flat, executor)
    pk_pows = group.fixed_base_pows(pk, flat, executor)
    rows = []
    k = 0
    for msg in messages:
        row = []
        for m in msg:
            row.append(Ciphertext(group.encode_message(m) * pk_pows[k], g_pows[k]))
            k += 1
        rows.append(tuple(row))
    return rows, rs


def reencrypt_rows(
    pk: Element,
    rows: Sequence[Row],
    randomness: Sequence[Sequence[int]],
    executor: Executor | None = None,
) -> list[Row]:
    """(a · pk^r', b · g^r') for every ciphertext, with the given r' (integers in [0, q))."""
    group = pk.group
    flat = [r for row in randomness for r in row]
    g_pows = group.fixed_base_pows(group.generator(), flat, executor)
    pk_pows = group.fixed_base_pows(pk, flat, executor)
    out = []
    k = 0
    for row in rows:
        new = []
        for ct in row:
            new.append(Ciphertext(ct.a * pk_pows[k], ct.b * g_pows[k]))
            k += 1
        out.append(tuple(new))
    return out


def decrypt_row(secret: Scalar, row: Row, bound: int | None = None) -> list[int]:
    """Decrypt with the whole secret key (tests, Benaloh audits use the randomness instead)."""
    out = []
    for ct in row:
        m = ct.a / ct.b**secret
        out.append(ct.a.group.decode_message(m, bound))
    return out


def row_to_json(row: Row) -> list[list[str]]:
    return [[ct.a.to_hex(), ct.b.to_hex()] for ct in row]


def row_from_json(group: Group, data: Any, width: int | None = None) -> Row:
    """Decode a row from JSON; every element is checked for membership."""
    if not isinstance(data, list) or not data:
        raise DecodeError("a row is a non-empty list of [a, b] pairs")
    if width is not None and len(data) != width:
        raise DecodeError(f"a row has {width} ciphertexts")
    out = []
    for pair in data:
        if not isinstance(pair, list) or len(pair) != 2:
            raise DecodeError("a ciphertext is a pair [a, b]")
        out.append(Ciphertext(group.element_from_hex(pair[0]), group.element_from_hex(pair[1])))
    return tuple(out)


def row_texts(data: Any, width: int) -> list[object]:
    """The hex texts of many rows' elements in order (a, b of each ciphertext), shape checked."""
    if not isinstance(data, list) or not data:
        raise DecodeError("a list of rows is a non-empty list")
    texts: list[object] = []
    for r in data:
        if not isinstance(r, list) or len(r) != width:
            raise DecodeError(f"a row has {width} ciphertexts")
        for pair in r:
            if not isinstance(pair, list) or len(pair) != 2:
                raise DecodeError("a ciphertext is a pair [a, b]")
            texts += pair
    return texts


def rows_from_elements(elements: Sequence[Element], width: int) -> list[Row]:
    """Rows of `width` ciphertexts from their elements in `row_texts` order."""
    return [
        tuple(Ciphertext(elements[base + 2 * k], elements[base + 2 * k + 1]) for k in range(width))
        for base in range(0, len(elements), 2 * width)
    ]


def rows_from_json(
    group: Group, data: Any, width: int, rng: Any = None, executor: Any = None
) -> list[Row]:
    """Decode many rows at once, with one batched membership test (`elements_from_hex`)."""
    texts = row_texts(data, width)
    return rows_from_elements(group.elements_from_hex(texts, rng, executor), width)
