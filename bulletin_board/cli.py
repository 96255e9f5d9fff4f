"""`tohyo board …`: serve, mirror, export, verify-export, keygen (docs/board.md §11)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

import uvloop
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.keyfile import KeyFileError, load_or_create_key
from tohyo.cli import CliError

__all__ = ["DEFAULT_CHECK_PROCESSES", "load_key", "register"]

EXIT_FORK = 3
DEFAULT_CHECK_PROCESSES = 2  # `board serve --processes`: the ballot-checking pool


def load_key(path: str | Path, *, create: bool = True) -> Ed25519PrivateKey:
    """`keyfile.load_or_create_key` for the command line: problems become `CliError`."""
    try:
        return load_or_create_key(path, create=create)
    except KeyFileError as exc:
        raise CliError(str(exc)) from exc


def _add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-body",
        type=int,
        default=64 * 1024,
        help="largest entry whose cap the policy does not derive: admin and DKG entries (bytes)",
    )
    p.add_argument(
        "--max-record-body",
        type=int,
        default=64 * 1024 * 1024,
        help="largest mix input, shuffle, decryption share or result; the ceiling of every cap",
    )
    p.add_argument("--max-page", type=int, default=500, help="largest page of entries")
    p.add_argument("--max-connections", type=int, default=512, help="open connections")
    p.add_argument(
        "--max-client-connections",
        type=int,
        default=64,
        help="open connections from one client address (beyond: 429)",
    )
    p.add_argument(
        "--header-timeout",
        type=float,
        default=20.0,
        metavar="S",
        help="seconds a connection may take to send a request's head (when idle, the next one's)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds a request may take to send its body (beyond: 408)",
    )
    p.add_argument("--max-pending-posts", type=int, default=1024, help="posts waiting (429)")
    p.add_argument(
        "--commit-delay",
        type=float,
        default=5.0,
        metavar="MS",
        help="under load, how long a group commit waits for more entries to join "
        "it (fewer disk flushes; 0: never)",
    )


def register(subparsers: Any) -> None:
    board = subparsers.add_parser("board", help="run or mirror a bulletin board")
    sub = board.add_subparsers(dest="board_command", metavar="SUBCOMMAND")

    serve = sub.add_parser("serve", help="serve a bulletin board over HTTP(S)")
    serve.add_argument("--db", required=True, help="SQLite path or postgresql://… DSN")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8600, help="0 picks a free port")
    serve.add_argument("--key", required=True, help="board signing key (PEM; created if absent)")
    serve.add_argument("--tls-cert")
    serve.add_argument("--tls-key")
    serve.add_argument(
        "--admin-key",
        "--creator-key",
        dest="admin_keys",
        action="append",
        default=None,
        metavar="HEX",
        help="an administrator's Ed25519 key: only elections it opens (its manifest, or the "
        "registry it signs) are served (repeatable; required unless --open-elections)",
    )
    serve.add_argument(
        "--mirror-key",
        dest="mirror_keys",
        action="append",
        default=[],
        metavar="HEX",
        help="a mirror's Ed25519 key whose co-signatures the board takes (repeatable; "
        "default: none)",
    )
    serve.add_argument(
        "--open-elections",
        action="store_true",
        help="tests and simulations only: any key may open an election, naming any board key",
    )
    serve.add_argument(
        "--policy",
        choices=("election", "registry"),
        default="election",
        help="election: manifest-driven elections (default); registry: a bare signed log",
    )
    serve.add_argument(
        "--registrar",
        metavar="SETTINGS",
        help="serve the voters' ballot endpoint with this registrar settings file (TOML)",
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=DEFAULT_CHECK_PROCESSES,
        help="processes that check ballots, those of the voters' endpoint and the attested "
        "ones posted as entries (with --policy election; 1: the board process itself)",
    )
    serve.add_argument(
        "--allow-test-groups",
        action="store_true",
        help="accept manifests in test groups (simulations and tests only)",
    )
    _add_limits(serve)
    serve.set_defaults(func=_serve)

    mirror = sub.add_parser("mirror", help="follow a board, check it, co-sign its tree heads")
    mirror.add_argument("--from", dest="source", required=True, help="board URL")
    mirror.add_argument("--db", required=True, help="the mirror's own SQLite path or DSN")
    mirror.add_argument("--key", required=True, help="mirror signing key (created if absent)")
    mirror.add_argument("--board-key", help="pin the board's public key (hex)")
    mirror.add_argument("--election", action="append", help="follow only these elections")
    mirror.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    mirror.add_argument("--once", action="store_true", help="sync once and exit")
    mirror.add_argument("--evidence", help="also write fork evidence to this file")
    mirror.add_argument("--no-cosign", action="store_true", help="do not post co-signatures")
    mirror.set_defaults(func=_mirror)

    export = sub.add_parser("export", help="export an election record from a board database")
    export.add_argument("--db", required=True)
    export.add_argument("--key", required=True, help="the board's key file (for its public key)")
    export.add_argument("--election", required=True)
    export.add_argument("--out", required=True)
    export.set_defaults(func=_export)

    check = sub.add_parser("verify-export", help="check an exported election record")
    check.add_argument("directory")
    check.add_argument("--board-key", help="expected board public key (hex)")
    check.set_defaults(func=_verify_export)

    keygen = sub.add_parser("keygen", help="create an Ed25519 key file, print its public key")
    keygen.add_argument("--key", required=True)
    keygen.set_defaults(func=_keygen)

    board.set_defaults(func=lambda args: (board.print_help(), 2)[1])


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("--tls-cert and --tls-key go together")
    if not args.tls_cert:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    return ctx


def _hex_key(text: str, option: str) -> str:
    from bulletin_board.log import public_key_from_hex
    from mixnet.errors import DecodeError

    try:
        public_key_from_hex(text)
    except (DecodeError, ValueError) as exc:
        raise CliError(f"{option} {text!r}: not an Ed25519 public key in hex") from exc
    return text


def _admin_keys(args: argparse.Namespace) -> frozenset[str] | None:
    """The administrators whose elections `board serve` takes; None: anyone (tests only)."""
    for text in args.mirror_keys:
        _hex_key(text, "--mirror-key")
    if args.admin_keys:
        if args.open_elections:
            raise CliError("--admin-key and --open-elections exclude each other")
        return frozenset(_hex_key(t, "--admin-key") for t in args.admin_keys)
    if not args.open_elections:
        raise CliError(
            "give the administrators' keys (--admin-key HEX, repeatable): only "
            "their elections are served (--open-elections: tests only)"
        )
    return None


def _check_db(db: str, *, exists: bool) -> None:
    """A SQLite --db in a folder that exists (and, with `exists`, the file itself); a
    PostgreSQL DSN is left to the server."""
    if db.startswith(("postgres://", "postgresql://")):
        return
    path = Path(db)
    if exists and not path.is_file():
        raise CliError(f"--db {db}: no such board database (nothing was created)")
    if not path.parent.is_dir():
        raise CliError(f"--db {db}: the folder {path.parent} does not exist")


def _serve(args: argparse.Namespace) -> int:
    from bulletin_board.board import Board, Limits
    from bulletin_board.log import public_key_hex
    from bulletin_board.policy import RegistryPolicy
    from bulletin_board.server import BoardServer
    from bulletin_board.storage import open_storage

    if args.host not in ("127.0.0.1", "::1", "localhost") and not args.tls_cert:
        print(
            "tohyo board: warning: serving without TLS on a non-loopback address", file=sys.stderr
        )
    caps = (
        args.max_body,
        args.max_record_body,
        args.max_page,
        args.max_connections,
        args.max_client_connections,
        args.max_pending_posts,
    )
    if min(caps) < 1:
        raise CliError("the --max-… limits must be positive")
    if not (0 < args.header_timeout <= 3600 and 0 < args.body_timeout <= 3600):
        raise CliError("--header-timeout and --body-timeout are between 0 and 3600 s")
    if args.processes < 1:
        raise CliError("--processes must be at least 1")
    if not 0 <= args.commit_delay <= 1000:
        raise CliError("--commit-delay is between 0 and 1000 ms")
    admins = _admin_keys(args)
    _check_db(args.db, exists=False)
    key = load_key(args.key)
    limits = Limits(
        max_body_bytes=args.max_body,
        max_record_body_bytes=max(args.max_body, args.max_record_body),
        max_page=args.max_page,
        max_connections=args.max_connections,
        max_client_connections=args.max_client_connections,
        header_timeout_s=args.header_timeout,
        body_timeout_s=args.body_timeout,
        max_pending_posts=args.max_pending_posts,
        commit_delay_ms=args.commit_delay,
    )
    if args.policy == "election":
        from election.policy import ElectionPolicy

        # --open-elections (tests, simulations): any manifest, whichever keys it names
        own_key = None if admins is None else public_key_hex(key.public_key())
        policy: Any = ElectionPolicy(
            allow_test_groups=args.allow_test_groups, admin_keys=admins, board_key=own_key
        )
    else:
        policy = RegistryPolicy(admins)
    board = Board(open_storage(args.db), key, policy, limits=limits, mirrors=args.mirror_keys)
    extra_routes = None
    pool = own_pool = None
    if args.registrar:
        if args.policy != "election":
            raise CliError("--registrar needs --policy election")
        from election.intake import BallotIntake, load_registrar_settings

        try:
            settings = load_registrar_settings(Path(args.registrar))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        intake = BallotIntake(board, settings, processes=args.processes)
        extra_routes, pool = intake.install, intake.pool
    if args.policy == "election" and args.processes > 1:
        from bulletin_board.workers import WorkerPool
        from election.prechecks import BallotPrecheck

        if pool is None:
            pool = own_pool = WorkerPool(args.processes)
        board.precheck = BallotPrecheck(pool)
    server = BoardServer(board, args.host, args.port, _ssl_context(args), extra_routes)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        print(f"tohyo board: key {public_key_hex(key.public_key())}", flush=True)
        print(f"tohyo board: listening on {server.url}", flush=True)
        try:
            await stop.wait()
        finally:
            await server.stop()
            if own_pool is not None:
                own_pool.close()

    logging.basicConfig(level=logging.WARNING)
    uvloop.run(main())  # libuv's event loop: less CPU per request than asyncio's own
    return 0


def _mirror(args: argparse.Namespace) -> int:
    from bulletin_board.client import BoardClient, InconsistentBoardError
    from bulletin_board.mirror import Mirror
    from bulletin_board.storage import open_storage
    from mixnet.errors import VerificationError

    key = load_key(args.key)

    async def main() -> int:
        storage = open_storage(args.db)
        await storage.open()
        client = BoardClient(args.source, args.board_key)
        mirror = Mirror(client, storage, key, args.election, post_cosignatures=not args.no_cosign)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await mirror.load()
            if args.once:
                sizes = await mirror.sync_once()
                print(json.dumps(sizes, sort_keys=True), flush=True)
            else:
                print(f"tohyo board mirror: following {args.source}", file=sys.stderr)
                await mirror.run(args.interval, stop)
            return 0
        except VerificationError as exc:
            # a fork (two signed heads) or served data that fails the board's own head
            if isinstance(exc, InconsistentBoardError):
                doc = exc.evidence()
                what = "THE BOARD FORKED ITS HISTORY"
            else:
                doc = {"check": exc.check, "detail": exc.detail, "tree_heads": []}
                what = "THE BOARD SERVED DATA THAT FAILS VERIFICATION"
            evidence = json.dumps(doc, sort_keys=True, indent=1)
            print(evidence, flush=True)
            if args.evidence:
                Path(args.evidence).write_text(evidence + "\n")
            print(f"tohyo board mirror: {what} ({exc.check})", file=sys.stderr)
            return EXIT_FORK
        finally:
            await client.close()
            await storage.close()

    logging.basicConfig(level=logging.WARNING)
    try:
        return asyncio.run(main())
    except OSError as exc:
        raise CliError(f"cannot reach the board: {exc}") from exc


def _export(args: argparse.Namespace) -> int:
    from bulletin_board.export import export_from_storage
    from bulletin_board.log import public_key_hex
    from bulletin_board.storage import open_storage

    _check_db(args.db, exists=True)
    key = load_key(args.key, create=False)

    async def main() -> None:
        storage = open_storage(args.db)
        await storage.open()
        try:
            sth = await export_from_storage(
                storage, args.election, public_key_hex(key.public_key()), args.out
            )
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        finally:
            await storage.close()
        print(f"exported {sth.tree_size} entries of {args.election} to {args.out}")

    asyncio.run(main())
    return 0


def _verify_export(args: argparse.Namespace) -> int:
    from bulletin_board.export import verify_export
    from mixnet.errors import DecodeError, VerificationError

    try:
        sth = verify_export(args.directory, args.board_key)
    except (VerificationError, DecodeError, OSError, KeyError) as exc:
        print(f"export does NOT verify: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {sth.election}, {sth.tree_size} entries, root {sth.root_hash.hex()}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from bulletin_board.log import public_key_hex

    if Path(args.key).exists():
        raise CliError(f"{args.key} exists")
    print(public_key_hex(load_key(args.key).public_key()))
    return 0
