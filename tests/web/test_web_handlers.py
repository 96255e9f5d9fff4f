"""The voter web app's handlers without a browser: bad input gets a clear page, nothing is sent.

A real board with its registrar runs in the test's event loop; the card is a virtual My Number
Card reached in-process (the browser tests use the PC/SC stack).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bulletin_board.client import BoardClient
from jpki.testca import TestCa
from jpki.transport import InProcessTransport, TransportError
from jpki.virtual_card import IssuedCard
from tests.card_support import Garbled
from tests.web.web_support import (
    PASSWORD,
    RunningBoard,
    in_process_board,
    issue_card,
    unused_url,
    web_election,
)
from verifier.fetch import short_fingerprint
from voter_client.web import WebConfig, make_app
from voter_client.web_card import CardOpener, NoReaderError

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def ca() -> TestCa:
    return TestCa.create(label="web")


class Browser:
    """A test client that keeps cookies and reads the CSRF token off the last page."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client, self.csrf = client, ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.client.get(path, allow_redirects=True) as resp:
            page = await resp.text()
        found = CSRF.search(page)
        self.csrf = found.group(1) if found else self.csrf
        return resp.status, page

    async def post(self, path: str, data: dict[str, Any], csrf: bool = True) -> tuple[int, str]:
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            fields.append(("csrf", self.csrf))
        async with self.client.post(path, data=fields, allow_redirects=True) as resp:
            page = await resp.text()
        found = CSRF.search(page)
        self.csrf = found.group(1) if found else self.csrf
        return resp.status, page


def run_app(config: WebConfig, opener: CardOpener,
            body: Callable[[Browser], Awaitable[None]]) -> None:
    async def go() -> None:
        async with TestClient(TestServer(make_app(config, opener))) as client:
            await body(Browser(client))

    asyncio.run(go())


def with_board(tmp_path: Path, ca: TestCa, opener: CardOpener | None,
               body: Callable[[Browser, RunningBoard], Awaitable[None]],
               only: str | None = None) -> None:
    el = web_election(b"web handlers", "web-unit")

    async def go() -> None:
        async with in_process_board(tmp_path, ca, el) as board:
            config = WebConfig(board.url, only or el.id, el.fingerprint,
                               receipts=tmp_path / "receipts")
            async with TestClient(TestServer(make_app(config, opener or no_reader))) as client:
                await body(Browser(client), board)

    asyncio.run(go())


def no_reader() -> Any:
    raise NoReaderError("no card reader")


def card_opener(issued: IssuedCard) -> CardOpener:
    return lambda: InProcessTransport(issued.card)


CHOICES = [("c.mayor", "b"), ("c.council", "sato"), ("blank.park", "1")]


async def to_review(b: Browser, board: RunningBoard, code: str | None = None) -> None:
    status, page = await b.get("/")
    # the pinned election, with the short fingerprint the voter compares with the letter
    assert status == 200 and short_fingerprint(board.el.fingerprint) in page, page
    await b.post("/election", {"election": board.el.id})
    await b.post("/code", {"code": code or board.codes[0]})
    status, page = await b.post("/choose", CHOICES)  # type: ignore[arg-type]
    assert status == 200 and "投票内容の確認" in page, page


def test_session_cookie_headers_and_language(tmp_path: Path) -> None:
    async def body(b: Browser) -> None:
        async with b.client.get("/") as resp:
            cookie = resp.cookies["tohyo_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            page = await resp.text()
        # the board is not there: said in Japanese by default, in English on request
        assert resp.status == 502 and "接続できません" in page and '<html lang="ja">' in page
        status, page = await b.get("/?lang=en")
        assert status == 502 and "cannot be reached" in page and '<html lang="en">' in page
        status, page = await b.get("/receipts")  # the language cookie stays
        assert status == 200 and "Saved receipts" in page
        # another host name (DNS rebinding) is refused
        async with b.client.get("/", headers={"Host": "voting.example:80"}) as resp:
            assert resp.status == 421

    run_app(WebConfig(unused_url(), "web-unit", bytes(32), receipts=tmp_path), no_reader, body)


def test_posts_need_the_session_csrf_token(tmp_path: Path) -> None:
    async def body(b: Browser) -> None:
        await b.get("/receipts")
        status, page = await b.post("/election", {"election": "x"}, csrf=False)
        assert status == 403 and "この操作は受け付けられません" in page
        status, page = await b.post("/election", {"election": "x", "csrf": "forged"},
                                    csrf=False)
        assert status == 403

    run_app(WebConfig(unused_url(), "web-unit", bytes(32), receipts=tmp_path), no_reader, body)


def test_bad_codes_and_choices_are_refused_on_the_page(tmp_path: Path, ca: TestCa) -> None:
    async def body(b: Browser, board: RunningBoard) -> None:
        size = board.size()
        status, page = await b.get("/")
        assert status == 200 and "つくば市 住民投票テスト" in page
        status, page = await b.post("/code", {"code": board.codes[0]})  # no election yet
        assert status == 200 and "選挙を選んでください" in page
        await b.post("/election", {"election": board.el.id})
        status, page = await b.post("/code", {"code": "1234"})
        assert status == 400 and "投票コードの形式が正しくありません" in page
        assert 'aria-invalid="true"' in page
        await b.post("/code", {"code": board.codes[0].lower().replace("-", " ")})
        cases: list[tuple[list[tuple[str, str]], str]] = [
            ([("c.council", "sato"), ("blank.park", "1")], "「つくば市長」で何も選ばれていません"),
            ([("c.mayor", "a"), ("c.mayor", "b"), ("c.council", "sato"), ("blank.park", "1")],
             "「つくば市長」の選び方は数えられません"),
            ([("c.mayor", "-"), ("c.council", "sato"), ("c.council", "suzuki"),
              ("c.council", "takahashi"), ("blank.park", "1")], "1〜2個選んでください"),
            ([("c.mayor", "a"), ("c.council", "sato"), ("blank.council", "1"),
              ("blank.park", "1")], "白票と候補の両方"),
            ([("c.mayor", "a"), ("c.council", "nobody"), ("blank.park", "1")],
             "「市議会議員（2人まで）」の選び方は数えられません"),
            ([("c.mayor", "a"), ("blank.council", "1"), ("r.park.north", "1"),
              ("r.park.river", "1")], "好きな順に番号をつけてください"),
        ]
        for fields, message in cases:
            status, page = await b.post("/choose", fields)  # type: ignore[arg-type]
            assert status == 400 and message in page, (fields, page)
        # the refused form keeps what was ticked
        assert 'value="north" selected' not in page and 'value="1" selected' in page
        status, page = await b.post("/choose?lang=en", [  # type: ignore[arg-type]
            ("c.mayor", "a"), ("blank.council", "1"), ("r.park.north", "x")])
        assert status == 400 and "would not count" in page
        # on an English page the election's Japanese words are marked so, for screen readers
        assert '<legend><span lang="ja">市議会議員' in page
        assert '<span class="name"><span lang="ja">' in page
        await b.get("/?lang=ja")
        status, page = await b.post("/choose", [  # type: ignore[arg-type]
            ("c.mayor", "-"), ("blank.council", "1"), ("r.park.river", "1"),
            ("r.park.north", "2")])
        assert status == 200 and "白票" in page and "1位: 川沿いの緑地" in page
        assert 'lang="ja"' not in page.split("</head>")[1]  # a Japanese page needs no marks
        assert board.size() == size

    with_board(tmp_path, ca, None, body)


def test_card_trouble_and_wrong_passwords(tmp_path: Path, ca: TestCa) -> None:
    issued = issue_card(ca, "web-unit-pw")
    opener = card_opener(issued)
    state = {"opener": no_reader}

    def switching() -> Any:
        return state["opener"]()

    async def body(b: Browser, board: RunningBoard) -> None:
        size = board.size()
        await to_review(b, board)
        status, page = await b.get("/card")
        assert status == 503 and "カードリーダーが見つかりません" in page

        def empty() -> Any:
            raise TransportError("no card")

        state["opener"] = empty
        status, page = await b.get("/card?lang=en")
        assert status == 503 and "The card cannot be read" in page
        state["opener"] = Garbled  # answers that do not parse were a 500
        status, page = await b.get("/card?lang=en")
        assert status == 503 and "The card cannot be read" in page
        status, page = await b.post("/card", {"password": PASSWORD})
        assert status == 503 and PASSWORD not in page
        state["opener"] = opener
        status, page = await b.get("/card?lang=ja")
        assert status == 200 and "あと5回" in page
        status, page = await b.post("/card", {"password": ""})
        assert status == 400 and "パスワードを入力してください" in page
        status, page = await b.post("/card", {"password": "WRONG1"})
        assert status == 400 and "パスワードがちがいます。あと4回" in page
        assert "WRONG1" not in page
        status, page = await b.post("/card", {"password": "ab"})  # not a password: no try used
        assert status == 400 and "英数字6〜16文字" in page and "あと4回" in page
        for left in (3, 2, 1):
            status, page = await b.post("/card?lang=en", {"password": "WRONG1"})
            assert f"{left} tries are left" in page
        status, page = await b.post("/card?lang=ja", {"password": "WRONG1"})
        assert status == 403 and "ロックされています" in page
        status, page = await b.get("/card")  # blocked: no password form at all
        assert status == 403 and 'type="password"' not in page
        status, page = await b.post("/card", {"password": PASSWORD})
        assert status == 403 and PASSWORD not in page
        assert board.size() == size

    with_board(tmp_path, ca, switching, body)


def test_wrong_code_then_cast_receipt_and_check(tmp_path: Path, ca: TestCa) -> None:
    issued = issue_card(ca, "web-unit-cast")

    async def body(b: Browser, board: RunningBoard) -> None:
        size = board.size()
        await to_review(b, board, code="AAAA-AAAA-AAAA-AAAA")
        status, page = await b.post("/card", {"password": PASSWORD.lower()})
        assert status == 200 and "この内容で投票する" in page and "石田 花子" in page
        status, page = await b.post("/cast", {})
        assert status == 403 and "投票コードがこの選挙のものではありません" in page
        assert "投票コードを入力してください" in page and board.size() == size
        # the right code: back to the review (the choices were kept), sign again, cast
        status, page = await b.post("/code", {"code": board.codes[0]})
        assert "投票内容の確認" in page
        status, page = await b.get("/cast")
        assert "マイナンバーカードで本人確認" in page  # the old signature was dropped
        await b.post("/card", {"password": PASSWORD})
        status, page = await b.post("/cast", {})
        assert status == 200 and "投票しました" in page and "最初の票" in page
        assert board.size() == size + 1
        receipts = list((tmp_path / "receipts").glob("*.json"))
        assert len(receipts) == 1 and board.codes[0] not in receipts[0].read_text()
        status, page = await b.post("/cast", {})  # a second click casts nothing more
        assert board.size() == size + 1
        status, page = await b.get(f"/check?name={receipts[0].name}")
        assert status == 200 and "あなたの票は掲示板の記録に含まれています" in page
        assert f'href="/check?name={receipts[0].name}&amp;lang=en"' in page
        status, page = await b.get(f"/check?name={receipts[0].name}&lang=en")
        assert status == 200 and "Your ballot is in the record" in page
        status, page = await b.get("/check?name=../board.sqlite")
        assert status == 404
        async with b.client.get(f"/receipts/{receipts[0].name}") as resp:
            assert resp.status == 200 and (await resp.read()) == receipts[0].read_bytes()

    with_board(tmp_path, ca, card_opener(issued), body)


def test_an_unreachable_board_at_casting_time_is_said_so(tmp_path: Path, ca: TestCa) -> None:
    issued = issue_card(ca, "web-unit-gone")

    async def body(b: Browser, board: RunningBoard) -> None:
        await to_review(b, board)
        await b.post("/card", {"password": PASSWORD})
        await board.server.stop()
        status, page = await b.post("/cast", {})
        assert status == 502 and "接続できません。何も送信されていません" in page
        status, page = await b.get("/cast")  # the signed ballot is kept to try again
        assert status == 200 and "この内容で投票する" in page

    with_board(tmp_path, ca, card_opener(issued), body)


def test_only_open_elections_are_offered(tmp_path: Path, ca: TestCa) -> None:
    async def body(b: Browser, board: RunningBoard) -> None:
        status, page = await b.get("/")
        assert status == 200 and "いま投票を受け付けている選挙はありません" in page
        assert 'name="election"' not in page

    with_board(tmp_path, ca, None, body, only="no-such-election")


def test_a_closed_election_is_not_offered_nor_cast_in(tmp_path: Path, ca: TestCa) -> None:
    async def body(b: Browser, board: RunningBoard) -> None:
        await to_review(b, board)
        async with BoardClient(board.url) as client:
            await client.post(board.el.admin_entry("phase", {"phase": "closed"}))
        status, page = await b.get("/")
        assert status == 200 and "いま投票を受け付けている選挙はありません" in page
        status, page = await b.post("/election", {"election": board.el.id})
        assert status == 400 and "いま投票を受け付けていません" in page

    with_board(tmp_path, ca, None, body)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"format":"something-else"}',
        b'{"format":"tohyo-receipt/1"}',  # no board, key nor receipt: was a 500
        b'{"board":"http://127.0.0.1:1","board_key":"00","format":"tohyo-receipt/1","receipt":{}}',
        b'{"format":"tohyo-receipt/2"}',
        b'{"ballot":{},"board":"http://127.0.0.1:1","board_key":"00","election":"x",'
        b'"fingerprint":"00","format":"tohyo-receipt/2","receipt":{}}',
    ],
)
def test_a_broken_receipt_file_is_refused_on_the_page(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "broken.json").write_bytes(content)

    async def body(b: Browser) -> None:
        status, page = await b.get("/check?name=broken.json")
        assert status == 400 and "ページが見つかりません" in page

    run_app(WebConfig(unused_url(), "web-unit", bytes(32), receipts=tmp_path), no_reader, body)


def test_a_dropped_ballot_is_said_with_the_evidence(tmp_path: Path, ca: TestCa) -> None:
    """A proxy in front of the board drops a re-vote and answers with the voter's earlier
    (genuine) receipt: the page says the ballot may not be recorded, not "cast", and the
    evidence is kept in the receipts folder."""
    from tests.integration.test_voter_pinning import Proxy

    issued = issue_card(ca, "web-unit-drop")
    el = web_election(b"web handlers drop", "web-drop")
    receipts = tmp_path / "receipts"

    async def go() -> None:
        async with in_process_board(tmp_path, ca, el) as board:
            proxy = Proxy(board.url)
            proxy.start()
            try:
                config = WebConfig(proxy.url, el.id, el.fingerprint, receipts=receipts)
                app = make_app(config, card_opener(issued))
                async with TestClient(TestServer(app)) as client:
                    b = Browser(client)
                    await to_review(b, board)
                    await b.post("/card", {"password": PASSWORD})
                    status, page = await b.post("/cast", {})
                    assert status == 200 and "投票しました" in page
                    first = next(receipts.glob("*.json"))
                    proxy.ballot_answer = {"receipt": json.loads(first.read_text())["receipt"],
                                           "replaced_earlier_ballot": 0}
                    size = board.size()
                    await to_review(b, board)
                    await b.post("/card", {"password": PASSWORD})
                    status, page = await b.post("/cast", {})
                    assert status == 502 and "差し替えられたおそれがあります" in page, page
                    assert "投票しました" not in page
                    evidence = json.loads((receipts / f"{el.id}-NOT-RECORDED.json").read_text())
                    assert evidence["check"] == "receipt.ballot"
                    assert board.size() == size and proxy.dropped == 1
            finally:
                proxy.stop()

    asyncio.run(go())
