"""`tohyo trustee …`: keygen, status, run, generators, export, offline, import
(docs/trustees.md §11–13).

The passphrase comes from `--passphrase-file`, else the `TOHYO_TRUSTEE_PASSPHRASE` environment
variable, else a prompt without echo. Progress goes to stderr; no secret is ever printed.
Exit status: 0 done; 2 a user error (wrong passphrase, board unreachable, …); 3 the duty was
refused because the record is bad (for example, a proof of shuffle that fails).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import multiprocessing
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tohyo.cli import CliError

__all__ = ["PASSPHRASE_ENV", "register"]

PASSPHRASE_ENV = "TOHYO_TRUSTEE_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
EXIT_REFUSED = 3
log = logging.getLogger("tohyo.trustee")


# ---------------------------------------------------------------- helpers


def _passphrase(args: argparse.Namespace, *, confirm: bool = False) -> str:
    if getattr(args, "passphrase_file", None):
        try:
            text = Path(args.passphrase_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(
                f"cannot read the passphrase file {args.passphrase_file}: {exc.strerror}"
            ) from exc
        text = text.rstrip("\r\n")
    elif os.environ.get(PASSPHRASE_ENV):
        text = os.environ[PASSPHRASE_ENV]
    else:
        if not sys.stdin.isatty():
            raise CliError(
                f"no passphrase: use --passphrase-file or {PASSPHRASE_ENV}, or run in a terminal"
            )
        text = getpass.getpass("Keystore passphrase: ")
        if confirm and getpass.getpass("Repeat the passphrase: ") != text:
            raise CliError("the passphrases differ")
    if not text:
        raise CliError("the passphrase is empty")
    return text


MIN_PASSPHRASE = 12  # characters
MIN_DISTINCT = 6  # different characters


def passphrase_weakness(passphrase: str) -> str:
    """Why a new keystore's passphrase is too weak ("" if it is not): at least MIN_PASSPHRASE
    characters, MIN_DISTINCT of them different."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"use at least {MIN_PASSPHRASE} characters"
    if len(set(passphrase)) < MIN_DISTINCT:
        return f"use at least {MIN_DISTINCT} different characters"
    return ""


def _open_keystore(path: str, passphrase: str) -> Any:
    from trustees.errors import KeystoreTampered, WrongPassphrase
    from trustees.keystore import load_keystore

    try:
        return load_keystore(path, passphrase)
    except FileNotFoundError as exc:
        raise CliError(f"no keystore file {path}") from exc
    except WrongPassphrase as exc:
        raise CliError(f"wrong passphrase for the keystore {path}") from exc
    except KeystoreTampered as exc:
        raise CliError(f"the keystore {path} cannot be opened: {exc}") from exc


def _keystore_file(args: argparse.Namespace) -> Any:
    from trustees.daemon import KeystoreFile

    passphrase = _passphrase(args)
    return KeystoreFile(args.keystore, passphrase, _open_keystore(args.keystore, passphrase))


def _setup_logging(verbose: bool, name: str = "") -> None:
    handler = logging.StreamHandler(sys.stderr)
    prefix = f"tohyo trustee [{name}]" if name else "tohyo trustee"
    handler.setFormatter(logging.Formatter(f"%(asctime)s {prefix}: %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("tohyo.trustee")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def _executor(workers: int) -> Executor | None:
    if workers < 1:
        raise CliError("--workers must be at least 1")
    if workers == 1:
        return None
    return _processes(workers, niceness=0)


def _background_executor() -> Executor:
    """One worker process at a lower priority, for the generators derived ahead of time."""
    return _processes(1, niceness=10)


def _processes(workers: int, *, niceness: int) -> Executor:
    # spawned, not forked (the daemon has threads), and not through a fork server (which, with
    # its workers, would outlive a daemon that is killed)
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(niceness, os.getpid()),
    )


def _start_worker(niceness: int, daemon: int) -> None:
    """In a worker process: lower its priority, and end it when the daemon ends, also when
    the daemon is killed (its pool's queues would keep it waiting forever)."""
    import threading
    import time

    if niceness:
        os.nice(niceness)

    def watch() -> None:
        while os.getppid() == daemon:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="watch-daemon", daemon=True).start()


def _state_dir(args: argparse.Namespace) -> str:
    """--state-dir, else the keystore's directory."""
    if getattr(args, "state_dir", None):
        return str(args.state_dir)
    if getattr(args, "keystore", None):
        return os.path.dirname(os.path.abspath(str(args.keystore)))
    raise CliError("give --state-dir (or --keystore, whose directory is the default)")


def _add_passphrase(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--passphrase-file",
        help=f"read the passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt)",
    )


def _add_board(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", required=True, help="board URL, e.g. http://127.0.0.1:8600")
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("--board-key", help="pin the board's public key (hex)")
    p.add_argument(
        "--allow-test-groups",
        action="store_true",
        help="accept a manifest with a test group (tests and simulations only)",
    )
    p.add_argument(
        "--give-up-after",
        type=float,
        default=300.0,
        help="seconds of board outage before giving up (default 300)",
    )


def _client(args: argparse.Namespace) -> Any:
    from bulletin_board.client import BoardClient

    return BoardClient(args.board, args.board_key)


def _unreachable(args: argparse.Namespace, exc: BaseException) -> CliError:
    return CliError(f"the board at {args.board} is unreachable ({type(exc).__name__})")


async def _snapshot(args: argparse.Namespace) -> Any:
    """Follow the board once (with bounded retries) and return the verified follower."""
    from bulletin_board.client import BoardRefusedError
    from trustees.daemon import _NETWORK_ERRORS, BoardFollower, DutyRefused

    async with _client(args) as client:
        follower = BoardFollower(client, args.election, allow_test_groups=args.allow_test_groups)
        delay, waited = 0.2, 0.0
        while True:
            try:
                await follower.poll()
                return follower
            except BoardRefusedError as exc:
                raise CliError(f"the board refused: {exc.code}: {exc.detail}") from exc
            except DutyRefused as exc:
                raise CliError(f"the board's record does not verify: {exc}") from exc
            except _NETWORK_ERRORS as exc:
                if waited >= args.give_up_after:
                    raise _unreachable(args, exc) from exc
                await asyncio.sleep(delay)
                waited += delay
                delay = min(2 * delay, 5.0)


def _author_of(manifest: Any, author: str) -> tuple[str, int]:
    for t in manifest.trustees:
        if t.id == author:
            return "trustee", t.index
    for m in manifest.mix_servers:
        if m.id == author:
            return "mix", m.position
    raise CliError(f"{author} is neither a trustee nor a mix server of the manifest")


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


# ---------------------------------------------------------------- commands


def _keygen(args: argparse.Namespace) -> int:
    from mixnet.rng import system_random
    from trustees.config import generate_trustee_keys
    from trustees.daemon import UNBOUND_ELECTION, UNBOUND_GROUP
    from trustees.keystore import save_keystore
    from trustees.private import TrusteeSecrets

    if os.path.exists(args.keystore):
        raise CliError(f"{args.keystore} exists; refusing to overwrite a keystore")
    passphrase = _passphrase(args, confirm=True)
    weak = passphrase_weakness(passphrase)
    if weak:
        raise CliError(f"the passphrase is too weak: {weak}; nothing was written")
    keys = generate_trustee_keys(system_random)
    secrets = TrusteeSecrets(1, UNBOUND_ELECTION, UNBOUND_GROUP, keys)
    try:
        save_keystore(args.keystore, secrets, passphrase)
    except OSError as exc:
        raise CliError(f"cannot write {args.keystore}: {exc.strerror}") from exc
    pub = keys.public(1)
    print(
        json.dumps(
            {"signing_key": pub.ed25519_public.hex(), "exchange_key": pub.x25519_public.hex()},
            sort_keys=True,
        )
    )
    print(
        f"tohyo trustee: keystore written to {args.keystore}; put these PUBLIC keys in the "
        "manifest (signing_key for a mix server)",
        file=sys.stderr,
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from trustees.daemon import DutyRefused, find_identity, is_bound

    secrets = _open_keystore(args.keystore, _passphrase(args))
    pub = secrets.keys.public(1)
    lines = [
        f"keystore:      {args.keystore}",
        f"signing key:   {pub.ed25519_public.hex()}",
        f"exchange key:  {pub.x25519_public.hex()}",
    ]
    if is_bound(secrets):
        lines += [
            f"election:      {secrets.election.hex()} (fingerprint)",
            f"number:        {secrets.trustee}",
            f"group:         {secrets.group}",
        ]
    else:
        lines.append("election:      not bound yet (bound when the daemon first reads a manifest)")
    lines.append(
        "polynomial:    "
        + ("saved (key ceremony in progress)" if secrets.polynomial is not None else "none")
    )
    lines.append("key share:     " + ("held" if secrets.share is not None else "none"))
    if args.board:
        if not args.election:
            raise CliError("--board needs --election")
        follower = asyncio.run(_snapshot(args))
        state = follower.state
        lines.append(
            f"board:         {args.board} election {args.election}, "
            f"{follower.size} entries, phase {state.phase}"
        )
        if state.manifest is not None:
            for role in ("trustee", "mix"):
                try:
                    index, author = find_identity(state.manifest, secrets, role)
                except DutyRefused:
                    continue  # not this role
                lines.append(f"role:          {author} ({role} {index})")
                if role == "trustee":
                    lines.append("share posted:  " + ("yes" if index in state.shares else "no"))
                else:
                    lines.append(
                        "shuffle posted: " + ("yes" if follower.shuffles >= index else "no")
                    )
            lines.append(_generators_status(args, follower, secrets.keys))
    print("\n".join(lines))
    return 0


def _generators_status(args: argparse.Namespace, follower: Any, keys: Any) -> str:
    """One line: the shuffle generators cached for the election (the file is not changed)."""
    from mixnet.generators import count_covered, generator_seed
    from mixnet.shuffle.proof import GENERATOR_PURPOSE
    from trustees.generator_cache import GeneratorCache, cache_key
    from trustees.mixer import list_rows

    state = follower.state
    seed = generator_seed(state.group, state.fingerprint, GENERATOR_PURPOSE)
    cache = GeneratorCache(_state_dir(args), state.group, seed, cache_key(keys))
    try:
        count = cache.load(repair=False)
    except OSError as exc:
        return f"generators:    cannot read {cache.path}: {exc.strerror}"
    rows = count_covered(count)
    if follower.mix_input is not None:
        need = list_rows(follower.mix_input)
        return (
            f"generators:    {count} candidates cached ({rows} rows; the mix input has "
            f"{need}) in {cache.path}"
        )
    return f"generators:    {count} candidates cached ({rows} rows) in {cache.path}"


def _run(args: argparse.Namespace) -> int:
    from trustees.daemon import (
        BoardUnreachable,
        DutyRefused,
        FollowSettings,
        KeystoreBusy,
        MixDuty,
        ShuffleGenerators,
        TrusteeDuty,
        follow,
        keystore_lock,
    )

    _setup_logging(args.verbose, Path(args.keystore).stem)
    keystore = _keystore_file(args)
    settings = FollowSettings(
        poll_min=args.poll_interval,
        poll_max=max(args.poll_interval, args.max_poll_interval),
        round_timeout=args.round_timeout,
        give_up_after=args.give_up_after,
    )
    executor = _executor(args.workers)
    state_dir = None if args.no_generator_cache else _state_dir(args)
    background = _background_executor() if state_dir is not None else None
    generators = ShuffleGenerators(state_dir, background)
    duty: MixDuty | TrusteeDuty
    if args.role == "mix":
        duty = MixDuty(keystore, executor=executor, generators=generators)
    else:
        duty = TrusteeDuty(keystore, executor=executor, generators=generators)

    async def main() -> None:
        async with _client(args) as client:
            await follow(
                client, args.election, duty, settings, allow_test_groups=args.allow_test_groups
            )

    try:
        with keystore_lock(args.keystore):
            asyncio.run(main())
    except KeystoreBusy as exc:
        raise CliError(str(exc)) from exc
    except DutyRefused as exc:
        log.error("refused: %s", exc)
        return EXIT_REFUSED
    except BoardUnreachable as exc:
        raise CliError(str(exc)) from exc
    finally:
        duty.close()
        for pool in (executor, background):
            if pool is not None:
                pool.shutdown()
    log.info("done")
    return 0


def _generators(args: argparse.Namespace) -> int:
    import time

    from mixnet.generators import candidate_count, derive_candidates, generator_seed
    from mixnet.shuffle.proof import GENERATOR_PURPOSE
    from trustees.generator_cache import GeneratorCache, cache_key

    if args.expected < 1:
        raise CliError("--expected must be at least 1")
    _setup_logging(False)
    state_dir = _state_dir(args)
    key = cache_key(_open_keystore(args.keystore, _passphrase(args)).keys)
    follower = asyncio.run(_snapshot(args))
    state = follower.state
    if state.group is None:
        raise CliError("the election has no manifest yet")
    seed = generator_seed(state.group, state.fingerprint, GENERATOR_PURPOSE)
    executor = _executor(args.workers)
    try:
        with GeneratorCache(state_dir, state.group, seed, key) as cache:
            if not cache.acquire():
                raise CliError(f"another process is writing {cache.path}")
            cached = cache.load()
            need = candidate_count(args.expected)
            start, last = time.monotonic(), time.monotonic()
            step = max(256, 64 * (args.workers or 1))
            while cache.count < need:
                b = min(need, cache.count + step)
                cache.extend(derive_candidates(state.group, seed, cache.count, b, executor))
                if time.monotonic() - last >= 10 or cache.count >= need:
                    last = time.monotonic()
                    log.info(
                        "generators: %d of %d candidates in the cache (%.0f %%)",
                        cache.count,
                        need,
                        100.0 * cache.count / need,
                    )
            elapsed = time.monotonic() - start
            path = cache.path
    except OSError as exc:
        raise CliError(f"cannot write the generator cache: {exc.strerror}") from exc
    finally:
        if executor is not None:
            executor.shutdown()
    print(
        f"tohyo trustee: generators for {args.expected} rows of election {args.election} in "
        f"{path} ({cached} candidates were cached, {max(0, need - cached)} derived in "
        f"{elapsed:.1f} s)",
        file=sys.stderr,
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from election.policy import ceremony_config
    from trustees.mixer import ShuffleRejected, verify_chain
    from trustees.offline import export_decryption_input, export_dkg_input
    from trustees.transfer import export_mix_input, transfer_input

    follower = asyncio.run(_snapshot(args))
    state = follower.state
    if state.manifest is None:
        raise CliError("the election has no manifest yet")
    role, index = _author_of(state.manifest, args.author)
    assert state.dkg is not None
    if role == "trustee" and state.phase == "key_ceremony":
        duty = "dkg"
        bundle = export_dkg_input(ceremony_config(state.manifest), index, state.dkg.events)
    elif role == "trustee" and state.phase == "decrypting":
        duty = "decrypt"
        assert state.pk is not None and follower.mix_input is not None
        try:
            rows = verify_chain(
                state.pk, follower.mix_input, follower.shuffle_bodies, state.fingerprint
            )
        except ShuffleRejected as exc:
            print(f"tohyo trustee: refusing to export for decryption: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        bundle = export_decryption_input(
            ceremony_config(state.manifest), index, state.dkg.events, rows
        )
    elif role == "mix" and state.phase == "mixing" and follower.shuffles == index - 1:
        duty = "mix"
        assert state.pk is not None and follower.mix_input is not None
        bundle = export_mix_input(
            state.pk, state.fingerprint, index, follower.mix_input, follower.shuffle_bodies
        )
    else:
        raise CliError(f"nothing to export for {args.author} in phase {state.phase}")
    _write(args.out, transfer_input(args.election, args.author, duty, bundle))
    print(
        f"tohyo trustee: {duty} input for {args.author} written to {args.out} "
        f"({follower.size} board entries)",
        file=sys.stderr,
    )
    return 0


def _offline(args: argparse.Namespace) -> int:
    from mixnet.errors import DecodeError
    from trustees.daemon import KeystoreBusy, keystore_lock
    from trustees.transfer import read_transfer

    _setup_logging(False)
    try:
        election, author, duty, bundle, _ = read_transfer(_read(args.input), "in")
    except DecodeError as exc:
        raise CliError(f"{args.input} is not a transfer input: {exc}") from exc
    try:
        with keystore_lock(args.keystore):
            return _offline_locked(args, election, author, duty, bundle)
    except KeystoreBusy as exc:
        raise CliError(str(exc)) from exc


def _offline_locked(
    args: argparse.Namespace, election: str, author: str, duty: str, bundle: bytes
) -> int:
    import dataclasses

    from bulletin_board.entry import sign_envelope
    from mixnet.errors import DecodeError
    from mixnet.rng import system_random
    from trustees.config import CeremonyConfig
    from trustees.daemon import bind_secrets
    from trustees.errors import LocalProtocolError
    from trustees.mixer import ShuffleRejected
    from trustees.offline import (
        decryption_entry_body,
        read_dkg_output,
        run_decryption_offline,
        run_dkg_offline,
    )
    from trustees.transfer import read_mix_output, run_mix_offline, transfer_output

    keystore = _keystore_file(args)
    secrets = keystore.secrets
    key = secrets.keys.ed25519_key()
    pub = secrets.keys.public(1)
    entries = []
    try:
        if duty in ("dkg", "decrypt"):
            config = CeremonyConfig.from_json_value(json.loads(bundle)["config"])
            matches = [
                k.index
                for k in config.trustees
                if (k.ed25519_public, k.x25519_public) == (pub.ed25519_public, pub.x25519_public)
            ]
            if not matches:
                raise CliError("this keystore is not a trustee of the bundle's election")
            bound = bind_secrets(secrets, matches[0], config.election, config.group.name)
            if bound is not secrets:
                keystore.save(bound)
            if duty == "dkg":
                out, new = run_dkg_offline(bundle, keystore.secrets, system_random)
                keystore.save(new)  # before anything is posted
                messages = read_dkg_output(out, config)
                entries = [
                    sign_envelope(key, election, "dkg", author, m.to_json_value()) for m in messages
                ]
                outcome = json.loads(out)["outcome"]
                state = (
                    "done; key share " + ("saved" if new.share is not None else "missing")
                    if outcome is not None
                    else "in progress"
                )
                log.info(
                    "key ceremony step: %d messages to post; ceremony %s", len(messages), state
                )
            else:
                out = run_decryption_offline(bundle, keystore.secrets, system_random)
                body = decryption_entry_body(out, config)
                entries = [sign_envelope(key, election, "decryption_share", author, body)]
                log.info("decryption shares made for %d contest lists", len(body["contests"]))
        else:
            doc = json.loads(bundle)
            fingerprint = bytes.fromhex(doc["election"])
            bound = bind_secrets(secrets, doc["position"], fingerprint, doc["group"]["name"])
            if bound is not secrets:
                keystore.save(dataclasses.replace(bound))
            out = run_mix_offline(bundle, rng=system_random)
            _, body = read_mix_output(out, fingerprint)
            entries = [sign_envelope(key, election, "shuffle", author, body)]
            log.info("shuffle made as mix server %d", doc["position"])
    except ShuffleRejected as exc:
        log.error("refused: %s", exc)
        return EXIT_REFUSED
    except (DecodeError, LocalProtocolError, KeyError, ValueError) as exc:
        raise CliError(f"cannot run the {duty} duty: {exc}") from exc
    _write(args.output, transfer_output(election, author, duty, out, entries))
    print(f"tohyo trustee: {len(entries)} signed entries written to {args.output}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from bulletin_board.client import BoardRefusedError
    from bulletin_board.entry import verify_envelope
    from election.policy import ceremony_config
    from mixnet.errors import DecodeError, VerificationError
    from trustees.daemon import _NETWORK_ERRORS
    from trustees.offline import decryption_entry_body, read_dkg_output
    from trustees.transfer import read_mix_output, read_transfer

    try:
        election, author, duty, bundle, entries = read_transfer(_read(args.input), "out")
    except DecodeError as exc:
        raise CliError(f"{args.input} is not a transfer output: {exc}") from exc
    if election != args.election:
        raise CliError(f"{args.input} is for election {election}, not {args.election}")
    follower = asyncio.run(_snapshot(args))
    state = follower.state
    if state.manifest is None:
        raise CliError("the election has no manifest yet")
    _author_of(state.manifest, author)
    try:
        if duty == "dkg":
            expected = [
                m.to_json_value() for m in read_dkg_output(bundle, ceremony_config(state.manifest))
            ]
        elif duty == "decrypt":
            expected = [decryption_entry_body(bundle, ceremony_config(state.manifest))]
        else:
            expected = [read_mix_output(bundle, state.fingerprint)[1]]
        if [dict(e.body) for e in entries] != expected:
            raise DecodeError("the signed entries are not the bundle's output")
        for e in entries:
            verify_envelope(e, state.authors[author].key)
    except (DecodeError, VerificationError) as exc:
        raise CliError(f"{args.input} does not check: {exc}") from exc

    async def post_all() -> int:
        posted = 0
        async with _client(args) as client:
            for e in entries:
                try:
                    receipt = await client.post(e)
                    posted += 1
                    print(
                        f"tohyo trustee: posted {e.type} (entry {receipt.index})", file=sys.stderr
                    )
                except BoardRefusedError as exc:
                    if exc.code != "duplicate_entry":
                        raise CliError(
                            f"the board refused {e.type}: {exc.code}: {exc.detail}"
                        ) from exc
        return posted

    try:
        n = asyncio.run(post_all())
    except _NETWORK_ERRORS as exc:
        raise _unreachable(args, exc) from exc
    print(
        f"tohyo trustee: {n} of {len(entries)} entries posted (others already on the board)",
        file=sys.stderr,
    )
    return 0


# ---------------------------------------------------------------- parser


def _add_run(run: argparse.ArgumentParser) -> None:
    run.add_argument("--keystore", required=True)
    _add_board(run)
    run.add_argument(
        "--round-timeout",
        type=float,
        default=120.0,
        help="unused: the administrator closes the key ceremony's rounds "
        "(kept so that older scripts still run)",
    )
    run.add_argument(
        "--poll-interval",
        type=float,
        default=0.5,
        help="first delay between polls; doubles while idle (default 0.5)",
    )
    run.add_argument("--max-poll-interval", type=float, default=5.0)
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes for the shuffle, proofs and shares (default 1: inline)",
    )
    run.add_argument(
        "--state-dir",
        help="where the shuffle generators derived ahead are kept (in "
        "generators/); default: the keystore's directory",
    )
    run.add_argument(
        "--no-generator-cache",
        action="store_true",
        help="derive the shuffle generators only when they are needed, keep none",
    )
    run.add_argument("-v", "--verbose", action="store_true")
    _add_passphrase(run)
    run.set_defaults(func=_run)


def register(subparsers: Any) -> None:
    trustee = subparsers.add_parser("trustee", help="key ceremony, mixing and decryption duties")
    sub = trustee.add_subparsers(dest="trustee_command", metavar="SUBCOMMAND")

    keygen = sub.add_parser("keygen", help="new X25519 + Ed25519 keys in an encrypted keystore")
    keygen.add_argument("--keystore", required=True)
    _add_passphrase(keygen)
    keygen.set_defaults(func=_keygen)

    status = sub.add_parser("status", help="what the keystore holds (public facts only)")
    status.add_argument("--keystore", required=True)
    status.add_argument("--board", help="also show the election's phase and this party's duties")
    status.add_argument("--election")
    status.add_argument("--board-key")
    status.add_argument("--allow-test-groups", action="store_true")
    status.add_argument("--give-up-after", type=float, default=30.0)
    status.add_argument(
        "--state-dir",
        help="where the daemon keeps its generator cache (default: the keystore's directory)",
    )
    _add_passphrase(status)
    status.set_defaults(func=_status)

    run = sub.add_parser("run", help="follow the board and perform this party's duties")
    run.add_argument("--role", choices=("trustee", "mix"), default="trustee")
    _add_run(run)
    mixer = sub.add_parser("mix", help="the same as `run --role mix`")
    _add_run(mixer)
    mixer.set_defaults(role="mix")

    gens = sub.add_parser(
        "generators", help="derive a mix server's shuffle generators ahead, into its cache"
    )
    _add_board(gens)
    gens.add_argument(
        "--expected",
        type=int,
        required=True,
        help="the number of rows to prepare for (e.g. the eligible voters)",
    )
    gens.add_argument("--state-dir", help="the daemon's state directory (as for run)")
    gens.add_argument(
        "--keystore",
        required=True,
        help="its keystore: the cache is authenticated with a key only it holds; "
        "its directory is the default state directory",
    )
    _add_passphrase(gens)
    gens.add_argument(
        "--workers", type=int, default=1, help="processes for the derivation (default 1: inline)"
    )
    gens.set_defaults(func=_generators)

    export = sub.add_parser("export", help="write the input of a duty for an offline machine")
    _add_board(export)
    export.add_argument("--author", required=True, help="the trustee or mix server id")
    export.add_argument("--out", required=True)
    export.set_defaults(func=_export)

    offline = sub.add_parser("offline", help="run a duty from an input file (no network)")
    offline.add_argument("--keystore", required=True)
    offline.add_argument("--in", dest="input", required=True)
    offline.add_argument("--out", dest="output", required=True)
    _add_passphrase(offline)
    offline.set_defaults(func=_offline)

    imp = sub.add_parser("import", help="check and post the entries an offline run wrote")
    _add_board(imp)
    imp.add_argument("--in", dest="input", required=True)
    imp.set_defaults(func=_import)

    trustee.set_defaults(func=lambda args: (trustee.print_help(), 2)[1])
