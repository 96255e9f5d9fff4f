"""The voter-facing ballot endpoint: virtual My Number Cards, the registrar, the board.

Real HTTP on 127.0.0.1, a SQLite board with the election policy, the registrar with the test
CA as trust anchor, an encrypted evidence store, one-time voting codes; every refusal is a 4xx
with a reason code, and a refused ballot leaves nothing behind: no entry, no evidence, no
bound code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Board
from bulletin_board.client import BoardClient
from bulletin_board.entry import decode_envelope
from bulletin_board.receipt import Receipt, verify_receipt
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.entries import Ballot
from election.intake import MAX_REQUEST_BYTES, BallotIntake, RegistrarSettings
from election.policy import ElectionPolicy, ceremony_config, joint_key_body
from jpki.card import CertKind, JpkiCard
from jpki.certs import BasicFacts, CertPurpose, Sex, TrustAnchors
from jpki.evidence import EvidenceStore
from jpki.pins import PinKind
from jpki.registrar import ballot_message
from jpki.testca import TestCa
from jpki.transport import InProcessTransport
from jpki.virtual_card import issue_virtual_card
from jpki.voting_codes import generate_voting_codes
from mixnet import elgamal
from mixnet.encoding import canonical_json
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election, key_ceremony_on_board
from trustees.dkg import DkgTrustee

PASSWORD = "TOHYO2026"
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


async def open_voting(client: BoardClient, el: Election, rng: DeterministicRandom) -> Any:
    """Post the manifest, run the key ceremony through the board, open voting; return pk."""
    await client.post(el.admin_entry("manifest", {"manifest": el.manifest.to_json()}))
    await client.post(el.admin_entry("phase", {"phase": "key_ceremony"}))
    config = ceremony_config(el.manifest)
    machines = [DkgTrustee(config, i + 1, k, rng) for i, k in enumerate(el.trustee_keys)]
    outcome = await key_ceremony_on_board(client, el, machines)
    await client.post(el.admin_entry("joint_key", joint_key_body(outcome)))
    await client.post(el.admin_entry("phase", {"phase": "voting"}))
    return outcome.pk


class Voter:
    def __init__(self, ca: TestCa, name: str, birth: dt.date, address: str) -> None:
        facts = BasicFacts(name, birth, Sex.FEMALE, address)
        issued = issue_virtual_card(
            ca,
            facts,
            sign_password=PASSWORD,
            not_before=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        )
        self.card = JpkiCard(InProcessTransport(issued.card))

    def request(
        self, el: Election, pk: Any, choice: int, code: str, rng: DeterministicRandom
    ) -> dict[str, Any]:
        row, rs = elgamal.encrypt_row(pk, [choice + 1], rng)
        ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
        return self.sign(el, ballot, code)

    def sign(self, el: Election, ballot: Ballot, code: str) -> dict[str, Any]:
        """The request for `ballot`, signed with this voter's card."""
        self.card.select_ap()
        self.card.verify_pin(PinKind.SIGN, PASSWORD)
        certificate = self.card.read_certificate(CertKind.SIGN)
        signature = self.card.sign(
            PinKind.SIGN, ballot_message(el.fingerprint, ballot.hash(el.fingerprint))
        )
        return {
            "ballot": ballot.to_json(),
            "jpki": {"certificate": certificate.hex(), "signature": signature.hex()},
            "voting_code": code,
        }


async def post(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body)
    async with session.post(url, data=data, headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("revote", ["last_counts", "first_counts"])
def test_ballots_through_the_registrar(tmp_path: Path, revote: str) -> None:
    asyncio.run(_intake(tmp_path, revote))


async def _intake(tmp_path: Path, revote: str) -> None:
    rng = DeterministicRandom(b"intake")
    el = Election(rng, election_id="intake-2026")
    el.manifest = dataclasses.replace(el.manifest, revote=revote)
    el.fingerprint = el.manifest.fingerprint()
    ca = TestCa.create()
    _, hashes = generate_voting_codes(1)  # one real code nobody in this test holds
    codes_csv, more = generate_voting_codes(4)
    codes = [line.split(",")[1] for line in codes_csv.splitlines()[1:]]
    settings = RegistrarSettings(
        attestation_key=el.registrar,
        pseudonym_key=secrets.token_bytes(32),
        trust=TrustAnchors(
            ca.certificates,
            crls=(
                ca.crl(
                    CertPurpose.SIGN,
                    this_update=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                    next_update=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
                ),
            ),
        ),
        evidence_dir=tmp_path / "evidence",
        evidence_passphrase="evidence passphrase for tests",
        code_hashes={el.id: frozenset(hashes) | frozenset(more)},
        evidence_scrypt_n=2**10,
        elections=frozenset({el.fingerprint}),
    )
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )
    intake = BallotIntake(board, settings, clock=lambda: NOW)
    server = BoardServer(board, extra_routes=intake.install)
    await server.start()
    url = f"{server.url}/v1/elections/{el.id}/ballots"
    try:
        async with BoardClient(server.url) as client, aiohttp.ClientSession() as session:
            alice = Voter(ca, "投票 花子", dt.date(1980, 4, 1), "茨城県つくば市研究学園1番地1")
            young = Voter(ca, "投票 若葉", dt.date(2010, 12, 7), "茨城県つくば市吾妻二丁目2番地")
            away = Voter(ca, "投票 遠子", dt.date(1975, 1, 1), "茨城県土浦市つくば町3番地")
            bob = Voter(ca, "投票 次郎", dt.date(1990, 5, 5), "茨城県つくば市竹園三丁目4番地")

            # before voting opens the endpoint refuses
            early = {
                "ballot": {},
                "jpki": {"certificate": "00", "signature": "00"},
                "voting_code": "",
            }
            status, doc = await post(session, url, early)
            assert status == 404 and doc["error"] == "unknown_election"
            pk = await open_voting(client, el, rng)

            status, doc = await post(session, url, alice.request(el, pk, 0, codes[0], rng))
            assert status == 200, doc
            receipt = Receipt.from_json(doc["receipt"])
            verify_receipt(receipt, el.board.public_key())
            assert doc["replaced_earlier_ballot"] == 0
            # alice re-votes with her own code: accepted, and said whether it replaced her
            # first ballot (only where the last ballot counts)
            status, doc = await post(session, url, alice.request(el, pk, 2, codes[0], rng))
            replaced = int(revote == "last_counts")
            assert status == 200 and doc["replaced_earlier_ballot"] == replaced

            size = board.size(el.id)
            store = EvidenceStore(
                tmp_path / "evidence" / f"{el.id}.evidence",
                settings.evidence_passphrase,
                scrypt_n=2**10,
            )
            kept = len(store.read_all())
            assert kept == 2

            async def refused(
                body: Any, status: int, reason: str | None, error: str = "registrar_refused"
            ) -> None:
                got, doc = await post(session, url, body)
                assert (got, doc["error"]) == (status, error), doc
                if reason is not None:
                    assert doc["reason"] == reason and doc["detail"]
                assert board.size(el.id) == size
                assert (
                    len(
                        EvidenceStore(
                            store.path, settings.evidence_passphrase, scrypt_n=2**10
                        ).read_all()
                    )
                    == kept
                )

            # too young on election day (16th birthday the day after), elsewhere, bad codes
            await refused(young.request(el, pk, 1, codes[1], rng), 403, "not-eligible-age")
            await refused(away.request(el, pk, 1, codes[1], rng), 403, "not-eligible-residence")
            await refused(
                bob.request(el, pk, 1, "AAAA-AAAA-AAAA-AAAA", rng), 403, "voting-code-unknown"
            )
            await refused(bob.request(el, pk, 1, codes[0], rng), 409, "voting-code-used")
            # the card signed another ballot than the one sent
            req = bob.request(el, pk, 1, codes[1], rng)
            other = bob.request(el, pk, 0, codes[1], rng)
            req["jpki"] = other["jpki"]
            await refused(req, 403, "signature-mismatch")
            # alice's ballot copied from the board and signed with bob's card: refused as a
            # copy (a re-randomised or re-keyed copy fails the proof instead: test_election)
            last = decode_envelope((await client.entries(el.id, size - 1, 1))[0])
            stolen = Ballot.from_json(pk.group, last.body["ballot"], 1)
            await refused(bob.sign(el, stolen, codes[1]), 409, None, "duplicate_ciphertext")
            # malformed requests
            async with session.post(
                url,
                data=json.dumps(bob.request(el, pk, 1, codes[1], rng)),
                headers={"Content-Type": "text/plain"},
            ) as resp:
                assert (resp.status, (await resp.json())["error"]) == (
                    415,
                    "unsupported_media_type",
                )
            assert board.size(el.id) == size
            await refused({"ballot": 1}, 422, None, "bad_body")
            await refused(b"{not json", 400, None, "malformed")
            await refused(b" " * (MAX_REQUEST_BYTES + 1), 413, None, "too_large")
            jpki = {"certificate": "00", "signature": "00"}
            for body in (
                {"ballot": {}, "jpki": "00", "voting_code": ""},
                {"ballot": {}, "jpki": jpki, "voting_code": "A" * 65},
                {"ballot": {}, "jpki": {**jpki, "certificate": "zz"}, "voting_code": ""},
                {"ballot": {}, "jpki": {**jpki, "signature": ""}, "voting_code": ""},
            ):
                await refused(body, 422, None, "bad_body")
            bad = bob.request(el, pk, 1, codes[1], rng)
            bad["ballot"]["proof"]["s"][0] = "00" * len(bad["ballot"]["proof"]["s"][0][::2])
            await refused(bad, 422, None, "bad_proof")

            # bob's one-time code is still free after all those refusals
            status, doc = await post(session, url, bob.request(el, pk, 1, codes[1], rng))
            assert status == 200, doc
            assert board.describe(el.id)["policy"]["superseded"] == 1
            assert board.describe(el.id)["policy"]["voters"] == 2
            # and the evidence kept holds no certificate in the clear
            raw = (tmp_path / "evidence" / f"{el.id}.evidence").read_bytes()
            assert bob.card.read_certificate(CertKind.SIGN)[:64] not in raw
            assert canonical_json(doc["receipt"])
    finally:
        await server.stop()


@pytest.mark.parametrize("field", ["certificate", "signature"])
def test_jpki_fields_must_be_hex(field: str) -> None:
    from bulletin_board.policy import Refusal
    from election.intake import _hex

    with pytest.raises(Refusal):
        _hex("zz", field, 10)
    with pytest.raises(Refusal):
        _hex("00" * 11, field, 10)
    assert _hex("0a0b", field, 10) == b"\x0a\x0b"


def _write_settings(tmp_path: Path, el: Election, ca: TestCa, hashes: frozenset[str]) -> Path:
    import os

    from cryptography.hazmat.primitives import serialization

    passphrase = os.environ["TOHYO_KEY_PASSPHRASE"].encode()
    for name, key in (("registrar.pem", el.registrar), ("board.pem", el.board)):
        (tmp_path / name).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase),
            )
        )
    (tmp_path / "sign_ca.pem").write_bytes(
        ca.sign.certificate.public_bytes(serialization.Encoding.PEM)
    )
    crl = ca.crl(
        CertPurpose.SIGN,
        this_update=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        next_update=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
    )
    (tmp_path / "sign.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    (tmp_path / "hashes.json").write_text(json.dumps({"v": 1, "hashes": sorted(hashes)}))
    settings = tmp_path / "registrar.toml"
    settings.write_text(
        'key = "registrar.pem"\nanchors = ["sign_ca.pem"]\n'
        'crls = ["sign.crl"]\nevidence_dir = "evidence"\n'
        f'elections = ["{el.fingerprint.hex()}"]\n'
        f'[voting_codes]\n"{el.id}" = "hashes.json"\n'
    )
    return settings


@pytest.mark.parametrize("processes", [1, 2])
def test_board_serve_with_a_registrar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    """`tohyo board serve --registrar SETTINGS` as a separate process takes a real vote, with
    its checks on a thread (1) or in checking processes (2); restarted, it still knows which
    voter holds a one-time code."""
    from bulletin_board.testing import BoardProcess

    rng = DeterministicRandom(b"intake cli")
    el = Election(rng, election_id="intake-cli")
    ca = TestCa.create()
    csv_text, hashes = generate_voting_codes(2)
    codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
    settings = _write_settings(tmp_path, el, ca, frozenset(hashes))
    board_key = tmp_path / "board.pem"
    # without the evidence passphrase the board refuses to start, saying why
    monkeypatch.delenv("TOHYO_EVIDENCE_PASSPHRASE", raising=False)
    proc = BoardProcess(
        str(tmp_path / "b.sqlite"),
        board_key,
        extra=(
            "--registrar",
            str(settings),
            "--allow-test-groups",
            "--open-elections",
            "--processes",
            "1",
        ),
    )
    with pytest.raises(Exception):  # noqa: B017 (the process exits before listening)
        proc.start(timeout=30)
    monkeypatch.setenv("TOHYO_EVIDENCE_PASSPHRASE", "evidence passphrase")

    def board() -> BoardProcess:
        return BoardProcess(
            str(tmp_path / "b.sqlite"),
            board_key,
            extra=(
                "--registrar",
                str(settings),
                "--allow-test-groups",
                "--open-elections",
                "--processes",
                str(processes),
            ),
        )

    saburo = Voter(ca, "投票 三郎", dt.date(1960, 2, 2), "茨城県つくば市天王台1番地")
    shiro = Voter(ca, "投票 四郎", dt.date(1961, 3, 3), "茨城県つくば市天王台2番地")
    proc = board()
    url = proc.start()
    try:

        async def vote() -> Any:
            async with BoardClient(url) as client, aiohttp.ClientSession() as session:
                pk = await open_voting(client, el, rng)
                ballots = f"{url}/v1/elections/{el.id}/ballots"
                status, doc = await post(session, ballots, saburo.request(el, pk, 1, codes[0], rng))
                assert status == 200, doc
                status, doc = await post(session, ballots, saburo.request(el, pk, 1, "WRONG", rng))
                assert (status, doc["reason"]) == (403, "voting-code-unknown")
                return pk

        pk = asyncio.run(vote())
    finally:
        proc.stop()
    assert (tmp_path / "evidence" / f"{el.id}.evidence").stat().st_size > 0

    proc = board()  # restarted on the same database and evidence
    url = proc.start()
    try:

        async def after_restart() -> None:
            async with aiohttp.ClientSession() as session:
                ballots = f"{url}/v1/elections/{el.id}/ballots"
                status, doc = await post(session, ballots, shiro.request(el, pk, 0, codes[0], rng))
                assert (status, doc["reason"]) == (409, "voting-code-used"), doc
                status, doc = await post(session, ballots, saburo.request(el, pk, 0, codes[0], rng))
                assert (status, doc["replaced_earlier_ballot"]) == (200, 1), doc

        asyncio.run(after_restart())
    finally:
        proc.stop()


def test_openapi_describes_the_ballot_endpoint_when_served(tmp_path: Path) -> None:
    async def run() -> None:
        el = Election(DeterministicRandom(b"openapi"), election_id="openapi-e")
        board = Board(
            SqliteStorage(tmp_path / "b.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
        )
        settings = RegistrarSettings(
            el.registrar,
            secrets.token_bytes(32),
            TrustAnchors(TestCa.create().certificates),
            tmp_path / "ev",
            "passphrase",
            elections=frozenset({el.fingerprint}),
        )
        for extra, present in ((None, False), (BallotIntake(board, settings).install, True)):
            server = BoardServer(board, extra_routes=extra)
            await server.start()
            try:
                async with aiohttp.ClientSession() as s, s.get(f"{server.url}/openapi.json") as r:
                    doc = await r.json()
                assert ("/v1/elections/{election}/ballots" in doc["paths"]) is present
                assert ("/v1/elections/{election}/voting-code" in doc["paths"]) is present
            finally:
                await server.stop()

    asyncio.run(run())


def test_pseudonym_key_is_derived_not_stored() -> None:
    from election.intake import derive_pseudonym_key

    a, b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    assert derive_pseudonym_key(a) == derive_pseudonym_key(a)
    assert derive_pseudonym_key(a) != derive_pseudonym_key(b)
    assert len(derive_pseudonym_key(a)) == 32


def test_registrar_settings_errors_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from election.intake import load_registrar_settings

    el = Election(DeterministicRandom(b"settings"), election_id="settings-e")
    ca = TestCa.create()
    path = _write_settings(tmp_path, el, ca, frozenset())
    monkeypatch.setenv("TOHYO_EVIDENCE_PASSPHRASE", "p")
    settings = load_registrar_settings(path)
    assert settings.evidence_dir == tmp_path / "evidence"
    assert settings.code_hashes == {el.id: frozenset()}
    assert settings.elections == frozenset({el.fingerprint}) and settings.authorises(el.fingerprint)
    text = path.read_text()
    for broken, message in (
        (text.replace('key = "registrar.pem"\n', ""), "missing setting 'key'"),
        (
            text.replace(f'elections = ["{el.fingerprint.hex()}"]\n', ""),
            "missing setting 'elections'",
        ),
        (text.replace(el.fingerprint.hex(), el.fingerprint.hex()[:-2]), "not a fingerprint"),
        (text.replace("sign_ca.pem", "nowhere.pem"), "nowhere.pem"),
        ("key = [", "registrar.toml"),
    ):
        path.write_text(broken)
        with pytest.raises(ValueError, match=message):
            load_registrar_settings(path)
    path.write_text(text)
    monkeypatch.setenv("TOHYO_KEY_PASSPHRASE", "a wrong passphrase")
    with pytest.raises(Exception, match="wrong passphrase") as info:
        load_registrar_settings(path)
    assert "a wrong passphrase" not in str(info.value)


def test_a_board_whose_registrar_the_election_does_not_name_refuses_its_ballots(
    tmp_path: Path,
) -> None:
    rng = DeterministicRandom(b"other registrar")
    el = Election(rng, election_id="other-registrar")
    ca = TestCa.create()
    settings = RegistrarSettings(
        Ed25519PrivateKey.generate(),
        secrets.token_bytes(32),
        TrustAnchors(ca.certificates),
        tmp_path / "ev",
        "passphrase",
    )
    board = Board(
        SqliteStorage(tmp_path / "b.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )
    intake = BallotIntake(board, settings, clock=lambda: NOW)

    async def run() -> None:
        server = BoardServer(board, extra_routes=intake.install)
        await server.start()
        try:
            async with BoardClient(server.url) as client, aiohttp.ClientSession() as session:
                pk = await open_voting(client, el, rng)
                size = board.size(el.id)
                voter = Voter(ca, "投票 五郎", dt.date(1970, 5, 5), "茨城県つくば市天王台5番地")
                status, doc = await post(
                    session,
                    f"{server.url}/v1/elections/{el.id}/ballots",
                    voter.request(el, pk, 0, "", rng),
                )
                assert (status, doc["error"]) == (503, "not_this_registrar"), doc
                assert board.size(el.id) == size
                assert not (tmp_path / "ev").exists()  # no evidence store was even opened
        finally:
            await server.stop()

    asyncio.run(run())
