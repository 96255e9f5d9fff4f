"""Domain-separation labels of the trustees' protocols (docs/trustees.md §2).

They belong beside `mixnet.transcript.Label`; they live here until the core takes them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["TrusteeLabel"]


class TrusteeLabel:
    COEFFICIENT: Final = "tohyo/dkg/coefficient/v1"
    MESSAGE_SIGNATURE: Final = "tohyo/dkg/message-signature/v1"
    SHARE_ENCRYPTION: Final = "tohyo/dkg/share-encryption/v1"
    DECRYPTION_SHARE: Final = "tohyo/trustee/decryption-share/v1"
    KEYSTORE: Final = "tohyo/trustee/keystore/v1"
    KEYSTORE_CHECK: Final = "tohyo/trustee/keystore-check/v1"
    GENERATOR_CACHE: Final = "tohyo/trustee/generator-cache/v2"
    GENERATOR_CACHE_KEY: Final = "tohyo/trustee/generator-cache-key/v1"
