"""A test CA hierarchy that mirrors the real JPKI profile (docs/jpki.md §4). TESTS ONLY.

Two self-signed CAs (signing and user authentication) with the J-LIS DN structure, key usage,
basic constraints, subjectAltName DirName and a DirName CRL distribution point; end-entity
certificates with the real key usage, critical certificate policies, issuerAltName and, in the
signing certificate, the four basic facts as otherName entries. Never use real personal data.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from jpki import certs
from jpki.certs import BasicFacts

__all__ = [
    "TEST_CA_MARK",
    "CaPair",
    "TestCa",
    "ca_name",
    "der_utf8_string",
    "fresh_rsa_key",
    "jlis_dirname",
    "pooled_rsa_key",
]

TEST_CA_MARK = "tohyo TEST CA - not J-LIS"
_JLIS_ORG_JA = "公的個人認証サービス"
_JLIS_OU_JA = "地方公共団体情報システム機構"
_SIGN_OU_JA = "公的個人認証サービス署名用"
_AUTH_OU_JA = "公的個人認証サービス利用者証明用"


def fresh_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def pooled_rsa_key(label: str) -> rsa.RSAPrivateKey:
    """An RSA-2048 key generated once per process per label (key generation is slow)."""
    return fresh_rsa_key()


def ca_name(purpose: certs.CertPurpose, *, test: bool = True) -> x509.Name:
    """The CA DN in the J-LIS structure C, O, OU (purpose), OU (agency)."""
    ou = certs.SIGN_CA_OU if purpose is certs.CertPurpose.SIGN else certs.AUTH_CA_OU
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME, TEST_CA_MARK if test else certs.JLIS_OU
            ),
        ]
    )


def jlis_dirname(purpose: certs.CertPurpose | None) -> x509.Name:
    """The Japanese DirName used in the CA SAN (with purpose OU) and in issuerAltName."""
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _JLIS_ORG_JA),
    ]
    if purpose is not None:
        ou = _SIGN_OU_JA if purpose is certs.CertPurpose.SIGN else _AUTH_OU_JA
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _JLIS_OU_JA))
    return x509.Name(attrs)


def der_utf8_string(text: str) -> bytes:
    body = text.encode("utf-8")
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return b"\x0c" + length + body


def _serial() -> int:
    return secrets.randbits(63) | 1


@dataclass(frozen=True)
class CaPair:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def _make_ca(
    purpose: certs.CertPurpose, key: rsa.RSAPrivateKey, not_before: dt.datetime, years: int
) -> CaPair:
    name = ca_name(purpose)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_before.replace(year=not_before.year + years) - dt.timedelta(seconds=1))
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.DirectoryName(jlis_dirname(purpose))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.DirectoryName(name)], None, None, None)]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return CaPair(key, builder.sign(key, hashes.SHA256()))


class TestCa:
    """The signing and authentication test CAs, issuing certificates and CRLs."""

    __test__ = False  # not a pytest test class

    def __init__(self, sign: CaPair, auth: CaPair) -> None:
        self.sign = sign
        self.auth = auth

    @classmethod
    def create(
        cls,
        *,
        not_before: dt.datetime | None = None,
        years: int = 10,
        pooled: bool = True,
        label: str = "default",
    ) -> TestCa:
        start = not_before or dt.datetime(2023, 7, 16, tzinfo=dt.UTC)

        def key(purpose: str) -> rsa.RSAPrivateKey:
            return pooled_rsa_key(f"ca-{label}-{purpose}") if pooled else fresh_rsa_key()

        return cls(
            _make_ca(certs.CertPurpose.SIGN, key("sign"), start, years),
            _make_ca(certs.CertPurpose.AUTH, key("auth"), start, years),
        )

    def pair(self, purpose: certs.CertPurpose) -> CaPair:
        return self.sign if purpose is certs.CertPurpose.SIGN else self.auth

    @property
    def certificates(self) -> tuple[x509.Certificate, x509.Certificate]:
        return (self.sign.certificate, self.auth.certificate)

    def _ee_builder(
        self,
        purpose: certs.CertPurpose,
        public_key: rsa.RSAPublicKey,
        not_before: dt.datetime,
        not_after: dt.datetime,
        serial: int | None,
    ) -> x509.CertificateBuilder:
        ca = self.pair(purpose)
        serial = serial or _serial()
        signing = purpose is certs.CertPurpose.SIGN
        policy = certs.POLICY_SIGN if signing else certs.POLICY_AUTH
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"TEST{serial:016X}"),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.certificate.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=signing,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.CertificatePolicies(
                    [x509.PolicyInformation(policy, ["https://tohyo.invalid/test-cps"])]
                ),
                critical=True,
            )
            .add_extension(
                x509.IssuerAlternativeName([x509.DirectoryName(jlis_dirname(None))]),
                critical=False,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.DirectoryName(ca.certificate.subject)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                critical=False,
            )
        )

    def issue_sign_cert(
        self,
        facts: BasicFacts,
        public_key: rsa.RSAPublicKey,
        *,
        not_before: dt.datetime,
        not_after: dt.datetime,
        serial: int | None = None,
    ) -> x509.Certificate:
        """A signing certificate carrying the four basic facts in its subjectAltName."""
        others = [
            (certs.OID_NAME, facts.name),
            (certs.OID_NAME_SUBST, facts.name_substitutions or "0" * len(facts.name)),
            (certs.OID_SEX, facts.sex.value),
            (certs.OID_BIRTH, certs.encode_birth_date(facts.birth_date)),
            (certs.OID_ADDRESS, facts.address),
            (certs.OID_ADDRESS_SUBST, facts.address_substitutions or "0" * len(facts.address)),
        ]
        san = x509.SubjectAlternativeName(
            [x509.OtherName(oid, der_utf8_string(value)) for oid, value in others]
        )
        builder = self._ee_builder(
            certs.CertPurpose.SIGN, public_key, not_before, not_after, serial
        ).add_extension(san, critical=False)
        return builder.sign(self.sign.key, hashes.SHA256())

    def issue_auth_cert(
        self,
        public_key: rsa.RSAPublicKey,
        *,
        not_before: dt.datetime,
        not_after: dt.datetime,
        serial: int | None = None,
    ) -> x509.Certificate:
        """An authentication certificate (no personal data)."""
        builder = self._ee_builder(
            certs.CertPurpose.AUTH, public_key, not_before, not_after, serial
        )
        return builder.sign(self.auth.key, hashes.SHA256())

    def crl(
        self,
        purpose: certs.CertPurpose,
        revoked: Iterable[int] = (),
        *,
        this_update: dt.datetime,
        next_update: dt.datetime,
    ) -> x509.CertificateRevocationList:
        """A CRL of the `purpose` CA listing the serial numbers in `revoked`."""
        ca = self.pair(purpose)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.certificate.subject)
            .last_update(this_update)
            .next_update(next_update)
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(this_update)
                .build()
            )
        return builder.sign(ca.key, hashes.SHA256())

    # --- persistence (for `tohyo card virtual --ca-dir`) ---

    def save(self, directory: Path, passphrase: bytes) -> None:
        """Write certificates (PEM) and the CA keys, encrypted with `passphrase` (mode 0600)."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, pair in (("sign", self.sign), ("auth", self.auth)):
            (directory / f"{name}_ca.pem").write_bytes(
                pair.certificate.public_bytes(serialization.Encoding.PEM)
            )
            key_path = directory / f"{name}_ca.key"
            key_path.write_bytes(
                pair.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(passphrase),
                )
            )
            key_path.chmod(0o600)

    @classmethod
    def load(cls, directory: Path, passphrase: bytes) -> TestCa:
        pairs = []
        for name in ("sign", "auth"):
            cert = x509.load_pem_x509_certificate((directory / f"{name}_ca.pem").read_bytes())
            key = serialization.load_pem_private_key(
                (directory / f"{name}_ca.key").read_bytes(), password=passphrase
            )
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("test CA key is not RSA")
            pairs.append(CaPair(key, cert))
        return cls(pairs[0], pairs[1])
