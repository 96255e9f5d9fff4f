"""The tamper suite: from a valid record, one change at a time; the verifier names the step.

Data-driven: each case is (name, edit, expected first failing step). An edit gets a copy of
the exported directory and the election's keys. Semantic faults (a wrong mix input, an altered
ballot, a bad share…) are re-signed with the right author's key and the export's tree heads are
rebuilt with the board key, exactly as a dishonest operator holding those keys would do, so
only the intended step fails; faults of the log itself leave every signature alone. To add a
case, append to CASES.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from election_helpers import Election, ElectionRun

from bulletin_board.entry import Envelope, decode_envelope, sign_envelope
from bulletin_board.export import write_export
from bulletin_board.log import MerkleLog, SignedTreeHead, hash_leaf, sign_tree_head
from election.entries import mix_context
from mixnet import elgamal
from mixnet.encoding import parse_canonical_json
from mixnet.groups import group_from_description
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as shuffle_proof
from mixnet.transcript import Transcript
from verifier import Options, load_record, verify_record
from verifier.steps import STEPS


@dataclass
class Doctor:
    """A copy of the record and the keys to re-sign what is changed in it."""

    el: Election
    run: ElectionRun
    directory: Path
    entries: list[bytes]
    tree_heads: list[tuple[str, Any]]

    def envelope(self, i: int) -> Envelope:
        return decode_envelope(self.entries[i])

    def index(self, type_: str, nth: int = 0) -> int:
        found = [i for i, e in enumerate(self.entries) if self.envelope(i).type == type_]
        return found[nth]

    def resign(self, i: int, body: dict[str, Any]) -> None:
        env = self.envelope(i)
        new = sign_envelope(self.el.key_of(env.author), env.election, env.type, env.author, body)
        self.entries[i] = new.to_bytes()

    def body(self, i: int) -> dict[str, Any]:
        return json.loads(json.dumps(self.envelope(i).body))  # a deep, mutable copy

    @property
    def group(self):  # type: ignore[no-untyped-def]
        return group_from_description(self.el.manifest.group)

    def rebuild(self) -> None:
        """Rewrite the export: entries as edited, every tree head re-signed by the board."""
        old = {}
        for line in (self.directory / "tree-heads.jsonl").read_bytes().splitlines():
            sth = SignedTreeHead.from_json(parse_canonical_json(line))
            old[sth.tree_size] = sth.timestamp
        log = MerkleLog(hash_leaf(e) for e in self.entries)
        heads = [
            sign_tree_head(self.el.board, self.el.id, n, log.root(n), old.get(n, 0))
            for n in range(1, len(self.entries) + 1)
        ]
        write_export(
            self.directory, self.el.id, self.el.manifest.board_key, self.entries, heads, heads[-1]
        )

    def write_entries_only(self) -> None:
        (self.directory / "entries.jsonl").write_bytes(b"".join(e + b"\n" for e in self.entries))


# ------------------------------------------------------------------------------ the edits


def drop_from_mix_input(d: Doctor) -> None:
    i = d.index("mix_input")
    body = d.body(i)
    del body["entries"][-1]
    for part in body["contests"]:
        del part["rows"][-1]
    d.resign(i, body)
    d.rebuild()


def add_to_mix_input(d: Doctor) -> None:
    i = d.index("mix_input")
    body = d.body(i)
    pk = d.group.element_from_hex(d.envelope(d.index("joint_key")).body["pk"])
    row, _ = elgamal.encrypt_row(pk, [1], DeterministicRandom(b"stuffed"))
    body["entries"].append(len(d.entries))  # a ballot that is not on the board
    body["contests"][0]["rows"].append(elgamal.row_to_json(row))
    d.resign(i, body)
    d.rebuild()


def alter_ballot(d: Doctor) -> None:
    i = d.index("ballot", 4)
    body = d.body(i)
    group = d.group
    a = group.element_from_hex(body["ballot"]["row"][0][0])
    body["ballot"]["row"][0][0] = (a * group.generator()).to_hex()  # one more vote for …
    d.resign(i, body)
    d.rebuild()


def attestation_of_another_ballot(d: Doctor) -> None:
    """Ballot 4 posted with the registrar's (valid, signed) attestation of ballot 5."""
    i = d.index("ballot", 4)
    body = d.body(i)
    body["attestation"] = d.body(d.index("ballot", 5))["attestation"]
    d.resign(i, body)
    d.rebuild()


def count_superseded_ballot(d: Doctor) -> None:
    """Voter 3's first ballot in the mix input in place of their second (last_counts)."""
    first, last = d.index("ballot", 3), d.index("ballot", 12)
    assert d.body(first)["attestation"]["pseudonym"] == d.body(last)["attestation"]["pseudonym"]
    i = d.index("mix_input")
    body = d.body(i)
    k = body["entries"].index(last)
    body["entries"].pop(k)
    body["contests"][0]["rows"].pop(k)
    at = sum(1 for e in body["entries"] if e < first)
    body["entries"].insert(at, first)
    body["contests"][0]["rows"].insert(at, d.body(first)["ballot"]["row"])
    d.resign(i, body)
    d.rebuild()


def swap_entries(d: Doctor) -> None:
    a, b = d.index("ballot", 0), d.index("ballot", 1)
    d.entries[a], d.entries[b] = d.entries[b], d.entries[a]
    d.write_entries_only()  # signatures and tree heads untouched


def forge_signature(d: Doctor) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    i = d.index("ballot", 2)
    env = d.envelope(i)
    forged = sign_envelope(
        Ed25519PrivateKey.generate(), env.election, env.type, env.author, env.body
    )
    d.entries[i] = forged.to_bytes()
    d.rebuild()


def alter_shuffle_output(d: Doctor) -> None:
    i = d.index("shuffle", 0)
    body = d.body(i)
    group = d.group
    outputs = body["contests"][0]["outputs"]
    a = group.element_from_hex(outputs[0][0][0])
    outputs[0][0][0] = (a * group.generator()).to_hex()
    d.resign(i, body)
    d.rebuild()


def proof_from_another_election(d: Doctor) -> None:
    """Mix server 1's own shuffle, proven validly — but for another election's fingerprint."""
    inputs, outputs, witness = d.run.shuffles[0]
    other = bytes(32)
    statement = shuffle_proof.ShuffleStatement(_pk(d), inputs, outputs, other)
    context = Transcript(mix_context(other, 1, "mayor"))
    proof = shuffle_proof.prove(
        statement, witness, transcript=context, rng=DeterministicRandom(b"other election")
    )
    shuffle_proof.verify(statement, proof, transcript=Transcript(mix_context(other, 1, "mayor")))
    i = d.index("shuffle", 0)
    body = d.body(i)
    body["contests"][0]["proof"] = proof.to_json()
    d.resign(i, body)
    d.rebuild()


def _pk(d: Doctor):  # type: ignore[no-untyped-def]
    return d.group.element_from_hex(d.envelope(d.index("joint_key")).body["pk"])


def alter_share(d: Doctor) -> None:
    i = d.index("decryption_share", 0)
    body = d.body(i)
    group = d.group
    share = body["contests"][0]["share"]
    f = group.element_from_hex(share["factors"][0])
    share["factors"][0] = (f * group.generator()).to_hex()
    d.resign(i, body)
    d.rebuild()


def change_tally(d: Doctor) -> None:
    i = d.index("result")
    body = d.body(i)
    body["tally"]["mayor"]["counts"]["b"] += 1
    d.resign(i, body)
    d.rebuild()


def forking_tree_head(d: Doctor) -> None:
    """The board signs a head of the same size over a history with one entry rewritten."""
    forked = list(d.entries)
    forked[-1] = forked[-1].replace(b'"tallied"', b'"closed"')
    log = MerkleLog(hash_leaf(e) for e in forked)
    sth = sign_tree_head(d.el.board, d.el.id, len(forked), log.root(), 1764300000000)
    d.tree_heads.append(("forked-head.json", sth.to_json()))


def stale_receipt_of_a_dropped_entry(d: Doctor) -> None:
    """A voter's signed head covers more entries than the record shows (entries withheld)."""
    log = MerkleLog(hash_leaf(e) for e in d.entries)
    extra = log.root()  # a head of a longer log the board signed earlier
    sth = sign_tree_head(d.el.board, d.el.id, len(d.entries) + 1, extra, 1764300000000)
    d.tree_heads.append(("longer-head.json", sth.to_json()))


def replace_joint_key(d: Doctor) -> None:
    """The administrator publishes a key of its own instead of the ceremony's."""
    i = d.index("joint_key")
    body = d.body(i)
    body["pk"] = (d.group.generator() ** 12345).to_hex()
    d.resign(i, body)
    d.rebuild()


def copied_ballot(d: Doctor) -> None:
    """Voter 0's ballot posted again under another pseudonym (a replay to learn their vote)."""
    from jpki.registrar import sign_attestation

    first = d.index("ballot", 0)
    body = d.body(first)
    att = sign_attestation(
        d.el.registrar,
        d.el.fingerprint,
        (77).to_bytes(32, "big"),
        bytes.fromhex(body["attestation"]["ballot_hash"]),
    )
    body["attestation"] = att.to_json()
    last = max(i for i in range(len(d.entries)) if d.envelope(i).type == "ballot")
    env = sign_envelope(d.el.registrar, d.el.id, "ballot", "registrar", body)
    d.entries.insert(last + 1, env.to_bytes())
    d.rebuild()


def change_plaintext(d: Doctor) -> None:
    """A decrypted vote changed in the result, with a tally that agrees with the change."""
    from election import rules

    i = d.index("result")
    body = d.body(i)
    rows = body["plaintexts"][0]["rows"]
    rows[0][0] = rows[0][0] % 3 + 1
    body["tally"] = rules.count_plaintexts(d.el.manifest, {"mayor": rows})
    d.resign(i, body)
    d.rebuild()


def shuffle_by_another_mixer(d: Doctor) -> None:
    i = d.index("shuffle", 0)
    env = d.envelope(i)
    d.entries[i] = sign_envelope(
        d.el.mixers[1], env.election, env.type, "mix-2", env.body
    ).to_bytes()
    d.rebuild()


CASES: list[tuple[str, Callable[[Doctor], None], str]] = [
    ("a ballot dropped from the mix input", drop_from_mix_input, "V9"),
    ("a ballot added to the mix input", add_to_mix_input, "V9"),
    ("a ballot altered", alter_ballot, "V8"),
    ("a ballot posted with another ballot's attestation", attestation_of_another_ballot, "V8"),
    ("a superseded ballot counted instead of the last", count_superseded_ballot, "V9"),
    ("two log entries swapped", swap_entries, "V5"),
    ("an entry's signature forged", forge_signature, "V4"),
    ("a shuffle output altered", alter_shuffle_output, "V10"),
    ("a mixer's proof from another election", proof_from_another_election, "V10"),
    ("a decryption share altered", alter_share, "V11"),
    ("the tally changed by one vote", change_tally, "V12"),
    ("a tree head that forks the log", forking_tree_head, "V6"),
    ("a tree head beyond the record", stale_receipt_of_a_dropped_entry, "V6"),
    ("the joint key replaced", replace_joint_key, "V7"),
    ("a ballot copied under another pseudonym", copied_ballot, "V8"),
    ("a decrypted vote changed, tally to match", change_plaintext, "V11"),
    ("a shuffle posted by the wrong mix server", shuffle_by_another_mixer, "V4"),
]


#: The check within the step that names each case's failure (VerificationError's id or the
#: step's own check): asserting the step alone lets another check of the same step stand in
#: for a disabled one (scripts/mutate_verifiers.py --paths verifier).
CHECKS: dict[str, str] = {
    "a ballot dropped from the mix input": "V9.selection",
    "a ballot added to the mix input": "V9.selection",
    "a ballot altered": "B1",  # its proof is checked before the attestation binds it
    "a ballot posted with another ballot's attestation": "V8.attestation_hash",
    "a superseded ballot counted instead of the last": "V9.selection",
    "two log entries swapped": "V5.root",
    "an entry's signature forged": "V4.signature",
    "a shuffle output altered": "TW1",
    "a mixer's proof from another election": "TW1",
    "a decryption share altered": "CP1",  # a used share is reported under its own check
    "the tally changed by one vote": "V12.tally",
    "a tree head that forks the log": "V6.fork",
    "a tree head beyond the record": "V6.beyond",
    "the joint key replaced": "V7.joint_key",
    "a ballot copied under another pseudonym": "V8.duplicate_ciphertext",
    "a decrypted vote changed, tally to match": "V11.plaintexts",
    "a shuffle posted by the wrong mix server": "V4.mix_order",
}


def _doctor(election_record: tuple[Election, ElectionRun, Path], tmp_path: Path) -> Doctor:
    """A doctor over a fresh copy of the record in tmp_path/record."""
    el, run, record = election_record
    directory = tmp_path / "record"
    shutil.copytree(record, directory)
    return Doctor(el, run, directory, (directory / "entries.jsonl").read_bytes().splitlines(), [])


@pytest.mark.parametrize(("name", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_tampering_fails_the_right_step(
    election_record: tuple[Election, ElectionRun, Path],
    tmp_path: Path,
    name: str,
    edit: Callable[[Doctor], None],
    expected: str,
) -> None:
    doctor = _doctor(election_record, tmp_path)
    directory = doctor.directory
    edit(doctor)
    report = verify_record(
        load_record(directory),
        Options(tree_heads=doctor.tree_heads, allow_test_groups=True, progress=False),
    )
    first = report.first_failure
    assert first is not None, f"{name}: not detected\n{report.to_text()}"
    assert first.id == expected, (
        f"{name}: failed {first.id}, expected {expected}\n" + report.to_text()
    )
    ids = [s[0] for s in STEPS]
    before = ids[: ids.index(expected)]
    assert all(report.step(s).status == "pass" for s in before), report.to_text()
    assert first.reason
    if name in CHECKS:
        assert first.check.split()[0] == CHECKS[name], report.to_text()


def test_the_untouched_copy_passes(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    """The doctor's rebuild alone (re-signed heads, same entries) changes nothing."""
    doctor = _doctor(election_record, tmp_path)
    directory = doctor.directory
    doctor.rebuild()
    report = verify_record(load_record(directory), Options(allow_test_groups=True, progress=False))
    assert report.passed, report.to_text()


def test_an_unfinished_election_passes_only_as_partial(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    """The record while voting is open: V9–V12 are skipped, which passes only with --partial."""
    doctor = _doctor(election_record, tmp_path)
    directory = doctor.directory
    doctor.entries = doctor.entries[: doctor.index("phase", 2)]  # up to "closed", excluded
    doctor.rebuild()
    report = verify_record(load_record(directory), Options(allow_test_groups=True, progress=False))
    assert report.first_failure is None
    assert [s.id for s in report.steps if s.status == "skip"] == ["V9", "V10", "V11", "V12"]
    assert not report.passed
    report.allow_skips = True
    assert report.passed


def reveal_t_shares(d: Doctor) -> None:
    """Dealer 1 reveals t = 2 of its shares before the joint key (what the old ceremony did
    when the board withheld the shares): a_10 follows by interpolation."""
    from trustees.messages import Reveal, sign_message

    machine = d.run.machines[0]
    assert machine.polynomial is not None
    reveal = Reveal(d.el.fingerprint, 1, tuple((j, machine.polynomial(j)) for j in (2, 3)), round=3)
    reveal = sign_message(reveal, d.el.trustee_keys[0].ed25519_key())
    env = sign_envelope(
        d.el.key_of("trustee-1"), d.el.id, "dkg", "trustee-1", reveal.to_json_value()
    )
    d.entries.insert(d.index("joint_key"), env.to_bytes())
    d.rebuild()


def complain_in_round_1(d: Doctor) -> None:
    """Trustee 3's complaints moved before the administrator closed round 1."""
    k = next(
        i
        for i in range(len(d.entries))
        if d.envelope(i).type == "dkg"
        and d.envelope(i).body["kind"] == "dkg.complaints"
        and d.envelope(i).body["sender"] == 3
    )
    d.entries.insert(d.index("dkg_round"), d.entries.pop(k))
    d.rebuild()


@pytest.mark.parametrize(
    ("edit", "check"),
    [(reveal_t_shares, "V7.secret_exposed"), (complain_in_round_1, "V7.round_order")],
)
def test_key_ceremony_tampering_names_the_v7_check(
    election_record: tuple[Election, ElectionRun, Path],
    tmp_path: Path,
    edit: Callable[[Doctor], None],
    check: str,
) -> None:
    doctor = _doctor(election_record, tmp_path)
    edit(doctor)
    report = verify_record(
        load_record(doctor.directory), Options(allow_test_groups=True, progress=False)
    )
    first = report.first_failure
    assert first is not None and first.id == "V7", report.to_text()
    assert first.check == check, report.to_text()
