"""A whole election through a real board over HTTP: the record producer shared by tests.

Manifest → key ceremony (DKG messages posted and read back) → joint key → ballots (with
registrar attestations; re-votes; refused copies, forgeries and wrong phases) → close →
mix input → mix servers → decryption shares (t of n) → result (counted with
`election.counting`) → tallied. Used by `test_election_on_board.py` and the verifier tests;
`key_ceremony_on_board` also by the tests that only need voting open.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Board
from bulletin_board.client import BoardClient, BoardRefusedError
from bulletin_board.entry import decode_envelope, sign_envelope
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election import rules
from election.entries import Ballot, mix_context
from election.manifest import Option
from election.policy import ElectionPolicy, ceremony_config, joint_key_body, mix_input_of
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import ShuffleWitness, shuffle
from mixnet.transcript import Transcript
from simulations.world import election_manifest
from trustees.config import generate_trustee_keys
from trustees.decryption import (
    DecryptionShare,
    combine_lists,
    make_share,
    share_entry_body,
    share_entry_values,
)
from trustees.dkg import CLOSED, DkgOutcome, DkgTrustee
from trustees.messages import decode_message
from trustees.testing import CeremonyDriver

E = "test-city-2026"
GROUP = "test-schnorr-512-128"


class Election:
    """Everyone's keys and the manifest, for one test election."""

    def __init__(self, rng: DeterministicRandom, *, election_id: str = E, mixers: int = 2) -> None:
        self.rng = rng
        self.id = election_id
        self.admin = Ed25519PrivateKey.generate()
        self.registrar = Ed25519PrivateKey.generate()
        self.board = Ed25519PrivateKey.generate()
        self.trustee_keys = [generate_trustee_keys(rng) for _ in range(3)]
        self.mixers = [Ed25519PrivateKey.generate() for _ in range(mixers)]
        self.manifest = election_manifest(
            self,
            get_group(GROUP),
            election_id=election_id,
            title="テスト市長選挙",
            options=(Option("a", "青木"), Option("b", "石田"), Option("c", "上野")),
            threshold=2,
        )
        self.fingerprint = self.manifest.fingerprint()

    def admin_entry(self, type_: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
        return sign_envelope(self.admin, self.id, type_, "admin", body)

    def key_of(self, author: str) -> Ed25519PrivateKey:
        """The signing key of an author of the manifest (to re-sign doctored entries)."""
        if author == "admin":
            return self.admin
        if author == "registrar":
            return self.registrar
        kind, _, number = author.rpartition("-")
        if kind == "trustee":
            return self.trustee_keys[int(number) - 1].ed25519_key()
        return self.mixers[int(number) - 1]


@dataclass
class ElectionRun:
    """What happened, for the tests that check or doctor the record."""

    intended: dict[int, int] = field(default_factory=dict)  # voter -> option index
    shuffles: list[tuple[list[Any], list[Any], ShuffleWitness]] = field(default_factory=list)
    machines: list[DkgTrustee] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    receipts: list[dict[str, Any]] = field(default_factory=list)  # of the voters' ballots


async def refused(client: BoardClient, envelope: Any) -> str:
    with pytest.raises(BoardRefusedError) as info:
        await client.post(envelope)
    assert 400 <= info.value.status < 500
    return info.value.code


async def key_ceremony_on_board(
    client: BoardClient, el: Election, machines: list[DkgTrustee], rounds: int = 20
) -> DkgOutcome:
    """Run the key ceremony through the board: each trustee's messages are signed and posted,
    read back and shown to every trustee in board order (`trustees.testing.CeremonyDriver`);
    when a round brings nothing new, the administrator closes it (a `dkg_round` entry).
    Returns the joint outcome (the caller posts the joint key, which closes the ceremony)."""
    driver = CeremonyDriver({m.index: m for m in machines})
    group = get_group(el.manifest.group["name"])
    seen = 0

    async def post(outgoing: list[tuple[int, Any]]) -> None:
        for index, m in outgoing:
            key = el.trustee_keys[index - 1].ed25519_key()
            await client.post(
                sign_envelope(key, el.id, "dkg", f"trustee-{index}", m.to_json_value())
            )

    await post(driver.start())
    record = machines[0].record
    for _round in range(rounds):
        entries = [decode_envelope(x) for x in await client.entries(el.id, seen)]
        seen += len(entries)
        posted = [decode_message(dict(e.body), group) for e in entries if e.type == "dkg"]
        if not posted:
            round_ = record.next_round()
            if round_ == CLOSED:
                break
            await client.post(el.admin_entry("dkg_round", {"v": 1, "round": round_}))
            seen += 1
            await post(driver.close(round_))
        for msg in posted:
            await post(driver.deliver(msg))
    assert record.next_round() == CLOSED, "the key ceremony did not finish"
    return record.outcome()


async def run_election(
    client: BoardClient, board: Board, el: Election, voters: int = 12
) -> ElectionRun:
    """Post a whole election (and check the board's refusals on the way)."""
    rng = el.rng
    group = get_group(GROUP)
    run = ElectionRun()
    E = el.id
    # a ballot before anything exists is refused
    assert (
        await refused(client, el.admin_entry("phase", {"phase": "key_ceremony"}))
        == "unknown_election"
    )
    # a manifest signed by someone else is refused
    forged = sign_envelope(
        Ed25519PrivateKey.generate(), E, "manifest", "admin", {"manifest": el.manifest.to_json()}
    )
    assert await refused(client, forged) == "bad_signature"
    await client.post(el.admin_entry("manifest", {"manifest": el.manifest.to_json()}))
    # the production policy refuses a test group
    strict = ElectionPolicy()
    with pytest.raises(Exception, match="tests or benchmarks only"):
        strict.check(
            strict.initial_state(E), el.admin_entry("manifest", {"manifest": el.manifest.to_json()})
        )
    # voting cannot open before the key ceremony
    await client.post(el.admin_entry("phase", {"phase": "key_ceremony"}))
    assert await refused(client, el.admin_entry("phase", {"phase": "voting"})) == "wrong_phase"

    # ---- key ceremony: every message goes through the board and is read back
    config = ceremony_config(el.manifest)
    machines = [DkgTrustee(config, i + 1, k, rng) for i, k in enumerate(el.trustee_keys)]
    run.machines = machines
    outcome = await key_ceremony_on_board(client, el, machines)
    # a wrong joint key is refused, the right one accepted
    wrong = joint_key_body(outcome) | {"pk": group.generator().to_hex()}
    assert await refused(client, el.admin_entry("joint_key", wrong)) == "bad_body"
    await client.post(el.admin_entry("joint_key", joint_key_body(outcome)))
    for machine in machines:
        machine.close_round(CLOSED)  # the joint key entry closes the ceremony
    await client.post(el.admin_entry("phase", {"phase": "voting"}))
    pk = outcome.pk

    # ---- voting
    ballots = []

    async def cast(voter: int, choice: int) -> Ballot:
        row, rs = elgamal.encrypt_row(pk, [choice + 1], rng)
        ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
        pseudonym = voter.to_bytes(32, "big")
        att = sign_attestation(el.registrar, el.fingerprint, pseudonym, ballot.hash(el.fingerprint))
        receipt = await client.post(
            sign_envelope(
                el.registrar,
                E,
                "ballot",
                "registrar",
                {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()},
            )
        )
        run.receipts.append(receipt.to_json())
        run.intended[voter] = choice
        return ballot

    for voter in range(voters):
        ballots.append(await cast(voter, voter % 3))
    await cast(3, 2)  # voter 3 changes their mind: the later ballot counts
    await cast(5, 0)

    # refusals: a copied ballot under another pseudonym, a forged attestation,
    # a ballot signed by a trustee instead of the registrar
    copy = ballots[0]
    att = sign_attestation(
        el.registrar, el.fingerprint, (99).to_bytes(32, "big"), copy.hash(el.fingerprint)
    )
    body = {"v": 1, "ballot": copy.to_json(), "attestation": att.to_json()}
    assert (
        await refused(client, sign_envelope(el.registrar, E, "ballot", "registrar", body))
        == "duplicate_ciphertext"
    )
    row, rs = elgamal.encrypt_row(pk, [1], rng)
    b = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
    fake = sign_attestation(
        Ed25519PrivateKey.generate(),
        el.fingerprint,
        (98).to_bytes(32, "big"),
        b.hash(el.fingerprint),
    )
    body = {"v": 1, "ballot": b.to_json(), "attestation": fake.to_json()}
    assert (
        await refused(client, sign_envelope(el.registrar, E, "ballot", "registrar", body))
        == "bad_signature"
    )
    tkey = el.trustee_keys[0].ed25519_key()
    assert (
        await refused(client, sign_envelope(tkey, E, "ballot", "trustee-1", body))
        == "unauthorised_signer"
    )

    info = board.describe(E)["policy"]
    assert (info["ballots"], info["superseded"], info["voters"]) == (voters + 2, 2, voters)

    # ---- close and mix input
    await client.post(el.admin_entry("phase", {"phase": "closed"}))
    assert (
        await refused(client, sign_envelope(el.registrar, E, "ballot", "registrar", body))
        == "wrong_phase"
    )
    state = board._elections[E].state
    indices, rows_json = mix_input_of(state)
    assert len(rows_json) == voters
    rows = elgamal.rows_from_json(pk.group, rows_json, el.manifest.width)
    bad = {
        "v": 1,
        "entries": indices[:-1],
        "contests": rules.contest_lists_json(el.manifest, rows_json[:-1]),
    }
    assert await refused(client, el.admin_entry("mix_input", bad)) == "bad_body"
    whole = {"v": 1, "entries": indices, "rows": rows_json}  # the old shape: whole rows
    assert await refused(client, el.admin_entry("mix_input", whole)) == "bad_body"
    await client.post(
        el.admin_entry(
            "mix_input",
            {
                "v": 1,
                "entries": indices,
                "contests": rules.contest_lists_json(el.manifest, rows_json),
            },
        )
    )
    await client.post(el.admin_entry("phase", {"phase": "mixing"}))

    # ---- mixing, in order: each contest's list with its own permutation and proof
    current = rules.contest_lists(el.manifest, rows)
    for k, key in enumerate(el.mixers, start=1):
        parts, outs, witnesses = [], [], []
        for contest, inputs in current:
            outputs, witness = shuffle(pk, inputs, rng)
            statement = shuffle_proof.ShuffleStatement(pk, inputs, outputs, el.fingerprint)
            proof = shuffle_proof.prove(
                statement,
                witness,
                transcript=Transcript(mix_context(el.fingerprint, k, contest)),
                rng=rng,
            )
            shuffle_proof.verify(
                statement, proof, transcript=Transcript(mix_context(el.fingerprint, k, contest))
            )
            parts.append(
                {
                    "contest": contest,
                    "outputs": [elgamal.row_to_json(r) for r in outputs],
                    "proof": proof.to_json(),
                }
            )
            outs.append((contest, outputs))
            witnesses.append(witness)
        body = {"v": 1, "position": k, "contests": parts}
        if k == 1 and len(el.mixers) > 1:  # mixer 2 cannot jump the queue
            early = sign_envelope(el.mixers[1], E, "shuffle", "mix-2", body | {"position": 2})
            assert await refused(client, early) == "wrong_phase"
        await client.post(sign_envelope(key, E, "shuffle", f"mix-{k}", body))
        run.shuffles.append((list(current[0][1]), list(outs[0][1]), witnesses[0]))
        current = outs
    await client.post(el.admin_entry("phase", {"phase": "decrypting"}))

    # ---- decryption: trustees 1 and 3 post shares; result; tallied
    for m in (machines[0], machines[2]):
        assert m.key_share is not None
        mine = [
            (c, make_share(m.key_share, part, election=el.fingerprint, rng=rng))
            for c, part in current
        ]
        key = el.trustee_keys[m.index - 1].ed25519_key()
        await client.post(
            sign_envelope(
                key, E, "decryption_share", f"trustee-{m.index}", share_entry_body(m.index, mine)
            )
        )
    posted = [decode_envelope(x) for x in await client.entries(E, 0, 500)]
    contests = [c for c, _ in current]
    from_board = [
        (
            e.body["trustee"],
            [
                DecryptionShare.from_json_value(v, group)
                for v in share_entry_values(e.body, contests)
            ],
        )
        for e in posted
        if e.type == "decryption_share"
    ]
    result = combine_lists(
        current, from_board, outcome.verification_keys, 2, election=el.fingerprint, bound=4
    )
    plaintexts = rules.published_plaintexts(result.plaintexts)
    tally = rules.count_plaintexts(el.manifest, dict(result.plaintexts))
    intended = Counter(run.intended.values())
    options = el.manifest.contests[0].options
    assert tally["mayor"]["counts"] == {o.id: intended.get(i, 0) for i, o in enumerate(options)}
    run.result = {"v": 1, "trustees": list(result.used), "plaintexts": plaintexts, "tally": tally}
    await client.post(el.admin_entry("result", run.result))
    await client.post(el.admin_entry("phase", {"phase": "tallied"}))
    assert board.describe(E)["policy"]["phase"] == "tallied"
    return run


async def election_on_board(
    tmp_path: Path, el: Election, export_dir: Path | None = None, voters: int = 12
) -> ElectionRun:
    """Run the election on a fresh board at tmp_path/board.sqlite; export it if asked."""
    board = Board(
        SqliteStorage(tmp_path / "board.sqlite"), el.board, ElectionPolicy(allow_test_groups=True)
    )
    server = BoardServer(board)
    await server.start()
    try:
        async with BoardClient(server.url) as client:
            run = await run_election(client, board, el, voters)
            if export_dir is not None:
                await client.export(el.id, export_dir)
    finally:
        await server.stop()
    return run


def exported_election(
    tmp_path: Path, seed: bytes = b"election on board", voters: int = 12
) -> tuple[Election, ElectionRun, Path]:
    """A whole election run through a board and exported to tmp_path/record."""
    el = Election(DeterministicRandom(seed))
    out = tmp_path / "record"
    run = asyncio.run(election_on_board(tmp_path, el, out, voters))
    return el, run, out
