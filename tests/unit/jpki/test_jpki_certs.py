"""Certificate checks: chain, validity, key usage and policy, CRLs, basic facts, algorithms."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding
from jpki_unit_support import CERT_FROM, CERT_TO, HANAKO, TARO, UTC, VOTING_TIME

from jpki import certs
from jpki.certs import (
    CertificateRejected,
    CertPurpose,
    Sex,
    TrustAnchors,
    basic_facts,
    decode_birth_date,
    encode_birth_date,
    load_certificates,
    validate,
)
from jpki.reasons import Reason
from jpki.testca import TestCa, pooled_rsa_key
from jpki.virtual_card import IssuedCard


def rejected(reason: Reason, fn: Callable[[], object]) -> CertificateRejected:
    with pytest.raises(CertificateRejected) as info:
        fn()
    assert info.value.reason is reason, info.value
    return info.value


def sign_rejected(
    reason: Reason, cert: x509.Certificate, anchors: TrustAnchors, at: dt.datetime = VOTING_TIME
) -> None:
    rejected(reason, lambda: validate(cert, anchors, at=at, purpose=CertPurpose.SIGN))


def test_valid_signing_certificate(taro_card: IssuedCard, anchors_for, test_ca: TestCa) -> None:
    result = validate(taro_card.sign_cert, anchors_for(), at=VOTING_TIME, purpose=CertPurpose.SIGN)
    assert result.issuer == test_ca.sign.certificate


def test_valid_auth_certificate(taro_card: IssuedCard, anchors_for) -> None:
    validate(taro_card.auth_cert, anchors_for(), at=VOTING_TIME, purpose=CertPurpose.AUTH)


def test_certificate_from_another_ca_is_untrusted(issue, other_ca: TestCa, anchors_for) -> None:
    foreign = issue(ca=other_ca)
    sign_rejected(Reason.CERTIFICATE_UNTRUSTED, foreign.sign_cert, anchors_for())


def test_sign_cert_is_not_issued_by_the_auth_ca(taro_card: IssuedCard, test_ca: TestCa) -> None:
    only_auth = TrustAnchors((test_ca.auth.certificate,), require_crl=False)
    sign_rejected(Reason.CERTIFICATE_UNTRUSTED, taro_card.sign_cert, only_auth)


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (CERT_FROM - dt.timedelta(seconds=1), Reason.CERTIFICATE_NOT_YET_VALID),
        (CERT_TO + dt.timedelta(seconds=1), Reason.CERTIFICATE_EXPIRED),
    ],
)
def test_validity_period(
    taro_card: IssuedCard, test_ca: TestCa, at: dt.datetime, reason: Reason
) -> None:
    anchors = TrustAnchors(test_ca.certificates, require_crl=False)
    sign_rejected(reason, taro_card.sign_cert, anchors, at=at)
    validate(taro_card.sign_cert, anchors, at=CERT_FROM, purpose=CertPurpose.SIGN)
    validate(taro_card.sign_cert, anchors, at=CERT_TO, purpose=CertPurpose.SIGN)


def test_naive_time_is_taken_as_utc(taro_card: IssuedCard, test_ca: TestCa) -> None:
    anchors = TrustAnchors(test_ca.certificates, require_crl=False)
    validate(
        taro_card.sign_cert, anchors, at=VOTING_TIME.replace(tzinfo=None), purpose=CertPurpose.SIGN
    )


def test_revoked_certificate(taro_card: IssuedCard, anchors_for) -> None:
    anchors = anchors_for((taro_card.sign_cert.serial_number,))
    sign_rejected(Reason.CERTIFICATE_REVOKED, taro_card.sign_cert, anchors)


def test_other_serials_on_the_crl_do_not_matter(taro_card: IssuedCard, anchors_for) -> None:
    anchors = anchors_for((taro_card.sign_cert.serial_number + 2, 12345))
    validate(taro_card.sign_cert, anchors, at=VOTING_TIME, purpose=CertPurpose.SIGN)


def test_missing_or_stale_crl(taro_card: IssuedCard, anchors_for, test_ca: TestCa) -> None:
    sign_rejected(Reason.REVOCATION_UNKNOWN, taro_card.sign_cert, anchors_for(with_crl=False))
    stale = test_ca.crl(
        CertPurpose.SIGN,
        (),
        this_update=dt.datetime(2027, 1, 1, tzinfo=UTC),
        next_update=dt.datetime(2027, 2, 1, tzinfo=UTC),
    )
    anchors = TrustAnchors(test_ca.certificates, (stale,))
    sign_rejected(Reason.REVOCATION_UNKNOWN, taro_card.sign_cert, anchors)


def test_crl_signed_by_someone_else_is_ignored(
    taro_card: IssuedCard, test_ca: TestCa, other_ca: TestCa
) -> None:
    # a forged CRL: the test CA's name, another key — it neither revokes nor counts as current
    forged_ca = TestCa(dataclasses.replace(test_ca.sign, key=other_ca.sign.key), test_ca.auth)
    forged = forged_ca.crl(
        CertPurpose.SIGN,
        (taro_card.sign_cert.serial_number,),
        this_update=dt.datetime(2027, 4, 1, tzinfo=UTC),
        next_update=dt.datetime(2027, 5, 1, tzinfo=UTC),
    )
    anchors = TrustAnchors(test_ca.certificates, (forged,))
    sign_rejected(Reason.REVOCATION_UNKNOWN, taro_card.sign_cert, anchors)


def test_auth_certificate_cannot_be_used_for_signing(
    taro_card: IssuedCard, test_ca: TestCa
) -> None:
    anchors = TrustAnchors(test_ca.certificates, require_crl=False)
    sign_rejected(Reason.CERTIFICATE_WRONG_USAGE, taro_card.auth_cert, anchors)


def test_policy_must_be_accepted(taro_card: IssuedCard, test_ca: TestCa) -> None:
    anchors = TrustAnchors(
        test_ca.certificates, require_crl=False, sign_policies=frozenset({certs.POLICY_SIGN_TEST})
    )
    sign_rejected(Reason.CERTIFICATE_WRONG_USAGE, taro_card.sign_cert, anchors)


def test_ca_certificate_is_not_an_end_entity(test_ca: TestCa) -> None:
    anchors = TrustAnchors(test_ca.certificates, require_crl=False)
    sign_rejected(Reason.CERTIFICATE_WRONG_USAGE, test_ca.sign.certificate, anchors)


def test_trust_anchor_must_be_a_ca(taro_card: IssuedCard) -> None:
    with pytest.raises(ValueError):
        TrustAnchors((taro_card.sign_cert,))


def test_certificate_files_load_as_pem_or_der_and_garbage_is_refused(
    test_ca: TestCa, tmp_path: Path
) -> None:
    sign, auth = test_ca.sign.certificate, test_ca.auth.certificate
    pem = tmp_path / "cas.pem"
    pem.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in (sign, auth)))
    der = tmp_path / "auth.der"
    der.write_bytes(auth.public_bytes(Encoding.DER))
    assert load_certificates([pem, der]) == (sign, auth, auth)
    for name, junk in (("junk.der", b"\x30\x03abc"), ("junk.pem", b"-----BEGIN CERTIFICATE-----")):
        (tmp_path / name).write_bytes(junk)
        with pytest.raises(ValueError):
            load_certificates([tmp_path / name])


def test_basic_facts_round_trip(issue) -> None:
    for facts, label in ((TARO, "taro"), (HANAKO, "hanako")):
        issued = issue(facts, label=label)
        got = basic_facts(issued.sign_cert)
        assert (got.name, got.birth_date, got.sex, got.address) == (
            facts.name,
            facts.birth_date,
            facts.sex,
            facts.address,
        )
        assert got.name_substitutions == "0" * len(facts.name)


def test_auth_certificate_has_no_basic_facts(taro_card: IssuedCard) -> None:
    rejected(Reason.CERTIFICATE_WRONG_USAGE, lambda: basic_facts(taro_card.auth_cert))


def test_san_carries_the_jpki_oids_as_utf8_strings(taro_card: IssuedCard) -> None:
    san = taro_card.sign_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    others = {
        o.type_id.dotted_string: o.value for o in san.value.get_values_for_type(x509.OtherName)
    }
    assert set(others) == {f"1.2.392.200149.8.5.5.{i}" for i in range(1, 7)}
    assert others["1.2.392.200149.8.5.5.4"] == b"\x0c\x09" + b"419900615"  # Heisei 2
    assert others["1.2.392.200149.8.5.5.3"] == b"\x0c\x011"
    assert others["1.2.392.200149.8.5.5.1"][0] == 0x0C


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (dt.date(1989, 1, 7), "319890107"),  # last day of Shōwa
        (dt.date(1989, 1, 8), "419890108"),  # first day of Heisei
        (dt.date(2019, 4, 30), "420190430"),
        (dt.date(2019, 5, 1), "520190501"),  # Reiwa
        (dt.date(1926, 12, 25), "319261225"),
        (dt.date(1920, 3, 3), "219200303"),
        (dt.date(1900, 1, 1), "119000101"),
    ],
)
def test_era_prefixed_birth_dates(day: dt.date, text: str) -> None:
    assert encode_birth_date(day) == text
    assert decode_birth_date(text) == day


@pytest.mark.parametrize(
    "text", ["519890108", "61990010", "699900101", "419901301", "4199001", "x19900101"]
)
def test_bad_birth_dates(text: str) -> None:
    with pytest.raises(ValueError):
        decode_birth_date(text)


def test_unknown_era_zero_is_accepted() -> None:
    assert decode_birth_date("019900101") == dt.date(1990, 1, 1)


def test_basic_facts_repr_is_redacted() -> None:
    assert "太郎" not in repr(TARO) and "つくば" not in repr(TARO)


def test_rsa_algorithm_rejects_wrong_signature(taro_card: IssuedCard) -> None:
    alg = certs.signature_algorithm_for(taro_card.sign_cert)
    assert alg is certs.RSA_PKCS1V15_SHA256
    key = pooled_rsa_key("taro-sign")
    good = key.sign(b"msg", padding.PKCS1v15(), hashes.SHA256())
    alg.verify(taro_card.sign_cert.public_key(), good, b"msg")
    rejected(
        Reason.SIGNATURE_MISMATCH,
        lambda: alg.verify(taro_card.sign_cert.public_key(), good, b"msh"),
    )
    pss = key.sign(b"msg", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    rejected(
        Reason.SIGNATURE_MISMATCH, lambda: alg.verify(taro_card.sign_cert.public_key(), pss, b"msg")
    )


def test_ecdsa_p384_is_pluggable_for_the_next_card(test_ca: TestCa, anchors_for) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    cert = test_ca.issue_sign_cert(
        TARO,
        key.public_key(),
        not_before=CERT_FROM,
        not_after=CERT_TO,  # type: ignore[arg-type]
    )
    validate(cert, anchors_for(), at=VOTING_TIME, purpose=CertPurpose.SIGN)
    alg = certs.signature_algorithm_for(cert)
    assert alg is certs.ECDSA_P384_SHA384
    sig = key.sign(b"ballot", ec.ECDSA(hashes.SHA384()))
    alg.verify(cert.public_key(), sig, b"ballot")
    rejected(Reason.SIGNATURE_MISMATCH, lambda: alg.verify(cert.public_key(), sig, b"ballot2"))
    # an RSA key never passes as ECDSA and vice versa
    rejected(
        Reason.SIGNATURE_MISMATCH,
        lambda: certs.RSA_PKCS1V15_SHA256.verify(cert.public_key(), sig, b"ballot"),
    )


def test_p256_key_is_not_accepted(test_ca: TestCa) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = test_ca.issue_sign_cert(
        TARO,
        key.public_key(),
        not_before=CERT_FROM,
        not_after=CERT_TO,  # type: ignore[arg-type]
    )
    rejected(Reason.CERTIFICATE_WRONG_USAGE, lambda: certs.signature_algorithm_for(cert))


def test_sex_codes() -> None:
    assert [s.value for s in Sex] == ["1", "2", "3"]


def test_crl_checks_are_made_once_and_answer_the_same_every_time(
    taro_card: IssuedCard, anchors_for, test_ca: TestCa, other_ca: TestCa
) -> None:
    revoking = anchors_for((taro_card.sign_cert.serial_number,))
    for _ in range(3):  # the second and third answers come from the cached facts
        sign_rejected(Reason.CERTIFICATE_REVOKED, taro_card.sign_cert, revoking)
    assert revoking.crl_facts(0, test_ca.sign.certificate) == (
        True,
        frozenset({taro_card.sign_cert.serial_number}),
    )
    assert len(revoking._crl_facts) == 1  # one CRL of the issuer, checked once
    # the same CRL asked about under another issuer's key is not signed by it
    assert revoking.crl_facts(0, other_ca.sign.certificate) == (False, frozenset())
    clean = anchors_for((12345,))
    for _ in range(3):
        validate(taro_card.sign_cert, clean, at=VOTING_TIME, purpose=CertPurpose.SIGN)


def test_trust_anchors_survive_pickling(taro_card: IssuedCard, anchors_for) -> None:
    """The board service hands its anchors and CRLs to its checking processes."""
    import pickle

    anchors = anchors_for((taro_card.sign_cert.serial_number + 1,))
    copy = pickle.loads(pickle.dumps(anchors))
    assert copy == anchors  # the same certificates, CRLs, policies and CRL requirement
    validate(taro_card.sign_cert, copy, at=VOTING_TIME, purpose=CertPurpose.SIGN)
    revoked = anchors_for((taro_card.sign_cert.serial_number,))
    with pytest.raises(CertificateRejected) as caught:
        validate(
            taro_card.sign_cert,
            pickle.loads(pickle.dumps(revoked)),
            at=VOTING_TIME,
            purpose=CertPurpose.SIGN,
        )
    assert caught.value.reason is Reason.CERTIFICATE_REVOKED
