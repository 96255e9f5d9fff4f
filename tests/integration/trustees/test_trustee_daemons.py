"""Whole elections with the trustees and mix servers as separate processes on 127.0.0.1.

A board (`tohyo board serve --policy election --allow-test-groups`) in its own process;
`tohyo trustee run` daemons for 3 trustees (t = 2) and 3 mix servers; the test plays the
administrator (`Coordinator`) and the registrar. Checked: the key ceremony survives a SIGKILL
of a trustee (same polynomial), a few hundred ballots are mixed and decrypted to the right
tally, one trustee and one mix server can work only through offline files with the same
result, a mix server refuses to mix over a bad proof of shuffle (naming the check, posting
nothing), and no secret reaches a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import pytest
from daemon_support import (
    GROUP,
    WAIT,
    BoardProcess,
    DaemonElection,
    Party,
    assert_no_secrets,
    cast_ballots,
    check_tally,
    cli,
    keygen,
    open_election,
    open_with_joint_key,
    secrets_of,
)

from bulletin_board.client import BoardClient
from bulletin_board.entry import sign_envelope
from mixnet.groups import get_group
from trustees.coordinator import Coordinator
from trustees.daemon import keystore_lock
from trustees.mixer import mix

pytestmark = pytest.mark.slow
BALLOTS = 300
TALLIES: dict[str, Any] = {}


async def _vote_and_close(
    client: BoardClient, co: Coordinator, el: DaemonElection, ballots: int
) -> None:
    await co.phase("voting")
    assert co.state.pk is not None
    await cast_ballots(client, el, co.state.pk, ballots)
    await co.phase("closed")
    await co.mix_input()
    await co.phase("mixing")


# ---------------------------------------------------------------- online, with a restart


def test_election_with_daemons_and_a_restarted_trustee(board: BoardProcess, tmp_path: Path) -> None:
    asyncio.run(_online(board, tmp_path))


async def _online(board: BoardProcess, tmp_path: Path) -> None:
    el = DaemonElection.create("city-online", tmp_path, board)
    try:
        async with BoardClient(board.url, board.key_hex) as client:
            co = await open_election(client, el)
            t1, t2, t3 = (el.daemon(p) for p in el.trustees)
            # trustee 2 deals alone and is killed as soon as its commitments are on the board
            t2.start()
            await co.wait_until(
                lambda f: f.state.dkg is not None and 2 in f.state.dkg.commitments,
                "trustee 2's commitments",
                WAIT,
            )
            t2.kill()
            assert co.state.dkg is not None
            first = co.state.dkg.commitments[2]
            saved = el.trustees[1].secrets()
            assert saved.polynomial is not None  # saved before the commitments were posted
            group = get_group(GROUP)
            assert first.commitments == tuple(
                group.generator() ** group.scalar(a) for a in saved.polynomial
            )
            secrets = secrets_of(el.trustees[1])
            for d in (t1, t3, t2):
                d.start()
            mixers = [
                el.daemon(p, role="mix", via_env=True, workers=2 if p.number == 2 else 1)
                for p in el.mixers
            ]
            for m in mixers:
                m.start()
            joint = await co.joint_key(WAIT)
            assert joint["qualified"] == [1, 2, 3]
            assert co.state.dkg.commitments[2] == first  # the same polynomial after the restart
            assert (
                sum(
                    1
                    for m in co.state.dkg.messages
                    if m.sender == 2 and m.KIND == "dkg.commitments"
                )
                == 1
            )
            await _vote_and_close(client, co, el, BALLOTS)
            await co.wait_until(lambda f: f.shuffles == 3, "three shuffles", WAIT)
            await co.phase("decrypting")
            result = await co.result(WAIT, shares=3)
            await co.phase("tallied")
        check_tally(result["tally"], BALLOTS)
        for d in (t1, t2, t3, *mixers):
            assert await d.wait() == 0, d.log()
        assert t2.runs == 2
        assert "resuming with the polynomial saved in the keystore" in t2.log()
        for party in el.trustees:
            held = party.secrets()
            assert held.share is not None and held.polynomial is None
            secrets += secrets_of(party)
        for party in el.mixers:
            secrets += secrets_of(party)
        status = cli(
            "trustee",
            "status",
            "--keystore",
            str(el.trustees[0].keystore),
            "--passphrase-file",
            str(el.trustees[0].passphrase_file),
            *el.board_args(),
        )
        assert status.returncode == 0, status.stderr
        assert "key share:     held" in status.stdout and "share posted:  yes" in status.stdout
        assert "phase tallied" in status.stdout
        logs = "".join(d.log() for d in el.daemons) + status.stdout + status.stderr
        assert "key ceremony: done" in logs and "mixing: shuffling and proving" in logs
        assert_no_secrets(logs, secrets)
        TALLIES["online"] = result["tally"]
    finally:
        el.stop_all()


# ---------------------------------------------------------------- offline trustee and mixer


async def _offline_trip(el: DaemonElection, party: Party, tag: str) -> tuple[int, str]:
    """export → offline run → import; returns (entries posted, the three commands' stderr)."""
    d = el.directory
    inp, out = d / f"{party.id}-{tag}.in.json", d / f"{party.id}-{tag}.out.json"
    export = await asyncio.to_thread(
        cli, "trustee", "export", *el.board_args(), "--author", party.id, "--out", str(inp)
    )
    assert export.returncode == 0, export.stderr
    run = await asyncio.to_thread(
        cli,
        "trustee",
        "offline",
        "--keystore",
        str(party.keystore),
        "--in",
        str(inp),
        "--out",
        str(out),
        "--passphrase-file",
        str(party.passphrase_file),
    )
    assert run.returncode == 0, run.stderr
    imp = await asyncio.to_thread(cli, "trustee", "import", *el.board_args(), "--in", str(out))
    assert imp.returncode == 0, imp.stderr
    posted = int(imp.stderr.rsplit("entries posted", 1)[0].split()[-3])
    return posted, export.stderr + run.stderr + imp.stderr


def test_election_with_an_offline_trustee_and_mixer(board: BoardProcess, tmp_path: Path) -> None:
    asyncio.run(_offline(board, tmp_path))


async def _offline(board: BoardProcess, tmp_path: Path) -> None:
    el = DaemonElection.create("city-offline", tmp_path, board)
    off_trustee, off_mixer = el.trustees[1], el.mixers[1]
    stderr = ""
    try:
        async with BoardClient(board.url, board.key_hex) as client:
            co = await open_election(client, el)
            online = [el.daemon(p) for p in (el.trustees[0], el.trustees[2])]
            online += [el.daemon(p, role="mix") for p in (el.mixers[0], el.mixers[2])]
            for d in online:
                d.start()
            # the key ceremony in trips: dealing, complaints, (answers,) final share; between
            # trips the administrator closes each round once the online trustees have posted
            joint = None
            for trip in range(8):
                _, text = await _offline_trip(el, off_trustee, f"dkg{trip}")
                stderr += text
                if off_trustee.secrets().share is not None:
                    break
                await co.wait_until(
                    lambda f: f.state.dkg is not None and not f.state.dkg.awaiting(),
                    "every message of the round",
                    WAIT,
                )
                with contextlib.suppress(TimeoutError):  # a new round opened: a trip more
                    joint = await co.joint_key(0)
            else:
                pytest.fail("the offline trustee never finished the ceremony")
            assert joint is not None
            assert joint["qualified"] == [1, 2, 3]
            await _vote_and_close(client, co, el, BALLOTS)
            await co.wait_until(lambda f: f.shuffles == 1, "the first shuffle", WAIT)
            posted, text = await _offline_trip(el, off_mixer, "mix")
            stderr += text
            assert posted == 1
            await co.wait_until(lambda f: f.shuffles == 3, "three shuffles", WAIT)
            await co.phase("decrypting")
            posted, text = await _offline_trip(el, off_trustee, "decrypt")
            stderr += text
            assert posted == 1
            result = await co.result(WAIT, shares=3)
            await co.phase("tallied")
        check_tally(result["tally"], BALLOTS)
        if "online" in TALLIES:
            assert result["tally"] == TALLIES["online"]
        for d in online:
            assert await d.wait() == 0, d.log()
        secrets: list[str] = []
        for party in (*el.trustees, *el.mixers):
            secrets += secrets_of(party)
        assert_no_secrets(stderr + "".join(d.log() for d in el.daemons), secrets)
    finally:
        el.stop_all()


# ---------------------------------------------------------------- a bad shuffle


def test_mixer_refuses_to_mix_over_a_bad_shuffle(board: BoardProcess, tmp_path: Path) -> None:
    asyncio.run(_bad_shuffle(board, tmp_path))


async def _bad_shuffle(board: BoardProcess, tmp_path: Path) -> None:
    el = DaemonElection.create("city-cheat", tmp_path, board, mixers=2)
    try:
        async with BoardClient(board.url, board.key_hex) as client:
            co = await open_with_joint_key(client, el)
            await _vote_and_close(client, co, el, 12)
            # mix server 1 cheats: a valid proof for its shuffle, posted with two rows swapped
            state = co.state
            assert state.pk is not None and co.follower.mix_input is not None
            body = mix(state.pk, co.follower.mix_input, state.fingerprint, 1)
            outputs = body["contests"][0]["outputs"]
            body["contests"][0]["outputs"] = [outputs[1], outputs[0], *outputs[2:]]
            key = el.mixers[0].secrets().keys.ed25519_key()
            await client.post(sign_envelope(key, el.election_id, "shuffle", "mix-1", body))
            m2 = el.daemon(el.mixers[1], role="mix", alias=True)  # `tohyo trustee mix`
            m2.start()
            assert await m2.wait() == 3, m2.log()
            await co.refresh()
            assert co.follower.shuffles == 1  # mix server 2 posted nothing
        log = m2.log()
        assert "refusing to mix over shuffle 1: TW" in log, log
        assert "posted shuffle" not in log
    finally:
        el.stop_all()


# ---------------------------------------------------------------- command-line errors


def test_cli_errors_are_clear_and_hold_no_secret(tmp_path: Path) -> None:
    pfile = tmp_path / "pass"
    pfile.write_text("the right passphrase\n")
    ks = tmp_path / "t.keystore"
    public = keygen(ks, pfile)
    again = cli("trustee", "keygen", "--keystore", str(ks), "--passphrase-file", str(pfile))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    status = cli("trustee", "status", "--keystore", str(ks), "--passphrase-file", str(wrong))
    assert status.returncode == 2
    assert "wrong passphrase" in status.stderr and "not the passphrase" not in status.stderr
    via_env = cli(
        "trustee",
        "status",
        "--keystore",
        str(ks),
        extra_env={"TOHYO_TRUSTEE_PASSPHRASE": "the right passphrase"},
    )
    assert via_env.returncode == 0, via_env.stderr
    assert public["signing_key"] in via_env.stdout and "not bound yet" in via_env.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = cli(
        "trustee",
        "run",
        "--keystore",
        str(ks),
        "--passphrase-file",
        str(pfile),
        "--board",
        f"http://127.0.0.1:{port}",
        "--election",
        "nowhere",
        "--give-up-after",
        "1",
        "--poll-interval",
        "0.2",
    )
    assert down.returncode == 2
    assert "unreachable" in down.stderr.splitlines()[-1]
    with keystore_lock(str(ks)):  # a second process on one keystore could equivocate
        busy = cli(
            "trustee",
            "run",
            "--keystore",
            str(ks),
            "--passphrase-file",
            str(pfile),
            "--board",
            f"http://127.0.0.1:{port}",
            "--election",
            "nowhere",
        )
    assert busy.returncode == 2 and "another process is using" in busy.stderr
    for expected in ("0", "-5"):  # generators for no voters: refused before anything is read
        none = cli(
            "trustee",
            "generators",
            "--board",
            f"http://127.0.0.1:{port}",
            "--election",
            "nowhere",
            "--expected",
            expected,
            "--keystore",
            str(ks),
            "--passphrase-file",
            str(pfile),
            "--state-dir",
            str(tmp_path / "state"),
        )
        assert none.returncode == 2 and "--expected must be at least 1" in none.stderr
        assert not (tmp_path / "state").exists()
    unreachable = cli(
        "trustee",
        "generators",
        "--board",
        f"http://127.0.0.1:{port}",
        "--election",
        "nowhere",
        "--expected",
        "10",
        "--give-up-after",
        "1",
        "--keystore",
        str(ks),
        "--passphrase-file",
        str(pfile),
        "--state-dir",
        str(tmp_path / "state"),
    )
    assert unreachable.returncode == 2 and "unreachable" in unreachable.stderr
    assert not (tmp_path / "state" / "generators").exists()
    secrets = [_.hex() for _ in (load_keys(ks, "the right passphrase"))] + ["the right passphrase"]
    for out in (again, status, via_env, down, busy, unreachable):
        assert_no_secrets(out.stdout + out.stderr, secrets)


def load_keys(path: Path, passphrase: str) -> tuple[bytes, bytes]:
    from trustees.keystore import load_keystore

    s = load_keystore(path, passphrase)
    return s.keys.x25519, s.keys.ed25519
