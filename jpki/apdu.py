"""Pure APDU layer of the JPKI applet (docs/card.md §2; docs/jpki.md §1).

Builds command APDUs, parses command and response APDUs, names the status words. No I/O.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

__all__ = [
    "AID_JPKI",
    "CLA_ISO",
    "CLA_PROPRIETARY",
    "DIGEST_INFO_PREFIXES",
    "FID_AUTH_CA_CERT",
    "FID_AUTH_CERT",
    "FID_AUTH_KEY",
    "FID_AUTH_PIN",
    "FID_SIGN_CA_CERT",
    "FID_SIGN_CERT",
    "FID_SIGN_KEY",
    "FID_SIGN_PIN",
    "FID_TOKEN",
    "INS_CHANGE_REFERENCE_DATA",
    "INS_COMPUTE_SIGNATURE",
    "INS_READ_BINARY",
    "INS_SELECT",
    "INS_VERIFY",
    "ApduError",
    "CommandApdu",
    "ResponseApdu",
    "StatusWord",
    "change_reference_data",
    "compute_signature",
    "der_total_length",
    "digest_info",
    "parse_command",
    "parse_response",
    "read_binary",
    "retry_counter_query",
    "select_aid",
    "select_ef",
    "tries_left",
    "verify",
]

AID_JPKI = bytes.fromhex("D392F000260100000001")

FID_SIGN_CERT = 0x0001
FID_SIGN_CA_CERT = 0x0002
FID_TOKEN = 0x0006
FID_AUTH_CERT = 0x000A
FID_AUTH_CA_CERT = 0x000B
FID_AUTH_KEY = 0x0017
FID_AUTH_PIN = 0x0018
FID_SIGN_KEY = 0x001A
FID_SIGN_PIN = 0x001B

CLA_ISO = 0x00
CLA_PROPRIETARY = 0x80

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
INS_COMPUTE_SIGNATURE = 0x2A


class StatusWord(enum.IntEnum):
    """Status words SW1‖SW2 the JPKI applet (and our virtual card) answers with.

    `63Cx` (x tries left) is a family, not one value: see `tries_left`.
    """

    OK = 0x9000
    WRONG_PIN_BASE = 0x63C0  # 63Cx: verification failed / status, x tries left
    WRONG_LENGTH = 0x6700
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTHENTICATION_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_OF_USE_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    WRONG_DATA = 0x6A80
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    UNKNOWN_ERROR = 0x6F00


def tries_left(sw: int) -> int | None:
    """x of a `63Cx` status word; None for any other status word."""
    if sw & 0xFFF0 == StatusWord.WRONG_PIN_BASE:
        return sw & 0x000F
    return None


def _describe(sw: int) -> str:
    left = tries_left(sw)
    if left is not None:
        return f"{sw:04X} (verification failed or status, {left} tries left)"
    try:
        return f"{sw:04X} ({StatusWord(sw).name})"
    except ValueError:
        return f"{sw:04X}"


class ApduError(Exception):
    """The card answered a command with a status word other than 9000.

    Carries only the status word and the name of the operation, never command data (a VERIFY
    command carries the PIN).
    """

    def __init__(self, sw: int, operation: str) -> None:
        self.sw = sw
        self.operation = operation
        super().__init__(f"{operation}: card answered {_describe(sw)}")

    @property
    def tries_left(self) -> int | None:
        return tries_left(self.sw)


@dataclass(frozen=True)
class CommandApdu:
    """An ISO 7816-4 command APDU (short or extended form)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le; 0 < le ≤ 65536

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} must be one byte")
        if len(self.data) > 0xFFFF:
            raise ValueError("command data longer than 65535 bytes")
        if self.le is not None and not 0 < self.le <= 0x10000:
            raise ValueError("Le must be 1..65536")

    @property
    def extended(self) -> bool:
        return len(self.data) > 0xFF or (self.le is not None and self.le > 0x100)

    def to_bytes(self) -> bytes:
        head = bytes([self.cla, self.ins, self.p1, self.p2])
        le = self.le
        if not self.extended:
            body = bytes([len(self.data)]) + self.data if self.data else b""
            tail = b"" if le is None else bytes([le & 0xFF])  # 256 -> 00
            return head + body + tail
        body = b"\x00" + len(self.data).to_bytes(2, "big") + self.data if self.data else b""
        if le is None:
            tail = b""
        else:
            tail = (le & 0xFFFF).to_bytes(2, "big")
            if not self.data:
                tail = b"\x00" + tail
        return head + body + tail

    def __repr__(self) -> str:  # data may be a PIN: never show it
        return (
            f"CommandApdu(cla={self.cla:02X}, ins={self.ins:02X}, p1={self.p1:02X}, "
            f"p2={self.p2:02X}, lc={len(self.data)}, le={self.le})"
        )


def parse_command(raw: bytes) -> CommandApdu:
    """Parse a command APDU in any of the ISO 7816-4 cases; ValueError if malformed."""
    if len(raw) < 4:
        raise ValueError("command APDU shorter than 4 bytes")
    cla, ins, p1, p2 = raw[:4]
    rest = raw[4:]
    if not rest:
        return CommandApdu(cla, ins, p1, p2)
    if len(rest) == 1:  # case 2 short
        return CommandApdu(cla, ins, p1, p2, le=rest[0] or 0x100)
    if rest[0] != 0:  # short case 3 or 4
        lc = rest[0]
        if len(rest) == 1 + lc:
            return CommandApdu(cla, ins, p1, p2, rest[1 : 1 + lc])
        if len(rest) == 2 + lc:
            return CommandApdu(cla, ins, p1, p2, rest[1 : 1 + lc], rest[1 + lc] or 0x100)
        raise ValueError("command APDU length does not match Lc")
    # extended forms start with 00
    if len(rest) == 3:  # case 2 extended
        return CommandApdu(cla, ins, p1, p2, le=int.from_bytes(rest[1:3], "big") or 0x10000)
    lc = int.from_bytes(rest[1:3], "big")
    if lc == 0:
        raise ValueError("extended Lc of zero")
    if len(rest) == 3 + lc:
        return CommandApdu(cla, ins, p1, p2, rest[3 : 3 + lc])
    if len(rest) == 5 + lc:
        le = int.from_bytes(rest[3 + lc :], "big") or 0x10000
        return CommandApdu(cla, ins, p1, p2, rest[3 : 3 + lc], le)
    raise ValueError("extended command APDU length does not match Lc")


@dataclass(frozen=True)
class ResponseApdu:
    """A response APDU: data ‖ SW1 SW2."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not 0 <= self.sw <= 0xFFFF:
            raise ValueError("status word must be two bytes")

    @property
    def ok(self) -> bool:
        return self.sw == StatusWord.OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    def check(self, operation: str) -> bytes:
        """The data if SW = 9000, else raise `ApduError`."""
        if not self.ok:
            raise ApduError(self.sw, operation)
        return self.data


def parse_response(raw: bytes) -> ResponseApdu:
    if len(raw) < 2:
        raise ValueError("response APDU shorter than 2 bytes")
    return ResponseApdu(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


# --- command builders (docs/card.md §2) ---


def select_aid(aid: bytes = AID_JPKI) -> CommandApdu:
    """SELECT by DF name, no FCI (P2 = 0C)."""
    return CommandApdu(CLA_ISO, INS_SELECT, 0x04, 0x0C, aid)


def select_ef(fid: int) -> CommandApdu:
    """SELECT an EF by its 2-byte file identifier inside the current AP."""
    return CommandApdu(CLA_ISO, INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big"))


def read_binary(offset: int, length: int) -> CommandApdu:
    """READ BINARY `length` (1..256) bytes from `offset` (0..0x7FFF) of the selected EF."""
    if not 0 <= offset <= 0x7FFF:
        raise ValueError("offset out of range for READ BINARY with P1P2 offset")
    if not 1 <= length <= 0x100:
        raise ValueError("READ BINARY reads 1..256 bytes per command")
    return CommandApdu(CLA_ISO, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=length)


def retry_counter_query() -> CommandApdu:
    """VERIFY without data: the card answers 63Cx without spending a try."""
    return CommandApdu(CLA_ISO, INS_VERIFY, 0x00, 0x80)


def verify(pin: bytes) -> CommandApdu:
    """VERIFY the PIN of the selected PIN EF (ASCII bytes)."""
    if not pin:
        raise ValueError("empty PIN: use retry_counter_query for the status")
    return CommandApdu(CLA_ISO, INS_VERIFY, 0x00, 0x80, pin)


def change_reference_data(new_pin: bytes) -> CommandApdu:
    return CommandApdu(CLA_ISO, INS_CHANGE_REFERENCE_DATA, 0x01, 0x80, new_pin)


def compute_signature(digest_info_der: bytes) -> CommandApdu:
    """COMPUTE SIGNATURE over a DER DigestInfo with the selected key EF (CLA 80)."""
    if not digest_info_der:
        raise ValueError("empty DigestInfo")
    return CommandApdu(CLA_PROPRIETARY, INS_COMPUTE_SIGNATURE, 0x00, 0x80, digest_info_der, 0x100)


# --- DigestInfo (RFC 8017 §9.2 note 1) ---

DIGEST_INFO_PREFIXES: dict[str, bytes] = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def digest_info(message: bytes, hash_name: str = "sha256") -> bytes:
    """DER DigestInfo of hash_name(message)."""
    try:
        prefix = DIGEST_INFO_PREFIXES[hash_name]
    except KeyError:
        raise ValueError(f"unsupported hash {hash_name!r}") from None
    return prefix + hashlib.new(hash_name, message).digest()


def der_total_length(prefix: bytes) -> int:
    """Total length of the DER TLV whose first bytes are `prefix` (tag + length octets).

    Raises ValueError when the prefix is too short or not a definite-length SEQUENCE.
    """
    if len(prefix) < 2:
        raise ValueError("need at least 2 bytes")
    if prefix[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    first = prefix[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 3:
        raise ValueError("unsupported DER length form")
    if len(prefix) < 2 + n:
        raise ValueError("length octets truncated")
    return 2 + n + int.from_bytes(prefix[2 : 2 + n], "big")
