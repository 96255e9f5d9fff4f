"""What the web UI remembers per browser, in memory only (never in files or logs).

A browser is known by a random session cookie; each session carries its own CSRF token.
The voting code and the encrypted ballot live here until the ballot is cast or abandoned;
the card password never does. A browser may be shared (a public terminal, a family PC): a
signed ballot lives only for the cast that follows it (`take_signed`), a vote left idle is
forgotten (`VOTE_IDLE_SECONDS`), and once a ballot is cast the whole vote is forgotten; only a
one-time token in the receipt page itself reaches that receipt again.
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

__all__ = [
    "SIGNED_SECONDS",
    "VOTE_IDLE_SECONDS",
    "AuditOutcome",
    "Cast",
    "SessionStore",
    "VoterState",
]

SIGNED_SECONDS = 300.0  # a signed ballot not cast within this is discarded
VOTE_IDLE_SECONDS = 900.0  # a vote in progress untouched this long is forgotten
RECEIPT_SECONDS = 900.0  # the receipt page's token reaches the receipt this long


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
    tracking: str
    replaced: bool
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    at: float = field(default_factory=time.monotonic)


@dataclass
class VoterState:
    """One browser's progress through the vote."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    info: ElectionInfo | None = None
    code: str | None = field(default=None, repr=False)
    choices: dict[str, Any] | None = None
    encrypted: EncryptedBallot | None = field(default=None, repr=False)
    signed: tuple[bytes, bytes] | None = field(default=None, repr=False)
    signed_at: float = 0.0
    cast_token: str = field(default="", repr=False)
    audit: AuditOutcome | None = None
    cast: Cast | None = None
    notice: str = ""  # a `web_text` key said once, on the next page
    used: float = field(default_factory=time.monotonic)

    def start(self, info: ElectionInfo | None) -> None:
        """A fresh vote in `info`'s election: everything of an earlier one is forgotten."""
        self.info, self.code, self.choices = info, None, None
        self.encrypted, self.audit, self.cast = None, None, None
        self.drop_signature()

    def forget(self) -> None:
        """The vote is over (cast, abandoned or idle): nothing of it stays, not even the CSRF
        token the pages of it carried."""
        self.start(None)
        self.csrf = secrets.token_urlsafe(32)

    def in_progress(self) -> bool:
        return self.info is not None and (self.code is not None or self.choices is not None)

    def drop_ballot(self) -> None:
        """Forget the encryption and its signature (the choices changed, or it was spoiled)."""
        self.encrypted = None
        self.drop_signature()

    def keep_signed(self, signed: tuple[bytes, bytes]) -> str:
        """Hold a signed ballot for the cast that follows; returns that cast's one-time token."""
        self.signed, self.signed_at = signed, time.monotonic()
        self.cast_token = secrets.token_urlsafe(24)
        return self.cast_token

    def drop_signature(self) -> bool:
        """Discard a signed ballot; True if there was one."""
        had = self.signed is not None
        self.signed, self.signed_at, self.cast_token = None, 0.0, ""
        return had

    def take_signed(self, token: str) -> tuple[bytes, bytes] | None:
        """The signed ballot, only for the cast page's own token and within SIGNED_SECONDS."""
        if self.signed is None or not self.cast_token:
            return None
        fresh = time.monotonic() - self.signed_at <= SIGNED_SECONDS
        if not fresh or not hmac.compare_digest(self.cast_token.encode(), token.encode()):
            self.drop_signature()
            return None
        return self.signed

    def receipt(self, token: str) -> Cast | None:
        """The receipt just cast, for the receipt page's own token, within RECEIPT_SECONDS."""
        done = self.cast
        if done is None or time.monotonic() - done.at > RECEIPT_SECONDS:
            return None
        return done if hmac.compare_digest(done.token.encode(), token.encode()) else None

    def csrf_ok(self, token: str) -> bool:
        return hmac.compare_digest(self.csrf.encode(), token.encode())


class SessionStore:
    """Sessions by cookie value; the least recently used go once there are `limit` of them."""

    def __init__(self, limit: int = 1000, idle_seconds: float = 3600.0) -> None:
        self._sessions: OrderedDict[str, VoterState] = OrderedDict()
        self.limit, self.idle_seconds = limit, idle_seconds

    def get(self, sid: str | None) -> VoterState | None:
        """The session of `sid`; a vote in it idle for VOTE_IDLE_SECONDS is forgotten first."""
        state = self._sessions.get(sid or "")
        if state is None or time.monotonic() - state.used > self.idle_seconds:
            return None
        if time.monotonic() - state.used > VOTE_IDLE_SECONDS and (
            state.in_progress() or state.cast is not None
        ):
            state.forget()
            state.notice = "vote_idle"
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
