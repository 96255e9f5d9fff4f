"""Dispatch `tohyo <command> …` to the package that owns the command.

Each role package has a `cli` module with `register(subparsers)`; it adds its own sub-commands
and sets `func` on them. `func(args)` returns the exit status. Modules are imported only when
their command is used, so a role's dependencies are not loaded by another role's commands.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Sequence

# command -> (module that registers it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "admin": ("election.cli", "administrator: define, publish, open and close elections"),
    "board": ("bulletin_board.cli", "run or mirror a bulletin board"),
    "card": ("jpki.cli", "My Number Card readers, status, certificates, virtual cards"),
    "trustee": ("trustees.cli", "key ceremony, mixing and decryption duties"),
    "vote": ("voter_client.cli", "cast a ballot, check a receipt"),
    "verify": ("verifier.cli", "verify an election record or an audited ballot"),
    "simulate": ("simulations.cli", "simulated elections, load tests, scaling and attacks"),
    "demo": ("simulations.demo", "run a whole election on the embedded defaults"),
    "bench": ("bench.cli", "benchmarks of the mix-net and the other components"),
    "mix": ("simulations.vmn", "Verificatum-format shuffles that Verificatum's vmnv verifies"),
}


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _available() -> dict[str, tuple[str, str]]:
    found = {}
    for name, (module, helptext) in COMMANDS.items():
        if importlib.util.find_spec(module.split(".")[0]) is None:
            continue
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except ModuleNotFoundError:
            continue
        found[name] = (module, helptext)
    return found


def version() -> str:
    """The installed distribution's version (the package's own when not installed)."""
    try:
        return importlib.metadata.version("tohyo")
    except importlib.metadata.PackageNotFoundError:
        from tohyo import __version__

        return __version__


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tohyo", description="tohyo — verifiable voting")
    parser.add_argument("--version", action="version", version=f"tohyo {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, helptext) in _available().items():
        if only is not None and name != only:
            sub.add_parser(name, help=helptext)
            continue
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else None
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"tohyo {command}: {exc}", file=sys.stderr)
        return 2
    except EOFError:
        # a prompt met a closed standard input (e.g. no terminal): a user mistake, not a bug
        print(f"tohyo {command}: standard input is closed; nothing was read", file=sys.stderr)
        return 2
    except OSError as exc:
        # the environment refused (address in use, missing folder, permission): say which
        where = f": {exc.filename}" if exc.filename else ""
        print(f"tohyo {command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
