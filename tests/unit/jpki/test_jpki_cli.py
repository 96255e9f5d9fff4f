"""`tohyo card …` argument handling and user errors (no card reader needed)."""

from __future__ import annotations

import pytest

from jpki import cli as card_cli
from jpki.transport import TransportError
from tohyo.cli import CliError, build_parser, main


def test_card_command_is_registered() -> None:
    parser = build_parser(only="card")
    args = parser.parse_args(
        ["card", "virtual", "--name", "投票 太郎", "--birth", "2000-01-02", "--sex", "male",
         "--address", "茨城県つくば市1", "--revoked", "--slot", "1"]
    )  # fmt: skip
    assert args.func is card_cli.cmd_virtual
    assert args.revoked and args.slot == 1 and args.birth.isoformat() == "2000-01-02"
    for action, func in (
        ("list", card_cli.cmd_list),
        ("status", card_cli.cmd_status),
        ("read-certs", card_cli.cmd_read_certs),
    ):
        assert parser.parse_args(["card", action]).func is func


def test_bare_card_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["card"]) == 2
    assert "read-certs" in capsys.readouterr().out


def test_bad_birth_date_is_an_argument_error() -> None:
    with pytest.raises(SystemExit):
        build_parser(only="card").parse_args(
            ["card", "virtual", "--name", "x", "--birth", "2000-13-01", "--sex", "male",
             "--address", "a"]
        )  # fmt: skip


def test_no_pcscd_is_a_user_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class FakePcsc:
        @staticmethod
        def list_readers() -> list[str]:
            raise TransportError("PC/SC service not available")

    monkeypatch.setattr(card_cli, "_pcsc", lambda: FakePcsc)
    assert main(["card", "list"]) == 2
    assert "is pcscd running?" in capsys.readouterr().err
    assert main(["card", "status"]) == 2


def test_no_readers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class FakePcsc:
        @staticmethod
        def list_readers() -> list[str]:
            return []

    monkeypatch.setattr(card_cli, "_pcsc", lambda: FakePcsc)
    assert main(["card", "list"]) == 1
    assert "no readers" in capsys.readouterr().out
    assert main(["card", "status"]) == 2
    assert "no card reader found" in capsys.readouterr().err


def test_virtual_card_needs_a_valid_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys
) -> None:
    monkeypatch.delenv("TOHYO_CARD_PASSWORD", raising=False)
    base = ["card", "virtual", "--name", "投票 太郎", "--birth", "2000-01-02", "--sex", "1",
            "--address", "茨城県つくば市1", "--ca-dir", str(tmp_path / "ca")]  # fmt: skip
    assert main(base) == 2
    assert "TOHYO_CARD_PASSWORD" in capsys.readouterr().err
    assert main([*base, "--password", "short"]) == 2
    err = capsys.readouterr().err
    assert "6 to 16" in err and "short" not in err


def test_read_secret_without_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOHYO_X", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CliError) as info:
        card_cli.read_secret(env="TOHYO_X", fd=None, prompt="pw: ")
    assert "$TOHYO_X" in str(info.value)
