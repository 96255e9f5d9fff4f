"""The load client of `simulate load` and `bench board` (`simulations.load.LoadConnection`)
against a real aiohttp server on 127.0.0.1: every way an HTTP/1.1 answer can end, refusals
read as their codes, and a connection that breaks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from aiohttp import web

from simulations.load import LoadConnection, drive, request

Test = Callable[[str], Coroutine[Any, Any, None]]


async def _serve(test: Test) -> None:
    seen: list[bytes] = []

    async def sized(req: web.Request) -> web.Response:
        seen.append(await req.read())
        return web.json_response({"n": len(seen)}, status=201)

    async def chunked(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        for part in (b"al", b"pha", b"-", b"omega"):
            await resp.write(part)
        await resp.write_eof()
        return resp

    async def closing(req: web.Request) -> web.Response:
        resp = web.Response(text="bye")
        resp.force_close()
        return resp

    async def refused(req: web.Request) -> web.Response:
        return web.json_response({"error": "wrong_phase", "detail": "x"}, status=409)

    async def hang_up(req: web.Request) -> web.Response:
        assert req.transport is not None
        req.transport.abort()
        await asyncio.sleep(1)
        return web.Response()

    app = web.Application()
    app.router.add_post("/sized", sized)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/closing", closing)
    app.router.add_post("/refused", refused)
    app.router.add_get("/hang-up", hang_up)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await test(f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()


def run(test: Test) -> None:
    asyncio.run(_serve(test))


def test_answers_by_length_chunked_and_connection_close() -> None:
    async def test(url: str) -> None:
        conn = LoadConnection(url, timeout=10)
        for n in (1, 2):  # the same connection, kept alive
            assert await conn.send("POST", "/sized", b'{"a":1}') == (201, b'{"n": %d}' % n)
        assert await conn.send("GET", "/chunked", None) == (200, b"alpha-omega")
        assert await conn.send("GET", "/closing", None) == (200, b"bye")
        assert conn._streams is None  # the server said close: so did we
        assert await conn.send("POST", "/sized", b"{}") == (201, b'{"n": 3}')  # reconnected
        conn.close()

    run(test)


def test_refusals_are_read_as_their_codes_and_faults_by_name() -> None:
    async def test(url: str) -> None:
        conn = LoadConnection(url, timeout=10)
        sample = await request(conn, "POST", "/refused", b"{}", 0.0, "post")
        assert (sample.status, sample.code) == (409, "wrong_phase")
        sample = await request(conn, "GET", "/hang-up", None, 0.0, "read")
        assert sample.status == 0 and sample.code in {"IncompleteReadError", "ConnectionResetError"}
        sample = await request(conn, "POST", "/sized", b"{}", 0.0, "post")
        assert (sample.status, sample.code) == (201, "ok")  # a new connection
        conn.close()
        dead = LoadConnection(url.rsplit(":", 1)[0] + ":1", timeout=5)
        sample = await request(dead, "GET", "/", None, 0.0, "read")
        assert sample.status == 0 and sample.code == "ConnectionRefusedError"

    run(test)


def test_drive_sends_every_request_once() -> None:
    async def test(url: str) -> None:
        plan = [("post", f"{url}/sized", b"{}") for _ in range(30)]
        samples, _ = await drive(
            plan, concurrency=4, duration=60, timeout=10, progress=False, desc="t", unit="req"
        )
        assert len(samples) == 30 and {s.code for s in samples} == {"ok"}
        with pytest.raises(ValueError, match="is not on"):
            await drive(
                [*plan[:1], ("read", "http://127.0.0.1:9/x", None)],
                concurrency=1,
                duration=60,
                timeout=10,
                progress=False,
                desc="t",
                unit="req",
            )

    run(test)


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="not an http"):
        LoadConnection("ftp://127.0.0.1/", timeout=1)
