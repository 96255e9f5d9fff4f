"""Threshold decryption of the final mix output (docs/trustees.md §5).

Trustee j publishes, for every ciphertext (a, b) of every row, the factor d = b^{x_j}, with one
batched Chaum–Pedersen proof that log_g X_j = log_b d for all of them
(`mixnet.proofs.decryption`). The proof's transcript context binds the election fingerprint,
the trustee index and a digest of the whole list of rows (a and b), so a share made for one
list or one trustee does not verify for another.

Anyone combines any t valid shares S by Lagrange interpolation at 0:
λ_j = ∏_{k∈S, k≠j} k/(k − j) mod q, plaintext element m = a / ∏_{j∈S} d_j^{λ_j}, decoded with
the group's message encoding. Shares whose proof fails are excluded and named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from mixnet.elgamal import Row
from mixnet.encoding import bytes_from_hex, canonical_json, encode, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs.decryption import decryption_factors, prove_factors, verify_factors
from mixnet.rng import RandomSource
from mixnet.transcript import Transcript
from trustees.config import _index
from trustees.dkg import KeyShare
from trustees.errors import NotEnoughShares
from trustees.labels import TrusteeLabel

__all__ = [
    "SHARE_KIND",
    "DecryptionResult",
    "DecryptionShare",
    "ListsResult",
    "combine_lists",
    "combine_shares",
    "lagrange_coefficients",
    "make_share",
    "rows_digest",
    "share_entry_body",
    "share_entry_values",
    "verify_share",
]

SHARE_KIND = "trustee.decryption-share"
SHARE_VERSION = 1


def rows_digest(rows: Sequence[Row]) -> bytes:
    """SHA-256 of the TLV encoding of every row (a and b of each ciphertext)."""
    h = hashlib.sha256()
    h.update(encode(len(rows)))
    for row in rows:
        h.update(encode([[ct.a, ct.b] for ct in row]))
    return h.digest()


def share_transcript(election: bytes, trustee: int, digest: bytes) -> Transcript:
    return Transcript([TrusteeLabel.DECRYPTION_SHARE, election, trustee, digest])


@dataclass(frozen=True)
class DecryptionShare:
    """Trustee j's factors d = b^{x_j} (row-major) and the batched proof."""

    election: bytes
    trustee: int
    rows_digest: bytes
    factors: tuple[Element, ...]
    proof: cp.Proof

    def to_json_value(self) -> dict[str, Any]:
        return {
            "kind": SHARE_KIND,
            "version": SHARE_VERSION,
            "election": self.election.hex(),
            "trustee": self.trustee,
            "rows": self.rows_digest.hex(),
            "factors": [d.to_hex() for d in self.factors],
            "proof": self.proof.to_json(),
        }

    def to_json(self) -> bytes:
        return canonical_json(self.to_json_value())

    @classmethod
    def from_json_value(cls, value: object, group: Group) -> DecryptionShare:
        fields = {"kind", "version", "election", "trustee", "rows", "factors", "proof"}
        if not isinstance(value, dict) or set(value) != fields:
            raise DecodeError(f"a decryption share has exactly {sorted(fields)}")
        if value["kind"] != SHARE_KIND or value["version"] != SHARE_VERSION:
            raise DecodeError("not a version-1 decryption share")
        factors = value["factors"]
        if not isinstance(factors, list) or not factors:
            raise DecodeError("factors is a non-empty list")
        try:
            canonical_json(value)
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"not a JSON value with a canonical form: {exc}") from exc
        return cls(
            bytes_from_hex(value["election"], 32, "the election fingerprint"),
            _index(value["trustee"], "trustee"),
            bytes_from_hex(value["rows"], 32, "the rows digest"),
            tuple(group.element_from_hex(d) for d in factors),
            cp.Proof.from_json(group, value["proof"]),
        )

    @classmethod
    def from_json(cls, data: bytes, group: Group) -> DecryptionShare:
        return cls.from_json_value(parse_canonical_json(data), group)


def make_share(
    key_share: KeyShare,
    rows: Sequence[Row],
    *,
    election: bytes,
    rng: RandomSource,
    executor: Executor | None = None,
) -> DecryptionShare:
    """Trustee j's decryption share for `rows`, proven against its verification key X_j."""
    digest = rows_digest(rows)
    factors = decryption_factors(key_share.secret, rows, executor)
    proof = prove_factors(
        key_share.secret,
        rows,
        factors,
        transcript=share_transcript(election, key_share.index, digest),
        rng=rng,
        executor=executor,
    )
    return DecryptionShare(election, key_share.index, digest, tuple(factors), proof)


def verify_share(
    share: DecryptionShare,
    rows: Sequence[Row],
    verification_key: Element,
    *,
    election: bytes,
    digest: bytes | None = None,
    executor: Executor | None = None,
) -> None:
    """Raise `VerificationError` (naming the check) unless `share` is valid for `rows`."""
    if share.election != election:
        raise VerificationError("T1 election", "share of another election")
    digest = rows_digest(rows) if digest is None else digest
    if share.rows_digest != digest:
        raise VerificationError("T2 rows", "share made for another list of rows")
    verify_factors(
        verification_key,
        rows,
        share.factors,
        share.proof,
        transcript=share_transcript(election, share.trustee, digest),
        executor=executor,
    )


def lagrange_coefficients(indices: Sequence[int], q: int) -> dict[int, int]:
    """λ_j = ∏_{k∈S, k≠j} k/(k − j) mod q, for interpolation at 0."""
    out = {}
    for j in indices:
        num, den = 1, 1
        for k in indices:
            if k != j:
                num = num * k % q
                den = den * (k - j) % q
        out[j] = num * pow(den, -1, q) % q
    return out


@dataclass(frozen=True)
class DecryptionResult:
    """The plaintexts, row by row, and which trustees' shares were used or excluded."""

    plaintexts: tuple[tuple[int | str, ...], ...]
    used: tuple[int, ...]
    #: valid shares beyond the t that were used
    spare: tuple[int, ...]
    excluded: Mapping[int, str] = field(default_factory=dict)


def _combine(
    rows: Sequence[Row],
    valid: Mapping[int, DecryptionShare],
    used: Sequence[int],
    group: Group,
    decode_row: Callable[[Sequence[Element]], Sequence[int | str]] | None,
    bound: int | None,
) -> tuple[tuple[int | str, ...], ...]:
    lam = lagrange_coefficients(used, group.order)
    exps = [lam[j] for j in used]
    plaintexts: list[tuple[int | str, ...]] = []
    pos = 0
    for row in rows:
        elements = []
        for ct in row:
            d = group.multi_exp([valid[j].factors[pos] for j in used], exps)
            elements.append(ct.a / d)
            pos += 1
        if decode_row is not None:
            plaintexts.append(tuple(decode_row(elements)))
        else:
            plaintexts.append(tuple(group.decode_message(m, bound) for m in elements))
    return tuple(plaintexts)


def combine_shares(
    rows: Sequence[Row],
    shares: Sequence[DecryptionShare],
    verification_keys: Mapping[int, Element],
    threshold: int,
    *,
    election: bytes,
    bound: int | None = None,
    executor: Executor | None = None,
    decode_row: Callable[[Sequence[Element]], Sequence[int | str]] | None = None,
) -> DecryptionResult:
    """Verify every share, exclude (and name) the bad ones, combine t valid ones, decode.

    Each row's plaintext elements are decoded by `decode_row` (an election's: its rule never
    raises, see `election.rules.contest_decoder`), or else slot by slot with the group's
    message encoding up to `bound` (which raises `DecodeError` on an element that encodes
    nothing). Raises `NotEnoughShares` if fewer than t shares are valid.
    """
    if not rows:
        raise ValueError("nothing to decrypt")
    result = combine_lists(
        [("", rows)],
        [(s.trustee, [s]) for s in shares],
        verification_keys,
        threshold,
        election=election,
        bound=bound,
        executor=executor,
        decoders=None if decode_row is None else {"": decode_row},
    )
    return DecryptionResult(result.plaintexts[0][1], result.used, result.spare, result.excluded)


@dataclass(frozen=True)
class ListsResult:
    """The plaintexts of each contest's list, (contest id, rows), and which trustees' shares
    were used or excluded (the same t trustees for every contest)."""

    plaintexts: tuple[tuple[str, tuple[tuple[int | str, ...], ...]], ...]
    used: tuple[int, ...]
    spare: tuple[int, ...]
    excluded: Mapping[int, str] = field(default_factory=dict)


def combine_lists(
    lists: Sequence[tuple[str, Sequence[Row]]],
    shares: Sequence[tuple[int, Sequence[DecryptionShare]]],
    verification_keys: Mapping[int, Element],
    threshold: int,
    *,
    election: bytes,
    bound: int | None = None,
    executor: Executor | None = None,
    decoders: Mapping[str, Callable[[Sequence[Element]], Sequence[int | str]]] | None = None,
) -> ListsResult:
    """`combine_shares` over one list per contest: `shares` holds, per trustee, its share of
    every list in order. A trustee counts when its shares of every list verify (else it is
    excluded and named); the first t such trustees decrypt every list; each contest's rows are
    decoded by `decoders[contest]` (or with `bound`). Raises `NotEnoughShares`."""
    digests = [rows_digest(rows) for _, rows in lists]
    valid: dict[int, list[DecryptionShare]] = {}
    excluded: dict[int, str] = {}
    for j, parts in shares:
        if j in valid:
            continue  # one valid share per trustee is enough; copies change nothing
        if j not in verification_keys:
            excluded[j] = "not a trustee of this election"
            continue
        try:
            if len(parts) != len(lists):
                raise VerificationError("D0 lists", "not one share per contest list")
            for share, (_contest, rows), digest in zip(parts, lists, digests):
                if share.trustee != j:
                    raise VerificationError("D0 trustee", "a share of another trustee")
                verify_share(
                    share,
                    rows,
                    verification_keys[j],
                    election=election,
                    digest=digest,
                    executor=executor,
                )
        except VerificationError as exc:
            excluded[j] = f"proof fails ({exc})"
            continue
        excluded.pop(j, None)
        valid[j] = list(parts)
    if len(valid) < threshold:
        raise NotEnoughShares(len(valid), threshold, excluded)
    used = tuple(sorted(valid)[:threshold])
    spare = tuple(sorted(valid)[threshold:])
    group = next(iter(verification_keys.values())).group
    plaintexts = tuple(
        (
            contest,
            _combine(
                rows,
                {j: valid[j][k] for j in used},
                used,
                group,
                None if decoders is None else decoders[contest],
                bound,
            ),
        )
        for k, (contest, rows) in enumerate(lists)
    )
    return ListsResult(plaintexts, used, spare, dict(excluded))


def share_entry_body(trustee: int, shares: Sequence[tuple[str, DecryptionShare]]) -> dict[str, Any]:
    """The body of a `decryption_share` entry: {v, trustee, contests: [{contest, share}]},
    one share per contest list, in the mix input's order."""
    return {
        "v": 1,
        "trustee": trustee,
        "contests": [{"contest": c, "share": s.to_json_value()} for c, s in shares],
    }


def share_entry_values(body: Any, contests: Sequence[str]) -> list[Any]:
    """The share values (undecoded) of a `decryption_share` body, one per contest in order;
    raises `DecodeError` unless the body has exactly that shape, the contests in order."""
    if not isinstance(body, Mapping) or set(body) != {"v", "trustee", "contests"}:
        raise DecodeError("a decryption share entry is {v, trustee, contests}")
    parts = body["contests"]
    if not isinstance(parts, list) or len(parts) != len(contests):
        raise DecodeError(f"a decryption share entry holds {len(contests)} contest shares")
    out = []
    for part, contest in zip(parts, contests):
        if not isinstance(part, Mapping) or set(part) != {"contest", "share"}:
            raise DecodeError("a contest's share is {contest, share}")
        if part["contest"] != contest:
            raise DecodeError(f"the share of contest {contest} is posted as {part['contest']!r}")
        out.append(part["share"])
    return out
