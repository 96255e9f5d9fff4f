"""A virtual My Number Card implementing the JPKI applet (docs/card.md §1–§3, §5.1). TESTS ONLY.

`VirtualJpkiCard.process` is a pure state machine over command APDUs: no I/O. The vpcd
adapter (`jpki.vpcd`) and the in-process transport drive it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from jpki import apdu
from jpki.apdu import StatusWord
from jpki.certs import BasicFacts
from jpki.pins import PinKind, encode_pin, max_tries
from jpki.testca import TestCa, fresh_rsa_key

__all__ = ["JPKI_ATR", "OTHER_AIDS", "IssuedCard", "VirtualJpkiCard", "issue_virtual_card"]

JPKI_ATR = bytes.fromhex("3BE000FF8131FE4514")
TOKEN_MY_NUMBER_CARD = b"JPKIAPICCTOKEN2"

OTHER_AIDS = (
    bytes.fromhex("D3921000310001010408"),  # 券面事項入力補助AP
    bytes.fromhex("D3921000310001010402"),  # 券面AP
    bytes.fromhex("D3921000310001010100"),  # 住基AP
)

_HASHES: dict[bytes, hashes.HashAlgorithm] = {
    apdu.DIGEST_INFO_PREFIXES["sha256"]: hashes.SHA256(),
    apdu.DIGEST_INFO_PREFIXES["sha384"]: hashes.SHA384(),
    apdu.DIGEST_INFO_PREFIXES["sha512"]: hashes.SHA512(),
}

_PIN_EFS = {apdu.FID_SIGN_PIN: PinKind.SIGN, apdu.FID_AUTH_PIN: PinKind.AUTH}
_KEY_EFS = {apdu.FID_SIGN_KEY: PinKind.SIGN, apdu.FID_AUTH_KEY: PinKind.AUTH}


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


@dataclass
class _Pin:
    value: bytes
    tries_left: int
    maximum: int

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0

    def __repr__(self) -> str:
        return f"_Pin(tries_left={self.tries_left})"


class VirtualJpkiCard:
    """The JPKI AP of a My Number Card, in memory.

    Behaviour: SELECT AP / EF, READ BINARY in chunks (signing certificate only after the
    signing password), VERIFY with and without data (63Cx, no try spent for the query),
    blocking at 0 (`blocked_sw`, 6983 by default), CHANGE REFERENCE DATA after VERIFY,
    COMPUTE SIGNATURE (CLA 80) over a DigestInfo with the selected key after its PIN.
    Verified PINs are forgotten on power-off, reset and (re-)selection of any AP.
    """

    def __init__(
        self,
        *,
        sign_cert: bytes,
        sign_ca_cert: bytes,
        auth_cert: bytes,
        auth_ca_cert: bytes,
        sign_key: rsa.RSAPrivateKey,
        auth_key: rsa.RSAPrivateKey,
        sign_password: str,
        auth_pin: str,
        token: bytes = TOKEN_MY_NUMBER_CARD,
        blocked_sw: int = StatusWord.AUTHENTICATION_METHOD_BLOCKED,
        atr: bytes = JPKI_ATR,
    ) -> None:
        self._files: dict[int, bytes] = {
            apdu.FID_SIGN_CERT: sign_cert,
            apdu.FID_SIGN_CA_CERT: sign_ca_cert,
            apdu.FID_AUTH_CERT: auth_cert,
            apdu.FID_AUTH_CA_CERT: auth_ca_cert,
            apdu.FID_TOKEN: token.ljust(0x20, b" "),
        }
        self._keys = {PinKind.SIGN: sign_key, PinKind.AUTH: auth_key}
        self._pins = {
            PinKind.SIGN: _Pin(encode_pin(PinKind.SIGN, sign_password), 5, max_tries(PinKind.SIGN)),
            PinKind.AUTH: _Pin(encode_pin(PinKind.AUTH, auth_pin), 3, max_tries(PinKind.AUTH)),
        }
        self._blocked_sw = blocked_sw
        self._atr = atr
        self.powered = False
        self._selected_aid: bytes | None = None
        self._current_ef: int | None = None
        self._verified: set[PinKind] = set()
        self.log: list[str] = []  # command names processed, never data

    def __repr__(self) -> str:
        return f"VirtualJpkiCard(powered={self.powered})"

    # --- power ---

    @property
    def atr(self) -> bytes:
        return self._atr

    def _clear(self) -> None:
        self._selected_aid = None
        self._current_ef = None
        self._verified.clear()

    def power_on(self) -> None:
        self.powered = True
        self._clear()

    def power_off(self) -> None:
        self.powered = False
        self._clear()

    def reset(self) -> None:
        self.powered = True
        self._clear()

    def tries_left(self, kind: PinKind) -> int:
        """For tests: the retry counter as the card holds it."""
        return self._pins[kind].tries_left

    # --- command processing ---

    def process(self, command: bytes) -> bytes:
        """One command APDU in, one response APDU out."""
        if not self.powered:
            raise RuntimeError("card is not powered")
        try:
            cmd = apdu.parse_command(command)
        except ValueError:
            return _sw(StatusWord.WRONG_LENGTH)
        if cmd.cla == apdu.CLA_PROPRIETARY and cmd.ins == apdu.INS_COMPUTE_SIGNATURE:
            self.log.append("COMPUTE SIGNATURE")
            return self._compute_signature(cmd)
        if cmd.cla != apdu.CLA_ISO:
            return _sw(StatusWord.CLA_NOT_SUPPORTED)
        handler = {
            apdu.INS_SELECT: self._select,
            apdu.INS_READ_BINARY: self._read_binary,
            apdu.INS_VERIFY: self._verify,
            apdu.INS_CHANGE_REFERENCE_DATA: self._change_reference_data,
        }.get(cmd.ins)
        if handler is None:
            if cmd.ins == apdu.INS_COMPUTE_SIGNATURE:
                return _sw(StatusWord.CLA_NOT_SUPPORTED)
            return _sw(StatusWord.INS_NOT_SUPPORTED)
        self.log.append(handler.__name__.strip("_").upper())
        return handler(cmd)

    def _in_jpki(self) -> bool:
        return self._selected_aid == apdu.AID_JPKI

    def _select(self, cmd: apdu.CommandApdu) -> bytes:
        if cmd.p1 == 0x04:
            if cmd.p2 not in (0x0C, 0x00):
                return _sw(StatusWord.INCORRECT_P1P2)
            if cmd.data == apdu.AID_JPKI or cmd.data in OTHER_AIDS:
                self._clear()
                self._selected_aid = cmd.data
                return _sw(StatusWord.OK)
            return _sw(StatusWord.FILE_NOT_FOUND)
        if cmd.p1 == 0x02:
            if cmd.p2 not in (0x0C, 0x00):
                return _sw(StatusWord.INCORRECT_P1P2)
            if len(cmd.data) != 2:
                return _sw(StatusWord.WRONG_LENGTH)
            fid = int.from_bytes(cmd.data, "big")
            if not self._in_jpki() or (
                fid not in self._files and fid not in _PIN_EFS and fid not in _KEY_EFS
            ):
                return _sw(StatusWord.FILE_NOT_FOUND)
            self._current_ef = fid
            return _sw(StatusWord.OK)
        return _sw(StatusWord.INCORRECT_P1P2)

    def _read_binary(self, cmd: apdu.CommandApdu) -> bytes:
        if cmd.p1 & 0x80:
            return _sw(StatusWord.INCORRECT_P1P2)  # SFI addressing not offered
        if self._current_ef is None or self._current_ef not in self._files:
            return _sw(StatusWord.COMMAND_NOT_ALLOWED_NO_EF)
        if self._current_ef == apdu.FID_SIGN_CERT and PinKind.SIGN not in self._verified:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        content = self._files[self._current_ef]
        offset = (cmd.p1 << 8) | cmd.p2
        if offset >= len(content):
            return _sw(StatusWord.WRONG_OFFSET)
        length = cmd.le if cmd.le is not None else 0x100
        return _sw(StatusWord.OK, content[offset : offset + length])

    def _current_pin(self) -> PinKind | None:
        return _PIN_EFS.get(self._current_ef) if self._current_ef is not None else None

    def _verify(self, cmd: apdu.CommandApdu) -> bytes:
        if (cmd.p1, cmd.p2) != (0x00, 0x80):
            return _sw(StatusWord.INCORRECT_P1P2)
        kind = self._current_pin()
        if kind is None:
            return _sw(StatusWord.COMMAND_NOT_ALLOWED_NO_EF)
        pin = self._pins[kind]
        if not cmd.data:  # status query: no try spent
            return _sw(StatusWord.WRONG_PIN_BASE | pin.tries_left)
        if pin.blocked:
            return _sw(self._blocked_sw)
        if hmac.compare_digest(cmd.data, pin.value):
            pin.tries_left = pin.maximum
            self._verified.add(kind)
            return _sw(StatusWord.OK)
        pin.tries_left -= 1
        self._verified.discard(kind)
        return _sw(StatusWord.WRONG_PIN_BASE | pin.tries_left)

    def _change_reference_data(self, cmd: apdu.CommandApdu) -> bytes:
        if (cmd.p1, cmd.p2) != (0x01, 0x80):
            return _sw(StatusWord.INCORRECT_P1P2)
        kind = self._current_pin()
        if kind is None:
            return _sw(StatusWord.COMMAND_NOT_ALLOWED_NO_EF)
        if kind not in self._verified:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        try:
            new = encode_pin(kind, cmd.data.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return _sw(StatusWord.WRONG_DATA)
        if new != cmd.data:
            return _sw(StatusWord.WRONG_DATA)
        self._pins[kind].value = new
        return _sw(StatusWord.OK)

    def _compute_signature(self, cmd: apdu.CommandApdu) -> bytes:
        if (cmd.p1, cmd.p2) != (0x00, 0x80):
            return _sw(StatusWord.INCORRECT_P1P2)
        kind = _KEY_EFS.get(self._current_ef) if self._current_ef is not None else None
        if kind is None or not self._in_jpki():
            return _sw(StatusWord.COMMAND_NOT_ALLOWED_NO_EF)
        if kind not in self._verified:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        for prefix, algorithm in _HASHES.items():
            if cmd.data.startswith(prefix) and len(cmd.data) == len(prefix) + algorithm.digest_size:
                digest = cmd.data[len(prefix) :]
                signature = self._keys[kind].sign(
                    digest, padding.PKCS1v15(), utils.Prehashed(algorithm)
                )
                return _sw(StatusWord.OK, signature)
        return _sw(StatusWord.WRONG_DATA)


@dataclass(frozen=True)
class IssuedCard:
    """A virtual card and the certificates on it."""

    card: VirtualJpkiCard
    sign_cert: x509.Certificate
    auth_cert: x509.Certificate


def issue_virtual_card(
    ca: TestCa,
    facts: BasicFacts,
    *,
    sign_password: str,
    auth_pin: str = "1234",
    not_before: dt.datetime,
    not_after: dt.datetime,
    sign_key: rsa.RSAPrivateKey | None = None,
    auth_key: rsa.RSAPrivateKey | None = None,
    blocked_sw: int = StatusWord.AUTHENTICATION_METHOD_BLOCKED,
) -> IssuedCard:
    """Issue certificates for `facts` from the test CA and put them on a new virtual card."""
    sign_key = sign_key or fresh_rsa_key()
    auth_key = auth_key or fresh_rsa_key()
    sign_cert = ca.issue_sign_cert(
        facts, sign_key.public_key(), not_before=not_before, not_after=not_after
    )
    auth_cert = ca.issue_auth_cert(
        auth_key.public_key(), not_before=not_before, not_after=not_after
    )
    der = serialization.Encoding.DER
    card = VirtualJpkiCard(
        sign_cert=sign_cert.public_bytes(der),
        sign_ca_cert=ca.sign.certificate.public_bytes(der),
        auth_cert=auth_cert.public_bytes(der),
        auth_ca_cert=ca.auth.certificate.public_bytes(der),
        sign_key=sign_key,
        auth_key=auth_key,
        sign_password=sign_password,
        auth_pin=auth_pin,
        blocked_sw=blocked_sw,
    )
    return IssuedCard(card, sign_cert, auth_cert)
