"""`tohyo card …` end to end: a virtual card from the CLI, read back by the CLI via pyscard."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jpki_pcsc_support import reader_name, wait_for

from jpki.card import CertKind, JpkiCard
from jpki.certs import CertPurpose, TrustAnchors
from jpki.pcsc import PcscTransport, card_present
from jpki.pins import PinKind
from jpki.reasons import Reason
from jpki.registrar import (
    Accepted,
    BallotAuthentication,
    EligibilityRules,
    Refused,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
    ballot_message,
)
from jpki.testca import TestCa

pytestmark = pytest.mark.pcsc

REPO = Path(__file__).resolve().parents[3]
CLI_PASSWORD = "CLIPASS42"
SLOT = 1


def tohyo(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tohyo", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


class VirtualCardProcess:
    def __init__(self, ca_dir: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "tohyo", "card", "virtual",
                "--name", "投票 花子", "--birth", "2001-03-04", "--sex", "female",
                "--address", "茨城県つくば市千現一丁目2番", "--slot", str(SLOT),
                "--ca-dir", str(ca_dir), *extra,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TOHYO_CARD_PASSWORD": CLI_PASSWORD},
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline()
        assert "virtual card ready" in self.banner, (
            self.proc.stderr.read() if self.proc.stderr else ""
        )
        wait_for(lambda: card_present(reader_name(SLOT)), 15, "the CLI's virtual card")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        wait_for(lambda: not card_present(reader_name(SLOT)), 15, "the reader to be empty")


@pytest.fixture
def cli_card(pcscd: None, tmp_path: Path) -> Iterator[tuple[VirtualCardProcess, Path]]:
    ca_dir = tmp_path / "ca"
    card = VirtualCardProcess(ca_dir)
    try:
        yield card, ca_dir
    finally:
        card.stop()


def test_list_status_and_read_certs(
    cli_card: tuple[VirtualCardProcess, Path], tmp_path: Path
) -> None:
    card, ca_dir = cli_card
    assert card.proc.poll() is None
    listed = tohyo("card", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{reader_name(SLOT)}\tcard present" in listed.stdout

    status = tohyo("card", "status", "--reader", reader_name(SLOT))
    assert status.returncode == 0, status.stderr
    assert "My Number Card" in status.stdout
    assert "signing password: 5 tries left" in status.stdout
    assert "auth PIN: 3 tries left" in status.stdout
    status = tohyo("card", "status", "--reader", reader_name(SLOT), "--json")
    assert json.loads(status.stdout)["tries_left"] == {"signing_password": 5, "auth_pin": 3}

    out = tmp_path / "certs"
    read = tohyo(
        "card", "read-certs", "--reader", reader_name(SLOT), "--sign", "--show-facts",
        "--out", str(out), env={"TOHYO_CARD_PASSWORD": CLI_PASSWORD.lower()},
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert "signing certificate:" in read.stdout
    assert "authentication certificate:" in read.stdout
    assert "投票 花子" in read.stdout and "2001-03-04" in read.stdout
    assert CLI_PASSWORD not in read.stdout + read.stderr
    sign = x509.load_der_x509_certificate((out / "sign.der").read_bytes())
    anchors = TrustAnchors.from_files([ca_dir / "sign_ca.pem"], require_crl=False)
    assert sign.issuer == anchors.certificates[0].subject


def test_wrong_password_from_the_environment(cli_card: tuple[VirtualCardProcess, Path]) -> None:
    wrong = "WRONGPW1"
    result = tohyo(
        "card", "read-certs", "--reader", reader_name(SLOT), "--sign",
        env={"TOHYO_CARD_PASSWORD": wrong},
    )  # fmt: skip
    assert result.returncode == 2
    assert "4 tries are left" in result.stderr
    assert wrong not in result.stdout + result.stderr
    status = tohyo("card", "status", "--reader", reader_name(SLOT))
    assert "signing password: 4 tries left" in status.stdout


def test_password_from_a_file_descriptor(cli_card: tuple[VirtualCardProcess, Path]) -> None:
    r, w = os.pipe()
    os.write(w, CLI_PASSWORD.encode() + b"\n")
    os.close(w)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tohyo", "card", "read-certs", "--reader", reader_name(SLOT),
             "--sign", "--password-fd", str(r), "--password-env", "TOHYO_UNSET_VARIABLE"],
            capture_output=True, text=True, cwd=REPO, pass_fds=(r,), timeout=60,
        )  # fmt: skip
    finally:
        os.close(r)
    assert result.returncode == 0, result.stderr
    assert "signing certificate:" in result.stdout


def test_no_password_source_is_a_clear_error(cli_card: tuple[VirtualCardProcess, Path]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TOHYO_CARD_PASSWORD"}
    result = subprocess.run(
        [sys.executable, "-m", "tohyo", "card", "read-certs",
         "--reader", reader_name(SLOT), "--sign"],
        capture_output=True, text=True, cwd=REPO, env=env, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "TOHYO_CARD_PASSWORD" in result.stderr


def test_revoked_virtual_card_is_refused_by_the_registrar(pcscd: None, tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    card = VirtualCardProcess(ca_dir, "--revoked")
    try:
        assert "revoked" in card.banner
        fingerprint = hashlib.sha256(b"cli election").digest()
        bh = hashlib.sha256(b"ballot").digest()
        jpki_card = JpkiCard(PcscTransport(reader_name(SLOT)))
        try:
            jpki_card.select_ap()
            jpki_card.verify_pin(PinKind.SIGN, CLI_PASSWORD)
            cert = jpki_card.read_certificate(CertKind.SIGN)
            signature = jpki_card.sign(PinKind.SIGN, ballot_message(fingerprint, bh))
        finally:
            jpki_card.transport.close()
    finally:
        card.stop()
    crl = x509.load_pem_x509_crl((ca_dir / "crl-sign.pem").read_bytes())
    now = dt.datetime.now(dt.UTC)

    def registrar(crls: tuple[x509.CertificateRevocationList, ...]) -> Registrar:
        trust = TrustAnchors.from_files([ca_dir / "sign_ca.pem", ca_dir / "auth_ca.pem"], crls=crls)
        config = RegistrarConfig(
            election_fingerprint=fingerprint,
            trust=trust,
            eligibility=EligibilityRules(
                now.date(),
                18,
                ("茨城県つくば市",),
                voting_start=now - dt.timedelta(days=1),
                voting_end=now + dt.timedelta(days=1),
            ),
            voting_codes=VotingCodeConfig(VotingCodeMode.NONE),
            pseudonym_key=b"\x09" * 32,
            attestation_key=Ed25519PrivateKey.generate(),
        )
        return Registrar(config, _Sink())

    request = BallotAuthentication(fingerprint, bh, cert, signature)
    result = registrar((crl,)).register(request, now=now)
    assert isinstance(result, Refused) and result.reason is Reason.CERTIFICATE_REVOKED
    # the same card against an empty CRL of the same CA is accepted: the CRL made the difference
    clean = TestCa.load(ca_dir, os.environ["TOHYO_KEY_PASSPHRASE"].encode()).crl(
        CertPurpose.SIGN,
        (),
        this_update=now - dt.timedelta(minutes=1),
        next_update=now + dt.timedelta(days=1),
    )
    assert isinstance(registrar((clean,)).register(request, now=now), Accepted)


class _Sink:
    def append_many(self, records: object) -> None:
        pass
