"""Every JPKI APDU exchange, status word and PIN rule against the virtual card in-process."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jpki_unit_support import AUTH_PIN, PASSWORD

from jpki import apdu
from jpki.apdu import ApduError, StatusWord
from jpki.card import CardType, CertKind, JpkiCard, PinBlockedError, WrongPinError
from jpki.pins import PinFormatError, PinKind
from jpki.transport import InProcessTransport, TransportError
from jpki.virtual_card import JPKI_ATR, OTHER_AIDS, IssuedCard, VirtualJpkiCard

DER = serialization.Encoding.DER


class Recorder:
    """A transport that records every command (to check chunking and counts)."""

    def __init__(self, card: VirtualJpkiCard) -> None:
        self.inner = InProcessTransport(card)
        self.commands: list[bytes] = []

    def transmit(self, command: bytes) -> bytes:
        self.commands.append(command)
        return self.inner.transmit(command)

    def atr(self) -> bytes:
        return self.inner.atr()

    def close(self) -> None:
        self.inner.close()


def raw(card: VirtualJpkiCard, hexstr: str) -> tuple[bytes, int]:
    resp = apdu.parse_response(card.process(bytes.fromhex(hexstr)))
    return resp.data, resp.sw


def powered(issued: IssuedCard) -> VirtualJpkiCard:
    issued.card.power_on()
    return issued.card


def rsa_verify(cert: x509.Certificate, signature: bytes, message: bytes) -> None:
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


# --- power, ATR, selection ---


def test_atr_and_power(taro_card: IssuedCard) -> None:
    vc = taro_card.card
    assert vc.atr == JPKI_ATR
    with pytest.raises(RuntimeError):
        vc.process(apdu.select_aid().to_bytes())
    transport = InProcessTransport(vc)
    assert transport.atr() == JPKI_ATR
    transport.close()
    with pytest.raises(TransportError):
        transport.transmit(apdu.select_aid().to_bytes())


def test_select_ap_and_unknown_aid(taro_card: IssuedCard) -> None:
    vc = powered(taro_card)
    assert raw(vc, "00A4040C0AD392F000260100000001") == (b"", StatusWord.OK)
    assert raw(vc, "00A4040C0AD392F000260100000099")[1] == StatusWord.FILE_NOT_FOUND
    assert raw(vc, "00A4040F0AD392F000260100000001")[1] == StatusWord.INCORRECT_P1P2
    assert raw(vc, "00A4080C0AD392F000260100000001")[1] == StatusWord.INCORRECT_P1P2


def test_select_ef_needs_the_ap_and_a_known_fid(taro_card: IssuedCard) -> None:
    vc = powered(taro_card)
    assert raw(vc, "00A4020C02000A")[1] == StatusWord.FILE_NOT_FOUND  # AP not selected
    raw(vc, "00A4040C0AD392F000260100000001")
    assert raw(vc, "00A4020C02000A")[1] == StatusWord.OK
    assert raw(vc, "00A4020C020099")[1] == StatusWord.FILE_NOT_FOUND
    assert raw(vc, "00A4020C0300000A")[1] == StatusWord.WRONG_LENGTH


def test_other_aps_select_but_hold_no_jpki_files(taro_card: IssuedCard) -> None:
    vc = powered(taro_card)
    for aid in OTHER_AIDS:
        assert raw(vc, "00A4040C0A" + aid.hex())[1] == StatusWord.OK
        assert raw(vc, "00A4020C02000A")[1] == StatusWord.FILE_NOT_FOUND


def test_unknown_instruction_and_class(taro_card: IssuedCard) -> None:
    vc = powered(taro_card)
    assert raw(vc, "00CA000000")[1] == StatusWord.INS_NOT_SUPPORTED
    assert raw(vc, "A0A4040C0AD392F000260100000001")[1] == StatusWord.CLA_NOT_SUPPORTED
    assert raw(vc, "0001")[1] == StatusWord.WRONG_LENGTH


# --- reading ---


def test_token_says_my_number_card(card: JpkiCard) -> None:
    assert card.read_token().rstrip(b" ") == b"JPKIAPICCTOKEN2"
    assert card.card_type() is CardType.MY_NUMBER_CARD


def test_read_certificates_without_pin(card: JpkiCard, taro_card: IssuedCard, test_ca) -> None:
    assert card.read_certificate(CertKind.AUTH) == taro_card.auth_cert.public_bytes(DER)
    assert card.read_certificate(CertKind.AUTH_CA) == test_ca.auth.certificate.public_bytes(DER)
    assert card.read_certificate(CertKind.SIGN_CA) == test_ca.sign.certificate.public_bytes(DER)


def test_signing_certificate_needs_the_signing_password(
    card: JpkiCard, taro_card: IssuedCard
) -> None:
    with pytest.raises(ApduError) as info:
        card.read_certificate(CertKind.SIGN)
    assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    card.verify_pin(PinKind.AUTH, AUTH_PIN)  # the auth PIN does not open it
    with pytest.raises(ApduError):
        card.read_certificate(CertKind.SIGN)
    card.verify_pin(PinKind.SIGN, PASSWORD)
    assert card.read_certificate(CertKind.SIGN) == taro_card.sign_cert.public_bytes(DER)


def test_certificates_are_read_in_chunks_of_at_most_256(taro_card: IssuedCard) -> None:
    rec = Recorder(taro_card.card)
    card = JpkiCard(rec)
    card.select_ap()
    der = card.read_certificate(CertKind.AUTH)
    reads = [apdu.parse_command(c) for c in rec.commands if c[1] == apdu.INS_READ_BINARY]
    assert len(reads) == 1 + -(-(len(der) - 4) // 256)
    offsets = [(r.p1 << 8) | r.p2 for r in reads]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    assert all(r.le is not None and r.le <= 256 for r in reads)
    assert sum(r.le or 0 for r in reads) == len(der)


class EmptyReads:
    """A card that answers 9000 to everything and sends only a certificate's first bytes."""

    def __init__(self) -> None:
        self.reads = 0

    def transmit(self, command: bytes) -> bytes:
        if command[1] != apdu.INS_READ_BINARY:
            return b"\x90\x00"
        self.reads += 1
        assert self.reads < 100, "still reading"
        return bytes.fromhex("30820100" if command[2:4] == b"\0\0" else "") + b"\x90\x00"

    def atr(self) -> bytes:
        return JPKI_ATR

    def close(self) -> None:
        pass


def test_a_card_sending_no_data_mid_certificate_is_refused() -> None:
    transport = EmptyReads()
    with pytest.raises(ValueError, match="no data"):
        JpkiCard(transport).read_certificate(CertKind.AUTH)
    assert transport.reads == 2


def test_read_binary_errors(taro_card: IssuedCard) -> None:
    vc = powered(taro_card)
    raw(vc, "00A4040C0AD392F000260100000001")
    assert raw(vc, "00B0000004")[1] == StatusWord.COMMAND_NOT_ALLOWED_NO_EF
    raw(vc, "00A4020C02000A")
    size = len(taro_card.auth_cert.public_bytes(DER))
    assert raw(vc, f"00B0{size:04X}10")[1] == StatusWord.WRONG_OFFSET
    data, sw = raw(vc, f"00B0{size - 3:04X}00")
    assert sw == StatusWord.OK and len(data) == 3
    assert raw(vc, "00B0810004")[1] == StatusWord.INCORRECT_P1P2  # SFI form
    raw(vc, "00A4020C020018")
    assert raw(vc, "00B0000004")[1] == StatusWord.COMMAND_NOT_ALLOWED_NO_EF  # a PIN EF


# --- PINs ---


@pytest.mark.parametrize(("kind", "maximum"), [(PinKind.SIGN, 5), (PinKind.AUTH, 3)])
def test_status_query_spends_no_try(
    card: JpkiCard, taro_card: IssuedCard, kind: PinKind, maximum: int
) -> None:
    for _ in range(maximum + 2):
        assert card.pin_status(kind).tries_left == maximum
    assert taro_card.card.tries_left(kind) == maximum


def test_status_query_raw_is_63cx(taro_card: IssuedCard) -> None:
    vc = powered(taro_card)
    raw(vc, "00A4040C0AD392F000260100000001")
    assert raw(vc, "00200080")[1] == StatusWord.COMMAND_NOT_ALLOWED_NO_EF
    raw(vc, "00A4020C02001B")
    assert raw(vc, "00200080")[1] == 0x63C5
    raw(vc, "00A4020C020018")
    assert raw(vc, "00200080")[1] == 0x63C3
    assert raw(vc, "00200180")[1] == StatusWord.INCORRECT_P1P2


def test_wrong_password_counts_down_and_right_one_resets(
    card: JpkiCard, taro_card: IssuedCard
) -> None:
    for left in (4, 3, 2):
        with pytest.raises(WrongPinError) as info:
            card.verify_pin(PinKind.SIGN, "WRONG1")
        assert info.value.tries_left == left
        assert info.value.sw == 0x63C0 | left
        assert card.pin_status(PinKind.SIGN).tries_left == left
    card.verify_pin(PinKind.SIGN, PASSWORD.lower())  # upper-cased before sending
    assert card.pin_status(PinKind.SIGN).tries_left == 5


def test_password_blocks_after_five_wrong_tries(card: JpkiCard, taro_card: IssuedCard) -> None:
    for _ in range(4):
        with pytest.raises(WrongPinError):
            card.verify_pin(PinKind.SIGN, "WRONG1")
    with pytest.raises(PinBlockedError) as info:
        card.verify_pin(PinKind.SIGN, "WRONG1")
    assert info.value.sw == 0x63C0
    # now even the right password is refused with "authentication method blocked"
    with pytest.raises(PinBlockedError) as info:
        card.verify_pin(PinKind.SIGN, PASSWORD)
    assert info.value.sw == StatusWord.AUTHENTICATION_METHOD_BLOCKED
    status = card.pin_status(PinKind.SIGN)
    assert status.blocked and status.tries_left == 0
    with pytest.raises(ApduError) as err:
        card.read_certificate(CertKind.SIGN)
    assert err.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    # the auth PIN is separate and still works
    card.verify_pin(PinKind.AUTH, AUTH_PIN)


def test_auth_pin_blocks_after_three(card: JpkiCard) -> None:
    for left in (2, 1):
        with pytest.raises(WrongPinError) as info:
            card.verify_pin(PinKind.AUTH, "0000")
        assert info.value.tries_left == left
    with pytest.raises(PinBlockedError):
        card.verify_pin(PinKind.AUTH, "0000")
    with pytest.raises(PinBlockedError):
        card.verify_pin(PinKind.AUTH, AUTH_PIN)
    assert card.pin_status(PinKind.AUTH).blocked


def test_blocked_status_word_is_configurable(issue: Callable[..., IssuedCard]) -> None:
    issued = issue(blocked_sw=0x63C0)
    card = JpkiCard(InProcessTransport(issued.card))
    card.select_ap()
    for _ in range(3):
        with pytest.raises((WrongPinError, PinBlockedError)):
            card.verify_pin(PinKind.AUTH, "0000")
    with pytest.raises(PinBlockedError) as info:
        card.verify_pin(PinKind.AUTH, AUTH_PIN)
    assert info.value.sw == 0x63C0


def test_badly_formed_pin_is_refused_before_the_card(card: JpkiCard, taro_card: IssuedCard) -> None:
    log_before = len(taro_card.card.log)
    with pytest.raises(PinFormatError):
        card.verify_pin(PinKind.SIGN, "abc")
    with pytest.raises(PinFormatError):
        card.verify_pin(PinKind.AUTH, "12345")
    assert taro_card.card.log[log_before:] == []
    assert card.pin_status(PinKind.SIGN).tries_left == 5
    assert card.pin_status(PinKind.AUTH).tries_left == 3


def test_change_reference_data(card: JpkiCard, taro_card: IssuedCard) -> None:
    vc = taro_card.card
    card.select_ef(apdu.FID_AUTH_PIN)
    resp = apdu.parse_response(vc.process(apdu.change_reference_data(b"9999").to_bytes()))
    assert resp.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    card.verify_pin(PinKind.AUTH, AUTH_PIN)
    resp = apdu.parse_response(vc.process(apdu.change_reference_data(b"99a9").to_bytes()))
    assert resp.sw == StatusWord.WRONG_DATA
    resp = apdu.parse_response(vc.process(apdu.change_reference_data(b"9999").to_bytes()))
    assert resp.ok
    with pytest.raises(WrongPinError):
        card.verify_pin(PinKind.AUTH, AUTH_PIN)
    card.verify_pin(PinKind.AUTH, "9999")


# --- security state ---


def _signs(card: JpkiCard) -> bool:
    try:
        card.sign(PinKind.SIGN, b"m")
    except ApduError as exc:
        assert exc.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
        return False
    return True


def test_security_state_cleared_by_reselect_reset_and_other_ap(taro_card: IssuedCard) -> None:
    transport = InProcessTransport(taro_card.card)
    card = JpkiCard(transport)
    card.select_ap()
    assert not _signs(card)
    card.verify_pin(PinKind.SIGN, PASSWORD)
    assert _signs(card)
    card.select_ap()
    assert not _signs(card)
    card.verify_pin(PinKind.SIGN, PASSWORD)
    transport.reset()
    card.select_ap()
    assert not _signs(card)
    card.verify_pin(PinKind.SIGN, PASSWORD)
    taro_card.card.process(apdu.select_aid(OTHER_AIDS[0]).to_bytes())
    card.select_ap()
    assert not _signs(card)
    card.verify_pin(PinKind.SIGN, PASSWORD)
    taro_card.card.power_off()
    taro_card.card.power_on()
    card.select_ap()
    assert not _signs(card)


def test_wrong_try_clears_an_earlier_verification(card: JpkiCard) -> None:
    card.verify_pin(PinKind.SIGN, PASSWORD)
    with pytest.raises(WrongPinError):
        card.verify_pin(PinKind.SIGN, "WRONG1")
    assert not _signs(card)


# --- signing ---


def test_sign_after_password_verifies_with_the_certificate(
    card: JpkiCard, taro_card: IssuedCard
) -> None:
    card.verify_pin(PinKind.SIGN, PASSWORD)
    for message in (b"first ballot", b"second ballot"):  # one VERIFY, several signatures
        signature = card.sign(PinKind.SIGN, message)
        assert len(signature) == 256
        rsa_verify(taro_card.sign_cert, signature, message)
    with pytest.raises(Exception):  # noqa: B017 (any cryptography error)
        rsa_verify(taro_card.sign_cert, signature, b"another message")


def test_auth_key_needs_the_auth_pin(card: JpkiCard, taro_card: IssuedCard) -> None:
    card.verify_pin(PinKind.SIGN, PASSWORD)
    with pytest.raises(ApduError) as info:
        card.sign(PinKind.AUTH, b"challenge")
    assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    card.verify_pin(PinKind.AUTH, AUTH_PIN)
    signature = card.sign(PinKind.AUTH, b"challenge")
    rsa_verify(taro_card.auth_cert, signature, b"challenge")
    with pytest.raises(Exception):  # noqa: B017
        rsa_verify(taro_card.sign_cert, signature, b"challenge")


def test_compute_signature_errors(card: JpkiCard, taro_card: IssuedCard) -> None:
    vc = taro_card.card
    di = apdu.digest_info(b"x")
    card.verify_pin(PinKind.SIGN, PASSWORD)
    # no key EF selected (a PIN EF is current)
    assert apdu.parse_response(vc.process(apdu.compute_signature(di).to_bytes())).sw == (
        StatusWord.COMMAND_NOT_ALLOWED_NO_EF
    )
    card.select_ef(apdu.FID_SIGN_KEY)
    assert (
        raw(vc, "002A0080" + f"{len(di):02X}" + di.hex() + "00")[1] == StatusWord.CLA_NOT_SUPPORTED
    )
    assert raw(vc, "802A9E9A" + f"{len(di):02X}" + di.hex() + "00")[1] == StatusWord.INCORRECT_P1P2
    bare_hash = di[-32:]
    assert raw(vc, "802A008020" + bare_hash.hex() + "00")[1] == StatusWord.WRONG_DATA
    truncated = di[:-1]
    assert raw(vc, "802A0080" + f"{len(truncated):02X}" + truncated.hex() + "00")[1] == (
        StatusWord.WRONG_DATA
    )
    data, sw = raw(vc, "802A0080" + f"{len(di):02X}" + di.hex() + "00")
    assert sw == StatusWord.OK and len(data) == 256


def test_sha384_digest_info_is_accepted(card: JpkiCard, taro_card: IssuedCard) -> None:
    card.verify_pin(PinKind.SIGN, PASSWORD)
    signature = card.sign(PinKind.SIGN, b"m", "sha384")
    key = taro_card.sign_cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"m", padding.PKCS1v15(), hashes.SHA384())


# --- robustness: any bytes in, a well-formed response out ---


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(st.binary(min_size=0, max_size=300), max_size=8))
def test_any_command_gets_a_well_formed_answer(
    taro_card: IssuedCard, commands: list[bytes]
) -> None:
    vc = taro_card.card
    vc.power_on()
    vc.process(apdu.select_aid().to_bytes())
    for command in commands:
        response = apdu.parse_response(vc.process(command))
        assert 0x6000 <= response.sw <= 0x9FFF
        if response.sw != StatusWord.OK:
            assert response.data == b""
    assert vc.tries_left(PinKind.SIGN) >= 0 and vc.tries_left(PinKind.AUTH) >= 0
