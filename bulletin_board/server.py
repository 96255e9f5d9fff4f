"""The board over HTTP (aiohttp). Endpoints and error codes: docs/board.md §8 and /openapi.json.

Every refusal is a 4xx with a JSON body {"error": code, "detail": text}, code from
`policy.REFUSAL_CODES`; nothing is written on a refusal. Request bodies, page sizes, listed
items and open connections are capped (`board.Limits`): a posted entry is read up to the
largest cap (`max_record_body_bytes`), then held to the cap of its type (`Board.body_cap`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bulletin_board.board import Board, Limits
from bulletin_board.entry import ELECTION_RE
from bulletin_board.log import hash_leaf
from bulletin_board.openapi import openapi_document
from bulletin_board.policy import REFUSAL_CODES, Refusal
from mixnet.encoding import MAX_JSON_INT, canonical_json, parse_canonical_json

__all__ = ["BALLOTS_KEY", "BoardServer", "make_app", "read_capped_body"]

log = logging.getLogger("tohyo.board")
BOARD_KEY: web.AppKey[Board] = web.AppKey("board", Board)
#: set by `election.intake.BallotIntake.install` when the voters' ballot endpoint is served
BALLOTS_KEY: web.AppKey[bool] = web.AppKey("ballots", bool)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=canonical_json(obj), status=status, content_type="application/json")


def _error(status: int, code: str, detail: str) -> web.Response:
    return _json({"error": code, "detail": detail}, status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refusal as r:
        resp = _json({"error": r.code, "detail": r.detail, **r.extra}, r.status)
        if r.status == 429:
            resp.headers["Retry-After"] = "1"
        return resp
    except web.HTTPNotFound:
        return _error(404, "not_found", f"no resource at {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        resp = _error(405, "method_not_allowed", f"{request.method} is not allowed here")
        resp.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return resp
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "too_large", "request body too large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status >= 500:
            log.exception("server error")
            return _error(500, "internal", "internal error")
        return _error(exc.status, "bad_request", exc.reason)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error(500, "internal", "internal error")


def _int_param(
    request: web.Request, name: str, default: int | None = None, maximum: int = MAX_JSON_INT
) -> int:
    text = request.query.get(name)
    if text is None:
        if default is None:
            raise Refusal("bad_request", f"query parameter {name} is required")
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise Refusal("bad_request", f"{name} must be a non-negative integer")
    value = int(text)
    if value > maximum:
        raise Refusal("bad_request", f"{name} must be at most {maximum}")
    return value


def _path_int(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise Refusal("not_found", f"{name} must be a non-negative integer")
    return int(text)


async def read_capped_body(request: web.Request, cap: int, timeout_s: float = 60.0) -> bytes:
    """The request body, refused `too_large` as soon as its Content-Length or the bytes read
    exceed `cap`, and `request_timeout` unless it is all read within `timeout_s` seconds."""
    if request.content_length is not None and request.content_length > cap:
        raise Refusal("too_large", f"bodies are at most {cap} bytes here")
    data = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.content.iter_any():
                data += chunk
                if len(data) > cap:
                    raise Refusal("too_large", f"bodies are at most {cap} bytes here")
    except TimeoutError as exc:
        raise Refusal("request_timeout", f"the body did not arrive within {timeout_s} s") from exc
    return bytes(data)


def require_json(request: web.Request) -> None:
    if request.content_type != "application/json":
        raise Refusal("unsupported_media_type", "send Content-Type: application/json")


def _hex_list(nodes: list[bytes]) -> list[str]:
    return [n.hex() for n in nodes]


class _Handlers:
    def __init__(self, board: Board) -> None:
        self.board = board
        self.limits = board.limits
        self.pending = 0

    async def health(self, request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    async def openapi(self, request: web.Request) -> web.Response:
        return _json(openapi_document(self.limits, ballots=BALLOTS_KEY in request.app))

    async def info(self, request: web.Request) -> web.Response:
        return _json(
            {
                "v": 1,
                "public_key": self.board.public_key_hex,
                "limits": {
                    "max_body_bytes": self.limits.max_body_bytes,
                    "max_record_body_bytes": self.limits.max_record_body_bytes,
                    "record_types": sorted(self.limits.record_types),
                    "max_page": self.limits.max_page,
                    "max_connections": self.limits.max_connections,
                    "max_client_connections": self.limits.max_client_connections,
                    "header_timeout_ms": round(self.limits.header_timeout_s * 1000),
                    "body_timeout_ms": round(self.limits.body_timeout_s * 1000),
                    "max_elections_listed": self.limits.max_elections_listed,
                    "max_pending_posts": self.limits.max_pending_posts,
                },
                "refusal_codes": {k: v[0] for k, v in REFUSAL_CODES.items()},
            }
        )

    async def elections(self, request: web.Request) -> web.Response:
        after = request.query.get("after")
        if after is None:
            after = ""
        elif ELECTION_RE.fullmatch(after) is None:
            raise Refusal("bad_request", "after: an election id")
        page = self.limits.max_elections_listed
        limit = _int_param(request, "limit", page, maximum=page)
        if limit < 1:
            raise Refusal("bad_request", "limit must be at least 1")
        names = self.board.elections(after, limit + 1)
        more = len(names) > limit
        names = names[:limit]
        return _json(
            {
                "elections": [{"election": n, "tree_size": self.board.size(n)} for n in names],
                "next": names[-1] if more and names else None,
            }
        )

    async def election(self, request: web.Request) -> web.Response:
        return _json(self.board.describe(request.match_info["election"]))

    async def post_entry(self, request: web.Request) -> web.Response:
        require_json(request)
        # held to what the election can take now, on the raw length, before any decoding
        cap = self.board.raw_cap(request.match_info["election"])
        data = await read_capped_body(request, cap, self.limits.body_timeout_s)
        if self.pending >= self.limits.max_pending_posts:
            raise Refusal("busy", f"more than {self.limits.max_pending_posts} posts pending")
        self.pending += 1
        try:
            receipt = await self.board.post(request.match_info["election"], data)
        finally:
            self.pending -= 1
        return _json(receipt.to_json(), status=201)

    async def entries(self, request: web.Request) -> web.Response:
        election = request.match_info["election"]
        size = self.board.size(election)
        start = _int_param(request, "start", 0)
        limit = _int_param(request, "limit", self.limits.max_page, maximum=self.limits.max_page)
        rows = await self.board.entries(election, start, limit)
        end = start + len(rows)
        return _json(
            {
                "election": election,
                "start": start,
                "tree_size": size,
                "entries": [parse_canonical_json(r) for r in rows],
                "next": end if end < size and rows else None,
            }
        )

    async def entry(self, request: web.Request) -> web.Response:
        election = request.match_info["election"]
        index = _path_int(request, "index")
        rows = await self.board.entries(election, index, 1)
        if not rows:
            raise Refusal("not_found", f"no entry {index}")
        return _json(
            {
                "index": index,
                "entry_hash": hash_leaf(rows[0]).hex(),
                "entry": parse_canonical_json(rows[0]),
            }
        )

    async def tree_head(self, request: web.Request) -> web.Response:
        sth = await self.board.tree_head(request.match_info["election"])
        return _json(sth.to_json())

    async def tree_head_of_size(self, request: web.Request) -> web.Response:
        size = _path_int(request, "tree_size")
        sth = await self.board.tree_head(request.match_info["election"], size)
        return _json(sth.to_json())

    async def tree_heads(self, request: web.Request) -> web.Response:
        election = request.match_info["election"]
        start = _int_param(request, "start_size", 0)
        limit = _int_param(request, "limit", self.limits.max_page, maximum=self.limits.max_page)
        heads = [h.to_json() for h in await self.board.tree_heads(election, start, limit)]
        nxt = heads[-1]["tree_size"] + 1 if len(heads) == limit and heads else None
        return _json({"election": election, "tree_heads": heads, "next": nxt})

    async def cosign(self, request: web.Request) -> web.Response:
        require_json(request)
        election = request.match_info["election"]
        size = _path_int(request, "tree_size")
        self.board.size(election)
        data = await read_capped_body(request, 4096, self.limits.body_timeout_s)
        sth = await self.board.cosign(election, size, data)
        return _json(sth.to_json(), status=201)

    async def inclusion(self, request: web.Request) -> web.Response:
        election = request.match_info["election"]
        size = self.board.size(election)
        if "entry_hash" in request.query:
            text = request.query["entry_hash"]
            if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
                raise Refusal("bad_request", "entry_hash: 64 lowercase hex digits")
            index = self.board.index_of(election, bytes.fromhex(text))
        else:
            index = _int_param(request, "index")
        tree_size = _int_param(request, "tree_size", size)
        path = self.board.inclusion_proof(election, index, tree_size)
        return _json({"index": index, "tree_size": tree_size, "path": _hex_list(path)})

    async def consistency(self, request: web.Request) -> web.Response:
        election = request.match_info["election"]
        size = self.board.size(election)
        first = _int_param(request, "first")
        second = _int_param(request, "second", size)
        proof = self.board.consistency_proof(election, first, second)
        return _json({"first": first, "second": second, "proof": _hex_list(proof)})


def make_app(board: Board) -> web.Application:
    largest = max(board.limits.max_body_bytes, board.limits.max_record_body_bytes)
    app = web.Application(middlewares=[_errors], client_max_size=largest + 1024)
    app[BOARD_KEY] = board
    h = _Handlers(board)
    e = "/v1/elections/{election}"
    app.add_routes(
        [
            web.get("/health", h.health),
            web.get("/openapi.json", h.openapi),
            web.get("/v1/board", h.info),
            web.get("/v1/elections", h.elections),
            web.get(e, h.election),
            web.post(e + "/entries", h.post_entry),
            web.get(e + "/entries", h.entries),
            web.get(e + "/entries/{index}", h.entry),
            web.get(e + "/tree-head", h.tree_head),
            web.get(e + "/tree-heads", h.tree_heads),
            web.get(e + "/tree-heads/{tree_size}", h.tree_head_of_size),
            web.post(e + "/tree-heads/{tree_size}/cosignatures", h.cosign),
            web.get(e + "/proofs/inclusion", h.inclusion),
            web.get(e + "/proofs/consistency", h.consistency),
        ]
    )
    return app


def _raw_refusal(code: str, detail: str) -> bytes:
    """A whole HTTP/1.1 refusal, for a connection the board answers before any request."""
    body = canonical_json({"error": code, "detail": detail})
    status = REFUSAL_CODES[code][0]
    return (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class _CappedRunner(web.AppRunner):
    """An AppRunner whose server caps open connections: beyond `max_connections` in all a new
    one is closed at once; beyond `max_client_connections` from one address it is answered
    429 `too_many_connections` and closed. A connection that sends no whole request head
    within `header_timeout_s` (after connecting or after its last answer) is closed."""

    def __init__(self, app: web.Application, limits: Limits) -> None:
        super().__init__(app, access_log=None, keepalive_timeout=limits.header_timeout_s)
        self.limits = limits

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        made, lost = server.connection_made, server.connection_lost
        per_client: dict[str, int] = {}
        counted: dict[Any, str] = {}  # handler -> its client's address
        limits = self.limits

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            if len(server.connections) >= limits.max_connections:
                transport.abort()
                return
            peer = transport.get_extra_info("peername")
            client = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
            if per_client.get(client, 0) >= limits.max_client_connections:
                cap = limits.max_client_connections
                transport.write(
                    _raw_refusal(
                        "too_many_connections", f"at most {cap} connections per client address"
                    )
                )
                transport.close()
                return
            per_client[client] = per_client.get(client, 0) + 1
            counted[handler] = client
            made(handler, transport)

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            client = counted.pop(handler, None)
            if client is not None:
                per_client[client] -= 1
                if per_client[client] == 0:
                    del per_client[client]
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]
        return server


class BoardServer:
    """Run a `Board` on host:port (port 0: any free port; `port` holds the bound one)."""

    def __init__(
        self,
        board: Board,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        extra_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self.extra_routes = extra_routes
        self.board = board
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._runner: _CappedRunner | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        await self.board.storage.open()
        await self.board.load()
        app = make_app(self.board)
        if self.extra_routes is not None:
            self.extra_routes(app)
        self._runner = _CappedRunner(app, self.board.limits)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, self.port, ssl_context=self.ssl_context, backlog=128
        )
        await site.start()
        sockets = self._runner.addresses
        self.port = int(sockets[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.board.storage.close()
