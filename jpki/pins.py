"""PIN rules of the JPKI applet (docs/card.md §3). Pure; never shows a PIN in a message."""

from __future__ import annotations

import enum

__all__ = [
    "AUTH_PIN_MAX_TRIES",
    "SIGN_PASSWORD_MAX_TRIES",
    "PinFormatError",
    "PinKind",
    "encode_pin",
    "max_tries",
]

SIGN_PASSWORD_MAX_TRIES = 5
AUTH_PIN_MAX_TRIES = 3

_UPPER_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DIGITS = frozenset("0123456789")


class PinKind(enum.Enum):
    """The two JPKI PINs: the signing password (署名用) and the auth PIN (利用者証明用)."""

    SIGN = "sign"
    AUTH = "auth"


class PinFormatError(ValueError):
    """A PIN does not have the card's format; refused before it reaches the card (no try used)."""


def max_tries(kind: PinKind) -> int:
    return SIGN_PASSWORD_MAX_TRIES if kind is PinKind.SIGN else AUTH_PIN_MAX_TRIES


def encode_pin(kind: PinKind, pin: str) -> bytes:
    """Check the format of `pin` and return the ASCII bytes sent in VERIFY.

    Signing password: 6–16 characters A–Z/0–9 (input is upper-cased first), at least one
    letter and one digit. Auth PIN: exactly 4 digits.
    """
    if kind is PinKind.SIGN:
        text = pin.upper()
        if not 6 <= len(text) <= 16:
            raise PinFormatError("the signing password has 6 to 16 characters")
        if not set(text) <= _UPPER_ALNUM:
            raise PinFormatError("the signing password uses only letters A-Z and digits 0-9")
        if not (set(text) & _DIGITS) or not (set(text) - _DIGITS):
            raise PinFormatError("the signing password has at least one letter and one digit")
        return text.encode("ascii")
    if len(pin) != 4 or not set(pin) <= _DIGITS:
        raise PinFormatError("the authentication PIN is exactly 4 digits")
    return pin.encode("ascii")
