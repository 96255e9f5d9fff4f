"""My Number Card (JPKI) support: card access in three layers, certificates, the registrar.

Layers (docs/jpki.md): `jpki.apdu` (pure APDUs), `jpki.card` (JPKI applet operations over a
`jpki.transport.Transport`), `jpki.pcsc` (the pyscard adapter — the only module importing
`smartcard`, so it is not imported here). Tests and demos: `jpki.virtual_card`, `jpki.vpcd`,
`jpki.testca`. Server side: `jpki.certs`, `jpki.registrar`, `jpki.evidence`,
`jpki.voting_codes`.
"""

from jpki.apdu import ApduError, StatusWord
from jpki.card import CertKind, JpkiCard, PinBlockedError, WrongPinError
from jpki.certs import BasicFacts, CertificateRejected, TrustAnchors, validate
from jpki.pins import PinFormatError, PinKind
from jpki.reasons import Reason, explain
from jpki.registrar import (
    Accepted,
    Attestation,
    BallotAuthentication,
    EligibilityRules,
    Refused,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
    attestation_message,
    ballot_message,
    verify_attestation,
)
from jpki.voting_codes import generate_voting_codes

__all__ = [
    "Accepted",
    "ApduError",
    "Attestation",
    "BallotAuthentication",
    "BasicFacts",
    "CertKind",
    "CertificateRejected",
    "EligibilityRules",
    "JpkiCard",
    "PinBlockedError",
    "PinFormatError",
    "PinKind",
    "Reason",
    "Refused",
    "Registrar",
    "RegistrarConfig",
    "StatusWord",
    "TrustAnchors",
    "VotingCodeConfig",
    "VotingCodeMode",
    "WrongPinError",
    "attestation_message",
    "ballot_message",
    "explain",
    "generate_voting_codes",
    "validate",
    "verify_attestation",
]
