"""The voter's side over the network: read the election from the board, cast, check receipts.

The election is always read from its pinned fingerprint (`verifier.fetch.pinned_board`). A cast is
done only once its receipt is checked against the voter's own ballot (`check_cast`): signed
by the pinned board key, its head consistent with the one the election was read in, and the
entry at its index this very ballot, byte for byte. The card is reached through any
`jpki.transport.Transport` (a PC/SC reader, which is also how a virtual card on vpcd appears,
or an in-process virtual card); PINs go only to the card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.client import BoardClient, InconsistentBoardError
from bulletin_board.entry import decode_envelope, verify_envelope
from bulletin_board.log import hash_leaf, verify_inclusion
from bulletin_board.receipt import Receipt, verify_receipt
from election.manifest import Manifest
from jpki.card import CertKind, JpkiCard
from jpki.pins import PinKind
from jpki.registrar import ballot_message
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from verifier.fetch import ElectionInfo, parse_fingerprint, pinned_board
from voter_client.ballot import EncryptedBallot

__all__ = [
    "CastRefused",
    "CodeChecksBusy",
    "ElectionInfo",
    "NotRecorded",
    "ReceiptCheck",
    "cast",
    "check_receipt",
    "check_receipt_record",
    "check_voting_code",
    "fetch_election",
    "find_ballot",
    "read_receipt_bytes",
    "sign_with_card",
]


class CastRefused(Exception):
    """The board or the registrar refused the ballot: `code`, `reason`, plain `detail`."""

    def __init__(self, status: int, code: str, reason: str, detail: str) -> None:
        self.status, self.code, self.reason, self.detail = status, code, reason, detail
        super().__init__(detail or code)


class NotRecorded(VerificationError):
    """The board answered "accepted", but its receipt does not show this voter's ballot in
    its record. `evidence` is what to give an observer: the failed check, the board's signed
    receipt, the voter's own ballot and, when the board served it, the entry at that index."""

    def __init__(self, check: str, detail: str, evidence: dict[str, Any]) -> None:
        super().__init__(check, detail)
        self.evidence = {"check": check, "detail": detail, **evidence}


class CodeChecksBusy(Exception):
    """The registrar answers no more voting-code checks from here for now (a minute)."""


async def check_voting_code(board_url: str, election: str, code: str) -> bool | None:
    """Is `code` one of the election's voting codes, by the registrar's word (asked before the
    voter chooses)? None when it cannot say (an older board, unreachable); the cast checks the
    code in any case, so a wrong "yes" or "no" here costs the voter time, never a vote.
    Raises CodeChecksBusy when the registrar's limit on checks is reached."""
    url = f"{board_url.rstrip('/')}/v1/elections/{election}/voting-code"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            async with http.post(url, json={"voting_code": code}) as resp:
                if resp.status == 429:
                    raise CodeChecksBusy()
                if resp.status != 200:
                    return None
                doc = await resp.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
        return None
    known = doc.get("known") if isinstance(doc, dict) else None
    return known if isinstance(known, bool) else None


async def fetch_election(board_url: str, election: str, fingerprint: bytes) -> ElectionInfo:
    """The manifest, the joint key and the phase, checked from the pinned fingerprint."""
    async with pinned_board(board_url, election, fingerprint) as (_, info):
        return info


def sign_with_card(
    card: JpkiCard, password: str, manifest: Manifest, encrypted: EncryptedBallot
) -> tuple[bytes, bytes]:
    """Verify the signing password and sign the ballot hash; returns (certificate, signature).

    Raises the card's `WrongPinError` (with tries left) or `PinBlockedError`.
    """
    fingerprint = manifest.fingerprint()
    card.select_ap()
    card.verify_pin(PinKind.SIGN, password)
    certificate = card.read_certificate(CertKind.SIGN)
    signature = card.sign(
        PinKind.SIGN, ballot_message(fingerprint, encrypted.ballot.hash(fingerprint))
    )
    return certificate, signature


async def cast(
    board_url: str,
    info: ElectionInfo,
    encrypted: EncryptedBallot,
    certificate: bytes,
    signature: bytes,
    voting_code: str,
) -> dict[str, Any]:
    """Submit the ballot and check the receipt against it (`check_cast`); returns
    {"receipt", "replaced_earlier_ballot"}, raises CastRefused or NotRecorded."""
    ballot = encrypted.ballot.to_json()
    body = {
        "ballot": ballot,
        "jpki": {"certificate": certificate.hex(), "signature": signature.hex()},
        "voting_code": voting_code,
    }
    url = f"{board_url.rstrip('/')}/v1/elections/{info.election}/ballots"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, data=json.dumps(body), headers={"Content-Type": "application/json"}
        ) as resp:
            try:
                doc = await resp.json(content_type=None)
            except ValueError:
                doc = {}
            if resp.status != 200:
                raise CastRefused(
                    resp.status,
                    str(doc.get("error", "error")),
                    str(doc.get("reason", "")),
                    str(doc.get("detail", "")),
                )
        async with BoardClient(board_url, info.manifest.board_key, session=session) as client:
            if info.tree_head is not None:
                await client.accept_head(info.tree_head, info.election)
            await check_cast(client, info, ballot, doc)
    return dict(doc)


async def find_ballot(board_url: str, info: ElectionInfo, ballot: dict[str, Any]) -> int | None:
    """Did a cast whose answer was lost arrive? The index of the entry holding `ballot` (JSON)
    among the entries after the head the election was read at, proven included in the board's
    signed current head; None if none holds it. Network errors and VerificationError pass."""
    start = info.tree_head.tree_size if info.tree_head is not None else 0
    async with BoardClient(board_url, info.manifest.board_key) as client:
        if info.tree_head is not None:
            await client.accept_head(info.tree_head, info.election)
        head = await client.tree_head(info.election)
        for index, raw in enumerate(
            await client.entries_range(info.election, start, head.tree_size), start
        ):
            envelope = decode_envelope(raw)
            if envelope.type == "ballot" and envelope.body.get("ballot") == ballot:
                await client.check_included(info.election, raw, index)
                return index
    return None


def _board_key(manifest: Manifest) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.board_key))


async def _entry_is_ballot(
    client: BoardClient,
    manifest: Manifest,
    receipt: Receipt,
    ballot: dict[str, Any],
    evidence: dict[str, Any],
) -> None:
    """The entry the board serves at the receipt's index is the receipt's entry, and it holds
    `ballot` byte for byte, signed by the manifest's registrar."""
    page = await client.entries(receipt.election, receipt.index, 1)
    if not page:
        raise NotRecorded("receipt.entry", f"the board serves no entry {receipt.index}", evidence)
    raw = page[0]
    evidence["entry"] = parse_canonical_json(raw)
    if hash_leaf(raw) != receipt.entry_hash:
        raise NotRecorded(
            "receipt.entry_hash",
            f"the entry served at {receipt.index} is not the one the receipt names",
            evidence,
        )
    envelope = decode_envelope(raw)
    if envelope.type != "ballot" or envelope.body.get("ballot") != ballot:
        raise NotRecorded(
            "receipt.ballot",
            f"entry {receipt.index} is not your ballot: the board's receipt is for another entry",
            evidence,
        )
    try:
        verify_envelope(
            envelope, Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.registrar_key))
        )
    except VerificationError as exc:
        raise NotRecorded(
            "receipt.entry_signature",
            "your ballot's entry is not signed by the election's registrar",
            evidence,
        ) from exc


async def check_cast(
    client: BoardClient, info: ElectionInfo, ballot: dict[str, Any], doc: Any
) -> Receipt:
    """The board's answer to a cast, checked against the voter's own `ballot` (JSON): a
    receipt of this election signed by the pinned board key, its head signed and consistent
    with every head `client` has seen, the inclusion proof, and the entry at its index this
    ballot (`_entry_is_ballot`). Raises NotRecorded naming the failed check."""
    receipt_doc = doc.get("receipt") if isinstance(doc, dict) else None
    evidence: dict[str, Any] = {"receipt": receipt_doc, "ballot": ballot}
    try:
        receipt = Receipt.from_json(receipt_doc)
    except DecodeError as exc:
        raise NotRecorded("receipt.format", str(exc), evidence) from exc
    if receipt.election != info.election:
        raise NotRecorded("receipt.election", f"a receipt of {receipt.election!r}", evidence)
    try:
        verify_receipt(receipt, _board_key(info.manifest))
        await client.accept_head(receipt.tree_head, info.election)
    except InconsistentBoardError as exc:
        raise NotRecorded(exc.check, exc.detail, {**evidence, **exc.evidence()}) from exc
    except VerificationError as exc:
        raise NotRecorded(exc.check, exc.detail, evidence) from exc
    await _entry_is_ballot(client, info.manifest, receipt, ballot, evidence)
    return receipt


RECEIPT_FORMAT = "tohyo-receipt/2"
_RECEIPT_FIELDS = {"format", "board", "board_key", "election", "fingerprint", "ballot", "receipt"}


def save_receipt(
    path: Path, doc: dict[str, Any], info: ElectionInfo, board_url: str, ballot: dict[str, Any]
) -> None:
    """Keep the receipt with what checking it needs: the election's fingerprint (the pin),
    the board's key from the manifest, and the voter's own ballot."""
    record = {
        "format": RECEIPT_FORMAT,
        "board": board_url,
        "election": info.election,
        "fingerprint": info.manifest.fingerprint().hex(),
        "board_key": info.manifest.board_key,
        "ballot": ballot,
        "receipt": doc["receipt"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_json(record))


FORKED_MESSAGE = (
    "WARNING: the board now shows a history that contradicts your receipt (the "
    "record was rewritten, cut short or forked). Keep your receipt and report this "
    "to the election observers."
)
NOT_YOURS_MESSAGE = (
    "WARNING: the entry at your receipt's place is NOT your ballot. Keep your "
    "receipt and report this to the election observers."
)


@dataclass(frozen=True)
class ReceiptCheck:
    """What a receipt check found: `kind` is one of RECEIPT_KINDS, `message` plain words."""

    included: bool
    forked: bool
    message: str  # plain words for the voter
    evidence: dict[str, Any] | None = None
    kind: str = "included"


#: included: in the record; forked: the board's history contradicts the receipt; forged: the
#: receipt's signatures, hash or inclusion proof do not check; missing: not at the receipt's
#: place; not_yours: the entry there is not the voter's ballot.
RECEIPT_KINDS = ("included", "forked", "forged", "missing", "not_yours")


def read_receipt_file(path: Path) -> dict[str, Any]:
    """A receipt file as `save_receipt` writes it, or DecodeError."""
    return read_receipt_bytes(path.read_bytes())


def read_receipt_bytes(content: bytes) -> dict[str, Any]:
    """A receipt file's content as `save_receipt` writes it, or DecodeError."""
    record = parse_canonical_json(content)
    if (
        not isinstance(record, dict)
        or record.get("format") != RECEIPT_FORMAT
        or set(record) != _RECEIPT_FIELDS
        or not isinstance(record["ballot"], dict)
        or not all(isinstance(record[k], str) for k in ("board", "election", "fingerprint"))
    ):
        raise DecodeError(f"not a tohyo receipt file ({RECEIPT_FORMAT})")
    try:
        parse_fingerprint(record["fingerprint"])
    except ValueError as exc:
        raise DecodeError(f"receipt file: {exc}") from exc
    return record


async def check_receipt(
    path: Path, board_url: str | None = None, fingerprint: bytes | None = None
) -> ReceiptCheck:
    """Is the ballot of this receipt in the board's current record, at the receipt's place,
    with a history consistent with the receipt's head? The election is read from the
    fingerprint kept in the receipt (or `fingerprint`, which must be the same)."""
    return await check_receipt_record(read_receipt_file(path), board_url, fingerprint)


async def check_receipt_record(
    record: dict[str, Any], board_url: str | None = None, fingerprint: bytes | None = None
) -> ReceiptCheck:
    """`check_receipt` of a record `read_receipt_bytes` gave."""
    receipt = Receipt.from_json(record["receipt"])
    pin = parse_fingerprint(record["fingerprint"])
    if fingerprint is not None and fingerprint != pin:
        raise VerificationError("pin.fingerprint", "this receipt is of another election")
    async with pinned_board(board_url or record["board"], record["election"], pin) as (
        client,
        info,
    ):
        try:
            if info.manifest.board_key != record["board_key"]:
                raise VerificationError("receipt.board_key", "not the election's board key")
            if receipt.election != info.election:
                raise VerificationError("receipt.election", "a receipt of another election")
            verify_receipt(receipt, _board_key(info.manifest))
        except VerificationError as exc:
            return ReceiptCheck(
                False,
                False,
                "This receipt was not issued by this board for "
                f"this ballot ({exc.check}); it proves nothing.",
                kind="forged",
            )
        assert info.tree_head is not None
        current = info.tree_head
        try:
            if current.tree_size < receipt.tree_head.tree_size:
                raise InconsistentBoardError(
                    "board.rollback",
                    "the board's record is shorter than at your receipt",
                    receipt.tree_head,
                    current,
                )
            await client.accept_head(receipt.tree_head, info.election)
        except InconsistentBoardError as exc:
            return ReceiptCheck(False, True, FORKED_MESSAGE, exc.evidence(), kind="forked")
        proof = await client.inclusion_proof(info.election, receipt.index, current.tree_size)
        try:
            verify_inclusion(
                receipt.entry_hash, receipt.index, current.tree_size, proof, current.root_hash
            )
        except VerificationError:
            return ReceiptCheck(
                False,
                False,
                "Your ballot is NOT in the board's record at the "
                "place your receipt gives. Keep your receipt and report this.",
                kind="missing",
            )
        try:
            await _entry_is_ballot(
                client,
                info.manifest,
                receipt,
                record["ballot"],
                {"receipt": record["receipt"], "ballot": record["ballot"]},
            )
        except NotRecorded as exc:
            return ReceiptCheck(False, False, NOT_YOURS_MESSAGE, exc.evidence, kind="not_yours")
    return ReceiptCheck(
        True,
        False,
        f"Your ballot is in the record: entry {receipt.index} of "
        f"{current.tree_size}, and the board's history agrees with your receipt.",
    )
