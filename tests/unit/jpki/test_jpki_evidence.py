"""The private evidence store: encrypted at rest, tamper-evident; the auditors' check."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jpki_unit_support import TARO, VOTING_TIME

from jpki.evidence import EvidenceStore, EvidenceStoreError, check_evidence
from jpki.registrar import Evidence, ballot_message, derive_pseudonym, sign_attestation
from jpki.testca import pooled_rsa_key
from jpki.virtual_card import IssuedCard
from mixnet.errors import VerificationError

FP = hashlib.sha256(b"fp").digest()
BH = hashlib.sha256(b"ballot").digest()
KEY = b"\x07" * 32
PASSPHRASE = "auditors only 2027"
N = 2**10  # fast scrypt for tests


def make_evidence(issued: IssuedCard, bh: bytes = BH) -> Evidence:
    signature = pooled_rsa_key("taro-sign").sign(
        ballot_message(FP, bh), padding.PKCS1v15(), hashes.SHA256()
    )
    return Evidence(
        election_fingerprint=FP,
        pseudonym=derive_pseudonym(KEY, FP, TARO),
        ballot_hash=bh,
        certificate=issued.sign_cert.public_bytes(serialization.Encoding.DER),
        signature=signature,
        received_at=VOTING_TIME,
    )


def test_round_trip_and_reopen(taro_card: IssuedCard, tmp_path: Path) -> None:
    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    records = [make_evidence(taro_card, hashlib.sha256(bytes([i])).digest()) for i in range(3)]
    for r in records:
        store.append(r)
    assert len(store) == 3
    assert store.read_all() == records
    again = EvidenceStore(path, PASSPHRASE)
    assert again.read_all() == records
    again.append(records[0])
    assert len(EvidenceStore(path, PASSPHRASE).read_all()) == 4
    assert path.stat().st_mode & 0o777 == 0o600


def test_append_many_is_one_write_in_order(taro_card: IssuedCard, tmp_path: Path) -> None:
    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    store.append(make_evidence(taro_card))
    records = [
        dataclasses.replace(
            make_evidence(taro_card, hashlib.sha256(bytes([i])).digest()),
            code_hash=f"{i:064x}" if i % 2 else None,
        )
        for i in range(4)
    ]
    store.append_many(records)
    store.append_many([])
    assert len(store) == 5
    again = EvidenceStore(path, PASSPHRASE).read_all()
    assert again[1:] == records and [r.code_hash for r in again][1:3] == [None, f"{1:064x}"]
    # each record keeps its own position: the group's second line moved first fails to open
    lines = path.read_bytes().split(b"\n")
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(EvidenceStoreError):
        EvidenceStore(path, PASSPHRASE).read_all()


def test_file_holds_no_certificate_or_personal_data_in_the_clear(
    taro_card: IssuedCard, tmp_path: Path
) -> None:
    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    evidence = make_evidence(taro_card)
    store.append(evidence)
    data = path.read_bytes()
    cert = evidence.certificate
    for needle in (
        cert,
        cert[100:140],  # any slice of it
        cert.hex().encode(),
        cert[100:140].hex().encode(),
        base64.b64encode(cert),
        evidence.signature.hex().encode(),
        TARO.name.encode("utf-8"),
        "投票".encode(),
        TARO.address.encode("utf-8"),
        "つくば".encode(),
        PASSPHRASE.encode(),
    ):
        assert needle not in data


def test_wrong_passphrase_is_refused(taro_card: IssuedCard, tmp_path: Path) -> None:
    path = tmp_path / "ev"
    EvidenceStore(path, PASSPHRASE, scrypt_n=N).append(make_evidence(taro_card))
    with pytest.raises(EvidenceStoreError) as info:
        EvidenceStore(path, "guess")
    assert "guess" not in str(info.value)
    with pytest.raises(ValueError):
        EvidenceStore(tmp_path / "other", "")


def test_tampered_or_swapped_records_are_detected(taro_card: IssuedCard, tmp_path: Path) -> None:
    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    store.append(make_evidence(taro_card, hashlib.sha256(b"1").digest()))
    store.append(make_evidence(taro_card, hashlib.sha256(b"2").digest()))
    lines = path.read_bytes().split(b"\n")
    swapped = b"\n".join([lines[0], lines[2], lines[1], b""])
    path.write_bytes(swapped)
    with pytest.raises(EvidenceStoreError):
        EvidenceStore(path, PASSPHRASE).read_all()
    blob = bytearray(base64.b64decode(lines[1]))
    blob[20] ^= 1
    path.write_bytes(b"\n".join([lines[0], base64.b64encode(bytes(blob)), lines[2], b""]))
    with pytest.raises(EvidenceStoreError):
        EvidenceStore(path, PASSPHRASE).read_all()


def test_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"hello\n")
    with pytest.raises(EvidenceStoreError):
        EvidenceStore(path, PASSPHRASE)


def test_evidence_repr_has_no_certificate(taro_card: IssuedCard) -> None:
    evidence = make_evidence(taro_card)
    assert evidence.certificate.hex()[:40] not in repr(evidence)


def test_check_evidence(taro_card: IssuedCard, anchors_for) -> None:
    evidence = make_evidence(taro_card)
    anchors = anchors_for()
    check_evidence(evidence, anchors, pseudonym_key=KEY)

    def failing(step: str, ev: Evidence, **kw: object) -> None:
        with pytest.raises(VerificationError) as info:
            check_evidence(ev, anchors, **kw)  # type: ignore[arg-type]
        assert info.value.check == step

    failing("E2-jpki-signature", dataclasses.replace(evidence, ballot_hash=bytes(32)))
    failing("E2-jpki-signature", dataclasses.replace(evidence, signature=bytes(256)))
    failing("E3-pseudonym", dataclasses.replace(evidence, pseudonym=bytes(32)), pseudonym_key=KEY)
    failing("E3-pseudonym", evidence, pseudonym_key=b"\x08" * 32)
    failing("E1-certificate", dataclasses.replace(evidence, certificate=b"junk"))
    revoked = anchors_for((taro_card.sign_cert.serial_number,))
    with pytest.raises(VerificationError) as info:
        check_evidence(evidence, revoked)
    assert info.value.check == "E1-certificate"


def test_check_evidence_with_attestation(taro_card: IssuedCard, anchors_for) -> None:
    evidence = make_evidence(taro_card)
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    att = sign_attestation(key, FP, evidence.pseudonym, evidence.ballot_hash)
    check_evidence(evidence, anchors_for(), attestation=att, registrar_public_key=public)
    other = sign_attestation(key, FP, evidence.pseudonym, bytes(32))
    with pytest.raises(VerificationError):
        check_evidence(evidence, anchors_for(), attestation=other, registrar_public_key=public)
    with pytest.raises(VerificationError):
        check_evidence(evidence, anchors_for(), attestation=att)
    forged = dataclasses.replace(att, signature=bytes(64))
    with pytest.raises(VerificationError):
        check_evidence(evidence, anchors_for(), attestation=forged, registrar_public_key=public)


@pytest.mark.parametrize("cut", [1, 17, -1])
def test_a_torn_last_record_is_set_aside_with_a_warning(
    taro_card: IssuedCard, tmp_path: Path, caplog: pytest.LogCaptureFixture, cut: int
) -> None:
    """A crash mid-write leaves the last line without its newline: the store opens, keeps every
    whole record, moves the torn bytes aside (0600) and says so; later appends read back."""
    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    records = [make_evidence(taro_card, hashlib.sha256(bytes([i])).digest()) for i in range(3)]
    store.append_many(records[:2])
    whole = path.read_bytes()
    store.append(records[2])
    full = path.read_bytes()
    torn = full[: len(whole) + cut] if cut > 0 else full[:-1]  # -1: all but the newline
    path.write_bytes(torn)
    with caplog.at_level("WARNING", logger="jpki.evidence"):
        reopened = EvidenceStore(path, PASSPHRASE)
    assert "torn last record" in caplog.text and str(PASSPHRASE) not in caplog.text
    assert reopened.torn is not None and reopened.torn.read_bytes() == torn[len(whole) :]
    assert reopened.torn.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes() == whole
    assert reopened.read_all() == records[:2]
    reopened.append(records[2])
    assert EvidenceStore(path, PASSPHRASE).read_all() == records


def test_a_damaged_whole_record_is_not_taken_for_a_torn_one(
    taro_card: IssuedCard, tmp_path: Path
) -> None:
    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    store.append(make_evidence(taro_card))
    data = path.read_bytes()
    path.write_bytes(data[:-3] + (b"A" if data[-3:-2] != b"A" else b"B") + data[-2:])
    with pytest.raises(EvidenceStoreError):
        EvidenceStore(path, PASSPHRASE).read_all()


def test_a_failed_write_leaves_no_partial_line(
    taro_card: IssuedCard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    path = tmp_path / "ev"
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    store.append(make_evidence(taro_card))
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        store.append(make_evidence(taro_card, hashlib.sha256(b"2").digest()))
    monkeypatch.undo()
    assert path.read_bytes() == before and len(store) == 1
    store.append(make_evidence(taro_card, hashlib.sha256(b"3").digest()))
    assert len(EvidenceStore(path, PASSPHRASE).read_all()) == 2


def test_reconcile_names_ballots_without_evidence(taro_card: IssuedCard) -> None:
    from jpki.evidence import reconcile

    records = [make_evidence(taro_card, hashlib.sha256(bytes([i])).digest()) for i in range(3)]
    ballots = [(10 + i, r.pseudonym, r.ballot_hash) for i, r in enumerate(records[:2])]
    done = reconcile(ballots, records)
    assert done.ok and (done.ballots, done.evidence, done.unpublished) == (2, 3, 1)
    ballots.append((20, records[0].pseudonym, hashlib.sha256(b"never attested").digest()))
    missing = reconcile(ballots, records)
    assert not missing.ok and missing.without_evidence == (20,)


@pytest.mark.parametrize("header", [b"", b'{"check":"00","form'])
def test_a_store_whose_creation_was_cut_short_is_created_again(
    taro_card: IssuedCard, tmp_path: Path, header: bytes
) -> None:
    path = tmp_path / "ev"
    path.write_bytes(header)
    store = EvidenceStore(path, PASSPHRASE, scrypt_n=N)
    assert (store.torn is None) == (header == b"")
    if store.torn is not None:
        assert store.torn.read_bytes() == header
    store.append(make_evidence(taro_card))
    assert len(EvidenceStore(path, PASSPHRASE).read_all()) == 1
