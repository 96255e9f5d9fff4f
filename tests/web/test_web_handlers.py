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

import aiohttp
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
TOKENS = re.compile(r'name="(cast_token|receipt)" value="([^"]+)"')


@pytest.fixture(scope="module")
def ca() -> TestCa:
    return TestCa.create(label="web")


class Browser:
    """A test client that keeps cookies and reads the CSRF token off the last page."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client, self.csrf = client, ""
        self.tokens: dict[str, str] = {}  # the one-time tokens of the last page

    def _read(self, page: str) -> None:
        found = CSRF.search(page)
        self.csrf = found.group(1) if found else self.csrf
        self.tokens = dict(TOKENS.findall(page))

    async def get(self, path: str) -> tuple[int, str]:
        async with self.client.get(path, allow_redirects=True) as resp:
            page = await resp.text()
        self._read(page)
        return resp.status, page

    async def post(self, path: str, data: dict[str, Any], csrf: bool = True) -> tuple[int, str]:
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            fields.append(("csrf", self.csrf))
        async with self.client.post(path, data=fields, allow_redirects=True) as resp:
            page = await resp.text()
        self._read(page)
        return resp.status, page

    async def cast(self, **extra: str) -> tuple[int, str]:
        """Press the cast page's button (its one-time token)."""
        return await self.post("/cast", {"cast_token": self.tokens.get("cast_token", ""), **extra})


def run_app(
    config: WebConfig, opener: CardOpener, body: Callable[[Browser], Awaitable[None]]
) -> None:
    async def go() -> None:
        async with TestClient(TestServer(make_app(config, opener))) as client:
            await body(Browser(client))

    asyncio.run(go())


def with_board(
    tmp_path: Path,
    ca: TestCa,
    opener: CardOpener | None,
    body: Callable[[Browser, RunningBoard], Awaitable[None]],
    only: str | None = None,
) -> None:
    el = web_election(b"web handlers", "web-unit")

    async def go() -> None:
        async with in_process_board(tmp_path, ca, el) as board:
            config = WebConfig(
                board.url, only or el.id, el.fingerprint, receipts=tmp_path / "receipts"
            )
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
        assert status == 200 and "Receipt check" in page
        # another host name (DNS rebinding) is refused
        async with b.client.get("/", headers={"Host": "voting.example:80"}) as resp:
            assert resp.status == 421

    run_app(WebConfig(unused_url(), "web-unit", bytes(32), receipts=tmp_path), no_reader, body)


def test_posts_need_the_session_csrf_token(tmp_path: Path) -> None:
    async def body(b: Browser) -> None:
        await b.get("/receipts")
        status, page = await b.post("/election", {"election": "x"}, csrf=False)
        assert status == 403 and "この操作は受け付けられません" in page
        status, page = await b.post("/election", {"election": "x", "csrf": "forged"}, csrf=False)
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
        assert 'aria-invalid="true"' in page and 'value="1234"' in page  # kept, said at it
        assert 'id="code-error"' in page
        await b.post("/code", {"code": board.codes[0].lower().replace("-", " ")})
        cases: list[tuple[list[tuple[str, str]], str]] = [
            ([("c.council", "sato"), ("blank.park", "1")], "「つくば市長」で何も選ばれていません"),
            (
                [("c.mayor", "a"), ("c.mayor", "b"), ("c.council", "sato"), ("blank.park", "1")],
                "「つくば市長」の選び方は数えられません",
            ),
            (
                [
                    ("c.mayor", "-"),
                    ("c.council", "sato"),
                    ("c.council", "suzuki"),
                    ("c.council", "takahashi"),
                    ("blank.park", "1"),
                ],
                "1〜2人選んでください",
            ),
            (
                [
                    ("c.mayor", "a"),
                    ("c.council", "sato"),
                    ("blank.council", "1"),
                    ("blank.park", "1"),
                ],
                "白票と候補の両方",
            ),
            (
                [("c.mayor", "a"), ("c.council", "nobody"), ("blank.park", "1")],
                "「市議会議員（2人まで）」の選び方は数えられません",
            ),
            (
                [
                    ("c.mayor", "a"),
                    ("blank.council", "1"),
                    ("r.park.north", "1"),
                    ("r.park.river", "1"),
                ],
                "好きな順に番号をつけてください",
            ),
        ]
        for fields, message in cases:
            status, page = await b.post("/choose", fields)  # type: ignore[arg-type]
            assert status == 400 and message in page, (fields, page)
            assert page.count(message) >= 2 and 'class="field-error"' in page  # summary, field
        # the refused form keeps what was ticked
        assert 'value="north" selected' not in page and 'value="1" selected' in page
        status, page = await b.post(
            "/choose?lang=en",
            [  # type: ignore[arg-type]
                ("c.mayor", "a"),
                ("blank.council", "1"),
                ("r.park.north", "x"),
            ],
        )
        assert status == 400 and "would not count" in page
        # on an English page the election's Japanese words are marked so, for screen readers
        assert '<legend><span lang="ja">市議会議員' in page
        assert '<span class="name"><span lang="ja">' in page
        await b.get("/choose?lang=ja")
        status, page = await b.post(
            "/choose",
            [  # type: ignore[arg-type]
                ("c.mayor", "-"),
                ("blank.council", "1"),
                ("r.park.river", "1"),
                ("r.park.north", "2"),
            ],
        )
        assert status == 200 and "白票" in page and "1位：川沿いの緑地" in page
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
        # the way on is back to the card step; the code and the choices are kept
        assert 'href="/card" id="back">もう一度試す' in page and "投票所で投票することも" in page
        status, page = await b.get("/review")
        assert status == 200 and "石田 花子" in page

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
        assert page.count("パスワードがちがいます。あと4回") == 2  # in the summary, at the field
        assert 'aria-describedby="tries password-error"' in page
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
    """A code another voter has used is refused at the cast (the early check does not say
    who used what); the corrected code goes on to the same signed ballot."""
    import datetime as dt

    from jpki.certs import BasicFacts, Sex

    issued = issue_card(ca, "web-unit-cast")
    taro = issue_card(
        ca,
        "web-unit-cast-taro",
        BasicFacts("投票 太郎", dt.date(1975, 5, 5), Sex.MALE, "茨城県つくば市研究学園2番地"),
    )
    card = {"now": taro}

    async def body(b: Browser, board: RunningBoard) -> None:
        await to_review(b, board, code=board.codes[0])  # Taro votes with the first code
        await b.post("/card", {"password": PASSWORD})
        status, page = await b.cast()
        assert status == 200 and "投票が完了しました" in page
        card["now"] = issued
        size = board.size()
        await to_review(b, board, code=board.codes[0])  # Hanako mistypes Taro's code
        status, review = await b.get("/review")
        tracker = re.search(r'<code class="tracker"[^>]*>([^<]+)</code>', review)
        assert tracker is not None
        status, page = await b.post("/card", {"password": PASSWORD.lower()})
        assert status == 200 and "この内容で投票する" in page and "石田 花子" in page
        status, page = await b.cast()
        assert status == 409 and "すでにほかの人が使っています" in page, page
        assert "選挙管理委員会にお問い合わせください" in page  # advice, not only the refusal
        assert "投票コードを入力してください" in page and board.size() == size
        assert f'value="{board.codes[0]}"' in page  # the refused code stays to be corrected
        # the right code: the same signed ballot goes on to its cast, no second password
        status, page = await b.post("/code", {"code": board.codes[1]})
        assert status == 200 and "この内容で投票する" in page and "石田 花子" in page
        status, page = await b.cast()
        assert status == 200 and "投票が完了しました。カードを抜いてください。" in page
        assert "最初の票" in page and board.size() == size + 1
        assert f'<code class="tracker">{tracker.group(1)}</code>' in page  # as on the review
        receipt_token = b.tokens["receipt"]
        receipts = sorted(
            (tmp_path / "receipts").glob("*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
        )[1:]
        assert len(receipts) == 1 and board.codes[1] not in receipts[0].read_text()
        # the vote is over: nothing of it is reachable, a second click casts nothing more
        status, page = await b.cast()
        assert "石田 花子" not in page and board.size() == size + 1
        for path in ("/review", "/cast", "/receipt", "/receipts"):
            status, page = await b.get(path)
            assert "石田 花子" not in page and tracker.group(1) not in page, path
        # the receipt page's own token checks it; nothing else does
        status, page = await b.post("/check", {"receipt": receipt_token})
        assert status == 200 and "あなたの票は記録に含まれています" in page
        assert f'<code class="tracker">{tracker.group(1)}</code>' in page
        status, page = await b.post("/check", {"receipt": "guessed"})
        assert status == 404 and tracker.group(1) not in page
        async with b.client.post(
            "/receipt/file", data={"csrf": b.csrf, "receipt": receipt_token}
        ) as resp:
            assert resp.status == 200 and (await resp.read()) == receipts[0].read_bytes()
        # a receipt file the voter chooses, checked in English
        upload = aiohttp.FormData()
        upload.add_field("csrf", b.csrf)
        upload.add_field("file", receipts[0].read_bytes(), filename="mine.json")
        async with b.client.post("/check?lang=en", data=upload) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Your ballot is in the record" in page
            assert tracker.group(1) in page
        upload = aiohttp.FormData()
        upload.add_field("csrf", b.csrf)
        upload.add_field("file", b"not a receipt", filename="x.json")
        async with b.client.post("/check?lang=ja", data=upload) as resp:
            assert resp.status == 400 and "受領証として読み取れません" in await resp.text()

    with_board(tmp_path, ca, lambda: card_opener(card["now"])(), body)


def test_a_wrong_code_is_said_before_the_choices(tmp_path: Path, ca: TestCa) -> None:
    """The registrar is asked before the voter chooses; a guesser is stopped after ten
    checks a minute from one address, the voter told to wait (nothing sent)."""

    async def body(b: Browser, board: RunningBoard) -> None:
        await b.get("/")
        await b.post("/election", {"election": board.el.id})
        status, page = await b.post("/code", {"code": "AAAA ーAAAA‐AAAA−AAAA"})
        assert status == 400 and "投票コードがこの選挙のものではありません" in page, page
        assert 'value="AAAA ーAAAA‐AAAA−AAAA"' in page and 'id="code-error"' in page
        status, page = await b.get("/choose")
        assert "投票先を選んでください" not in page  # no choices without a code
        status, page = await b.post("/code", {"code": board.codes[0].replace("-", "ー")})
        assert status == 200 and "投票先を選んでください" in page
        url = f"{board.url}/v1/elections/{board.el.id}/voting-code"
        async with aiohttp.ClientSession() as http:
            answers = []
            for _ in range(9):
                async with http.post(url, json={"voting_code": "AAAA-AAAA-AAAA-AAAB"}) as r:
                    answers.append((r.status, await r.json()))
            assert answers[:8] == [(200, {"known": False})] * 8
            assert answers[8][0] == 429 and answers[8][1]["error"] == "busy"
            async with http.post(url, json={"voting_code": board.codes[1]}) as r:
                assert r.status == 429  # even a right code: the limit says nothing
            async with http.post(url, json={"code": 1}) as r:
                assert r.status == 429
        await b.get("/code")
        status, page = await b.post("/code", {"code": board.codes[1]})
        assert status == 429 and "1分ほど待ってから" in page

    with_board(tmp_path, ca, None, body)


def test_an_unreachable_board_at_casting_time_is_said_so(tmp_path: Path, ca: TestCa) -> None:
    issued = issue_card(ca, "web-unit-gone")

    async def body(b: Browser, board: RunningBoard) -> None:
        await to_review(b, board)
        await b.post("/card", {"password": PASSWORD})
        await board.server.stop()
        status, page = await b.cast()
        # not "nothing was sent": whether it arrived cannot be known; asking sends nothing
        assert status == 502 and "票が届いたかどうか分かりません" in page, page
        assert "何も送信されていません" not in page and "票が届いたか確かめる" in page
        status, page = await b.cast(ask="1")
        assert status == 502 and "票が届いたかどうか分かりません" in page

    with_board(tmp_path, ca, card_opener(issued), body)


def test_only_open_elections_are_offered(tmp_path: Path, ca: TestCa) -> None:
    async def body(b: Browser, board: RunningBoard) -> None:
        status, page = await b.get("/")
        assert status == 200 and "いま投票を受け付けている選挙はありません" in page
        assert 'name="election"' not in page

    with_board(tmp_path, ca, None, body, only="no-such-election")


def test_an_election_whose_voting_period_is_over_is_not_offered(tmp_path: Path, ca: TestCa) -> None:
    """Phase still `voting`, but the period (2026-11-29 to 2026-12-06 JST) is over by this
    device's clock: the start page offers nothing (choosing it goes through the same list)."""
    import dataclasses
    import datetime as dt

    jst = dt.timezone(dt.timedelta(hours=9))
    el = web_election(b"web period", "web-period")
    el.manifest = dataclasses.replace(
        el.manifest,
        voting_start=dt.datetime(2026, 11, 29, 7, tzinfo=jst),
        voting_end=dt.datetime(2026, 12, 6, 20, tzinfo=jst),
    )
    el.fingerprint = el.manifest.fingerprint()

    async def go() -> None:
        async with in_process_board(tmp_path, ca, el) as board:
            config = WebConfig(board.url, el.id, el.fingerprint, receipts=tmp_path / "receipts")
            async with TestClient(TestServer(make_app(config, no_reader))) as client:
                b = Browser(client)
                status, page = await b.get("/")
                assert status == 200 and "いま投票を受け付けている選挙はありません" in page
                assert 'name="election"' not in page

    asyncio.run(go())


def test_a_closed_election_is_not_offered_nor_cast_in(tmp_path: Path, ca: TestCa) -> None:
    async def body(b: Browser, board: RunningBoard) -> None:
        await to_review(b, board)
        async with BoardClient(board.url) as client:
            await client.post(board.el.admin_entry("phase", {"phase": "closed"}))
        status, page = await b.get("/")
        assert status == 200 and "いま投票を受け付けている選挙はありません" in page
        await b.get("/receipts")  # a page with a form, for the CSRF token
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
    async def body(b: Browser) -> None:
        await b.get("/receipts")
        upload = aiohttp.FormData()
        upload.add_field("csrf", b.csrf)
        upload.add_field("file", content, filename="broken.json")
        async with b.client.post("/check", data=upload) as resp:
            page = await resp.text()
        assert resp.status == 400 and "受領証として読み取れません" in page
        assert 'href="/receipts" id="back"' in page

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
                    status, page = await b.cast()
                    assert status == 200 and "投票が完了しました" in page
                    first = next(receipts.glob("*.json"))
                    proxy.ballot_answer = {
                        "receipt": json.loads(first.read_text())["receipt"],
                        "replaced_earlier_ballot": 0,
                    }
                    size = board.size()
                    await to_review(b, board)
                    await b.post("/card", {"password": PASSWORD})
                    status, page = await b.cast()
                    assert status == 502 and "差し替えられたおそれがあります" in page, page
                    assert "投票が完了しました" not in page
                    # the check that failed, for the curious: in the disclosure only
                    alert, _, rest = page.partition('role="alert"')[2].partition("</div>")
                    assert "receipt.ballot" not in alert and "receipt.ballot" in rest
                    assert "<details><summary>詳しい情報</summary>" in rest
                    evidence = json.loads((receipts / f"{el.id}-NOT-RECORDED.json").read_text())
                    assert evidence["check"] == "receipt.ballot"
                    assert board.size() == size and proxy.dropped == 1
            finally:
                proxy.stop()

    asyncio.run(go())


def test_a_lost_answer_to_the_cast_is_asked_of_the_board(tmp_path: Path, ca: TestCa) -> None:
    """The cast request fails (a gateway error with no reason): before saying anything, the
    page asks the board whether the ballot arrived. Lost before the board: "did not arrive",
    and the same signed ballot is cast again; lost after: "arrived", with its entry number,
    and the vote is over."""
    from aiohttp import web as aioweb

    from tests.integration.test_voter_pinning import Proxy

    class Losing(Proxy):
        lose: str = ""  # "before" or "after" the board sees the ballot

        async def _handle(self, request: aioweb.Request) -> aioweb.Response:
            if request.method == "POST" and request.path.endswith("/ballots") and self.lose:
                lose, self.lose = self.lose, ""
                if lose == "after":
                    await super()._handle(request)
                return aioweb.Response(status=502, text="Bad Gateway")
            return await super()._handle(request)

    issued = issue_card(ca, "web-unit-lost")
    el = web_election(b"web handlers lost", "web-lost")

    async def go() -> None:
        async with in_process_board(tmp_path, ca, el) as board:
            proxy = Losing(board.url)
            proxy.start()
            try:
                config = WebConfig(proxy.url, el.id, el.fingerprint, receipts=tmp_path / "receipts")
                async with TestClient(TestServer(make_app(config, card_opener(issued)))) as c:
                    b = Browser(c)
                    size = board.size()
                    await to_review(b, board)
                    await b.post("/card", {"password": PASSWORD})
                    proxy.lose = "before"
                    status, page = await b.cast()
                    assert status == 502 and "票は届いていませんでした" in page, page
                    assert "この内容で投票する" in page and board.size() == size
                    proxy.lose = "after"
                    status, page = await b.cast()  # the same signed ballot, no password
                    assert status == 200 and "票は届いて記録されていました" in page, page
                    assert f"記録番号{size}" in page and board.size() == size + 1
                    status, page = await b.get("/review")
                    assert "石田 花子" not in page  # the vote is over
            finally:
                proxy.stop()

    asyncio.run(go())


def test_a_signed_ballot_lives_only_for_the_cast_that_follows(tmp_path: Path, ca: TestCa) -> None:
    """Going back discards the signature (the choices stay); opening the cast page, as the
    next person at a shared browser would, forgets the whole vote; an old cast token or a
    late one casts nothing."""
    import voter_client.web_state as web_state

    issued = issue_card(ca, "web-unit-shared")

    async def body(b: Browser, board: RunningBoard) -> None:
        size = board.size()
        await to_review(b, board)
        await b.post("/card", {"password": PASSWORD})
        old = b.tokens["cast_token"]
        status, page = await b.get("/card")  # back
        assert "署名した票は送信されないまま破棄しました" in page
        status, page = await b.post("/cast", {"cast_token": old})
        assert "石田 花子" not in page and board.size() == size
        status, page = await b.get("/review")
        assert "石田 花子" in page  # the same voter going back keeps the choices
        await b.post("/card", {"password": PASSWORD})
        status, page = await b.get("/cast")  # the next person opens the cast page
        assert status == 409 and "前の投票の途中の内容" in page and "石田 花子" not in page
        status, page = await b.get("/review")
        assert "石田 花子" not in page
        # a signed ballot not cast within SIGNED_SECONDS is discarded
        await to_review(b, board)
        await b.post("/card", {"password": PASSWORD})
        lifetime = web_state.SIGNED_SECONDS
        web_state.SIGNED_SECONDS = -1.0
        try:
            status, page = await b.cast()
        finally:
            web_state.SIGNED_SECONDS = lifetime
        assert "署名した票は送信されないまま破棄しました" in page and board.size() == size

    with_board(tmp_path, ca, card_opener(issued), body)


@pytest.mark.parametrize(
    ("facts", "said"),
    [
        (
            ("投票 次郎", (1980, 4, 1), "東京都千代田区千代田1番地"),
            "この選挙の対象地域にありません",
        ),
        (("投票 三郎", (2015, 4, 1), "茨城県つくば市研究学園3番地"), "投票年齢に達していません"),
    ],
)
def test_an_ineligible_voter_is_told_right_after_signing(
    tmp_path: Path, ca: TestCa, facts: Any, said: str
) -> None:
    """The card's certificate, read when the voter signs, tells the age and the address: the
    registrar's own rules (`jpki.registrar.ineligible`) say it then, not after the cast."""
    import datetime as dt

    from jpki.certs import BasicFacts, Sex

    name, born, address = facts
    issued = issue_card(ca, f"web-unit-{name}", BasicFacts(name, dt.date(*born), Sex.MALE, address))

    async def body(b: Browser, board: RunningBoard) -> None:
        size = board.size()
        await to_review(b, board)
        status, page = await b.post("/card", {"password": PASSWORD})
        assert status == 403 and said in page, page
        assert "この内容で投票する" not in page and "cast_token" not in page
        assert board.size() == size

    with_board(tmp_path, ca, card_opener(issued), body)
