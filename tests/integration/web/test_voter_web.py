"""`tohyo vote web` in a real browser: headless Chromium (Debian's) driven by Playwright.

A board process with its registrar, a virtual My Number Card in a PC/SC reader (pcscd + vpcd
+ pyscard), `tohyo vote web` as a separate process, and the voter's clicks and keys. Every page
is scanned with axe-core for WCAG 2.1 A/AA in Japanese and English, on a desktop and a phone
screen; screenshots of each step go to test-output/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bulletin_board.client import BoardClient
from bulletin_board.testing import BoardProcess
from jpki.virtual_card import IssuedCard
from tests.integration.test_ballot_intake import _write_settings, open_voting
from tests.web.axe_core import WCAG_TAGS, axe_script
from tests.web.web_support import HANAKO, PASSWORD, voting_codes, web_election, write_assets

pytestmark = [pytest.mark.pcsc, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[3]
SHOTS = REPO / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
T = TypeVar("T")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def in_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end in a thread of its own (Playwright's loop owns this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


@dataclass
class VoterWeb:
    """The board, the web UI's address, the voting codes and the receipts folder."""

    board: str
    election: str
    url: str
    codes: list[str]
    receipts: Path
    output: Path
    fingerprint: str

    def size(self) -> int:
        async def get() -> int:
            async with BoardClient(self.board) as client:
                return (await client.tree_head(self.election)).tree_size

        return in_thread(get)

    def logs(self) -> str:
        return self.output.read_text(errors="replace")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # axe is injected as a script tag, which the pages' CSP (script-src 'self') would refuse
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def voter_web(
    tmp_path: Path,
    test_ca: Any,
    monkeypatch: pytest.MonkeyPatch,
    issue: Callable[..., IssuedCard],
    insert: Callable[..., str],
) -> Iterator[VoterWeb]:
    reader = insert(issue(HANAKO, label="web-hanako"))
    yield from _web_on_board(tmp_path, test_ca, monkeypatch, "web-2026", reader)


def _web_on_board(
    tmp_path: Path, test_ca: Any, monkeypatch: pytest.MonkeyPatch, election: str, reader: str
) -> Iterator[VoterWeb]:
    """A board process with its registrar, voting open, and `vote web` on `reader`."""
    el = web_election(election.encode(), election)
    codes, hashes = voting_codes(2)
    settings = _write_settings(tmp_path, el, test_ca, hashes)
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
    board_url = board.start()
    try:
        open_voting_on(board_url, el)
        yield from _serve_web(tmp_path, el.id, board_url, codes, reader, el.fingerprint.hex())
    finally:
        board.stop()


def open_voting_on(board_url: str, el: Any) -> None:
    async def setup() -> None:
        async with BoardClient(board_url) as client:
            await open_voting(client, el, el.rng)

    in_thread(setup)


def _serve_web(
    tmp_path: Path, election: str, board_url: str, codes: list[str], reader: str, fingerprint: str
) -> Iterator[VoterWeb]:
    """`tohyo vote web` on a free port, stopped afterwards."""
    receipts, output = tmp_path / "receipts", tmp_path / "web.log"
    with output.open("wb") as log:
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tohyo",
                "vote",
                "web",
                "--board",
                board_url,
                "--election",
                election,
                "--fingerprint",
                fingerprint,
                "--reader",
                reader,
                "--port",
                "0",
                "--receipts",
                str(receipts),
                "--assets",
                str(write_assets(tmp_path / "assets")),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=REPO,
        )
    try:
        assert web.stdout is not None
        line = web.stdout.readline().decode()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, line + output.read_text()
        yield VoterWeb(
            board_url, election, found.group(0).rstrip("/"), codes, receipts, output, fingerprint
        )
    finally:
        web.terminate()
        web.wait(10)


def scan(page: Page, step: str) -> None:
    """axe-core on this page: no WCAG 2.1 A/AA violation; a screenshot for the record."""
    page.add_script_tag(path=str(axe_script()))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(WCAG_TAGS)
    )
    problems = [
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})"
        for v in result["violations"]
    ]
    assert not problems, f"{step}: " + "; ".join(problems)
    assert len(result["passes"]) > 10, f"{step}: axe checked almost nothing"
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{step}: too wide"
    lang = page.locator("html").get_attribute("lang")
    page.screenshot(path=str(SHOTS / f"{step}-{lang}-{width}.png"), full_page=True)


def scan_all(page: Page, step: str) -> None:
    """The current page in Japanese and English, on a desktop and on a phone screen."""
    url = urlsplit(page.url)
    query = [(k, v) for k, v in parse_qsl(url.query) if k != "lang"]
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        for lang in ("en", "ja"):
            page.goto(url._replace(query=urlencode([*query, ("lang", lang)])).geturl())
            expect(page.locator("#error")).to_have_count(0)
            scan(page, step)
    page.set_viewport_size(DESKTOP)


def start(page: Page, web: VoterWeb, code: str) -> None:
    """Election list → voting code, by keyboard where a voter would type."""
    page.goto(f"{web.url}/?lang=ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("選挙を選んでください")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_role("button", name="この選挙で投票する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票コードを入力してください")
    page.get_by_label("投票コード").focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def choose(page: Page, mayor: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("投票先を選んでください")
    page.get_by_label(mayor).check()
    page.get_by_label("佐藤 美咲").check()
    page.get_by_label("高橋 陽子").check()
    page.get_by_label("駅前広場").select_option("1")
    page.get_by_label("北部の森").select_option("2")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票内容の確認")


def sign_and_cast(page: Page, password: str = PASSWORD) -> None:
    page.get_by_role("link", name="カードで本人確認へ進む").click()
    expect(page.get_by_text("あと5回まちがえるとロックされます")).to_be_visible()
    page.get_by_label("署名用パスワード").fill(password)
    page.get_by_role("button", name="カードで署名する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票します")
    page.get_by_role("button", name="この内容で投票する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票が完了しました")


def scan_here(page: Page, step: str) -> None:
    """A page that answers a POST (opening it again would discard the vote): scanned where it
    is, on a desktop and on a phone screen."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        scan(page, step)
    page.set_viewport_size(DESKTOP)


def test_a_whole_vote_with_receipt_check(page: Page, voter_web: VoterWeb) -> None:
    web = voter_web
    page.goto(f"{web.url}/?lang=ja")
    scan_all(page, "1-elections")
    page.get_by_role("button", name="この選挙で投票する").click()
    scan_all(page, "2-code")
    page.goto(f"{web.url}/")
    start(page, web, web.codes[0])
    expect(page.get_by_role("img", name="佐藤 美咲の写真")).to_be_visible()
    page.get_by_label("青木 一郎").focus()  # a radio group by keyboard, the focus visible
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("石田 花子")).to_be_checked()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    scan_all(page, "3-choose")
    choose(page, "石田 花子")
    review = page.locator("dl.review")
    expect(review).to_contain_text("石田 花子")
    expect(review).to_contain_text("1位：駅前広場")
    tracker = page.locator("code.tracker").inner_text()
    expect(page.locator("#revote")).to_contain_text("前の票の代わりに")
    scan_all(page, "4-review")
    page.get_by_role("link", name="カードで本人確認へ進む").click()
    expect(page.get_by_text("あと5回まちがえるとロックされます")).to_be_visible()
    scan_all(page, "5-card")
    size = web.size()
    page.get_by_label("署名用パスワード").fill(PASSWORD.lower())
    page.get_by_role("button", name="カードで署名する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票します")
    assert web.size() == size  # signed, not sent
    scan_here(page, "6-cast")
    page.get_by_role("button", name="この内容で投票する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票が完了しました")
    expect(page.locator("#done")).to_have_text("投票が完了しました。カードを抜いてください。")
    expect(page.locator("#replaced")).to_have_text("これはこの選挙でのあなたの最初の票です。")
    expect(page.locator("code.tracker")).to_have_text(tracker)  # the code of the review
    assert web.size() == size + 1
    scan_here(page, "7-receipt")
    (receipt,) = web.receipts.glob("*.json")
    assert json.loads(receipt.read_text())["format"] == "tohyo-receipt/2"
    page.get_by_role("button", name="票が記録されているか確かめる").click()
    expect(page.locator("#check-result")).to_contain_text("あなたの票は記録に含まれて")
    expect(page.locator("code.tracker")).to_have_text(tracker)  # and of the receipt
    scan_here(page, "8-check")
    page.goto(f"{web.url}/receipts")
    page.get_by_label("受領証のファイル").set_input_files(str(receipt))
    page.get_by_role("button", name="票が記録されているか確かめる").click()
    expect(page.locator("code.tracker")).to_have_text(tracker)  # a chosen file: the same
    page.goto(f"{web.url}/receipts")
    scan_all(page, "9-receipts")
    assert PASSWORD not in web.logs() and web.codes[0] not in web.logs()


def test_wrong_password_and_wrong_code_send_nothing(page: Page, voter_web: VoterWeb) -> None:
    web = voter_web
    size = web.size()
    start(page, web, "1234")
    expect(page.locator("#error")).to_contain_text("投票コードの形式が正しくありません")
    expect(page.locator("#error")).to_be_focused()
    scan(page, "e1-code-format")
    page.get_by_label("投票コード").fill("AAAA-AAAA-AAAA-AAAA")  # well formed, not issued
    page.get_by_role("button", name="次へ").click()
    # said before the choices, by the registrar; the typed code stays to be corrected
    expect(page.locator("#error")).to_contain_text("投票コードがこの選挙のものではありません")
    expect(page.get_by_role("heading", level=1)).to_have_text("投票コードを入力してください")
    expect(page.get_by_label("投票コード")).to_have_value("AAAA-AAAA-AAAA-AAAA")
    scan_here(page, "e3-wrong-code")
    page.get_by_label("投票コード").fill(web.codes[1].replace("-", "ー"))  # the IME's dash
    page.get_by_role("button", name="次へ").click()
    choose(page, "青木 一郎")
    page.get_by_role("link", name="カードで本人確認へ進む").click()
    page.get_by_label("署名用パスワード").fill("WRONG1")
    page.get_by_role("button", name="カードで署名する").click()
    expect(page.locator("#error")).to_contain_text("パスワードがちがいます。あと4回")
    assert "WRONG1" not in page.content()
    expect(page.get_by_label("署名用パスワード")).to_have_value("")
    scan(page, "e2-wrong-password")
    page.set_viewport_size(PHONE)
    scan(page, "e2-wrong-password")
    page.set_viewport_size(DESKTOP)
    # the choices were kept through the refusals: the right password casts them
    page.get_by_label("署名用パスワード").fill(PASSWORD)
    page.get_by_role("button", name="カードで署名する").click()
    expect(page.locator("dl.review")).to_contain_text("青木 一郎")
    assert web.size() == size
    page.get_by_role("button", name="この内容で投票する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票が完了しました")
    assert web.size() == size + 1
    assert "WRONG1" not in web.logs() and PASSWORD not in web.logs()


def test_benaloh_check_then_cast_afresh(page: Page, voter_web: VoterWeb, tmp_path: Path) -> None:
    web = voter_web
    size = web.size()
    start(page, web, web.codes[0])
    choose(page, "上野 健")
    tracker = page.locator("code.tracker").inner_text()
    page.get_by_role("button", name="投票せずにこの暗号化を確かめる").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("暗号化の確認結果")
    expect(page.locator(".box.ok")).to_contain_text("mayor (つくば市長): 上野 健")
    expect(page.locator(".box.ok")).to_contain_text("1. 駅前広場, 2. 北部の森")
    scan_all(page, "a1-audit")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("確認用ファイルをダウンロード")).click()
    audit = tmp_path / "audit.json"
    download.value.save_as(audit)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tohyo",
            "verify",
            "ballot",
            str(audit),
            "--board",
            web.board,
            "--fingerprint",
            web.fingerprint,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0 and "上野 健" in proc.stdout, proc.stdout + proc.stderr
    assert web.size() == size  # the spoiled ballot was never sent
    page.get_by_role("link", name="新しく暗号化して投票に進む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票内容の確認")
    assert page.locator("code.tracker").inner_text() != tracker
    sign_and_cast(page)
    assert web.size() == size + 1


def test_revote_said_before_and_after(page: Page, voter_web: VoterWeb) -> None:
    web = voter_web
    for mayor, replaced in (("青木 一郎", "最初の票"), ("石田 花子", "前に投票した票の代わり")):
        start(page, web, web.codes[0])
        choose(page, mayor)
        expect(page.locator("#revote")).to_contain_text("あとから投票すると、前の票の代わりに")
        page.get_by_role("link", name="カードで本人確認へ進む").click()
        page.get_by_label("署名用パスワード").fill(PASSWORD)
        page.get_by_role("button", name="カードで署名する").click()
        expect(page.locator("#revote")).to_contain_text("前の票の代わりに")
        page.get_by_role("button", name="この内容で投票する").click()
        expect(page.locator("#replaced")).to_contain_text(replaced)
    scan_here(page, "r1-revote-receipt")
    assert len(list(web.receipts.glob("*.json"))) == 2


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_next_person_at_a_shared_browser_finds_nothing(
    browser: Browser, voter_web: VoterWeb, size: dict[str, int]
) -> None:
    """Voter A signs and closes the tab; the next person opens /cast in the same browser:
    nothing of A's is shown or castable, and it is said that A's unfinished vote was
    cleared. After A casts and closes the tab, neither A's choices nor receipt is reachable.
    The voting code is typed with the IME's long dash and a full-width space."""
    web = voter_web
    context = browser.new_context(viewport=size, bypass_csp=True)
    try:
        before = web.size()
        a = context.new_page()
        start(a, web, web.codes[0].replace("-", "ー", 2).replace("-", "\u3000"))
        choose(a, "石田 花子")
        a.get_by_role("link", name="カードで本人確認へ進む").click()
        a.get_by_label("署名用パスワード").fill(PASSWORD)
        a.get_by_role("button", name="カードで署名する").click()
        expect(a.get_by_role("heading", level=1)).to_have_text("投票します")
        a.close()
        for lang, cleared in (("ja", "前の投票の途中の内容"), ("en", None)):
            b = context.new_page()
            b.goto(f"{web.url}/cast?lang={lang}")
            if cleared:
                expect(b.locator("#notice")).to_contain_text(cleared)
            expect(b.get_by_role("button")).to_have_count(0)  # nothing to press
            assert "石田 花子" not in b.content()
            scan(b, "s1-next-person")
            for path in ("/review", "/card", "/choose", "/receipt", "/receipts"):
                b.goto(web.url + path)
                assert "石田 花子" not in b.content(), path
            b.close()
        assert web.size() == before
        # A votes to the end and closes the tab: the receipt is not reachable either
        a = context.new_page()
        start(a, web, web.codes[0])
        choose(a, "石田 花子")
        sign_and_cast(a)
        tracker = a.locator("code.tracker").inner_text()
        a.close()
        b = context.new_page()
        for path in ("/receipt", "/cast", "/review", "/receipts", "/check", "/"):
            b.goto(web.url + path)
            assert tracker not in b.content() and "石田 花子" not in b.content(), path
        b.close()
        assert web.size() == before + 1
    finally:
        context.close()


@pytest.fixture
def web_without_card(
    tmp_path: Path,
    test_ca: Any,
    monkeypatch: pytest.MonkeyPatch,
    issue: Callable[..., IssuedCard],
    insert: Callable[..., str],
) -> Iterator[tuple[VoterWeb, Callable[[], str]]]:
    """`vote web` on a reader with no card in it yet; the second value inserts the card."""
    from jpki_pcsc_support import reader_name

    for web in _web_on_board(tmp_path, test_ca, monkeypatch, "web-late-card", reader_name(1)):
        yield web, lambda: insert(issue(HANAKO, label="web-hanako-late"), slot=1)


def test_no_card_then_the_card_keeps_the_code_and_choices(
    page: Page, web_without_card: tuple[VoterWeb, Callable[[], str]]
) -> None:
    """No card in the reader: the page says so in plain words, with what to do and a way back
    to the step; once the card is in, "try again" goes on with the same code and choices."""
    web, put_card = web_without_card
    size = web.size()
    start(page, web, web.codes[0])
    choose(page, "石田 花子")
    page.get_by_role("link", name="カードで本人確認へ進む").click()
    expect(page.locator("#error")).to_contain_text("カードが読み取れません")
    expect(page.locator("#next")).to_contain_text("投票所で投票することもできます")
    scan_here(page, "e4-no-card")
    put_card()
    page.get_by_role("link", name="もう一度試す").click()
    expect(page.get_by_text("あと5回まちがえるとロックされます")).to_be_visible()
    page.get_by_label("署名用パスワード").fill(PASSWORD)
    page.get_by_role("button", name="カードで署名する").click()
    expect(page.locator("dl.review")).to_contain_text("石田 花子")  # the choices were kept
    page.get_by_role("button", name="この内容で投票する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投票が完了しました")
    assert web.size() == size + 1
