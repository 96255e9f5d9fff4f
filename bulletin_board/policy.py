"""What the board accepts, when and from whom (docs/board.md §5).

The log stores any envelope; a `Policy` decides. The server keeps one policy state per
election, rebuilt at start-up by replaying the stored entries through `on_accept`, so a policy
holds no state of its own and needs no storage. `check` must not change the state: it either
returns (accept) or raises `Refusal(code, detail)`; the server then commits the entry and calls
`on_accept`. Both run under the election's append lock, one entry at a time.

`RegistryPolicy` is the default: the first entry of an election is a self-signed `registry`
naming each author's Ed25519 key and role; `phase` entries from an admin move the election
through PHASES in order; `ALLOWED` says which entry types which roles may post in each phase.
The election manifest vocabulary of `election/` plugs in as another `Policy`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import AUTHOR_RE, Envelope, verify_envelope
from bulletin_board.log import public_key_from_hex
from mixnet.encoding import canonical_json
from mixnet.errors import DecodeError, VerificationError

__all__ = [
    "ALLOWED",
    "PHASES",
    "REFUSAL_CODES",
    "ROLES",
    "ElectionState",
    "Policy",
    "Refusal",
    "RegistryPolicy",
]

# code -> (HTTP status, meaning). The server answers every refusal with one of these.
REFUSAL_CODES: dict[str, tuple[int, str]] = {
    "malformed": (400, "the request or entry is not well-formed"),
    "non_canonical": (400, "the entry is JSON but not in canonical form"),
    "bad_request": (400, "a query parameter is missing or out of range"),
    "election_mismatch": (400, "the entry names another election than the URL"),
    "not_found": (404, "no such resource (index beyond the tree, unknown path)"),
    "unknown_election": (404, "no election with this id on this board"),
    "method_not_allowed": (405, "the method is not allowed on this path"),
    "wrong_phase": (409, "the entry type is not accepted in the election's current phase"),
    "duplicate_entry": (409, "this exact entry is already on the board"),
    "duplicate_ciphertext": (
        409,
        "a ciphertext of the ballot is already on the board, or repeated within the ballot",
    ),
    "election_exists": (409, "a registry for this election is already on the board"),
    "other_board": (422, "the manifest names another board's key than this board's"),
    "unauthorised_signer": (403, "the author is not authorised to post this entry"),
    "bad_signature": (403, "the signature does not verify under the author's key"),
    "request_timeout": (408, "the request's head or body did not arrive in time"),
    "too_large": (413, "the request body is larger than the board accepts"),
    "unsupported_media_type": (415, "entries are posted as application/json"),
    "element_not_in_group": (422, "a group element in the body is not in the group"),
    "bad_proof": (422, "a proof in the body does not verify"),
    "bad_body": (422, "the body does not follow the entry type's schema"),
    "busy": (429, "too many posts pending; retry later (Retry-After)"),
    "outside_voting_period": (
        409,
        "a ballot before the voting period opened or after it closed (by the board's clock, "
        "within its stated tolerance)",
    ),
    "registrar_unavailable": (503, "the registrar cannot keep evidence now; nothing recorded"),
    "too_many_connections": (
        429,
        "this client address has as many connections open as the board allows; the new "
        "one is answered and closed",
    ),
    "not_this_registrar": (
        503,
        "this board's registrar is not the one the election names: it cannot take the "
        "election's ballots",
    ),
    "registrar_refused": (
        403,
        "the registrar refused the voter's card, certificate, eligibility or voting code; "
        "'reason' names which (409 for a voting code used by another voter, 503 when "
        "revocation cannot be checked now)",
    ),
}

PHASES = ("setup", "key_ceremony", "voting", "closed", "mixing", "decrypting", "tallied")
ROLES = frozenset({"admin", "trustee", "registrar", "mix", "mirror"})

# phase -> entry type -> roles that may post it
ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    "setup": {"manifest": frozenset({"admin"}), "phase": frozenset({"admin"})},
    "key_ceremony": {
        "dkg": frozenset({"trustee"}),
        "dkg_round": frozenset({"admin"}),
        "joint_key": frozenset({"admin", "trustee"}),
        "phase": frozenset({"admin"}),
    },
    "voting": {"ballot": frozenset({"registrar"}), "phase": frozenset({"admin"})},
    "closed": {"mix_input": frozenset({"admin"}), "phase": frozenset({"admin"})},
    "mixing": {"shuffle": frozenset({"mix"}), "phase": frozenset({"admin"})},
    "decrypting": {
        "decryption_share": frozenset({"trustee"}),
        "result": frozenset({"admin"}),
        "phase": frozenset({"admin"}),
    },
    "tallied": {},
}


class Refusal(Exception):
    """An expected refusal: `code` is one of REFUSAL_CODES, `detail` is for humans."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in REFUSAL_CODES:
            raise ValueError(f"unknown refusal code {code!r}")
        self.code = code
        self.detail = detail
        self.extra: dict[str, Any] = {}  # more machine-readable fields for the answer
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def status(self) -> int:
        return REFUSAL_CODES[self.code][0]


class Policy(Protocol):
    """Decides which envelopes an election accepts (see the module docstring)."""

    def initial_state(self, election: str) -> Any:
        """The state of an election with no entries."""
        ...

    def check(self, state: Any, envelope: Envelope) -> None:
        """Return if `envelope` may be appended now; raise `Refusal` otherwise. No mutation."""
        ...

    def on_accept(self, state: Any, envelope: Envelope, index: int) -> None:
        """Update `state` after `envelope` was committed at `index` (also used on replay)."""
        ...

    def describe(self, state: Any) -> dict[str, Any]:
        """A small JSON summary of the state (phase, counts) for `GET /v1/elections/{id}`."""
        ...


@dataclass
class Author:
    key: Ed25519PublicKey
    role: str


@dataclass
class ElectionState:
    """The default policy's view of one election."""

    election: str
    size: int = 0
    phase: str | None = None  # None until the registry is on the board
    authors: dict[str, Author] = field(default_factory=dict)
    ciphertexts: set[bytes] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)


def _parse_registry(body: Mapping[str, Any]) -> dict[str, Author]:
    authors = body.get("authors")
    if set(body) != {"authors"} or not isinstance(authors, dict) or not authors:
        raise Refusal("bad_body", 'a registry body is {"authors": {id: {key, role}}}')
    out: dict[str, Author] = {}
    for author_id, spec in authors.items():
        if AUTHOR_RE.fullmatch(author_id) is None:
            raise Refusal("bad_body", f"bad author id {author_id!r}")
        if not isinstance(spec, dict) or set(spec) != {"key", "role"}:
            raise Refusal("bad_body", f"author {author_id}: expected {{key, role}}")
        if spec["role"] not in ROLES:
            raise Refusal("bad_body", f"author {author_id}: role must be one of {sorted(ROLES)}")
        try:
            key = public_key_from_hex(spec["key"])
        except (DecodeError, ValueError) as exc:
            raise Refusal("bad_body", f"author {author_id}: key is not an Ed25519 key") from exc
        out[author_id] = Author(key, spec["role"])
    return out


class RegistryPolicy:
    """The default policy: a registry of authors, phases in order, `ALLOWED` per phase.

    `creators`: if given, the hex Ed25519 keys allowed to open an election (the registry's
    own signer); otherwise any self-signed registry opens a new election id.
    """

    def __init__(
        self,
        creators: Iterable[str] | None = None,
        allowed: Mapping[str, Mapping[str, frozenset[str]]] = ALLOWED,
    ) -> None:
        self.creators = None if creators is None else frozenset(creators)
        self.allowed = allowed

    def initial_state(self, election: str) -> ElectionState:
        return ElectionState(election)

    def accepted_types(self, state: ElectionState) -> frozenset[str]:
        """The entry types the election may accept in its current phase."""
        if state.phase is None:
            return frozenset({"registry"})
        return frozenset(self.allowed.get(state.phase, {}))

    def _verify(self, key: Ed25519PublicKey, envelope: Envelope) -> None:
        try:
            verify_envelope(envelope, key)
        except VerificationError as exc:
            raise Refusal("bad_signature", str(exc)) from exc

    def check(self, state: ElectionState, envelope: Envelope) -> None:
        if state.phase is None:
            if envelope.type != "registry":
                raise Refusal("unknown_election", "post a registry entry first")
            authors = _parse_registry(envelope.body)
            me = authors.get(envelope.author)
            if me is None or me.role != "admin":
                raise Refusal("unauthorised_signer", "the registry is signed by an admin it names")
            if (
                self.creators is not None
                and envelope.body["authors"][envelope.author]["key"] not in self.creators
            ):
                raise Refusal("unauthorised_signer", "this board does not accept this creator")
            self._verify(me.key, envelope)
            return
        if envelope.type == "registry":
            raise Refusal("election_exists", "this election already has a registry")
        author = state.authors.get(envelope.author)
        if author is None:
            raise Refusal("unauthorised_signer", f"{envelope.author} is not in the registry")
        self._verify(author.key, envelope)
        allowed = self.allowed.get(state.phase, {})
        roles = allowed.get(envelope.type)
        if roles is None:
            raise Refusal("wrong_phase", f"{envelope.type} is not accepted in {state.phase}")
        if author.role not in roles:
            raise Refusal("unauthorised_signer", f"a {author.role} may not post {envelope.type}")
        if envelope.type == "phase":
            target = envelope.body.get("phase")
            if set(envelope.body) != {"phase"} or target not in PHASES:
                raise Refusal("bad_body", 'a phase body is {"phase": name}')
            if PHASES.index(target) != PHASES.index(state.phase) + 1:
                raise Refusal("wrong_phase", f"{state.phase} cannot move to {target}")
        if envelope.type == "ballot" and "ciphertexts" in envelope.body:
            if self._ciphertext_key(envelope) in state.ciphertexts:
                raise Refusal("duplicate_ciphertext", "these ciphertexts are already posted")

    @staticmethod
    def _ciphertext_key(envelope: Envelope) -> bytes:
        return hashlib.sha256(canonical_json(envelope.body["ciphertexts"])).digest()

    def on_accept(self, state: ElectionState, envelope: Envelope, index: int) -> None:
        state.size = index + 1
        state.counts[envelope.type] = state.counts.get(envelope.type, 0) + 1
        if envelope.type == "registry" and state.phase is None:
            state.authors = _parse_registry(envelope.body)
            state.phase = PHASES[0]
        elif envelope.type == "phase":
            state.phase = envelope.body["phase"]
        elif envelope.type == "ballot" and "ciphertexts" in envelope.body:
            state.ciphertexts.add(self._ciphertext_key(envelope))

    def describe(self, state: ElectionState) -> dict[str, Any]:
        return {"phase": state.phase or "none", "counts": dict(sorted(state.counts.items()))}
