"""Mix servers derive the shuffle generators while ballots arrive (docs/trustees.md §11.4).

A board and `tohyo trustee run` daemons in their own processes, as in test_trustee_daemons:
mix server 1 keeps its generator cache in its keystore's directory (the default) and fills it
in the background during the voting period, following the voters on the board; mix server 2's
operator prepares its state directory ahead with `tohyo trustee generators --expected N`; the
trustees, which verify every shuffle before decrypting, have state directories of their own.
After the close every one of them takes all the generators from its cache, the shuffles
verify, and the tally is the votes cast.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from daemon_support import (
    GROUP,
    WAIT,
    BoardProcess,
    Daemon,
    DaemonElection,
    Party,
    cast_ballots,
    check_tally,
    cli,
    open_election,
)

from bulletin_board.client import BoardClient
from mixnet.generators import candidate_count, clear_cache, generator_seed
from mixnet.groups import get_group
from mixnet.shuffle.proof import GENERATOR_PURPOSE
from trustees.daemon import expected_rows
from trustees.generator_cache import GeneratorCache, cache_key, cache_path
from trustees.mixer import verify_chain

pytestmark = pytest.mark.slow
BALLOTS = 40


def key_of(party: Party) -> bytes:
    """The generator cache key of a mix server (from its keystore)."""
    return cache_key(party.secrets().keys)


async def wait_for_line(daemon: Daemon, pattern: str, what: str) -> None:
    end = time.monotonic() + WAIT
    while not re.search(pattern, daemon.log()):
        if time.monotonic() > end:
            raise TimeoutError(f"{what}:\n{daemon.log()}")
        await asyncio.sleep(0.2)


def test_mix_servers_derive_generators_during_voting(board: BoardProcess, tmp_path: Path) -> None:
    asyncio.run(_scenario(board, tmp_path))


async def _scenario(board: BoardProcess, tmp_path: Path) -> None:
    el = DaemonElection.create("city-generators", tmp_path, board, mixers=2)
    group = get_group(GROUP)
    seed = generator_seed(group, el.manifest().fingerprint(), GENERATOR_PURPOSE)
    ahead = tmp_path / "mix-2-state"
    try:
        async with BoardClient(board.url, board.key_hex) as client:
            co = await open_election(client, el)
            trustees = [el.daemon(p) for p in el.trustees]
            for p, d in zip(el.trustees, trustees):
                d.args += ["--state-dir", str(tmp_path / f"{p.id}-state")]
                d.start()
            m1 = el.daemon(el.mixers[0], role="mix")
            m2 = el.daemon(el.mixers[1], role="mix", alias=True)
            m2.args += ["--state-dir", str(ahead)]
            m1.start()
            await co.joint_key(WAIT)
            # mix server 2's operator derives for the voters expected, before voting opens
            prepared = await asyncio.to_thread(
                cli,
                "trustee",
                "generators",
                *el.board_args(),
                "--expected",
                str(BALLOTS),
                "--state-dir",
                str(ahead),
                "--keystore",
                str(el.mixers[1].keystore),
                "--passphrase-file",
                str(el.mixers[1].passphrase_file),
            )
            assert prepared.returncode == 0, prepared.stderr
            assert f"generators for {BALLOTS} rows" in prepared.stderr
            with GeneratorCache(ahead, group, seed, key_of(el.mixers[1])) as cache:
                assert cache.load() == candidate_count(BALLOTS)
            m2.start()
            await co.phase("voting")
            assert co.state.pk is not None
            await cast_ballots(client, el, co.state.pk, BALLOTS)
            # mix server 1 follows the voters on the board, still in the voting period
            target = candidate_count(expected_rows(BALLOTS))
            await wait_for_line(
                m1,
                rf"{target} of {target} candidates in the cache \(100 %",
                "mix server 1 derives for the voters on the board",
            )
            await co.refresh()
            assert co.state.phase == "voting"
            with GeneratorCache(tmp_path, group, seed, key_of(el.mixers[0])) as cache:
                assert cache.load() == target
            await co.phase("closed")
            await co.mix_input()
            await co.phase("mixing")
            await co.wait_until(lambda f: f.shuffles == 2, "two shuffles", WAIT)
            # an observer deriving every generator afresh accepts both shuffles
            state = co.state
            assert state.pk is not None and co.follower.mix_input is not None
            clear_cache()
            verify_chain(
                state.pk, co.follower.mix_input, co.follower.shuffle_bodies, state.fingerprint
            )
            await co.phase("decrypting")
            result = await co.result(WAIT, shares=3)
            await co.phase("tallied")
        check_tally(result["tally"], BALLOTS)
        for d in el.daemons:
            assert await d.wait() == 0, d.log()
        need = candidate_count(BALLOTS)
        for d in (m1, m2, *trustees):
            log = d.log()
            assert f"({need} of {need} candidates from the cache)" in log, log
        for m in (m1, m2):
            assert "posted shuffle" in m.log()
        assert "generators: deriving in the background" in m1.log()
        assert f"{need} candidates in the cache {cache_path(ahead, group, seed)}" in m2.log()
        assert "afresh" not in "".join(d.log() for d in el.daemons)
        status = await asyncio.to_thread(
            cli,
            "trustee",
            "status",
            "--keystore",
            str(el.mixers[0].keystore),
            "--passphrase-file",
            str(el.mixers[0].passphrase_file),
            *el.board_args(),
        )
        assert status.returncode == 0, status.stderr
        rows = expected_rows(BALLOTS)
        assert (
            f"generators:    {target} candidates cached ({rows} rows; the mix input has "
            f"{BALLOTS}) in {cache_path(tmp_path, group, seed)}"
        ) in status.stdout
    finally:
        el.stop_all()
