"""Ballot entries posted to `/entries`, checked in worker processes (docs/board.md §6).

A registrar that runs apart from the board posts attested ballot entries to the board's
generic endpoint. Their checks need no state: the registrar's signature on the entry, and
`check_ballot` (membership, the proof of knowledge, the ballot key's signature, the
attestation). `BallotPrecheck` runs them in a `WorkerPool` before the entry takes the election's
append lock, and registers the very envelope object as checked (`ElectionRecordState.prechecked`),
so under the lock only the stateful checks remain (phase, copied ciphertexts). Any other entry,
or a ballot outside the voting phase, goes through the policy as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import Envelope, decode_envelope, verify_envelope
from bulletin_board.policy import Refusal
from bulletin_board.workers import WorkerPool
from election.manifest import Manifest
from election.policy import ElectionRecordState, check_ballot
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import Element, Group, group_from_description

__all__ = ["BallotPrecheck", "ElectionJobs", "check_ballot_entry", "election_job_args"]

# in each worker: election key -> (group, manifest, fingerprint, pk, registrar key)
_CONTEXTS: dict[bytes, tuple[Group, Manifest, bytes, Element, Ed25519PublicKey]] = {}


def check_ballot_entry(
    election_key: bytes, payload: tuple[bytes, str] | None, data: bytes
) -> tuple[Any, ...]:
    """Runs in a worker: the stateless checks of one posted ballot entry. Returns ("ok",),
    ("refused", code, detail), or ("missing",) when this worker has not seen the election
    yet and `payload` (manifest bytes, joint key hex) was not sent."""
    context = _CONTEXTS.get(election_key)
    if context is None:
        if payload is None:
            return ("missing",)
        manifest = Manifest.from_json(parse_canonical_json(payload[0]))
        group = group_from_description(manifest.group)
        registrar = Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.registrar_key))
        if len(_CONTEXTS) >= 16:
            _CONTEXTS.clear()
        context = _CONTEXTS[election_key] = (
            group,
            manifest,
            manifest.fingerprint(),
            group.element_from_hex(payload[1]),
            registrar,
        )
    group, manifest, fingerprint, pk, registrar = context
    try:
        envelope = decode_envelope(data)
        verify_envelope(envelope, registrar)
        if set(envelope.body) != {"v", "ballot", "attestation"}:
            raise Refusal("bad_body", "a ballot entry is {v, ballot, attestation}")
        check_ballot(group, manifest, fingerprint, pk, envelope.body)
    except Refusal as r:
        return ("refused", r.code, r.detail)
    except VerificationError as exc:
        return ("refused", "bad_signature", str(exc))
    except (DecodeError, KeyError, TypeError) as exc:
        return ("refused", "bad_body", f"ballot entry: {exc}")
    return ("ok",)


def election_job_args(
    manifest: Manifest, pk: Element, prefix: bytes = b""
) -> tuple[bytes, tuple[bytes, str]]:
    """(the key a worker caches an election under, what it decodes the election from: the
    manifest's canonical bytes and the joint key's hex)."""
    payload = (canonical_json(manifest.to_json()), pk.to_hex())
    return prefix + hashlib.sha256(payload[0] + payload[1].encode()).digest(), payload


class ElectionJobs:
    """How worker jobs name an election: a key, and what a worker that has not seen it yet
    needs to decode it once (the manifest's bytes, the joint key's hex). `run` sends the key
    alone and, to a worker that answers ("missing",), the job again with the payload.

    `runner(function, *args)` runs a job: `WorkerPool.run`, or a thread of this process."""

    def __init__(self, runner: Callable[..., Awaitable[Any]], prefix: bytes = b"") -> None:
        self.runner = runner
        self.prefix = prefix  # tells apart users of one worker process (see BallotIntake)
        # election -> (manifest, pk, election key, payload)
        self._jobs: dict[str, tuple[Manifest, Element, bytes, tuple[bytes, str]]] = {}

    def args(
        self, election: str, manifest: Manifest, pk: Element
    ) -> tuple[bytes, tuple[bytes, str]]:
        cached = self._jobs.get(election)
        if cached is None or cached[0] is not manifest or cached[1] is not pk:
            cached = self._jobs[election] = (
                manifest,
                pk,
                *election_job_args(manifest, pk, self.prefix),
            )
        return cached[2], cached[3]

    async def run(
        self,
        function: Callable[..., tuple[Any, ...]],
        election: str,
        manifest: Manifest,
        pk: Element,
        *args: Any,
    ) -> tuple[Any, ...]:
        """`function(key, payload or None, *args)` for the election, in a worker."""
        key, payload = self.args(election, manifest, pk)
        outcome: tuple[Any, ...] = await self.runner(function, key, None, *args)
        if outcome[0] == "missing":  # this worker's first job for the election
            outcome = await self.runner(function, key, payload, *args)
        return outcome


class BallotPrecheck:
    """The board's `precheck` hook for the election policy (see `Board.post`)."""

    def __init__(self, pool: WorkerPool) -> None:
        self.jobs = ElectionJobs(pool.run)

    async def __call__(
        self, election: str, state: Any, envelope: Envelope, data: bytes
    ) -> Callable[[], None] | None:
        """Check a ballot entry in a worker; on success register it as checked and return
        the function that forgets it (the board calls it once the append is over). Raises
        `Refusal`. Returns None for anything it leaves to the policy."""
        if (
            envelope.type != "ballot"
            or envelope.author != "registrar"
            or not isinstance(state, ElectionRecordState)
            or state.phase != "voting"
            or state.manifest is None
            or state.pk is None
        ):
            return None
        outcome = await self.jobs.run(check_ballot_entry, election, state.manifest, state.pk, data)
        if outcome[0] == "refused":
            raise Refusal(outcome[1], outcome[2])
        state.prechecked[id(envelope)] = envelope

        def forget() -> None:
            if state.is_prechecked(envelope):
                del state.prechecked[id(envelope)]

        return forget
