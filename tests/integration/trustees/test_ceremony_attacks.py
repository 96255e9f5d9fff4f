"""The key ceremony against a dishonest board or trustee, with the real board process over
HTTP on 127.0.0.1 and the real `tohyo trustee run` daemons (docs/trustees.md §4.6).

A small proxy in this process (`DishonestBoard`) stands between the parties and the board and
plays the dishonest board: it holds back the trustees' encrypted shares until the
administrator has closed round 1, or answers a post with `409 duplicate_entry` naming some
other entry. A dishonest trustee is played by posting entries signed with its keys.

Checked each time from the board's record: the secret key stays secret (no dealer has t
shares in the open, nothing is revealed because the board lost something), the honest
trustees keep their shares, and the party at fault is named.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from daemon_support import (
    WAIT,
    BoardProcess,
    DaemonElection,
    DishonestBoard,
    Forward,
    ViaProxy,
    open_election,
)

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import decode_envelope, sign_envelope
from election.policy import ceremony_config
from trustees.dkg import exposed_dealers
from trustees.messages import Complaints, Reveal, decode_message, sign_message
from verifier import Options, load_record, verify_record

pytestmark = pytest.mark.slow


async def wait_for_shares(el: DaemonElection, timeout: float = WAIT) -> None:
    """Until every trustee's keystore holds its key share."""
    end = time.monotonic() + timeout
    while not all(p.secrets().share is not None for p in el.trustees):
        if time.monotonic() > end:
            raise TimeoutError(
                "not every trustee holds a key share:\n" + "".join(d.log() for d in el.daemons)
            )
        await asyncio.sleep(0.5)


async def ceremony_record(client: BoardClient, el: DaemonElection, directory: Path) -> Any:
    """Export the record; return (its DKG messages, the verifier's report)."""
    await client.export(el.election_id, directory)
    report = verify_record(load_record(directory), Options(allow_test_groups=True, progress=False))
    entries = [
        decode_envelope(line) for line in (directory / "entries.jsonl").read_bytes().splitlines()
    ]
    group = el.manifest().group_object()
    messages = [decode_message(dict(e.body), group) for e in entries if e.type == "dkg"]
    return entries, messages, report


def test_board_that_withholds_the_shares_learns_nothing(
    board: BoardProcess, tmp_path: Path
) -> None:
    """The board holds back every encrypted share posted in round 1 until the administrator
    closes the round (then lets them through, too late). Every trustee complains "missing";
    the dealers re-send the shares encrypted in round 3; nothing is revealed, the ceremony
    completes with every dealer qualified, the record verifies."""

    async def main() -> None:
        async with DishonestBoard(board.url) as proxy:
            el = DaemonElection.create("withheld", tmp_path, ViaProxy(proxy.url, board.key_hex))
            closed = asyncio.Event()
            held: list[str] = []

            async def on_post(entry: dict[str, Any], forward: Forward) -> web.Response | None:
                if entry["type"] == "dkg_round":
                    answer = await forward()
                    closed.set()
                    return answer
                if (
                    entry["type"] == "dkg"
                    and entry["body"]["kind"] == "dkg.share"
                    and not closed.is_set()
                ):
                    held.append(entry["author"])
                    await closed.wait()  # held back until round 1 is over
                return None

            proxy.on_post = on_post
            try:
                async with BoardClient(proxy.url, board.key_hex) as client:
                    co = await open_election(client, el)
                    for party in el.trustees:
                        el.daemon(party).start()
                    joint = await co.joint_key(120.0, round_timeout=15.0)
                    await wait_for_shares(el)
                    entries, messages, report = await ceremony_record(
                        client, el, tmp_path / "record"
                    )
            finally:
                el.stop_all()
        assert held  # the attack happened
        assert joint["qualified"] == [1, 2, 3]
        rounds = [e.body["round"] for e in entries if e.type == "dkg_round"]
        assert rounds == [2, 3, 4, 5]
        config = ceremony_config(el.manifest())
        assert not any(isinstance(m, Reveal) for m in messages)  # nothing in the open
        assert exposed_dealers(messages, config) == {}
        complaints = {
            m.sender: m.complaints for m in messages if isinstance(m, Complaints) and m.round == 2
        }
        assert complaints == {
            j: tuple((i, "missing") for i in (1, 2, 3) if i != j) for j in (1, 2, 3)
        }
        assert report.step("V7").status == "pass", report.to_text()
        assert report.first_failure is None, report.to_text()
        logs = "".join(d.log() for d in el.daemons)
        assert "the board or the network delayed it" in logs  # the dealers say so

    asyncio.run(main())


def test_trustee_that_complains_reveals_or_replays_early_changes_nothing(
    board: BoardProcess, tmp_path: Path
) -> None:
    """Trustee 3 posts a complaint and a reveal while round 1 is open, and replays trustee
    1's commitments under its own name: the board refuses each, naming trustee 3; round 1 stays
    open; the ceremony completes with nothing revealed and every trustee holding its share."""

    async def main() -> None:
        el = DaemonElection.create("early", tmp_path, board)
        keys3 = el.trustees[2].secrets().keys
        fp = el.manifest().fingerprint()

        def as_trustee_3(msg: Any) -> Any:
            signed = sign_message(msg, keys3.ed25519_key())
            return sign_envelope(
                keys3.ed25519_key(), el.election_id, "dkg", "trustee-3", signed.to_json_value()
            )

        try:
            async with BoardClient(board.url, board.key_hex) as client:
                co = await open_election(client, el)
                daemons = [el.daemon(p) for p in el.trustees]
                daemons[0].start()
                await co.wait_until(
                    lambda f: 1 in f.state.dkg.commitments,  # type: ignore
                    "trustee 1's commitments",
                    WAIT,
                )
                refusals = []
                early = [
                    Complaints(fp, 3, ((1, "inconsistent"),), round=2),
                    Reveal(fp, 3, ((1, el.manifest().group_object().scalar(5)),), round=3),
                ]
                for msg in early:
                    with pytest.raises(BoardRefusedError) as info:
                        await client.post(as_trustee_3(msg))
                    refusals.append((info.value.code, info.value.detail))
                first = next(e for e in co.follower.envelopes if e.type == "dkg")
                with pytest.raises(BoardRefusedError) as info:
                    await client.post(
                        sign_envelope(
                            keys3.ed25519_key(),
                            el.election_id,
                            "dkg",
                            "trustee-3",
                            dict(first.body),
                        )
                    )
                refusals.append((info.value.code, info.value.detail))
                await co.refresh()
                assert co.state.dkg is not None and co.state.dkg.round == 1  # still open
                for d in daemons[1:]:
                    d.start()
                joint = await co.joint_key(90.0, round_timeout=30.0)
                await wait_for_shares(el)
                entries, messages, report = await ceremony_record(client, el, tmp_path / "record")
        finally:
            el.stop_all()
        assert [code for code, _ in refusals] == [
            "wrong_phase",
            "wrong_phase",
            "unauthorised_signer",
        ]
        assert "dkg.complaints of round 2 from trustee 3 in round 1" in refusals[0][1]
        assert "dkg.reveal of round 3 from trustee 3 in round 1" in refusals[1][1]
        assert joint["qualified"] == [1, 2, 3]
        assert [e.body["round"] for e in entries if e.type == "dkg_round"] == [2, 3]
        assert not any(isinstance(m, Reveal) for m in messages)
        assert exposed_dealers(messages, ceremony_config(el.manifest())) == {}
        assert report.first_failure is None, report.to_text()

    asyncio.run(main())


def test_board_that_claims_a_post_is_a_duplicate_is_named(
    board: BoardProcess, tmp_path: Path
) -> None:
    """The board answers trustee 1's commitments with `409 duplicate_entry, already at index
    1` (the phase entry, not the commitments): the daemon checks that entry's inclusion proof
    against its own entry, refuses (exit 3) and names the board."""

    async def main() -> None:
        async with DishonestBoard(board.url) as proxy:
            el = DaemonElection.create("dup", tmp_path, ViaProxy(proxy.url, board.key_hex))

            async def on_post(entry: dict[str, Any], forward: Forward) -> web.Response | None:
                if entry["type"] == "dkg" and entry["body"]["kind"] == "dkg.commitments":
                    return web.json_response(
                        {"error": "duplicate_entry", "detail": "already at index 1"}, status=409
                    )
                return None

            proxy.on_post = on_post
            try:
                async with BoardClient(proxy.url, board.key_hex) as client:
                    await open_election(client, el)
                    daemon = el.daemon(el.trustees[0])
                    daemon.start()
                    status = await daemon.wait(90.0)
            finally:
                el.stop_all()
        log = daemon.log()
        assert status == 3, log
        assert "board.duplicate_entry" in log and "the board is at fault" in log
        assert "dkg.commitments is already posted at index 1" in log

    asyncio.run(main())
