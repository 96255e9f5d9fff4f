"""The numbered verification steps V1–V13 of docs/record.md §7, over one election record.

Each step is a function of a shared context; it raises `StepFailed` (or lets a
`VerificationError` / `DecodeError` from a verification function through) on the first fault,
or `Skipped` when what it needs is missing (an earlier step failed, or the election has not
reached that phase). `verify_record` runs them all in order and returns the `Report`; later
steps use the record as published, so one fault fails one step and the report names it.

Imports only verification functions and record decoders (import-linter contract in
pyproject.toml).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bulletin_board.entry import Envelope, decode_envelope, verify_envelope
from bulletin_board.log import (
    MerkleLog,
    SignedTreeHead,
    hash_leaf,
    public_key_from_hex,
    verify_cosignature,
    verify_tree_head,
)
from bulletin_board.receipt import Receipt, verify_receipt
from election import rules
from election.entries import BODY_VERSION, mix_context
from election.manifest import Manifest, ceremony_config
from election.period import HEAD_DELAY, covering_head_times, outside_voting_period
from election.rules import EntryOrder, RuleBroken
from mixnet import elgamal
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, TohyoError, VerificationError
from mixnet.groups import Element, Group, group_from_description, production_group
from mixnet.parallel import run_chunks
from mixnet.shuffle import proof as shuffle_proof
from mixnet.transcript import Transcript
from trustees.decryption import (
    DecryptionShare,
    lagrange_coefficients,
    rows_digest,
    share_entry_values,
    verify_share,
)
from trustees.dkg import RoundClose, ceremony_event, derive_public_outcome
from trustees.errors import CeremonyFailed
from verifier.record import Record
from verifier.report import FAIL, PASS, SKIP, Report, StepResult

__all__ = ["STEPS", "Options", "Skipped", "StepFailed", "verify_record"]

BALLOT_CHUNK = 32


class StepFailed(Exception):
    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check, self.reason = check, reason


class Skipped(Exception):
    """The step cannot run: what it needs is missing."""


@dataclass
class Options:
    tree_heads: Sequence[tuple[str, Any]] = ()  # (file name, parsed JSON): heads or receipts
    # pins from outside the record (hex): the board's key, the manifest's fingerprint
    board_key: str | None = None
    fingerprint: str | None = None
    allow_test_groups: bool = False
    executor: Executor | None = None
    progress: bool | None = None  # None: tqdm decides (on when stderr is a terminal)
    evidence: Callable[[Context, StepResult], None] | None = None  # step V13 (auditors)


@dataclass
class Author:
    key: Ed25519PublicKey
    role: str
    index: int = 0


@dataclass
class BallotInfo:
    index: int
    pseudonym: bytes
    row_json: Any
    error: tuple[str, str] | None = None


@dataclass
class Context:
    record: Record
    options: Options
    envelopes: list[Envelope] = field(default_factory=list)
    manifest: Manifest | None = None
    group: Group | None = None
    fingerprint: bytes = b""
    authors: dict[str, Author] = field(default_factory=dict)
    log: MerkleLog | None = None
    board_key: Ed25519PublicKey | None = None
    pk: Element | None = None
    verification_keys: dict[int, Element] = field(default_factory=dict)
    ballots: list[BallotInfo] = field(default_factory=list)
    #: the mix input's lists and the last shuffle's: (contest id, rows) per contest
    mix_input: list[tuple[str, list[elgamal.Row]]] | None = None
    final_rows: list[tuple[str, list[elgamal.Row]]] | None = None

    def of_type(self, type_: str) -> list[tuple[int, Envelope]]:
        return [(i, e) for i, e in enumerate(self.envelopes) if e.type == type_]

    def one(self, type_: str) -> tuple[int, Envelope]:
        found = self.of_type(type_)
        if not found:
            raise Skipped(f"no {type_} entry on the record")
        return found[0]

    def need(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) in (None, b"", [], {}):
                raise Skipped(f"needs {name.replace('_', ' ')}, which an earlier step lacked")


def _progress(ctx: Context, total: int, desc: str) -> Any:
    from tqdm import tqdm

    flag = ctx.options.progress
    return tqdm(
        total=total,
        desc=desc,
        leave=False,
        file=sys.stderr,
        disable=None if flag is None else not flag,
    )


def decode_rows(
    group: Group, data: Any, width: int, what: str, executor: Executor | None = None
) -> list[elgamal.Row]:
    """A non-empty list of rows of `width` ciphertexts, all elements checked for membership."""
    if not isinstance(data, list) or not data:
        raise DecodeError(f"{what}: a non-empty list of rows")
    flat: list[Any] = []
    for r in data:
        if not isinstance(r, list) or len(r) != width:
            raise DecodeError(f"{what}: every row has {width} ciphertexts")
        for pair in r:
            if not isinstance(pair, list) or len(pair) != 2:
                raise DecodeError(f"{what}: a ciphertext is a pair [a, b]")
            flat += pair
    elements = decode_elements(group, flat, executor)
    step = 2 * width
    return [_pairs(elements[step * i : step * (i + 1)]) for i in range(len(data))]


def _decode_chunk(group: Group, texts: list[Any]) -> list[Element]:
    return group.elements_from_hex(texts)


def decode_elements(
    group: Group, texts: list[Any], executor: Executor | None = None
) -> list[Element]:
    """`group.elements_from_hex` (membership checked, in batches) over the executor's workers."""
    parts = run_chunks(executor, _decode_chunk, len(texts), lambda a, b: (group, texts[a:b]))
    return [e for part in parts for e in part]


def _pairs(elements: Sequence[Element]) -> elgamal.Row:
    return tuple(
        elgamal.Ciphertext(elements[k], elements[k + 1]) for k in range(0, len(elements), 2)
    )


# ---------------------------------------------------------------------------- V1 record


def v1_record(ctx: Context, res: StepResult) -> None:
    meta = ctx.record.meta
    if set(meta) != {"board_key", "election", "format", "root_hash", "tree_size"}:
        raise StepFailed("V1.board_json", "board.json has other fields than the export format's")
    if not ctx.record.entries:
        raise StepFailed("V1.entries", "entries.jsonl is empty")
    envelopes = []  # handed on only whole (docs/record.md §7: a failed step has no output)
    for i, data in enumerate(ctx.record.entries):
        try:
            env = decode_envelope(data)
        except DecodeError as exc:
            raise StepFailed("V1.entry_decode", f"entry {i}: {exc}") from exc
        if env.election != meta["election"]:
            raise StepFailed("V1.election", f"entry {i} belongs to election {env.election}")
        envelopes.append(env)
    ctx.envelopes = envelopes
    res.counts = {"entries": len(ctx.envelopes), "tree_heads": len(ctx.record.head_lines)}


# ---------------------------------------------------------------------------- V2 manifest


def v2_manifest(ctx: Context, res: StepResult) -> None:
    ctx.need("envelopes")
    first = ctx.envelopes[0]
    if first.type != "manifest" or first.author != "admin":
        raise StepFailed("V2.first_entry", "entry 0 is not a manifest posted by the admin")
    if set(first.body) != {"manifest"}:
        raise StepFailed("V2.body", 'a manifest entry is {"manifest": …}')
    try:
        manifest = Manifest.from_json(first.body["manifest"])
    except DecodeError as exc:
        raise StepFailed("V2.decode", f"the manifest does not decode: {exc}") from exc
    if canonical_json(manifest.to_json()) != canonical_json(first.body["manifest"]):
        raise StepFailed("V2.canonical", "the manifest does not re-encode to the posted form")
    if manifest.election_id != first.election:
        raise StepFailed("V2.election", "the manifest names another election id")
    try:
        verify_envelope(first, public_key_from_hex(manifest.admin_key))
    except VerificationError as exc:
        raise StepFailed("V2.signature", "the manifest is not signed by its admin key") from exc
    if ctx.record.meta.get("board_key") != manifest.board_key:
        raise StepFailed(
            "V2.board_key", "the export was made by another board key than the manifest names"
        )
    pins = ctx.options
    if pins.board_key is not None and manifest.board_key != pins.board_key.lower():
        raise StepFailed(
            "V2.board_key_pin",
            "the manifest names another board key than the "
            f"one given (--board-key): {manifest.board_key}",
        )
    if pins.fingerprint is not None and manifest.fingerprint().hex() != pins.fingerprint.lower():
        raise StepFailed(
            "V2.fingerprint_pin",
            "the manifest's fingerprint is not the one given "
            f"(--fingerprint): {manifest.fingerprint().hex()}",
        )
    ctx.manifest = manifest
    ctx.fingerprint = manifest.fingerprint()
    key = public_key_from_hex
    ctx.board_key = key(manifest.board_key)
    ctx.authors = {
        "admin": Author(key(manifest.admin_key), "admin"),
        "registrar": Author(key(manifest.registrar_key), "registrar"),
    }
    for t in manifest.trustees:
        ctx.authors[t.id] = Author(key(t.signing_key), "trustee", t.index)
    for m in manifest.mix_servers:
        ctx.authors[m.id] = Author(key(m.signing_key), "mix", m.position)
    if len(ctx.authors) != 2 + len(manifest.trustees) + len(manifest.mix_servers):
        raise StepFailed("V2.authors", "two authors of the manifest share an id")
    res.counts = {
        "contests": len(manifest.contests),
        "width": manifest.width,
        "trustees": len(manifest.trustees),
        "threshold": manifest.threshold,
        "mix_servers": len(manifest.mix_servers),
    }
    res.notes.append(f"fingerprint {ctx.fingerprint.hex()}")


# ---------------------------------------------------------------------------- V3 group


def v3_group(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest")
    assert ctx.manifest is not None
    try:
        group = group_from_description(ctx.manifest.group, recheck=True)
    except (DecodeError, TohyoError, ValueError) as exc:
        raise StepFailed("V3.parameters", f"group parameters: {exc}") from exc
    try:
        production_group(group.name)
        res.notes.append(f"{group.name}: production group, {group.security_bits}-bit security")
    except (TohyoError, ValueError) as exc:
        if not ctx.options.allow_test_groups:
            raise StepFailed("V3.production", str(exc)) from exc
        res.notes.append(f"{group.name} is a TEST group (accepted by --allow-test-groups)")
    ctx.group = group
    res.counts = {
        "p_bits": int(getattr(group, "p", 0)).bit_length(),
        "q_bits": group.order.bit_length(),
    }


# ---------------------------------------------------------------------------- V4 entries


def v4_entries(ctx: Context, res: StepResult) -> None:
    """The record replayed through the election's order rules (`rules.EntryOrder`), the
    same the board applies as it accepts each entry."""
    ctx.need("manifest")
    assert ctx.manifest is not None
    order = EntryOrder(len(ctx.manifest.mix_servers), ctx.manifest.threshold)
    for i, env in enumerate(ctx.envelopes[1:], start=1):
        where = f"entry {i} ({env.type} by {env.author})"
        author = ctx.authors.get(env.author)
        if author is None:
            raise StepFailed("V4.author", f"{where}: the author is not in the manifest")
        try:
            verify_envelope(env, author.key)
        except VerificationError as exc:
            raise StepFailed("V4.signature", f"{where}: the signature does not verify") from exc
        try:
            order.check(env.type, author.role, author.index, env.body)
        except RuleBroken as broken:
            raise StepFailed(broken.check, f"{where}: {broken.detail}") from broken
        order.accept(env.type, author.index, env.body)
    res.counts = dict(sorted(order.seen.items()))
    res.notes.append(f"the record ends in phase {order.phase}")


# ---------------------------------------------------------------------------- V5 log


def v5_log(ctx: Context, res: StepResult) -> None:
    ctx.need("board_key")
    assert ctx.board_key is not None
    meta = ctx.record.meta
    log = MerkleLog(hash_leaf(e) for e in ctx.record.entries)
    ctx.log = log
    if meta.get("tree_size") != len(log) or meta.get("root_hash") != log.root().hex():
        raise StepFailed("V5.root", "board.json's size and root are not those of the entries")
    previous = 0
    cosignatures = 0
    for line in ctx.record.head_lines:
        try:
            sth = SignedTreeHead.from_json(parse_canonical_json(line))
        except DecodeError as exc:
            raise StepFailed("V5.tree_head_decode", f"tree-heads.jsonl: {exc}") from exc
        where = f"tree head of size {sth.tree_size}"
        try:
            verify_tree_head(sth, ctx.board_key)
        except VerificationError as exc:
            raise StepFailed(exc.check, f"{where}: not signed by the board") from exc
        for c in sth.cosignatures:
            try:
                verify_cosignature(sth, c)
            except VerificationError as exc:
                raise StepFailed(exc.check, f"{where}: bad co-signature by {c.signer}") from exc
            cosignatures += 1
        if sth.election != meta["election"] or sth.tree_size <= previous:
            raise StepFailed("V5.tree_heads", f"{where}: out of order or of another election")
        if sth.tree_size > len(log) or log.root(sth.tree_size) != sth.root_hash:
            raise StepFailed(
                "V5.tree_head_root",
                f"{where}: its root is not that of the "
                "first entries of the record: the log was rewritten",
            )
        previous = sth.tree_size
    try:
        final = SignedTreeHead.from_json(parse_canonical_json(ctx.record.final_head))
        verify_tree_head(final, ctx.board_key)
    except (DecodeError, VerificationError) as exc:
        raise StepFailed("V5.final_head", f"tree-head.json: {exc}") from exc
    for c in final.cosignatures:
        try:
            verify_cosignature(final, c)
        except VerificationError as exc:
            raise StepFailed(exc.check, f"tree-head.json: bad co-signature by {c.signer}") from exc
    if final.tree_size != len(log) or final.root_hash != log.root():
        raise StepFailed("V5.final_head", "the final tree head does not cover the entries")
    if not ctx.record.head_lines or ctx.record.final_head != ctx.record.head_lines[-1]:
        raise StepFailed(
            "V5.final_head_line", "tree-head.json is not the last line of tree-heads.jsonl"
        )
    res.counts = {
        "entries": len(log),
        "tree_heads": len(ctx.record.head_lines),
        "cosignatures": cosignatures,
    }
    res.notes.append(f"root {log.root().hex()} at size {len(log)}")


# ---------------------------------------------------------------------------- V6 heads


def v6_external_heads(ctx: Context, res: StepResult) -> None:
    ctx.need("board_key", "log")
    assert ctx.board_key is not None and ctx.log is not None
    log = ctx.log
    receipts = heads = 0
    for name, obj in ctx.options.tree_heads:
        if isinstance(obj, dict) and obj.get("format") in ("tohyo-receipt/1", "tohyo-receipt/2"):
            obj = obj.get("receipt")  # the voter client's receipt file (docs/record.md §1.3)
        try:
            if isinstance(obj, dict) and "entry_hash" in obj:
                receipt = Receipt.from_json(obj)
                if receipt.index >= len(log):
                    raise StepFailed(
                        "V6.beyond",
                        f"{name}: receipt for entry {receipt.index}, "
                        f"beyond the record's {len(log)} entries",
                    )
                verify_receipt(receipt, ctx.board_key, ctx.record.entries[receipt.index])
                sth = receipt.tree_head
                receipts += 1
            else:
                sth = SignedTreeHead.from_json(obj)
                verify_tree_head(sth, ctx.board_key)
                heads += 1
        except (DecodeError, VerificationError) as exc:
            check = getattr(exc, "check", "V6.decode")
            raise StepFailed(check, f"{name}: {exc}") from exc
        if sth.election != ctx.record.meta["election"]:
            raise StepFailed("V6.election", f"{name}: a tree head of another election")
        if sth.tree_size > len(log):
            raise StepFailed(
                "V6.beyond",
                f"{name}: the board signed a log of {sth.tree_size} "
                f"entries; this record has only {len(log)}",
            )
        if log.root(sth.tree_size) != sth.root_hash:
            raise StepFailed(
                "V6.fork",
                f"{name}: the board signed another history of size "
                f"{sth.tree_size}: the log was forked",
            )
    res.counts = {"tree_heads": heads, "receipts": receipts}
    if not ctx.options.tree_heads:
        res.notes.append("no tree heads or receipts given (--tree-head FILE)")


# ---------------------------------------------------------------------------- V7 ceremony


def _v7_check(rule: str) -> str:
    """`V7.<name>` for a DKG rule "DKGn name" (docs/record.md V7); other checks as they are."""
    number, _, name = rule.partition(" ")
    return f"V7.{name.replace(' ', '_')}" if number.startswith("DKG") and name else rule


def v7_key_ceremony(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest", "group")
    assert ctx.manifest is not None and ctx.group is not None
    m = ctx.manifest
    config = ceremony_config(m, ctx.group)
    index, entry = ctx.one("joint_key")
    # the DKG messages and the administrator's round closes, in board order; the joint key
    # entry closes the ceremony
    events: list[bytes | RoundClose] = []
    for i, env in enumerate(ctx.envelopes):
        try:
            event = ceremony_event(env.type, env.body)
        except DecodeError as exc:
            raise StepFailed("V7.round_order", f"entry {i}: {exc}") from exc
        if event is not None:
            events.append(event if isinstance(event, RoundClose) else canonical_json(event))
    messages = sum(not isinstance(e, RoundClose) for e in events)
    try:
        outcome = derive_public_outcome(events, config)
    except CeremonyFailed as exc:
        raise StepFailed("V7.ceremony_failed", str(exc)) from exc
    except VerificationError as exc:
        raise StepFailed(_v7_check(exc.check), f"{exc.check}: {exc.detail}") from exc
    body = dict(entry.body)
    expected = {
        "v": BODY_VERSION,
        "pk": outcome.pk.to_hex(),
        "verification_keys": [
            outcome.verification_keys[j].to_hex() for j in sorted(outcome.verification_keys)
        ],
        "qualified": list(outcome.qualified),
    }
    if body != expected:
        differ = sorted(k for k in set(body) | set(expected) if body.get(k) != expected.get(k))
        raise StepFailed(
            "V7.joint_key",
            f"entry {index}: the joint key entry differs from the "
            f"ceremony's outcome in {', '.join(differ)}",
        )
    ctx.pk = outcome.pk
    ctx.verification_keys = dict(outcome.verification_keys)
    res.counts = {
        "messages": messages,
        "rounds": sum(isinstance(e, RoundClose) for e in events),
        "qualified": len(outcome.qualified),
        "disqualified": len(outcome.disqualified),
    }
    res.notes.extend(
        f"trustee {i} disqualified: {r}" for i, r in sorted(outcome.disqualified.items())
    )


# ---------------------------------------------------------------------------- V8 ballots


def check_ballots(
    group_description: dict[str, Any],
    manifest_json: Any,
    pk_hex: str,
    items: list[tuple[int, Any]],
) -> list[tuple[int, bytes, Any, tuple[str, str] | None, list[bytes]]]:
    """Worker of V8 (runs in a pool): `rules.check_ballot_body` per ballot; (index, pseudonym,
    row JSON, error, b values) per ballot."""
    group = group_from_description(group_description)
    manifest = Manifest.from_json(manifest_json)
    fingerprint = manifest.fingerprint()
    pk = group.element_from_hex(pk_hex)
    out: list[tuple[int, bytes, Any, tuple[str, str] | None, list[bytes]]] = []
    for index, body in items:
        try:
            ballot, att = rules.check_ballot_body(group, manifest, fingerprint, pk, body)
        except RuleBroken as broken:
            out.append((index, b"", None, (broken.check, broken.detail), []))
            continue
        out.append((index, att.pseudonym, body["ballot"]["row"], None, ballot.ciphertext_keys()))
    return out


def v8_ballots(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest", "group", "pk")
    assert ctx.manifest is not None and ctx.group is not None and ctx.pk is not None
    items = [(i, dict(e.body)) for i, e in ctx.of_type("ballot")]
    args = (ctx.group.description(), ctx.manifest.to_json(), ctx.pk.to_hex())
    chunks = [items[k : k + BALLOT_CHUNK] for k in range(0, len(items), BALLOT_CHUNK)]
    results: list[Any] = []
    ex = ctx.options.executor
    with _progress(ctx, len(items), "V8 ballots") as bar:
        if ex is None or len(chunks) < 2:
            for chunk in chunks:
                results.extend(check_ballots(*args, chunk))
                bar.update(len(chunk))
        else:
            futures = [ex.submit(check_ballots, *args, chunk) for chunk in chunks]
            for fut, chunk in zip(futures, chunks):
                results.extend(fut.result())
                bar.update(len(chunk))
    seen_b: dict[bytes, int] = {}
    first_error: tuple[int, str, str] | None = None
    times = _signed_times(ctx, [i for i, _ in items])
    for index, pseudonym, row_json, error, bvals in results:
        info = BallotInfo(index, pseudonym, row_json, error)
        if error is None:  # in the voting period by the first signed head that includes it
            when = times.get(index)
            late = (
                "no signed tree head includes it"
                if when is None
                else outside_voting_period(
                    ctx.manifest.voting_start, ctx.manifest.voting_end, when, extra=HEAD_DELAY
                )
            )
            if late:
                info.error = ("V8.voting_period", f"{late} (first signed head: {when})")
        ctx.ballots.append(info)
        if error is None:
            try:
                rules.check_fresh_ciphertexts(bvals, seen_b)
            except RuleBroken as broken:
                earlier = next((seen_b[b] for b in bvals if b in seen_b), index)
                info.error = (broken.check, f"{broken.detail} (by entry {earlier})")
            for b in bvals:
                seen_b.setdefault(b, index)
        if info.error is not None and first_error is None:
            first_error = (index, *info.error)
    voters = {b.pseudonym for b in ctx.ballots if b.error is None}
    res.counts = {
        "ballots": len(items),
        "valid": sum(b.error is None for b in ctx.ballots),
        "voters": len(voters),
    }
    if first_error is not None:
        index, check, detail = first_error
        raise StepFailed(check, f"ballot entry {index}: {detail}")


def _signed_times(ctx: Context, indices: list[int]) -> dict[int, dt.datetime]:
    """Entry index -> the time of the first signed tree head of the record that includes it
    (the heads' signatures are V5's to check)."""
    heads = []
    for line in [*ctx.record.head_lines, ctx.record.final_head]:
        try:
            sth = SignedTreeHead.from_json(parse_canonical_json(line))
        except DecodeError:
            continue
        heads.append((sth.tree_size, sth.timestamp))
    return covering_head_times(heads, indices)


# ---------------------------------------------------------------------------- V9 mix input


def selected_ballots(revote: str, ballots: Iterable[BallotInfo]) -> list[BallotInfo]:
    """The ballot that counts for each pseudonym (`rules.counted_ballots`), in board order."""
    valid = sorted((b for b in ballots if b.error is None), key=lambda b: b.index)
    return rules.counted_ballots(revote, ((b.pseudonym, b) for b in valid))


def v9_mix_input(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest", "group")
    assert ctx.manifest is not None and ctx.group is not None
    _, entry = ctx.one("mix_input")
    body = entry.body
    if set(body) != {"v", "entries", "contests"}:
        raise StepFailed("V9.body", "a mix input is {v, entries, contests}")
    contests = ctx.manifest.contests
    lists = body["contests"]
    if (
        not isinstance(lists, list)
        or len(lists) != len(contests)
        or any(
            not isinstance(part, dict)
            or set(part) != {"contest", "rows"}
            or part["contest"] != c.id
            for part, c in zip(lists, contests)
        )
    ):
        raise StepFailed(
            "V9.contests",
            "the mix input holds one {contest, rows} per contest of the manifest, in its order: "
            + ", ".join(c.id for c in contests),
        )
    # the posted lists, decoded for V10 whatever the outcome of the comparison
    try:
        ctx.mix_input = [
            (
                c.id,
                decode_rows(
                    ctx.group,
                    part["rows"],
                    c.width,
                    f"mix input of contest {c.id}",
                    ctx.options.executor,
                ),
            )
            for c, part in zip(contests, lists)
        ]
    except DecodeError as exc:
        raise StepFailed("V9.decode", str(exc)) from exc
    posted = body["entries"]
    if not isinstance(posted, list) or any(len(part["rows"]) != len(posted) for part in lists):
        raise StepFailed("V9.body", "one entry index per row of every contest list")
    if not ctx.ballots and ctx.of_type("ballot"):
        raise Skipped("the ballots were not checked (V8)")
    chosen = selected_ballots(ctx.manifest.revote, ctx.ballots)
    by_index = {b.index: b for b in ctx.ballots}
    expected = [b.index for b in chosen]
    superseded = sum(1 for b in ctx.ballots if b.error is None) - len(chosen)
    res.counts = {
        "rows": len(posted),
        "voters": len(chosen),
        "superseded": superseded,
        "contests": len(contests),
    }
    if posted != expected:
        extra = [i for i in posted if i not in expected]
        missing = [i for i in expected if i not in posted]
        if extra:
            i = extra[0]
            b = by_index.get(i) if isinstance(i, int) else None
            if b is None:
                why = "is not a ballot entry"
            elif b.error is not None:
                why = "is an invalid ballot"
            else:
                later = next(c.index for c in chosen if c.pseudonym == b.pseudonym)
                why = f"is superseded by entry {later} of the same voter ({ctx.manifest.revote})"
            raise StepFailed("V9.selection", f"the mix input holds entry {i}, which {why}")
        if missing:
            raise StepFailed(
                "V9.selection",
                f"the ballot of entry {missing[0]} (the one that "
                "counts for its voter) is missing from the mix input",
            )
        raise StepFailed("V9.selection", "the mix input lists the ballots out of board order")
    wanted = rules.contest_lists_json(ctx.manifest, [b.row_json for b in chosen])
    for part, want in zip(lists, wanted):
        for k, (row, b) in enumerate(zip(part["rows"], chosen)):
            if row != want["rows"][k]:
                raise StepFailed(
                    "V9.rows",
                    f"contest {want['contest']}, row {k}: not that contest's ciphertexts of "
                    f"ballot entry {b.index}",
                )


# ---------------------------------------------------------------------------- V10 shuffles


def v10_shuffles(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest", "group", "pk", "mix_input")
    assert ctx.manifest and ctx.group and ctx.pk and ctx.mix_input is not None
    shuffles = ctx.of_type("shuffle")
    lists = ctx.mix_input
    ex = ctx.options.executor
    k_total = len(ctx.manifest.mix_servers)
    with _progress(ctx, k_total * len(lists), "V10 shuffles") as bar:
        for k in range(1, k_total + 1):
            found = [(i, e) for i, e in shuffles if e.body.get("position") == k]
            if not found:
                raise Skipped(f"mix server {k} has not posted its shuffle")
            index, entry = found[0]
            body = entry.body
            parts = body.get("contests")
            if set(body) != {"v", "position", "contests"} or not isinstance(parts, list):
                raise StepFailed(
                    "V10.body",
                    f"mix server {k} (entry {index}): a shuffle is {{v, position, contests}}",
                )
            if len(parts) != len(lists) or any(
                not isinstance(p, dict) or set(p) != {"contest", "outputs", "proof"} for p in parts
            ):
                raise StepFailed(
                    "V10.body",
                    f"mix server {k} (entry {index}): one {{contest, outputs, proof}} per "
                    f"contest list ({len(lists)})",
                )
            outputs_of = []
            for (contest, inputs), part in zip(lists, parts):
                where = f"mix server {k}, contest {contest} (entry {index})"
                if part["contest"] != contest:
                    raise StepFailed(
                        "V10.contest",
                        f"{where}: the slot of contest {contest} holds the list of "
                        f"{part['contest']!r}",
                    )
                width = len(inputs[0])
                try:
                    outputs = decode_rows(ctx.group, part["outputs"], width, "outputs", ex)
                    if len(outputs) != len(inputs):
                        raise DecodeError(f"{len(outputs)} outputs for {len(inputs)} inputs")
                    proof = shuffle_proof.ShuffleProof.from_json(
                        ctx.group, part["proof"], len(inputs), width, executor=ex
                    )
                except DecodeError as exc:
                    raise StepFailed("V10.decode", f"{where}: {exc}") from exc
                statement = shuffle_proof.ShuffleStatement(
                    ctx.pk, list(inputs), outputs, ctx.fingerprint
                )
                try:
                    shuffle_proof.verify(
                        statement,
                        proof,
                        transcript=Transcript(mix_context(ctx.fingerprint, k, contest)),
                        executor=ex,
                    )
                except VerificationError as exc:
                    raise StepFailed(exc.check, f"{where}: {exc.detail}") from exc
                outputs_of.append((contest, outputs))
                bar.update(1)
            lists = outputs_of
    ctx.final_rows = lists
    res.counts = {"shuffles": k_total, "contests": len(lists), "rows": len(lists[0][1])}


# ---------------------------------------------------------------------------- V11 decryption


def _combine_rows(
    rows: Sequence[elgamal.Row],
    factors: list[Sequence[Element]],
    exps: list[int],
    manifest_json: Any,
    contest: str,
) -> list[list[int | str]]:
    """Worker of `combine`: `factors[k]` are share k's factors for exactly these rows."""
    group = rows[0][0].a.group
    manifest = Manifest.from_json(manifest_json)
    decode = rules.contest_decoder(manifest, next(c for c in manifest.contests if c.id == contest))
    out: list[list[int | str]] = []
    pos = 0
    for row in rows:
        elements = []
        for ct in row:
            elements.append(ct.a / group.multi_exp([f[pos] for f in factors], exps))
            pos += 1
        out.append(decode(elements))
    return out


def combine(
    contest: str,
    rows: Sequence[elgamal.Row],
    shares: dict[int, DecryptionShare],
    group: Group,
    manifest: Manifest,
    executor: Executor | None = None,
) -> list[list[int | str]]:
    """Lagrange-combine the shares' factors for one contest's list and decode each row as the
    result publishes it (`rules.contest_decoder`; docs/record.md §4.9)."""
    used = sorted(shares)
    lam = lagrange_coefficients(used, group.order)
    exps = [lam[j] for j in used]
    width = len(rows[0]) if rows else 0
    manifest_json = manifest.to_json()

    def args(a: int, b: int) -> tuple[Any, ...]:
        part = [shares[j].factors[a * width : b * width] for j in used]
        return (list(rows[a:b]), part, exps, manifest_json, contest)

    parts = run_chunks(executor, _combine_rows, len(rows), args)
    return [row for part in parts for row in part]


def decode_share(value: Any, group: Group, executor: Executor | None) -> DecryptionShare:
    """`DecryptionShare.from_json_value`, with the factors' membership checked in parallel.

    The strict decoder checks every field with the first factor alone; then all the factors
    are decoded (fixed-width hex, membership) over the executor.
    """
    if not isinstance(value, dict) or not isinstance(value.get("factors"), list):
        return DecryptionShare.from_json_value(value, group)  # raises the decoder's error
    factors = value["factors"]
    share = DecryptionShare.from_json_value(dict(value, factors=factors[:1]), group)
    return dataclasses.replace(share, factors=tuple(decode_elements(group, factors, executor)))


def v11_decryption(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest", "group", "verification_keys", "final_rows")
    assert ctx.manifest and ctx.group and ctx.final_rows is not None
    lists = ctx.final_rows
    contests = [c for c, _ in lists]
    digests = [rows_digest(rows) for _, rows in lists]
    valid: dict[int, list[DecryptionShare]] = {}
    failed: dict[int, tuple[str, str]] = {}  # trustee -> (the share's failed check, why)
    entries = ctx.of_type("decryption_share")
    with _progress(ctx, len(entries), "V11 shares") as bar:
        for index, entry in entries:
            j = ctx.authors[entry.author].index
            try:
                values = share_entry_values(entry.body, contests)
                if j not in ctx.verification_keys:
                    raise VerificationError("V11.trustee", "not a trustee of this election")
                shares = []
                for value, (contest, rows), digest in zip(values, lists, digests):
                    share = decode_share(value, ctx.group, ctx.options.executor)
                    if share.trustee != j:
                        raise VerificationError("V11.trustee", "a share names another trustee")
                    if len(share.factors) != sum(len(r) for r in rows):
                        raise VerificationError(
                            "D0 factors", f"contest {contest}: not one factor per ciphertext"
                        )
                    try:
                        verify_share(
                            share,
                            rows,
                            ctx.verification_keys[j],
                            election=ctx.fingerprint,
                            digest=digest,
                            executor=ctx.options.executor,
                        )
                    except VerificationError as exc:
                        raise VerificationError(
                            exc.check, f"contest {contest}: {exc.detail}"
                        ) from exc
                    shares.append(share)
                valid[j] = shares
            except DecodeError as exc:
                failed[j] = ("V11.decode", f"entry {index}: {exc}")
            except VerificationError as exc:
                failed[j] = (exc.check, f"entry {index}: {exc}")
            bar.update(1)
    _, result = ctx.one("result")
    body = result.body
    if set(body) != {"v", "trustees", "plaintexts", "tally"}:
        raise StepFailed("V11.body", "a result is {v, trustees, plaintexts, tally}")
    listed = body["trustees"]
    t = ctx.manifest.threshold
    res.counts = {
        "shares": len(entries),
        "valid": len(valid),
        "contests": len(lists),
        "rows": len(lists[0][1]),
    }
    if not isinstance(listed, list) or listed != sorted(set(listed)) or len(listed) < t:
        raise StepFailed(
            "V11.trustees", f"the result must list at least t = {t} trustees, ascending"
        )
    for j in listed:
        if j in failed:  # reported under the share's own check (T1, T2, D0, CPB0, CP0–CP2, …)
            check, why = failed[j]
            raise StepFailed(check, f"the result uses trustee {j}'s share, which fails: {why}")
        if j not in valid:
            raise StepFailed("V11.share", f"the result uses trustee {j}, who posted no share")
    res.notes.extend(
        f"share of trustee {j} excluded (not used by the result): {why}"
        for j, (_, why) in sorted(failed.items())
    )
    try:
        published = rules.check_published_rows(ctx.manifest, body["plaintexts"])
    except RuleBroken as broken:
        raise StepFailed("V11.plaintexts", broken.detail) from broken
    for k, (contest, rows) in enumerate(lists):
        used = {j: valid[j][k] for j in listed[:t]}
        plaintexts = combine(contest, rows, used, ctx.group, ctx.manifest, ctx.options.executor)
        mine = published[contest]
        if mine == plaintexts:
            continue
        if not isinstance(mine, list) or len(mine) != len(plaintexts):
            raise StepFailed(
                "V11.plaintexts",
                f"contest {contest}: the result publishes "
                f"{len(mine) if isinstance(mine, list) else 'no'} rows; "
                f"the decryption gives {len(plaintexts)}",
            )
        r = next(r for r, (a, b) in enumerate(zip(mine, plaintexts)) if a != b)
        raise StepFailed(
            "V11.plaintexts",
            f"contest {contest}, row {r}: the result publishes {mine[r]}, "
            f"the decryption gives {plaintexts[r]}",
        )


# ---------------------------------------------------------------------------- V12 tally


def v12_tally(ctx: Context, res: StepResult) -> None:
    ctx.need("manifest")
    assert ctx.manifest is not None
    _, result = ctx.one("result")
    try:
        lists = rules.check_published_rows(ctx.manifest, result.body.get("plaintexts"))
    except RuleBroken as broken:
        raise StepFailed(broken.check, broken.detail) from broken
    tally = rules.count_plaintexts(ctx.manifest, lists)
    claimed = result.body.get("tally")
    res.counts = {f"{c}.rows": len(rows) for c, rows in lists.items()} | {
        f"{c}.invalid": t["invalid"] for c, t in tally.items()
    }
    if claimed != tally:
        if not isinstance(claimed, dict):
            raise StepFailed("V12.tally", "the published tally is not an object")
        for cid in sorted(set(tally) | set(claimed)):
            if claimed.get(cid) != tally.get(cid):
                mine, theirs = tally.get(cid) or {}, claimed.get(cid) or {}
                keys = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
                raise StepFailed(
                    "V12.tally",
                    f"contest {cid}: the published {', '.join(keys)} "
                    f"differ from the recount: published "
                    f"{ {k: theirs.get(k) for k in keys} }, recount "
                    f"{ {k: mine.get(k) for k in keys} }",
                )
    for cid, t in tally.items():
        res.notes.append(
            f"{cid}: {t['method']} winners {', '.join(t['winners']) or '-'}; "
            f"valid {t['valid']}, blank {t['blank']}, invalid {t['invalid']}"
        )


# ---------------------------------------------------------------------------- the run


STEPS: tuple[tuple[str, str, str, Callable[[Context, StepResult], None]], ...] = (
    (
        "V1",
        "record files",
        "the export's files are canonical; every entry decodes as a signed "
        "envelope of this election",
        v1_record,
    ),
    (
        "V2",
        "manifest",
        "entry 0 is the manifest, well-formed, signed by its admin key; the "
        "export's board key is the manifest's; the election fingerprint",
        v2_manifest,
    ),
    (
        "V3",
        "group parameters",
        "the group is the named standard one, re-derived from its "
        "generation record (primes, generator); production use",
        v3_group,
    ),
    (
        "V4",
        "entries, authors and phases",
        "every entry is signed by its author's key from the "
        "manifest, the author's role may post its type in the current phase, phases in order",
        v4_entries,
    ),
    (
        "V5",
        "Merkle log and board tree heads",
        "the entries rebuild board.json's root; every "
        "exported tree head is signed by the board, co-signatures valid, and matches its prefix",
        v5_log,
    ),
    (
        "V6",
        "tree heads and receipts given",
        "each signed tree head or receipt given with "
        "--tree-head is signed by the board and consistent with this log (no fork)",
        v6_external_heads,
    ),
    (
        "V7",
        "key ceremony and joint key",
        "the DKG messages replay (DKG0–DKG7), QUAL, pk and "
        "every verification key X_j, equal to the joint_key entry",
        v7_key_ceremony,
    ),
    (
        "V8",
        "ballots",
        "every ballot: registrar attestation for this ballot hash, element "
        "membership, proof of knowledge bound to election and ballot key, ballot-key signature, "
        "no ciphertext repeated within the ballot or copied from another",
        v8_ballots,
    ),
    (
        "V9",
        "mix input",
        "the mix input is exactly the ballot that counts for each pseudonym "
        "(manifest revote rule), in board order, no more and no less, split into one list "
        "per contest",
        v9_mix_input,
    ),
    (
        "V10",
        "shuffles",
        "every mix server's proof of shuffle (TW0–TW5) of each contest's list in order, "
        "bound to that contest, generators recomputed from the fingerprint, each output the "
        "next input",
        v10_shuffles,
    ),
    (
        "V11",
        "decryption",
        "every decryption share's proof (one per contest list) against the verification key "
        "X_j; the result's trustees; combination and decoding (an invalid contest as the "
        'marker "invalid") equal the published plaintexts of each contest',
        v11_decryption,
    ),
    (
        "V12",
        "tally",
        "the published plaintexts recounted with the manifest's counting rules "
        "equal the published tally",
        v12_tally,
    ),
)

EVIDENCE_STEP = (
    "V13",
    "JPKI evidence (auditors)",
    "every attestation has evidence: "
    "certificate chain and revocation at the time, JPKI signature over the "
    "ballot hash, eligibility on election day",
)


def _run(ctx: Context, res: StepResult, func: Callable[[Context, StepResult], None]) -> None:
    start = time.perf_counter()
    try:
        func(ctx, res)
        res.status = PASS
    except StepFailed as exc:
        res.status, res.check, res.reason = FAIL, exc.check, exc.reason
    except Skipped as exc:
        res.status, res.reason = SKIP, str(exc)
    except VerificationError as exc:
        res.status, res.check, res.reason = FAIL, exc.check, exc.detail
    except (DecodeError, TohyoError, ValueError, KeyError, TypeError) as exc:
        res.status, res.check, res.reason = FAIL, "decode", f"{type(exc).__name__}: {exc}"
    res.seconds = time.perf_counter() - start


def verify_record(record: Record, options: Options | None = None) -> Report:
    """Run V1–V12 (and V13 when evidence is given) over `record`."""
    options = options or Options()
    ctx = Context(record, options)
    report = Report(election=str(record.meta.get("election", "")), source=record.source)
    for step_id, title, checked, func in STEPS:
        res = StepResult(step_id, title, checked)
        report.steps.append(res)
        _run(ctx, res, func)
        if step_id == "V2" and ctx.fingerprint:
            report.fingerprint = ctx.fingerprint.hex()
    if options.evidence is not None:
        step_id, title, checked = EVIDENCE_STEP
        res = StepResult(step_id, title, checked)
        report.steps.append(res)
        _run(ctx, res, options.evidence)
    return report
