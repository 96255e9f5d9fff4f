"""Ed25519 key files of the board's authors: the board, a mirror, the registrar, the admin.

A key file is a passphrase-encrypted PKCS#8 PEM file, created with mode 0600. The passphrase
comes from the environment variable TOHYO_KEY_PASSPHRASE and is never stored or printed. Any
problem raises `KeyFileError` (a `ValueError`) with a message for people; the command-line
front ends turn it into their own error.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["KEY_PASSPHRASE_ENV", "KeyFileError", "key_passphrase", "load_or_create_key"]

KEY_PASSPHRASE_ENV = "TOHYO_KEY_PASSPHRASE"  # noqa: S105 (the name of a variable)


class KeyFileError(ValueError):
    """A key file cannot be read or created; the message names the file and why."""


def key_passphrase() -> bytes:
    """The key files' passphrase from the environment; `KeyFileError` if it is not set."""
    value = os.environ.get(KEY_PASSPHRASE_ENV, "")
    if not value:
        raise KeyFileError(
            f"key files are encrypted: set {KEY_PASSPHRASE_ENV} to the key passphrase "
            "(it is never stored or printed)"
        )
    return value.encode("utf-8")


def _create(path: Path, passphrase: bytes) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create the key file: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def _load(path: Path, passphrase: bytes) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc.strerror}") from exc
    try:
        loaded = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:
        raise KeyFileError(f"{path}: not an encrypted PEM private key") from exc
    except ValueError as exc:
        raise KeyFileError(f"{path}: wrong passphrase, or not a PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return loaded


def load_or_create_key(path: str | Path, *, create: bool = True) -> Ed25519PrivateKey:
    """The Ed25519 key in `path`; a new one is written there (0600) if missing and `create`."""
    p = Path(path)
    passphrase = key_passphrase()
    if p.exists():
        return _load(p, passphrase)
    if not create:
        raise KeyFileError(f"no key file {p}")
    return _create(p, passphrase)
