"""Step V13, for authorised auditors: every attestation against the registrar's JPKI evidence.

docs/record.md §8. The evidence store (`jpki.evidence.EvidenceStore`) is private: it holds each
voter's signing certificate and JPKI signature. For every ballot on the record the auditor
checks, with `jpki.evidence.check_evidence`: E1 the certificate chains to a trust anchor, was
valid for signing and not revoked when the ballot arrived; E2 the card's signature over
["tohyo/jpki-ballot/v1", fingerprint, ballot hash]; E3 (with the pseudonym key) the pseudonym
is the one derived from the certificate's facts; E4 the attestation matches the record and its
signature verifies; then E5 eligibility from the certificate's facts: age on election day and
address in the manifest's areas, and the arrival time within the voting period.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from election.period import outside_voting_period
from jpki.certs import CertificateRejected, TrustAnchors, basic_facts, load_certificates
from jpki.evidence import EvidenceStore, EvidenceStoreError, check_evidence
from jpki.registrar import Attestation, Evidence, age_on, is_resident
from mixnet.errors import VerificationError
from verifier.report import StepResult
from verifier.steps import Context, Skipped, StepFailed

__all__ = ["EvidenceInputs", "evidence_step", "load_evidence_inputs"]


class EvidenceInputs:
    def __init__(
        self, records: list[Evidence], trust: TrustAnchors, pseudonym_key: bytes | None = None
    ) -> None:
        self.records, self.trust, self.pseudonym_key = records, trust, pseudonym_key


def load_evidence_inputs(
    directory: Path, passphrase: str, *, pseudonym_key: bytes | None = None
) -> EvidenceInputs:
    """DIR/evidence.store, DIR/anchors/* (CA certificates), DIR/crls/* (CRLs, PEM or DER).

    Raises `EvidenceStoreError` or `ValueError` when the inputs cannot be read.
    """
    from cryptography import x509

    store_path = directory / "evidence.store"
    if not store_path.is_file():
        raise ValueError(f"{store_path}: no evidence store")
    anchors = sorted((directory / "anchors").glob("*")) if (directory / "anchors").is_dir() else []
    if not anchors:
        raise ValueError(f"{directory / 'anchors'}: no trust-anchor certificates")
    crls = []
    for path in sorted((directory / "crls").glob("*")) if (directory / "crls").is_dir() else []:
        data = path.read_bytes()
        crls.append(
            x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
        )
    trust = TrustAnchors(load_certificates(anchors), crls=tuple(crls))
    records = EvidenceStore(store_path, passphrase).read_all()
    return EvidenceInputs(records, trust, pseudonym_key)


def evidence_step(inputs: EvidenceInputs) -> Callable[[Context, StepResult], None]:
    def step(ctx: Context, res: StepResult) -> None:
        ctx.need("manifest")
        manifest = ctx.manifest
        assert manifest is not None
        if not ctx.ballots:
            raise Skipped("no checked ballots (V8)")
        by_key = {
            (e.pseudonym, e.ballot_hash): e
            for e in inputs.records
            if e.election_fingerprint == ctx.fingerprint
        }
        used = set()
        for index, env in ctx.of_type("ballot"):
            try:
                att = Attestation.from_json(env.body["attestation"])
            except (ValueError, KeyError) as exc:
                raise StepFailed("V13.decode", f"ballot entry {index}: {exc}") from exc
            ev = by_key.get((att.pseudonym, att.ballot_hash))
            where = f"ballot entry {index}"
            if ev is None:
                raise StepFailed("V13.missing", f"{where}: no evidence for its attestation")
            used.add((att.pseudonym, att.ballot_hash))
            try:
                check_evidence(
                    ev,
                    inputs.trust,
                    attestation=att,
                    registrar_public_key=bytes.fromhex(manifest.registrar_key),
                    pseudonym_key=inputs.pseudonym_key,
                )
            except VerificationError as exc:
                raise StepFailed(exc.check, f"{where}: {exc.detail}") from exc
            try:
                facts = basic_facts(_certificate(ev.certificate))
            except CertificateRejected as exc:
                raise StepFailed("E5-eligibility", f"{where}: {exc.reason.value}") from exc
            if age_on(facts.birth_date, manifest.election_day) < manifest.eligibility.min_age:
                raise StepFailed(
                    "E5-eligibility",
                    f"{where}: younger than {manifest.eligibility.min_age} on election day",
                )
            if not is_resident(facts.address, manifest.eligibility.areas):
                raise StepFailed("E5-eligibility", f"{where}: address outside the areas")
            if outside_voting_period(manifest.voting_start, manifest.voting_end, ev.received_at):
                raise StepFailed("E5-eligibility", f"{where}: received outside the voting period")
        res.counts = {
            "attestations": len(ctx.of_type("ballot")),
            "evidence": len(inputs.records),
            "unmatched_evidence": len(by_key) - len(used),
        }
        if len(by_key) > len(used):
            res.notes.append(
                f"{len(by_key) - len(used)} evidence records match no ballot on "
                "the record (attested but not published?)"
            )

    return step


def _certificate(der: bytes):  # type: ignore[no-untyped-def]
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


__all__ += ["EvidenceStoreError"]
