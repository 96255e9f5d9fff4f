"""SIGKILL the board service and its registrar under load: no ballot without evidence, no
freed voting code, every acknowledged ballot kept (issue 16, "Evidence before
acknowledgement").

A real `tohyo board serve --registrar SETTINGS` on 127.0.0.1 (SQLite file or PostgreSQL
database), voters with one-time codes posting from several clients at once; the process is
killed with SIGKILL while ballots are in flight, twice, and restarted on the same database and
evidence file. Then:

- every acknowledged ballot is on the board at its receipt's index;
- reconciliation (`jpki.evidence.reconcile`) finds evidence for every ballot on the board;
- every code whose ballot is on the board, or whose evidence was kept, is refused to another
  voter (409 `voting-code-used`), and each voter who got no answer can still vote with her own
  code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulletin_board.client import BoardClient
from bulletin_board.entry import decode_envelope
from bulletin_board.log import hash_leaf
from bulletin_board.receipt import Receipt
from bulletin_board.testing import BoardProcess
from election.entries import Ballot
from jpki.card import CertKind, JpkiCard
from jpki.certs import BasicFacts, Sex
from jpki.evidence import EvidenceStore, reconcile
from jpki.pins import PinKind
from jpki.registrar import ballot_message
from jpki.testca import TestCa, pooled_rsa_key
from jpki.transport import InProcessTransport
from jpki.virtual_card import issue_virtual_card
from jpki.voting_codes import generate_voting_codes
from mixnet import elgamal
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import PASSWORD, _write_settings, open_voting

VOTERS = 160
CLIENTS = 8
KILL_AFTER = (25, 60)  # acknowledged ballots (in all) before each SIGKILL
EVIDENCE_PASSPHRASE = "crash test evidence passphrase"


class Card:
    """A voter's virtual card (pooled RSA keys: certificates differ, key generation is slow)."""

    def __init__(self, ca: TestCa, n: int) -> None:
        facts = BasicFacts(
            f"投票 {n}号",
            dt.date(1950, 1, 1) + dt.timedelta(days=97 * n),
            Sex.FEMALE,
            f"茨城県つくば市天王台{n}番地",
        )
        issued = issue_virtual_card(
            ca,
            facts,
            sign_password=PASSWORD,
            not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=365),
            sign_key=pooled_rsa_key("crash-sign"),
            auth_key=pooled_rsa_key("crash-auth"),
        )
        self.card = JpkiCard(InProcessTransport(issued.card))
        self.card.select_ap()
        self.card.verify_pin(PinKind.SIGN, PASSWORD)
        self.certificate = self.card.read_certificate(CertKind.SIGN)

    def request(
        self, el: Election, pk: Any, code: str, rng: DeterministicRandom
    ) -> tuple[bytes, bytes]:
        """(request body, ballot hash) of a fresh ballot for the first option."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        row, rs = elgamal.encrypt_row(pk, [1], rng)
        ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
        ballot_hash = ballot.hash(el.fingerprint)
        self.card.verify_pin(PinKind.SIGN, PASSWORD)
        signature = self.card.sign(PinKind.SIGN, ballot_message(el.fingerprint, ballot_hash))
        body = {
            "ballot": ballot.to_json(),
            "voting_code": code,
            "jpki": {"certificate": self.certificate.hex(), "signature": signature.hex()},
        }
        return json.dumps(body).encode(), ballot_hash


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, Any]:
    async with session.post(
        url,
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=30),
    ) as resp:
        return resp.status, await resp.json()


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])  # checks on a thread / in checking processes
def test_sigkill_under_load_keeps_evidence_before_acknowledgement(
    storage_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    monkeypatch.setenv("TOHYO_EVIDENCE_PASSPHRASE", EVIDENCE_PASSPHRASE)
    rng = DeterministicRandom(b"registrar crash")
    el = Election(rng, election_id="crash-registrar")
    ca = TestCa.create()
    csv_text, hashes = generate_voting_codes(VOTERS)
    codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
    settings = _write_settings(tmp_path, el, ca, frozenset(hashes))
    board = BoardProcess(
        storage_url,
        tmp_path / "board.pem",
        log_path=str(tmp_path / "b.log"),
        extra=(
            "--registrar",
            str(settings),
            "--allow-test-groups",
            "--open-elections",
            "--processes",
            str(processes),
        ),
    )
    cards = [Card(ca, n) for n in range(1, VOTERS + 1)]
    thief = Card(ca, VOTERS + 1)
    acknowledged: dict[int, Receipt] = {}  # voter -> receipt
    sent: set[int] = set()
    hashes_of: dict[bytes, int] = {}  # ballot hash -> voter

    url = board.start()

    async def open_election() -> Any:
        async with BoardClient(url) as client:
            return await open_voting(client, el, rng)

    pk = asyncio.run(open_election())
    requests = []
    for voter, card in enumerate(cards):
        body, ballot_hash = card.request(el, pk, codes[voter], rng)
        requests.append(body)
        hashes_of[ballot_hash] = voter

    async def load_until_killed(url: str, queue: list[int], kill_at: int) -> None:
        async def client() -> None:
            async with aiohttp.ClientSession() as session:
                while queue:
                    voter = queue.pop(0)
                    sent.add(voter)
                    try:
                        status, doc = await _post(
                            session, f"{url}/v1/elections/{el.id}/ballots", requests[voter]
                        )
                    except (aiohttp.ClientError, TimeoutError, OSError):
                        return
                    assert status == 200, doc
                    acknowledged[voter] = Receipt.from_json(doc["receipt"])

        async def killer() -> None:
            while len(acknowledged) < kill_at and queue:
                await asyncio.sleep(0.002)
            board.kill()  # SIGKILL while CLIENTS requests are in flight

        async with asyncio.timeout(180):  # the clients end on their first failed request
            await asyncio.gather(killer(), *(client() for _ in range(CLIENTS)))

    queue = list(range(VOTERS))
    for kill_at in KILL_AFTER:
        asyncio.run(load_until_killed(url, queue, kill_at))
        assert len(acknowledged) >= kill_at, "the load did not reach the kill point"
        url = board.start()
    unanswered = sorted(sent - set(acknowledged))

    async def after_restart() -> None:
        ballots_url = f"{url}/v1/elections/{el.id}/ballots"
        async with BoardClient(url) as client, aiohttp.ClientSession() as session:
            # a thief tries the first code (this opens the registrar: it reconciles and sets
            # aside a torn record, if the kill left one)
            entries, _ = await client.all_entries(el.id)
            on_board = {}
            for index, data in enumerate(entries):
                envelope = decode_envelope(data)
                if envelope.type == "ballot":
                    att = envelope.body["attestation"]
                    on_board[hashes_of[bytes.fromhex(att["ballot_hash"])]] = (
                        index,
                        bytes.fromhex(att["pseudonym"]),
                        bytes.fromhex(att["ballot_hash"]),
                    )
            for voter, receipt in acknowledged.items():
                assert hash_leaf(entries[receipt.index]) == receipt.entry_hash
                assert on_board[voter][0] == receipt.index
            status, doc = await _post(
                session, ballots_url, thief.request(el, pk, codes[min(on_board)], rng)[0]
            )
            assert (status, doc["reason"]) == (409, "voting-code-used"), doc

            store = EvidenceStore(tmp_path / "evidence" / f"{el.id}.evidence", EVIDENCE_PASSPHRASE)
            records = store.read_all()
            result = reconcile(on_board.values(), records)
            assert result.ok, f"ballots without evidence at {result.without_evidence}"
            kept = {hashes_of[r.ballot_hash] for r in records}
            assert set(on_board) <= kept
            # no code of a ballot on the board, or kept in the evidence, is free for another
            for voter in sorted(kept):
                status, doc = await _post(
                    session, ballots_url, thief.request(el, pk, codes[voter], rng)[0]
                )
                assert (status, doc.get("reason")) == (409, "voting-code-used"), (voter, doc)
            # and each voter who got no answer votes again with her own code
            for voter in unanswered:
                body, _ = cards[voter].request(el, pk, codes[voter], rng)
                status, doc = await _post(session, ballots_url, body)
                assert status == 200, (voter, doc)
                assert doc["replaced_earlier_ballot"] == int(voter in on_board)

    try:
        asyncio.run(after_restart())
    finally:
        board.stop()
    assert unanswered, "no request was in flight at a kill"
