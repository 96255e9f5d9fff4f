"""The `tohyo` dispatcher: `--version`, and mistakes of the environment reported in one line."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from tohyo import cli

FAKE = """
import errno

def register(sub):
    p = sub.add_parser("fake")
    p.add_argument("what", choices=["oserror", "eof", "fine"])
    p.set_defaults(func=run)

def run(args):
    if args.what == "oserror":
        raise OSError(errno.EADDRINUSE, "Address already in use")
    if args.what == "eof":
        input()
    return 0
"""


def test_version_is_printed_and_exits_zero() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tohyo", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"tohyo {cli.version()}"
    assert out.stdout.split()[1][0].isdigit()


@pytest.fixture
def fake_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tohyo_fake_cli.py").write_text(FAKE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "fake", ("tohyo_fake_cli", "a test command"))


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("oserror", "tohyo fake: Address already in use"),
        ("eof", "tohyo fake: standard input is closed; nothing was read"),
    ],
)
def test_environment_mistakes_are_one_line_and_exit_2(
    fake_command: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    what: str,
    message: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # a closed, empty standard input
    assert cli.main(["fake", what]) == 2
    err = capsys.readouterr().err
    assert err.strip() == message
    assert "Traceback" not in err


def test_a_command_that_succeeds_exits_zero(fake_command: None) -> None:
    assert cli.main(["fake", "fine"]) == 0
