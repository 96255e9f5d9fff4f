"""The pure APDU layer: command bytes, parsing, status words, DigestInfo, DER lengths."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jpki import apdu
from jpki.apdu import ApduError, CommandApdu, StatusWord


def test_select_jpki_ap_bytes_match_the_spec() -> None:
    assert apdu.select_aid().to_bytes().hex().upper() == "00A4040C0AD392F000260100000001"


@pytest.mark.parametrize(
    ("fid", "expected"),
    [
        (apdu.FID_SIGN_CERT, "00A4020C020001"),
        (apdu.FID_SIGN_CA_CERT, "00A4020C020002"),
        (apdu.FID_TOKEN, "00A4020C020006"),
        (apdu.FID_AUTH_CERT, "00A4020C02000A"),
        (apdu.FID_AUTH_CA_CERT, "00A4020C02000B"),
        (apdu.FID_AUTH_KEY, "00A4020C020017"),
        (apdu.FID_AUTH_PIN, "00A4020C020018"),
        (apdu.FID_SIGN_KEY, "00A4020C02001A"),
        (apdu.FID_SIGN_PIN, "00A4020C02001B"),
    ],
)
def test_select_ef_bytes(fid: int, expected: str) -> None:
    assert apdu.select_ef(fid).to_bytes().hex().upper() == expected


def test_read_binary_offset_in_p1p2_and_le_256_is_00() -> None:
    assert apdu.read_binary(0x0123, 0x100).to_bytes().hex().upper() == "00B0012300"
    assert apdu.read_binary(0, 4).to_bytes().hex().upper() == "00B0000004"
    with pytest.raises(ValueError):
        apdu.read_binary(0x8000, 4)
    with pytest.raises(ValueError):
        apdu.read_binary(0, 0)
    with pytest.raises(ValueError):
        apdu.read_binary(0, 257)


def test_verify_and_status_query() -> None:
    assert apdu.retry_counter_query().to_bytes().hex().upper() == "00200080"
    assert apdu.verify(b"1234").to_bytes().hex().upper() == "002000800431323334"
    with pytest.raises(ValueError):
        apdu.verify(b"")


def test_change_reference_data() -> None:
    assert apdu.change_reference_data(b"5678").to_bytes().hex().upper() == "002401800435363738"


def test_compute_signature_is_cla_80_with_le_00() -> None:
    di = apdu.digest_info(b"ballot")
    raw = apdu.compute_signature(di).to_bytes()
    assert raw[:5].hex().upper() == "802A008033"
    assert raw[5:-1] == di
    assert raw[-1] == 0x00
    with pytest.raises(ValueError):
        apdu.compute_signature(b"")


def test_digest_info_sha256_is_51_bytes_with_the_hash_at_the_end() -> None:
    di = apdu.digest_info(b"abc")
    assert len(di) == 51
    assert di.endswith(hashlib.sha256(b"abc").digest())
    assert len(apdu.digest_info(b"abc", "sha384")) == 19 + 48
    with pytest.raises(ValueError):
        apdu.digest_info(b"abc", "md5")


def test_extended_apdu_forms() -> None:
    long = CommandApdu(0x00, 0x2A, 0x00, 0x80, b"\x01" * 300, 0x100)
    raw = long.to_bytes()
    assert raw[4:7] == b"\x00\x01\x2c"
    assert apdu.parse_command(raw) == long
    case2 = CommandApdu(0x00, 0xB0, 0, 0, le=0x10000)
    assert case2.to_bytes() == bytes.fromhex("00B00000000000")
    assert apdu.parse_command(case2.to_bytes()) == case2


@given(
    cla=st.integers(0, 255),
    ins=st.integers(0, 255),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=400),
    le=st.one_of(st.none(), st.integers(1, 0x10000)),
)
def test_command_round_trip(
    cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None
) -> None:
    cmd = CommandApdu(cla, ins, p1, p2, data, le)
    assert apdu.parse_command(cmd.to_bytes()) == cmd


@pytest.mark.parametrize(
    "raw", ["00A4", "00A4040C05D392", "00A4040C02AABBCCDD", "00B00000000005AA"]
)
def test_malformed_commands_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        apdu.parse_command(bytes.fromhex(raw))


def test_command_repr_never_shows_data() -> None:
    cmd = apdu.verify(b"SECRET99")
    assert "SECRET99" not in repr(cmd)
    assert "5345435245543939" not in repr(cmd).upper()


def test_response_parsing_and_check() -> None:
    resp = apdu.parse_response(bytes.fromhex("AABB9000"))
    assert resp.data == b"\xaa\xbb" and resp.ok and resp.check("x") == b"\xaa\xbb"
    bad = apdu.parse_response(bytes.fromhex("6982"))
    assert not bad.ok
    with pytest.raises(ApduError) as info:
        bad.check("read binary")
    assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert "SECURITY_STATUS_NOT_SATISFIED" in str(info.value)
    with pytest.raises(ValueError):
        apdu.parse_response(b"\x90")


@pytest.mark.parametrize(
    ("sw", "left"),
    [(0x63C0, 0), (0x63C3, 3), (0x63C5, 5), (0x9000, None), (0x6983, None), (0x6300, None)],
)
def test_tries_left(sw: int, left: int | None) -> None:
    assert apdu.tries_left(sw) == left
    assert ApduError(sw, "verify").tries_left == left


def test_der_total_length() -> None:
    assert apdu.der_total_length(bytes.fromhex("30820514")) == 0x514 + 4
    assert apdu.der_total_length(bytes.fromhex("3081A3")) == 0xA3 + 3
    assert apdu.der_total_length(bytes.fromhex("3005")) == 7
    for bad in ("31820514", "30", "3080", "3082"):
        with pytest.raises(ValueError):
            apdu.der_total_length(bytes.fromhex(bad))
