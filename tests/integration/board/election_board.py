"""`tohyo board serve` under the election policy, as production runs it, for the board's tests.

The board process takes only the elections of the administrator key it is given
(`--admin-key`), signs with the key the test election's manifest names, and, with
`registrar=True`, serves the voters' ballot endpoint (`--registrar`). Test groups keep the
cryptography fast; every other rule is the production one.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.client import BoardClient
from bulletin_board.entry import Envelope, sign_envelope
from bulletin_board.keyfile import KEY_PASSPHRASE_ENV
from bulletin_board.testing import BoardProcess, Keys
from election.entries import Ballot
from jpki.registrar import sign_attestation
from jpki.testca import TestCa
from jpki.voting_codes import generate_voting_codes
from mixnet import elgamal
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election
from tests.integration.test_ballot_intake import _write_settings, open_voting

__all__ = ["Scenario", "ballot_entry", "election_board", "registrar_settings", "write_key_file"]


def write_key_file(path: Path, key: Ed25519PrivateKey) -> None:
    """`key` as the board reads its key files (PKCS#8 PEM under the tests' passphrase)."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(os.environ[KEY_PASSPHRASE_ENV].encode()),
        )
    )


def election_board(
    directory: Path,
    el: Election,
    *extra: str,
    db: str | None = None,
    registrar: Path | None = None,
    port: int = 0,
) -> BoardProcess:
    """A board process (not started) for `el`: its key is the one the manifest names, its
    administrator the manifest's; `registrar`: a registrar settings file (the /ballots
    endpoint). `db`: a SQLite path or a PostgreSQL DSN (default: a file in `directory`);
    `port`: 0 for any free port."""
    key_path = directory / "board.pem"
    if not key_path.exists():
        write_key_file(key_path, el.board)
    flags: tuple[str, ...] = (
        "--policy",
        "election",
        "--allow-test-groups",
        "--admin-key",
        el.manifest.admin_key,
    )
    if registrar is not None:
        flags += ("--registrar", str(registrar))
    return BoardProcess(
        db or str(directory / "board.sqlite"),
        key_path,
        port,
        log_path=str(directory / "board.log"),
        extra=(*flags, *extra),
    )


def registrar_settings(directory: Path, el: Election) -> tuple[Path, TestCa, list[str]]:
    """A registrar settings file for `el` in `directory` (its test CA the trust anchor, two
    one-time voting codes): (the file, the CA, the codes)."""
    ca = TestCa.create()
    csv_text, hashes = generate_voting_codes(2)
    settings = _write_settings(directory, el, ca, frozenset(hashes))
    return settings, ca, [line.split(",")[1] for line in csv_text.splitlines()[1:]]


def ballot_entry(el: Election, pk: Any, rng: DeterministicRandom, voter: int) -> Envelope:
    """A valid ballot entry of voter number `voter`, attested by the election's registrar."""
    row, rs = elgamal.encrypt_row(pk, [1 + voter % len(el.manifest.contests[0].options)], rng)
    ballot = Ballot.create(el.fingerprint, pk, row, rs, Ed25519PrivateKey.generate(), rng)
    attestation = sign_attestation(
        el.registrar, el.fingerprint, voter.to_bytes(32, "big"), ballot.hash(el.fingerprint)
    )
    return sign_envelope(
        el.registrar,
        el.id,
        "ballot",
        "registrar",
        {"v": 1, "ballot": ballot.to_json(), "attestation": attestation.to_json()},
    )


class Scenario:
    """One election on a board process, and the entries clients keep posting to it: bare
    signed entries under the registry policy (an open board), or real attested ballots under
    the election policy as production serves it."""

    def __init__(
        self, policy: str, directory: Path, election: str, *extra: str, port: int = 0
    ) -> None:
        self.policy, self.directory, self.election = policy, directory, election
        self.extra, self.port = extra, port
        if policy == "registry":
            self.keys = Keys()
        else:
            self.rng = DeterministicRandom(b"board scenario " + election.encode())
            self.el = Election(self.rng, election_id=election)
            self.voters = itertools.count()

    def process(self, db: str) -> BoardProcess:
        """A board process (not started) on database `db`, at the scenario's port."""
        if self.policy == "registry":
            return BoardProcess(
                db,
                self.directory / "board.pem",
                self.port,
                str(self.directory / "board.log"),
                extra=("--policy", "registry", "--open-elections", *self.extra),
            )
        return election_board(self.directory, self.el, *self.extra, db=db, port=self.port)

    async def open(self, client: BoardClient) -> None:
        """Open the election up to voting."""
        if self.policy == "registry":
            await client.post(self.keys.registry(self.election))
            for phase in ("key_ceremony", "voting"):
                await client.post(self.keys.phase(self.election, phase))
        else:
            self.pk = await open_voting(client, self.el, self.rng)

    def entry(self) -> Envelope:
        """A new ballot entry, valid for the election."""
        if self.policy == "registry":
            return self.keys.ballot(self.election)
        return ballot_entry(self.el, self.pk, self.rng, next(self.voters))
