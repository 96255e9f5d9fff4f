"""Voting codes printed on postcards (docs/jpki.md §5.4).

A code is 16 characters from a 32-letter alphabet without look-alikes (80 bits), printed in
groups of four. The registrar keeps only SHA-256 hashes under a domain label; the codes
themselves leave the machine once, as CSV text for the printer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import unicodedata
from collections.abc import Callable

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "generate_voting_codes",
    "hash_voting_code",
    "normalize_voting_code",
]

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
CODE_LENGTH = 16
_DOMAIN = b"tohyo/voting-code/v1\x00"


#: "-" and what an IME or a word processor types for it: the hyphen ‐, the non-breaking
#: hyphen, the figure dash, the en and em dashes, the horizontal bar, the minus sign −, the
#: katakana long vowel mark ー (full-width －, half-width ｰ and the ideographic space become
#: these under NFKC)
SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc")


def normalize_voting_code(text: str) -> str:
    """Upper-case, full-width to ASCII, separators dropped; ValueError if not a code.

    Separators are spaces and the dashes a keyboard or an IME gives for "-" (SEPARATORS)."""
    code = unicodedata.normalize("NFKC", text).upper()
    code = "".join(c for c in code if c not in SEPARATORS and not c.isspace())
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        raise ValueError("not a voting code")
    return code


def hash_voting_code(text: str) -> str:
    """Hex SHA-256 of the normalized code under the voting-code domain label."""
    return hashlib.sha256(_DOMAIN + normalize_voting_code(text).encode("ascii")).hexdigest()


def _format(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def generate_voting_codes(
    count: int, *, choice: Callable[[str], str] = secrets.choice
) -> tuple[str, tuple[str, ...]]:
    """N fresh codes: (CSV text `number,code` for the postcards, sorted hashes to keep).

    The hashes are sorted so that their order says nothing about which postcard holds which.
    `choice` is the randomness (tests may pass a seeded one).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    codes: set[str] = set()
    ordered: list[str] = []
    while len(ordered) < count:
        code = "".join(choice(ALPHABET) for _ in range(CODE_LENGTH))
        if code not in codes:
            codes.add(code)
            ordered.append(code)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "voting_code"])
    for number, code in enumerate(ordered, start=1):
        writer.writerow([number, _format(code)])
    return out.getvalue(), tuple(sorted(hash_voting_code(c) for c in ordered))
