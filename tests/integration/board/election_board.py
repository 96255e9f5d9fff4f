"""`tohyo board serve` under the election policy, as production runs it, for the board's tests.

The board process takes only the elections of the administrator key it is given
(`--admin-key`), signs with the key the test election's manifest names, and, with
`registrar=True`, serves the voters' ballot endpoint (`--registrar`). Test groups keep the
cryptography fast; every other rule is the production one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.entry import Envelope, sign_envelope
from bulletin_board.keyfile import KEY_PASSPHRASE_ENV
from bulletin_board.testing import BoardProcess
from election.entries import Ballot
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.rng import DeterministicRandom
from tests.integration.election_helpers import Election

__all__ = ["ballot_entry", "election_board", "write_key_file"]


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
    directory: Path, el: Election, *extra: str, db: str | None = None, registrar: Path | None = None
) -> BoardProcess:
    """A board process (not started) for `el`: its key is the one the manifest names, its
    administrator the manifest's; `registrar`: a registrar settings file (the /ballots
    endpoint). `db`: a SQLite path or a PostgreSQL DSN (default: a file in `directory`)."""
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
        log_path=str(directory / "board.log"),
        extra=(*flags, *extra),
    )


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
