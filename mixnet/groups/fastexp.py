"""Fast modular exponentiation on raw gmpy2 integers (docs/protocol.md §7).

- `FixedBaseTable`: windowed tables base^(d·2^(8k)) so one exponentiation costs about
  bits/8 modular multiplications and no squarings.
- `multi_exp`: ∏ b_i^{e_i} by the bucket method (Pippenger), or for fewer than 8 terms by
  Straus's method (a table of 15 powers per base): the squarings are shared by all terms and
  each term costs about bits/w multiplications.

These functions take and return `mpz` values and do no checking; the group classes wrap them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gmpy2
from gmpy2 import mpz

__all__ = ["FixedBaseTable", "fixed_base_table", "multi_exp"]

_TABLES: dict[tuple[int, int, int], FixedBaseTable] = {}
_TABLE_CACHE_SIZE = 8


class FixedBaseTable:
    """Precomputed powers of one base modulo p for exponents below 2^exp_bits.

    Windows are 8 bits wide, so the digits of an exponent are its little-endian bytes and the
    loop does no big-integer shifting: one exponentiation is about bits/8 multiplications.
    """

    __slots__ = ("exp_bits", "nbytes", "p", "rows")

    def __init__(self, base: Any, p: Any, exp_bits: int) -> None:
        self.p = mpz(p)
        self.exp_bits = exp_bits
        self.nbytes = (exp_bits + 7) // 8
        rows = []
        b = mpz(base) % self.p
        for _ in range(self.nbytes):
            row = [mpz(1), b]
            x = b
            for _ in range(254):
                x = x * b % self.p
                row.append(x)
            rows.append(row)
            b = x * b % self.p  # base^(256) for the next window
        self.rows = rows

    def pow(self, e: int) -> Any:
        """base^e for 0 ≤ e < 2^exp_bits."""
        if e < 0 or e.bit_length() > self.exp_bits:
            raise ValueError("exponent outside the table's range")
        p = self.p
        acc = None
        for row, d in zip(self.rows, int(e).to_bytes(self.nbytes, "little")):
            if d:
                acc = row[d] if acc is None else acc * row[d] % p
        return mpz(1) if acc is None else acc


def fixed_base_table(base: Any, p: Any, exp_bits: int) -> FixedBaseTable:
    """A cached table (per process), so repeated calls for g or a public key are free."""
    key = (int(base), int(p), exp_bits)
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) >= _TABLE_CACHE_SIZE:
            _TABLES.pop(next(iter(_TABLES)))
        table = _TABLES[key] = FixedBaseTable(base, p, exp_bits)
    return table


def _bucket_window(n: int, bits: int) -> int:
    best_w, best_cost = 1, float("inf")
    for w in range(1, 17):
        cost = -(-bits // w) * (n + (2 << w))
        if cost < best_cost:
            best_w, best_cost = w, cost
    return best_w


def _straus(bases: Sequence[Any], exps: Sequence[int], p: Any, bits: int) -> Any:
    """A few terms: 4-bit windows of every exponent over one shared chain of squarings."""
    tables = []
    for b in bases:
        row = [mpz(1), mpz(b) % p]
        for _ in range(14):
            row.append(row[-1] * row[1] % p)
        tables.append(row)
    exps = [int(e) for e in exps]
    acc = mpz(1)
    for shift in range(4 * ((bits - 1) // 4), -1, -4):
        for _ in range(4):
            acc = acc * acc % p
        for row, e in zip(tables, exps):
            d = (e >> shift) & 15
            if d:
                acc = acc * row[d] % p
    return acc


def multi_exp(bases: Sequence[Any], exps: Sequence[int], p: Any) -> Any:
    """∏ bases[i]^exps[i] mod p for non-negative integer exponents."""
    p = mpz(p)
    n = len(bases)
    if n == 0:
        return mpz(1)
    bits = max(int(e).bit_length() for e in exps)
    if bits == 0:
        return mpz(1)
    if n == 1:
        return gmpy2.powmod(bases[0], exps[0], p)
    if n < 8:
        return _straus(bases, exps, p, bits)
    w = _bucket_window(n, bits)
    mask = (1 << w) - 1
    windows = -(-bits // w)
    exps = [int(e) for e in exps]
    result = None
    for k in range(windows - 1, -1, -1):
        if result is not None:
            for _ in range(w):
                result = result * result % p
        shift = k * w
        buckets: list[Any] = [None] * (1 << w)
        for b, e in zip(bases, exps):
            d = (e >> shift) & mask
            if d:
                cur = buckets[d]
                buckets[d] = b if cur is None else cur * b % p
        # ∏ bucket_d^d by running products from the top
        running = None
        total = None
        for d in range(mask, 0, -1):
            bd = buckets[d]
            if bd is not None:
                running = bd if running is None else running * bd % p
            if running is not None:
                total = running if total is None else total * running % p
        if total is not None:
            result = total if result is None else result * total % p
    return mpz(1) if result is None else result
