"""The election the web UI tests vote in, its candidate images, and an in-process board.

Three contests, one per ballot style: a public-office single choice (name, kana reading,
party), an image k-of-n and a text ranked contest. `InProcessBoard` runs the board with its
registrar in the test's event loop (for the handler tests); the browser tests use a board
process instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletin_board.board import Board
from bulletin_board.client import BoardClient
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.intake import BallotIntake, RegistrarSettings
from election.manifest import Contest, Option
from election.policy import ElectionPolicy
from jpki.certs import BasicFacts, CertPurpose, Sex, TrustAnchors
from jpki.testca import TestCa, pooled_rsa_key
from jpki.virtual_card import IssuedCard, issue_virtual_card
from jpki.voting_codes import generate_voting_codes
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import open_voting

PASSWORD = "VOTE2027X"
HANAKO = BasicFacts("投票 花子", dt.date(1980, 4, 1), Sex.FEMALE, "茨城県つくば市研究学園1番地")
COLOURS = {"sato": "#1b4f9c", "suzuki": "#8c1d18", "takahashi": "#216e39"}

CONTESTS = (
    Contest(
        "mayor",
        "つくば市長",
        "public_office",
        "single",
        (
            Option("a", "青木 一郎", "あおき いちろう", "みらい党"),
            Option("b", "石田 花子", "いしだ はなこ", "市民の会"),
            Option("c", "上野 健", "うえの けん", "無所属"),
        ),
    ),
    Contest(
        "council",
        "市議会議員（2人まで）",
        "image",
        "k_of_n",
        (
            Option("sato", "佐藤 美咲", party="みらい党", image="sato.svg"),
            Option("suzuki", "鈴木 大輔", party="市民の会", image="suzuki.svg"),
            Option("takahashi", "高橋 陽子", party="無所属", image="takahashi.svg"),
        ),
        max_choices=2,
    ),
    Contest(
        "park",
        "新しい公園の場所（順位をつけてください）",
        "text",
        "ranked",
        (
            Option("north", "北部の森"),
            Option("station", "駅前広場"),
            Option("river", "川沿いの緑地"),
        ),
        max_choices=3,
    ),
)


def web_election(seed: bytes, election_id: str) -> Election:
    """A test election (small group) with the three contests above."""
    el = Election(DeterministicRandom(seed), election_id=election_id)
    el.manifest = dataclasses.replace(
        el.manifest, title="つくば市 住民投票テスト", contests=CONTESTS
    )
    el.fingerprint = el.manifest.fingerprint()
    return el


def write_assets(folder: Path) -> Path:
    """A small SVG portrait per image-style candidate."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, colour in COLOURS.items():
        (folder / f"{name}.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
            f'<rect width="96" height="96" fill="{colour}"/>'
            '<circle cx="48" cy="36" r="18" fill="#fff"/>'
            '<rect x="20" y="60" width="56" height="36" rx="18" fill="#fff"/></svg>'
        )
    return folder


def voting_codes(count: int) -> tuple[list[str], frozenset[str]]:
    csv_text, hashes = generate_voting_codes(count)
    return [line.split(",")[1] for line in csv_text.splitlines()[1:]], frozenset(hashes)


def issue_card(ca: TestCa, label: str, facts: BasicFacts = HANAKO) -> IssuedCard:
    now = dt.datetime.now(dt.UTC)
    return issue_virtual_card(
        ca,
        facts,
        sign_password=PASSWORD,
        not_before=now - dt.timedelta(days=30),
        not_after=now + dt.timedelta(days=365),
        sign_key=pooled_rsa_key(f"{label}-sign"),
        auth_key=pooled_rsa_key(f"{label}-auth"),
    )


@dataclass
class RunningBoard:
    url: str
    el: Election
    codes: list[str]
    board: Board
    server: BoardServer

    def size(self) -> int:
        return self.board.size(self.el.id)


@asynccontextmanager
async def in_process_board(tmp_path: Path, ca: TestCa, el: Election) -> AsyncIterator[RunningBoard]:
    """A board with its registrar on 127.0.0.1, voting open in `el`."""
    codes, hashes = voting_codes(2)
    now = dt.datetime.now(dt.UTC)
    settings = RegistrarSettings(
        attestation_key=el.registrar,
        pseudonym_key=secrets.token_bytes(32),
        trust=TrustAnchors(
            ca.certificates,
            crls=(
                ca.crl(
                    CertPurpose.SIGN,
                    this_update=now - dt.timedelta(days=1),
                    next_update=now + dt.timedelta(days=30),
                ),
            ),
        ),
        evidence_dir=tmp_path / "evidence",
        evidence_passphrase="evidence passphrase for tests",
        code_hashes={el.id: hashes},
        evidence_scrypt_n=2**10,
        elections=frozenset({el.fingerprint}),
    )
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )
    intake = BallotIntake(board, settings)
    server = BoardServer(board, extra_routes=intake.install)
    await server.start()
    try:
        async with BoardClient(server.url) as client:
            await open_voting(client, el, el.rng)
        yield RunningBoard(server.url, el, codes, board, server)
    finally:
        await server.stop()


def unused_url() -> str:
    """A board URL on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def form(**fields: Any) -> dict[str, Any]:
    return {k.replace("__", "."): v for k, v in fields.items()}
