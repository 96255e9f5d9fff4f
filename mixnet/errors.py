"""The few error types of the core (docs/contributing.md §2).

- `DecodeError`: outside input is malformed or not canonical ("you gave us bad bytes").
- `VerificationError`: a proof, signature or check failed; `check` names the equation or step.
- `ParameterError`: a group or protocol parameter is unusable (too small, not verifiable, …).
"""

from __future__ import annotations

__all__ = ["DecodeError", "ParameterError", "TohyoError", "VerificationError"]


class TohyoError(Exception):
    """Base of every error raised on purpose by tohyo."""


class DecodeError(TohyoError, ValueError):
    """Input from outside is malformed, out of range, or not in canonical form."""


class ParameterError(TohyoError, ValueError):
    """A group or protocol parameter is not acceptable."""


class VerificationError(TohyoError):
    """A proof or check failed. `check` is the stable name of the failed equation or step."""

    def __init__(self, check: str, detail: str = "") -> None:
        self.check = check
        self.detail = detail
        super().__init__(f"{check}: {detail}" if detail else check)
