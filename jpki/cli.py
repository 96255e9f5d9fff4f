"""`tohyo card …`: readers, card status, certificates, virtual cards.

PINs are read without echo (getpass), or from an environment variable or a file descriptor for
scripts; they are never printed or logged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tohyo.cli import CliError

__all__ = ["read_secret", "register"]

log = logging.getLogger(__name__)

DEFAULT_PASSWORD_ENV = "TOHYO_CARD_PASSWORD"  # noqa: S105 (the name of a variable)
DEFAULT_PIN_ENV = "TOHYO_CARD_PIN"


def register(subparsers: Any) -> None:
    card = subparsers.add_parser(
        "card", help="My Number Card readers, status, certificates, virtual cards"
    )
    sub = card.add_subparsers(dest="card_command", metavar="ACTION")
    card.set_defaults(func=lambda args: _usage(card))

    p = sub.add_parser("list", help="list PC/SC readers and whether a card is present")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("status", help="card type and PIN tries left (spends no try)")
    _reader_arg(p)
    p.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: reader, card, and per PIN "tries_left" '
        "(0 when blocked, null when unknown)",
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("read-certs", help="read and summarise the card's certificates")
    _reader_arg(p)
    p.add_argument(
        "--sign",
        action="store_true",
        help="also read the signing certificate (needs the signing password)",
    )
    p.add_argument(
        "--show-facts",
        action="store_true",
        help="print name, birth date, sex and address from the signing certificate",
    )
    p.add_argument("--out", type=Path, help="write the certificates as DER files here")
    _secret_args(p, DEFAULT_PASSWORD_ENV, "signing password")
    p.set_defaults(func=cmd_read_certs)

    p = sub.add_parser("virtual", help="run a virtual My Number Card on vpcd (tests, demos)")
    p.add_argument("--name", required=True, help="name, family and given separated by a space")
    p.add_argument("--birth", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    p.add_argument("--sex", required=True, choices=["male", "female", "unknown", "1", "2", "3"])
    p.add_argument("--address", required=True, help="address starting with the prefecture")
    p.add_argument(
        "--password",
        help=f"signing password of the virtual card (or ${DEFAULT_PASSWORD_ENV})",
    )
    p.add_argument("--auth-pin", default=None, help=f"4-digit auth PIN (or ${DEFAULT_PIN_ENV})")
    p.add_argument("--revoked", action="store_true", help="list the signing cert on the CRL")
    p.add_argument("--slot", type=int, default=0, choices=[0, 1], help="vpcd slot (0 or 1)")
    p.add_argument("--host", default="127.0.0.1", help="where vpcd listens")
    p.add_argument(
        "--ca-dir",
        type=Path,
        default=Path("tohyo-test-ca"),
        help="test CA directory (created if missing); CRLs are written here",
    )
    p.add_argument("--valid-days", type=int, default=365 * 5, help="certificate validity")
    p.set_defaults(func=cmd_virtual)

    p = sub.add_parser("test-ca", help="create the test CA and fresh CRLs (rehearsals, tests)")
    p.add_argument(
        "--ca-dir",
        type=Path,
        default=Path("tohyo-test-ca"),
        help="test CA directory (created if missing)",
    )
    p.set_defaults(func=cmd_test_ca)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _reader_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", help="reader name (default: the first reader with a card)")


def _secret_args(p: argparse.ArgumentParser, env: str, what: str) -> None:
    p.add_argument(
        "--password-env",
        default=env,
        metavar="VAR",
        help=f"take the {what} from this environment variable (default ${env})",
    )
    p.add_argument(
        "--password-fd",
        type=int,
        metavar="FD",
        help=f"read the {what} from this file descriptor (one line)",
    )


def read_secret(*, env: str | None, fd: int | None, prompt: str) -> str:
    """A PIN from a file descriptor, an environment variable, or the terminal (no echo)."""
    if fd is not None:
        with os.fdopen(os.dup(fd), "r", encoding="utf-8") as stream:
            value = stream.readline().rstrip("\r\n")
        if not value:
            raise CliError("nothing could be read from the given file descriptor")
        return value
    if env and os.environ.get(env):
        return os.environ[env]
    if not sys.stdin.isatty():
        raise CliError(f"no terminal to ask for the PIN; set ${env} or use --password-fd")
    return getpass.getpass(prompt)


# --- real readers (pyscard is imported only here, lazily) ---


def _pcsc() -> Any:
    try:
        from jpki import pcsc
    except ImportError as exc:
        raise CliError(
            f"pyscard is not installed ({exc.name}); install it with: pip install pyscard"
        ) from None
    return pcsc


def _open_card(reader: str | None) -> tuple[str, Any]:
    from jpki.card import JpkiCard
    from jpki.transport import TransportError

    pcsc = _pcsc()
    try:
        names = pcsc.list_readers()
    except TransportError as exc:
        raise CliError(f"{exc} (is pcscd running?)") from None
    if not names:
        raise CliError("no card reader found")
    candidates = [reader] if reader else names
    if reader and reader not in names:
        raise CliError(f"no reader named {reader!r}; readers: {', '.join(names)}")
    for name in candidates:
        try:
            transport = pcsc.PcscTransport(name)
        except TransportError:
            continue
        card = JpkiCard(transport)
        try:
            card.select_ap()
        except Exception:
            transport.close()
            if reader:
                raise CliError(f"the card in {name!r} has no JPKI application") from None
            continue
        return name, card
    raise CliError("no My Number Card found in " + ", ".join(candidates))


def cmd_list(args: argparse.Namespace) -> int:
    from jpki.transport import TransportError

    pcsc = _pcsc()
    try:
        names = pcsc.list_readers()
    except TransportError as exc:
        raise CliError(f"{exc} (is pcscd running?)") from None
    if not names:
        print("no readers")
        return 1
    for name in names:
        state = "card present" if pcsc.card_present(name) else "empty"
        print(f"{name}\t{state}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from jpki.apdu import ApduError
    from jpki.pins import PinKind

    name, card = _open_card(args.reader)
    tries: dict[str, int | None] = {}
    try:
        kind = card.card_type()
        lines = [f"reader: {name}", f"card: {_card_label(kind)}"]
        for pin, label in ((PinKind.SIGN, "signing password"), (PinKind.AUTH, "auth PIN")):
            key = "signing_password" if pin is PinKind.SIGN else "auth_pin"
            try:
                status = card.pin_status(pin)
            except ApduError as exc:
                tries[key] = None
                lines.append(f"{label}: unknown ({exc})")
                continue
            tries[key] = 0 if status.blocked else status.tries_left
            if status.blocked:
                lines.append(f"{label}: BLOCKED — reset it at your municipal office")
            else:
                lines.append(f"{label}: {status.tries_left} tries left")
    finally:
        card.transport.close()
    if args.json:
        import json

        print(
            json.dumps(
                {"reader": name, "card": _card_label(kind), "tries_left": tries},
                ensure_ascii=False,
                sort_keys=True,
            )
        )
    else:
        print("\n".join(lines))
    return 0


def _card_label(kind: Any) -> str:
    from jpki.card import CardType

    return {
        CardType.MY_NUMBER_CARD: "My Number Card (JPKIAPICCTOKEN2)",
        CardType.JUKI_CARD: "Basic Resident Register card (JPKIAPICCTOKEN)",
        CardType.ANDROID_SE: "Android smartphone certificate (JPKIAPGPSETOKEN)",
    }.get(kind, "unknown JPKI token")


def _summary(label: str, der: bytes) -> list[str]:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return [
        f"{label}:",
        f"  subject: {cert.subject.rfc4514_string()}",
        f"  issuer:  {cert.issuer.rfc4514_string()}",
        f"  serial:  {cert.serial_number:X}",
        f"  valid:   {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}",
        f"  sha256:  {hashlib.sha256(der).hexdigest()}",
    ]


def cmd_read_certs(args: argparse.Namespace) -> int:
    from cryptography import x509

    from jpki.card import CertKind, PinBlockedError, WrongPinError
    from jpki.certs import CertificateRejected, basic_facts
    from jpki.pins import PinFormatError, PinKind
    from jpki.reasons import Reason, explain

    name, card = _open_card(args.reader)
    kinds = [
        (CertKind.AUTH, "authentication certificate"),
        (CertKind.AUTH_CA, "authentication CA certificate"),
        (CertKind.SIGN_CA, "signing CA certificate"),
    ]
    try:
        if args.sign:
            password = read_secret(
                env=args.password_env, fd=args.password_fd, prompt="signing password: "
            )
            try:
                card.verify_pin(PinKind.SIGN, password)
            except PinFormatError as exc:
                raise CliError(str(exc)) from None
            except WrongPinError as exc:
                raise CliError(explain(Reason.WRONG_PASSWORD, tries_left=exc.tries_left)) from None
            except PinBlockedError:
                raise CliError(explain(Reason.PASSWORD_BLOCKED)) from None
            finally:
                del password
            kinds.insert(0, (CertKind.SIGN, "signing certificate"))
        print(f"reader: {name}")
        for kind, label in kinds:
            der = card.read_certificate(kind)
            print("\n".join(_summary(label, der)))
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"{kind.name.lower()}.der").write_bytes(der)
            if kind is CertKind.SIGN and args.show_facts:
                try:
                    facts = basic_facts(x509.load_der_x509_certificate(der))
                except CertificateRejected as exc:
                    print(f"  basic facts: unreadable ({exc.reason.value})")
                else:
                    print(f"  name:    {facts.name}")
                    print(f"  born:    {facts.birth_date.isoformat()}")
                    print(f"  sex:     {facts.sex.name.lower()}")
                    print(f"  address: {facts.address}")
    finally:
        card.transport.close()
    return 0


# --- virtual card ---


def _load_crl_serials(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line, 16) for line in path.read_text().split() if line]


def _test_ca(ca_dir: Path) -> Any:
    """The test CA in `ca_dir`, created there on first use (keys encrypted with
    TOHYO_KEY_PASSPHRASE)."""
    from jpki.testca import TestCa

    ca_pass = os.environ.get("TOHYO_KEY_PASSPHRASE", "").encode()
    if not ca_pass:
        raise CliError("set TOHYO_KEY_PASSPHRASE: the test CA's keys are stored encrypted with it")
    if (ca_dir / "sign_ca.pem").exists():
        try:
            return TestCa.load(ca_dir, ca_pass)
        except (ValueError, TypeError) as exc:
            raise CliError(f"{ca_dir}: cannot read the test CA's keys (wrong passphrase?)") from exc
    ca = TestCa.create(pooled=False, not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    ca.save(ca_dir, ca_pass)
    return ca


def _write_crls(ca: Any, ca_dir: Path, now: dt.datetime) -> None:
    """Fresh CRLs of both test CAs (valid 30 days): the signing one lists revoked-sign.txt."""
    from cryptography.hazmat.primitives import serialization

    from jpki.certs import CertPurpose

    revoked = _load_crl_serials(ca_dir / "revoked-sign.txt")
    for purpose, serials in ((CertPurpose.SIGN, revoked), (CertPurpose.AUTH, [])):
        crl = ca.crl(purpose, serials, this_update=now, next_update=now + dt.timedelta(days=30))
        (ca_dir / f"crl-{purpose.value}.pem").write_bytes(
            crl.public_bytes(serialization.Encoding.PEM)
        )


def cmd_test_ca(args: argparse.Namespace) -> int:
    """Create (or load) the test CA and write fresh CRLs: a registrar's anchors for a rehearsal."""
    ca = _test_ca(args.ca_dir)
    _write_crls(ca, args.ca_dir, dt.datetime.now(dt.UTC))
    print(
        f"test CA in {args.ca_dir}: sign_ca.pem, auth_ca.pem (certificates), crl-sign.pem, "
        "crl-auth.pem (CRLs, valid 30 days); for rehearsals and tests only, never J-LIS"
    )
    return 0


def cmd_virtual(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization

    from jpki.certs import BasicFacts, Sex
    from jpki.pins import PinFormatError
    from jpki.virtual_card import issue_virtual_card
    from jpki.vpcd import VpcdConnection, port_for_slot

    password = args.password or os.environ.get(DEFAULT_PASSWORD_ENV)
    if not password:
        raise CliError(f"give --password or ${DEFAULT_PASSWORD_ENV} for the virtual card")
    auth_pin = args.auth_pin or os.environ.get(DEFAULT_PIN_ENV) or "1234"
    sex = {"male": Sex.MALE, "female": Sex.FEMALE, "unknown": Sex.UNKNOWN}.get(args.sex) or Sex(
        args.sex
    )
    facts = BasicFacts(name=args.name, birth_date=args.birth, sex=sex, address=args.address)

    ca_dir: Path = args.ca_dir
    ca = _test_ca(ca_dir)
    now = dt.datetime.now(dt.UTC)
    try:
        issued = issue_virtual_card(
            ca,
            facts,
            sign_password=password,
            auth_pin=auth_pin,
            not_before=now - dt.timedelta(hours=1),
            not_after=now + dt.timedelta(days=args.valid_days),
        )
    except PinFormatError as exc:
        raise CliError(str(exc)) from None
    del password, auth_pin

    if args.revoked:
        revoked_file = ca_dir / "revoked-sign.txt"
        revoked = [*_load_crl_serials(revoked_file), issued.sign_cert.serial_number]
        revoked_file.write_text("".join(f"{s:X}\n" for s in revoked))
    _write_crls(ca, ca_dir, now)
    pem = serialization.Encoding.PEM
    (ca_dir / "last-sign-cert.pem").write_bytes(issued.sign_cert.public_bytes(pem))

    connection = VpcdConnection(issued.card, host=args.host, port=port_for_slot(args.slot))

    def _stop(signum: int, frame: object) -> None:
        connection.stop()

    signal.signal(signal.SIGTERM, _stop)
    try:
        connection.start()
    except (OSError, TimeoutError) as exc:
        raise CliError(f"cannot reach vpcd at {args.host}:{connection.port}: {exc}") from None
    print(
        f"virtual card ready in 'Virtual PCD 00 {args.slot:02d}' "
        f"(sign cert serial {issued.sign_cert.serial_number:X}"
        f"{', revoked' if args.revoked else ''}); test CA in {ca_dir}",
        flush=True,
    )
    try:
        connection.wait()
    except KeyboardInterrupt:
        pass
    finally:
        connection.stop()
    return 0
