"""What the web UI remembers per browser, in memory only (never in files or logs).

A browser is known by a random session cookie; each session carries its own CSRF token.
The voting code and the encrypted ballot live here until the ballot is cast or abandoned;
the card password never does.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.audit import AuditResult
from voter_client.ballot import EncryptedBallot
from voter_client.session import ElectionInfo

__all__ = ["AuditOutcome", "Cast", "SessionStore", "VoterState"]


@dataclass(frozen=True)
class AuditOutcome:
    """A spoiled ballot: the audit file and what the verifier's check said of it."""

    data: bytes
    result: AuditResult | None
    failed_check: str = ""


@dataclass(frozen=True)
class Cast:
    """A ballot the board accepted: where its receipt is kept and what the board said."""

    path: Path
    index: int
    entry_hash: str
    replaced: bool


@dataclass
class VoterState:
    """One browser's progress through the vote."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    info: ElectionInfo | None = None
    code: str | None = field(default=None, repr=False)
    choices: dict[str, Any] | None = None
    encrypted: EncryptedBallot | None = field(default=None, repr=False)
    signed: tuple[bytes, bytes] | None = field(default=None, repr=False)
    audit: AuditOutcome | None = None
    cast: Cast | None = None
    used: float = field(default_factory=time.monotonic)

    def start(self, info: ElectionInfo) -> None:
        """A fresh vote in `info`'s election: everything of an earlier one is forgotten."""
        self.info, self.code, self.choices = info, None, None
        self.encrypted, self.signed, self.audit, self.cast = None, None, None, None

    def drop_ballot(self) -> None:
        """Forget the encryption and its signature (the choices changed, or it was spoiled)."""
        self.encrypted, self.signed = None, None

    def csrf_ok(self, token: str) -> bool:
        return hmac.compare_digest(self.csrf.encode(), token.encode())


class SessionStore:
    """Sessions by cookie value; the least recently used go once there are `limit` of them."""

    def __init__(self, limit: int = 1000, idle_seconds: float = 3600.0) -> None:
        self._sessions: OrderedDict[str, VoterState] = OrderedDict()
        self.limit, self.idle_seconds = limit, idle_seconds

    def get(self, sid: str | None) -> VoterState | None:
        state = self._sessions.get(sid or "")
        if state is None or time.monotonic() - state.used > self.idle_seconds:
            return None
        state.used = time.monotonic()
        self._sessions.move_to_end(sid or "")
        return state

    def new(self) -> tuple[str, VoterState]:
        while len(self._sessions) >= self.limit:
            self._sessions.popitem(last=False)
        sid = secrets.token_urlsafe(32)
        state = VoterState()
        self._sessions[sid] = state
        return sid, state
