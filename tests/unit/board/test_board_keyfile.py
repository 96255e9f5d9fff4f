"""Key files of the board service are encrypted; the passphrase comes from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from bulletin_board.cli import KEY_PASSPHRASE_ENV, load_or_create_key
from tohyo.cli import CliError


def test_key_file_is_encrypted_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    key = load_or_create_key(path)
    text = path.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in text
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    assert raw not in text and raw.hex().encode() not in text
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_or_create_key(path)
    assert again.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                               serialization.NoEncryption()) == raw


def test_wrong_or_missing_passphrase_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "k.pem"
    load_or_create_key(path)
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "not the passphrase")
    with pytest.raises(CliError, match="wrong passphrase") as info:
        load_or_create_key(path)
    assert "not the passphrase" not in str(info.value)
    monkeypatch.delenv(KEY_PASSPHRASE_ENV)
    with pytest.raises(CliError, match=KEY_PASSPHRASE_ENV):
        load_or_create_key(tmp_path / "new.pem")
    assert not (tmp_path / "new.pem").exists()
