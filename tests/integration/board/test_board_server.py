"""The board over real HTTP on 127.0.0.1, against SQLite files and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Limits
from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import Envelope
from bulletin_board.export import export_from_storage, verify_export
from bulletin_board.log import (
    SignedTreeHead,
    cosign_tree_head,
    public_key_hex,
    verify_consistency,
    verify_inclusion,
)
from bulletin_board.policy import REFUSAL_CODES, Refusal, RegistryPolicy
from bulletin_board.receipt import verify_receipt
from bulletin_board.storage import open_storage
from bulletin_board.testing import Keys, running_board
from mixnet.encoding import canonical_json
from mixnet.errors import VerificationError

E = "city-2026"


async def raw_post(
    url: str, election: str, body: bytes, ctype: str = "application/json", path: str = "entries"
) -> tuple[int, Any]:
    """POST `body` to /v1/elections/{election}/{path} as it is; (status, JSON answer)."""
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{url}/v1/elections/{election}/{path}", data=body, headers={"Content-Type": ctype}
        ) as r,
    ):
        return r.status, await r.json()


async def get(url: str, path: str, **params: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url + path, params=params) as r:
        return r.status, await r.json()


async def open_election(client: BoardClient, keys: Keys, phase: str = "voting") -> None:
    await client.post(keys.registry(E))
    if phase == "setup":
        return
    for p in ("key_ceremony", "voting", "closed", "mixing", "decrypting", "tallied"):
        await client.post(keys.phase(E, p))
        if p == phase:
            return


def test_happy_path_receipts_and_proofs(storage_url: str) -> None:
    async def main() -> None:
        keys = Keys()
        async with running_board(storage_url) as server, BoardClient(server.url) as client:
            await open_election(client, keys)
            receipts = [await client.post(keys.ballot(E)) for _ in range(10)]
            board_key = await client.board_key()
            for r in receipts:
                verify_receipt(r, board_key)
                # the receipt is checkable later against the board's newest head
                sth = await client.tree_head(E)
                proof = await client.inclusion_proof(E, r.index, sth.tree_size)
                verify_inclusion(r.entry_hash, r.index, sth.tree_size, proof, sth.root_hash)
            sth = await client.tree_head(E)
            assert sth.tree_size == 13
            status, doc = await get(
                server.url,
                f"/v1/elections/{E}/proofs/inclusion",
                entry_hash=receipts[3].entry_hash.hex(),
            )
            assert status == 200 and doc["index"] == receipts[3].index
            for first in range(0, 14):
                proof = await client.consistency_proof(E, first, 13)
                old = receipts[first - 4].tree_head.root_hash if first >= 4 else None
                if old is not None:
                    verify_consistency(first, 13, proof, old, sth.root_hash)
            status, doc = await get(server.url, f"/v1/elections/{E}")
            assert doc["policy"]["phase"] == "voting"
            assert doc["policy"]["counts"]["ballot"] == 10
            status, doc = await get(server.url, "/v1/elections")
            assert doc == {"elections": [{"election": E, "tree_size": 13}], "next": None}
            status, doc = await get(server.url, f"/v1/elections/{E}/entries/5")
            assert status == 200 and doc["entry_hash"] == receipts[2].entry_hash.hex()
            status, doc = await get(server.url, "/health")
            assert (status, doc) == (200, {"status": "ok"})

    asyncio.run(main())


def test_every_refusal_code_writes_nothing(storage_url: str) -> None:
    async def main() -> None:
        keys, stranger = Keys(), Keys()
        limits = Limits(max_body_bytes=4096, max_page=5)
        async with (
            running_board(storage_url, limits=limits) as server,
            BoardClient(server.url) as client,
        ):
            url = server.url

            async def refused(body: bytes, code: str, election: str = E, **kw: Any) -> None:
                before = await client.tree_head(E) if E in await client.elections() else None
                status, doc = await raw_post(url, election, body, **kw)
                assert doc["error"] == code, doc
                assert status == REFUSAL_CODES[code][0]
                assert isinstance(doc["detail"], str)
                if before is not None:
                    after = await client.tree_head(E)
                    assert after.tree_size == before.tree_size

            await refused(keys.ballot(E).to_bytes(), "unknown_election")
            await refused(keys.registry(E).to_bytes(), "unknown_election", election="BAD!")
            await refused(keys.registry(E).to_bytes(), "election_mismatch", election="other")
            bad_reg = keys.sign(E, "registry", "admin", {"authors": {}})
            await refused(bad_reg.to_bytes(), "bad_body")
            await open_election(client, keys, phase="setup")

            good = keys.sign(E, "manifest", "admin", {"title": "x"})
            await refused(b"{not json", "malformed")
            await refused(b"[]", "malformed")
            await refused(json.dumps(good.to_json(), indent=1).encode(), "non_canonical")
            await refused(good.to_bytes(), "unsupported_media_type", ctype="text/plain")
            big = keys.sign(E, "manifest", "admin", {"pad": "x" * 5000})
            await refused(big.to_bytes(), "too_large")
            await refused(stranger.registry(E).to_bytes(), "election_exists")
            await refused(keys.ballot(E).to_bytes(), "wrong_phase")
            await refused(stranger.sign(E, "manifest", "admin", {}).to_bytes(), "bad_signature")
            forged = Envelope(E, "manifest", "nobody", {}, b"\x00" * 64)
            await refused(forged.to_bytes(), "unauthorised_signer")
            by_trustee = keys.sign(E, "manifest", "trustee-1", {})
            await refused(by_trustee.to_bytes(), "unauthorised_signer")
            await refused(keys.phase(E, "voting").to_bytes(), "wrong_phase")
            await refused(keys.sign(E, "phase", "admin", {"phase": "nope"}).to_bytes(), "bad_body")
            with pytest.raises(ValueError):  # booleans cannot even be built
                keys.sign(E, "manifest", "admin", {"flag": True})
            raw = good.to_json()
            raw["body"] = {"flag": True}
            await refused(canonical_json(raw), "malformed")

            receipt = await client.post(good)
            await refused(good.to_bytes(), "duplicate_entry")
            await client.post(keys.phase(E, "key_ceremony"))
            await client.post(keys.phase(E, "voting"))
            ballot = keys.ballot(E, ["aa" * 8])
            await client.post(ballot)
            again = keys.sign(E, "ballot", "registrar", {"ciphertexts": ["aa" * 8], "n": 2})
            await refused(again.to_bytes(), "duplicate_ciphertext")
            assert receipt.index == 1

            for path, params, code in [
                (f"/v1/elections/{E}/entries", {"limit": "6"}, "bad_request"),
                (f"/v1/elections/{E}/entries", {"start": "-1"}, "bad_request"),
                (f"/v1/elections/{E}/entries/99", {}, "not_found"),
                (f"/v1/elections/{E}/tree-heads/99", {}, "not_found"),
                (f"/v1/elections/{E}/proofs/inclusion", {"index": "9"}, "not_found"),
                (f"/v1/elections/{E}/proofs/inclusion", {}, "bad_request"),
                (f"/v1/elections/{E}/proofs/inclusion", {"entry_hash": "00" * 32}, "not_found"),
                (
                    f"/v1/elections/{E}/proofs/consistency",
                    {"first": "3", "second": "2"},
                    "not_found",
                ),
                ("/v1/elections/nope/tree-head", {}, "unknown_election"),
                ("/nowhere", {}, "not_found"),
            ]:
                status, doc = await get(url, path, **params)
                assert doc["error"] == code, (path, doc)
                assert status == REFUSAL_CODES[code][0]
            async with aiohttp.ClientSession() as s, s.delete(f"{url}/v1/elections/{E}") as r:
                assert r.status == 405
                assert (await r.json())["error"] == "method_not_allowed"

    asyncio.run(main())


class StrictBallots(RegistryPolicy):
    """A policy as election/ will plug in: it inspects ballot bodies."""

    def check(self, state: Any, envelope: Envelope) -> None:
        super().check(state, envelope)
        if envelope.type == "ballot":
            if envelope.body.get("element") == "outside":
                raise Refusal("element_not_in_group", "ciphertext component not in G_q")
            if envelope.body.get("proof") == "bad":
                raise Refusal("bad_proof", "proof of knowledge fails")


def test_pluggable_policy_refusals(tmp_path: Path) -> None:
    async def main() -> None:
        keys = Keys()
        async with running_board(str(tmp_path / "b.sqlite"), policy=StrictBallots()) as server:
            async with BoardClient(server.url) as client:
                await open_election(client, keys)
                for body, code in [
                    ({"element": "outside"}, "element_not_in_group"),
                    ({"proof": "bad"}, "bad_proof"),
                ]:
                    env = keys.sign(E, "ballot", "registrar", body)
                    with pytest.raises(BoardRefusedError) as e:
                        await client.post(env)
                    assert (e.value.status, e.value.code) == (422, code)
                await client.post(keys.sign(E, "ballot", "registrar", {"proof": "good"}))
                assert (await client.tree_head(E)).tree_size == 4

    asyncio.run(main())


def test_pagination_is_capped(storage_url: str) -> None:
    async def main() -> None:
        keys = Keys()
        async with running_board(storage_url, limits=Limits(max_page=4)) as server:
            async with BoardClient(server.url) as client:
                await open_election(client, keys)
                for _ in range(8):
                    await client.post(keys.ballot(E))
                status, doc = await get(server.url, f"/v1/elections/{E}/entries")
                assert len(doc["entries"]) == 4 and doc["next"] == 4 and doc["tree_size"] == 11
                status, doc = await get(server.url, f"/v1/elections/{E}/entries", start="8")
                assert len(doc["entries"]) == 3 and doc["next"] is None
                status, doc = await get(server.url, f"/v1/elections/{E}/entries", start="50")
                assert status == 200 and doc["entries"] == [] and doc["next"] is None
                status, doc = await get(server.url, f"/v1/elections/{E}/tree-heads", limit="3")
                assert status == 200
                assert [h["tree_size"] for h in doc["tree_heads"]] == [1, 2, 3]
                assert doc["next"] == 4
                entries, sth = await client.all_entries(E)
                assert len(entries) == 11 == sth.tree_size

    asyncio.run(main())


def test_connections_are_capped(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_board(
            str(tmp_path / "b.sqlite"), limits=Limits(max_connections=2)
        ) as server:
            held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
            await asyncio.sleep(0.1)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, no answer
            for _, w in held:
                w.close()
            await asyncio.sleep(0.2)
            status, _ = await get(server.url, "/health")
            assert status == 200

    asyncio.run(main())


def test_cosignatures(tmp_path: Path) -> None:
    async def main() -> None:
        keys, mirror = Keys(), Ed25519PrivateKey.generate()
        async with running_board(
            str(tmp_path / "b.sqlite"), mirrors=(public_key_hex(mirror.public_key()),)
        ) as server:
            async with BoardClient(server.url) as client:
                await open_election(client, keys)
                sth = await client.tree_head(E)
                stored = await client.cosign(mirror, sth)
                assert len(stored.cosignatures) == 1
                again = await client.tree_head(E)
                assert again.cosignatures == stored.cosignatures
                other = await client.post(keys.ballot(E))
                wrong = cosign_tree_head(mirror, other.tree_head)
                status, doc = await raw_post(
                    server.url,
                    E,
                    canonical_json(wrong.to_json()),
                    path=f"tree-heads/{sth.tree_size}/cosignatures",
                )
                assert (status, doc["error"]) == (403, "bad_signature")

    asyncio.run(main())


def test_cosign_and_read_refusals_write_nothing(tmp_path: Path) -> None:
    """Bad co-signature posts and bad read parameters: a 4xx with a code; no co-signature stored."""

    async def main() -> None:
        keys, mirror = Keys(), Ed25519PrivateKey.generate()
        async with running_board(
            str(tmp_path / "b.sqlite"), mirrors=(public_key_hex(mirror.public_key()),)
        ) as server:
            async with BoardClient(server.url) as client:
                await open_election(client, keys)
                sth = await client.tree_head(E)
                good = canonical_json(cosign_tree_head(mirror, sth).to_json())
                for path, body, ctype, code in [
                    (f"{sth.tree_size}", b"{not json", "application/json", "malformed"),
                    (f"{sth.tree_size}", b'{"signer":"00"}', "application/json", "malformed"),
                    (f"{sth.tree_size}", canonical_json([1]), "application/json", "malformed"),
                    (f"{sth.tree_size}", good, "text/plain", "unsupported_media_type"),
                    (f"{sth.tree_size}", b" " * 5000, "application/json", "too_large"),
                    ("x1", good, "application/json", "not_found"),
                    ("99", good, "application/json", "not_found"),
                ]:
                    status, doc = await raw_post(
                        server.url, E, body, ctype, path=f"tree-heads/{path}/cosignatures"
                    )
                    assert doc["error"] == code, (path, body[:20], doc)
                    assert status == REFUSAL_CODES[code][0]
                assert (await client.tree_head(E)).cosignatures == ()
                for path, params, code in [
                    (f"/v1/elections/{E}/entries/abc", {}, "not_found"),
                    (f"/v1/elections/{E}/tree-heads", {"start_size": "-1"}, "bad_request"),
                    (
                        f"/v1/elections/{E}/proofs/inclusion",
                        {"entry_hash": "AB" * 32},
                        "bad_request",
                    ),
                    (f"/v1/elections/{E}/proofs/inclusion", {"entry_hash": "00"}, "bad_request"),
                    (f"/v1/elections/{E}/proofs/consistency", {"first": "x"}, "bad_request"),
                ]:
                    status, doc = await get(server.url, path, **params)
                    assert doc["error"] == code, (path, doc)
                    assert status == REFUSAL_CODES[code][0]
                assert (await client.tree_head(E)).tree_size == sth.tree_size

    asyncio.run(main())


def test_client_detects_forged_head_and_receipt(tmp_path: Path) -> None:
    async def main() -> None:
        keys = Keys()
        async with running_board(str(tmp_path / "b.sqlite")) as server:
            # a client pinned to another key refuses everything the board signs
            async with BoardClient(server.url, Ed25519PrivateKey.generate().public_key()) as c:
                with pytest.raises(VerificationError) as e:
                    await c.post(keys.registry(E))
                assert e.value.check == "receipt.signature"
            async with BoardClient(server.url) as client:
                r = await client.post(keys.phase(E, "key_ceremony"))
                assert r.index == 1
                with pytest.raises(VerificationError) as e:  # a receipt for another place
                    verify_receipt(replace(r, index=0), await client.board_key())
                assert e.value.check == "receipt.signature"

    asyncio.run(main())


def test_restart_replays_policy_state(storage_url: str) -> None:
    async def main() -> None:
        keys, key = Keys(), Ed25519PrivateKey.generate()
        async with running_board(storage_url, key) as server, BoardClient(server.url) as c:
            await open_election(c, keys)
            await c.post(keys.ballot(E, ["bb" * 8]))
            head = await c.tree_head(E)
        async with running_board(storage_url, key) as server, BoardClient(server.url) as c:
            c.heads[E] = head
            again = await c.tree_head(E)
            assert again.tree_size == head.tree_size and again.root_hash == head.root_hash
            with pytest.raises(BoardRefusedError) as e:
                await c.post(keys.ballot(E, ["bb" * 8]))
            assert e.value.code == "duplicate_entry"
            with pytest.raises(BoardRefusedError) as e:
                await c.post(
                    keys.sign(E, "ballot", "registrar", {"ciphertexts": ["bb" * 8], "x": 1})
                )
            assert e.value.code == "duplicate_ciphertext"
            with pytest.raises(BoardRefusedError) as e:
                await c.post(keys.phase(E, "mixing"))
            assert e.value.code == "wrong_phase"
            await c.post(keys.phase(E, "closed"))

    asyncio.run(main())


def test_export_over_http_equals_export_from_storage(storage_url: str, tmp_path: Path) -> None:
    async def main() -> None:
        keys, key, mirror = Keys(), Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        async with (
            running_board(
                storage_url, key, mirrors=(public_key_hex(mirror.public_key()),)
            ) as server,
            BoardClient(server.url) as c,
        ):
            await open_election(c, keys)
            for _ in range(5):
                await c.post(keys.ballot(E))
            await c.cosign(mirror, await c.tree_head(E))
            await c.export(E, tmp_path / "http")
            board_key = await c.board_key_hex()
        storage = open_storage(storage_url)
        await storage.open()
        try:
            await export_from_storage(storage, E, board_key, tmp_path / "db")
        finally:
            await storage.close()
        for name in ("board.json", "entries.jsonl", "tree-heads.jsonl", "tree-head.json"):
            assert (tmp_path / "http" / name).read_bytes() == (tmp_path / "db" / name).read_bytes()
        final = verify_export(tmp_path / "db", board_key)
        assert final.tree_size == 8 and len(final.cosignatures) == 1
        lines = (tmp_path / "db" / "entries.jsonl").read_bytes().split(b"\n")
        assert json.loads(lines[0])["type"] == "registry"
        # tampering with one entry breaks the export
        doctored = list(lines)
        doctored[4] = doctored[5]
        (tmp_path / "db" / "entries.jsonl").write_bytes(b"\n".join(doctored))
        with pytest.raises(VerificationError) as e:
            verify_export(tmp_path / "db", board_key)
        assert e.value.check == "export.root"
        head = json.loads((tmp_path / "http" / "tree-head.json").read_text())
        assert SignedTreeHead.from_json(head).tree_size == 8

    asyncio.run(main())


class FlakyStorage:
    """A SQLite storage whose next append fails once (a full disk, a lost connection)."""

    def __init__(self, path: str) -> None:
        from bulletin_board.storage import SqliteStorage

        self.inner = SqliteStorage(path)
        self.fail_next = False
        self.fail_after_commit = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(self, *args: Any, **kw: Any) -> None:
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        await self.inner.append(*args, **kw)
        if self.fail_after_commit:  # committed, but the answer was lost
            self.fail_after_commit = False
            raise OSError("connection lost during COMMIT")


def test_failed_commit_writes_nothing_and_the_log_goes_on(tmp_path: Path) -> None:
    from bulletin_board.board import Board
    from bulletin_board.server import BoardServer

    async def main() -> None:
        keys = Keys()
        storage = FlakyStorage(str(tmp_path / "b.sqlite"))
        server = BoardServer(Board(storage, Ed25519PrivateKey.generate()))  # type: ignore[arg-type]
        await server.start()
        try:
            async with BoardClient(server.url) as c:
                await open_election(c, keys)
                before = await c.tree_head(E)
                storage.fail_next = True
                lost = keys.ballot(E)
                with pytest.raises(BoardRefusedError) as e:
                    await c.post(lost)
                assert (e.value.status, e.value.code) == (500, "internal")
                after = await c.tree_head(E)
                assert after.tree_size == before.tree_size
                assert after.root_hash == before.root_hash
                r = await c.post(lost)  # the same entry is accepted now, at the same index
                assert r.index == before.tree_size
                entries, sth = await c.all_entries(E)
                assert sth.tree_size == len(entries) == before.tree_size + 1
                assert entries[-1] == lost.to_bytes()

                # the outcome of a commit is unknown: the board re-reads its database
                storage.fail_after_commit = True
                limbo = keys.ballot(E)
                with pytest.raises(BoardRefusedError):
                    await c.post(limbo)
                with pytest.raises(BoardRefusedError) as e:
                    await c.post(limbo)
                assert e.value.code == "duplicate_entry"  # it did get committed
                r = await c.post(keys.ballot(E))
                assert r.index == sth.tree_size + 1
                entries, last = await c.all_entries(E)  # heads consistent across it all
                assert last.tree_size == sth.tree_size + 2
                assert entries[sth.tree_size] == limbo.to_bytes()
        finally:
            await server.stop()

    asyncio.run(main())


def test_concurrent_posts_get_distinct_indices_and_consistent_heads(storage_url: str) -> None:
    async def main() -> None:
        keys = Keys()
        async with running_board(storage_url) as server, BoardClient(server.url) as c:
            await open_election(c, keys)
            clients = [BoardClient(server.url) for _ in range(10)]
            try:
                receipts = await asyncio.gather(
                    *(clients[i % 10].post(keys.ballot(E)) for i in range(60))
                )
            finally:
                for x in clients:
                    await x.close()
            assert sorted(r.index for r in receipts) == list(range(3, 63))
            sth = await c.tree_head(E)
            stored = {h.tree_size: h async for h in c.tree_heads(E)}
            for r in receipts:
                old = r.tree_head  # the head of the entry's group commit: it covers the entry
                assert r.index < old.tree_size <= sth.tree_size
                assert stored[old.tree_size] == old
                proof = await c.consistency_proof(E, old.tree_size, sth.tree_size)
                verify_consistency(
                    old.tree_size, sth.tree_size, proof, old.root_hash, sth.root_hash
                )

    asyncio.run(main())


class CountingStorage(FlakyStorage):
    """A SQLite storage that records how many entries each commit held, and which of them
    came with a tree head."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.groups: list[int] = []
        self.with_head: list[list[bool]] = []

    async def append(self, *args: Any, **kw: Any) -> None:
        self.groups.append(1)
        self.with_head.append([(args[4] if len(args) > 4 else kw.get("tree_head")) is not None])
        await super().append(*args, **kw)

    async def append_batch(self, election: str, index: int, rows: Any) -> None:
        self.groups.append(len(rows))
        self.with_head.append([head is not None for _, _, head in rows])
        await self.inner.append_batch(election, index, rows)


def test_a_commit_waits_for_company_under_load_only(tmp_path: Path) -> None:
    """`Limits.commit_delay_ms`: once a group commit held several entries, the next one waits
    for more to join it; posts that come one at a time never wait."""
    from bulletin_board.board import Board, Limits
    from bulletin_board.server import BoardServer

    heads: list[list[bool]] = []

    async def run(delay_ms: float, burst: bool) -> list[int]:
        keys = Keys()
        storage = CountingStorage(str(tmp_path / f"b-{delay_ms}.sqlite"))
        board = Board(
            storage,
            Ed25519PrivateKey.generate(),  # type: ignore[arg-type]
            limits=Limits(commit_delay_ms=delay_ms),
        )
        server = BoardServer(board)
        await server.start()
        try:
            async with BoardClient(server.url) as c:
                await open_election(c, keys)
                storage.groups.clear()
                if burst:
                    clients = [BoardClient(server.url) for _ in range(20)]
                    try:
                        # a burst that commits as one group, then posts 2 ms apart: the
                        # first commit after the burst waits and gathers them
                        await asyncio.gather(*(clients[i].post(keys.ballot(E)) for i in range(5)))
                        posts = []
                        for i in range(40):
                            posts.append(
                                asyncio.ensure_future(clients[i % 20].post(keys.ballot(E)))
                            )
                            await asyncio.sleep(0.002)
                        await asyncio.gather(*posts)
                    finally:
                        for x in clients:
                            await x.close()
                else:
                    for _ in range(5):  # a wait of 100 s would show here
                        await asyncio.wait_for(c.post(keys.ballot(E)), 30)
                heads.extend(storage.with_head)
                return storage.groups
        finally:
            await server.stop()

    assert asyncio.run(run(100_000, burst=False)) == [1] * 5
    groups = asyncio.run(run(400, burst=True))
    assert sum(groups) == 45
    assert groups[0] == 5 and max(groups[1:]) >= 10 and len(groups) <= 10
    # one signed tree head per commit, that of its last entry
    assert heads == [[False] * (len(h) - 1) + [True] for h in heads]


def test_pending_posts_are_capped(tmp_path: Path) -> None:
    async def main() -> None:
        keys = Keys()
        limits = Limits(max_pending_posts=2)
        async with running_board(str(tmp_path / "b.sqlite"), limits=limits) as server:
            async with BoardClient(server.url) as c:
                await open_election(c, keys)
            bodies = [keys.ballot(E).to_bytes() for _ in range(40)]
            results = await asyncio.gather(*(raw_post(server.url, E, b) for b in bodies))
            codes = [doc.get("error") for status, doc in results if status != 201]
            accepted = sum(1 for status, _ in results if status == 201)
            assert set(codes) <= {"busy"}
            assert "busy" in codes and accepted >= 2
            async with BoardClient(server.url) as c:
                entries, sth = await c.all_entries(E)
                assert sth.tree_size == 3 + accepted == len(entries)

    asyncio.run(main())
