"""Key files are encrypted; the passphrase comes from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from bulletin_board.cli import load_key
from bulletin_board.keyfile import KEY_PASSPHRASE_ENV, KeyFileError, load_or_create_key
from tohyo.cli import CliError


def test_key_file_is_encrypted_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    key = load_or_create_key(path)
    text = path.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in text
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert raw not in text and raw.hex().encode() not in text
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_or_create_key(path)
    assert (
        again.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        == raw
    )


def test_wrong_or_missing_passphrase_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "k.pem"
    load_or_create_key(path)
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "not the passphrase")
    with pytest.raises(KeyFileError, match="wrong passphrase") as info:
        load_or_create_key(path)
    assert "not the passphrase" not in str(info.value)
    monkeypatch.delenv(KEY_PASSPHRASE_ENV)
    with pytest.raises(KeyFileError, match=KEY_PASSPHRASE_ENV):
        load_or_create_key(tmp_path / "new.pem")
    assert not (tmp_path / "new.pem").exists()


def test_missing_or_unreadable_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no key file"):
        load_or_create_key(tmp_path / "absent.pem", create=False)
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(KeyFileError, match=r"junk\.pem"):
        load_or_create_key(tmp_path / "junk.pem")
    with pytest.raises(KeyFileError, match="cannot create"):
        load_or_create_key(tmp_path / "no-such-dir" / "k.pem")


def test_the_command_line_turns_key_file_errors_into_its_own(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="no key file"):
        load_key(tmp_path / "absent.pem", create=False)
