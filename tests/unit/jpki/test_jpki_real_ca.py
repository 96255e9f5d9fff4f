"""The real J-LIS CA certificates load as trust anchors; the test CA mirrors their profile.

The certificates and their published fingerprints are read from jpki/ca/ in the repository.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jpki_unit_support import VOTING_TIME

from jpki.certs import (
    AUTH_CA_OU,
    JLIS_OU,
    SIGN_CA_OU,
    CertificateRejected,
    CertPurpose,
    TrustAnchors,
    load_certificates,
    validate,
)
from jpki.reasons import Reason
from jpki.testca import TEST_CA_MARK, TestCa, jlis_dirname
from jpki.virtual_card import IssuedCard

REPO = Path(__file__).resolve().parents[3]
CA_DIR = REPO / "jpki" / "ca"
FILES = ("sign_ca_2015.pem", "sign_ca_2023.pem", "auth_ca_2015.pem", "auth_ca_2023.pem")


def real(name: str) -> x509.Certificate:
    (cert,) = load_certificates([CA_DIR / name])
    return cert


def published_fingerprints() -> dict[str, str]:
    text = (CA_DIR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"\|\s*(\w+_ca_\d{4}\.pem)\s*\|.*\|\s*([0-9A-F:]{95})\s*\|", text)
    return {name: fp.replace(":", "").lower() for name, fp in rows}


def test_all_four_files_match_the_published_fingerprints() -> None:
    fps = published_fingerprints()
    assert set(fps) == set(FILES)
    for name in FILES:
        der = real(name).public_bytes(serialization.Encoding.DER)
        assert hashlib.sha256(der).hexdigest() == fps[name], name


def test_real_cas_load_as_trust_anchors() -> None:
    anchors = TrustAnchors.from_files([CA_DIR / f for f in FILES])
    assert len(anchors.certificates) == 4
    for cert in anchors.certificates:
        assert cert.subject == cert.issuer
        cert.verify_directly_issued_by(cert)  # self-signed, signature intact
        key = cert.public_key()
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


def test_both_generations_share_a_name_and_differ_in_key() -> None:
    old, new = real("sign_ca_2015.pem"), real("sign_ca_2023.pem")
    assert old.subject == new.subject
    assert old.public_key().public_numbers() != new.public_key().public_numbers()  # type: ignore[union-attr]


def test_test_certificate_does_not_chain_to_the_real_cas(taro_card: IssuedCard) -> None:
    anchors = TrustAnchors.from_files([CA_DIR / f for f in FILES], require_crl=False)
    with pytest.raises(CertificateRejected) as info:
        validate(taro_card.sign_cert, anchors, at=VOTING_TIME, purpose=CertPurpose.SIGN)
    assert info.value.reason is Reason.CERTIFICATE_UNTRUSTED


def _structure(name: x509.Name) -> list[tuple[str, object]]:
    return [(a.oid.dotted_string, a._type) for a in name]


def _ext(cert: x509.Certificate, cls: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(cls)


@pytest.mark.parametrize(
    ("purpose", "files", "ou"),
    [
        (CertPurpose.SIGN, ("sign_ca_2015.pem", "sign_ca_2023.pem"), SIGN_CA_OU),
        (CertPurpose.AUTH, ("auth_ca_2015.pem", "auth_ca_2023.pem"), AUTH_CA_OU),
    ],
)
def test_test_ca_mirrors_the_real_profile(
    test_ca: TestCa, purpose: CertPurpose, files: tuple[str, ...], ou: str
) -> None:
    mine = test_ca.pair(purpose).certificate
    for name in files:
        ref = real(name)
        # DN: same attribute types, order and string types; same C, O and purpose OU
        assert _structure(mine.subject) == _structure(ref.subject)
        assert _structure(mine.issuer) == _structure(ref.issuer)
        ref_values = [a.value for a in ref.subject]
        my_values = [a.value for a in mine.subject]
        assert ref_values[:3] == my_values[:3] == ["JP", "JPKI", ou]
        assert ref_values[3] == JLIS_OU and my_values[3] == TEST_CA_MARK  # never mistaken
        # key usage and basic constraints, with criticality
        for cls in (x509.KeyUsage, x509.BasicConstraints):
            assert _ext(mine, cls).value == _ext(ref, cls).value
            assert _ext(mine, cls).critical == _ext(ref, cls).critical
        # subjectAltName: one DirName, identical to J-LIS's Japanese name
        ref_san = _ext(ref, x509.SubjectAlternativeName)
        my_san = _ext(mine, x509.SubjectAlternativeName)
        assert my_san.critical == ref_san.critical
        assert my_san.value == ref_san.value
        (dirname,) = ref_san.value.get_values_for_type(x509.DirectoryName)
        assert _structure(dirname) == _structure(jlis_dirname(purpose))
        # CRL distribution point: a DirName equal to the CA's own name
        ref_dp = _ext(ref, x509.CRLDistributionPoints).value[0].full_name
        my_dp = _ext(mine, x509.CRLDistributionPoints).value[0].full_name
        assert ref_dp == [x509.DirectoryName(ref.subject)]
        assert my_dp == [x509.DirectoryName(mine.subject)]
        # the set of extensions is the same
        assert {e.oid for e in mine.extensions} == {e.oid for e in ref.extensions}
        assert mine.signature_hash_algorithm.name == ref.signature_hash_algorithm.name  # type: ignore[union-attr]


def test_end_entity_issuer_alt_name_is_the_jlis_dirname(taro_card: IssuedCard) -> None:
    ref = real("sign_ca_2023.pem")
    (ref_dirname,) = _ext(ref, x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DirectoryName
    )
    for cert in (taro_card.sign_cert, taro_card.auth_cert):
        ian = _ext(cert, x509.IssuerAlternativeName).value
        (dirname,) = ian.get_values_for_type(x509.DirectoryName)
        # C=JP, O=公的個人認証サービス, as in the real end-entity certificates
        assert list(dirname)[:2] == list(ref_dirname)[:2]
