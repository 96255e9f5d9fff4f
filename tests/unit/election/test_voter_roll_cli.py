"""`tohyo admin voter-roll`: the roll file the registrar checks, from a residents' CSV."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from election.intake import derive_pseudonym_key, read_voter_roll
from jpki.certs import BasicFacts, Sex
from jpki.registrar import roll_entry
from tohyo.cli import main

HANAKO = BasicFacts("名簿 花子", dt.date(1980, 4, 1), Sex.FEMALE, "茨城県つくば市研究学園1番地1")
TARO = BasicFacts("名簿 太郎", dt.date(1979, 3, 3), Sex.MALE, "茨城県つくば市竹園2番地")


def voter_roll(key_file: Path, residents: Path, out: Path) -> int:
    return main(
        [
            "admin",
            "voter-roll",
            "--registrar-key",
            str(key_file),
            "--residents",
            str(residents),
            "--out",
            str(out),
        ]
    )


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Ed25519PrivateKey, Path]:
    secret = "roll test passphrase"
    monkeypatch.setenv("TOHYO_KEY_PASSPHRASE", secret)
    k = Ed25519PrivateKey.generate()
    path = tmp_path / "registrar.pem"
    path.write_bytes(
        k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(secret.encode()),
        )
    )
    return k, path


def test_the_roll_holds_keyed_hashes_the_registrar_checks(
    tmp_path: Path, key: tuple[Ed25519PrivateKey, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    k, path = key
    (tmp_path / "r.csv").write_text(
        "name,birth_date,sex,address\n"
        f"{HANAKO.name},1980-04-01,2,{HANAKO.address}\n"
        f"{HANAKO.name},1980-04-01,2,{HANAKO.address}\n",
        encoding="utf-8",
    )
    out = tmp_path / "roll.json"
    assert voter_roll(path, tmp_path / "r.csv", out) == 0
    roll = read_voter_roll(out)
    pkey = derive_pseudonym_key(k)
    assert roll == {roll_entry(pkey, HANAKO)}  # once, though listed twice
    assert roll_entry(pkey, TARO) not in roll
    assert HANAKO.name not in out.read_text(encoding="utf-8")
    assert "1 voters on the roll" in capsys.readouterr().out
    # not overwritten
    assert voter_roll(path, tmp_path / "r.csv", out) == 2


@pytest.mark.parametrize(
    "row", ["名簿 次郎,1980-13-01,1,茨城県つくば市1", "a,1980-01-01,4,b", "only,three,fields"]
)
def test_a_bad_row_is_refused_and_nothing_written(
    tmp_path: Path,
    key: tuple[Ed25519PrivateKey, Path],
    row: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "r.csv").write_text(
        f"{HANAKO.name},1980-04-01,2,{HANAKO.address}\n{row}\n", encoding="utf-8"
    )
    out = tmp_path / "roll.json"
    assert voter_roll(key[1], tmp_path / "r.csv", out) == 2
    assert not out.exists()
    assert "line 2" in capsys.readouterr().err


def test_a_roll_file_is_read_strictly(tmp_path: Path) -> None:
    path = tmp_path / "roll.json"
    for doc in (
        {"format": "other", "entries": []},
        {"format": "tohyo-voter-roll/1"},
        {"format": "tohyo-voter-roll/1", "entries": ["00"]},
        {"format": "tohyo-voter-roll/1", "entries": ["ab" * 32, "ab" * 32]},
    ):
        path.write_text(json.dumps(doc))
        with pytest.raises(ValueError):
            read_voter_roll(path)
    path.write_text("not json")
    with pytest.raises(ValueError):
        read_voter_roll(path)
