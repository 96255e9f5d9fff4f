"""`tohyo admin …`: the administrator's commands (docs/board.md §11).

- `admin init PATH`: write an election definition to edit (the Tsukuba-style example).
- `admin check PATH`: validate a definition; print the manifest summary and its fingerprint.
- `admin voting-codes --count N --out CSV --hashes FILE`: one-time codes for the postcards;
  the CSV goes to the printer, only the hashes stay with the registrar.
- `admin voter-roll --registrar-key registrar.pem --residents CSV --out roll.json`: the voter
  roll the registrar checks (keyed hashes of the four basic facts; docs/jpki.md §5.2), made
  by whoever holds the registrar's key from the register of electors.
- `admin publish PATH --board URL --key admin.pem`: the definition becomes the signed manifest,
  the board's first entry of the election.
- `admin open ELECTION …`: setup → key ceremony; close each round of the ceremony (a signed
  `dkg_round` entry) once every expected message is posted or `--round-timeout` passes; then
  post the joint key (derived from the board) and open voting.
- `admin close ELECTION …`: close voting; post the mix input (the last ballot of every voter)
  and hand over to the mix servers.
- `admin tally ELECTION …`: once every mix server has shuffled, open decryption; once t
  trustees have posted their shares, combine them, post the result and the phase tallied.
- `admin status ELECTION --board URL`: the phase and counts of an election.

Every entry is signed with the admin key (an encrypted key file, passphrase in
TOHYO_KEY_PASSPHRASE). Bad input, a refusal of the board or an unreachable board is one line
on stderr and exit status 2; nothing is posted unless every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bulletin_board.client import BoardClient
    from election.manifest import Manifest
    from trustees.coordinator import Coordinator

__all__ = ["register"]


def _init(args: argparse.Namespace) -> int:
    from election.definition import EXAMPLE
    from tohyo.cli import CliError

    if args.path.exists() and not args.force:
        raise CliError(f"{args.path} exists; use --force to overwrite")
    args.path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {args.path}: edit it, fill in the keys, then `tohyo admin check {args.path}`")
    return 0


def _manifest(path: Path, defn: dict[str, Any], *, allow_test_group: bool = False) -> Manifest:
    from election.definition import DefinitionError, manifest_from_definition
    from tohyo.cli import CliError

    try:
        return manifest_from_definition(defn, allow_test_group=allow_test_group)
    except DefinitionError as exc:
        raise CliError(f"{path}: {exc}") from exc


def _definition(path: Path) -> dict[str, Any]:
    from election.definition import DefinitionError, load_definition
    from tohyo.cli import CliError

    try:
        return load_definition(path)
    except DefinitionError as exc:
        raise CliError(str(exc)) from exc


def _period_warning(manifest: Manifest, now: dt.datetime) -> str | None:
    """A warning for a definition whose voting period is already over at `now`."""
    if manifest.voting_end > now:
        return None
    return (
        f"warning: the voting period ended on {manifest.voting_end.isoformat()}, before now; "
        "set voting_start and voting_end (and election_day) to the coming election"
    )


def _summary(manifest: Manifest) -> None:
    import sys

    warning = _period_warning(manifest, dt.datetime.now(dt.UTC))
    if warning:
        print(warning, file=sys.stderr)
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
    print(
        "              (print it on the voting-code postcards and the official notice: voters'"
        " devices check the election against it)"
    )


def _check(args: argparse.Namespace) -> int:
    manifest = _manifest(args.path, _definition(args.path))
    _summary(manifest)
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


def _voter_roll(args: argparse.Namespace) -> int:
    import csv

    from bulletin_board.keyfile import load_or_create_key
    from election.intake import derive_pseudonym_key, voter_roll_json
    from jpki.certs import BasicFacts, Sex
    from jpki.registrar import roll_entry
    from tohyo.cli import CliError

    if args.out.exists():
        raise CliError(f"{args.out} exists; refusing to overwrite a roll")
    try:
        key = derive_pseudonym_key(load_or_create_key(args.registrar_key, create=False))
    except (OSError, ValueError) as exc:
        raise CliError(f"{args.registrar_key}: {exc}") from None
    entries = []
    try:
        with args.residents.open(encoding="utf-8", newline="") as f:
            for number, row in enumerate(csv.reader(f), start=1):
                if number == 1 and row == ["name", "birth_date", "sex", "address"]:
                    continue
                try:
                    name, birth, sex, address = row
                    facts = BasicFacts(name, dt.date.fromisoformat(birth), Sex(sex), address)
                except ValueError:
                    raise CliError(
                        f"{args.residents} line {number}: expected name, birth_date "
                        "(YYYY-MM-DD), sex (1, 2 or 3), address"
                    ) from None
                entries.append(roll_entry(key, facts))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"{args.residents}: {exc}") from None
    doc = voter_roll_json(entries)
    args.out.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")
    print(
        f"{len(doc['entries'])} voters on the roll in {args.out} (keyed hashes only); name it "
        "in the registrar's settings under [voter_rolls]"
    )
    return 0


# ---------------------------------------------------------------- on the board


def _admin_key(path: Path) -> Ed25519PrivateKey:
    from bulletin_board.keyfile import KeyFileError, load_or_create_key
    from tohyo.cli import CliError

    try:
        return load_or_create_key(path, create=False)
    except KeyFileError as exc:
        raise CliError(str(exc)) from exc


def _key_hex(key: Ed25519PrivateKey) -> str:
    from bulletin_board.log import public_key_hex

    return public_key_hex(key.public_key())


def _on_board(url: str, action: Callable[[BoardClient], Awaitable[int]]) -> int:
    """Run `action` with a client of the board at `url`; every failure becomes a `CliError`."""
    import aiohttp

    from bulletin_board.client import BoardClient, BoardRefusedError
    from mixnet.errors import TohyoError
    from tohyo.cli import CliError

    async def main() -> int:
        async with BoardClient(url) as client:
            return await action(client)

    try:
        return asyncio.run(main())
    except BoardRefusedError as exc:
        raise CliError(f"the board refused: {exc.code} ({exc.status}): {exc.detail}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise CliError(f"cannot reach the board at {url}: {exc or type(exc).__name__}") from exc
    except TohyoError as exc:
        raise CliError(f"the board's answer does not check out: {exc}") from exc


def _fill_keys(defn: dict[str, Any], admin: str, board: str) -> None:
    keys = defn.setdefault("keys", {})
    if not isinstance(keys, dict):
        return  # the definition check names the problem
    for name, value, source in (
        ("admin", admin, "the admin key file"),
        ("board", board, "the board"),
    ):
        if not keys.get(name):
            keys[name] = value
            print(f"keys.{name} filled in from {source}: {value}")


def _same_key(what: str, actual: str, expected: str, hint: str) -> None:
    from tohyo.cli import CliError

    if actual != expected:
        raise CliError(f"{what} is {actual}, but the manifest names {expected}: {hint}")


def _publish(args: argparse.Namespace) -> int:
    from bulletin_board.entry import sign_envelope
    from tohyo.cli import CliError

    key = _admin_key(args.key)
    defn = _definition(args.path)
    if not args.fill_keys:  # every check that needs no board, before reaching for it
        _manifest(args.path, defn, allow_test_group=args.allow_test_groups)

    async def action(client: BoardClient) -> int:
        board_key = await client.board_key_hex()
        if args.fill_keys:
            _fill_keys(defn, _key_hex(key), board_key)
        manifest = _manifest(args.path, defn, allow_test_group=args.allow_test_groups)
        _same_key(
            f"the key in {args.key}",
            _key_hex(key),
            manifest.admin_key,
            "sign with the administrator's key of this election",
        )
        _same_key(
            f"the key of the board at {args.board}",
            board_key,
            manifest.board_key,
            "is this the board the election names?",
        )
        if manifest.election_id in await client.elections():
            raise CliError(f"{manifest.election_id} is already on the board at {args.board}")
        receipt = await client.post(
            sign_envelope(
                key, manifest.election_id, "manifest", "admin", {"manifest": manifest.to_json()}
            )
        )
        _summary(manifest)
        print(
            f"published {manifest.election_id} on {args.board}: entry {receipt.index}, "
            f"tree head {receipt.tree_head.tree_size} entries, "
            f"root {receipt.tree_head.root_hash.hex()}"
        )
        print(f"next: `tohyo admin open {manifest.election_id}` starts the key ceremony")
        return 0

    return _on_board(args.board, action)


async def _coordinator(
    client: BoardClient, args: argparse.Namespace, key: Ed25519PrivateKey
) -> Coordinator:
    """The verified record of the election so far, with the admin's key checked against it."""
    from trustees.coordinator import Coordinator

    co = Coordinator(client, key, args.election, allow_test_groups=args.allow_test_groups)
    await co.refresh()
    _same_key(
        f"the key in {args.key}",
        _key_hex(key),
        co.follower.manifest.admin_key,
        "sign with the administrator's key of this election",
    )
    return co


async def _await(
    co: Coordinator,
    condition: Callable[[Any], bool],
    refusal: str,
    progress: Callable[[Coordinator], str],
    wait: float,
) -> None:
    """Return once `condition` holds (waiting up to `wait` s); otherwise refuse with
    `refusal: progress`."""
    from tohyo.cli import CliError

    if wait > 0:
        try:
            await co.wait_until(condition, refusal, wait, interval=1.0)
            return
        except TimeoutError:
            pass
    elif condition(co.follower):
        return
    raise CliError(
        f"{refusal}: {progress(co)}; run the command again later, or with --wait SECONDS"
    )


async def _post_joint_key(co: Coordinator, wait: float, round_timeout: float) -> None:
    """Close the ceremony's rounds as they complete (or time out), then post the joint key."""
    from tohyo.cli import CliError
    from trustees.errors import CeremonyFailed

    try:
        body = await co.joint_key(max(wait, 0.0), round_timeout, interval=1.0)
    except CeremonyFailed as exc:
        raise CliError(f"the key ceremony failed: {exc}") from exc
    except TimeoutError as exc:
        raise CliError(
            f"voting cannot open yet: {exc}; run the command again later, or with --wait SECONDS"
        ) from exc
    print(f"joint key posted: {body['pk'][:32]}… (trustees {body['qualified']} qualified)")


def _open(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError

    key = _admin_key(args.key)

    async def action(client: BoardClient) -> int:
        co = await _coordinator(client, args, key)
        if co.state.phase == "setup":
            await co.phase("key_ceremony")
            print(f"{args.election}: the key ceremony is open; the trustees can run it now")
            if args.wait <= 0:
                print("voting opens with `tohyo admin open` again once the ceremony is done")
                return 0
        if co.state.phase != "key_ceremony":
            raise CliError(f"{args.election} is in phase {co.state.phase}: nothing to open")
        if co.state.pk is None:
            await _post_joint_key(co, args.wait, args.round_timeout)
        await co.phase("voting")
        print(f"{args.election}: voting is open")
        return 0

    return _on_board(args.board, action)


def _close(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError

    key = _admin_key(args.key)

    async def action(client: BoardClient) -> int:
        co = await _coordinator(client, args, key)
        if co.state.phase not in ("voting", "closed"):
            raise CliError(f"voting is not open: {args.election} is in phase {co.state.phase}")
        if co.state.phase == "voting":
            await co.phase("closed")
        state = co.state
        print(
            f"{args.election}: voting is closed; {state.ballots} ballots from "
            f"{len(state.last_ballot)} voters ({state.superseded} superseded by a re-vote)"
        )
        if not state.last_ballot:
            print("no ballots: nothing to mix")
            return 0
        if state.mix_input is None:
            await co.mix_input()
        assert co.state.mix_input is not None and co.state.manifest is not None
        rows, lists = len(co.state.mix_input), len(co.state.manifest.contests)
        await co.phase("mixing")
        print(
            f"mix input posted: {rows} ballots, one per voter, as {lists} contest "
            f"list{'s' if lists > 1 else ''}; the mix servers shuffle each list on its own now"
        )
        return 0

    return _on_board(args.board, action)


def _print_tally(tally: dict[str, Any]) -> None:
    for contest, result in tally.items():
        print(
            f"contest {contest}: {result['ballots']} ballots ({result['valid']} valid, "
            f"{result['blank']} blank, {result['invalid']} invalid)"
        )
        for option, votes in result["counts"].items():
            print(f"  {option:<16}{votes:>8}")
        print(f"  winners: {', '.join(result['winners']) or '—'}")


def _tally(args: argparse.Namespace) -> int:
    from tohyo.cli import CliError

    key = _admin_key(args.key)

    async def action(client: BoardClient) -> int:
        co = await _coordinator(client, args, key)
        manifest = co.follower.manifest
        mixers, t = len(manifest.mix_servers), manifest.threshold
        if co.state.phase == "mixing":
            await _await(
                co,
                lambda f: f.shuffles == mixers,
                "decryption cannot open yet",
                lambda c: (
                    f"{c.follower.shuffles} of {mixers} mix servers have posted their shuffle"
                ),
                args.wait,
            )
            await co.phase("decrypting")
            print(f"{args.election}: every mix server has shuffled; the trustees decrypt now")
            if args.wait <= 0 and len(co.state.shares) < t:
                print(
                    "the result follows with `tohyo admin tally` again once "
                    f"{t} trustees have posted their decryption shares"
                )
                return 0
        if co.state.phase != "decrypting":
            raise CliError(f"{args.election} is in phase {co.state.phase}: nothing to tally")
        await _await(
            co,
            lambda f: len(f.state.shares) >= t,
            "the result cannot be computed yet",
            lambda c: f"{len(c.state.shares)} of the {t} decryption shares needed are posted",
            args.wait,
        )
        body = await co.result(0.0)
        await co.phase("tallied")
        print(
            f"{args.election}: result posted from the shares of trustees "
            f"{', '.join(map(str, body['trustees']))}; the election is tallied"
        )
        _print_tally(body["tally"])
        return 0

    return _on_board(args.board, action)


def _status(args: argparse.Namespace) -> int:
    async def action(client: BoardClient) -> int:
        doc = await client.election(args.election)
        policy = doc["policy"]
        counts = ", ".join(f"{k} {v}" for k, v in policy["counts"].items())
        print(f"election   {args.election} on {args.board}")
        print(f"phase      {policy['phase']}")
        print(f"entries    {doc['tree_size']} ({counts})")
        if "ballots" in policy:
            print(
                f"ballots    {policy['ballots']} from {policy['voters']} voters "
                f"({policy['superseded']} superseded)"
            )
        return 0

    return _on_board(args.board, action)


def _board_args(q: argparse.ArgumentParser, *, election: bool = True, key: bool = True) -> None:
    if election:
        q.add_argument("election", help="the election id")
    q.add_argument("--board", required=True, metavar="URL", help="the board's URL")
    if key:
        q.add_argument(
            "--key",
            type=Path,
            required=True,
            help="the admin key file (encrypted; passphrase in TOHYO_KEY_PASSPHRASE)",
        )
        q.add_argument(
            "--allow-test-groups",
            action="store_true",
            help="accept a test group (simulations and tests only)",
        )


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
    q = sub.add_parser("voter-roll", help="the voter roll the registrar checks")
    q.add_argument(
        "--registrar-key",
        type=Path,
        required=True,
        help="the registrar's key file (its passphrase in TOHYO_KEY_PASSPHRASE)",
    )
    q.add_argument(
        "--residents",
        type=Path,
        required=True,
        help="CSV: name, birth_date (YYYY-MM-DD), sex (1, 2, 3), address",
    )
    q.add_argument("--out", type=Path, required=True, help="the roll file to write")
    q.set_defaults(func=_voter_roll)
    q = sub.add_parser("publish", help="post the signed manifest: the election's first entry")
    q.add_argument("path", type=Path, help="the election definition (TOML)")
    _board_args(q, election=False)
    q.add_argument(
        "--fill-keys",
        action="store_true",
        help="fill an empty keys.admin from --key and keys.board from the board",
    )
    q.set_defaults(func=_publish)
    q = sub.add_parser("open", help="start the key ceremony; then open voting")
    _board_args(q)
    q.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for the key ceremony to finish",
    )
    q.add_argument(
        "--round-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="close a round of the key ceremony after this long even if some "
        "trustee has not posted (default 60)",
    )
    q.set_defaults(func=_open)
    q = sub.add_parser("close", help="close voting and post the mix input")
    _board_args(q)
    q.set_defaults(func=_close)
    q = sub.add_parser("tally", help="open decryption; then post the result")
    _board_args(q)
    q.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for the shuffles, then for the decryption shares",
    )
    q.set_defaults(func=_tally)
    q = sub.add_parser("status", help="the phase and counts of an election")
    _board_args(q, key=False)
    q.set_defaults(func=_status)
