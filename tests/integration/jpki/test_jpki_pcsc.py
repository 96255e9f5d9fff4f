"""Card flows through the real stack: pyscard -> pcscd -> vpcd -> virtual My Number Card."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jpki_pcsc_support import AUTH_PIN, PASSWORD, TARO, UTC, reader_name, wait_for

from jpki import apdu
from jpki.apdu import ApduError, StatusWord
from jpki.card import CardType, CertKind, JpkiCard, PinBlockedError, WrongPinError
from jpki.certs import CertPurpose, TrustAnchors, basic_facts
from jpki.pcsc import PcscTransport, card_present, list_readers
from jpki.pins import PinKind
from jpki.reasons import Reason
from jpki.registrar import (
    Accepted,
    BallotAuthentication,
    EligibilityRules,
    Refused,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
    ballot_message,
    verify_attestation,
)
from jpki.testca import TestCa
from jpki.transport import TransportError
from jpki.virtual_card import JPKI_ATR, IssuedCard

pytestmark = pytest.mark.pcsc

DER = serialization.Encoding.DER


def open_card(reader: str) -> JpkiCard:
    card = JpkiCard(PcscTransport(reader))
    card.select_ap()
    return card


def rsa_verify(cert: x509.Certificate, signature: bytes, message: bytes) -> None:
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_vpcd_readers_are_listed(pcscd: None) -> None:
    names = list_readers()
    assert reader_name(0) in names and reader_name(1) in names


def test_empty_reader_has_no_card(pcscd: None) -> None:
    assert not card_present(reader_name(1))
    with pytest.raises(TransportError):
        PcscTransport(reader_name(1))


def test_atr_and_card_type(insert, issue) -> None:
    reader = insert(issue())
    transport = PcscTransport(reader)
    try:
        assert transport.atr() == JPKI_ATR
        card = JpkiCard(transport)
        card.select_ap()
        assert card.card_type() is CardType.MY_NUMBER_CARD
    finally:
        transport.close()


def test_read_certificates(insert, issue, test_ca: TestCa) -> None:
    issued: IssuedCard = issue()
    card = open_card(insert(issued))
    try:
        assert card.read_certificate(CertKind.AUTH) == issued.auth_cert.public_bytes(DER)
        assert card.read_certificate(CertKind.AUTH_CA) == test_ca.auth.certificate.public_bytes(DER)
        assert card.read_certificate(CertKind.SIGN_CA) == test_ca.sign.certificate.public_bytes(DER)
        with pytest.raises(ApduError) as info:
            card.read_certificate(CertKind.SIGN)
        assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
        card.verify_pin(PinKind.SIGN, PASSWORD)
        der = card.read_certificate(CertKind.SIGN)
        assert der == issued.sign_cert.public_bytes(DER)
        facts = basic_facts(x509.load_der_x509_certificate(der))
        assert (facts.name, facts.birth_date, facts.address) == (
            TARO.name,
            TARO.birth_date,
            TARO.address,
        )
    finally:
        card.transport.close()


def test_count_tries_without_spending_them(insert, issue) -> None:
    card = open_card(insert(issue()))
    try:
        for _ in range(3):
            assert card.pin_status(PinKind.SIGN).tries_left == 5
            assert card.pin_status(PinKind.AUTH).tries_left == 3
        with pytest.raises(WrongPinError) as info:
            card.verify_pin(PinKind.SIGN, "WRONG9")
        assert info.value.tries_left == 4
        assert card.pin_status(PinKind.SIGN).tries_left == 4
        with pytest.raises(WrongPinError) as info:
            card.verify_pin(PinKind.AUTH, "0000")
        assert info.value.tries_left == 2
        card.verify_pin(PinKind.SIGN, PASSWORD)
        assert card.pin_status(PinKind.SIGN).tries_left == 5
    finally:
        card.transport.close()


def test_tries_survive_reconnection(insert, issue) -> None:
    reader = insert(issue())
    card = open_card(reader)
    with pytest.raises(WrongPinError):
        card.verify_pin(PinKind.SIGN, "WRONG9")
    card.transport.close()
    again = open_card(reader)
    try:
        assert again.pin_status(PinKind.SIGN).tries_left == 4
    finally:
        again.transport.close()


def test_lock_the_card_by_wrong_passwords(insert, issue) -> None:
    issued = issue()
    card = open_card(insert(issued, slot=1))
    try:
        for left in (4, 3, 2, 1):
            with pytest.raises(WrongPinError) as info:
                card.verify_pin(PinKind.SIGN, "WRONG9")
            assert info.value.tries_left == left
        with pytest.raises(PinBlockedError):
            card.verify_pin(PinKind.SIGN, "WRONG9")
        with pytest.raises(PinBlockedError) as info:
            card.verify_pin(PinKind.SIGN, PASSWORD)
        assert info.value.sw == StatusWord.AUTHENTICATION_METHOD_BLOCKED
        assert card.pin_status(PinKind.SIGN).blocked
        with pytest.raises(ApduError):
            card.sign(PinKind.SIGN, b"ballot")
        # the auth PIN locks separately after three
        for _ in range(2):
            with pytest.raises(WrongPinError):
                card.verify_pin(PinKind.AUTH, "0000")
        with pytest.raises(PinBlockedError):
            card.verify_pin(PinKind.AUTH, "0000")
        assert card.pin_status(PinKind.AUTH).blocked
    finally:
        card.transport.close()
    assert issued.card.tries_left(PinKind.SIGN) == 0


def test_sign_and_verify(insert, issue) -> None:
    issued = issue()
    card = open_card(insert(issued))
    try:
        with pytest.raises(ApduError) as info:
            card.sign(PinKind.SIGN, b"too early")
        assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
        card.verify_pin(PinKind.SIGN, PASSWORD)
        cert = x509.load_der_x509_certificate(card.read_certificate(CertKind.SIGN))
        for message in (b"ballot one", b"ballot two"):
            rsa_verify(cert, card.sign(PinKind.SIGN, message), message)
        card.verify_pin(PinKind.AUTH, AUTH_PIN)
        auth_cert = x509.load_der_x509_certificate(card.read_certificate(CertKind.AUTH))
        rsa_verify(auth_cert, card.sign(PinKind.AUTH, b"login"), b"login")
        with pytest.raises(Exception):  # noqa: B017
            rsa_verify(cert, card.sign(PinKind.AUTH, b"login"), b"login")
    finally:
        card.transport.close()


def test_card_reset_clears_the_verified_password(insert, issue) -> None:
    transport = PcscTransport(insert(issue()))
    card = JpkiCard(transport)
    try:
        card.select_ap()
        card.verify_pin(PinKind.SIGN, PASSWORD)
        card.sign(PinKind.SIGN, b"ok")
        transport.reset()
        card.select_ap()
        with pytest.raises(ApduError) as info:
            card.sign(PinKind.SIGN, b"after reset")
        assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
        card.verify_pin(PinKind.SIGN, PASSWORD)
        card.select_ap()  # re-selecting the AP also logs out
        with pytest.raises(ApduError):
            card.sign(PinKind.SIGN, b"after re-select")
    finally:
        transport.close()


def test_removing_and_inserting_a_card(issue, pcscd: None) -> None:
    from jpki.vpcd import VpcdConnection, port_for_slot

    reader = reader_name(1)
    connection = VpcdConnection(issue().card, port=port_for_slot(1))
    connection.start(connect_timeout=15)
    wait_for(lambda: card_present(reader), 15, "the card")
    transport = PcscTransport(reader)
    JpkiCard(transport).select_ap()
    connection.stop()  # pull the card out

    def gone() -> bool:
        try:
            JpkiCard(transport).select_ap()
        except TransportError:
            return True
        return False

    wait_for(gone, 15, "pcscd to notice the removal")
    transport.close()
    assert not card_present(reader)
    # pcscd's reader thread polls presence; after a failed transmit it must see the slot empty
    # at least once, or it keeps its old "present" state and never reports the next insertion.
    # A person takes longer than this to put in another card.
    time.sleep(2)
    # a new card in the same reader works without restarting anything
    second = VpcdConnection(issue(label="second").card, port=port_for_slot(1))
    second.start(connect_timeout=15)
    try:
        wait_for(lambda: card_present(reader), 15, "the second card")
        card = open_card(reader)
        assert card.pin_status(PinKind.SIGN).tries_left == 5
        card.transport.close()
    finally:
        second.stop()
        wait_for(lambda: not card_present(reader), 15, "the reader to be empty")


def test_ballot_signed_through_pcsc_is_accepted_by_the_registrar(
    insert, issue, test_ca: TestCa
) -> None:
    now = dt.datetime.now(UTC)
    crls = tuple(
        test_ca.crl(
            p, (), this_update=now - dt.timedelta(days=1), next_update=now + dt.timedelta(days=7)
        )
        for p in CertPurpose
    )
    fingerprint = hashlib.sha256(b"pcsc election").digest()
    config = RegistrarConfig(
        election_fingerprint=fingerprint,
        trust=TrustAnchors(test_ca.certificates, crls),
        eligibility=EligibilityRules(
            now.date(),
            18,
            ("茨城県つくば市",),
            voting_start=now - dt.timedelta(days=1),
            voting_end=now + dt.timedelta(days=1),
        ),
        voting_codes=VotingCodeConfig(VotingCodeMode.NONE),
        pseudonym_key=b"\x05" * 32,
        attestation_key=Ed25519PrivateKey.generate(),
    )

    class Sink:
        def __init__(self) -> None:
            self.items: list[object] = []

        def append_many(self, records: list[object]) -> None:
            self.items.extend(records)

    sink = Sink()
    registrar = Registrar(config, sink)
    card = open_card(insert(issue()))
    bh = hashlib.sha256(b"the whole ballot").digest()
    try:
        card.verify_pin(PinKind.SIGN, PASSWORD)
        cert = card.read_certificate(CertKind.SIGN)
        signature = card.sign(PinKind.SIGN, ballot_message(fingerprint, bh))
    finally:
        card.transport.close()
    result = registrar.register(BallotAuthentication(fingerprint, bh, cert, signature), now=now)
    assert isinstance(result, Accepted)
    verify_attestation(result.attestation, registrar.public_key)
    other = BallotAuthentication(fingerprint, hashlib.sha256(b"x").digest(), cert, signature)
    refused = registrar.register(other, now=now)
    assert isinstance(refused, Refused) and refused.reason is Reason.SIGNATURE_MISMATCH
    assert len(sink.items) == 1


def test_raw_apdus_through_pyscard(insert, issue) -> None:
    transport = PcscTransport(insert(issue()))
    try:
        assert transport.transmit(apdu.select_aid().to_bytes()) == b"\x90\x00"
        assert transport.transmit(bytes.fromhex("00A4020C020099"))[-2:] == b"\x6a\x82"
        transport.transmit(apdu.select_ef(apdu.FID_SIGN_PIN).to_bytes())
        assert transport.transmit(apdu.retry_counter_query().to_bytes()) == b"\x63\xc5"
        assert transport.transmit(bytes.fromhex("00CA000000"))[-2:] == b"\x6d\x00"
    finally:
        transport.close()
