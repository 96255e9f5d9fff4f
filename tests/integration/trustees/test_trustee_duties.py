"""The trustee duty in this process against a real board on 127.0.0.1, step by step.

Deterministic versions of what the process tests can only hit by chance: a crash between the
commitments and the shares, a crash between two shares (before and after the administrator
closed round 1), a crash after the polynomial was saved but before anything was posted, a
keystore that lost its polynomial, an absent trustee left out when the administrator closes the
rounds without it, and a keystore of another election. The administrator's round closes are
posted by the test (`close_round`), as `tohyo admin open` would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from daemon_support import GROUP, DishonestBoard, Forward, raw

from bulletin_board.client import BoardClient
from bulletin_board.entry import Envelope, sign_envelope
from bulletin_board.testing import running_board
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from election.policy import ElectionPolicy, joint_key_body
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from trustees.config import generate_trustee_keys
from trustees.daemon import (
    UNBOUND_ELECTION,
    UNBOUND_GROUP,
    BoardFollower,
    DutyRefused,
    FollowSettings,
    KeystoreFile,
    TrusteeDuty,
    _post,
    bind_secrets,
)
from trustees.dkg import CLOSED
from trustees.keystore import KdfParams, load_keystore, save_keystore
from trustees.messages import Complaints, sign_message
from trustees.private import TrusteeSecrets

E = "duty-city"
CHEAP = KdfParams(name="scrypt", n=1 << 10)
PASS = "a passphrase for the duty tests"


class Setup:
    def __init__(self, tmp: Path, board_key: Ed25519PrivateKey) -> None:
        import datetime as dt

        rng = DeterministicRandom("duty tests")
        self.tmp = tmp
        self.admin = Ed25519PrivateKey.generate()
        self.paths = []
        trustees = []
        for i in (1, 2, 3):
            keys = generate_trustee_keys(rng)
            path = tmp / f"t{i}.keystore"
            save_keystore(
                path, TrusteeSecrets(1, UNBOUND_ELECTION, UNBOUND_GROUP, keys), PASS, kdf=CHEAP
            )
            self.paths.append(path)
            pub = keys.public(i)
            trustees.append(
                Trustee(f"trustee-{i}", i, pub.ed25519_public.hex(), pub.x25519_public.hex())
            )
        jst = dt.timezone(dt.timedelta(hours=9))
        self.manifest = Manifest(
            election_id=E,
            title="t",
            election_day=dt.date(2026, 12, 6),
            voting_start=dt.datetime(2026, 11, 29, 7, tzinfo=jst),
            voting_end=dt.datetime(2026, 12, 6, 20, tzinfo=jst),
            contests=(Contest("c", "c", "public_office", "single", (Option("a", "A"),)),),
            eligibility=Eligibility(16, ("x",)),
            threshold=2,
            trustees=tuple(trustees),
            mix_servers=(MixServer("mix-1", 1, raw(Ed25519PrivateKey.generate())),),
            admin_key=raw(self.admin),
            registrar_key=raw(Ed25519PrivateKey.generate()),
            board_key=raw(board_key),
            group=get_group(GROUP).description(),
        )

    def duty(self, i: int) -> TrusteeDuty:
        path = self.paths[i - 1]
        return TrusteeDuty(
            KeystoreFile(str(path), PASS, load_keystore(path, PASS), CHEAP),
            rng=DeterministicRandom(f"trustee {i} {path.stat().st_mtime_ns}"),
        )

    def admin_entry(self, type_: str, body: dict[str, Any]) -> Envelope:
        return sign_envelope(self.admin, E, type_, "admin", body)


Scenario = Callable[[Setup, BoardClient], Awaitable[None]]


def run(tmp_path: Path, scenario: Scenario) -> None:
    _FOLLOWERS.clear()

    async def main() -> None:
        key = Ed25519PrivateKey.generate()
        setup = Setup(tmp_path, key)
        async with running_board(
            str(tmp_path / "board.sqlite"), key, policy=ElectionPolicy(allow_test_groups=True)
        ) as server:
            async with BoardClient(server.url) as client:
                await client.post(
                    setup.admin_entry("manifest", {"manifest": setup.manifest.to_json()})
                )
                await client.post(setup.admin_entry("phase", {"phase": "key_ceremony"}))
                await scenario(setup, client)

    asyncio.run(main())


#: each duty's follower (the duty is the key, held: an id() could be reused after collection)
_FOLLOWERS: dict[TrusteeDuty, BoardFollower] = {}


def follower_of(duty: TrusteeDuty) -> BoardFollower:
    return _FOLLOWERS[duty]


async def step(
    duty: TrusteeDuty, client: BoardClient, *, idle: bool = False, post: int | None = None
) -> list[Envelope]:
    """One poll and one step; post the first `post` entries it returns (all by default)."""
    if duty not in _FOLLOWERS:
        _FOLLOWERS[duty] = BoardFollower(client, E, allow_test_groups=True)
    follower = follower_of(duty)
    new = await follower.poll()
    out = duty.step(follower, new, idle)
    for env in out[:post]:
        await client.post(env)
    return out


async def settle(duties: list[TrusteeDuty], client: BoardClient, rounds: int = 10) -> None:
    for _ in range(rounds):
        posted = 0
        for d in duties:
            posted += len(await step(d, client))
        if not posted:
            return


async def close_round(s: Setup, client: BoardClient, duty: TrusteeDuty) -> None:
    """The administrator closes the open round (the joint key closes the last one)."""
    follower = follower_of(duty)
    await follower.poll()
    dkg = follower.state.dkg
    assert dkg is not None
    if (round_ := dkg.next_round()) == CLOSED:
        await client.post(s.admin_entry("joint_key", joint_key_body(dkg.outcome())))
    else:
        await client.post(s.admin_entry("dkg_round", {"v": 1, "round": round_}))


async def finish(s: Setup, duties: list[TrusteeDuty], client: BoardClient) -> None:
    """Settle, close the round, … until the ceremony is closed."""
    for _ in range(6):
        await settle(duties, client)
        if follower_of(duties[0]).state.dkg.closed:  # type: ignore[union-attr]
            await settle(duties, client)
            return
        await close_round(s, client, duties[0])
    raise AssertionError("the ceremony did not close")


def test_crash_between_commitments_and_shares(tmp_path: Path) -> None:
    async def scenario(s: Setup, client: BoardClient) -> None:
        first = await step(s.duty(2), client, post=1)  # commitments posted, then the crash
        assert [e.body["kind"] for e in first] == ["dkg.commitments", "dkg.share", "dkg.share"]
        assert load_keystore(s.paths[1], PASS).polynomial is not None
        restarted = s.duty(2)
        out = await step(restarted, client)
        assert [e.body["kind"] for e in out] == ["dkg.share", "dkg.share"]
        assert [e.body["recipient"] for e in out] == [1, 3]
        duties = [s.duty(1), restarted, s.duty(3)]
        await finish(s, duties, client)
        state = follower_of(restarted).state
        assert state.dkg.closed
        assert state.dkg.outcome().qualified == (1, 2, 3)
        assert state.dkg.commitments[2].commitments == tuple(
            get_group(GROUP).element_from_hex(h) for h in first[0].body["commitments"]
        )
        for path in s.paths:
            held = load_keystore(path, PASS)
            assert held.share is not None and held.polynomial is None

    run(tmp_path, scenario)


async def crash_between_shares(s: Setup, client: BoardClient) -> list[TrusteeDuty]:
    """Trustee 2 posts its commitments and its share for 1 and crashes; 1 and 3 deal."""
    await step(s.duty(2), client, post=2)
    others = [s.duty(1), s.duty(3)]
    await settle(others, client)
    return others


def complaints_of(duty: TrusteeDuty) -> dict[int, Any]:
    """Round 2's complaints, by sender."""
    state = follower_of(duty).state
    return {j: c.complaints for j, c in state.dkg.complaints[2].items()}


def revealed(duty: TrusteeDuty) -> list[int]:
    state = follower_of(duty).state
    return sorted(i for by in state.dkg.reveals.values() for i in by)


def test_crash_between_shares_keeps_the_dealing_open(tmp_path: Path) -> None:
    async def scenario(s: Setup, client: BoardClient) -> None:
        others = await crash_between_shares(s, client)
        # 1 has its shares but round 1 is open until the administrator closes it
        assert complaints_of(others[0]) == {}
        restarted = s.duty(2)
        out = await step(restarted, client)
        assert [(e.body["kind"], e.body["recipient"]) for e in out] == [("dkg.share", 3)]
        await finish(s, [*others, restarted], client)
        state = follower_of(restarted).state
        assert state.dkg.closed and revealed(restarted) == []
        assert complaints_of(restarted) == {1: (), 2: (), 3: ()}
        assert state.dkg.outcome().qualified == (1, 2, 3)

    run(tmp_path, scenario)


def test_restart_after_round_1_was_closed(tmp_path: Path) -> None:
    """Trustee 2 is down when the administrator closes round 1: 3 complains that 2's share is
    missing; the restarted 2 cannot deal it any more, so it re-sends it encrypted in round 3
    (the old code revealed it in clear)."""

    async def scenario(s: Setup, client: BoardClient) -> None:
        others = await crash_between_shares(s, client)
        await close_round(s, client, others[0])  # the round's timeout: round 2 opens
        await settle(others, client)
        assert complaints_of(others[0]) == {1: (), 3: ((2, "missing"),)}
        restarted = s.duty(2)
        out = await step(restarted, client)  # too late to deal: its complaints
        assert [e.body["kind"] for e in out] == ["dkg.complaints"]
        await finish(s, [*others, restarted], client)
        state = follower_of(restarted).state
        assert state.dkg.closed and revealed(restarted) == []
        assert state.dkg.resent == {(2, 3)}
        assert state.dkg.outcome().qualified == (1, 2, 3)
        for path in s.paths:
            held = load_keystore(path, PASS)
            assert held.share is not None and held.polynomial is None

    run(tmp_path, scenario)


def test_crash_after_saving_the_polynomial_before_posting(tmp_path: Path) -> None:
    async def scenario(s: Setup, client: BoardClient) -> None:
        lost = await step(s.duty(1), client, post=0)  # saved, then the crash: nothing posted
        again = await step(s.duty(1), client)
        assert again[0].body["commitments"] == lost[0].body["commitments"]

    run(tmp_path, scenario)


def test_a_lost_polynomial_is_refused_not_replaced(tmp_path: Path) -> None:
    async def scenario(s: Setup, client: BoardClient) -> None:
        backup = s.paths[0].read_bytes()  # a backup made before dealing
        await step(s.duty(1), client)
        s.paths[0].write_bytes(backup)
        restored = s.duty(1)
        with pytest.raises(DutyRefused, match="polynomial is lost"):
            await step(restored, client)

    run(tmp_path, scenario)


def test_absent_trustee_is_left_out_at_the_deadline(tmp_path: Path) -> None:
    async def scenario(s: Setup, client: BoardClient) -> None:
        duties = [s.duty(1), s.duty(2)]
        await finish(s, duties, client)  # the administrator closes the rounds without 3
        state = follower_of(duties[0]).state
        outcome = state.dkg.outcome()
        assert outcome.qualified == (1, 2)
        assert outcome.disqualified == {3: "posted no commitments"}
        assert sorted(complaints_of(duties[0])) == [1, 2]  # no complaint: 3 dealt nothing
        for path in s.paths[:2]:
            assert load_keystore(path, PASS).share is not None

    run(tmp_path, scenario)


def test_keystore_of_another_election_is_refused(tmp_path: Path) -> None:
    async def scenario(s: Setup, client: BoardClient) -> None:
        secrets = load_keystore(s.paths[0], PASS)
        other = bind_secrets(secrets, 1, b"\x01" * 32, GROUP)
        save_keystore(s.paths[0], other, PASS, kdf=CHEAP, overwrite=True)
        with pytest.raises(DutyRefused, match="another election"):
            await step(s.duty(1), client)
        with pytest.raises(DutyRefused, match="manifest says 2"):
            bind_secrets(
                dataclasses.replace(other, election=s.manifest.fingerprint()),
                2,
                s.manifest.fingerprint(),
                GROUP,
            )

    run(tmp_path, scenario)


def test_dealer_with_t_complaints_is_dropped_without_a_reveal(tmp_path: Path) -> None:
    """Trustees 2 and 3 (t = 2 of them) claim that dealer 1's share is wrong: dealer 1's
    duty reveals nothing, 1 is disqualified, and all three trustees keep a key share of the
    joint key of dealers 2 and 3."""

    async def scenario(s: Setup, client: BoardClient) -> None:
        duties = [s.duty(1), s.duty(2), s.duty(3)]
        await settle(duties, client)
        await close_round(s, client, duties[0])  # round 2: complaints
        fp = s.manifest.fingerprint()
        for j in (2, 3):  # posted before their duties complain (honestly, with nothing)
            keys = load_keystore(s.paths[j - 1], PASS).keys
            msg = sign_message(Complaints(fp, j, ((1, "inconsistent"),)), keys.ed25519_key())
            await client.post(
                sign_envelope(keys.ed25519_key(), E, "dkg", f"trustee-{j}", msg.to_json_value())
            )
        await finish(s, duties, client)
        state = follower_of(duties[0]).state
        assert complaints_of(duties[0]) == {
            1: (),
            2: ((1, "inconsistent"),),
            3: ((1, "inconsistent"),),
        }
        assert revealed(duties[0]) == []
        outcome = state.dkg.outcome()
        assert outcome.qualified == (2, 3)
        assert "nothing revealed" in outcome.disqualified[1]
        for path in s.paths:
            assert load_keystore(path, PASS).share is not None

    run(tmp_path, scenario)


def test_a_post_is_believed_only_with_an_inclusion_proof_of_the_entry(tmp_path: Path) -> None:
    """`_post` through a proxy that plays the board: an honest 409 (the entry is there) is
    confirmed by its inclusion proof; a 409 naming another entry, and a receipt changed in
    transit, are the board's fault — DutyRefused, naming it; a refusal of a DKG message whose
    round is closed is dropped."""

    async def scenario(s: Setup, client: BoardClient) -> None:
        first = s.duty(1)
        out = await step(first, client, post=0)
        commitments, share = out[0], out[1]
        late = (await step(s.duty(3), client, post=0))[1]  # a share of trustee 3, kept
        settings = FollowSettings(poll_min=0.05)
        async with DishonestBoard(client.base_url) as proxy, BoardClient(proxy.url) as via:
            await client.post(commitments)
            await _post(via, commitments, settings)  # the board's 409 is true: confirmed

            async def another_index(entry: dict[str, Any], forward: Forward) -> web.Response:
                return web.json_response(
                    {"error": "duplicate_entry", "detail": "already at index 1"}, status=409
                )

            proxy.on_post = another_index
            with pytest.raises(DutyRefused) as info:
                await _post(via, share, settings)
            assert info.value.check == "board.duplicate_entry"
            assert f"the board at {proxy.url}" in info.value.detail
            assert "at index 1, but that entry is not this one" in info.value.detail

            async def changed_receipt(entry: dict[str, Any], forward: Forward) -> web.Response:
                answer = await forward()
                assert answer.body is not None
                receipt = json.loads(bytes(answer.body))  # type: ignore[arg-type]
                receipt["index"] += 1
                return web.json_response(receipt, status=answer.status)

            proxy.on_post = changed_receipt
            with pytest.raises(DutyRefused) as info:
                await _post(via, share, settings)
            assert (
                info.value.check == "board.receipt" and "the board is at fault" in info.value.detail
            )

            proxy.on_post = None
            await close_round(s, client, first)  # round 1 is over
            await _post(via, late, settings)  # refused as wrong_phase: dropped, no error
            assert late.to_bytes() not in (await client.all_entries(E))[0]

    run(tmp_path, scenario)
