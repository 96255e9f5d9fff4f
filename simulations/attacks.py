"""`tohyo simulate attacks`: misbehaving parties, each run many times.

Every run is a fresh small election (its own seed) in which one party misbehaves; a run counts
as *detected* when an honest party or the independent verification pass names the fault, and
the experiment also records whether the result differs from the voters' intent. The claim
checked is that no run changes the result unnoticed: every run is detected, or its result
equals the intended tally (a tolerated fault such as a trustee that stays away).

Attacks:
- ``mixer-other-witness``: mixer 1 re-encrypts all rows but one, substitutes its own ciphertext
  for it, and proves with the witness of the honest shuffle (a proof for a different list);
- ``mixer-reused-proof``: the same substitution, posted with the proof of the honest shuffle;
- ``board-drops-ballot``: the mix input lacks the last ballot (the board skips its own check);
- ``replayed-ballot``: another voter's ciphertexts and proof under a fresh ballot key; refused
  by the board, then accepted by a board that skips its check, for the verifier to catch;
- ``bad-share``: a trustee posts a decryption share with one wrong factor (proved as best it
  can); it must be excluded and named, and the other trustees suffice;
- ``absent-trustee``: a trustee stays away (at decryption, or from the whole ceremony on odd
  runs); it must be named and the others suffice.
- ``voter-out-of-range``: a voter encrypts a plaintext that is no option (n + 1, 1000 or −1 in
  turn) with a valid proof of knowledge; the tally must complete, count the mayor's contest
  invalid for that ballot, and the verifier must agree;
- ``voter-random-element``: the same with a random group element as the plaintext;
- ``voter-self-repeating``: a two-contest ballot whose two ciphertexts share one randomness
  (the same b); refused by the board (`duplicate_ciphertext`), then accepted by a board that
  skips its check, for the verifier to name (V8.repeated_ciphertext).
- ``marked-ballot`` (the "Italian attack"): a coerced voter marks the council contest with a
  pattern nobody else uses; the coercer looks up the mark in the council's published list and
  reads the mayor's list at the same position. Nothing to detect (the ballot is valid where it
  counts); the outcome is how often that guess is right, against chance: each contest is mixed
  as its own list, so the mark reveals nothing across contests.

Key ceremony attacks (docs/trustees.md §4.6); besides detection and the result, each run
records whether the election's secret key stayed secret (no dealer has t shares in the open):
- ``board-withholds-shares``: the board loses every encrypted share of round 1; the trustees
  complain "missing", the dealers re-send them encrypted — nothing is revealed;
- ``trustee-complains-early``: a trustee posts a complaint while round 1 is open;
- ``trustee-reveals-early``: a trustee posts a reveal while round 1 is open;
- ``trustee-replays``: a trustee posts its round-2 complaints again in round 3, and another
  trustee's commitments under its own name;
- ``false-complaints``: t trustees claim that dealer 1's share is wrong; dealer 1 is dropped
  without revealing anything, the others suffice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bulletin_board.policy import Refusal
from election import rules
from election.entries import Ballot, submission_message
from election.manifest import Contest, Option
from mixnet import elgamal
from mixnet.errors import VerificationError
from mixnet.groups import Element, Group
from mixnet.proofs.decryption import prove_factors
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from simulations.audit import check_record, run_verifier, verdict
from simulations.world import Participants, SimulatedElection, ed25519_key, raw_public
from trustees.decryption import DecryptionShare, rows_digest, share_transcript
from trustees.dkg import exposed_dealers
from trustees.messages import (
    Commitments,
    Complaints,
    DkgMessage,
    EncryptedShare,
    Reveal,
    sign_message,
)

__all__ = ["ATTACKS", "Outcome", "run_attack", "run_control"]


@dataclass
class Outcome:
    """What one run showed: who detected the fault, and whether the result is right."""

    detected_by: list[str] = field(default_factory=list)
    result_correct: bool = False
    notes: str = ""
    #: for a coercion attack (nothing to detect): was the coercer's guess right, and how often
    #: a guess at random would be
    coercer_right: bool | None = None
    chance: float = 0.0
    #: no dealer of the key ceremony has t shares in the open
    secret_kept: bool = True

    @property
    def detected(self) -> bool:
        return bool(self.detected_by)


def _election(
    group: Group,
    seed: str,
    voters: int,
    *,
    trustees: int = 3,
    threshold: int = 2,
    mixers: int = 2,
    setup: bool = True,
    more_contests: tuple[Contest, ...] = (),
) -> SimulatedElection:
    rng = DeterministicRandom(seed)
    people = Participants(
        group,
        trustees=trustees,
        threshold=threshold,
        mixers=mixers,
        rng=rng,
        more_contests=more_contests,
    )
    sim = SimulatedElection(people, rng, progress=False)
    if setup:
        sim.setup()
    return sim


def _vote(sim: SimulatedElection, voters: int) -> None:
    votes = sim.make_votes(voters, 1)
    sim.cast(votes, sim.make_ballots(votes))


def _mix_rest(sim: SimulatedElection, outcome: Outcome, first: int, proof: Any) -> None:
    """Mixers `first`.. in turn, each checking the previous proof first. A mixer that finds a
    bad proof reports it; the run then goes on as if that mixer colluded, so the verifier's
    pass is tested too."""
    for k in range(first, len(sim.people.mixers) + 1):
        try:
            sim.check_previous(k - 1, proof)
        except VerificationError as exc:
            outcome.detected_by.append(f"mixer {k} check ({exc.check})")
        outputs, proof = sim.shuffle_and_prove(k)
        sim.post_shuffle(k, outputs, proof)
    sim.finish_mixing()


def _decrypt_and_audit(
    sim: SimulatedElection, outcome: Outcome, trustees: list[int] | None = None
) -> Any:
    t = sim.people.manifest.threshold
    for j in trustees if trustees is not None else sorted(sim.machines)[:t]:
        sim.post_share(sim.make_share(j))
    return _finish(sim, outcome)


def _finish(sim: SimulatedElection, outcome: Outcome) -> Any:
    """Combine, post the result, audit; returns the verifier's report."""
    try:
        sim.combine()
        sim.post_result()
    except Exception as exc:
        outcome.detected_by.append(f"decryption fails ({type(exc).__name__})")
    report = _audit(sim, outcome)
    outcome.result_correct = bool(sim.tally) and sim.tally == sim.intended_tally()
    return report


def _audit(sim: SimulatedElection, outcome: Outcome) -> Any:
    """Both independent passes over the record; each names the first check that fails. Also
    whether the key ceremony kept the secret (no dealer with t shares in the open). Returns the
    verifier's report."""
    record = next(iter(sim.machines.values())).record
    outcome.secret_kept = not exposed_dealers(record.messages, record.config)
    checks = check_record(sim.board.entries)
    if not verdict(checks):
        outcome.detected_by.append(f"audit {checks[-1].id}")
    report = run_verifier(sim.board.entries, sim.people.board, sim.people.election_id)
    if not report.passed:
        first = report.first_failure
        outcome.detected_by.append(f"tohyo verify {first.id if first else '(skipped steps)'}")
    return report


def _substitute(sim: SimulatedElection, seed: int) -> tuple[list[elgamal.Row], Any, Any]:
    """Mixer 1's honest shuffle of the mayor's list, and the same output with one row replaced
    by its own."""
    assert sim.outcome is not None
    pk, inputs = sim.outcome.pk, sim.mix_lists[-1][0][1]
    outputs, witness = shuffle(pk, inputs, sim.rng)
    evil = list(outputs)
    j = seed % len(evil)
    evil[j], _ = elgamal.encrypt_row(pk, [1], sim.rng)  # its own ballot: a vote for option 0
    return outputs, evil, witness


def _cheating_mixer(
    group: Group, name: str, run: int, voters: int, *, prove_for_honest: bool
) -> Outcome:
    """Mixer 1 replaces one ballot and posts a proof made for the doctored list (with the honest
    witness) or, with `prove_for_honest`, the proof of the honest list it did not post."""
    sim = _election(group, f"attack/{name}/{run}", voters)
    sim.key_ceremony()
    _vote(sim, voters)
    sim.close()
    outcome = Outcome()
    outputs, proofs = sim.shuffle_and_prove(1)  # the other contests' lists, honest
    honest, evil, witness = _substitute(sim, run)
    proven = honest if prove_for_honest else evil
    proofs[0] = shuffle_proof.prove(
        sim.statement(1, 0, proven), witness, transcript=sim.transcript(1, 0), rng=sim.rng
    )
    outputs = [(outputs[0][0], evil), *outputs[1:]]
    sim.post_shuffle(1, outputs, proofs)
    _mix_rest(sim, outcome, 2, proofs)
    _decrypt_and_audit(sim, outcome)
    return outcome


def attack_mixer_other_witness(group: Group, run: int, voters: int) -> Outcome:
    return _cheating_mixer(group, "mixer-other-witness", run, voters, prove_for_honest=False)


def attack_mixer_reused_proof(group: Group, run: int, voters: int) -> Outcome:
    return _cheating_mixer(group, "mixer-reused-proof", run, voters, prove_for_honest=True)


def attack_board_drops_ballot(group: Group, run: int, voters: int) -> Outcome:
    sim = _election(group, f"attack/board-drops-ballot/{run}", voters)
    sim.key_ceremony()
    _vote(sim, voters)
    sim.close(drop_last=True)
    outcome = Outcome()
    outputs, proof = sim.shuffle_and_prove(1)
    sim.post_shuffle(1, outputs, proof)
    _mix_rest(sim, outcome, 2, proof)
    _decrypt_and_audit(sim, outcome)
    return outcome


def _refused_then_forced(sim: SimulatedElection, outcome: Outcome, entry: Any) -> None:
    """Post a bad ballot entry: the board must refuse it; then a board that skips its check
    lets it in, for the verification passes to catch."""
    try:
        sim.board.post(entry)
    except Refusal as exc:
        outcome.detected_by.append(f"board refuses ({exc.code})")
    sim.board.post(entry, cheat=True)


def attack_replayed_ballot(group: Group, run: int, voters: int) -> Outcome:
    sim = _election(group, f"attack/replayed-ballot/{run}", voters)
    sim.key_ceremony()
    _vote(sim, voters)
    outcome = Outcome()
    _, victim = sim.cast_ballots[run % len(sim.cast_ballots)]
    key = ed25519_key(sim.rng)
    ballot_key = bytes.fromhex(raw_public(key))
    copy = Ballot(victim.row, victim.proof, ballot_key, b"")
    copy = Ballot(
        victim.row,
        victim.proof,
        ballot_key,
        key.sign(submission_message(sim.fingerprint, copy.hash(sim.fingerprint))),
    )
    _refused_then_forced(sim, outcome, sim.ballot_entry((10**6 + run).to_bytes(32, "big"), copy))
    sim.close()
    outputs, proof = sim.shuffle_and_prove(1)
    sim.post_shuffle(1, outputs, proof)
    _mix_rest(sim, outcome, 2, proof)
    _decrypt_and_audit(sim, outcome)
    return outcome


def _honest_mixing(sim: SimulatedElection, outcome: Outcome) -> None:
    outputs, proof = sim.shuffle_and_prove(1)
    sim.post_shuffle(1, outputs, proof)
    _mix_rest(sim, outcome, 2, proof)


def attack_bad_share(group: Group, run: int, voters: int) -> Outcome:
    sim = _election(group, f"attack/bad-share/{run}", voters)
    sim.key_ceremony()
    _vote(sim, voters)
    sim.close()
    outcome = Outcome()
    _honest_mixing(sim, outcome)
    bad = 1 + run % len(sim.machines)
    contest, rows = sim.mix_lists[-1][0]  # the mayor's list
    for j in sorted(sim.machines):
        shares = sim.make_share(j)
        share = shares[0][1]
        if j == bad:
            machine = sim.machines[j]
            assert machine.key_share is not None
            factors = list(share.factors)
            pos = run % len(factors)
            factors[pos] = factors[pos] * sim.group.generator()
            digest = rows_digest(rows)
            proof = prove_factors(
                machine.key_share.secret,
                rows,
                factors,
                transcript=share_transcript(sim.fingerprint, j, digest),
                rng=sim.rng,
            )
            share = DecryptionShare(share.election, j, digest, tuple(factors), proof)
        sim.post_share([(contest, share), *shares[1:]])
    _finish(sim, outcome)
    if sim.result is not None and bad in sim.result.excluded:
        outcome.detected_by.insert(0, f"share of trustee {bad} excluded")
    return outcome


def attack_absent_trustee(group: Group, run: int, voters: int) -> Outcome:
    sim = _election(group, f"attack/absent-trustee/{run}", voters)
    n = len(sim.people.trustee_keys)
    absent = 1 + run % n
    whole = run % 2 == 1
    outcome = Outcome(notes="absent from the ceremony" if whole else "absent at decryption")
    dkg = sim.key_ceremony(absent=[absent] if whole else [])
    if whole and absent in dkg.disqualified:
        outcome.detected_by.append(f"trustee {absent} disqualified ({dkg.disqualified[absent]})")
    _vote(sim, voters)
    sim.close()
    _honest_mixing(sim, outcome)
    present = [j for j in sorted(sim.machines) if j != absent]
    _decrypt_and_audit(sim, outcome, present)
    posted = {j for j, _ in sim.shares}
    if not whole and absent not in posted:
        outcome.detected_by.append(f"no share from trustee {absent}")
    return outcome


def encrypt_elements(
    sim: SimulatedElection, elements: list[Element], *, one_randomness: bool = False
) -> Ballot:
    """A ballot whose slots encrypt the given group elements (whatever they encode), with a
    valid proof of knowledge and ballot-key signature: what a dishonest voting device can
    always make. `one_randomness`: every slot with the same r (the same b = g^r)."""
    assert sim.outcome is not None
    pk, group = sim.outcome.pk, sim.group
    g = group.generator()
    first = group.random_scalar(sim.rng)
    rs = [
        first if one_randomness or k == 0 else group.random_scalar(sim.rng)
        for k in range(len(elements))
    ]
    row = tuple(elgamal.Ciphertext(m * pk**r, g**r) for m, r in zip(elements, rs))
    return Ballot.create(sim.fingerprint, pk, row, rs, ed25519_key(sim.rng), sim.rng)


def out_of_range_element(group: Group, options: int, run: int) -> Element:
    """The plaintext of an out-of-range slot, in turn: n + 1, 1000, and −1 (the inverse of
    the encoding of 1)."""
    kind = run % 3
    if kind == 0:
        return group.encode_message(options + 1)
    if kind == 1:
        return group.encode_message(1000)
    return group.identity() / group.encode_message(1)


def _invalid_voter(
    group: Group,
    name: str,
    run: int,
    voters: int,
    plaintext: Callable[[SimulatedElection], Element],
) -> Outcome:
    """One voter's ballot encrypts `plaintext` for the mayor: the tally must complete, count
    that ballot invalid, and agree with both verification passes."""
    sim = _election(group, f"attack/{name}/{run}", voters)
    sim.key_ceremony()
    _vote(sim, voters)
    outcome = Outcome()
    ballot = encrypt_elements(sim, [plaintext(sim)])
    try:
        sim.board.post(sim.ballot_entry((10**6 + run).to_bytes(32, "big"), ballot))
    except Refusal as exc:  # the ballot's plaintext is secret: nothing to refuse it for
        outcome.detected_by.append(f"board refuses ({exc.code})")
    sim.close()
    _honest_mixing(sim, outcome)
    _decrypt_and_audit(sim, outcome)
    if sim.result is not None:
        tally = sim.counted()["mayor"]
        counted = tally["invalid"] == 1
        outcome.result_correct = outcome.result_correct and counted and not outcome.detected
        if counted and not outcome.detected:
            outcome.detected_by.append("counted invalid (tally and verifier agree)")
    return outcome


def attack_voter_out_of_range(group: Group, run: int, voters: int) -> Outcome:
    return _invalid_voter(
        group,
        "voter-out-of-range",
        run,
        voters,
        lambda sim: out_of_range_element(sim.group, len(sim.people.options), run),
    )


def attack_voter_random_element(group: Group, run: int, voters: int) -> Outcome:
    return _invalid_voter(
        group,
        "voter-random-element",
        run,
        voters,
        lambda sim: sim.group.hash_to_element(f"a random plaintext, run {run}".encode()),
    )


#: a second contest, so that a ballot has two ciphertexts
COUNCIL = Contest(
    "council", "議会", "public_office", "single", (Option("x", "甲"), Option("y", "乙"))
)


def attack_voter_self_repeating(group: Group, run: int, voters: int) -> Outcome:
    sim = _election(group, f"attack/voter-self-repeating/{run}", voters, more_contests=(COUNCIL,))
    sim.key_ceremony()
    _vote(sim, voters)
    outcome = Outcome()
    one = sim.group.encode_message(1)
    ballot = encrypt_elements(sim, [one, one], one_randomness=True)
    _refused_then_forced(sim, outcome, sim.ballot_entry((10**6 + run).to_bytes(32, "big"), ballot))
    sim.close()
    _honest_mixing(sim, outcome)
    report = _decrypt_and_audit(sim, outcome)
    named = [s.check for s in report.steps if s.check == "V8.repeated_ciphertext"]
    if named:
        outcome.notes = f"tohyo verify names it: {named[0]}"
    return outcome


def attack_marked_ballot(group: Group, run: int, voters: int) -> Outcome:
    """A coercer tells one voter to mark the council contest with a pattern no honest voter
    uses (a slot of 1000: published as the marker "invalid") and then reads, at the position
    where the mark appears in the council's published list, the mayor's list for the voter's
    choice. Each contest is mixed on its own, so that guess is right only by chance (about the
    share of voters who chose the same candidate); with whole rows it was right every time."""
    sim = _election(group, f"attack/marked-ballot/{run}", voters, more_contests=(COUNCIL,))
    sim.key_ceremony()
    n = len(sim.people.options)
    honest = [(sim.rng.randbelow(n), sim.rng.randbelow(3)) for _ in range(voters)]
    coerced = sim.rng.randbelow(n)
    encode = sim.group.encode_message
    for i, (mayor, council) in enumerate(honest):
        ballot = encrypt_elements(sim, [encode(mayor + 1), encode(council)])
        sim.board.post(sim.ballot_entry(i.to_bytes(32, "big"), ballot))
        sim.intended[i.to_bytes(32, "big")] = mayor
    pseudonym = (10**6 + run).to_bytes(32, "big")
    sim.board.post(
        sim.ballot_entry(pseudonym, encrypt_elements(sim, [encode(coerced + 1), encode(1000)]))
    )
    sim.intended[pseudonym] = coerced
    sim.close()
    outcome = Outcome()
    _honest_mixing(sim, outcome)
    _decrypt_and_audit(sim, outcome)
    if sim.result is None:
        return outcome
    lists = dict(sim.result.plaintexts)
    marks = [k for k, row in enumerate(lists["council"]) if row == (rules.INVALID_SLOT,)]
    outcome.coercer_right = len(marks) == 1 and lists["mayor"][marks[0]] == (coerced + 1,)
    # the row at the mark's position is any of the voters + 1 mayor's rows, equally likely
    outcome.chance = (sum(m == coerced for m, _ in honest) + 1) / (voters + 1)
    council = sim.counted()["council"]
    outcome.result_correct = outcome.result_correct and council["invalid"] == 1
    return outcome


# ---------------------------------------------------------------- the key ceremony

Intercept = Callable[[DkgMessage], list[DkgMessage]]


def _ceremony_attack(
    group: Group,
    name: str,
    run: int,
    voters: int,
    intercept: Callable[[SimulatedElection], Intercept],
) -> Outcome:
    """An election whose key ceremony goes through `intercept(sim)`; then vote, mix, decrypt
    and audit as usual."""
    sim = _election(group, f"attack/{name}/{run}", voters)
    outcome = Outcome()
    dkg = sim.key_ceremony(intercept=intercept(sim))
    for msg, exc in sim.ceremony_refusals:
        outcome.detected_by.append(f"board refuses trustee {msg.sender}'s {msg.KIND} ({exc.code})")
    record = next(iter(sim.machines.values())).record
    if any(r == "missing" for _, _, _, r in record.accusations()) and record.resent:
        outcome.detected_by.append("missing shares complained of, re-sent encrypted")
    for i, reason in sorted(dkg.disqualified.items()):
        outcome.detected_by.append(
            f"dealer {i} disqualified"
            + (" without a reveal" if "nothing revealed" in reason else "")
        )
    _vote(sim, voters)
    sim.close()
    _honest_mixing(sim, outcome)
    _decrypt_and_audit(sim, outcome)
    return outcome


def _as_trustee(sim: SimulatedElection, msg: DkgMessage) -> DkgMessage:
    return sign_message(msg, sim.people.trustee_keys[msg.sender - 1].ed25519_key())


def attack_board_withholds_shares(group: Group, run: int, voters: int) -> Outcome:
    def intercept(sim: SimulatedElection) -> Intercept:
        lost: set[tuple[int, int]] = set()

        def board(m: DkgMessage) -> list[DkgMessage]:
            if isinstance(m, EncryptedShare) and (m.sender, m.recipient) not in lost:
                lost.add((m.sender, m.recipient))  # lost in round 1; the re-send goes through
                return []
            return [m]

        return board

    return _ceremony_attack(group, "board-withholds-shares", run, voters, intercept)


def _early(kind: str) -> Callable[[SimulatedElection], Intercept]:
    """Trustee 3 adds an early message of `kind` right after its commitments."""

    def intercept(sim: SimulatedElection) -> Intercept:
        def trustee(m: DkgMessage) -> list[DkgMessage]:
            if isinstance(m, Commitments) and m.sender == 3:
                early: DkgMessage = (
                    Complaints(sim.fingerprint, 3, ((1, "inconsistent"),), round=2)
                    if kind == "complaint"
                    else Reveal(sim.fingerprint, 3, ((1, sim.group.scalar(7)),), round=3)
                )
                return [m, _as_trustee(sim, early)]
            return [m]

        return trustee

    return intercept


def attack_trustee_complains_early(group: Group, run: int, voters: int) -> Outcome:
    return _ceremony_attack(group, "trustee-complains-early", run, voters, _early("complaint"))


def attack_trustee_reveals_early(group: Group, run: int, voters: int) -> Outcome:
    return _ceremony_attack(group, "trustee-reveals-early", run, voters, _early("reveal"))


def attack_trustee_replays(group: Group, run: int, voters: int) -> Outcome:
    def intercept(sim: SimulatedElection) -> Intercept:
        def trustee(m: DkgMessage) -> list[DkgMessage]:
            if isinstance(m, Commitments) and m.sender == 1:
                return [m, m]  # replayed as it is
            if isinstance(m, Complaints) and m.sender == 3:
                return [m, m]  # the same complaints again
            return [m]

        return trustee

    return _ceremony_attack(group, "trustee-replays", run, voters, intercept)


def attack_false_complaints(group: Group, run: int, voters: int) -> Outcome:
    def intercept(sim: SimulatedElection) -> Intercept:
        t = sim.people.manifest.threshold
        liars = set(range(2, 2 + t))

        def trustee(m: DkgMessage) -> list[DkgMessage]:
            if isinstance(m, Complaints) and m.sender in liars and m.round == 2:
                return [
                    _as_trustee(
                        sim, Complaints(m.election, m.sender, ((1, "inconsistent"),), round=2)
                    )
                ]
            return [m]

        return trustee

    return _ceremony_attack(group, "false-complaints", run, voters, intercept)


def run_control(group: Group, run: int, voters: int) -> Outcome:
    """The honest election: must pass every check and count as the voters intended."""
    sim = _election(group, f"attack/control/{run}", voters, setup=False)
    sim.run_all(voters, 1)
    outcome = Outcome()
    _audit(sim, outcome)
    outcome.result_correct = sim.tally == sim.intended_tally()
    return outcome


ATTACKS: dict[str, tuple[Callable[[Group, int, int], Outcome], str]] = {
    "mixer-other-witness": (
        attack_mixer_other_witness,
        "mixer replaces a ballot, proves with another list's witness",
    ),
    "mixer-reused-proof": (
        attack_mixer_reused_proof,
        "mixer replaces a ballot, reuses the honest shuffle's proof",
    ),
    "board-drops-ballot": (attack_board_drops_ballot, "mix input lacks the last ballot"),
    "replayed-ballot": (
        attack_replayed_ballot,
        "another voter's ciphertexts and proof under a new ballot key",
    ),
    "bad-share": (attack_bad_share, "a trustee posts a wrong decryption factor"),
    "absent-trustee": (attack_absent_trustee, "a trustee stays away (t of n still decrypt)"),
    "voter-out-of-range": (
        attack_voter_out_of_range,
        "a voter encrypts no option (n + 1, 1000, −1), proof valid",
    ),
    "voter-random-element": (
        attack_voter_random_element,
        "a voter encrypts a random group element, proof valid",
    ),
    "voter-self-repeating": (
        attack_voter_self_repeating,
        "a ballot reuses one randomness in its two slots",
    ),
    "marked-ballot": (
        attack_marked_ballot,
        "a coercer marks one contest to read the voter's choice in another",
    ),
    "board-withholds-shares": (
        attack_board_withholds_shares,
        "the board loses every encrypted share of round 1",
    ),
    "trustee-complains-early": (
        attack_trustee_complains_early,
        "a trustee complains while round 1 is open",
    ),
    "trustee-reveals-early": (
        attack_trustee_reveals_early,
        "a trustee reveals while round 1 is open",
    ),
    "trustee-replays": (attack_trustee_replays, "a trustee posts a message a second time"),
    "false-complaints": (
        attack_false_complaints,
        "t trustees claim that dealer 1's share is wrong",
    ),
}

#: attacks a working system tolerates: the run must leave the result right, and name the party
TOLERATED = {
    "bad-share",
    "absent-trustee",
    "voter-out-of-range",
    "voter-random-element",
    "board-withholds-shares",
    "trustee-complains-early",
    "trustee-reveals-early",
    "trustee-replays",
    "false-complaints",
    "marked-ballot",
}
#: attacks on secrecy with nothing on the record to detect: reported as how often the
#: attacker's guess was right against chance
COERCION = {"marked-ballot"}


def run_attack(
    name: str, group: Group, runs: int, voters: int, progress: Callable[[], None] | None = None
) -> dict[str, Any]:
    func, description = ATTACKS[name]
    detected_by: Counter[str] = Counter()
    detected = correct = unnoticed = kept = 0
    notes: Counter[str] = Counter()
    guessed = 0
    chance = 0.0
    for run in range(runs):
        out = func(group, run, voters)
        guessed += bool(out.coercer_right)
        chance += out.chance
        detected += out.detected
        correct += out.result_correct
        unnoticed += (not out.detected) and not out.result_correct
        kept += out.secret_kept
        for d in out.detected_by:
            detected_by[d] += 1
        if out.notes:
            notes[out.notes] += 1
        if progress:
            progress()
    coercion = (
        {
            "detection": "not applicable",
            "coercer_guess_right": guessed,
            "chance_expected": round(chance, 2),
        }
        if name in COERCION
        else {}
    )
    return {
        "description": description,
        "tolerated": name in TOLERATED,
        **coercion,
        "runs": runs,
        "detected": detected,
        "detection_rate": detected / runs if runs else 0.0,
        "result_correct": correct,
        "unnoticed_changes": unnoticed,
        "secret_kept": kept,
        "detected_by": dict(detected_by),
        "variants": dict(notes),
    }
