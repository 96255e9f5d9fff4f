"""`tohyo admin …`: the administrator's commands.

- `admin init PATH`: write an election definition to edit (the Tsukuba-style example).
- `admin check PATH`: validate a definition; print the manifest summary and its fingerprint.
- `admin voting-codes --count N --out CSV --hashes FILE`: one-time codes for the postcards;
  the CSV goes to the printer, only the hashes stay with the registrar.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _init(args: argparse.Namespace) -> int:
    from election.definition import EXAMPLE
    from tohyo.cli import CliError

    if args.path.exists() and not args.force:
        raise CliError(f"{args.path} exists; use --force to overwrite")
    args.path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {args.path}: edit it, fill in the keys, then `tohyo admin check {args.path}`")
    return 0


def _check(args: argparse.Namespace) -> int:
    from election.definition import DefinitionError, load_definition, manifest_from_definition
    from tohyo.cli import CliError

    try:
        manifest = manifest_from_definition(load_definition(args.path))
    except DefinitionError as exc:
        raise CliError(f"{args.path}: {exc}") from exc
    print(f"election      {manifest.election_id} — {manifest.title}")
    print(
        f"election day  {manifest.election_day}  (voting {manifest.voting_start} → "
        f"{manifest.voting_end})"
    )
    for c in manifest.contests:
        print(f"contest       {c.id}: {c.title} ({c.style}, {c.rule}, {len(c.options)} options)")
    print(
        f"eligibility   age ≥ {manifest.eligibility.min_age} on election day, living in "
        f"{', '.join(manifest.eligibility.areas)}"
    )
    print(
        f"trustees      {manifest.threshold} of {len(manifest.trustees)}; "
        f"mix servers {len(manifest.mix_servers)}; group {manifest.group['name']}"
    )
    print(f"fingerprint   {manifest.fingerprint().hex()}")
    if args.manifest_out:
        args.manifest_out.write_bytes(manifest.to_bytes())
        print(f"manifest written to {args.manifest_out}")
    return 0


def _voting_codes(args: argparse.Namespace) -> int:
    from jpki.voting_codes import generate_voting_codes
    from tohyo.cli import CliError

    if args.count < 1 or args.count > 10_000_000:
        raise CliError("--count must be between 1 and 10,000,000")
    for path in (args.out, args.hashes):
        if path.exists():
            raise CliError(f"{path} exists; refusing to overwrite codes")
    csv_text, hashes = generate_voting_codes(args.count)
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(csv_text)
    args.hashes.write_text(json.dumps({"v": 1, "hashes": list(hashes)}, indent=0) + "\n")
    print(
        f"{args.count} codes: postcards CSV in {args.out} (mode 0600; hand it to the printer, "
        f"then delete it); hashes for the registrar in {args.hashes}"
    )
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("admin", help="administrator: define and run elections")
    sub = p.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    q = sub.add_parser("init", help="write an election definition to edit")
    q.add_argument("path", type=Path)
    q.add_argument("--force", action="store_true")
    q.set_defaults(func=_init)
    q = sub.add_parser("check", help="validate a definition and print its fingerprint")
    q.add_argument("path", type=Path)
    q.add_argument("--manifest-out", type=Path, help="also write the manifest JSON here")
    q.set_defaults(func=_check)
    q = sub.add_parser("voting-codes", help="one-time voting codes for the postcards")
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--out", type=Path, required=True, help="CSV for the printer")
    q.add_argument("--hashes", type=Path, required=True, help="hashes for the registrar")
    q.set_defaults(func=_voting_codes)
