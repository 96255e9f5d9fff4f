"""PIN format rules: signing password 6–16 upper-case alphanumerics, auth PIN 4 digits."""

from __future__ import annotations

import pytest

from jpki.pins import PinFormatError, PinKind, encode_pin, max_tries


@pytest.mark.parametrize(
    ("pin", "sent"),
    [("ABC123", b"ABC123"), ("abc123", b"ABC123"), ("A1B2C3D4E5F6G7H8", b"A1B2C3D4E5F6G7H8")],
)
def test_valid_signing_passwords_are_upper_cased(pin: str, sent: bytes) -> None:
    assert encode_pin(PinKind.SIGN, pin) == sent


@pytest.mark.parametrize(
    "pin",
    [
        "AB12",
        "ABC12",
        "A1B2C3D4E5F6G7H8I",
        "ABCDEFG",
        "1234567",
        "ABC-123",
        "ＡＢＣ１２３",
        "ABC 123",
        "",
    ],
)
def test_invalid_signing_passwords(pin: str) -> None:
    with pytest.raises(PinFormatError):
        encode_pin(PinKind.SIGN, pin)


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４", ""])
def test_invalid_auth_pins(pin: str) -> None:
    with pytest.raises(PinFormatError):
        encode_pin(PinKind.AUTH, pin)


def test_auth_pin_and_tries() -> None:
    assert encode_pin(PinKind.AUTH, "0000") == b"0000"
    assert max_tries(PinKind.SIGN) == 5
    assert max_tries(PinKind.AUTH) == 3


def test_format_error_never_contains_the_pin() -> None:
    with pytest.raises(PinFormatError) as info:
        encode_pin(PinKind.SIGN, "SECRETPASSWORDXYZ9")
    assert "SECRETPASSWORDXYZ9" not in str(info.value)
