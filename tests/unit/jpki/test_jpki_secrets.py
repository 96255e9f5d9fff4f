"""PINs, passwords, codes and personal data never reach logs or error messages."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jpki_unit_support import ELECTION_DAY, PASSWORD, TARO, VOTING_END, VOTING_START, VOTING_TIME

from jpki.apdu import ApduError
from jpki.card import CertKind, JpkiCard, PinBlockedError, WrongPinError
from jpki.cli import read_secret
from jpki.pins import PinFormatError, PinKind
from jpki.registrar import (
    BallotAuthentication,
    EligibilityRules,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
    ballot_message,
)
from jpki.transport import InProcessTransport
from jpki.virtual_card import IssuedCard
from jpki.voting_codes import hash_voting_code
from jpki.vpcd import handle_message

WRONG = "GUESS77X"
SECRETS = (PASSWORD, WRONG, "4321", "9876")


def texts(caplog: pytest.LogCaptureFixture, *errors: BaseException) -> str:
    parts = [r.getMessage() for r in caplog.records]
    parts += [repr(r.args) for r in caplog.records]
    parts += [str(e) + repr(e) for e in errors]
    return "\n".join(parts)


def assert_clean(blob: str) -> None:
    for secret in SECRETS:
        assert secret not in blob
        assert secret.encode().hex() not in blob.lower()


def test_card_flow_never_logs_or_shows_pins(
    taro_card: IssuedCard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    card = JpkiCard(InProcessTransport(taro_card.card))
    card.select_ap()
    for pin_kind, wrong in ((PinKind.SIGN, WRONG), (PinKind.AUTH, "9876")):
        with pytest.raises(WrongPinError) as info:
            card.verify_pin(pin_kind, wrong)
        errors.append(info.value)
    for bad in ("ab", "GUESS77X!", "12345678901234567"):
        with pytest.raises(PinFormatError) as fmt:
            card.verify_pin(PinKind.SIGN, bad)
        errors.append(fmt.value)
        assert bad not in str(fmt.value)
    card.verify_pin(PinKind.SIGN, PASSWORD)
    card.sign(PinKind.SIGN, b"x")
    for _ in range(2):
        with pytest.raises((WrongPinError, PinBlockedError)) as again:
            card.verify_pin(PinKind.AUTH, "9876")
        errors.append(again.value)
    with pytest.raises(PinBlockedError) as blocked:
        card.verify_pin(PinKind.AUTH, "4321")
    errors.append(blocked.value)
    assert_clean(texts(caplog, *errors))
    # the card's own command log holds command names only
    assert_clean(" ".join(taro_card.card.log))
    assert "VERIFY" in taro_card.card.log


def test_apdu_error_from_verify_holds_only_the_status_word() -> None:
    err = ApduError(0x63C2, "verify sign PIN")
    assert (
        str(err)
        == "verify sign PIN: card answered 63C2 (verification failed or status, 2 tries left)"
    )


def test_vpcd_adapter_does_not_log_apdus(
    taro_card: IssuedCard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    card = taro_card.card
    handle_message(card, b"\x01")
    handle_message(card, bytes.fromhex("00A4040C0AD392F000260100000001"))
    handle_message(card, bytes.fromhex("00A4020C02001B"))
    handle_message(card, bytes.fromhex("00200080") + bytes([len(PASSWORD)]) + PASSWORD.encode())
    assert_clean(texts(caplog))


def test_registrar_logs_reasons_only(
    taro_card: IssuedCard, anchors_for, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = "ABCD-EFGH-JKLM-NPQR"
    fp = hashlib.sha256(b"e").digest()
    config = RegistrarConfig(
        election_fingerprint=fp,
        trust=anchors_for(),
        eligibility=EligibilityRules(
            ELECTION_DAY, 18, ("茨城県つくば市",), voting_start=VOTING_START, voting_end=VOTING_END
        ),
        voting_codes=VotingCodeConfig(VotingCodeMode.SHARED, frozenset({hash_voting_code(code)})),
        pseudonym_key=b"\x01" * 32,
        attestation_key=Ed25519PrivateKey.generate(),
    )

    class Sink:
        def append_many(self, records: object) -> None:
            pass

    registrar = Registrar(config, Sink())
    card = JpkiCard(InProcessTransport(taro_card.card))
    card.select_ap()
    card.verify_pin(PinKind.SIGN, PASSWORD)
    cert = card.read_certificate(CertKind.SIGN)
    bh = hashlib.sha256(b"b").digest()
    sig = card.sign(PinKind.SIGN, ballot_message(fp, bh))
    request = BallotAuthentication(fp, bh, cert, sig, code)
    ok = registrar.register(request, now=VOTING_TIME)
    bad = registrar.register(
        dataclasses.replace(request, voting_code="ZZZZ-ZZZZ-ZZZZ-ZZZZ"), now=VOTING_TIME
    )
    blob = texts(caplog) + repr(request) + repr(ok) + repr(bad) + repr(config)
    for needle in (
        code,
        "ZZZZ-ZZZZ",
        TARO.name,
        "投票",
        TARO.address,
        "19900615",
        cert.hex()[:60],
        sig.hex()[:60],
    ):
        assert needle not in blob
    assert "ballot accepted" in blob and "voting-code-unknown" in blob


def test_read_secret_from_env_and_fd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOHYO_TEST_PW", PASSWORD)
    assert read_secret(env="TOHYO_TEST_PW", fd=None, prompt="x") == PASSWORD
    r, w = os.pipe()
    os.write(w, b"FROMFD123\n")
    os.close(w)
    try:
        assert read_secret(env="TOHYO_TEST_PW", fd=r, prompt="x") == "FROMFD123"
    finally:
        os.close(r)
