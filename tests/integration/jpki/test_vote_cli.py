"""`tohyo vote` as a voter runs it: a board process with its registrar, a virtual My Number
Card in a PC/SC reader (pcscd + vpcd + pyscard), the CLI as a separate process."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jpki_pcsc_support import PASSWORD, reader_name

from bulletin_board.client import BoardClient
from bulletin_board.testing import BoardProcess
from jpki.certs import BasicFacts, Sex
from jpki.testca import TestCa
from jpki.virtual_card import IssuedCard
from jpki.voting_codes import generate_voting_codes
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import _write_settings, open_voting
from tests.process_support import run_tohyo

pytestmark = pytest.mark.pcsc

HANAKO = BasicFacts("投票 花子", dt.date(1980, 4, 1), Sex.FEMALE, "茨城県つくば市研究学園1番地")


def tohyo(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_tohyo(*args, env=env, input=stdin)


@pytest.fixture
def election(tmp_path: Path, test_ca: TestCa, monkeypatch: pytest.MonkeyPatch) -> Any:
    rng = DeterministicRandom(b"vote cli")
    el = Election(rng, election_id="vote-cli")
    csv_text, hashes = generate_voting_codes(2)
    codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
    settings = _write_settings(tmp_path, el, test_ca, frozenset(hashes))
    monkeypatch.setenv("TOHYO_EVIDENCE_PASSPHRASE", "evidence passphrase")
    board = BoardProcess(
        str(tmp_path / "b.sqlite"),
        tmp_path / "board.pem",
        extra=(
            "--registrar",
            str(settings),
            "--allow-test-groups",
            "--open-elections",
            "--processes",
            "1",
        ),
    )
    url = board.start()

    async def setup() -> Any:
        async with BoardClient(url) as client:
            return await open_voting(client, el, rng)

    asyncio.run(setup())
    try:
        yield el, url, codes, board
    finally:
        board.stop()


async def _size(url: str, election: str) -> int:
    async with BoardClient(url) as client:
        return (await client.tree_head(election)).tree_size


def test_cast_revote_audit_and_receipts(
    election: Any, issue: Callable[..., IssuedCard], insert: Callable[..., str], tmp_path: Path
) -> None:
    el, url, codes, _ = election
    reader = insert(issue(HANAKO, label="hanako"))
    base = [
        "vote",
        "cast",
        "--board",
        url,
        "--election",
        el.id,
        "--fingerprint",
        el.fingerprint.hex(),
        "--reader",
        reader,
    ]
    card_env = {"TOHYO_CARD_PASSWORD": PASSWORD}

    # a wrong password: refused by the card, tries left shown, nothing cast
    size = asyncio.run(_size(url, el.id))
    proc = tohyo(
        *base,
        "--choice",
        "mayor=b",
        "--code",
        codes[0],
        "--yes",
        env={"TOHYO_CARD_PASSWORD": "WRONG1"},
    )
    assert proc.returncode == 2 and "tries are left" in proc.stderr, proc.stderr
    assert "WRONG1" not in proc.stdout + proc.stderr
    assert asyncio.run(_size(url, el.id)) == size
    # not a password at all: said plainly (was a traceback), no try spent
    proc = tohyo(
        *base, "--choice", "mayor=b", "--code", codes[0], "--yes", env={"TOHYO_CARD_PASSWORD": "ab"}
    )
    assert proc.returncode == 2 and "6 to 16 characters" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # a wrong voting code: refused by the registrar in plain words, nothing cast
    proc = tohyo(
        *base, "--choice", "mayor=b", "--code", "AAAA-AAAA-AAAA-AAAA", "--yes", env=card_env
    )
    assert proc.returncode == 2 and "voting code is not valid" in proc.stderr, proc.stderr
    assert asyncio.run(_size(url, el.id)) == size
    # an empty reader: a plain message, nothing cast
    proc = tohyo(
        *base[:-1], reader_name(1), "--choice", "mayor=b", "--code", codes[0], "--yes", env=card_env
    )
    assert proc.returncode == 2 and "no card in the reader" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert asyncio.run(_size(url, el.id)) == size
    # an invalid choice never leaves the device
    proc = tohyo(*base, "--choice", "mayor=nobody", "--code", codes[0], "--yes", env=card_env)
    assert proc.returncode == 2 and "no option" in proc.stderr

    # cast, interactively: choices by number, review, the "cast" word
    receipt = tmp_path / "receipt.json"
    proc = tohyo(
        *base, "--code", codes[0], "--receipt", str(receipt), env=card_env, stdin="2\ncast\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "石田" in proc.stdout and "Your ballot was cast." in proc.stdout
    assert PASSWORD not in proc.stdout + proc.stderr
    proc = tohyo("vote", "check-receipt", str(receipt))
    assert proc.returncode == 0 and "Your ballot is in the record" in proc.stdout

    # re-vote: said before the count changes
    second = tmp_path / "receipt2.json"
    proc = tohyo(
        *base,
        "--choice",
        "mayor=c",
        "--code",
        codes[0],
        "--yes",
        "--receipt",
        str(second),
        env=card_env,
    )
    assert proc.returncode == 0 and "replaces the ballot you cast before" in proc.stdout
    # the first receipt still proves that ballot is in the (append-only) record
    assert tohyo("vote", "check-receipt", str(receipt)).returncode == 0

    # Benaloh audit: the encryption is revealed, not cast, and checks out
    audit = tmp_path / "audit.json"
    size = asyncio.run(_size(url, el.id))
    proc = tohyo(*base, "--choice", "mayor=a", "--audit", str(audit))
    assert proc.returncode == 0 and "NOT cast" in proc.stdout
    assert asyncio.run(_size(url, el.id)) == size
    proc = tohyo(
        "verify", "ballot", str(audit), "--board", url, "--fingerprint", el.fingerprint.hex()
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "青木" in proc.stdout

    # a receipt for a ballot the board does not have (another index) is refused clearly
    doc = parse_canonical_json(receipt.read_bytes())
    doc["receipt"]["index"] += 1
    forged = tmp_path / "forged.json"
    forged.write_bytes(canonical_json(doc))
    proc = tohyo("vote", "check-receipt", str(forged))
    assert proc.returncode == 1 and "not issued by this board" in proc.stdout
    # and a receipt file that is not one
    (tmp_path / "junk.json").write_text(json.dumps({"x": 1}))
    proc = tohyo("vote", "check-receipt", str(tmp_path / "junk.json"))
    assert proc.returncode == 2 and "receipt" in proc.stderr


def test_receipt_check_catches_a_forked_or_cut_history(
    election: Any, issue: Callable[..., IssuedCard], insert: Callable[..., str], tmp_path: Path
) -> None:
    """A board that serves another history (same key, a copy of its database from before the
    ballot) is caught by the voter's receipt, whether it is shorter or diverges."""
    el, url, codes, board = election
    reader = insert(issue(HANAKO, label="hanako"))
    card_env = {"TOHYO_CARD_PASSWORD": PASSWORD}
    board.stop()
    fork_db = tmp_path / "fork.sqlite"
    shutil.copyfile(board.db, fork_db)  # a clean stop leaves one file
    board.start()
    receipt = tmp_path / "receipt.json"
    proc = tohyo(
        "vote",
        "cast",
        "--board",
        url,
        "--election",
        el.id,
        "--fingerprint",
        el.fingerprint.hex(),
        "--reader",
        reader,
        "--choice",
        "mayor=b",
        "--code",
        codes[0],
        "--yes",
        "--receipt",
        str(receipt),
        env=card_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert tohyo("vote", "check-receipt", str(receipt)).returncode == 0

    fork = BoardProcess(str(fork_db), board.key_path, extra=board.extra)
    fork_url = fork.start()
    try:
        # the other history is shorter: the ballot was cut out
        proc = tohyo("vote", "check-receipt", str(receipt), "--board", fork_url)
        assert proc.returncode == 1 and "contradicts your receipt" in proc.stdout, proc.stdout
        evidence = json.loads(proc.stderr)
        assert evidence["check"] == "board.rollback" and len(evidence["tree_heads"]) == 2
        # the other history diverges: another ballot took the same place
        proc = tohyo(
            "vote",
            "cast",
            "--board",
            fork_url,
            "--election",
            el.id,
            "--fingerprint",
            el.fingerprint.hex(),
            "--reader",
            reader,
            "--choice",
            "mayor=c",
            "--code",
            codes[0],
            "--yes",
            "--receipt",
            str(tmp_path / "other.json"),
            env=card_env,
        )
        assert proc.returncode == 0, proc.stderr
        proc = tohyo("vote", "check-receipt", str(receipt), "--board", fork_url)
        assert proc.returncode == 1 and "contradicts your receipt" in proc.stdout, proc.stdout
        heads = json.loads(proc.stderr)["tree_heads"]
        assert {h["tree_size"] for h in heads} == {asyncio.run(_size(url, el.id))}
        assert heads[0]["root_hash"] != heads[1]["root_hash"]
    finally:
        fork.stop()
    # the honest board still has the ballot
    assert tohyo("vote", "check-receipt", str(receipt)).returncode == 0
