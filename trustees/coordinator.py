"""Moving an election along from public information only (docs/trustees.md §12).

Everything here can be computed by anyone from the board: the joint key when the ceremony is
complete, the mix input, the combination of t decryption shares and the count. The
administrator signs and posts these entries; tests and simulations use `Coordinator`, which
follows the board with the same verified `BoardFollower` as the daemons.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import sign_envelope
from election import rules
from election.manifest import Manifest
from election.policy import ElectionRecordState, joint_key_body, mix_input_of
from trustees.daemon import BoardFollower
from trustees.decryption import DecryptionShare, ListsResult, combine_lists, share_entry_values
from trustees.dkg import CLOSED, PublicRecord
from trustees.mixer import verify_chain

__all__ = [
    "ROUND_TIMEOUT",
    "Coordinator",
    "ceremony_move",
    "ceremony_progress",
    "count",
    "joint_key_entry",
    "mix_input_entry",
    "result_entry",
]


#: How long the administrator keeps a round of the key ceremony open for missing messages.
ROUND_TIMEOUT = 60.0


def ceremony_move(record: PublicRecord, round_age: float, round_timeout: float) -> int | None:
    """The administrator's next move in the key ceremony (docs/trustees.md §4.1): the round to
    open — `CLOSED` meaning "post the joint key" — once every message the open round expects
    is posted or the round has been open for `round_timeout` seconds; None: wait."""
    if record.closed or (record.awaiting() and round_age < round_timeout):
        return None
    return record.next_round()


def ceremony_progress(record: PublicRecord) -> str:
    """One line on the open round: what it still waits for."""
    waiting = record.awaiting()
    more = f" and {len(waiting) - 4} more" if len(waiting) > 4 else ""
    return (
        f"round {record.round}: waiting for {', '.join(waiting[:4])}{more}"
        if waiting
        else f"round {record.round}: complete"
    )


def joint_key_entry(state: ElectionRecordState) -> dict[str, Any]:
    """The joint_key body: pk, every X_j and QUAL derived from the posted DKG messages."""
    assert state.dkg is not None
    return joint_key_body(state.dkg.outcome())


def mix_input_entry(state: ElectionRecordState) -> dict[str, Any]:
    """The mix_input body: the last ballot of every voter, in board order, split into one list
    per contest (`rules.contest_lists`)."""
    indices, rows = mix_input_of(state)  # rows as posted with the ballots (JSON)
    assert state.manifest is not None
    return {"v": 1, "entries": indices, "contests": rules.contest_lists_json(state.manifest, rows)}


def count(
    manifest: Manifest, plaintexts: Sequence[tuple[str, Sequence[Sequence[int | str]]]]
) -> dict[str, Any]:
    """The published tally: the verifier's own counting rules (`rules.count_plaintexts`)."""
    return rules.count_plaintexts(manifest, dict(plaintexts))


def decryption_shares(follower: BoardFollower) -> list[tuple[int, list[DecryptionShare]]]:
    """Each posted decryption_share entry: (trustee, its share of every contest list)."""
    group = follower.state.group
    assert group is not None
    contests = [c.id for c in follower.manifest.contests]
    return [
        (
            int(env.body["trustee"]),
            [
                DecryptionShare.from_json_value(v, group)
                for v in share_entry_values(env.body, contests)
            ],
        )
        for env in follower.envelopes
        if env.type == "decryption_share"
    ]


def combine(follower: BoardFollower, executor: Executor | None = None) -> ListsResult:
    """Verify the shuffles, then every posted share; combine t valid ones; decode each
    contest's rows as the result publishes them (`rules.contest_decoder`: never raises,
    whatever a voter encrypted)."""
    state = follower.state
    manifest = follower.manifest
    assert state.dkg is not None and state.pk is not None and follower.mix_input is not None
    lists = verify_chain(
        state.pk, follower.mix_input, follower.shuffle_bodies, state.fingerprint, executor=executor
    )
    outcome = state.dkg.outcome()
    return combine_lists(
        lists,
        decryption_shares(follower),
        outcome.verification_keys,
        manifest.threshold,
        election=state.fingerprint,
        executor=executor,
        decoders={c.id: rules.contest_decoder(manifest, c) for c in manifest.contests},
    )


def result_entry(follower: BoardFollower, executor: Executor | None = None) -> dict[str, Any]:
    """The result body {v, trustees, plaintexts, tally} from the shares on the board."""
    result = combine(follower, executor)
    return {
        "v": 1,
        "trustees": list(result.used),
        "plaintexts": rules.published_plaintexts(result.plaintexts),
        "tally": count(follower.manifest, result.plaintexts),
    }


class Coordinator:
    """The administrator's moves, computed from the board (for tests and simulations)."""

    def __init__(
        self,
        client: BoardClient,
        admin_key: Ed25519PrivateKey,
        election: str,
        *,
        allow_test_groups: bool = False,
    ) -> None:
        self.client = client
        self.key = admin_key
        self.election = election
        self.follower = BoardFollower(client, election, allow_test_groups=allow_test_groups)

    @property
    def state(self) -> ElectionRecordState:
        return self.follower.state

    async def refresh(self) -> None:
        await self.follower.poll()

    async def wait_until(
        self,
        condition: Callable[[BoardFollower], bool],
        what: str,
        timeout: float,
        interval: float = 0.2,
    ) -> None:
        """Poll until `condition(follower)`; raise `TimeoutError` naming `what` after `timeout`."""
        end = time.monotonic() + timeout
        while True:
            await self.refresh()
            if condition(self.follower):
                return
            if time.monotonic() > end:
                raise TimeoutError(f"waited {timeout:g} s for {what}")
            await asyncio.sleep(interval)

    async def post(self, type_: str, body: dict[str, Any]) -> int:
        receipt = await self.client.post(
            sign_envelope(self.key, self.election, type_, "admin", body)
        )
        await self.refresh()
        return receipt.index

    async def phase(self, name: str) -> None:
        await self.post("phase", {"phase": name})

    async def joint_key(
        self, timeout: float, round_timeout: float = ROUND_TIMEOUT, interval: float = 0.2
    ) -> dict[str, Any]:
        """Run the key ceremony's rounds (`ceremony_move`): close each round by a signed
        `dkg_round` entry, then post the joint key and return its body. Raises `CeremonyFailed`
        when fewer than t dealers qualify, `TimeoutError` after `timeout` seconds; with
        `timeout` 0 it makes the moves that are due now and raises `TimeoutError` if the
        ceremony is not closed by them."""
        end = time.monotonic() + timeout
        await self.refresh()
        seen, opened = -1, time.monotonic()
        while True:
            dkg = self.state.dkg
            assert dkg is not None
            if dkg.round != seen:
                seen, opened = dkg.round, time.monotonic()
            move = ceremony_move(dkg, time.monotonic() - opened, round_timeout)
            if move == CLOSED:
                body = joint_key_entry(self.state)
                await self.post("joint_key", body)
                return body
            if move is not None:
                await self.post("dkg_round", {"v": 1, "round": move})
                continue
            if dkg.closed or time.monotonic() >= end:
                raise TimeoutError(f"the key ceremony is not finished ({ceremony_progress(dkg)})")
            await asyncio.sleep(interval)
            await self.refresh()

    async def mix_input(self) -> dict[str, Any]:
        body = mix_input_entry(self.state)
        await self.post("mix_input", body)
        return body

    async def result(
        self, timeout: float, shares: int | None = None, executor: Executor | None = None
    ) -> dict[str, Any]:
        """Wait for `shares` decryption shares (default t), combine, post the result."""
        manifest = self.follower.manifest
        needed = manifest.threshold if shares is None else shares
        await self.wait_until(
            lambda f: len(f.state.shares) >= needed, f"{needed} decryption shares", timeout
        )
        body = await asyncio.to_thread(result_entry, self.follower, executor)
        try:
            await self.post("result", body)
        except BoardRefusedError as exc:
            if exc.code != "duplicate_entry":
                raise
        return body
