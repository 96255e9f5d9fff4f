"""The manifest, the administrator's definition and the ballot body."""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from election.definition import (
    EXAMPLE,
    DefinitionError,
    load_definition,
    manifest_from_definition,
)
from election.entries import Ballot
from election.manifest import Contest, Manifest, Option
from mixnet import elgamal
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom


def filled(defn: dict) -> dict:  # type: ignore[type-arg]
    defn = copy.deepcopy(defn)
    for t in defn["trustees"]:
        t["signing_key"], t["exchange_key"] = secrets.token_hex(32), secrets.token_hex(32)
    for m in defn["mix_servers"]:
        m["signing_key"] = secrets.token_hex(32)
    for k in defn["keys"]:
        defn["keys"][k] = secrets.token_hex(32)
    return defn


@pytest.fixture(scope="module")
def example() -> dict:  # type: ignore[type-arg]
    return filled(load_definition(EXAMPLE))


def test_example_definition_builds_a_production_manifest(example: dict) -> None:  # type: ignore[type-arg]
    m = manifest_from_definition(example)
    m.check_production()
    assert m.eligibility.min_age == 16
    assert m.eligibility.areas == ("茨城県つくば市",)
    assert [o.id for o in m.contests[0].options] == ["aoki", "ishida", "ueno"]
    assert (m.threshold, len(m.trustees), len(m.mix_servers)) == (2, 3, 3)
    assert m.width == 1


def test_manifest_round_trips_and_fingerprint_is_stable(example: dict) -> None:  # type: ignore[type-arg]
    m = manifest_from_definition(example)
    again = Manifest.from_json(parse_canonical_json(m.to_bytes()))
    assert again == m
    assert again.fingerprint() == m.fingerprint()
    changed = copy.deepcopy(example)
    changed["title"] += "（再）"
    assert manifest_from_definition(changed).fingerprint() != m.fingerprint()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("threshold", "t"), 4, "threshold"),
        (("eligibility", "min_age"), -1, "min_age"),
        (("group",), "test-safe-256", "tests or benchmarks only"),
        (("group",), "no-such-group", "unknown group"),
        (("keys", "admin"), "", "keys.admin is empty"),
        (("keys", "board"), "ABCD" * 16, "lowercase hex"),
        (("voting_end",), dt.datetime(2026, 11, 1, tzinfo=dt.UTC), "voting_start"),
        (("voting_end",), dt.datetime(2026, 12, 7), "offset"),
    ],
)
def test_bad_definitions_are_refused_with_the_field_named(
    example: dict,
    path: tuple[str, ...],
    value: object,
    message: str,  # type: ignore[type-arg]
) -> None:
    defn = copy.deepcopy(example)
    target = defn
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DefinitionError, match=message):
        manifest_from_definition(defn)


def test_contest_rules() -> None:
    opts = tuple(Option(f"o{i}", f"Option {i}") for i in range(4))
    assert Contest("c", "C", "text", "single", opts).width == 1
    assert Contest("c", "C", "text", "k_of_n", opts, max_choices=3).width == 3
    assert Contest("c", "C", "text", "ranked", opts, max_choices=4).width == 4
    with pytest.raises(DecodeError, match="single choice"):
        Contest("c", "C", "text", "single", opts, max_choices=2)
    with pytest.raises(DecodeError, match="image"):
        Contest("c", "C", "image", "single", opts)
    with pytest.raises(DecodeError, match="ties"):
        Contest("c", "C", "text", "single", opts, allow_ties=True)
    with pytest.raises(DecodeError, match="option ids"):
        Contest("c", "C", "text", "single", (opts[0], opts[0]))


def test_manifest_decoder_rejects_unknown_and_missing_fields(example: dict) -> None:  # type: ignore[type-arg]
    data = manifest_from_definition(example).to_json()
    with pytest.raises(DecodeError, match="unknown"):
        Manifest.from_json({**data, "extra": 1})
    broken = dict(data)
    del broken["board_key"]
    with pytest.raises(DecodeError, match="missing"):
        Manifest.from_json(broken)
    with pytest.raises(DecodeError, match="differs"):
        Manifest.from_json({**data, "group": {**data["group"], "g": "00" * 384}})


@pytest.mark.parametrize(
    ("where", "new_id"),
    [("trustees", "admin"), ("mix_servers", "registrar"), ("mix_servers", None)],
)
def test_author_ids_are_unique(example: dict, where: str, new_id: str | None) -> None:  # type: ignore[type-arg]
    """docs/record.md §2: a repeated id would make one author stand for another in V4."""
    data = copy.deepcopy(manifest_from_definition(example).to_json())
    data[where][0]["id"] = new_id if new_id is not None else data["trustees"][0]["id"]
    with pytest.raises(DecodeError, match="author ids must differ"):
        Manifest.from_json(data)


@pytest.fixture(scope="module")
def ballot_setup():  # type: ignore[no-untyped-def]
    group = get_group("test-schnorr-512-128")
    rng = DeterministicRandom(7)
    key = elgamal.keygen(group, rng)
    fingerprint = b"\x11" * 32
    row, rs = elgamal.encrypt_row(key.public, [2, 0], rng)
    ballot = Ballot.create(fingerprint, key.public, row, rs, Ed25519PrivateKey.generate(), rng)
    return group, key, fingerprint, ballot


def test_ballot_verifies_and_round_trips(ballot_setup) -> None:  # type: ignore[no-untyped-def]
    group, key, fingerprint, ballot = ballot_setup
    ballot.verify(fingerprint, key.public)
    again = Ballot.from_json(group, parse_canonical_json(canonical_json(ballot.to_json())), 2)
    assert again == ballot
    assert again.hash(fingerprint) == ballot.hash(fingerprint)


def test_copied_ballot_under_another_key_fails(ballot_setup) -> None:  # type: ignore[no-untyped-def]
    _group, key, fingerprint, ballot = ballot_setup
    thief = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    thief_pub = thief.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    from election.entries import ballot_hash, submission_message

    digest = ballot_hash(fingerprint, ballot.row, ballot.proof, thief_pub)
    copied = Ballot(
        ballot.row, ballot.proof, thief_pub, thief.sign(submission_message(fingerprint, digest))
    )
    with pytest.raises(VerificationError, match="B1"):
        copied.verify(fingerprint, key.public)


def test_ballot_for_another_election_fails(ballot_setup) -> None:  # type: ignore[no-untyped-def]
    _, key, _fingerprint, ballot = ballot_setup
    with pytest.raises(VerificationError, match="B1"):
        ballot.verify(b"\x22" * 32, key.public)


def test_ballot_with_forged_signature_fails(ballot_setup) -> None:  # type: ignore[no-untyped-def]
    _, key, fingerprint, ballot = ballot_setup
    forged = Ballot(ballot.row, ballot.proof, ballot.ballot_key, bytes(64))
    with pytest.raises(VerificationError, match="B2"):
        forged.verify(fingerprint, key.public)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("v", 2, "version"),
        ("ballot_key", "AB" * 32, "lowercase"),
        ("signature", "00", "hex"),
        ("row", [], "row"),
    ],
)
def test_ballot_decoder_rejects_bad_fields(ballot_setup, field, value, message) -> None:  # type: ignore[no-untyped-def]
    group, _, _, ballot = ballot_setup
    data = {**ballot.to_json(), field: value}
    with pytest.raises(DecodeError, match=message):
        Ballot.from_json(group, data, 2)


def _tohyo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tohyo", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_admin_cli_init_check_and_voting_codes(tmp_path: Path) -> None:
    proc = _tohyo("admin", "init", "e.toml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = _tohyo("admin", "init", "e.toml", cwd=tmp_path)
    assert proc.returncode == 2 and "exists" in proc.stderr
    proc = _tohyo("admin", "check", "e.toml", cwd=tmp_path)
    assert proc.returncode == 2 and "signing_key is empty" in proc.stderr
    text = (tmp_path / "e.toml").read_text(encoding="utf-8")
    while 'key = ""' in text:
        text = text.replace('key = ""', f'key = "{secrets.token_hex(32)}"', 1)
    for role in ("admin", "registrar", "board"):
        text = text.replace(f'{role} = ""', f'{role} = "{secrets.token_hex(32)}"')
    (tmp_path / "e.toml").write_text(text, encoding="utf-8")
    proc = _tohyo("admin", "check", "e.toml", "--manifest-out", "m.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest = Manifest.from_json(parse_canonical_json((tmp_path / "m.json").read_bytes()))
    assert manifest.fingerprint().hex() in proc.stdout
    proc = _tohyo(
        "admin",
        "voting-codes",
        "--count",
        "5",
        "--out",
        "c.csv",
        "--hashes",
        "h.json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert len(lines) == 6 and (tmp_path / "c.csv").stat().st_mode & 0o777 == 0o600
    codes = [line.split(",")[1] for line in lines[1:]]
    assert not any(code in proc.stdout + (tmp_path / "h.json").read_text() for code in codes)
    proc = _tohyo(
        "admin",
        "voting-codes",
        "--count",
        "5",
        "--out",
        "c.csv",
        "--hashes",
        "h.json",
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr


def test_a_manifest_may_list_trustees_in_any_order(example: dict) -> None:  # type: ignore[type-arg]
    """The board accepts such a manifest, so applying it must not fail (it raised ValueError)."""
    from bulletin_board.entry import sign_envelope
    from bulletin_board.log import public_key_hex
    from election.manifest import ceremony_config
    from election.policy import ElectionPolicy

    admin = Ed25519PrivateKey.generate()
    defn = copy.deepcopy(example)
    defn["keys"]["admin"] = public_key_hex(admin.public_key())
    obj = manifest_from_definition(defn).to_json()
    obj["trustees"] = obj["trustees"][::-1]
    manifest = Manifest.from_json(obj)
    assert [t.index for t in manifest.trustees] == [3, 2, 1]
    assert [k.index for k in ceremony_config(manifest).trustees] == [1, 2, 3]

    policy = ElectionPolicy()
    state = policy.initial_state(manifest.election_id)
    envelope = sign_envelope(admin, manifest.election_id, "manifest", "admin", {"manifest": obj})
    policy.check(state, envelope)
    policy.on_accept(state, envelope, 0)
    assert state.dkg is not None and [k.index for k in state.dkg.config.trustees] == [1, 2, 3]
