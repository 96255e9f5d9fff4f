"""The simulations' independent verification pass: the record alone, re-checked from scratch.

Input is the list of accepted entries (bytes, board order), nothing else: no prover state, no
trustee secret, no board state. Checks, in order (each stops the pass if it fails, since what
follows would be built on it):

    A1 manifest      the first entry is a manifest; its group re-derived from its generation record
    A2 signatures    every entry is signed by the manifest key of its author, in the order the
                     election's rules allow (`election.rules.EntryOrder`)
    A3 key ceremony  the joint key and verification keys equal what the DKG messages give
    A4 ballots       attestation, proof of knowledge, ballot-key signature; no ciphertext
                     repeated within a ballot or copied from another (`election.rules`)
    A5 mix input     exactly the ballot that counts for every pseudonym, in board order, split
                     into one list per contest
    A6.k shuffle k   per contest: input = previous list, proof of shuffle verifies in that
                     contest's context
    A7 decryption    shares verified (bad ones excluded, named), t valid ones decrypt every
                     contest's list to exactly the published plaintexts
    A8 tally         the recount of the plaintexts equals the published tally

The full election verifier lives in `verifier/`; this pass is the simulations' own, so that a
simulation reports a verdict that does not depend on the code it is measuring.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import Envelope, decode_envelope, verify_envelope
from election import rules
from election.manifest import Manifest
from election.policy import ceremony_config
from mixnet import elgamal
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups import get_group, group_from_description
from mixnet.parallel import run_chunks
from trustees.decryption import DecryptionShare, combine_lists, share_entry_values
from trustees.dkg import ceremony_event, derive_public_outcome
from trustees.errors import CeremonyFailed, NotEnoughShares
from trustees.mixer import Lists, ShuffleRejected, decode_shuffle, shapes_of, verify_shuffle

__all__ = ["Check", "check_record", "verdict"]


@dataclass(frozen=True)
class Check:
    id: str
    what: str
    ok: bool
    detail: str = ""
    seconds: float = field(default=0.0, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.what,
            "pass": self.ok,
            "detail": self.detail,
            "seconds": round(self.seconds, 3),
        }


class _Stop(Exception):
    pass


def verdict(checks: Sequence[Check]) -> bool:
    return bool(checks) and all(c.ok for c in checks)


def _check_ballot_chunk(
    group_name: str,
    manifest_json: Any,
    pk_hex: str,
    bodies: list[tuple[int, Any]],
) -> list[tuple[int, str]]:
    """Check ballots (index, body) with `rules.check_ballot_body`; (index, failure) for each
    that fails."""
    from simulations.world import ensure_groups

    ensure_groups()
    group = get_group(group_name)
    manifest = Manifest.from_json(manifest_json)
    fingerprint = manifest.fingerprint()
    pk = group.element_from_hex(pk_hex)
    failures = []
    for index, body in bodies:
        try:
            rules.check_ballot_body(group, manifest, fingerprint, pk, body)
        except rules.RuleBroken as exc:
            failures.append((index, str(exc)))
    return failures


def check_record(
    entries: Sequence[bytes],
    executor: Executor | None = None,
    *,
    allow_test_groups: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Check]:
    """Run A1…A8 over `entries`; returns every check made (the failing one last)."""
    checks: list[Check] = []

    def step(cid: str, what: str, fn: Callable[[], Any]) -> Any:
        if progress:
            progress(cid)
        start = time.perf_counter()
        try:
            value = fn()
        except (
            VerificationError,
            DecodeError,
            CeremonyFailed,
            NotEnoughShares,
            ValueError,
            KeyError,
        ) as exc:
            checks.append(Check(cid, what, False, str(exc), time.perf_counter() - start))
            raise _Stop from exc
        checks.append(Check(cid, what, True, "", time.perf_counter() - start))
        return value

    try:
        _run(entries, executor, allow_test_groups, step)
    except _Stop:
        pass
    return checks


def _run(
    entries: Sequence[bytes],
    executor: Executor | None,
    allow_test_groups: bool,
    step: Callable[[str, str, Callable[[], Any]], Any],
) -> None:
    envs: list[Envelope] = [decode_envelope(e) for e in entries]

    def manifest_check() -> Manifest:
        if not envs or envs[0].type != "manifest":
            raise VerificationError("A1", "the record does not start with a manifest")
        m = Manifest.from_json(envs[0].body["manifest"])
        if not allow_test_groups:
            m.check_production()
        group_from_description(m.group, recheck=True)
        return m

    manifest: Manifest = step("A1", "manifest and group parameters", manifest_check)
    group = manifest.group_object()
    fp = manifest.fingerprint()
    width = manifest.width
    keys = {"admin": manifest.admin_key, "registrar": manifest.registrar_key}
    keys |= {t.id: t.signing_key for t in manifest.trustees}
    keys |= {m.id: m.signing_key for m in manifest.mix_servers}

    roles = {"admin": ("admin", 0), "registrar": ("registrar", 0)}
    roles |= {t.id: ("trustee", t.index) for t in manifest.trustees}
    roles |= {m.id: ("mix", m.position) for m in manifest.mix_servers}

    def signatures() -> None:
        order = rules.EntryOrder(len(manifest.mix_servers), manifest.threshold)
        for i, env in enumerate(envs):
            if env.author not in keys:
                raise VerificationError("A2", f"entry {i}: unknown author {env.author}")
            verify_envelope(
                env, Ed25519PublicKey.from_public_bytes(bytes.fromhex(keys[env.author]))
            )
            if i == 0:
                continue
            role, index = roles[env.author]
            try:
                order.check(env.type, role, index, env.body)
            except rules.RuleBroken as exc:
                raise VerificationError("A2", f"entry {i}: {exc}") from exc
            order.accept(env.type, index, env.body)

    step("A2", f"signatures and order of {len(envs)} entries", signatures)

    def ceremony() -> Any:
        config = ceremony_config(manifest)
        events = [ceremony_event(e.type, e.body) for e in envs]
        outcome = derive_public_outcome([e for e in events if e is not None], config)
        posted = [e.body for e in envs if e.type == "joint_key"]
        if len(posted) != 1:
            raise VerificationError("A3", "exactly one joint key entry")
        body = posted[0]
        vks = [outcome.verification_keys[j].to_hex() for j in sorted(outcome.verification_keys)]
        if body["pk"] != outcome.pk.to_hex() or body["verification_keys"] != vks:
            raise VerificationError("A3", "the posted joint key differs from the DKG outcome")
        return outcome

    outcome = step("A3", "joint key derived from the key ceremony", ceremony)

    ballot_entries = [(i, e.body) for i, e in enumerate(envs) if e.type == "ballot"]

    def ballots() -> list[int]:
        failures = [
            f
            for part in run_chunks(
                executor,
                _check_ballot_chunk,
                len(ballot_entries),
                lambda a, b: (
                    group.name,
                    manifest.to_json(),
                    outcome.pk.to_hex(),
                    ballot_entries[a:b],
                ),
            )
            for f in part
        ]
        if failures:
            index, detail = failures[0]
            raise VerificationError("A4", f"{len(failures)} bad ballots; entry {index}: {detail}")
        seen: set[bytes] = set()
        for i, body in ballot_entries:
            keys = rules.ciphertext_keys(body["ballot"]["row"])
            try:
                rules.check_fresh_ciphertexts(keys, seen)
            except rules.RuleBroken as exc:
                raise VerificationError("A4", f"entry {i}: {exc}") from exc
            seen.update(keys)
        return rules.counted_ballots(
            manifest.revote,
            ((bytes.fromhex(body["attestation"]["pseudonym"]), i) for i, body in ballot_entries),
        )

    counted: list[int] = step("A4", f"{len(ballot_entries)} ballots", ballots)

    def mix_input() -> Lists:
        posted = [e.body for e in envs if e.type == "mix_input"]
        if len(posted) != 1:
            raise VerificationError("A5", "exactly one mix input")
        indices = counted
        rows = [envs[i].body["ballot"]["row"] for i in indices]
        expected = rules.contest_lists_json(manifest, rows)
        if posted[0]["entries"] != indices or posted[0]["contests"] != expected:
            missing = len(indices) - len(posted[0]["entries"])
            raise VerificationError(
                "A5",
                "the mix input is not each contest's part of the last ballot of every voter"
                + (f" ({missing} missing)" if missing > 0 else ""),
            )
        return rules.contest_lists(
            manifest, elgamal.rows_from_json(group, rows, width, None, executor)
        )

    current = step("A5", "mix input = last ballot per voter, one list per contest", mix_input)
    shuffles = [e for e in envs if e.type == "shuffle"]
    for k in range(1, len(manifest.mix_servers) + 1):

        def check_shuffle(k: int = k, current: Lists = current) -> Any:
            mine = [e for e in shuffles if e.author == f"mix-{k}"]
            if len(mine) != 1 or mine[0].body["position"] != k:
                raise VerificationError(f"A6.{k}", f"mix server {k} posted no single shuffle")
            try:
                posted = decode_shuffle(group, mine[0].body, shapes_of(current))
                verify_shuffle(outcome.pk, current, posted, fp, executor=executor)
            except ShuffleRejected as exc:
                raise VerificationError(f"A6.{k}", str(exc)) from exc
            return [(part.contest, list(part.outputs)) for part in posted.lists]

        current = step(f"A6.{k}", f"mixer {k}: proofs of shuffle", check_shuffle)

    results = [e.body for e in envs if e.type == "result"]

    def decryption() -> Any:
        contests = [c.id for c in manifest.contests]
        shares = [
            (
                int(e.body["trustee"]),
                [
                    DecryptionShare.from_json_value(v, group)
                    for v in share_entry_values(e.body, contests)
                ],
            )
            for e in envs
            if e.type == "decryption_share"
        ]
        if len(results) != 1:
            raise VerificationError("A7", "exactly one result")
        res = combine_lists(
            current,
            shares,
            outcome.verification_keys,
            manifest.threshold,
            election=fp,
            executor=executor,
            decoders={c.id: rules.contest_decoder(manifest, c) for c in manifest.contests},
        )
        if rules.published_plaintexts(res.plaintexts) != results[0]["plaintexts"]:
            raise VerificationError("A7", "the published plaintexts differ from the decryption")
        return res

    res = step("A7", "decryption shares and plaintexts", decryption)

    def tally() -> None:
        recount = rules.count_plaintexts(manifest, dict(res.plaintexts))
        if recount != results[0]["tally"]:
            raise VerificationError("A8", "the published tally differs from the recount")

    step("A8", "recount of the tally", tally)


def run_verifier(
    entries: Sequence[bytes],
    board_key: Any,
    election: str,
    executor: Executor | None = None,
    *,
    allow_test_groups: bool = True,
) -> Any:
    """The project's observer (`tohyo verify`, steps V1–V12) over the same record, exported
    in memory with a final tree head signed by the simulated board. Returns its `Report`."""
    from bulletin_board.export import EXPORT_FORMAT
    from bulletin_board.log import MerkleLog, hash_leaf, public_key_hex, sign_tree_head
    from mixnet.encoding import canonical_json
    from verifier import Options, Record, verify_record

    log = MerkleLog(hash_leaf(e) for e in entries)
    sth = sign_tree_head(board_key, election, len(log), log.root(), time.time_ns() // 10**6)
    meta = {
        "format": EXPORT_FORMAT,
        "election": election,
        "board_key": public_key_hex(board_key.public_key()),
        "tree_size": len(log),
        "root_hash": log.root().hex(),
    }
    head = canonical_json(sth.to_json())  # the one head, so also the last of tree-heads.jsonl
    record = Record("simulation (in memory)", meta, tuple(entries), (head,), head)
    return verify_record(
        record, Options(allow_test_groups=allow_test_groups, executor=executor, progress=False)
    )
