"""`tohyo verify RECORD` and `tohyo verify ballot FILE` (docs/record.md §7, §9).

Exit status: 0 when every step passes, 1 when a step fails (or is skipped without
`--partial`), 2 for usage errors (missing directory, bad option).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tohyo.cli import CliError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "verify",
        help="verify an election record or an audited ballot",
        description="Verify an election record: an export directory (tohyo board export) or a "
        "board URL with --election. `tohyo verify ballot FILE` checks a Benaloh-audited ballot.",
    )
    p.add_argument(
        "target",
        nargs="+",
        metavar="RECORD",
        help="export directory or board URL; or: ballot FILE; or: vmn DIR [PROTINFO]",
    )
    p.add_argument("--election", help="election id (with a board URL)")
    p.add_argument(
        "--board-key",
        help="pin the board's public key (hex): the record's "
        "manifest must name it (and a board URL must sign with it)",
    )
    p.add_argument(
        "--fingerprint",
        help="pin the election: the manifest's fingerprint (hex), from the voting-code letter or "
        "the official notice; for `ballot`, the election is read from --board under it",
    )
    p.add_argument("--board", help="ballot: the board's URL, to read the election from")
    p.add_argument("--save", type=Path, help="keep the record fetched from a URL in this directory")
    p.add_argument(
        "--tree-head",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a signed tree head or a receipt to check against the log (repeatable)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report here")
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="worker processes for the long steps (default 1)",
    )
    p.add_argument(
        "--allow-test-groups",
        action="store_true",
        help="accept a group for tests (simulations, tests); never for a real election",
    )
    p.add_argument(
        "--partial",
        action="store_true",
        help="an unfinished election: steps not reached are skipped, not failed",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    p.add_argument(
        "--evidence",
        type=Path,
        metavar="DIR",
        help="auditors: the registrar's evidence directory (step V13)",
    )
    p.add_argument(
        "--evidence-key-file",
        type=Path,
        metavar="FILE",
        help="the evidence store's passphrase, in a file",
    )
    p.add_argument(
        "--pseudonym-key-file",
        type=Path,
        metavar="FILE",
        help="auditors: the registrar's pseudonym key (hex), to re-derive pseudonyms",
    )
    p.set_defaults(func=run)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CliError(f"{path}: not JSON ({exc})") from exc


def run(args: argparse.Namespace) -> int:
    if args.target[0] == "ballot":
        if len(args.target) != 2:
            raise CliError("usage: tohyo verify ballot FILE --board URL --fingerprint HEX")
        return run_audit(Path(args.target[1]), args)
    if args.target[0] == "vmn":  # a Verificatum proof directory (docs/vmn.md)
        from verifier.vmn import run_vmn

        return run_vmn(args.target[1:])
    if len(args.target) != 1:
        raise CliError("give one RECORD (a directory or a board URL)")
    if args.processes < 1:
        raise CliError("--processes must be at least 1")
    for option, pin, length in (
        ("--board-key", args.board_key, 64),
        ("--fingerprint", args.fingerprint, 64),
    ):
        if pin is not None and (len(pin) != length or not _is_hex(pin)):
            raise CliError(f"{option}: {length} hex digits")
    target = args.target[0]
    with contextlib.ExitStack() as stack:
        if target.startswith(("http://", "https://")):
            if not args.election:
                raise CliError("a board URL needs --election ID")
            directory = args.save or Path(stack.enter_context(tempfile.TemporaryDirectory()))
            from mixnet.errors import VerificationError
            from verifier.fetch import fetch_record

            try:
                fetch_record(target, args.election, directory, args.board_key)
            except VerificationError as exc:  # the board's answers do not check: failed
                print(f"tohyo verify: fetching the record failed: {exc}", file=sys.stderr)
                return 1
            except Exception as exc:  # the network, a refusal: cannot decide (exit 2)
                raise CliError(f"cannot fetch the record from {target}: {exc}") from exc
        else:
            directory = Path(target)
            if not directory.is_dir():
                raise CliError(f"{directory}: no such directory")
        return _verify_directory(args, directory)
    return 1  # pragma: no cover


def _verify_directory(args: argparse.Namespace, directory: Path) -> int:
    from mixnet.errors import DecodeError
    from verifier.record import RecordError, load_record
    from verifier.report import FAIL, Report, StepResult
    from verifier.steps import Options, verify_record

    heads = [(str(p), _read_json(p)) for p in args.tree_head]
    evidence = None
    if args.evidence is not None:
        evidence = _evidence(args)
    elif args.evidence_key_file or args.pseudonym_key_file:
        raise CliError("--evidence-key-file and --pseudonym-key-file go with --evidence DIR")
    try:
        record = load_record(directory)
    except RecordError as exc:
        raise CliError(str(exc)) from exc
    except DecodeError as exc:
        report = Report(source=str(directory))
        report.steps.append(
            StepResult("V1", "record files", "the export's files", FAIL, str(exc), "V1.board_json")
        )
        return _output(args, report)
    executor: Executor | None = None
    with contextlib.ExitStack() as stack:
        if args.processes > 1:
            executor = stack.enter_context(ProcessPoolExecutor(args.processes))
        options = Options(
            tree_heads=heads,
            board_key=args.board_key,
            fingerprint=args.fingerprint,
            allow_test_groups=args.allow_test_groups,
            executor=executor,
            progress=False if args.no_progress else None,
            evidence=evidence,
        )
        report = verify_record(record, options)
    report.allow_skips = args.partial
    return _output(args, report)


def _output(args: argparse.Namespace, report: Any) -> int:
    print(report.to_text())
    if args.json is not None:
        args.json.write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    return 0 if report.passed else 1


def _evidence(args: argparse.Namespace) -> Any:
    from verifier.evidence import EvidenceStoreError, evidence_step, load_evidence_inputs

    if not args.evidence.is_dir():
        raise CliError(f"{args.evidence}: no such directory")
    if args.evidence_key_file is None:
        raise CliError("--evidence needs --evidence-key-file (the store's passphrase)")
    try:
        passphrase = args.evidence_key_file.read_text(encoding="utf-8").rstrip("\n")
        pseudonym_key = (
            bytes.fromhex(args.pseudonym_key_file.read_text().strip())
            if args.pseudonym_key_file
            else None
        )
        inputs = load_evidence_inputs(args.evidence, passphrase, pseudonym_key=pseudonym_key)
    except (OSError, ValueError, EvidenceStoreError) as exc:
        raise CliError(f"evidence: {exc}") from exc
    return evidence_step(inputs)


def _pinned_election(args: argparse.Namespace, data: bytes) -> Any:
    """The election the audited ballot must belong to, read from --board under --fingerprint
    (`verifier.fetch.pinned_board`); never the manifest or key in the device's file."""
    import asyncio

    from mixnet.encoding import parse_canonical_json
    from mixnet.errors import DecodeError
    from verifier.fetch import parse_fingerprint, pinned_board

    if not args.board or not args.fingerprint:
        raise CliError(
            "tohyo verify ballot needs --board URL and --fingerprint HEX: the "
            "election is read from the board, never from the device's file"
        )
    try:
        fingerprint = parse_fingerprint(args.fingerprint)
    except ValueError as exc:
        raise CliError(f"--fingerprint: {exc}") from exc
    election = args.election
    if election is None:
        try:
            election = parse_canonical_json(data.removesuffix(b"\n"))["manifest"]["election_id"]
        except (DecodeError, TypeError, KeyError) as exc:
            raise CliError("give --election ID (the audit file names none)") from exc

    async def read() -> Any:
        async with pinned_board(args.board, str(election), fingerprint) as (_, info):
            return info

    return asyncio.run(read())


def run_audit(path: Path, args: argparse.Namespace) -> int:
    from mixnet.errors import VerificationError
    from verifier.audit import verify_audit

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from exc
    try:
        info = _pinned_election(args, data)
    except VerificationError as exc:
        print(f"AUDIT FAILED: the election on the board failed {exc.check}: {exc.detail}")
        return 1
    except CliError:
        raise
    except Exception as exc:  # the network, or the board's refusals
        raise CliError(f"cannot read the election from {args.board}: {exc}") from exc
    if info.pk is None:
        raise CliError("the election on the board has no joint key yet")
    try:
        result = verify_audit(data, info.manifest, info.pk)
    except VerificationError as exc:
        print(f"AUDIT FAILED: {exc.check}: {exc.detail}")
        return 1
    print(
        f"audited ballot of {result.manifest.election_id} ({result.manifest.title}), "
        f"election fingerprint {info.short_fingerprint}"
    )
    print("the ballot encrypts exactly these choices:")
    for line in result.words:
        print(f"  {line}")
    print("AUDIT PASSED — this ballot was spoiled by the audit; cast a new one to vote")
    return 0
