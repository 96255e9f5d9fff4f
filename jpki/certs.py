"""JPKI certificates: profile constants, basic facts, chain and revocation checks.

See docs/jpki.md §3. Validation raises `CertificateRejected` with a `Reason`; it never returns
a bool. The signature algorithm of end-entity signatures is pluggable (`SignatureAlgorithm`).
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from jpki.reasons import Reason

__all__ = [
    "AUTH_CA_OU",
    "ECDSA_P384_SHA384",
    "JLIS_OU",
    "OID_ADDRESS",
    "OID_ADDRESS_SUBST",
    "OID_BIRTH",
    "OID_NAME",
    "OID_NAME_SUBST",
    "OID_SEX",
    "POLICY_AUTH",
    "POLICY_AUTH_TEST",
    "POLICY_SIGN",
    "POLICY_SIGN_TEST",
    "RSA_PKCS1V15_SHA256",
    "SIGN_CA_OU",
    "BasicFacts",
    "CertPurpose",
    "CertificateRejected",
    "Sex",
    "SignatureAlgorithm",
    "TrustAnchors",
    "ValidatedCertificate",
    "basic_facts",
    "decode_birth_date",
    "encode_birth_date",
    "load_certificates",
    "signature_algorithm_for",
    "validate",
]

# --- profile constants (docs/card.md §4) ---
OID_NAME = x509.ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_NAME_SUBST = x509.ObjectIdentifier("1.2.392.200149.8.5.5.2")
OID_SEX = x509.ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_BIRTH = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_ADDRESS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.5")
OID_ADDRESS_SUBST = x509.ObjectIdentifier("1.2.392.200149.8.5.5.6")

POLICY_SIGN = x509.ObjectIdentifier("1.2.392.200149.8.5.1.1.20")
POLICY_SIGN_TEST = x509.ObjectIdentifier("1.2.392.200149.8.5.1.0.20")
POLICY_AUTH = x509.ObjectIdentifier("1.2.392.200149.8.5.1.3.30")
POLICY_AUTH_TEST = x509.ObjectIdentifier("1.2.392.200149.8.5.1.0.30")

SIGN_CA_OU = "JPKI for digital signature"
AUTH_CA_OU = "JPKI for user authentication"
JLIS_OU = "Japan Agency for Local Authority Information Systems"


class CertificateRejected(Exception):
    """A certificate (or a signature under it) is not acceptable; `reason` says why."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


# --- basic facts (4情報) ---


class Sex(enum.Enum):
    MALE = "1"
    FEMALE = "2"
    UNKNOWN = "3"


# Era start dates (Gregorian): 1 Meiji, 2 Taishō, 3 Shōwa, 4 Heisei, 5 Reiwa.
_ERAS: tuple[tuple[int, dt.date], ...] = (
    (5, dt.date(2019, 5, 1)),
    (4, dt.date(1989, 1, 8)),
    (3, dt.date(1926, 12, 25)),
    (2, dt.date(1912, 7, 30)),
    (1, dt.date(1868, 10, 23)),
)


def encode_birth_date(day: dt.date) -> str:
    """`EYYYYMMDD`: era digit then the Gregorian date (0 if before Meiji)."""
    era = next((code for code, start in _ERAS if day >= start), 0)
    return f"{era}{day:%Y%m%d}"


def decode_birth_date(text: str) -> dt.date:
    """Parse `EYYYYMMDD`; ValueError if malformed or the era does not fit the date."""
    if len(text) != 9 or not text.isascii() or not text.isdigit():
        raise ValueError("birth date is not EYYYYMMDD")
    era = int(text[0])
    day = dt.date(int(text[1:5]), int(text[5:7]), int(text[7:9]))
    if era > 5:
        raise ValueError("unknown era")
    if era != 0 and encode_birth_date(day)[0] != text[0]:
        raise ValueError("era does not match the date")
    return day


@dataclass(frozen=True)
class BasicFacts:
    """The four basic facts in the signing certificate (never real data in tests)."""

    name: str
    birth_date: dt.date
    sex: Sex
    address: str
    name_substitutions: str = ""
    address_substitutions: str = ""

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "BasicFacts(<redacted>)"


def _der_string(raw: bytes) -> str:
    if len(raw) < 2:
        raise ValueError("truncated string")
    tag, first = raw[0], raw[1]
    if first < 0x80:
        start, length = 2, first
    else:
        n = first & 0x7F
        start, length = 2 + n, int.from_bytes(raw[2 : 2 + n], "big")
    body = raw[start : start + length]
    if len(body) != length or start + length != len(raw):
        raise ValueError("string length mismatch")
    if tag == 0x0C:
        return body.decode("utf-8")
    if tag in (0x13, 0x16):
        return body.decode("ascii")
    if tag == 0x1E:
        return body.decode("utf-16-be")
    raise ValueError(f"unsupported string tag {tag:#x}")


def basic_facts(cert: x509.Certificate) -> BasicFacts:
    """Extract name, birth date, sex and address from a signing certificate's SAN.

    Raises `CertificateRejected(CERTIFICATE_WRONG_USAGE)` if they are absent or malformed.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        values: dict[x509.ObjectIdentifier, str] = {}
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id in values:
                raise ValueError("duplicate basic fact")
            values[other.type_id] = _der_string(other.value)
        return BasicFacts(
            name=unicodedata.normalize("NFC", values[OID_NAME]),
            birth_date=decode_birth_date(values[OID_BIRTH]),
            sex=Sex(values[OID_SEX]),
            address=unicodedata.normalize("NFC", values[OID_ADDRESS]),
            name_substitutions=values.get(OID_NAME_SUBST, ""),
            address_substitutions=values.get(OID_ADDRESS_SUBST, ""),
        )
    except (x509.ExtensionNotFound, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise CertificateRejected(
            Reason.CERTIFICATE_WRONG_USAGE,
            f"no usable basic facts in the certificate ({type(exc).__name__})",
        ) from None


# --- signature algorithms (pluggable) ---


@dataclass(frozen=True)
class SignatureAlgorithm:
    """How an end-entity signature is checked: key type, padding, hash."""

    name: str
    hash_name: str

    def verify(self, public_key: object, signature: bytes, message: bytes) -> None:
        """Raise `CertificateRejected(SIGNATURE_MISMATCH)` unless `signature` is valid."""
        try:
            if self.name == "rsa-pkcs1v15-sha256" and isinstance(public_key, rsa.RSAPublicKey):
                public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
                return
            if self.name == "ecdsa-p384-sha384" and isinstance(
                public_key, ec.EllipticCurvePublicKey
            ):
                if public_key.curve.name != "secp384r1":
                    raise InvalidSignature
                public_key.verify(signature, message, ec.ECDSA(hashes.SHA384()))
                return
        except InvalidSignature:
            pass
        raise CertificateRejected(Reason.SIGNATURE_MISMATCH, f"{self.name} signature invalid")


RSA_PKCS1V15_SHA256 = SignatureAlgorithm("rsa-pkcs1v15-sha256", "sha256")
ECDSA_P384_SHA384 = SignatureAlgorithm("ecdsa-p384-sha384", "sha384")


def signature_algorithm_for(cert: x509.Certificate) -> SignatureAlgorithm:
    """The end-entity signature algorithm that fits the certificate's key."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return RSA_PKCS1V15_SHA256
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1":
        return ECDSA_P384_SHA384
    raise CertificateRejected(Reason.CERTIFICATE_WRONG_USAGE, "unsupported public key")


# --- trust anchors and validation ---


class CertPurpose(enum.Enum):
    SIGN = "sign"
    AUTH = "auth"


def load_certificates(paths: Iterable[Path | str]) -> tuple[x509.Certificate, ...]:
    """Load PEM or DER certificates (several PEM blocks per file allowed)."""
    out: list[x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes()
        if b"-----BEGIN" in data:
            out.extend(x509.load_pem_x509_certificates(data))
        else:
            out.append(x509.load_der_x509_certificate(data))
    return tuple(out)


@dataclass(frozen=True)
class TrustAnchors:
    """CA certificates trusted to issue JPKI certificates, and the CRLs we hold for them.

    `require_crl`: refuse (REVOCATION_UNKNOWN) when no current CRL from the issuer is at hand.
    """

    certificates: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    sign_policies: frozenset[x509.ObjectIdentifier] = field(
        default_factory=lambda: frozenset({POLICY_SIGN})
    )
    auth_policies: frozenset[x509.ObjectIdentifier] = field(
        default_factory=lambda: frozenset({POLICY_AUTH})
    )
    require_crl: bool = True
    # per CRL, once: is it signed by this issuer's key, and which serials it lists
    _crl_facts: dict[tuple[int, bytes], tuple[bool, frozenset[int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def crl_facts(self, index: int, issuer: x509.Certificate) -> tuple[bool, frozenset[int]]:
        """(signed by `issuer`, revoked serial numbers) of CRL `index`, computed once.

        A CRL's signature is a check over the whole list (megabytes for a national CA), so it
        is made once per CRL and issuer key, not once per ballot; the serials go into a set.
        """
        key = (index, issuer.public_bytes(serialization.Encoding.DER))
        facts = self._crl_facts.get(key)
        if facts is None:
            crl = self.crls[index]
            signed = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            serials = frozenset(entry.serial_number for entry in crl) if signed else frozenset()
            facts = self._crl_facts[key] = (signed, serials)
        return facts

    def __post_init__(self) -> None:
        for ca in self.certificates:
            try:
                bc = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
                ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
            except x509.ExtensionNotFound:
                raise ValueError("trust anchor lacks basicConstraints or keyUsage") from None
            if not bc.ca or not ku.key_cert_sign:
                raise ValueError("trust anchor is not a CA certificate")

    @classmethod
    def from_files(cls, paths: Iterable[Path | str], **kwargs: object) -> TrustAnchors:
        return cls(load_certificates(paths), **kwargs)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled as DER and dotted OIDs (the x509 objects do not pickle), so the board
        service can hand its anchors to its checking processes."""
        der = serialization.Encoding.DER
        return (
            _trust_anchors_from_der,
            (
                tuple(c.public_bytes(der) for c in self.certificates),
                tuple(crl.public_bytes(der) for crl in self.crls),
                tuple(sorted(o.dotted_string for o in self.sign_policies)),
                tuple(sorted(o.dotted_string for o in self.auth_policies)),
                self.require_crl,
            ),
        )


def _trust_anchors_from_der(
    certificates: tuple[bytes, ...],
    crls: tuple[bytes, ...],
    sign_policies: tuple[str, ...],
    auth_policies: tuple[str, ...],
    require_crl: bool,
) -> TrustAnchors:
    return TrustAnchors(
        tuple(x509.load_der_x509_certificate(c) for c in certificates),
        tuple(x509.load_der_x509_crl(c) for c in crls),
        frozenset(x509.ObjectIdentifier(o) for o in sign_policies),
        frozenset(x509.ObjectIdentifier(o) for o in auth_policies),
        require_crl,
    )


@dataclass(frozen=True)
class ValidatedCertificate:
    certificate: x509.Certificate
    issuer: x509.Certificate
    purpose: CertPurpose


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        if cert.issuer != ca.subject:  # ValueError: a name that does not decode
            return False
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _check_key_usage_and_policy(
    cert: x509.Certificate, purpose: CertPurpose, anchors: TrustAnchors
) -> None:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound as exc:
        raise CertificateRejected(Reason.CERTIFICATE_WRONG_USAGE, str(exc)) from None
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            raise CertificateRejected(Reason.CERTIFICATE_WRONG_USAGE, "a CA certificate")
    except x509.ExtensionNotFound:
        pass
    if not ku.digital_signature:
        raise CertificateRejected(Reason.CERTIFICATE_WRONG_USAGE, "no digitalSignature usage")
    if purpose is CertPurpose.SIGN and not ku.content_commitment:
        raise CertificateRejected(Reason.CERTIFICATE_WRONG_USAGE, "no nonRepudiation usage")
    wanted = anchors.sign_policies if purpose is CertPurpose.SIGN else anchors.auth_policies
    present = {p.policy_identifier for p in policies}
    if not present & wanted:
        raise CertificateRejected(Reason.CERTIFICATE_WRONG_USAGE, "certificate policy not accepted")


def _check_revocation(
    cert: x509.Certificate, issuer: x509.Certificate, anchors: TrustAnchors, at: dt.datetime
) -> None:
    current = False
    for index, crl in enumerate(anchors.crls):
        if crl.issuer != issuer.subject:
            continue
        signed, revoked = anchors.crl_facts(index, issuer)
        if not signed:
            continue
        this_update = crl.last_update_utc
        next_update = crl.next_update_utc
        if this_update > at:
            continue
        if next_update is not None and next_update >= at:
            current = True
        if cert.serial_number in revoked:
            raise CertificateRejected(Reason.CERTIFICATE_REVOKED, "listed on the CRL")
    if anchors.require_crl and not current:
        raise CertificateRejected(Reason.REVOCATION_UNKNOWN, "no current CRL from the issuer")


def validate(
    cert: x509.Certificate,
    anchors: TrustAnchors,
    *,
    at: dt.datetime,
    purpose: CertPurpose,
    intermediates: Sequence[x509.Certificate] = (),
) -> ValidatedCertificate:
    """Check `cert` for `purpose` at time `at`; raise `CertificateRejected` on any fault.

    Steps (docs/jpki.md §3): (1) issued by a trust anchor (directly, or through one of
    `intermediates`, each checked like an anchor's child) — JPKI CAs issue end-entity
    certificates directly; (2) validity period contains `at`; (3) key usage and certificate
    policy fit `purpose`; (4) not revoked by a current CRL of the issuer.
    """
    at = _aware(at)
    issuer = next((ca for ca in anchors.certificates if _issued_by(cert, ca)), None)
    if issuer is None:
        for mid in intermediates:
            if not _issued_by(cert, mid):
                continue
            top = next((ca for ca in anchors.certificates if _issued_by(mid, ca)), None)
            if top is None:
                continue
            bc = mid.extensions.get_extension_for_class(x509.BasicConstraints).value
            if not bc.ca or not mid.not_valid_before_utc <= at <= mid.not_valid_after_utc:
                continue
            issuer = mid
            break
    if issuer is None:
        raise CertificateRejected(Reason.CERTIFICATE_UNTRUSTED, "no trusted issuer")
    if not issuer.not_valid_before_utc <= at <= issuer.not_valid_after_utc:
        raise CertificateRejected(Reason.CERTIFICATE_EXPIRED, "issuing CA not valid at that time")
    if at < cert.not_valid_before_utc:
        raise CertificateRejected(Reason.CERTIFICATE_NOT_YET_VALID, "before notBefore")
    if at > cert.not_valid_after_utc:
        raise CertificateRejected(Reason.CERTIFICATE_EXPIRED, "after notAfter")
    _check_key_usage_and_policy(cert, purpose, anchors)
    _check_revocation(cert, issuer, anchors, at)
    return ValidatedCertificate(cert, issuer, purpose)


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""
