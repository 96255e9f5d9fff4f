"""The keystore: round trip, wrong passphrase, tampering, file handling, no secret in sight."""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest

from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from trustees.config import generate_trustee_keys
from trustees.dkg import DkgTrustee, Polynomial
from trustees.errors import KeystoreTampered, WrongPassphrase
from trustees.keystore import (
    ARGON2_AVAILABLE,
    KdfParams,
    load_keystore,
    save_keystore,
    seal,
    unseal,
)
from trustees.private import TrusteeSecrets

FAST = KdfParams(name="scrypt", n=2**10, r=8, p=1)
PASS = "correct horse battery staple"


@pytest.fixture
def secrets():
    group = get_group("test-schnorr-512-128")
    rng = DeterministicRandom("keystore")
    poly = Polynomial.random(group, 2, rng)
    return TrusteeSecrets(
        trustee=2,
        election=bytes(range(32)),
        group=group.name,
        keys=generate_trustee_keys(rng),
        polynomial=tuple(a.value for a in poly.coefficients),
        share=group.random_scalar(rng).value,
    )


def _secret_strings(s: TrusteeSecrets) -> list[str]:
    values = [s.keys.x25519.hex(), s.keys.ed25519.hex(), format(s.share, "x")]
    values += [format(a, "x") for a in s.polynomial]
    return values + [str(s.share)] + [str(a) for a in s.polynomial]


def test_round_trip_through_a_file(tmp_path, secrets):
    path = tmp_path / "trustee-2.keystore"
    save_keystore(path, secrets, PASS, kdf=FAST, rng=DeterministicRandom(1))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keystore(path, PASS) == secrets
    assert os.listdir(tmp_path) == ["trustee-2.keystore"]  # no temporary file left


def test_no_overwrite_unless_asked(tmp_path, secrets):
    path = tmp_path / "k"
    save_keystore(path, secrets, PASS, kdf=FAST)
    with pytest.raises(FileExistsError):
        save_keystore(path, secrets, PASS, kdf=FAST)
    updated = TrusteeSecrets(
        secrets.trustee, secrets.election, secrets.group, secrets.keys, None, 5
    )
    save_keystore(path, updated, PASS, kdf=FAST, overwrite=True)
    assert load_keystore(path, PASS) == updated
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_wrong_passphrase(secrets):
    data = seal(secrets, PASS, kdf=FAST)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        unseal(data, PASS + "!")


def test_unicode_passphrase_is_normalised(secrets):
    data = seal(secrets, "cafe\u0301 投票", kdf=FAST)
    assert unseal(data, "caf\u00e9 投票") == secrets


def test_empty_passphrase_is_refused(secrets):
    with pytest.raises(ValueError, match="empty passphrase"):
        seal(secrets, "", kdf=FAST)


def _edit(data: bytes, change) -> bytes:
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _flip_hex(text: str, at: int = 0) -> str:
    return text[:at] + format(int(text[at], 16) ^ 1, "x") + text[at + 1 :]


TAMPERINGS = {
    "ciphertext": lambda d: d.update(ciphertext=_flip_hex(d["ciphertext"], 10)),
    "tag": lambda d: d.update(ciphertext=_flip_hex(d["ciphertext"], len(d["ciphertext"]) - 1)),
    "nonce": lambda d: d["aead"].update(nonce=_flip_hex(d["aead"]["nonce"])),
    "trustee index": lambda d: d["public"].update(trustee=3),
    "public key": lambda d: d["public"].update(x25519=_flip_hex(d["public"]["x25519"])),
    "truncated": lambda d: d.update(ciphertext=d["ciphertext"][:-8]),
    "unknown field": lambda d: d.update(comment="hi"),
    "format": lambda d: d.update(version=2),
    "kdf out of range": lambda d: d["kdf"].update(n=3),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_tampered_file(secrets, name):
    data = _edit(seal(secrets, PASS, kdf=FAST), TAMPERINGS[name])
    with pytest.raises(KeystoreTampered):
        unseal(data, PASS)


def test_not_json_at_all(secrets):
    with pytest.raises(KeystoreTampered, match="malformed"):
        unseal(b"\x00garbage", PASS)
    data = seal(secrets, PASS, kdf=FAST)
    with pytest.raises(KeystoreTampered):
        unseal(data[:-10], PASS)


def test_changed_kdf_parameters_read_as_a_wrong_passphrase(secrets):
    """Changing the salt or cost changes the derived key: documented as 'wrong passphrase'."""
    data = _edit(seal(secrets, PASS, kdf=FAST), lambda d: d["kdf"].update(n=2**11))
    with pytest.raises(WrongPassphrase):
        unseal(data, PASS)


def test_header_records_the_kdf_parameters(secrets):
    doc = json.loads(seal(secrets, PASS, kdf=KdfParams(name="scrypt", n=2**15)))
    assert doc["kdf"]["name"] == "scrypt"
    assert (doc["kdf"]["n"], doc["kdf"]["r"], doc["kdf"]["p"]) == (2**15, 8, 1)
    assert doc["format"] == "tohyo-trustee-keystore" and doc["version"] == 1


@pytest.mark.skipif(not ARGON2_AVAILABLE, reason="cryptography without Argon2id")
def test_default_kdf_is_argon2id(secrets):
    cheap = KdfParams(name="argon2id", iterations=1, lanes=1, memory_kib=1024)
    data = seal(secrets, PASS, kdf=cheap)
    doc = json.loads(data)
    assert doc["kdf"]["name"] == "argon2id" and doc["kdf"]["memory_kib"] == 1024
    assert unseal(data, PASS) == secrets
    assert KdfParams().name == "argon2id"
    with pytest.raises(WrongPassphrase):
        unseal(data, "nope")


def test_secrets_never_in_the_file_in_the_clear(secrets):
    data = seal(secrets, PASS, kdf=FAST)
    for text in _secret_strings(secrets):
        assert text.encode() not in data
    for raw in (secrets.keys.x25519, secrets.keys.ed25519):
        assert raw not in data
    assert PASS.encode() not in data


def test_secrets_never_in_repr_str_or_logs(secrets, caplog):
    caplog.set_level(logging.DEBUG)
    group = get_group(secrets.group)
    poly = secrets.polynomial_object()
    log = logging.getLogger("tohyo.test")
    log.debug("secrets %s %r", secrets, secrets)
    log.debug("keys %s %r", secrets.keys, secrets.keys)
    log.debug("polynomial %s %r", poly, poly)
    log.info("share object %r", group.scalar(secrets.share) and secrets)
    blob = seal(secrets, PASS, kdf=FAST)
    unseal(blob, PASS)
    text = caplog.text + repr(secrets) + str(secrets) + repr(secrets.keys) + repr(poly)
    for secret in _secret_strings(secrets):
        assert secret not in text
    assert "hidden" in repr(secrets)


def test_key_share_and_trustee_reprs_hide_secrets():
    from trustees.testing import make_config, run_ceremony

    group = get_group("test-safe-256")
    config, keys = make_config(group, 2, 3, seed="repr")
    run = run_ceremony(config, keys, seed="repr")
    trustee: DkgTrustee = run.trustees[1]
    share = trustee.key_share
    assert share is not None
    text = repr(share) + str(share) + repr(trustee) + repr(trustee.polynomial)
    assert format(share.secret.value, "x") not in text and str(share.secret.value) not in text
    for a in trustee.polynomial.coefficients:
        assert format(a.value, "x") not in text
