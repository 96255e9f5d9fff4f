"""JPKI applet operations over any `Transport` (docs/card.md §2)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from jpki import apdu
from jpki.apdu import ApduError, CommandApdu, StatusWord
from jpki.pins import PinKind, encode_pin
from jpki.transport import Transport

__all__ = [
    "CardType",
    "CertKind",
    "JpkiCard",
    "PinBlockedError",
    "PinStatus",
    "WrongPinError",
]

_CHUNK = 0x100
_MAX_CERT = 0x7FFF


class CertKind(enum.Enum):
    SIGN = apdu.FID_SIGN_CERT
    SIGN_CA = apdu.FID_SIGN_CA_CERT
    AUTH = apdu.FID_AUTH_CERT
    AUTH_CA = apdu.FID_AUTH_CA_CERT


class CardType(enum.Enum):
    MY_NUMBER_CARD = "JPKIAPICCTOKEN2"
    JUKI_CARD = "JPKIAPICCTOKEN"
    ANDROID_SE = "JPKIAPGPSETOKEN"
    UNKNOWN = ""


_PIN_EF = {PinKind.SIGN: apdu.FID_SIGN_PIN, PinKind.AUTH: apdu.FID_AUTH_PIN}
_KEY_EF = {PinKind.SIGN: apdu.FID_SIGN_KEY, PinKind.AUTH: apdu.FID_AUTH_KEY}
_BLOCKED = {
    StatusWord.AUTHENTICATION_METHOD_BLOCKED,
    StatusWord.REFERENCE_DATA_NOT_USABLE,
    StatusWord.WRONG_PIN_BASE,  # 63C0
}


class WrongPinError(ApduError):
    """VERIFY failed; `tries_left` tries remain (> 0)."""


class PinBlockedError(ApduError):
    """The PIN is blocked (63C0, 6983 or 6984): only the municipal office can reset it."""


@dataclass(frozen=True)
class PinStatus:
    kind: PinKind
    tries_left: int

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


class JpkiCard:
    """The JPKI AP on a card reached through `transport`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _send(self, command: CommandApdu) -> apdu.ResponseApdu:
        return apdu.parse_response(self.transport.transmit(command.to_bytes()))

    def _call(self, command: CommandApdu, operation: str) -> bytes:
        return self._send(command).check(operation)

    # --- selection and reading ---

    def select_ap(self) -> None:
        """SELECT the JPKI AP (clears any verified PIN on the card)."""
        self._call(apdu.select_aid(apdu.AID_JPKI), "select JPKI AP")

    def select_ef(self, fid: int) -> None:
        self._call(apdu.select_ef(fid), f"select EF {fid:04X}")

    def read_binary(self, offset: int, length: int) -> bytes:
        return self._call(apdu.read_binary(offset, length), "read binary")

    def read_token(self) -> bytes:
        self.select_ef(apdu.FID_TOKEN)
        return self.read_binary(0, 0x20)

    def card_type(self) -> CardType:
        token = self.read_token().rstrip(b" \x00").decode("ascii", "replace")
        for kind in CardType:
            if kind.value and kind.value == token:
                return kind
        return CardType.UNKNOWN

    def read_certificate(self, kind: CertKind) -> bytes:
        """The DER certificate in the EF of `kind`, read in ≤256-byte chunks.

        Reading the signing certificate needs the signing password verified first.
        """
        self.select_ef(kind.value)
        head = self.read_binary(0, 4)
        total = apdu.der_total_length(head)
        if total > _MAX_CERT:
            raise ValueError("certificate length out of range")
        out = bytearray(head)
        while len(out) < total:
            chunk = self.read_binary(len(out), min(_CHUNK, total - len(out)))
            if not chunk:  # else a card answering 9000 with no data keeps us reading forever
                raise ValueError("card sent no data before the end of the certificate")
            out += chunk
        return bytes(out[:total])

    # --- PINs ---

    def pin_status(self, kind: PinKind) -> PinStatus:
        """Tries left for `kind`, without spending a try."""
        self.select_ef(_PIN_EF[kind])
        resp = self._send(apdu.retry_counter_query())
        left = apdu.tries_left(resp.sw)
        if left is not None:
            return PinStatus(kind, left)
        if resp.sw in _BLOCKED:
            return PinStatus(kind, 0)
        if resp.ok:  # some cards answer 9000 when already verified; no count then
            raise ApduError(resp.sw, "read retry counter (already verified)")
        raise ApduError(resp.sw, "read retry counter")

    def verify_pin(self, kind: PinKind, pin: str) -> None:
        """VERIFY the signing password or auth PIN.

        Raises `PinFormatError` (no try spent), `WrongPinError` (tries left), `PinBlockedError`.
        """
        data = encode_pin(kind, pin)
        self.select_ef(_PIN_EF[kind])
        resp = self._send(apdu.verify(data))
        del data
        operation = f"verify {kind.value} PIN"
        if resp.ok:
            return
        left = apdu.tries_left(resp.sw)
        if left is not None and left > 0:
            raise WrongPinError(resp.sw, operation)
        if left == 0 or resp.sw in _BLOCKED:
            raise PinBlockedError(resp.sw, operation)
        raise ApduError(resp.sw, operation)

    # --- signing ---

    def sign_digest_info(self, kind: PinKind, digest_info_der: bytes) -> bytes:
        """COMPUTE SIGNATURE over a DER DigestInfo with the signing or auth key."""
        self.select_ef(_KEY_EF[kind])
        return self._call(apdu.compute_signature(digest_info_der), f"sign with {kind.value} key")

    def sign(self, kind: PinKind, message: bytes, hash_name: str = "sha256") -> bytes:
        """PKCS#1 v1.5 signature of `message` (the card pads the DigestInfo)."""
        return self.sign_digest_info(kind, apdu.digest_info(message, hash_name))
