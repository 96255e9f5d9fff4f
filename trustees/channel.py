"""The pairwise channel for DKG shares, and message signatures (docs/trustees.md §3).

A share s_ij travels from dealer i to recipient j as an ephemeral-static X25519 box:

    e ← random X25519 key; Z = X25519(e, pk_j)
    K = HKDF-SHA256(Z, salt = election, info = TLV[label, election, i, j, E, pk_j], 32 bytes)
    C = ChaCha20-Poly1305(K, nonce = 0^12, plaintext = s_ij (fixed width), aad = info)

K is used for exactly one message, so the fixed nonce is safe. The whole message, including
E and C, is signed by the dealer's Ed25519 key (`sign_payload`), so the channel is both
confidential and authenticated. Everything here is pure computation: no I/O.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mixnet.encoding import encode
from mixnet.errors import VerificationError
from mixnet.groups import Group, Scalar
from mixnet.rng import RandomSource
from trustees.config import CeremonyConfig
from trustees.labels import TrusteeLabel

__all__ = ["open_share", "seal_share", "sign_payload", "verify_payload"]

_NONCE = bytes(12)
TAG_BYTES = 16


def _info(config: CeremonyConfig, sender: int, recipient: int, ephemeral: bytes) -> bytes:
    return encode(
        [
            TrusteeLabel.SHARE_ENCRYPTION,
            config.election,
            sender,
            recipient,
            ephemeral,
            config.keys(recipient).x25519_public,
        ]
    )


def _key(shared: bytes, config: CeremonyConfig, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=config.election, info=info).derive(shared)


def ciphertext_length(group: Group) -> int:
    return group.scalar_bytes + TAG_BYTES


def seal_share(
    config: CeremonyConfig, sender: int, recipient: int, share: Scalar, rng: RandomSource
) -> tuple[bytes, bytes]:
    """Encrypt s_ij for `recipient`; returns (ephemeral public key E, ciphertext C)."""
    eph = X25519PrivateKey.from_private_bytes(rng.randbytes(32))
    ephemeral = eph.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    peer = X25519PublicKey.from_public_bytes(config.keys(recipient).x25519_public)
    info = _info(config, sender, recipient, ephemeral)
    key = _key(eph.exchange(peer), config, info)
    return ephemeral, ChaCha20Poly1305(key).encrypt(_NONCE, share.to_bytes(), info)


def open_share(
    config: CeremonyConfig,
    sender: int,
    recipient: int,
    recipient_key: X25519PrivateKey,
    ephemeral: bytes,
    ciphertext: bytes,
) -> Scalar:
    """Decrypt a share; raise `VerificationError("DKG share decryption")` if it does not open."""
    info = _info(config, sender, recipient, ephemeral)
    try:
        shared = recipient_key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        plain = ChaCha20Poly1305(_key(shared, config, info)).decrypt(_NONCE, ciphertext, info)
    except (InvalidTag, ValueError) as exc:
        raise VerificationError("DKG share decryption", "the share does not decrypt") from exc
    value = int.from_bytes(plain, "big")
    if len(plain) != config.group.scalar_bytes or value >= config.group.order:
        raise VerificationError("DKG share decryption", "the share is not a scalar")
    return config.group.scalar(value)


def _payload(body: object) -> bytes:
    return encode([TrusteeLabel.MESSAGE_SIGNATURE, body])


def sign_payload(key: Ed25519PrivateKey, body: object) -> bytes:
    """Ed25519 signature over TLV[label, body] (body: the message's JSON value, unsigned)."""
    return key.sign(_payload(body))


def verify_payload(public: bytes, signature: bytes, body: object) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, _payload(body))
    except (InvalidSignature, ValueError) as exc:
        raise VerificationError("DKG3 signature", "the signature does not verify") from exc
