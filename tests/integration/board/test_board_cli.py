"""`tohyo board …` end to end: keygen, serve over TLS, export and verify-export."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bulletin_board.client import BoardClient
from bulletin_board.testing import BoardProcess, Keys
from tohyo.cli import main

E = "cli-test"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "tls.crt", tmp / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_tls_export_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["board", "keygen", "--key", str(tmp_path / "board.pem")]) == 0
    board_key = capsys.readouterr().out.strip()
    assert len(board_key) == 64
    assert (tmp_path / "board.pem").stat().st_mode & 0o777 == 0o600
    assert main(["board", "keygen", "--key", str(tmp_path / "board.pem")]) == 2  # no overwrite

    cert, key = _self_signed(tmp_path)
    db = str(tmp_path / "board.sqlite")
    board = BoardProcess(
        db,
        tmp_path / "board.pem",
        log_path=str(tmp_path / "board.log"),
        extra=(
            "--policy",
            "registry",
            "--open-elections",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ),
    )
    url = board.start()
    assert url.startswith("https://") and board.key_hex == board_key
    ctx = ssl.create_default_context(cafile=str(cert))
    keys = Keys()

    async def use() -> None:
        async with BoardClient(url, board_key, ssl=ctx) as c:
            await c.post(keys.registry(E))
            await c.post(keys.phase(E, "key_ceremony"))
            assert (await c.tree_head(E)).tree_size == 2

    try:
        asyncio.run(use())
    finally:
        board.stop()

    out = tmp_path / "export"
    assert (
        main(
            [
                "board",
                "export",
                "--db",
                db,
                "--key",
                str(tmp_path / "board.pem"),
                "--election",
                E,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert main(["board", "verify-export", str(out), "--board-key", board_key]) == 0
    assert "ok: cli-test, 2 entries" in capsys.readouterr().out
    assert main(["board", "verify-export", str(out), "--board-key", "00" * 32]) == 1
    lines = (out / "tree-heads.jsonl").read_text().splitlines()
    (out / "tree-heads.jsonl").write_text(lines[1] + "\n" + lines[0] + "\n")
    assert main(["board", "verify-export", str(out)]) == 1
    assert (
        main(
            [
                "board",
                "export",
                "--db",
                db,
                "--key",
                str(tmp_path / "board.pem"),
                "--election",
                "nope",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "board",
                "serve",
                "--db",
                db,
                "--key",
                str(tmp_path / "board.pem"),
                "--tls-cert",
                str(cert),
            ]
        )
        == 2
    )
    assert (
        main(
            ["board", "serve", "--db", db, "--key", str(tmp_path / "board.pem"), "--processes", "0"]
        )
        == 2
    )
    assert "--processes must be at least 1" in capsys.readouterr().err
    assert (
        main(
            [
                "board",
                "serve",
                "--db",
                db,
                "--key",
                str(tmp_path / "board.pem"),
                "--commit-delay",
                "-1",
            ]
        )
        == 2
    )
    assert "--commit-delay is between 0 and 1000 ms" in capsys.readouterr().err
