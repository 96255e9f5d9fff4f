"""The voter's device checks what it is told (docs/threat-model.md §4).

A real `tohyo board serve --registrar` on 127.0.0.1 holds the election; a small proxy in
front of it plays the dishonest board: it rewrites what it forwards, answers a ballot itself,
or serves a whole other log signed with the board's own key (a board that lies with its key).
The voter's side runs as shipped: `voter_client.session`, `tohyo vote …` and `tohyo verify
ballot` in this process, with a virtual My Number Card reached in-process instead of through
PC/SC (the only stand-in).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient
from bulletin_board.entry import sign_envelope
from bulletin_board.log import MerkleLog, hash_leaf, sign_tree_head
from bulletin_board.receipt import sign_receipt
from bulletin_board.testing import BoardProcess
from election.manifest import Manifest
from jpki.certs import BasicFacts, Sex
from jpki.testca import TestCa
from jpki.transport import InProcessTransport
from jpki.virtual_card import IssuedCard
from mixnet import elgamal
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import VerificationError
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import GROUP, Election
from tests.integration.test_ballot_intake import _write_settings, open_voting
from tests.web.web_support import PASSWORD, issue_card, voting_codes
from tohyo.cli import main
from verifier.fetch import pinned_board
from voter_client import session
from voter_client.ballot import audit_record, encrypt_ballot
from voter_client.session import ElectionInfo, NotRecorded, check_receipt

HANAKO = BasicFacts("投票 花子", dt.date(1980, 4, 1), Sex.FEMALE, "茨城県つくば市研究学園1番地")
JIRO = BasicFacts("投票 次郎", dt.date(1985, 6, 2), Sex.MALE, "茨城県つくば市竹園三丁目4番地")


# ------------------------------------------------------------------ the dishonest board


class FakeLog:
    """Another log of the election, its heads signed with the board's own key: what a board
    that lies with its key serves (entries, the current head, proofs)."""

    def __init__(
        self, election: str, entries: list[dict[str, Any]], key: Ed25519PrivateKey
    ) -> None:
        self.election, self.entries = election, entries
        self.log = MerkleLog(hash_leaf(canonical_json(e)) for e in entries)
        self.head = sign_tree_head(
            key, election, len(entries), self.log.root(), int(time.time() * 1000)
        )

    def answer(self, path: str, query: Any) -> dict[str, Any] | None:
        prefix = f"/v1/elections/{self.election}"
        if path == f"{prefix}/tree-head":
            return self.head.to_json()
        if path == f"{prefix}/entries":
            start, limit = int(query.get("start", 0)), int(query.get("limit", 500))
            rows = self.entries[start : start + limit]
            end = start + len(rows)
            return {
                "election": self.election,
                "start": start,
                "tree_size": len(self.entries),
                "entries": rows,
                "next": end if end < len(self.entries) and rows else None,
            }
        if path == f"{prefix}/proofs/consistency":
            proof = self.log.consistency_proof(int(query["first"]), int(query["second"]))
            return {"proof": [p.hex() for p in proof]}
        if path == f"{prefix}/proofs/inclusion":
            proof = self.log.inclusion_proof(int(query["index"]), int(query["tree_size"]))
            return {"path": [p.hex() for p in proof]}
        return None


@dataclass
class Proxy:
    """Forwards to the board, except what the test tells it to change."""

    upstream: str
    rewrite_entries: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    # answer POST …/ballots with this (or what it makes of the request), dropping the ballot
    ballot_answer: dict[str, Any] | Callable[[bytes], dict[str, Any]] | None = None
    fake: FakeLog | None = None
    page: int | None = None  # serve at most this many entries per page
    dropped: int = 0
    url: str = ""
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        path, method = request.path, request.method
        body = await request.read()
        if self.fake is not None and method == "GET":
            served = self.fake.answer(path, request.query)
            if served is not None:
                return web.json_response(served)
        if method == "POST" and path.endswith("/ballots") and self.ballot_answer is not None:
            self.dropped += 1
            answer = self.ballot_answer
            return web.json_response(answer(body) if callable(answer) else answer)
        query = dict(request.query)
        if self.page is not None and path.endswith("/entries"):
            query["limit"] = str(min(self.page, int(query.get("limit", self.page))))
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method,
                self.upstream + path,
                params=query,
                data=body or None,
                headers={"Content-Type": "application/json"} if body else None,
            ) as resp,
        ):
            raw, status = await resp.read(), resp.status
        if self.rewrite_entries is not None and path.endswith("/entries") and status == 200:
            doc = json.loads(raw)
            doc["entries"] = self.rewrite_entries(doc["entries"])
            raw = json.dumps(doc).encode()
        return web.Response(body=raw, status=status, content_type="application/json")

    def start(self) -> str:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)
        return self.url

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


# ------------------------------------------------------------------ the election


@dataclass
class Served:
    el: Election
    url: str
    proxy: Proxy
    codes: list[str]
    board: BoardProcess
    ca: TestCa

    @property
    def fp(self) -> bytes:
        return self.el.fingerprint

    def entries(self) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            async with BoardClient(self.url) as client:
                entries, _ = await client.all_entries(self.el.id)
            return [parse_canonical_json(e) for e in entries]

        return asyncio.run(read())

    def size(self) -> int:
        return len(self.entries())


def serve_election(
    tmp_path: Path, ca: TestCa, el: Election, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    codes, hashes = voting_codes(2)
    settings = _write_settings(tmp_path, el, ca, hashes)
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
    url = board.start()
    proxy = Proxy(url)
    try:

        async def setup() -> None:
            async with BoardClient(url) as client:
                await open_voting(client, el, el.rng)

        asyncio.run(setup())
        proxy.start()
        yield Served(el, url, proxy, codes, board, ca)
    finally:
        proxy.stop()
        board.stop()


@pytest.fixture(scope="module")
def ca() -> TestCa:
    return TestCa.create(label="pinning")


@pytest.fixture
def served(tmp_path: Path, ca: TestCa, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    yield from serve_election(
        tmp_path, ca, Election(DeterministicRandom(b"pin"), election_id="pin-2026"), monkeypatch
    )


def fetch(url: str, election: str, fp: bytes) -> ElectionInfo:
    return asyncio.run(session.fetch_election(url, election, fp))


def failed_check(url: str, election: str, fp: bytes) -> str:
    with pytest.raises(VerificationError) as info:
        fetch(url, election, fp)
    return info.value.check


def card(issued: IssuedCard) -> Any:
    from jpki.card import JpkiCard

    return JpkiCard(InProcessTransport(issued.card))


def vote(
    url: str,
    info: ElectionInfo,
    issued: IssuedCard,
    code: str,
    option: str,
    rng: DeterministicRandom,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cast through `url` as the voter client does; returns (the answer, the ballot JSON)."""
    assert info.pk is not None
    encrypted = encrypt_ballot(info.manifest, info.pk, {"mayor": [option]}, rng)
    certificate, signature = session.sign_with_card(
        card(issued), PASSWORD, info.manifest, encrypted
    )
    doc = asyncio.run(session.cast(url, info, encrypted, certificate, signature, code))
    return doc, encrypted.ballot.to_json()


def with_pk(entries: list[dict[str, Any]], pk_hex: str) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        if e["type"] == "joint_key":
            e = {**e, "body": {**e["body"], "pk": pk_hex}}
        out.append(e)
    return out


def own_key(el: Election) -> Any:
    return elgamal.keygen(
        el.manifest.group_object(), DeterministicRandom(b"not the election")
    ).public


def pinned(url: str, served: Served, fingerprint: str | None = None) -> list[str]:
    """The options that name the board and the pinned election."""
    return [
        "--board",
        url,
        "--election",
        served.el.id,
        "--fingerprint",
        fingerprint or served.fp.hex(),
    ]


def cast_cli(url: str, served: Served, code: str, *extra: str) -> int:
    """`tohyo vote cast` for mayor b, without questions."""
    return main(
        [
            "vote",
            "cast",
            *pinned(url, served),
            "--choice",
            "mayor=b",
            "--code",
            code,
            "--yes",
            *extra,
        ]
    )


def use_card(monkeypatch: pytest.MonkeyPatch, issued: IssuedCard) -> list[int]:
    """`tohyo vote cast` reaches this in-process card instead of a PC/SC reader; counts opens."""
    opened: list[int] = []

    def transport(args: Any) -> InProcessTransport:
        opened.append(1)
        return InProcessTransport(issued.card)

    monkeypatch.setattr("voter_client.cli._transport", transport)
    monkeypatch.setenv("TOHYO_CARD_PASSWORD", PASSWORD)
    return opened


# ------------------------------------------------------------------ the tests


def test_an_honest_board_gives_the_pinned_election(served: Served) -> None:
    info = fetch(served.proxy.url, served.el.id, served.fp)
    assert info.manifest == served.el.manifest and info.phase == "voting"
    assert info.pk is not None and info.tree_head is not None
    assert info.short_fingerprint == " ".join(served.fp.hex()[i : i + 4] for i in range(0, 16, 4))


def test_a_swapped_joint_key_is_refused_before_encrypting(
    served: Served,
    ca: TestCa,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    el, proxy = served.el, served.proxy
    attacker = own_key(el).to_hex()
    # a proxy that swaps the key in what it forwards: the entries are not the signed head's
    proxy.rewrite_entries = lambda entries: with_pk(entries, attacker)
    assert failed_check(proxy.url, el.id, served.fp) == "pin.entries"
    # `vote cast` stops before the card is touched, naming the check
    opened = use_card(monkeypatch, issue_card(ca, "pin-swap"))
    code = cast_cli(proxy.url, served, served.codes[0])
    err = capsys.readouterr().err
    assert code == 2 and "pin.entries" in err and "do not vote there" in err, err
    assert opened == []
    proxy.rewrite_entries = None

    # the board itself, with its key, signs a log with the swapped key: the administrator's
    # signature on the joint key entry fails
    real = served.entries()
    proxy.fake = FakeLog(el.id, with_pk(real, attacker), el.board)
    assert failed_check(proxy.url, el.id, served.fp) == "pin.bad_signature"
    # the board and the administrator together: a signed joint key that is not the outcome
    # of the key ceremony on the record
    forged = []
    for e in real:
        if e["type"] == "joint_key":
            body = {**e["body"], "pk": attacker}
            e = parse_canonical_json(
                sign_envelope(el.admin, el.id, "joint_key", "admin", body).to_bytes()
            )
        forged.append(e)
    proxy.fake = FakeLog(el.id, forged, el.board)
    assert failed_check(proxy.url, el.id, served.fp) == "pin.bad_body"
    # a head signed by another key than the manifest's board key
    proxy.fake = FakeLog(el.id, real, Ed25519PrivateKey.generate())
    assert failed_check(proxy.url, el.id, served.fp) == "tree_head.signature"
    # a signed head of more entries than the board will serve (withheld entries)
    longer = FakeLog(el.id, [*real, real[-1]], el.board)
    proxy.fake = FakeLog(el.id, real, el.board)
    proxy.fake.head = longer.head
    with pytest.raises(VerificationError, match="no entry") as caught:
        fetch(proxy.url, el.id, served.fp)
    assert caught.value.check == "pin.entries"
    proxy.fake = None
    assert fetch(proxy.url, el.id, served.fp).pk is not None


def test_a_manifest_of_another_election_is_refused(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    el, proxy = served.el, served.proxy
    other = Election(DeterministicRandom(b"another election"), election_id=el.id)
    # pinned to another election's fingerprint
    assert failed_check(proxy.url, el.id, other.fingerprint) == "pin.fingerprint"
    # the board serves another manifest (its own administrator's, correctly signed)
    swapped = parse_canonical_json(
        other.admin_entry("manifest", {"manifest": other.manifest.to_json()}).to_bytes()
    )
    proxy.rewrite_entries = lambda entries: [
        swapped if e["type"] == "manifest" else e for e in entries
    ]
    assert failed_check(proxy.url, el.id, served.fp) == "pin.fingerprint"
    code = main(["vote", "show", *pinned(proxy.url, served)])
    err = capsys.readouterr().err
    assert code == 2 and "pin.fingerprint" in err, err
    proxy.rewrite_entries = None
    code = main(["vote", "show", *pinned(proxy.url, served, "not hex")])
    assert code == 2 and "64 hexadecimal digits" in capsys.readouterr().err
    code = main(["vote", "show", *pinned(proxy.url, served)])
    out = capsys.readouterr().out
    assert code == 0 and served.fp.hex()[:4] in out and "phase: voting" in out


def test_a_manifest_of_another_election_id_is_refused(served: Served) -> None:
    """The pinned manifest, served under another election id than the one asked for."""
    el = served.el
    renamed = Manifest.from_json({**el.manifest.to_json(), "election_id": "pin-other"})
    entry = parse_canonical_json(
        sign_envelope(
            el.admin, "pin-other", "manifest", "admin", {"manifest": renamed.to_json()}
        ).to_bytes()
    )
    served.proxy.rewrite_entries = lambda entries: [
        entry if e["type"] == "manifest" else e for e in entries
    ]
    assert failed_check(served.proxy.url, el.id, renamed.fingerprint()) == "pin.election"


def test_a_dropped_ballot_with_another_voters_receipt_is_reported(
    served: Served,
    ca: TestCa,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    el, proxy = served.el, served.proxy
    rng = DeterministicRandom(b"drop")
    info = fetch(served.url, el.id, served.fp)
    hanako = issue_card(ca, "pin-hanako", HANAKO)
    genuine, _ = vote(served.url, info, hanako, served.codes[0], "a", rng)  # a real receipt
    size = served.size()

    # Jiro casts through the proxy, which drops his ballot and returns Hanako's receipt
    proxy.ballot_answer = genuine
    jiro = issue_card(ca, "pin-jiro", JIRO)
    with pytest.raises(NotRecorded) as caught:
        vote(proxy.url, fetch(proxy.url, el.id, served.fp), jiro, served.codes[1], "b", rng)
    assert caught.value.check == "receipt.ballot"
    assert caught.value.evidence["receipt"] == genuine["receipt"]
    assert caught.value.evidence["entry"]["type"] == "ballot"
    # the same through `tohyo vote cast`: said plainly, the evidence kept, exit 1
    use_card(monkeypatch, jiro)
    evidence = tmp_path / "jiro.json"
    code = cast_cli(proxy.url, served, served.codes[1], "--receipt", str(evidence))
    out = capsys.readouterr().out
    assert code == 1 and "does NOT show your ballot" in out, out
    assert "Your ballot was cast" not in out
    kept = json.loads(evidence.read_text())
    assert kept["check"] == "receipt.ballot" and kept["receipt"] == genuine["receipt"]
    assert proxy.dropped == 2 and served.size() == size  # nothing reached the board

    # a receipt whose index was changed (for a ballot the board does not show): signature
    proxy.ballot_answer = {
        **genuine,
        "receipt": {**genuine["receipt"], "index": genuine["receipt"]["index"] - 1},
    }
    with pytest.raises(NotRecorded) as caught:
        vote(proxy.url, info, jiro, served.codes[1], "b", rng)
    assert caught.value.check == "receipt.signature"
    # honest: Jiro's own ballot, checked, then "cast"
    proxy.ballot_answer = None
    doc, ballot = vote(proxy.url, info, jiro, served.codes[1], "b", rng)
    assert served.size() == size + 1
    entry = served.entries()[doc["receipt"]["index"]]
    assert entry["body"]["ballot"] == ballot


def test_each_check_of_the_cast_catches_its_own_lie(served: Served) -> None:
    """A board that shows the device one history and stores the ballot in another; that serves
    another entry at the receipt's index; that stores the ballot in an entry the registrar did
    not sign, with a receipt for it under the board's key."""
    el, proxy = served.el, served.proxy
    rng = DeterministicRandom(b"each check")
    voter = issue_card(served.ca, "pin-each", HANAKO)
    real = served.entries()
    n = len(real)
    stand_in = {**real[0], "type": "ballot", "signature": "00" * 64}  # never a valid entry
    # 1. the election read in a history that the receipt's head contradicts
    proxy.fake = FakeLog(el.id, [*real, stand_in], el.board)
    shown = fetch(proxy.url, el.id, served.fp)
    proxy.fake = None
    with pytest.raises(NotRecorded) as caught:
        vote(proxy.url, shown, voter, served.codes[0], "a", rng)
    assert caught.value.check == "board.same_size_roots"
    assert len(caught.value.evidence["tree_heads"]) == 2
    # 2. the board serves another entry at the receipt's index than the one it signed
    info = fetch(served.url, el.id, served.fp)
    proxy.rewrite_entries = lambda entries: [
        {**e, "signature": "00" * 64} if e["type"] == "ballot" else e for e in entries
    ]
    with pytest.raises(NotRecorded) as caught:
        vote(proxy.url, info, voter, served.codes[0], "b", rng)
    assert caught.value.check == "receipt.entry_hash"
    proxy.rewrite_entries = None
    # 3. the ballot stored in an entry signed by someone else than the registrar, with a
    # receipt the board signed for it
    info = fetch(served.url, el.id, served.fp)
    assert info.tree_head is not None
    now = served.entries()

    def store_unattested(body: bytes) -> dict[str, Any]:
        ballot = json.loads(body)["ballot"]
        entry = parse_canonical_json(
            sign_envelope(
                Ed25519PrivateKey.generate(),
                el.id,
                "ballot",
                "registrar",
                {"v": 1, "ballot": ballot, "attestation": {}},
            ).to_bytes()
        )
        log = FakeLog(el.id, [*now, entry], el.board)
        proxy.fake = log
        index = len(now)
        receipt = sign_receipt(
            el.board,
            el.id,
            index,
            log.log.leaf_hash(index),
            log.head,
            log.log.inclusion_proof(index, index + 1),
        )
        return {"receipt": receipt.to_json(), "replaced_earlier_ballot": 0}

    proxy.ballot_answer = store_unattested
    with pytest.raises(NotRecorded) as caught:
        vote(proxy.url, info, voter, served.codes[0], "c", rng)
    assert caught.value.check == "receipt.entry_signature"
    # 4. no receipt at all, a receipt of another election, no entry at the index
    other = FakeLog("pin-other", now, el.board)
    answers = {
        "receipt.format": {"receipt": {"v": 2}, "replaced_earlier_ballot": 0},
        "receipt.election": {
            "receipt": sign_receipt(
                el.board,
                "pin-other",
                0,
                other.log.leaf_hash(0),
                other.head,
                other.log.inclusion_proof(0, len(now)),
            ).to_json(),
            "replaced_earlier_ballot": 0,
        },
    }
    proxy.fake = None
    for check, answer in answers.items():
        proxy.ballot_answer = answer
        with pytest.raises(NotRecorded) as caught:
            vote(proxy.url, info, voter, served.codes[0], "c", rng)
        assert caught.value.check == check
    proxy.ballot_answer = None
    proxy.rewrite_entries = lambda entries: []
    with pytest.raises(NotRecorded) as caught:
        vote(proxy.url, info, voter, served.codes[0], "c", rng)
    assert caught.value.check == "receipt.entry"
    proxy.rewrite_entries = None
    assert len(served.entries()) == n + 3  # the three ballots the real board stored


def test_check_receipt_reports_a_fork_and_a_ballot_that_is_not_yours(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    el, proxy = served.el, served.proxy
    rng = DeterministicRandom(b"fork")
    info = fetch(served.url, el.id, served.fp)
    doc, ballot = vote(
        served.url, info, issue_card(served.ca, "pin-fork", HANAKO), served.codes[0], "c", rng
    )
    receipt = tmp_path / "receipt.json"
    session.save_receipt(receipt, doc, info, served.url, ballot)
    assert asyncio.run(check_receipt(receipt, proxy.url)).included
    assert main(["vote", "check-receipt", str(receipt), "--board", proxy.url]) == 0
    capsys.readouterr()

    # the board (with its key) now shows a longer history in which another entry took the
    # ballot's place
    real = served.entries()
    index = doc["receipt"]["index"]
    phase = parse_canonical_json(el.admin_entry("phase", {"phase": "closed"}).to_bytes())
    other_entry = {**real[index], "signature": "00" * 64}
    proxy.fake = FakeLog(el.id, [*real[:index], other_entry, phase], el.board)
    result = asyncio.run(check_receipt(receipt, proxy.url))
    assert result.kind == "forked" and not result.included
    assert result.evidence is not None and len(result.evidence["tree_heads"]) == 2
    code = main(["vote", "check-receipt", str(receipt), "--board", proxy.url])
    captured = capsys.readouterr()
    assert code == 1 and "contradicts your receipt" in captured.out
    heads = json.loads(captured.err)["tree_heads"]
    # the receipt's head and the board's later one: both signed, not consistent
    assert sorted(h["tree_size"] for h in heads) == [
        doc["receipt"]["tree_head"]["tree_size"],
        index + 2,
    ]
    proxy.fake = None

    # a receipt file whose ballot is not the one at the receipt's place (the board gave this
    # device the receipt of another entry, found later)
    other = json.loads(receipt.read_text())
    other_ballot = encrypt_ballot(info.manifest, info.pk, {"mayor": ["a"]}, rng).ballot
    other["ballot"] = other_ballot.to_json()
    mine = tmp_path / "not-mine.json"
    mine.write_bytes(canonical_json(other))
    result = asyncio.run(check_receipt(mine, proxy.url))
    assert result.kind == "not_yours" and result.evidence is not None
    assert result.evidence["check"] == "receipt.ballot"
    assert main(["vote", "check-receipt", str(mine)]) == 1
    assert "NOT your ballot" in capsys.readouterr().out
    # a receipt file whose board key is not the pinned manifest's
    doctored = json.loads(receipt.read_text())
    doctored["board_key"] = "11" * 32
    mine.write_bytes(canonical_json(doctored))
    assert asyncio.run(check_receipt(mine, proxy.url)).kind == "forged"
    # another election's fingerprint given with the receipt: refused
    assert main(["vote", "check-receipt", str(receipt), "--fingerprint", "00" * 32]) == 2


def test_the_benaloh_audit_takes_the_election_from_the_board(
    served: Served,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    el = served.el
    info = fetch(served.url, el.id, served.fp)
    assert info.pk is not None
    rng = DeterministicRandom(b"audit")
    pin = ["--board", served.proxy.url, "--fingerprint", served.fp.hex()]
    honest = tmp_path / "honest.json"
    encrypted = encrypt_ballot(info.manifest, info.pk, {"mayor": ["b"]}, rng)
    honest.write_bytes(canonical_json(audit_record(info.manifest, info.pk, encrypted)))
    assert main(["verify", "ballot", str(honest), *pin]) == 0
    out = capsys.readouterr().out
    assert "AUDIT PASSED" in out and "石田" in out

    # a device that encrypts under its own key writes a file consistent in itself
    own = own_key(el)
    cheating = tmp_path / "cheating.json"
    encrypted = encrypt_ballot(info.manifest, own, {"mayor": ["b"]}, rng)
    cheating.write_bytes(canonical_json(audit_record(info.manifest, own, encrypted)))
    assert main(["verify", "ballot", str(cheating), *pin]) == 1
    assert "AUDIT FAILED: A5 joint key" in capsys.readouterr().out
    # and it cannot bring the board along: a proxy serving its key is refused first
    served.proxy.rewrite_entries = lambda entries: with_pk(entries, own.to_hex())
    assert main(["verify", "ballot", str(cheating), *pin]) == 1
    assert "pin.entries" in capsys.readouterr().out
    served.proxy.rewrite_entries = None


def test_twenty_trustees_all_entries_are_read(
    tmp_path: Path, ca: TestCa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key ceremony of 20 trustees is hundreds of entries: the client reads them page by
    page (the proxy serves pages of 25) and finds the joint key."""
    from mixnet.groups import get_group
    from simulations.world import election_manifest
    from trustees.config import generate_trustee_keys

    rng = DeterministicRandom(b"twenty")
    el = Election(rng, election_id="pin-twenty")
    el.trustee_keys = [generate_trustee_keys(rng) for _ in range(20)]
    el.manifest = election_manifest(
        el,
        get_group(GROUP),
        election_id=el.id,
        title="二十人",
        options=el.manifest.contests[0].options,
        threshold=11,
    )
    el.fingerprint = el.manifest.fingerprint()
    for s in serve_election(tmp_path, ca, el, monkeypatch):
        s.proxy.page = 25
        entries = s.entries()
        key_at = next(i for i, e in enumerate(entries) if e["type"] == "joint_key")
        assert key_at > 200  # beyond what one fixed-size read would see
        info = fetch(s.proxy.url, el.id, el.fingerprint)
        assert info.pk is not None and info.phase == "voting"
        assert info.pk.to_hex() == entries[key_at]["body"]["pk"]

        async def pinned_head(url: str) -> int:
            async with pinned_board(url, el.id, el.fingerprint) as (_, pinned):
                assert pinned.tree_head is not None
                return pinned.tree_head.tree_size

        assert asyncio.run(pinned_head(s.proxy.url)) == len(entries)
