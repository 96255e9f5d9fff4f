"""`tohyo vote …`: the voter's commands in the terminal.

Every command starts from the election's fingerprint (`--fingerprint`, printed on the
voting-code letter and the official notice), never from the board's word
(`verifier.fetch.pinned_board`).

- `vote cast`: election → voting code → choices → review → card password → cast → receipt,
  checked against the voter's own ballot before "cast" is said (`session.check_cast`).
  Interactive by default; every step can be given as a flag (`--choice CONTEST=OPTION[,…]`,
  `--code`, `--yes`), and the card password comes from a prompt without echo or from
  TOHYO_CARD_PASSWORD for scripts. `--audit FILE` checks the encryption instead of casting
  (Benaloh): the ballot is spoiled and its randomness written for `tohyo verify ballot`.
- `vote check-receipt RECEIPT [--board URL]`: is my ballot in the record, at its place?
- `vote show --board URL --election ID --fingerprint HEX`: the election, its contests and
  options.
- `vote web --board URL --election ID --fingerprint HEX`: the same steps as accessible web
  pages on 127.0.0.1 (`voter_client.web`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from mixnet.encoding import canonical_json

__all__ = ["register"]

PASSWORD_ENV = "TOHYO_CARD_PASSWORD"  # noqa: S105 (the name of a variable)
FINGERPRINT_HELP = (
    "the election's fingerprint (64 hex digits, from the voting-code letter or "
    "the official notice); the election is checked against it"
)


def _choices_from_flags(values: list[str] | None) -> dict[str, Any]:
    from tohyo.cli import CliError

    out: dict[str, Any] = {}
    for item in values or []:
        contest, sep, options = item.partition("=")
        if not sep or not contest:
            raise CliError(f"--choice {item!r}: write CONTEST=OPTION[,OPTION…] or CONTEST=blank")
        if options in ("", "blank"):
            out[contest] = []
        else:
            out[contest] = [o.strip() for o in options.split(",") if o.strip()]
    return out


def _ask_choices(manifest: Any) -> dict[str, Any]:
    choices: dict[str, Any] = {}
    for contest in manifest.contests:
        print(f"\n{contest.title}")
        for i, o in enumerate(contest.options, start=1):
            extra = " ".join(x for x in (o.reading and f"（{o.reading}）", o.party) if x)
            print(f"  {i}. {o.name} {extra}".rstrip())
        rule = {
            "single": "one number",
            "k_of_n": f"up to {contest.max_choices} numbers",
            "ranked": "numbers in order of preference",
        }[contest.rule]
        blank = ", or Enter for a blank vote" if contest.allow_blank else ""
        answer = input(f"Your choice ({rule}, separated by spaces{blank}): ").split()
        picked = []
        for a in answer:
            if not a.isdigit() or not 1 <= int(a) <= len(contest.options):
                raise ValueError(f"{a!r} is not one of the numbers shown")
            picked.append(contest.options[int(a) - 1].id)
        choices[contest.id] = picked
    return choices


def _transport(args: argparse.Namespace) -> Any:
    from jpki.pcsc import PcscTransport, list_readers
    from tohyo.cli import CliError

    readers = list_readers()
    name = args.reader or (readers[0] if readers else None)
    if name is None:
        raise CliError("no card reader found (is pcscd running and the reader plugged in?)")
    return PcscTransport(name)


def _sign_on_card(transport: Any, manifest: Any, encrypted: Any) -> tuple[bytes, bytes]:
    """The signing password from the voter, then the card's certificate and signature;
    every card trouble becomes a plain CliError."""
    from jpki.apdu import ApduError
    from jpki.card import JpkiCard, PinBlockedError, WrongPinError
    from jpki.pins import PinFormatError, PinKind
    from jpki.reasons import Reason, explain
    from jpki.transport import TransportError
    from tohyo.cli import CliError
    from voter_client.session import sign_with_card

    try:
        card = JpkiCard(transport)
        card.select_ap()
        status = card.pin_status(PinKind.SIGN)
        if status.blocked:
            raise CliError(explain(Reason.PASSWORD_BLOCKED))
        print(f"Card signing password: {status.tries_left} tries left")
        password = os.environ.get(PASSWORD_ENV) or getpass.getpass("Signing password: ")
        try:
            certificate, signature = sign_with_card(card, password.upper(), manifest, encrypted)
        except WrongPinError as exc:
            raise CliError(explain(Reason.WRONG_PASSWORD, tries_left=exc.tries_left)) from exc
        except PinBlockedError as exc:
            raise CliError(explain(Reason.PASSWORD_BLOCKED)) from exc
        except PinFormatError as exc:  # refused before the card: no try spent
            raise CliError(str(exc)) from exc
    except TransportError as exc:
        raise CliError(f"the card could not be read ({exc}); is it in the reader?") from exc
    except (ApduError, ValueError) as exc:  # an answer that does not parse
        raise CliError(
            "the card cannot be read: it did not answer as a My Number Card does"
        ) from exc
    return certificate, signature


def _cast(args: argparse.Namespace) -> int:
    from election.period import outside_voting_period
    from jpki.reasons import Reason, explain
    from jpki.transport import TransportError
    from mixnet.errors import VerificationError
    from tohyo.cli import CliError
    from voter_client.ballot import (
        InvalidChoice,
        audit_record,
        describe_choices,
        encrypt_ballot,
    )
    from voter_client.session import CastRefused, NotRecorded, cast, save_receipt

    info = _fetch(args)
    manifest = info.manifest
    if info.phase != "voting" or info.pk is None:
        raise CliError(f"{manifest.title}: voting is not open (phase: {info.phase})")
    late = outside_voting_period(
        manifest.voting_start, manifest.voting_end, dt.datetime.now(dt.UTC)
    )
    if late:
        raise CliError(
            f"{manifest.title}: {late}: voting is open from {manifest.voting_start} "
            f"to {manifest.voting_end}"
        )
    print(f"{manifest.title} — election day {manifest.election_day}")
    print(f"election fingerprint {info.short_fingerprint} (compare it with your letter)")
    try:
        choices = _choices_from_flags(args.choice) if args.choice else _ask_choices(manifest)
        encrypted = encrypt_ballot(manifest, info.pk, choices)
    except (InvalidChoice, ValueError) as exc:
        raise CliError(str(exc)) from exc
    print("\nPlease check your ballot:")
    for line in describe_choices(manifest, choices):
        print(f"  {line}")
    if args.audit:
        record = audit_record(manifest, info.pk, encrypted)
        args.audit.write_bytes(canonical_json(record))
        print(
            f"\nThis ballot was NOT cast. Its encryption is revealed in {args.audit}; check "
            f"it on another device with `tohyo verify ballot {args.audit} --board "
            f"{args.board} --fingerprint {manifest.fingerprint().hex()}`, then cast again."
        )
        return 0
    if manifest.eligibility.voting_codes == "none":
        code = ""
    else:
        code = args.code if args.code is not None else input("Voting code (on your postcard): ")
    if not args.yes:
        if input('\nType "cast" to cast this ballot: ').strip().lower() != "cast":
            print("Not cast. Nothing was sent.")
            return 1
    try:
        transport = _transport(args)
    except TransportError as exc:
        raise CliError(
            f"no card in the reader ({exc}): put your card on the reader and try again"
        ) from exc
    try:
        certificate, signature = _sign_on_card(transport, manifest, encrypted)
    finally:
        transport.close()
    try:
        doc = asyncio.run(cast(args.board, info, encrypted, certificate, signature, code))
    except CastRefused as exc:
        detail = explain(Reason(exc.reason)) if exc.reason else exc.detail
        raise CliError(f"the ballot was not accepted: {detail}") from exc
    except NotRecorded as exc:
        evidence = args.receipt or Path("receipts") / f"{args.election}-NOT-RECORDED.json"
        evidence.parent.mkdir(parents=True, exist_ok=True)
        evidence.write_bytes(canonical_json(exc.evidence))
        print(
            f"\nWARNING: the board said your ballot was accepted, but its receipt does NOT "
            f"show your ballot in the record ({exc.check}: {exc.detail}). Your ballot may "
            f"have been dropped or replaced. The evidence is in {evidence}: give it to the "
            "election observers, and vote again from another connection."
        )
        print(canonical_json(exc.evidence).decode(), file=sys.stderr)
        return 1
    except VerificationError as exc:
        raise CliError(f"the board failed a check after casting ({exc}); report it") from exc
    receipt_path = args.receipt or Path("receipts") / (
        f"{args.election}-{doc['receipt']['index']}.json"
    )
    save_receipt(receipt_path, doc, info, args.board, encrypted.ballot.to_json())
    print("\nYour ballot was cast.")
    if doc["replaced_earlier_ballot"]:
        print("It replaces the ballot you cast before: only this one will be counted.")
    print(
        f"Receipt saved in {receipt_path}. Check it any time with "
        f"`tohyo vote check-receipt {receipt_path}`."
    )
    return 0


def _check_receipt(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError
    from voter_client.session import check_receipt

    if not args.receipt.exists():
        raise CliError(f"{args.receipt}: no such file")
    fingerprint = _fingerprint(args.fingerprint) if args.fingerprint else None
    try:
        result = asyncio.run(check_receipt(args.receipt, args.board, fingerprint))
    except Exception as exc:
        if isinstance(exc, CliError):
            raise
        raise CliError(f"could not check the receipt: {exc}") from exc
    if args.json:
        print(
            json.dumps(
                {
                    "included": result.included,
                    "kind": result.kind,
                    "forked": result.forked,
                    "message": result.message,
                    "evidence": result.evidence,
                },
                ensure_ascii=False,
                sort_keys=True,
            )
        )
        return 0 if result.included else 1
    print(result.message)
    if result.evidence is not None:
        print(canonical_json(result.evidence).decode(), file=sys.stderr)
    return 0 if result.included else 1


def _fingerprint(text: str) -> bytes:
    from tohyo.cli import CliError
    from verifier.fetch import parse_fingerprint

    try:
        return parse_fingerprint(text)
    except ValueError as exc:
        raise CliError(f"--fingerprint: {exc}") from exc


def _fetch(args: argparse.Namespace) -> Any:
    """The election from the board under the pinned fingerprint, or a CliError saying in plain
    words what went wrong."""
    import aiohttp

    from mixnet.errors import DecodeError, VerificationError
    from tohyo.cli import CliError
    from voter_client.session import fetch_election

    board, election = args.board, args.election
    fingerprint = _fingerprint(args.fingerprint)
    try:
        return asyncio.run(fetch_election(board, election, fingerprint))
    except VerificationError as exc:
        raise CliError(f"the board at {board} failed a check ({exc}); do not vote there") from exc
    except DecodeError as exc:
        raise CliError(f"{board}: {exc}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise CliError(f"cannot reach the board at {board}: {exc}") from exc
    except Exception as exc:  # a refusal from the board, e.g. an unknown election
        raise CliError(f"{board}: {exc}") from exc


def _show(args: argparse.Namespace) -> int:
    info = _fetch(args)
    m = info.manifest
    if args.json:
        print(
            json.dumps(
                {
                    "election": m.election_id,
                    "phase": info.phase,
                    "fingerprint": m.fingerprint().hex(),
                    "short_fingerprint": info.short_fingerprint,
                    "manifest": m.to_json(),
                },
                ensure_ascii=False,
                sort_keys=True,
            )
        )
        return 0
    print(f"{m.title} ({m.election_id}) — phase: {info.phase}")
    print(f"election fingerprint {info.short_fingerprint} (compare it with your letter)")
    print(f"election day {m.election_day}; voting {m.voting_start} → {m.voting_end}")
    for c in m.contests:
        print(f"\n{c.title} [{c.rule}]")
        for o in c.options:
            print(f"  {o.id}: {o.name} {o.reading} {o.party}".rstrip())
    return 0


def _web(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError
    from voter_client.web import LOCAL_HOSTS, WebConfig, serve
    from voter_client.web_card import pcsc_opener

    if args.host not in LOCAL_HOSTS:
        raise CliError(
            "--host: the voter's pages are served on this machine only "
            "(127.0.0.1, localhost or ::1)"
        )
    if args.assets is not None and not args.assets.is_dir():
        raise CliError(f"--assets {args.assets}: no such directory")
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port}: a port is 0 to 65535 (0: any free port)")
    config = WebConfig(
        args.board, args.election, _fingerprint(args.fingerprint), args.receipts, args.assets
    )
    try:
        asyncio.run(serve(config, pcsc_opener(args.reader), args.host, args.port))
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("vote", help="cast a ballot, audit one, check a receipt")
    sub = p.add_subparsers(dest="vote_command", metavar="ACTION", required=True)
    c = sub.add_parser("cast", help="cast a ballot (interactive unless flags say it all)")
    c.add_argument("--board", required=True, help="the board's URL")
    c.add_argument("--election", required=True, help="the election's id (from the letter)")
    c.add_argument("--fingerprint", required=True, help=FINGERPRINT_HELP)
    c.add_argument(
        "--choice",
        action="append",
        metavar="CONTEST=OPTION[,OPTION…]",
        help="a contest's choice (repeat per contest; CONTEST=blank for a blank "
        "vote); the others are asked",
    )
    c.add_argument("--code", help="voting code from the postcard")
    c.add_argument("--reader", help="PC/SC reader name (default: the first)")
    c.add_argument("--yes", action="store_true", help="do not ask before casting")
    c.add_argument("--receipt", type=Path, help="where to keep the receipt")
    c.add_argument(
        "--audit",
        type=Path,
        metavar="FILE",
        help="check the encryption instead of casting (Benaloh challenge)",
    )
    c.set_defaults(func=_cast)
    r = sub.add_parser("check-receipt", help="is my ballot in the record?")
    r.add_argument("receipt", type=Path, help="the receipt file `vote cast` saved")
    r.add_argument("--board", help="check against this URL instead of the receipt's")
    r.add_argument("--fingerprint", help="the election's fingerprint (must be the receipt's)")
    r.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON object (included, kind, message, …)",
    )
    r.set_defaults(func=_check_receipt)
    s = sub.add_parser("show", help="the election's contests and options")
    s.add_argument("--board", required=True, help="the board's URL")
    s.add_argument("--election", required=True, help="the election's id (from the letter)")
    s.add_argument("--fingerprint", required=True, help=FINGERPRINT_HELP)
    s.add_argument(
        "--json",
        action="store_true",
        help="print the election as one JSON object (phase, fingerprint, manifest)",
    )
    s.set_defaults(func=_show)
    w = sub.add_parser("web", help="vote in the browser: accessible pages on 127.0.0.1")
    w.add_argument("--board", required=True, help="the board's URL")
    w.add_argument("--election", required=True, help="the election to vote in")
    w.add_argument("--fingerprint", required=True, help=FINGERPRINT_HELP)
    w.add_argument("--reader", help="PC/SC reader name (default: the first)")
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (local only)")
    w.add_argument("--port", type=int, default=8470, help="port (0: any free port)")
    w.add_argument(
        "--receipts",
        type=Path,
        default=Path("receipts"),
        help="where to keep receipts (default: ./receipts)",
    )
    w.add_argument("--assets", type=Path, help="the election's images (image-style ballots)")
    w.set_defaults(func=_web)
