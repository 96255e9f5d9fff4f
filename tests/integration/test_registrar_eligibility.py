"""The registrar attests only what it should, over real HTTP on 127.0.0.1 (issue 16).

- only for the elections its settings name by fingerprint, with that manifest's rules: a
  stranger's election naming the real registrar key gets nothing attested;
- the voter roll is checked (keyed hashes of the four basic facts); an election asking for a
  roll the registrar does not hold is refused;
- the voting period is enforced by the registrar (its clock) and by the board (its policy's
  clock), on `/ballots` and on `/entries`;
- namesakes (same name, birth date and sex, different addresses) are two voters;
- a torn last evidence record is set aside with a warning and later ballots are taken.

Each refusal leaves nothing behind: no entry, no evidence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import pytest

from bulletin_board.board import Board
from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import sign_envelope
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.entries import Ballot
from election.intake import BallotIntake, RegistrarSettings
from election.manifest import Eligibility
from election.policy import ElectionPolicy
from jpki.certs import BasicFacts, CertPurpose, Sex, TrustAnchors
from jpki.evidence import EvidenceStore
from jpki.registrar import roll_entry, sign_attestation
from jpki.testca import TestCa
from mixnet import elgamal
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import NOW, Voter, open_voting, post

JST = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2026, 11, 29, 7, tzinfo=JST)
END = dt.datetime(2026, 12, 6, 20, tzinfo=JST)
PASSPHRASE = "evidence passphrase for tests"


def election(
    seed: bytes, election_id: str, *, registrar_of: Election | None = None, **eligibility: Any
) -> Election:
    """A test election voting 2026-11-29 07:00 to 2026-12-06 20:00 JST, no voting codes;
    naming the registrar key of `registrar_of` if given."""
    el = Election(DeterministicRandom(seed), election_id=election_id)
    rules = {"min_age": 16, "areas": ("茨城県つくば市",), "voting_codes": "none"} | eligibility
    el.manifest = dataclasses.replace(
        el.manifest, voting_start=START, voting_end=END, eligibility=Eligibility(**rules)
    )
    if registrar_of is not None:
        el.registrar = registrar_of.registrar
        el.manifest = dataclasses.replace(
            el.manifest, registrar_key=registrar_of.manifest.registrar_key
        )
    el.fingerprint = el.manifest.fingerprint()
    return el


def settings_for(tmp_path: Path, ca: TestCa, el: Election, **more: Any) -> RegistrarSettings:
    return RegistrarSettings(
        attestation_key=el.registrar,
        pseudonym_key=b"\x05" * 32,
        trust=TrustAnchors(
            ca.certificates,
            crls=(
                ca.crl(
                    CertPurpose.SIGN,
                    this_update=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                    next_update=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
                ),
            ),
        ),
        evidence_dir=tmp_path / "evidence",
        evidence_passphrase=PASSPHRASE,
        evidence_scrypt_n=2**10,
        **({"elections": frozenset({el.fingerprint})} | more),
    )


@asynccontextmanager
async def serving(
    tmp_path: Path,
    el: Election,
    settings: RegistrarSettings,
    *,
    clock: Callable[[], dt.datetime] = lambda: NOW,
    board_clock: Callable[[], dt.datetime] | None = None,
) -> AsyncIterator[tuple[Board, str]]:
    """A board with its registrar on 127.0.0.1: the registrar's clock `clock`, the board
    policy's `board_clock` (the same by default)."""
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"),
        el.board,
        ElectionPolicy(allow_test_groups=True, clock=board_clock or clock),
    )
    intake = BallotIntake(board, settings, clock=clock)
    server = BoardServer(board, extra_routes=intake.install)
    await server.start()
    try:
        yield board, server.url
    finally:
        await server.stop()


@asynccontextmanager
async def voting_open(
    tmp_path: Path,
    settings: RegistrarSettings,
    rng: DeterministicRandom,
    *els: Election,
    **clocks: Any,
) -> AsyncIterator[tuple[Board, str, BoardClient, aiohttp.ClientSession, list[Any]]]:
    """`serving`, with voting open in each of `els` (the first is the board's): (board, url,
    a board client, an HTTP session, the joint keys)."""
    async with (
        serving(tmp_path, els[0], settings, **clocks) as (board, url),
        BoardClient(url) as client,
        aiohttp.ClientSession() as session,
    ):
        pks = [await open_voting(client, el, rng) for el in els]
        yield board, url, client, session, pks


def evidence_count(tmp_path: Path, el: Election) -> int:
    path = tmp_path / "evidence" / f"{el.id}.evidence"
    return len(EvidenceStore(path, PASSPHRASE).read_all()) if path.exists() else 0


def test_a_strangers_election_naming_the_registrar_gets_nothing_attested(
    tmp_path: Path,
) -> None:
    """The issue's attack: a stranger opens an election on the board naming the real
    registrar's key, with its own rules (age 10, another prefecture). The registrar's settings
    name only the real election: the stranger's ballots are refused, the real one's taken."""
    ca = TestCa.create()
    real = election(b"real", "tsukuba-2026")
    stranger = election(
        b"stranger", "stranger-2026", registrar_of=real, min_age=10, areas=("北海道札幌市",)
    )
    settings = settings_for(tmp_path, ca, real)
    rng = DeterministicRandom(b"stranger votes")

    async def run() -> None:
        async with voting_open(tmp_path, settings, rng, real, stranger) as opened:
            board, url, _, session, (pk_real, pk_stranger) = opened
            child = Voter(ca, "札幌 子供", dt.date(2016, 1, 1), "北海道札幌市中央区北1条西2丁目")
            size = board.size(stranger.id)
            status, doc = await post(
                session,
                f"{url}/v1/elections/{stranger.id}/ballots",
                child.request(stranger, pk_stranger, 0, "", rng),
            )
            assert (status, doc["error"], doc["reason"]) == (
                403,
                "registrar_refused",
                "election-not-authorised",
            ), doc
            assert board.size(stranger.id) == size
            assert evidence_count(tmp_path, stranger) == 0
            # the same child is not a voter of the real election either (its own rules)
            status, doc = await post(
                session,
                f"{url}/v1/elections/{real.id}/ballots",
                child.request(real, pk_real, 0, "", rng),
            )
            assert (status, doc["reason"]) == (403, "not-eligible-age"), doc
            adult = Voter(ca, "投票 大人", dt.date(1980, 1, 1), "茨城県つくば市天王台1番地")
            status, doc = await post(
                session,
                f"{url}/v1/elections/{real.id}/ballots",
                adult.request(real, pk_real, 0, "", rng),
            )
            assert status == 200, doc

    asyncio.run(run())


def test_the_voter_roll_is_checked(tmp_path: Path) -> None:
    """An election with a roll: a resident on it votes, a resident of the same city who is not
    on it is refused; an election that asks for a roll the registrar does not hold is refused
    for everyone, with a reason code, and nothing is written."""
    ca = TestCa.create()
    el = election(b"roll", "roll-2026", voter_roll=True)
    no_roll = election(b"no roll", "no-roll-2026", registrar_of=el, voter_roll=True)
    alice_facts = BasicFacts(
        "名簿 花子", dt.date(1980, 4, 1), Sex.FEMALE, "茨城県つくば市研究学園1番地1"
    )
    settings = settings_for(
        tmp_path,
        ca,
        el,
        elections=frozenset({el.fingerprint, no_roll.fingerprint}),
        voter_rolls={el.id: frozenset({roll_entry(b"\x05" * 32, alice_facts)})},
    )
    rng = DeterministicRandom(b"roll votes")

    async def run() -> None:
        async with voting_open(tmp_path, settings, rng, el, no_roll) as opened:
            board, url, _, session, (pk, pk_no_roll) = opened
            alice = Voter(ca, alice_facts.name, alice_facts.birth_date, alice_facts.address)
            bob = Voter(ca, "名簿外 次郎", dt.date(1981, 5, 5), "茨城県つくば市竹園1番地")
            ballots = f"{url}/v1/elections/{el.id}/ballots"
            status, doc = await post(session, ballots, alice.request(el, pk, 0, "", rng))
            assert status == 200, doc
            size = board.size(el.id)
            status, doc = await post(session, ballots, bob.request(el, pk, 1, "", rng))
            assert (status, doc["reason"]) == (403, "not-on-voter-roll"), doc
            assert board.size(el.id) == size and evidence_count(tmp_path, el) == 1
            size = board.size(no_roll.id)
            status, doc = await post(
                session,
                f"{url}/v1/elections/{no_roll.id}/ballots",
                alice.request(no_roll, pk_no_roll, 0, "", rng),
            )
            assert (status, doc["reason"]) == (503, "voter-roll-unavailable"), doc
            assert board.size(no_roll.id) == size and evidence_count(tmp_path, no_roll) == 0

    asyncio.run(run())


def _late_entry(el: Election, pk: Any, rng: DeterministicRandom) -> Any:
    """A ballot entry the registrar signed (as a registrar that runs apart would post it)."""
    row, rs = elgamal.encrypt_row(pk, [1], rng)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
    attestation = sign_attestation(
        el.registrar, el.fingerprint, secrets.token_bytes(32), ballot.hash(el.fingerprint)
    )
    return sign_envelope(
        el.registrar,
        el.id,
        "ballot",
        "registrar",
        {"v": 1, "ballot": ballot.to_json(), "attestation": attestation.to_json()},
    )


@pytest.mark.parametrize("who", ["registrar", "board"])
def test_a_ballot_after_the_voting_period_is_refused(tmp_path: Path, who: str) -> None:
    """The issue's ballot, two days after the period ended: refused by the registrar (its
    clock) or, when only the board's clock says the period is over, by the board, on
    `/ballots` and on `/entries`. Nothing is written."""
    ca = TestCa.create()
    el = election(b"period", "period-2026")
    late = END + dt.timedelta(days=2)
    clocks = {"registrar": (lambda: late, lambda: late), "board": (lambda: NOW, lambda: late)}
    clock, board_clock = clocks[who]
    rng = DeterministicRandom(b"period votes")

    async def run() -> None:
        async with (
            serving(
                tmp_path, el, settings_for(tmp_path, ca, el), clock=clock, board_clock=board_clock
            ) as (board, url),
            BoardClient(url) as client,
            aiohttp.ClientSession() as session,
        ):
            pk = await open_voting(client, el, rng)
            size = board.size(el.id)
            voter = Voter(ca, "期間 外子", dt.date(1980, 1, 1), "茨城県つくば市天王台1番地")
            status, doc = await post(
                session, f"{url}/v1/elections/{el.id}/ballots", voter.request(el, pk, 0, "", rng)
            )
            if who == "registrar":
                assert (status, doc["error"], doc["reason"]) == (
                    403,
                    "registrar_refused",
                    "voting-closed",
                ), doc
            else:
                assert (status, doc["error"]) == (409, "outside_voting_period"), doc
            with pytest.raises(BoardRefusedError) as info:
                await client.post(_late_entry(el, pk, rng))
            assert (info.value.status, info.value.code) == (409, "outside_voting_period")
            assert board.size(el.id) == size
            assert evidence_count(tmp_path, el) == 0

    asyncio.run(run())


class Open(NamedTuple):
    """An election with voting open, as a test body gets it."""

    board: Board
    url: str
    client: BoardClient
    session: aiohttp.ClientSession
    el: Election
    pk: Any
    ca: TestCa
    rng: DeterministicRandom


def open_and_vote(tmp_path: Path, seed: bytes, body: Callable[[Open], Awaitable[None]]) -> None:
    """A fresh election `seed` on a board with its registrar, voting open: `body(Open(…))`."""
    ca = TestCa.create()
    el = election(seed, f"{seed.decode()}-2026")
    rng = DeterministicRandom(seed + b" votes")

    async def run() -> None:
        settings = settings_for(tmp_path, ca, el)
        async with voting_open(tmp_path, settings, rng, el) as (board, url, client, session, pks):
            await body(Open(board, url, client, session, el, pks[0], ca, rng))

    asyncio.run(run())


def test_ballots_in_the_period_are_taken_on_both_endpoints(tmp_path: Path) -> None:
    """The control of the test above: the same requests inside the period are taken."""

    async def body(o: Open) -> None:
        board, url, client, session, el, pk, ca, rng = o
        voter = Voter(ca, "期間 内子", dt.date(1980, 1, 1), "茨城県つくば市天王台1番地")
        status, doc = await post(
            session, f"{url}/v1/elections/{el.id}/ballots", voter.request(el, pk, 0, "", rng)
        )
        assert status == 200, doc
        await client.post(_late_entry(el, pk, rng))
        assert board.describe(el.id)["policy"]["ballots"] == 2

    open_and_vote(tmp_path, b"period", body)


def test_namesakes_at_different_addresses_both_count(tmp_path: Path) -> None:
    """Two residents with the same name, birth date and sex at different addresses: two
    voters, neither ballot replaces the other, and the second learns nothing of the first."""

    async def body(o: Open) -> None:
        board, url, _, session, el, pk, ca, rng = o
        ballots = f"{url}/v1/elections/{el.id}/ballots"
        first = Voter(ca, "同名 花子", dt.date(1970, 7, 7), "茨城県つくば市天王台1番地")
        second = Voter(ca, "同名 花子", dt.date(1970, 7, 7), "茨城県つくば市吾妻2番地")
        for voter in (first, second):
            status, doc = await post(session, ballots, voter.request(el, pk, 0, "", rng))
            assert (status, doc.get("replaced_earlier_ballot")) == (200, 0), doc
        policy = board.describe(el.id)["policy"]
        assert (policy["ballots"], policy["voters"], policy["superseded"]) == (2, 2, 0)
        # a re-vote of the first is still hers alone
        status, doc = await post(session, ballots, first.request(el, pk, 1, "", rng))
        assert (status, doc["replaced_earlier_ballot"]) == (200, 1), doc
        assert board.describe(el.id)["policy"]["voters"] == 2

    open_and_vote(tmp_path, b"namesakes", body)


def test_a_torn_last_evidence_record_is_recovered_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The service stopped while it wrote a record (the last line has no newline): after the
    restart the torn bytes are set aside, a warning is logged, and later ballots are taken
    (not a 500), their evidence readable."""
    ca = TestCa.create()
    el = election(b"torn", "torn-2026")
    settings = settings_for(tmp_path, ca, el)
    rng = DeterministicRandom(b"torn votes")
    voters = [
        Voter(ca, f"破損 {n}", dt.date(1980, 1, 1 + n), f"茨城県つくば市天王台{n}番地")
        for n in (1, 2, 3)
    ]

    async def first() -> Any:
        async with (
            serving(tmp_path, el, settings) as (_, url),
            BoardClient(url) as client,
            aiohttp.ClientSession() as session,
        ):
            pk = await open_voting(client, el, rng)
            status, doc = await post(
                session,
                f"{url}/v1/elections/{el.id}/ballots",
                voters[0].request(el, pk, 0, "", rng),
            )
            assert status == 200, doc
            return pk

    pk = asyncio.run(first())
    path = tmp_path / "evidence" / f"{el.id}.evidence"
    with path.open("ab") as f:
        f.write(b"dG9ybiByZWNvcmQgY3V0IHNob3J0")  # a record cut short: no newline

    async def after_restart() -> None:
        async with (
            serving(tmp_path, el, settings) as (board, url),
            aiohttp.ClientSession() as session,
        ):
            for voter in voters[1:]:
                status, doc = await post(
                    session,
                    f"{url}/v1/elections/{el.id}/ballots",
                    voter.request(el, pk, 0, "", rng),
                )
                assert status == 200, doc
            assert board.describe(el.id)["policy"]["voters"] == 3

    with caplog.at_level(logging.WARNING, logger="jpki.evidence"):
        asyncio.run(after_restart())
    assert "torn last record" in caplog.text
    assert evidence_count(tmp_path, el) == 3
    assert [p.name.split(".torn-")[0] for p in path.parent.glob("*.torn-*")] == [path.name]


def test_reconciliation_names_ballots_without_evidence_when_the_registrar_opens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A record that lost evidence (as the old order could, after a crash): when the restarted
    service opens the election's registrar it sets the board's ballots against the evidence
    and logs the ballots that have none; with every record there it logs them all matched."""
    ca = TestCa.create()
    el = election(b"reconcile", "reconcile-2026")
    settings = settings_for(tmp_path, ca, el)
    rng = DeterministicRandom(b"reconcile votes")
    voters = [
        Voter(ca, f"照合 {n}", dt.date(1980, 2, n), f"茨城県つくば市竹園{n}番地")
        for n in (1, 2, 3, 4)
    ]
    path = tmp_path / "evidence" / f"{el.id}.evidence"

    async def vote(who: list[Voter], pk: Any = None) -> Any:
        async with (
            serving(tmp_path, el, settings) as (_, url),
            BoardClient(url) as client,
            aiohttp.ClientSession() as session,
        ):
            pk = pk or await open_voting(client, el, rng)
            for voter in who:
                status, doc = await post(
                    session,
                    f"{url}/v1/elections/{el.id}/ballots",
                    voter.request(el, pk, 0, "", rng),
                )
                assert status == 200, doc
            for _ in range(200):  # the reconciliation runs in the background
                if "election reconcile-2026:" in caplog.text:
                    break
                await asyncio.sleep(0.02)
            return pk

    with caplog.at_level(logging.INFO, logger="election.intake"):
        pk = asyncio.run(vote(voters[:2]))
        caplog.clear()
        asyncio.run(vote(voters[2:3], pk))  # restarted: every ballot has its record
        assert re.search(r"reconcile-2026: [23] ballots, each with its evidence", caplog.text)
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join(lines[:2]) + b"\n")  # header and the first record only
        caplog.clear()
        asyncio.run(vote(voters[3:], pk))
    assert "2 ballots on the board have no evidence" in caplog.text
