"""Trustee secrets encrypted at rest with a passphrase (docs/trustees.md §6).

File format (canonical JSON, version 1):

    {"format": "tohyo-trustee-keystore", "version": 1,
     "kdf": {"name": "argon2id", "salt": hex, "iterations": 3, "lanes": 4, "memory_kib": 65536}
            | {"name": "scrypt", "salt": hex, "n": 32768, "r": 8, "p": 1},
     "aead": {"name": "chacha20-poly1305", "nonce": hex},
     "public": {"trustee": j, "election": hex, "group": name, "x25519": hex, "ed25519": hex},
     "check": hex, "ciphertext": hex}

The KDF turns the passphrase into 64 bytes: the first 32 are the AEAD key, the last 32 give
`check` = SHA-256(label ‖ bytes), which tells a wrong passphrase (`WrongPassphrase`) from a
modified file (`KeystoreTampered`). The AEAD's associated data is the canonical JSON of every
field but `ciphertext`, so no header field can be changed unnoticed. The plaintext is the
canonical JSON of the secrets. Argon2id is used when the installed `cryptography` has it
(≥ 44), scrypt otherwise; both are read.

The pure functions `seal` and `unseal` do the cryptography; `save_keystore` and
`load_keystore` add the file handling (atomic replace, mode 0600). Nothing here logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mixnet.encoding import bytes_from_hex, canonical_json, parse_canonical_json
from mixnet.errors import DecodeError
from mixnet.rng import RandomSource, system_random
from trustees.errors import KeystoreTampered, WrongPassphrase
from trustees.labels import TrusteeLabel
from trustees.private import TrusteeSecrets, decode_secrets

_Argon2id: Any
try:  # Argon2id arrived in cryptography 44
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id as _Argon2id
except ImportError:  # pragma: no cover - depends on the installed version
    _Argon2id = None

__all__ = [
    "ARGON2_AVAILABLE",
    "KEYSTORE_FORMAT",
    "KdfParams",
    "load_keystore",
    "save_keystore",
    "seal",
    "unseal",
]

KEYSTORE_FORMAT = "tohyo-trustee-keystore"
KEYSTORE_VERSION = 1
ARGON2_AVAILABLE = _Argon2id is not None
_MAX_FILE = 1 << 20


@dataclass(frozen=True)
class KdfParams:
    """Passphrase KDF and its cost. Defaults are for real use; tests pass cheaper ones."""

    name: str = "argon2id" if ARGON2_AVAILABLE else "scrypt"
    # scrypt
    n: int = 1 << 15
    r: int = 8
    p: int = 1
    # argon2id
    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.name == "scrypt":
            if not (2**10 <= self.n <= 2**22 and self.n & (self.n - 1) == 0):
                raise ValueError("scrypt n must be a power of two in [2^10, 2^22]")
            if not (1 <= self.r <= 32 and 1 <= self.p <= 16):
                raise ValueError("scrypt r in [1, 32], p in [1, 16]")
        elif self.name == "argon2id":
            if not (1 <= self.iterations <= 64 and 1 <= self.lanes <= 64):
                raise ValueError("argon2id iterations and lanes in [1, 64]")
            if not (8 * self.lanes <= self.memory_kib <= 4 * 1024 * 1024):
                raise ValueError("argon2id memory between 8·lanes KiB and 4 GiB")
        else:
            raise ValueError(f"unknown KDF {self.name!r}")

    def to_json_value(self, salt: bytes) -> dict[str, Any]:
        if self.name == "scrypt":
            return {"name": "scrypt", "salt": salt.hex(), "n": self.n, "r": self.r, "p": self.p}
        return {
            "name": "argon2id",
            "salt": salt.hex(),
            "iterations": self.iterations,
            "lanes": self.lanes,
            "memory_kib": self.memory_kib,
        }

    @classmethod
    def from_json_value(cls, value: object) -> tuple[KdfParams, bytes]:
        if not isinstance(value, dict):
            raise DecodeError("kdf is an object")
        name = value.get("name")
        names = {
            "scrypt": {"name", "salt", "n", "r", "p"},
            "argon2id": {"name", "salt", "iterations", "lanes", "memory_kib"},
        }
        if name not in names or set(value) != names[name]:
            raise DecodeError("kdf is scrypt {salt, n, r, p} or argon2id {salt, iterations, …}")
        salt = bytes_from_hex(value["salt"], 16, "the salt")
        ints = {k: v for k, v in value.items() if k not in ("name", "salt")}
        if any(type(v) is not int for v in ints.values()):
            raise DecodeError("KDF parameters are integers")
        try:
            return cls(name=name, **ints), salt
        except ValueError as exc:
            raise DecodeError(str(exc)) from exc

    def derive(self, passphrase: bytes, salt: bytes) -> bytes:
        if self.name == "scrypt":
            return Scrypt(salt=salt, length=64, n=self.n, r=self.r, p=self.p).derive(passphrase)
        if _Argon2id is None:
            raise DecodeError("this keystore needs Argon2id (cryptography ≥ 44)")
        kdf = _Argon2id(
            salt=salt,
            length=64,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return bytes(kdf.derive(passphrase))


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    data = (
        unicodedata.normalize("NFC", passphrase).encode("utf-8")
        if isinstance(passphrase, str)
        else bytes(passphrase)
    )
    if not data:
        raise ValueError("an empty passphrase protects nothing")
    return data


def _check_value(key_material: bytes) -> bytes:
    return hashlib.sha256(TrusteeLabel.KEYSTORE_CHECK.encode() + key_material[32:]).digest()


def seal(
    secrets: TrusteeSecrets,
    passphrase: str | bytes,
    *,
    kdf: KdfParams | None = None,
    rng: RandomSource = system_random,
) -> bytes:
    """The keystore file's bytes for `secrets` under `passphrase`."""
    kdf = kdf or KdfParams()
    salt, nonce = rng.randbytes(16), rng.randbytes(12)
    material = kdf.derive(_passphrase_bytes(passphrase), salt)
    header = {
        "format": KEYSTORE_FORMAT,
        "version": KEYSTORE_VERSION,
        "kdf": kdf.to_json_value(salt),
        "aead": {"name": "chacha20-poly1305", "nonce": nonce.hex()},
        "public": secrets.public_json(),
        "check": _check_value(material).hex(),
    }
    aad = canonical_json(header)
    plaintext = canonical_json(secrets.secret_json())
    ciphertext = ChaCha20Poly1305(material[:32]).encrypt(nonce, plaintext, aad)
    return canonical_json({**header, "ciphertext": ciphertext.hex()})


def unseal(data: bytes, passphrase: str | bytes) -> TrusteeSecrets:
    """Open a keystore. Raises `WrongPassphrase` or `KeystoreTampered`."""
    try:
        doc = parse_canonical_json(data, max_bytes=_MAX_FILE)
        fields = {"format", "version", "kdf", "aead", "public", "check", "ciphertext"}
        if not isinstance(doc, dict) or set(doc) != fields:
            raise DecodeError(f"a keystore has exactly {sorted(fields)}")
        if doc["format"] != KEYSTORE_FORMAT or doc["version"] != KEYSTORE_VERSION:
            raise DecodeError("not a version-1 tohyo trustee keystore")
        kdf, salt = KdfParams.from_json_value(doc["kdf"])
        aead = doc["aead"]
        if (
            not isinstance(aead, dict)
            or set(aead) != {"name", "nonce"}
            or aead["name"] != "chacha20-poly1305"
        ):
            raise DecodeError("aead is chacha20-poly1305 with a nonce")
        nonce = bytes_from_hex(aead["nonce"], 12, "the nonce")
        check = bytes_from_hex(doc["check"], 32, "the check value")
        ciphertext = doc["ciphertext"]
        if not isinstance(ciphertext, str) or len(ciphertext) % 2:
            raise DecodeError("the ciphertext is hex")
        ciphertext_bytes = bytes_from_hex(ciphertext, len(ciphertext) // 2, "the ciphertext")
    except DecodeError as exc:
        raise KeystoreTampered(f"the keystore file is malformed: {exc}") from exc
    material = kdf.derive(_passphrase_bytes(passphrase), salt)
    if not hmac.compare_digest(_check_value(material), check):
        raise WrongPassphrase("wrong passphrase for this keystore")
    header = {k: v for k, v in doc.items() if k != "ciphertext"}
    try:
        plaintext = ChaCha20Poly1305(material[:32]).decrypt(
            nonce, ciphertext_bytes, canonical_json(header)
        )
    except InvalidTag as exc:
        raise KeystoreTampered("the keystore was modified after it was written") from exc
    try:
        return decode_secrets(doc["public"], parse_canonical_json(plaintext))
    except (DecodeError, ValueError) as exc:
        raise KeystoreTampered(f"the keystore content is inconsistent: {exc}") from exc


def save_keystore(
    path: str | os.PathLike[str],
    secrets: TrusteeSecrets,
    passphrase: str | bytes,
    *,
    kdf: KdfParams | None = None,
    rng: RandomSource = system_random,
    overwrite: bool = False,
) -> None:
    """Write the keystore atomically (temporary file, fsync, rename) with mode 0600."""
    data = seal(secrets, passphrase, kdf=kdf, rng=rng)
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_keystore(path: str | os.PathLike[str], passphrase: str | bytes) -> TrusteeSecrets:
    """Read and open a keystore file."""
    with open(path, "rb") as f:
        data = f.read(_MAX_FILE + 1)
    return unseal(data, passphrase)
