#!/usr/bin/env python3
"""Mutation testing of the verifiers: disable each check in turn; the tests must notice.

A check is found in the source, not listed by hand, so checks added later are covered too:

- `if-raise`: an `if`/`elif` whose body raises (VerificationError, StepFailed, DecodeError,
  PeerProtocolError, …) — its condition becomes `False`;
- `if-record`: an `if`/`elif` whose body records a failure (`disqualified[…] = …`,
  `proof_failures[…] = …`, `excluded[…] = …`) — its condition becomes `False`;
- `call`: a statement that only calls a `check…`/`verify…` function (membership and range
  checks, a proof's verifier called by another) — it becomes `pass`.

Each mutant is run in a child process forked from this one (which has imported pytest and the
third-party libraries, never the project): an import hook serves the mutated source for that
one module, and pytest runs the file's test selection with `-x`. No file is written. A mutant
is killed when a test fails; the report names the test. The script exits 1 when a mutant
survives (or a selection fails without a mutant), 0 when every mutant is killed.

    scripts/mutate_verifiers.py [--paths mixnet/shuffle …] [--jobs 2] [--list] [--report FILE]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.abc
import importlib.util
import itertools
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SIGMA = "tests/property/mixnet/test_prop_false_statements.py"
TRUSTEES = "tests/property/trustees/test_prop_false_statements_trustees.py"

#: file → (functions never mutated: provers and misuse errors, tests to run, fastest first)
TARGETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mixnet/proofs/checks.py": ((), (SIGMA, "tests/property/mixnet/test_prop_mixnet_sigma.py")),
    "mixnet/proofs/schnorr.py": (
        ("prove",),
        (SIGMA, "tests/property/mixnet/test_prop_mixnet_sigma.py"),
    ),
    "mixnet/proofs/chaum_pedersen.py": (
        ("prove", "prove_batch"),
        (SIGMA, "tests/property/mixnet/test_prop_mixnet_sigma.py"),
    ),
    "mixnet/proofs/encryption.py": (
        ("prove",),
        (SIGMA, "tests/property/mixnet/test_prop_mixnet_sigma.py"),
    ),
    "mixnet/proofs/decryption.py": (
        ("prove_factors", "decryption_factors"),
        (SIGMA, "tests/property/mixnet/test_prop_mixnet_sigma.py"),
    ),
    "mixnet/shuffle/proof.py": (
        ("prove",),
        (
            SIGMA,
            "tests/property/mixnet/test_prop_mixnet_shuffle.py",
            "tests/unit/mixnet/test_mixnet_shuffle_unit.py",
        ),
    ),
    "trustees/decryption.py": (
        ("make_share",),
        (
            TRUSTEES,
            "tests/unit/trustees/test_trustees_decryption.py",
            "tests/property/trustees/test_prop_trustees.py",
        ),
    ),
    "trustees/dkg.py": (
        ("DkgTrustee", "Polynomial", "KeyShare"),
        (
            TRUSTEES,
            "tests/unit/trustees/test_trustees_dkg.py",
            "tests/unit/trustees/test_trustees_rounds.py",
            "tests/unit/trustees/test_trustees_misbehaviour.py",
            "tests/property/trustees/test_prop_trustees.py",
        ),
    ),
    "verifier/steps.py": (
        ("Context", "_progress", "_run", "verify_record"),
        (
            "tests/integration/verifier/test_verifier_tamper.py",
            "tests/unit/verifier/test_verifier_steps.py",
        ),
    ),
}

#: What `make mutants` covers: every mutant there is killed. verifier/steps.py is a target too
#: (`--paths verifier`), but the tests do not kill all its mutants yet (docs/results/mutants.md).
DEFAULT_PATHS = ["mixnet", "trustees"]

RECORDS = {"disqualified", "proof_failures", "excluded", "failures"}
#: Raised for misuse or to skip a step, not a failed check: never mutated.
NOT_CHECKS = {"Skipped", "ValueError", "LocalProtocolError", "NotImplementedError", "TypeError"}
#: The libraries the tests import, loaded once before forking (the project never is).
PRELOAD = (
    "pytest",
    "hypothesis",
    "xdist",
    "gmpy2",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "aiohttp",
)
PROJECT = ("mixnet", "trustees", "verifier", "election", "bulletin_board", "jpki", "tohyo")


# ---------------------------------------------------------------- finding the checks


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    kind: str  # if-raise, if-record, call
    check: str  # the check's id as the source names it
    start: tuple[int, int]  # (line, col) of the replaced span, 1-based lines
    end: tuple[int, int]
    replacement: str

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line} {self.kind} {self.check}"


def _check_name(node: ast.AST, source: str) -> str:
    """The id a raise names (its first string argument), or the function a call runs and
    its `check=` keyword."""
    call = node.exc if isinstance(node, ast.Raise) else node
    if not isinstance(call, ast.Call):
        return ast.get_source_segment(source, node) or "?"
    if not isinstance(node, ast.Raise):
        name = ast.get_source_segment(source, call.func) or "?"
        for kw in call.keywords:
            if kw.arg == "check":
                return f"{name}(check={ast.get_source_segment(source, kw.value)})"
        return f"{name}()"
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return " ".join(arg.value.split()[:2])
        if isinstance(arg, ast.JoinedStr | ast.Attribute | ast.Name):
            return ast.get_source_segment(source, arg) or "?"
    func = call.func
    return f"{ast.get_source_segment(source, func)}()"


def _misuse(stmt: ast.Raise) -> bool:
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return isinstance(exc, ast.Name) and exc.id in NOT_CHECKS


def _records_failure(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Assign):
        return False
    for target in stmt.targets:
        if isinstance(target, ast.Subscript):
            base = target.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name in RECORDS:
                return True
    return False


def _is_check_call(stmt: ast.stmt) -> bool:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    func = stmt.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.startswith(("check", "verify"))


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str, source: str, skip: Sequence[str]) -> None:
        self.path, self.source, self.skip = path, source, set(skip)
        self.mutants: list[Mutant] = []
        self.scope: list[str] = []

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if node.name in self.skip:
            return
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def visit_If(self, node: ast.If) -> None:
        if self.scope:
            raises = [s for s in node.body if isinstance(s, ast.Raise) and not _misuse(s)]
            kind = (
                "if-raise"
                if raises
                else "if-record"
                if any(_records_failure(s) for s in node.body)
                else ""
            )
            if kind:
                what = _check_name(raises[0], self.source) if raises else "failure recorded"
                t = node.test
                assert t.end_lineno is not None and t.end_col_offset is not None
                self.mutants.append(
                    Mutant(
                        self.path,
                        node.lineno,
                        kind,
                        what,
                        (t.lineno, t.col_offset),
                        (t.end_lineno, t.end_col_offset),
                        "False",
                    )
                )
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if self.scope and _is_check_call(node):
            assert node.end_lineno is not None and node.end_col_offset is not None
            self.mutants.append(
                Mutant(
                    self.path,
                    node.lineno,
                    "call",
                    _check_name(node.value, self.source),
                    (node.lineno, node.col_offset),
                    (node.end_lineno, node.end_col_offset),
                    "pass",
                )
            )
        self.generic_visit(node)


def find_mutants(path: str) -> list[Mutant]:
    source = (ROOT / path).read_text(encoding="utf-8")
    finder = _Finder(path, source, TARGETS[path][0])
    finder.visit(ast.parse(source))
    return sorted(finder.mutants, key=lambda m: (m.line, m.start))


def mutate(source: str, m: Mutant) -> str:
    lines = source.splitlines(keepends=True)
    (l1, c1), (l2, c2) = m.start, m.end
    head = "".join(lines[: l1 - 1]) + lines[l1 - 1][:c1]
    tail = lines[l2 - 1][c2:] + "".join(lines[l2:])
    # keep the line count: the replaced span's newlines stay after the replacement
    return (
        head + m.replacement + "\n" * (l2 - l1) + tail if l2 > l1 else (head + m.replacement + tail)
    )


# ---------------------------------------------------------------- running one mutant


class _MutatedSource(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves `source` for module `name` (file `origin`), ahead of every other finder."""

    def __init__(self, name: str, origin: Path, source: str) -> None:
        self.name, self.origin, self.source = name, origin, source

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.origin, loader=self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.source, str(self.origin), "exec"), module.__dict__)  # noqa: S102


class _FirstFailure:
    def __init__(self) -> None:
        self.nodeid: str | None = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed and self.nodeid is None:
            self.nodeid = report.nodeid


def _child(mutant: Mutant | None, tests: Sequence[str], out: Path, log: Path) -> None:
    """In the forked process: install the mutant, run pytest, write the outcome."""
    import pytest

    os.chdir(ROOT)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.dont_write_bytecode = True
    if mutant is not None:
        source = (ROOT / mutant.path).read_text(encoding="utf-8")
        name = mutant.path.removesuffix(".py").replace("/", ".")
        sys.meta_path.insert(0, _MutatedSource(name, ROOT / mutant.path, mutate(source, mutant)))
    # one file at a time, fastest first: most mutants die in the first, before the others
    # are even collected
    plugin = _FirstFailure()
    code = 0
    for test_file in tests:
        args = ["-x", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0", test_file]
        code = int(pytest.main(args, plugins=[plugin]))
        if code != 0:
            break
    out.write_text(json.dumps({"code": code, "killer": plugin.nodeid}), encoding="utf-8")
    os._exit(0)


@dataclass
class Outcome:
    mutant: Mutant | None
    path: str
    code: int | None  # pytest's exit code; None on timeout
    killer: str | None
    seconds: float

    @property
    def killed(self) -> bool:
        return self.code == 1 and self.killer is not None


_RUNS = itertools.count(1)  # names each run's files in the temporary directory


@dataclass
class _Running:
    pid: int
    mutant: Mutant | None
    path: str
    started: float
    out: Path


def run_all(
    jobs: list[tuple[Mutant | None, str]], workers: int, timeout: float, tmp: Path
) -> Iterator[Outcome]:
    """Fork up to `workers` children at a time; yield each outcome as it ends."""
    pending = list(reversed(jobs))
    running: dict[int, _Running] = {}
    while pending or running:
        while pending and len(running) < workers:
            mutant, path = pending.pop()
            counter = next(_RUNS)
            out, log = tmp / f"{counter}.json", tmp / f"{counter}.log"
            tests = TARGETS[path][1]
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                try:
                    _child(mutant, tests, out, log)
                finally:
                    os._exit(3)
            running[pid] = _Running(pid, mutant, path, time.monotonic(), out)
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for r in list(running.values()):
                if now - r.started > timeout:
                    os.kill(r.pid, signal.SIGKILL)
            time.sleep(0.05)
            continue
        r = running.pop(pid)
        seconds = time.monotonic() - r.started
        if r.out.exists():
            data = json.loads(r.out.read_text(encoding="utf-8"))
            yield Outcome(r.mutant, r.path, data["code"], data["killer"], seconds)
        else:
            yield Outcome(r.mutant, r.path, None, None, seconds)


# ---------------------------------------------------------------- the command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--paths",
        nargs="+",
        default=DEFAULT_PATHS,
        help=f"files or directories to mutate (default: {' '.join(DEFAULT_PATHS)})",
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--report", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)

    paths = [p for p in TARGETS if any(p.startswith(q.rstrip("/")) for q in args.paths)]
    if not paths:
        print(f"mutate_verifiers: no target under {args.paths}", file=sys.stderr)
        return 2
    mutants = [m for p in paths for m in find_mutants(p)]
    if args.list:
        for m in mutants:
            print(m.label)
        print(f"{len(mutants)} mutants in {len(paths)} files")
        return 0

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(name)
    loaded = [m for m in sys.modules if m.split(".")[0] in PROJECT]
    assert not loaded, f"the project was imported before forking: {loaded}"

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    start = time.monotonic()
    failed = False
    with tempfile.TemporaryDirectory(prefix="tohyo-mutants-") as tmp:
        # the selections must pass unmutated, or a "kill" means nothing
        # one baseline per distinct test selection
        selections = {TARGETS[p][1]: p for p in paths}
        for o in run_all(
            [(None, p) for p in selections.values()], args.jobs, args.timeout, Path(tmp)
        ):
            ok = o.code == 0
            failed |= not ok
            verdict = "pass" if ok else f"FAILS ({o.killer})"
            say(f"baseline for {o.path}: {verdict} {o.seconds:.1f} s")
        if failed:
            say("mutate_verifiers: a test selection fails without any mutant; nothing run")
            return 1
        jobs: list[tuple[Mutant | None, str]] = [(m, m.path) for m in mutants]
        outcomes = []
        for o in run_all(jobs, args.jobs, args.timeout, Path(tmp)):
            assert o.mutant is not None
            verdict = "killed" if o.killed else "NOT KILLED"
            print(f"{verdict:>10} {o.mutant.label} ({o.seconds:.1f} s)", flush=True)
            outcomes.append(o)
    outcomes.sort(key=lambda o: (o.path, o.mutant.line if o.mutant else 0))
    survivors = [o for o in outcomes if not o.killed]
    say("")
    say("| file:line | kind | check | killed by |")
    say("|---|---|---|---|")
    for o in outcomes:
        assert o.mutant is not None
        m = o.mutant
        verdict = o.killer if o.killed else "SURVIVED" if o.code == 0 else f"ERROR (exit {o.code})"
        say(f"| {m.path}:{m.line} | {m.kind} | `{m.check}` | {verdict} |")
    elapsed = time.monotonic() - start
    say("")
    say(
        f"{len(outcomes)} mutants in {len(paths)} files: {len(outcomes) - len(survivors)} "
        f"killed, {len(survivors)} not; {elapsed:.0f} s with {args.jobs} processes"
    )
    if args.report:
        args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
