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

A browser may be shared (`web_state`): the cast page is only ever the answer to the card
step, and opening any page discards a signed ballot not yet cast (opening the cast page
itself, as the next person at a public terminal would, forgets the whole vote); the start
page forgets a vote in progress; the receipt is the answer to the cast, after which the vote
is forgotten. Each of these is said on the page that follows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
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
from election.period import outside_voting_period
from jpki.apdu import ApduError
from jpki.card import PinBlockedError, WrongPinError
from jpki.pins import PinFormatError
from jpki.reasons import Reason
from jpki.transport import TransportError
from jpki.voting_codes import normalize_voting_code
from mixnet.encoding import canonical_json
from mixnet.errors import DecodeError, VerificationError
from verifier.audit import verify_audit
from voter_client.ballot import audit_record, encrypt_ballot, tracking_code
from voter_client.session import (
    CastRefused,
    CodeChecksBusy,
    ElectionInfo,
    NotRecorded,
    cast,
    check_receipt_record,
    check_voting_code,
    fetch_election,
    find_ballot,
    read_receipt_bytes,
    save_receipt,
)
from voter_client.web_card import CardOpener, NoReaderError, sign_ballot, tries_left
from voter_client.web_form import ChoiceError, choices_from_form, describe, form_values, rule_words
from voter_client.web_state import AuditOutcome, Cast, SessionStore, VoterState
from voter_client.web_text import LANGS, reason_text, text, when

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
RECEIPT_LIMIT = 1024 * 1024  # a receipt file chosen for checking
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
    """Show the error page: a message key of `web_text` with its values, an HTTP status and
    the step to go back to (`back`, a path of this app; nothing of the vote is forgotten)."""

    def __init__(
        self, key: str, status: int = 400, back: str = "", details: str = "", **values: Any
    ) -> None:
        self.key, self.status, self.back, self.values = key, status, back, values
        self.details = details  # for the curious, in a 詳しい情報 disclosure
        super().__init__(key)


#: GET pages that show a step of the vote; opening one discards a signed ballot not yet cast
PAGES = frozenset(
    {"/", "/code", "/choose", "/review", "/audit", "/card", "/cast", "/receipt", "/receipts"}
)


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
_templates.globals["when"] = when


def _lang(request: web.Request) -> str:
    wanted = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "ja")
    return wanted if wanted in LANGS else "ja"


def _state(request: web.Request) -> VoterState:
    return request[VOTER_KEY]


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page in the voter's language, with the words, the CSRF token and the step shown (and
    the session's one-time notice). A page that answers a POST switches language on the
    step's own page."""
    lang = _lang(request)
    state = _state(request)
    notice, state.notice = state.notice, ""
    switch = (
        request.rel_url
        if request.method == "GET"
        else request.rel_url.with_path(values.pop("switch_path", "/"))
    )
    page = _templates.get_template(template).render(
        t=text(lang),
        lang=lang,
        switch_url=str(switch.update_query(lang=text(lang)["switch_lang"])),
        csrf=state.csrf,
        error=values.pop("error", None),
        notice=text(lang)[notice] if notice else "",
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
    if request.method == "GET" and request.path in PAGES:
        _leave_unfinished(request.path, state)
    try:
        response = await handler(request)
    except PageError as exc:
        response = error_page(request, exc)
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


def _leave_unfinished(path: str, state: VoterState) -> None:
    """A page was opened: a signed ballot not cast is discarded; the cast page opened (a reload,
    or the next person at this browser) and the start page forget the whole vote."""
    if path in ("/", "/cast") and (state.in_progress() or state.signed is not None):
        state.forget()
        state.notice = "vote_forgotten"
    elif state.drop_signature():
        state.notice = "signed_discarded"


def error_page(request: web.Request, exc: PageError) -> web.Response:
    """What happened, what to do next, and the step to go back to (the vote is kept)."""
    t = text(_lang(request))
    back = exc.back or (request.path if request.method == "GET" else "/")
    return render(
        request,
        "error.html",
        exc.status,
        error=t[exc.key].format(**exc.values),
        back=back,
        again=back == request.path,
        switch_path=back,
        details=exc.details,
    )


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
        """Await a read of the board; unreachable or failing a check becomes a PageError."""
        try:
            return await work
        except VerificationError as exc:
            raise PageError("board_bad", 502, details=str(exc)) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("board unreachable: %s", type(exc).__name__)
            raise PageError("board_unreachable", 502) from exc

    async def _open_elections(self) -> list[ElectionInfo]:
        try:
            info = await fetch_election(
                self.config.board, self.config.election, self.config.fingerprint
            )
        except (DecodeError, BoardRefusedError):
            return []  # not (or no longer) an election on this board
        m = info.manifest  # open: its phase, and now (this device's clock) in its period
        now = dt.datetime.now(dt.UTC)
        if (
            info.phase == "voting"
            and info.pk is not None
            and not outside_voting_period(m.voting_start, m.voting_end, now)
        ):
            return [info]
        return []

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
        return render(request, "code.html", step="code", typed="")

    async def enter_code(self, request: web.Request) -> web.Response:
        form = await _form(request)
        self._info(request)
        typed = (form.get("code") or [""])[0][:64]
        try:
            code = normalize_voting_code(typed)
        except ValueError:
            return render(
                request,
                "code.html",
                400,
                step="code",
                typed=typed,
                error=text(_lang(request))["code_bad_format"],
                switch_path="/code",
            )
        state = _state(request)
        info = self._info(request)
        lang = _lang(request)
        try:
            known = await check_voting_code(self.config.board, info.election, code)
        except CodeChecksBusy:
            return render(
                request,
                "code.html",
                429,
                step="code",
                typed=typed,
                error=text(lang)["code_busy"],
                switch_path="/code",
            )
        if known is False:
            return render(
                request,
                "code.html",
                400,
                step="code",
                typed=typed,
                error=reason_text(lang, Reason.VOTING_CODE_UNKNOWN),
                switch_path="/code",
            )
        state.code = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
        if state.signed is not None:  # a refused code, corrected: the same cast goes on
            return self._cast_form(request)
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
        return render(
            request,
            "review.html",
            step="review",
            manifest=info.manifest,
            words=words,
            tracker=tracking_code(encrypted.ballot.to_json()),
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
            state.audit = AuditOutcome(
                data, await asyncio.to_thread(verify_audit, data, info.manifest, info.pk)
            )
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
                raise PageError("no_reader", 503, back="/card") from exc
            except TransportError as exc:
                raise PageError("no_card", 503, back="/card") from exc
            except PinFormatError:
                raise
            except ValueError as exc:  # an answer of the card that does not parse
                raise PageError("no_card", 503, back="/card") from exc

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
            return _blocked(request)
        return render(
            request, "card.html", status, step="card", tries=left, error=error, switch_path="/card"
        )

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
            return _blocked(request)
        except PinFormatError:
            return await self._card_form(request, 400, text(lang)["password_format"])
        except ApduError:
            return await self._card_form(request, 503, reason_text(lang, Reason.CARD_ERROR))
        refusal = card_ineligible(info.manifest, signed[0])
        if refusal is not None:  # said now, not after the cast button (the registrar decides)
            return render(
                request,
                "error.html",
                403,
                back="/",
                again=False,
                switch_path="/card",
                error=reason_text(lang, refusal),
            )
        _state(request).keep_signed(signed)
        return self._cast_form(request)

    # ---- cast and receipts -------------------------------------------------------------------
    def _cast_form(
        self,
        request: web.Request,
        status: int = 200,
        error: str | None = None,
        unsure: bool = False,
    ) -> web.Response:
        """The cast page: only ever the answer to a POST, with the signed ballot's one-time
        token (`VoterState.keep_signed`); `unsure`: ask the board first, send nothing."""
        state = _state(request)
        info = self._info(request)
        assert state.choices is not None and state.signed is not None
        token = state.keep_signed(state.signed)
        words = describe(info.manifest, state.choices, _lang(request))
        return render(
            request,
            "cast.html",
            status,
            step="cast",
            manifest=info.manifest,
            words=words,
            cast_token=token,
            error=error,
            unsure=unsure,
            switch_path="/card",
        )

    async def cast_page(self, request: web.Request) -> web.Response:
        """Opened, not posted to: nothing to cast here (`_leave_unfinished` said why)."""
        raise PageError("nothing_to_cast", 409, back="/")

    async def cast_ballot(self, request: web.Request) -> web.Response:
        form = await _form(request)
        state = _state(request)
        info = self._info(request)
        signed = state.take_signed((form.get("cast_token") or [""])[0])
        if signed is None or state.encrypted is None:
            state.notice = "signed_discarded"
            raise _redirect("/card" if state.choices is not None else "/")
        certificate, signature = signed
        encrypted = state.encrypted
        ballot = encrypted.ballot.to_json()
        try:
            if (form.get("ask") or [""])[0] == "1":
                index = await find_ballot(self.config.board, info, ballot)
                if index is None:
                    return self._cast_form(request, 200, text(_lang(request))["cast_absent"])
                return self._arrived(request, index)
            doc = await cast(
                self.config.board, info, encrypted, certificate, signature, state.code or ""
            )
        except CastRefused as exc:
            if exc.status >= 500 and not exc.reason:  # a gateway's error: not an answer
                return await self._unanswered(request, ballot)
            return self._refused(request, exc)
        except NotRecorded as exc:
            state.forget()
            path = self.config.receipts / f"{info.election}-NOT-RECORDED.json"
            await asyncio.to_thread(_write, path, canonical_json(exc.evidence))
            raise PageError(
                "not_recorded", 502, back="/", details=f"{exc.check}: {exc.detail} ({path.name})"
            ) from exc
        except (aiohttp.ClientError, OSError, TimeoutError, VerificationError) as exc:
            log.info("cast not answered: %s", type(exc).__name__)
            return await self._unanswered(request, ballot)
        receipt = Receipt.from_json(doc["receipt"])
        path = self.config.receipts / f"{info.election}-{receipt.index}.json"
        await asyncio.to_thread(save_receipt, path, doc, info, self.config.board, ballot)
        state.forget()
        state.cast = Cast(
            path, receipt.index, tracking_code(ballot), bool(doc["replaced_earlier_ballot"])
        )
        return render(
            request, "receipt.html", step="receipt", cast=state.cast, switch_path="/receipts"
        )

    async def _unanswered(self, request: web.Request, ballot: dict[str, Any]) -> web.Response:
        """The cast request failed: did the ballot arrive? Asked of the board by the ballot
        itself before anything is said; the signed ballot is kept to ask or send again."""
        info = self._info(request)
        t = text(_lang(request))
        try:
            index = await find_ballot(self.config.board, info, ballot)
        except (aiohttp.ClientError, OSError, TimeoutError, VerificationError, DecodeError):
            return self._cast_form(request, 502, t["cast_unknown"], unsure=True)
        if index is None:
            return self._cast_form(request, 502, t["cast_absent"])
        return self._arrived(request, index)

    def _arrived(self, request: web.Request, index: int) -> web.Response:
        """The ballot is in the board's record (`find_ballot`), though no receipt came back."""
        _state(request).forget()
        raise PageError("cast_arrived", 200, back="/", index=index)

    def _refused(self, request: web.Request, exc: CastRefused) -> web.Response:
        lang = _lang(request)
        state = _state(request)
        t = text(lang)
        try:
            words = reason_text(lang, Reason(exc.reason))
        except ValueError:  # the board's own refusal: its words go to the disclosure
            words = ""
        if exc.reason in (Reason.VOTING_CODE_UNKNOWN, Reason.VOTING_CODE_USED):
            # the signature holds for this ballot whatever the code: keep it for the cast
            # that follows the corrected code (no second password)
            typed, state.code = state.code or "", None
            return render(
                request,
                "code.html",
                exc.status,
                step="code",
                typed=typed,
                error=t["refused"].format(reason=words),
                switch_path="/code",
            )
        state.drop_signature()
        return render(
            request,
            "error.html",
            exc.status,
            back="/review",
            again=False,
            switch_path="/review",
            error=t["refused"].format(reason=words),
            details=f"{exc.code}: {exc.detail}",
        )

    def _receipt_or_404(self, form: dict[str, list[str]], state: VoterState) -> Cast:
        done = state.receipt((form.get("receipt") or [""])[0])
        if done is None:
            raise PageError("receipt_gone", 404, back="/receipts")
        return done

    async def receipt_page(self, request: web.Request) -> web.Response:
        """Opened, not the answer to a cast: no receipt of anyone is shown here."""
        raise _redirect("/receipts")

    async def receipts_page(self, request: web.Request) -> web.Response:
        return render(request, "receipts.html", step="receipt")

    async def receipt_file(self, request: web.Request) -> web.Response:
        done = self._receipt_or_404(await _form(request), _state(request))
        return web.Response(
            body=await asyncio.to_thread(done.path.read_bytes),
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{done.path.name}"'},
        )

    async def check(self, request: web.Request) -> web.Response:
        """The receipt just cast (its page's token) or a receipt file the voter chose."""
        form = await _form(request)
        chosen = await _chosen_file(request)
        if chosen is not None:
            return await self._check_file(request, chosen)
        done = self._receipt_or_404(form, _state(request))
        return await self._check_file(request, await asyncio.to_thread(done.path.read_bytes))

    async def _check_file(self, request: web.Request, content: bytes) -> web.Response:
        t = text(_lang(request))
        try:
            record = read_receipt_bytes(content)
        except DecodeError as exc:
            raise PageError("receipt_bad", 400, back="/receipts") from exc
        result = await self._board(check_receipt_record(record))
        index = Receipt.from_json(record["receipt"]).index
        words = {
            "included": t["check_ok"].format(index=index),
            "forked": t["check_forked"],
            "forged": t["check_forged"],
            "not_yours": t["check_not_yours"],
        }.get(result.kind, t["check_missing"])
        return render(
            request,
            "check.html",
            step="receipt",
            ok=result.included,
            words=words,
            tracker=tracking_code(record["ballot"]),
            switch_path="/receipts",
        )


def card_ineligible(manifest: Any, certificate: bytes) -> Reason | None:
    """The registrar's age and address rules (`jpki.registrar.ineligible`) for the card's
    signing certificate, read when the voter signs: the earliest the card tells them."""
    from cryptography import x509

    from election.intake import eligibility_rules
    from jpki.certs import CertificateRejected, basic_facts
    from jpki.registrar import ineligible

    try:
        facts = basic_facts(x509.load_der_x509_certificate(certificate))
    except (ValueError, CertificateRejected):
        return None  # the registrar says what is wrong with the certificate
    return ineligible(facts, eligibility_rules(manifest))


def _blocked(request: web.Request) -> web.Response:
    """The card's password is locked: what to do (the town hall), and back to the review."""
    return render(
        request,
        "error.html",
        403,
        back="/review",
        again=False,
        switch_path="/card",
        error=reason_text(_lang(request), Reason.PASSWORD_BLOCKED),
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


async def _chosen_file(request: web.Request) -> bytes | None:
    """The bytes of the file the voter chose in a form `_form` has checked (None: none)."""
    value = (await request.post()).get("file")  # aiohttp keeps the parsed form
    if not isinstance(value, web.FileField):
        return None
    content = value.file.read(RECEIPT_LIMIT + 1)
    if len(content) > RECEIPT_LIMIT:
        raise PageError("receipt_bad", 400, back="/receipts")
    return content


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_app(config: WebConfig, opener: CardOpener, host: str = "127.0.0.1") -> web.Application:
    """The voter's web app (no listening socket: `serve` or a test client adds one)."""
    app = web.Application(middlewares=[_guard], client_max_size=RECEIPT_LIMIT + 64 * 1024)
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
        web.post("/receipt/file", pages.receipt_file),
        web.get("/receipts", pages.receipts_page),
        web.post("/check", pages.check),
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
