"""The voter's side over the network: read the election from the board, cast, check receipts.

The card is reached through any `jpki.transport.Transport` (a PC/SC reader, which is also how
a virtual card on vpcd appears, or an in-process virtual card); PINs go only to the card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bulletin_board.client import BoardClient, InconsistentBoardError
from bulletin_board.entry import decode_envelope
from bulletin_board.log import verify_inclusion
from bulletin_board.receipt import Receipt, verify_receipt
from election.manifest import Manifest
from jpki.card import CertKind, JpkiCard
from jpki.pins import PinKind
from jpki.registrar import ballot_message
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element
from voter_client.ballot import EncryptedBallot

__all__ = [
    "CastRefused",
    "ElectionInfo",
    "ReceiptCheck",
    "cast",
    "check_receipt",
    "fetch_election",
    "sign_with_card",
]


class CastRefused(Exception):
    """The board or the registrar refused the ballot: `code`, `reason`, plain `detail`."""

    def __init__(self, status: int, code: str, reason: str, detail: str) -> None:
        self.status, self.code, self.reason, self.detail = status, code, reason, detail
        super().__init__(detail or code)


@dataclass(frozen=True)
class ElectionInfo:
    election: str
    manifest: Manifest
    pk: Element | None  # None until the key ceremony has finished
    phase: str


async def fetch_election(board_url: str, election: str) -> ElectionInfo:
    """The manifest, the joint key and the phase, read and checked from the board."""
    async with BoardClient(board_url) as client:
        first = await client.entries(election, 0, 200)
        if not first:
            raise DecodeError(f"the board has no election {election!r}")
        envelopes = [decode_envelope(e) for e in first]
        if envelopes[0].type != "manifest":
            raise DecodeError("the first entry is not a manifest")
        manifest = Manifest.from_json(envelopes[0].body["manifest"])
        if manifest.board_key != await client.board_key_hex():
            raise VerificationError("board key", "the board's key is not the manifest's")
        group = manifest.group_object()
        pk = None
        for env in envelopes:
            if env.type == "joint_key":
                pk = group.element_from_hex(env.body["pk"])
        info = await client.election(election)
        phase = str(info.get("policy", {}).get("phase", "unknown"))
    return ElectionInfo(election, manifest, pk, phase)


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
    signature = card.sign(PinKind.SIGN, ballot_message(fingerprint,
                                                       encrypted.ballot.hash(fingerprint)))
    return certificate, signature


async def cast(
    board_url: str,
    election: str,
    encrypted: EncryptedBallot,
    certificate: bytes,
    signature: bytes,
    voting_code: str,
) -> dict[str, Any]:
    """Submit the ballot; returns {"receipt", "replaced_earlier_ballot"} or raises CastRefused."""
    body = {
        "ballot": encrypted.ballot.to_json(),
        "jpki": {"certificate": certificate.hex(), "signature": signature.hex()},
        "voting_code": voting_code,
    }
    url = f"{board_url.rstrip('/')}/v1/elections/{election}/ballots"
    async with aiohttp.ClientSession() as session, session.post(
        url, data=json.dumps(body), headers={"Content-Type": "application/json"}
    ) as resp:
        try:
            doc = await resp.json(content_type=None)
        except ValueError:
            doc = {}
        if resp.status != 200:
            raise CastRefused(resp.status, str(doc.get("error", "error")),
                              str(doc.get("reason", "")), str(doc.get("detail", "")))
    return dict(doc)


def save_receipt(path: Path, doc: dict[str, Any], manifest: Manifest, board_url: str) -> None:
    """Keep the receipt with what checking it needs (the board's key from the manifest)."""
    record = {"format": "tohyo-receipt/1", "board": board_url,
              "board_key": manifest.board_key, "receipt": doc["receipt"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_json(record))


FORKED_MESSAGE = ("WARNING: the board now shows a history that contradicts your receipt (the "
                  "record was rewritten, cut short or forked). Keep your receipt and report this "
                  "to the election observers.")


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
#: place.
RECEIPT_KINDS = ("included", "forked", "forged", "missing")


async def check_receipt(path: Path, board_url: str | None = None) -> ReceiptCheck:
    """Is the ballot of this receipt in the board's current record, with a consistent history?"""
    record = parse_canonical_json(path.read_bytes())
    if (
        not isinstance(record, dict)
        or record.get("format") != "tohyo-receipt/1"
        or not {"board", "board_key", "receipt"} <= record.keys()
    ):
        raise DecodeError("not a tohyo receipt file")
    receipt = Receipt.from_json(record["receipt"])
    url = board_url or record["board"]
    async with BoardClient(url, record["board_key"]) as client:
        try:
            verify_receipt(receipt, await client.board_key())
        except VerificationError as exc:
            return ReceiptCheck(False, False, "This receipt was not issued by this board for "
                                f"this ballot ({exc.check}); it proves nothing.", kind="forged")
        election = receipt.election
        try:
            current = await client.tree_head(election)
            if current.tree_size < receipt.tree_head.tree_size:
                raise InconsistentBoardError("board.rollback", "the board's record is shorter "
                                             "than at your receipt", receipt.tree_head, current)
            await client.accept_head(receipt.tree_head, election)
        except InconsistentBoardError as exc:
            return ReceiptCheck(False, True, FORKED_MESSAGE, exc.evidence(), kind="forked")
        proof = await client.inclusion_proof(election, receipt.index, current.tree_size)
        try:
            verify_inclusion(receipt.entry_hash, receipt.index, current.tree_size, proof,
                             current.root_hash)
        except VerificationError:
            return ReceiptCheck(False, False, "Your ballot is NOT in the board's record at the "
                                "place your receipt gives. Keep your receipt and report this.",
                                kind="missing")
    return ReceiptCheck(True, False, f"Your ballot is in the record: entry {receipt.index} of "
                        f"{current.tree_size}, and the board's history agrees with your receipt.")
