"""The README's administrator commands, run as written in an empty folder.

The block after `<!-- docs-commands: administrator` in README.md ("Running an election": keys,
definition, check, voting codes, registrar, services, publish, key ceremony, one virtual voter,
close, tally, verification) is run by bash, line for line, in a scratch folder. The test changes
only what is marked "change": the board's port (8600 → a free one), the step the README leaves
to a person (editing the definition: the public keys from the `.pub` files the commands wrote,
and a voting period around now), and waits after the lines that start the board and the
virtual card in the background, until they answer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MARK = "<!-- docs-commands: administrator"
EDIT = "# edit election.toml:"
ELECTION = "tsukuba-2026-mayor"
READER = "Virtual PCD 00 00"

WAIT_FOR_BOARD = """\
import sys, time, urllib.request
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(sys.argv[1] + "/health", timeout=2):
            break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("the board did not answer within 120 s")
        time.sleep(0.3)
"""

WAIT_FOR_CARD = """\
import sys, time
from jpki.pcsc import card_present
deadline = time.monotonic() + 120
while not card_present(sys.argv[1]):
    if time.monotonic() > deadline:
        sys.exit("no card in the reader within 120 s")
    time.sleep(0.3)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def readme_block(text: str) -> str:
    """The fenced sh block that follows the administrator marker."""
    after = text[text.index(MARK) :]
    match = re.search(r"```sh\n(.*?)\n```", after, flags=re.DOTALL)
    assert match is not None, "no ```sh block after the marker"
    return match.group(1)


def fill_keys(folder: Path) -> None:
    """The README's `# edit election.toml` step: the public keys from the .pub files."""
    path = folder / "election.toml"
    text = path.read_text(encoding="utf-8")
    for role in ("admin", "registrar", "board"):
        key = (folder / f"{role}.pub").read_text().strip()
        assert re.fullmatch(r"[0-9a-f]{64}", key), role
        text = text.replace(f'{role} = ""', f'{role} = "{key}"', 1)
    for party in ("trustee-1", "trustee-2", "trustee-3", "mix-1", "mix-2", "mix-3"):
        keys = json.loads((folder / f"{party}.pub").read_text())
        text = text.replace('signing_key = ""', f'signing_key = "{keys["signing_key"]}"', 1)
        if party.startswith("trustee"):
            text = text.replace('exchange_key = ""', f'exchange_key = "{keys["exchange_key"]}"', 1)
    assert 'key = ""' not in text and 'admin = ""' not in text
    # voting open now (the example's period is the coming election's), for a week
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    end = now + dt.timedelta(days=7)
    for field, value in (
        ("election_day", end.date().isoformat()),
        ("voting_start", (now - dt.timedelta(hours=1)).isoformat()),
        ("voting_end", end.isoformat()),
    ):
        text, count = re.subn(rf"(?m)^{field} = .*$", f"{field} = {value}", text)
        assert count == 1, field
    path.write_text(text, encoding="utf-8")


def run_script(
    script: str, folder: Path, env: dict[str, str], timeout: float, log: Path
) -> tuple[int, str, str]:
    """bash -e over `script` in `folder` (each command traced on stderr); afterwards every
    process it left in the background is stopped. Returns (exit status, stdout, stderr)."""
    with open(log.with_suffix(".out"), "w") as out, open(log.with_suffix(".err"), "w") as err:
        proc = subprocess.Popen(
            ["bash", "-e", "-x", "-c", script],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = -1
        finally:
            stop_group(proc.pid)
    stdout, stderr = log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()
    if status == -1:
        pytest.fail(f"the commands took over {timeout} s\n{stdout}\n{stderr}")
    return status, stdout, stderr


def stop_group(pgid: int) -> None:
    """SIGTERM to the services the script started in the background (its process group)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)


def insert_wait_after(lines: list[str], start: str, command: str) -> None:
    """Put `command` after the background line (`… &`) of the command that begins with `start`."""
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i in range(first, len(lines)) if lines[i].endswith("&"))
    lines.insert(last + 1, command)


@pytest.mark.slow
@pytest.mark.pcsc
def test_readme_administrator_commands_run_as_written(pcscd: None, tmp_path: Path) -> None:
    block = readme_block((REPO / "README.md").read_text(encoding="utf-8"))
    assert block.count("8600") >= 2 and block.count(EDIT) == 1
    port = free_port()
    block = block.replace("8600", str(port))  # change 1: a free port
    before, after = block.split(EDIT)
    lines = after.splitlines()
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "wait_for_board.py").write_text(WAIT_FOR_BOARD)
    (helpers / "wait_for_card.py").write_text(WAIT_FOR_CARD)
    python = f'"{sys.executable}" "{helpers}'
    # change 3: wait until the board, and then the virtual card, answer
    insert_wait_after(
        lines, "tohyo board serve", f'{python}/wait_for_board.py" http://127.0.0.1:{port}'
    )
    insert_wait_after(lines, "tohyo card virtual", f'{python}/wait_for_card.py" "{READER}"')
    after = EDIT + "\n".join(lines)

    folder = tmp_path / "election"
    folder.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TOHYO_KEY_PASSPHRASE": "docs rehearsal key passphrase",
        "TOHYO_TRUSTEE_PASSPHRASE": "docs rehearsal keystore passphrase",
        "TOHYO_EVIDENCE_PASSPHRASE": "docs rehearsal evidence passphrase",
    }
    status, _, err = run_script(before, folder, env, 180, tmp_path / "keys")
    assert status == 0, err
    fill_keys(folder)  # change 2: the edit the README leaves to a person
    status, out, err = run_script(after, folder, env, 600, tmp_path / "election")
    assert status == 0, f"{out}\n{err}"

    assert re.search(r"fingerprint\s+[0-9a-f]{64}", out)
    assert f"published {ELECTION}" in out
    assert "the key ceremony is open" in out and "joint key posted" in out
    assert f"{ELECTION}: voting is open" in out
    assert "phase      voting" in out
    assert f"{ELECTION}: voting is closed; 1 ballots from 1 voters" in out
    assert f"{ELECTION}: result posted" in out and "the election is tallied" in out
    assert re.search(r"(?m)^  ishida\s+1$", out) and re.search(r"(?m)^  aoki\s+0$", out)
    assert "RESULT: PASS" in out and (folder / "record").is_dir()
    assert "Your ballot is in the record" in out
    assert (folder / "postcards.csv").stat().st_mode & 0o777 == 0o600
    assert (folder / "board.sqlite").is_file()
