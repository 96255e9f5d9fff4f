"""Trustees: distributed key generation, threshold decryption, keystore, offline duties.

See docs/trustees.md. The protocol code (`dkg`, `decryption`, `offline`) does no I/O;
files are touched only by `keystore.save_keystore`/`load_keystore`, the mix server's
generator cache (`generator_cache`), the daemon's keystore lock and the command line.
"""

from trustees.config import CeremonyConfig, TrusteeKeys, TrusteePrivateKeys, generate_trustee_keys
from trustees.decryption import (
    DecryptionResult,
    DecryptionShare,
    combine_shares,
    lagrange_coefficients,
    make_share,
    verify_share,
)
from trustees.dkg import (
    DkgOutcome,
    DkgTrustee,
    KeyShare,
    Phase,
    Polynomial,
    PublicRecord,
    derive_public_outcome,
)
from trustees.errors import (
    CeremonyFailed,
    KeystoreError,
    KeystoreTampered,
    LocalProtocolError,
    NotEnoughShares,
    PeerProtocolError,
    WrongPassphrase,
)
from trustees.keystore import KdfParams, load_keystore, save_keystore, seal, unseal
from trustees.messages import (
    Commitments,
    Complaints,
    DkgMessage,
    EncryptedShare,
    Reveal,
    decode_message,
)
from trustees.offline import (
    export_decryption_input,
    export_dkg_input,
    key_share_from_secrets,
    read_decryption_output,
    read_dkg_output,
    run_decryption_offline,
    run_dkg_offline,
)
from trustees.private import TrusteeSecrets

__all__ = [
    "CeremonyConfig",
    "CeremonyFailed",
    "Commitments",
    "Complaints",
    "DecryptionResult",
    "DecryptionShare",
    "DkgMessage",
    "DkgOutcome",
    "DkgTrustee",
    "EncryptedShare",
    "KdfParams",
    "KeyShare",
    "KeystoreError",
    "KeystoreTampered",
    "LocalProtocolError",
    "NotEnoughShares",
    "PeerProtocolError",
    "Phase",
    "Polynomial",
    "PublicRecord",
    "Reveal",
    "TrusteeKeys",
    "TrusteePrivateKeys",
    "TrusteeSecrets",
    "WrongPassphrase",
    "combine_shares",
    "decode_message",
    "derive_public_outcome",
    "export_decryption_input",
    "export_dkg_input",
    "generate_trustee_keys",
    "key_share_from_secrets",
    "lagrange_coefficients",
    "load_keystore",
    "make_share",
    "read_decryption_output",
    "read_dkg_output",
    "run_decryption_offline",
    "run_dkg_offline",
    "save_keystore",
    "seal",
    "unseal",
    "verify_share",
]
