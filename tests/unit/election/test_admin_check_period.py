"""`tohyo admin check` warns when the definition's voting period is already over."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

import pytest

from election.definition import EXAMPLE
from tohyo.cli import main


def definition(path: Path, voting_end: dt.datetime) -> Path:
    """The example with every key filled in and a week of voting ending at `voting_end`."""
    text = EXAMPLE.read_text(encoding="utf-8")
    while 'key = ""' in text:
        text = text.replace('key = ""', f'key = "{secrets.token_hex(32)}"', 1)
    for role in ("admin", "registrar", "board"):
        text = text.replace(f'{role} = ""', f'{role} = "{secrets.token_hex(32)}"')
    start = voting_end - dt.timedelta(days=7)
    text = re.sub(r"(?m)^election_day = .*$", f"election_day = {voting_end.date()}", text)
    text = re.sub(r"(?m)^voting_start = .*$", f"voting_start = {start.isoformat()}", text)
    text = re.sub(r"(?m)^voting_end = .*$", f"voting_end = {voting_end.isoformat()}", text)
    path.write_text(text, encoding="utf-8")
    return path


def check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[str, str]:
    assert main(["admin", "check", str(path)]) == 0
    return capsys.readouterr()


def test_a_past_voting_period_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    end = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0)
    out, err = check(capsys, definition(tmp_path / "past.toml", end))
    assert "fingerprint" in out
    assert err.startswith("warning: the voting period ended on ")
    assert end.isoformat() in err and err.count("\n") == 1


def test_a_coming_voting_period_is_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    end = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    out, err = check(capsys, definition(tmp_path / "coming.toml", end))
    assert "fingerprint" in out and err == ""
