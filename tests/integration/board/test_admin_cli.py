"""`tohyo admin publish|open|close|status` against a board process over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import decode_envelope, sign_envelope
from bulletin_board.keyfile import KEY_PASSPHRASE_ENV, load_or_create_key
from bulletin_board.log import public_key_hex
from bulletin_board.testing import BoardProcess, free_port
from election.definition import EXAMPLE, load_definition, manifest_from_definition
from election.entries import Ballot
from election.manifest import Manifest
from election.policy import ceremony_config
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import Element
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import GROUP, Election
from tohyo.cli import main
from trustees.config import TrusteePrivateKeys
from trustees.decryption import make_share, share_entry_body
from trustees.dkg import CLOSED, DkgTrustee, RoundClose
from trustees.messages import decode_message
from trustees.mixer import Lists
from trustees.mixer import mix as mix_lists

E = "tsukuba-2026-mayor"  # the example's election id
TEST_GROUPS = ("--policy", "election", "--allow-test-groups", "--open-elections")


@pytest.fixture
def board(tmp_path: Path) -> Iterator[BoardProcess]:
    proc = BoardProcess(str(tmp_path / "board.db"), tmp_path / "board.pem", extra=TEST_GROUPS)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def election() -> Election:
    return Election(DeterministicRandom(b"admin cli"), election_id=E, mixers=3)


def write_definition(path: Path, el: Election, *, admin: str = "", board: str = "") -> Path:
    """The example definition with the test election's keys and a test group."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r'^group = "[^"]*"', f'group = "{GROUP}"', text, flags=re.MULTILINE)
    # a voting period that includes now: the board refuses ballots outside it
    hour = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).replace(
        minute=0, second=0, microsecond=0
    )
    for name, when in (
        ("voting_start", hour - dt.timedelta(days=1)),
        ("voting_end", hour + dt.timedelta(days=30)),
    ):
        text = re.sub(rf"^{name} = \S+", f"{name} = {when.isoformat()}", text, flags=re.MULTILINE)
    for t in el.manifest.trustees:
        text = text.replace('signing_key = ""', f'signing_key = "{t.signing_key}"', 1)
        text = text.replace('exchange_key = ""', f'exchange_key = "{t.exchange_key}"', 1)
    for m in el.manifest.mix_servers:
        text = text.replace('signing_key = ""', f'signing_key = "{m.signing_key}"', 1)
    text = text.replace('admin = ""', f'admin = "{admin}"')
    text = text.replace('registrar = ""', f'registrar = "{el.manifest.registrar_key}"')
    text = text.replace('board = ""', f'board = "{board}"')
    path.write_text(text, encoding="utf-8")
    return path


def admin(*args: str) -> int:
    return main(["admin", *args])


def board_args(board: BoardProcess, key: Path) -> list[str]:
    return ["--board", board.url, "--key", str(key), "--allow-test-groups"]


async def _describe(url: str) -> dict[str, Any]:
    async with BoardClient(url) as client:
        if E not in await client.elections():
            return {"tree_size": 0, "policy": {"phase": "none"}}
        return await client.election(E)


def describe(url: str) -> dict[str, Any]:
    return asyncio.run(_describe(url))


def refused(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> str:
    """Run `tohyo admin ARGS`: exit status 2, nothing on stdout, nothing written."""
    before = describe(url)
    capsys.readouterr()
    assert admin(*args) == 2
    out, err = capsys.readouterr()
    assert out == "" and describe(url) == before
    assert err.startswith("tohyo admin: ") and err.count("\n") == 1
    return err


async def run_key_ceremony(
    url: str, manifest: Manifest, keys: list[TrusteePrivateKeys], admin_open: Callable[[], int]
) -> list[DkgTrustee]:
    """Three trustees run the DKG through the board (their messages posted and read back);
    whenever the board falls quiet the administrator runs `tohyo admin open`, which closes
    the rounds that are complete and, at the end, posts the joint key and opens voting."""
    config = ceremony_config(manifest)
    group = manifest.group_object()
    rng = DeterministicRandom(b"admin cli ceremony")
    machines = [DkgTrustee(config, i + 1, k, rng) for i, k in enumerate(keys)]
    async with BoardClient(url) as client:

        async def post(index: int, messages: list[Any]) -> None:
            key = keys[index - 1].ed25519_key()
            for m in messages:
                await client.post(
                    sign_envelope(key, E, "dkg", f"trustee-{index}", m.to_json_value())
                )

        seen = (await client.election(E))["tree_size"]
        for m in machines:
            await post(m.index, m.start())
        for _round in range(12):
            entries = await client.entries(E, seen)
            seen += len(entries)
            for env in map(decode_envelope, entries):
                if env.type == "dkg":
                    event: Any = decode_message(dict(env.body), group)
                elif env.type in ("dkg_round", "joint_key"):
                    event = RoundClose(env.body["round"] if env.type == "dkg_round" else CLOSED)
                else:
                    continue
                for m in machines:
                    await post(m.index, m.feed(event))
            if all(m.phase.value == "done" for m in machines):
                return machines
            if not entries:
                await asyncio.to_thread(admin_open)
    raise AssertionError("the key ceremony did not finish")


async def cast(url: str, el: Election, manifest: Manifest, voter: int, choice: int) -> None:
    """A ballot with the registrar's attestation, as the ballot intake posts it."""
    fingerprint = manifest.fingerprint()
    async with BoardClient(url) as client:
        state = await client.entries(E, 0)
        pk_hex = next(
            decode_envelope(x).body["pk"] for x in state if decode_envelope(x).type == "joint_key"
        )
        pk: Element = manifest.group_object().element_from_hex(pk_hex)
        row, rs = elgamal.encrypt_row(pk, [choice + 1] + [0] * (manifest.width - 1), el.rng)
        ballot = Ballot.create(fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), el.rng)
        att = sign_attestation(
            el.registrar, fingerprint, voter.to_bytes(32, "big"), ballot.hash(fingerprint)
        )
        await client.post(
            sign_envelope(
                el.registrar,
                E,
                "ballot",
                "registrar",
                {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()},
            )
        )


async def entry_bodies(url: str, type_: str) -> list[Any]:
    async with BoardClient(url) as client:
        return [e.body for e in map(decode_envelope, await client.entries(E, 0)) if e.type == type_]


async def mix(url: str, el: Election, manifest: Manifest) -> Lists:
    """The mix servers shuffle each contest's list in turn; the last lists."""
    group, fingerprint = manifest.group_object(), manifest.fingerprint()
    pk = group.element_from_hex((await entry_bodies(url, "joint_key"))[0]["pk"])
    parts = (await entry_bodies(url, "mix_input"))[0]["contests"]
    current = [
        (p["contest"], elgamal.rows_from_json(group, p["rows"], c.width))
        for p, c in zip(parts, manifest.contests)
    ]
    async with BoardClient(url) as client:
        for k, key in enumerate(el.mixers, start=1):
            body = mix_lists(pk, current, fingerprint, k, rng=el.rng)
            await client.post(sign_envelope(key, E, "shuffle", f"mix-{k}", body))
            current = [
                (p["contest"], elgamal.rows_from_json(group, p["outputs"], c.width))
                for p, c in zip(body["contests"], manifest.contests)
            ]
    return current


async def decrypt(
    url: str, el: Election, manifest: Manifest, machines: list[DkgTrustee], rows: Lists
) -> None:
    """Trustees 1 and 3 post their decryption shares."""
    async with BoardClient(url) as client:
        for m in (machines[0], machines[2]):
            assert m.key_share is not None
            shares = [
                (c, make_share(m.key_share, part, election=manifest.fingerprint(), rng=el.rng))
                for c, part in rows
            ]
            key = el.trustee_keys[m.index - 1].ed25519_key()
            await client.post(
                sign_envelope(
                    key,
                    E,
                    "decryption_share",
                    f"trustee-{m.index}",
                    share_entry_body(m.index, shares),
                )
            )


def test_publish_open_close_tally(
    board: BoardProcess, election: Election, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_path = tmp_path / "admin.pem"
    load_or_create_key(key_path)
    definition = write_definition(tmp_path / "election.toml", election)
    assert admin("publish", str(definition), "--fill-keys", *board_args(board, key_path)) == 0
    out = capsys.readouterr().out
    assert f"keys.board filled in from the board: {board.key_hex}" in out
    assert f"published {E} on {board.url}: entry 0" in out
    assert describe(board.url)["policy"]["phase"] == "setup"
    defn = load_definition(definition)
    defn["keys"].update(
        admin=public_key_hex(load_or_create_key(key_path).public_key()), board=board.key_hex
    )
    manifest = manifest_from_definition(defn, allow_test_group=True)
    assert manifest.fingerprint().hex() in out

    common = [E, *board_args(board, key_path)]
    assert "voting is not open" in refused(capsys, board.url, "close", *common)
    assert admin("open", *common) == 0
    assert "the key ceremony is open" in capsys.readouterr().out
    err = refused(capsys, board.url, "open", *common)
    assert (
        "voting cannot open yet: the key ceremony is not finished (round 1: waiting for "
        "commitments of trustee 1, commitments of trustee 2"
    ) in err
    assert "cannot open yet" in refused(capsys, board.url, "open", *common, "--wait", "0.5")

    machines = asyncio.run(
        run_key_ceremony(board.url, manifest, election.trustee_keys, lambda: admin("open", *common))
    )
    out = capsys.readouterr().out
    assert "joint key posted" in out and f"{E}: voting is open" in out
    assert describe(board.url)["policy"]["phase"] == "voting"
    assert "phase voting: nothing to open" in refused(capsys, board.url, "open", *common)

    for voter, choice in ((1, 0), (2, 1), (1, 2)):  # voter 1 votes again
        asyncio.run(cast(board.url, election, manifest, voter, choice))
    assert admin("close", *common) == 0
    out = capsys.readouterr().out
    assert "voting is closed; 3 ballots from 2 voters (1 superseded by a re-vote)" in out
    assert "mix input posted: 2 ballots" in out
    assert "phase mixing" in refused(capsys, board.url, "close", *common)
    assert admin("status", E, "--board", board.url) == 0
    out = capsys.readouterr().out
    assert "phase      mixing" in out and "ballots    3 from 2 voters" in out

    err = refused(capsys, board.url, "tally", *common)
    assert "decryption cannot open yet: 0 of 3 mix servers have posted their shuffle" in err
    rows = asyncio.run(mix(board.url, election, manifest))
    assert admin("tally", *common) == 0
    assert "every mix server has shuffled" in capsys.readouterr().out
    err = refused(capsys, board.url, "tally", *common, "--wait", "0.5")
    assert "cannot be computed yet: 0 of the 2 decryption shares needed are posted" in err
    asyncio.run(decrypt(board.url, election, manifest, machines, rows))
    assert admin("tally", *common) == 0
    out = capsys.readouterr().out
    assert "result posted from the shares of trustees 1, 3; the election is tallied" in out
    assert re.search(r"aoki +0\n  ishida +1\n  ueno +1\n", out), out
    assert describe(board.url)["policy"]["phase"] == "tallied"
    assert "phase tallied: nothing to tally" in refused(capsys, board.url, "tally", *common)


def test_publish_refusals_write_nothing(
    board: BoardProcess,
    election: Election,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_path, other_path = tmp_path / "admin.pem", tmp_path / "other.pem"
    admin_hex = public_key_hex(load_or_create_key(key_path).public_key())
    load_or_create_key(other_path)
    good = write_definition(tmp_path / "good.toml", election, admin=admin_hex, board=board.key_hex)
    url = board.url

    def publish(path: Path, key: Path = key_path, *extra: str) -> str:
        return refused(capsys, url, "publish", str(path), *board_args(board, key), *extra)

    assert "no such file" in publish(tmp_path / "absent.toml")
    assert "no key file" in publish(good, tmp_path / "absent.pem")
    err = publish(good, other_path)
    assert "other.pem" in err and f"the manifest names {admin_hex}" in err
    wrong_board = write_definition(
        tmp_path / "wrong-board.toml", election, admin=admin_hex, board="ab" * 32
    )
    assert f"the key of the board at {url} is {board.key_hex}" in publish(wrong_board)
    assert "keys.admin is empty" in publish(write_definition(tmp_path / "e.toml", election))
    port = free_port()
    err = refused(
        capsys,
        url,
        "publish",
        str(good),
        "--board",
        f"http://127.0.0.1:{port}",
        "--key",
        str(key_path),
        "--allow-test-groups",
    )
    assert "cannot reach the board" in err
    monkeypatch.delenv(KEY_PASSPHRASE_ENV)
    assert KEY_PASSPHRASE_ENV in publish(good)
    monkeypatch.undo()

    # a manifest signed by another key than the one it names: refused, nothing written
    manifest = manifest_from_definition(load_definition(good), allow_test_group=True)
    forged = sign_envelope(
        load_or_create_key(other_path), E, "manifest", "admin", {"manifest": manifest.to_json()}
    )

    async def post_forged() -> None:
        async with BoardClient(url) as client:
            with pytest.raises(BoardRefusedError) as info:
                await client.post(forged)
            assert (info.value.status, info.value.code) == (403, "bad_signature")
            assert await client.elections() == []

    asyncio.run(post_forged())

    assert admin("publish", str(good), *board_args(board, key_path)) == 0
    assert "already on the board" in publish(good)


def test_board_refusal_is_reported_with_its_code(
    tmp_path: Path, election: Election, capsys: pytest.CaptureFixture[str]
) -> None:
    """A production board refuses a manifest in a test group: its code reaches stderr."""
    strict = BoardProcess(
        str(tmp_path / "b.db"),
        tmp_path / "b.pem",
        extra=("--policy", "election", "--open-elections"),
    )
    strict.start()
    try:
        key_path = tmp_path / "admin.pem"
        admin_hex = public_key_hex(load_or_create_key(key_path).public_key())
        good = write_definition(
            tmp_path / "good.toml", election, admin=admin_hex, board=strict.key_hex
        )
        err = refused(capsys, strict.url, "publish", str(good), *board_args(strict, key_path))
        assert "the board refused: bad_body (422)" in err
    finally:
        strict.stop()


def test_open_and_close_check_the_admin_key(
    board: BoardProcess, election: Election, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_path, other_path = tmp_path / "admin.pem", tmp_path / "other.pem"
    load_or_create_key(key_path)
    load_or_create_key(other_path)
    definition = write_definition(tmp_path / "election.toml", election)
    assert admin("publish", str(definition), "--fill-keys", *board_args(board, key_path)) == 0
    url = board.url
    assert "unknown_election (404)" in refused(
        capsys, url, "open", "no-such-election", *board_args(board, key_path)
    )
    for action in ("open", "close"):
        err = refused(capsys, url, action, E, *board_args(board, other_path))
        assert "other.pem" in err and "the manifest names" in err
    assert "phase      setup" in (admin("status", E, "--board", url), capsys.readouterr().out)[1]
