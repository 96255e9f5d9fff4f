"""The trustees' error types (docs/trustees.md §8), on top of the core's (`mixnet.errors`).

Following h11, protocol errors come in two kinds:

- `LocalProtocolError` — *you* broke it: the caller used the state machine in a way the
  protocol does not allow (started twice, asked for a result before the end, …).
- `PeerProtocolError` — *a peer* broke it: a received message was refused (unknown sender,
  bad signature, replay, wrong round, malformed content). The state is unchanged; `step`
  names the rule (the same names as the observer's `VerificationError.check`).

Misbehaviour that is attributable and provable (a bad proof, a bad share, no answer to a
complaint) is *not* an exception: the message stays in the record and its dealer is
disqualified, with the reason, in the public outcome.
"""

from __future__ import annotations

from mixnet.errors import TohyoError

__all__ = [
    "CeremonyFailed",
    "KeystoreError",
    "KeystoreTampered",
    "LocalProtocolError",
    "NotEnoughShares",
    "PeerProtocolError",
    "WrongPassphrase",
]


class LocalProtocolError(TohyoError):
    """The caller used the state machine out of order (a bug on our side)."""


class PeerProtocolError(TohyoError):
    """A received message was refused; `step` names the rule it broke."""

    def __init__(self, step: str, detail: str) -> None:
        self.step = step
        self.detail = detail
        super().__init__(f"{step}: {detail}")


class CeremonyFailed(TohyoError):
    """The key ceremony cannot produce a key (fewer than t qualified dealers)."""


class NotEnoughShares(TohyoError):
    """Fewer than t valid decryption shares: the plaintexts cannot be recovered."""

    def __init__(self, valid: int, needed: int, excluded: dict[int, str]) -> None:
        self.valid = valid
        self.needed = needed
        self.excluded = dict(excluded)
        reasons = "; ".join(f"trustee {j}: {r}" for j, r in sorted(excluded.items()))
        super().__init__(
            f"only {valid} valid decryption share{'s' if valid != 1 else ''}, "
            f"{needed} needed (threshold {needed})" + (f"; excluded: {reasons}" if reasons else "")
        )


class KeystoreError(TohyoError):
    """A keystore file cannot be opened."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not open this keystore."""


class KeystoreTampered(KeystoreError):
    """The keystore file is malformed or was modified after it was written."""
