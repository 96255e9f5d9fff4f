"""`tohyo vote web`: the voter's accessible web pages, served on the voter's own machine.

The flow of `tohyo vote cast` in a browser: election → voting code → choices → review (or a
Benaloh check of the encryption) → card password → one "cast" button → receipt → receipt
check. The election comes from the launch configuration's fingerprint
(`verifier.fetch.pinned_board`); its short form is shown for the voter to compare with the
letter, and a cast is done only once its receipt is checked against the voter's ballot.
Pages render on the server (Jinja2, no build step, no outside resources); the card is reached
through the local PC/SC reader. Every POST carries the session's CSRF token; the password goes
only to the card and the voting code only to the board, never to a log, a URL, a file or back
into a page.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jinja2
from aiohttp import web
from markupsafe import Markup

from bulletin_board.client import BoardRefusedError
from bulletin_board.receipt import Receipt
from jpki.apdu import ApduError
from jpki.card import PinBlockedError, WrongPinError
from jpki.pins import PinFormatError
from jpki.reasons import Reason
from jpki.transport import TransportError
from jpki.voting_codes import normalize_voting_code
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from verifier.audit import verify_audit
from voter_client.ballot import audit_record, encrypt_ballot
from voter_client.session import (
    CastRefused,
    ElectionInfo,
    NotRecorded,
    cast,
    check_receipt,
    fetch_election,
    save_receipt,
)
from voter_client.web_card import CardOpener, NoReaderError, sign_ballot, tries_left
from voter_client.web_form import ChoiceError, choices_from_form, describe, form_values, rule_words
from voter_client.web_state import AuditOutcome, Cast, SessionStore, VoterState
from voter_client.web_text import LANGS, reason_text, text

__all__ = ["WebConfig", "make_app", "serve"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "tohyo_session"
LANG_COOKIE = "tohyo_lang"
PACKAGE = Path(__file__).parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
STATE_KEY = web.AppKey("state_store", SessionStore)
HOST_KEY = web.AppKey("host", str)
VOTER_KEY = web.RequestKey("voter", VoterState)


@dataclass(frozen=True)
class WebConfig:
    board: str
    election: str
    fingerprint: bytes  # the election's, from the launch configuration (never the board)
    receipts: Path = Path("receipts")
    assets: Path | None = None


class PageError(Exception):
    """Show the error page: a message key of `web_text` with its values, and an HTTP status."""

    def __init__(self, key: str, status: int = 400, **values: Any) -> None:
        self.key, self.status, self.values = key, status, values
        super().__init__(key)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PACKAGE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


@jinja2.pass_context
def _native(context: Any, text: object) -> Markup:
    """The election's own words (names, titles), marked as Japanese on a page in another
    language, so that a screen reader reads them in Japanese."""
    value = str(text)
    if context.get("lang") != "ja" and _JAPANESE.search(value):
        return Markup('<span lang="ja">{}</span>').format(value)
    return Markup.escape(value)


_templates.globals["native"] = _native


def _lang(request: web.Request) -> str:
    wanted = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "ja")
    return wanted if wanted in LANGS else "ja"


def _state(request: web.Request) -> VoterState:
    return request[VOTER_KEY]


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page in the voter's language, with the words, the CSRF token and the step shown."""
    lang = _lang(request)
    page = _templates.get_template(template).render(
        t=text(lang),
        lang=lang,
        switch_url=str(request.rel_url.update_query(lang=text(lang)["switch_lang"])),
        csrf=_state(request).csrf,
        error=values.pop("error", None),
        **values,
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Local host names only (no DNS rebinding), a session per browser, safe headers."""
    if request.url.host not in LOCAL_HOSTS | {request.app[HOST_KEY]}:
        return web.Response(status=421, text="misdirected request")
    store = request.app[STATE_KEY]
    sid = request.cookies.get(SESSION_COOKIE)
    state = store.get(sid)
    fresh = state is None
    if state is None:
        sid, state = store.new()
    request[VOTER_KEY] = state
    try:
        response = await handler(request)
    except PageError as exc:
        response = render(
            request,
            "error.html",
            exc.status,
            error=text(_lang(request))[exc.key].format(**exc.values),
        )
    except web.HTTPSeeOther as exc:
        response = web.Response(status=exc.status, headers={"Location": str(exc.location)})
    except web.HTTPNotFound:
        response = render(request, "error.html", 404, error=text(_lang(request))["not_found"])
    response.headers.update(HEADERS)
    if fresh:
        response.set_cookie(SESSION_COOKIE, sid or "", httponly=True, samesite="Strict", path="/")
    if "lang" in request.query and request.query["lang"] in LANGS:
        response.set_cookie(
            LANG_COOKIE, request.query["lang"], samesite="Strict", path="/", max_age=365 * 86400
        )
    return response


async def _form(request: web.Request) -> dict[str, list[str]]:
    """The POSTed fields, once the CSRF token is checked."""
    data = await request.post()
    token = data.get("csrf")
    if not isinstance(token, str) or not _state(request).csrf_ok(token):
        raise PageError("csrf", 403)
    fields: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    return fields


def _redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


class VoterPages:
    """The handlers; `board` is reached with `voter_client.session`, the card with `opener`."""

    def __init__(self, config: WebConfig, opener: CardOpener) -> None:
        self.config, self.opener = config, opener
        self._card = asyncio.Lock()

    # ---- the board -----------------------------------------------------------------------
    async def _board(self, work: Awaitable[Any]) -> Any:
        """Await a call to the board; unreachable or failing a check becomes a PageError."""
        try:
            return await work
        except NotRecorded:
            raise  # the cast's own page says it, with the evidence
        except VerificationError as exc:
            raise PageError("board_bad", 502, detail=str(exc)) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("board unreachable: %s", type(exc).__name__)
            raise PageError("board_unreachable", 502, board=self.config.board) from exc

    async def _open_elections(self) -> list[ElectionInfo]:
        try:
            info = await fetch_election(self.config.board, self.config.election,
                                        self.config.fingerprint)
        except (DecodeError, BoardRefusedError):
            return []  # not (or no longer) an election on this board
        return [info] if info.phase == "voting" and info.pk is not None else []

    # ---- election and voting code ----------------------------------------------------------
    async def elections(self, request: web.Request) -> web.Response:
        infos = await self._board(self._open_elections())
        return render(request, "elections.html", step="election", elections=infos)

    async def choose_election(self, request: web.Request) -> web.Response:
        form = await _form(request)
        election = (form.get("election") or [""])[0]
        infos = await self._board(self._open_elections())
        found = [i for i in infos if i.election == election]
        if not found:
            raise PageError("not_voting", 400)
        state = _state(request)
        state.start(found[0])
        if found[0].manifest.eligibility.voting_codes == "none":
            raise _redirect("/choose")
        raise _redirect("/code")

    def _info(self, request: web.Request) -> ElectionInfo:
        info = _state(request).info
        if info is None:
            raise _redirect("/")
        return info

    async def code_page(self, request: web.Request) -> web.Response:
        self._info(request)
        return render(request, "code.html", step="code")

    async def enter_code(self, request: web.Request) -> web.Response:
        form = await _form(request)
        self._info(request)
        try:
            code = normalize_voting_code((form.get("code") or [""])[0])
        except ValueError:
            return render(
                request,
                "code.html",
                400,
                step="code",
                error=text(_lang(request))["code_bad_format"],
            )
        state = _state(request)
        state.code = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
        raise _redirect("/review" if state.choices is not None else "/choose")

    def _need_code(self, request: web.Request) -> ElectionInfo:
        info = self._info(request)
        if _state(request).code is None and info.manifest.eligibility.voting_codes != "none":
            raise _redirect("/code")
        return info

    # ---- choices, review, audit -------------------------------------------------------------
    def _choose(
        self,
        request: web.Request,
        status: int,
        values: dict[str, str],
        error: str | None = None,
        failed: str = "",
    ) -> web.Response:
        info = self._info(request)
        lang = _lang(request)
        rules = {c.id: rule_words(c, lang) for c in info.manifest.contests}
        return render(
            request,
            "choose.html",
            status,
            step="choose",
            manifest=info.manifest,
            rules=rules,
            values=values,
            error=error,
            failed=failed,
            assets=self.config.assets is not None,
        )

    async def choose_page(self, request: web.Request) -> web.Response:
        info = self._need_code(request)
        choices = _state(request).choices or {}
        return self._choose(request, 200, form_values(info.manifest, choices))

    async def submit_choices(self, request: web.Request) -> web.Response:
        form = await _form(request)
        info = self._need_code(request)
        try:
            choices = choices_from_form(info.manifest, form, _lang(request))
        except ChoiceError as exc:
            return self._choose(request, 400, _echo(form), str(exc), exc.contest)
        state = _state(request)
        state.choices = choices
        state.drop_ballot()
        raise _redirect("/review")

    async def _encrypted(self, request: web.Request) -> Any:
        info = self._need_code(request)
        state = _state(request)
        if state.choices is None:
            raise _redirect("/choose")
        if state.encrypted is None:
            assert info.pk is not None
            state.encrypted = await asyncio.to_thread(
                encrypt_ballot, info.manifest, info.pk, state.choices
            )
        return state.encrypted

    async def review_page(self, request: web.Request) -> web.Response:
        encrypted = await self._encrypted(request)
        info = self._info(request)
        state = _state(request)
        assert state.choices is not None
        words = describe(info.manifest, state.choices, _lang(request))
        tracker = encrypted.ballot.hash(info.manifest.fingerprint()).hex()[:24]
        return render(
            request,
            "review.html",
            step="review",
            manifest=info.manifest,
            words=words,
            tracker=_groups(tracker),
        )

    async def spoil(self, request: web.Request) -> web.Response:
        await _form(request)
        encrypted = await self._encrypted(request)
        info = self._info(request)
        assert info.pk is not None
        data = canonical_json(audit_record(info.manifest, info.pk, encrypted))
        state = _state(request)
        state.drop_ballot()
        try:
            state.audit = AuditOutcome(data, await asyncio.to_thread(
                verify_audit, data, info.manifest, info.pk))
        except VerificationError as exc:
            state.audit = AuditOutcome(data, None, f"{exc.check}: {exc.detail}")
        raise _redirect("/audit")

    async def audit_page(self, request: web.Request) -> web.Response:
        audit = _state(request).audit
        if audit is None:
            raise _redirect("/review")
        return render(request, "audit.html", step="review", audit=audit)

    async def audit_file(self, request: web.Request) -> web.Response:
        state = _state(request)
        if state.audit is None or state.info is None:
            raise web.HTTPNotFound()
        name = f"{state.info.election}-audit.json"
        return web.Response(
            body=state.audit.data,
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # ---- card --------------------------------------------------------------------------------
    async def _card_call(self, request: web.Request, work: Callable[[], Any]) -> Any:
        """Run `work` on the card in a thread; reader and card trouble become a PageError."""
        async with self._card:
            try:
                return await asyncio.to_thread(work)
            except NoReaderError as exc:
                raise PageError("no_reader", 503) from exc
            except TransportError as exc:
                raise PageError("no_card", 503) from exc
            except PinFormatError:
                raise
            except ValueError as exc:  # an answer of the card that does not parse
                raise PageError("no_card", 503) from exc

    async def card_page(self, request: web.Request) -> web.Response:
        await self._encrypted(request)
        return await self._card_form(request, 200)

    async def _card_form(
        self, request: web.Request, status: int, error: str | None = None
    ) -> web.Response:
        lang = _lang(request)
        try:
            left = await self._card_call(request, lambda: tries_left(self.opener))
        except ApduError:
            left, error = None, reason_text(lang, Reason.CARD_ERROR)
        if left == 0:
            return render(
                request, "error.html", 403, error=reason_text(lang, Reason.PASSWORD_BLOCKED)
            )
        return render(request, "card.html", status, step="card", tries=left, error=error)

    async def sign(self, request: web.Request) -> web.Response:
        form = await _form(request)
        encrypted = await self._encrypted(request)
        info = self._info(request)
        lang = _lang(request)
        password = (form.pop("password", None) or [""])[0]
        if not password:
            return await self._card_form(request, 400, text(lang)["password_empty"])
        try:
            signed = await self._card_call(
                request, lambda: sign_ballot(self.opener, password, info.manifest, encrypted)
            )
        except WrongPinError as exc:
            error = reason_text(lang, Reason.WRONG_PASSWORD, exc.tries_left)
            return await self._card_form(request, 400, error)
        except PinBlockedError:
            return render(
                request, "error.html", 403, error=reason_text(lang, Reason.PASSWORD_BLOCKED)
            )
        except PinFormatError:
            return await self._card_form(request, 400, text(lang)["password_format"])
        except ApduError:
            return await self._card_form(request, 503, reason_text(lang, Reason.CARD_ERROR))
        _state(request).signed = signed
        raise _redirect("/cast")

    # ---- cast and receipts -------------------------------------------------------------------
    async def cast_page(self, request: web.Request) -> web.Response:
        state = _state(request)
        if state.signed is None:
            raise _redirect("/card")
        info = self._info(request)
        assert state.choices is not None
        words = describe(info.manifest, state.choices, _lang(request))
        return render(request, "cast.html", step="cast", manifest=info.manifest, words=words)

    async def cast_ballot(self, request: web.Request) -> web.Response:
        await _form(request)
        state = _state(request)
        info = self._info(request)
        if state.signed is None or state.encrypted is None:
            raise _redirect("/card")
        certificate, signature = state.signed
        encrypted = state.encrypted
        try:
            doc = await self._board(
                cast(self.config.board, info, encrypted, certificate, signature,
                     state.code or "")
            )
        except CastRefused as exc:
            return self._refused(request, exc)
        except NotRecorded as exc:
            state.signed = None
            state.drop_ballot()
            path = self.config.receipts / f"{info.election}-NOT-RECORDED.json"
            await asyncio.to_thread(_write, path, canonical_json(exc.evidence))
            raise PageError("not_recorded", 502, check=exc.check, file=path.name) from exc
        receipt = Receipt.from_json(doc["receipt"])
        path = self.config.receipts / f"{info.election}-{receipt.index}.json"
        await asyncio.to_thread(save_receipt, path, doc, info, self.config.board,
                                encrypted.ballot.to_json())
        state.cast = Cast(
            path, receipt.index, receipt.entry_hash.hex(), bool(doc["replaced_earlier_ballot"])
        )
        state.code, state.choices = None, None
        state.drop_ballot()
        raise _redirect("/receipt")

    def _refused(self, request: web.Request, exc: CastRefused) -> web.Response:
        lang = _lang(request)
        state = _state(request)
        state.signed = None
        try:
            detail = reason_text(lang, Reason(exc.reason))
        except ValueError:
            detail = exc.detail or exc.code
        if exc.reason in (Reason.VOTING_CODE_UNKNOWN, Reason.VOTING_CODE_USED):
            state.code = None
            return render(
                request,
                "code.html",
                exc.status,
                step="code",
                error=text(lang)["refused"].format(detail=detail),
            )
        return render(
            request, "error.html", exc.status, error=text(lang)["refused"].format(detail=detail)
        )

    async def receipt_page(self, request: web.Request) -> web.Response:
        done = _state(request).cast
        if done is None:
            raise _redirect("/receipts")
        return render(request, "receipt.html", step="receipt", cast=done)

    def _receipt_files(self) -> list[str]:
        folder = self.config.receipts
        return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []

    def _receipt_path(self, name: str) -> Path:
        if name not in self._receipt_files():
            raise web.HTTPNotFound()
        return self.config.receipts / name

    async def receipts_page(self, request: web.Request) -> web.Response:
        return render(request, "receipts.html", step="receipt", files=self._receipt_files())

    async def receipt_file(self, request: web.Request) -> web.Response:
        path = self._receipt_path(request.match_info["name"])
        return web.Response(
            body=path.read_bytes(),
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
        )

    async def check_page(self, request: web.Request) -> web.Response:
        path = self._receipt_path(request.query.get("name", ""))
        lang = _lang(request)
        t = text(lang)
        try:
            result = await self._board(check_receipt(path))
        except DecodeError as exc:
            raise PageError("not_found", 400) from exc
        index = Receipt.from_json(parse_canonical_json(path.read_bytes())["receipt"]).index
        words = {
            "included": t["check_ok"].format(index=index),
            "forked": t["check_forked"],
            "forged": t["check_forged"],
            "not_yours": t["check_not_yours"],
        }.get(result.kind, t["check_missing"])
        return render(
            request, "check.html", step="receipt", name=path.name, ok=result.included, words=words
        )


def _echo(form: dict[str, list[str]]) -> dict[str, str]:
    """Form fields as `form_values` shapes them, to show a refused form again."""
    values: dict[str, str] = {}
    for key, items in form.items():
        if key.startswith("c."):
            values.update({f"{key}.{v}": "1" for v in items})
        elif key.startswith(("r.", "blank.")):
            values[key] = items[0]
    return values


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _groups(hex_text: str) -> str:
    return " ".join(hex_text[i : i + 4] for i in range(0, len(hex_text), 4))


def make_app(config: WebConfig, opener: CardOpener, host: str = "127.0.0.1") -> web.Application:
    """The voter's web app (no listening socket: `serve` or a test client adds one)."""
    app = web.Application(middlewares=[_guard], client_max_size=64 * 1024)
    app[STATE_KEY] = SessionStore()
    app[HOST_KEY] = host
    pages = VoterPages(config, opener)
    routes = [
        web.get("/", pages.elections),
        web.post("/election", pages.choose_election),
        web.get("/code", pages.code_page),
        web.post("/code", pages.enter_code),
        web.get("/choose", pages.choose_page),
        web.post("/choose", pages.submit_choices),
        web.get("/review", pages.review_page),
        web.post("/audit", pages.spoil),
        web.get("/audit", pages.audit_page),
        web.get("/audit/file", pages.audit_file),
        web.get("/card", pages.card_page),
        web.post("/card", pages.sign),
        web.get("/cast", pages.cast_page),
        web.post("/cast", pages.cast_ballot),
        web.get("/receipt", pages.receipt_page),
        web.get("/receipts", pages.receipts_page),
        web.get("/receipts/{name}", pages.receipt_file),
        web.get("/check", pages.check_page),
    ]
    app.add_routes(routes)
    app.router.add_static("/static", PACKAGE / "static")
    if config.assets is not None:
        app.router.add_static("/assets", config.assets)
    return app


async def serve(config: WebConfig, opener: CardOpener, host: str, port: int) -> None:
    """Serve until cancelled; prints the address to open (port 0 picks a free one)."""
    runner = web.AppRunner(make_app(config, opener, host), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    shown = f"[{host}]" if ":" in host else host
    print(f"tohyo voter web UI: open http://{shown}:{bound}/ in your browser", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
