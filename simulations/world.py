"""An election driven in memory: every role's protocol objects, the board's policy without its
HTTP server or storage (no sockets, no files), seeded randomness.

`SimulatedElection` goes through the phases of docs/board.md §5 one method at a time, posting every
entry as a signed envelope to a `MemoryBoard` that runs `ElectionPolicy.check` and `on_accept`
exactly as the real board does. The record (the accepted entries' bytes, in order) is then
re-checked from scratch by `simulations.audit.check_record`. Attack experiments replace one
step by a misbehaving one (`simulations.attacks`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tqdm import tqdm

from bulletin_board.entry import Envelope, decode_envelope, sign_envelope
from bulletin_board.policy import Refusal
from election import rules
from election.entries import Ballot
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from election.policy import ElectionPolicy, ceremony_config, joint_key_body, mix_input_of
from jpki.registrar import sign_attestation
from mixnet import elgamal
from mixnet.errors import DecodeError
from mixnet.generators import derive_generators
from mixnet.groups import Group
from mixnet.rng import DeterministicRandom, RandomSource
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript
from trustees.config import TrusteePrivateKeys, generate_trustee_keys
from trustees.decryption import (
    DecryptionShare,
    ListsResult,
    combine_lists,
    make_share,
    share_entry_body,
)
from trustees.dkg import CLOSED, DkgOutcome, DkgTrustee, Phase
from trustees.messages import DkgMessage, decode_message
from trustees.mixer import Lists, list_rows, mix_transcript

__all__ = [
    "ELECTION_ID",
    "OPTIONS",
    "VOTING_END",
    "VOTING_START",
    "MemoryBoard",
    "Participants",
    "PartyKeys",
    "SimulatedElection",
    "Vote",
    "ed25519_key",
    "election_manifest",
    "raw_public",
]

ELECTION_ID = "sim-election"
_JST = dt.timezone(dt.timedelta(hours=9))
#: the voting period of simulated and test elections: from 2026-11-29 07:00 JST, open long
#: enough that a ballot taken now, by the real clock of a board or registrar, is in it
VOTING_START = dt.datetime(2026, 11, 29, 7, tzinfo=_JST)
VOTING_END = dt.datetime(2099, 12, 6, 20, tzinfo=_JST)
OPTIONS = ("青木 はるか", "石田 一郎", "上野 さくら", "遠藤 健")


def ed25519_key(rng: RandomSource) -> Ed25519PrivateKey:
    """A signing key from the simulation's (seeded) randomness."""
    return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


def raw_public(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def ensure_groups() -> None:
    """Register the elliptic-curve group if its library is installed."""
    try:
        import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
    except ImportError:  # pragma: no cover - coincurve is a dependency
        pass


class PartyKeys(Protocol):
    """The private keys of an election's parties, as `Participants` holds them."""

    @property
    def admin(self) -> Ed25519PrivateKey: ...
    @property
    def registrar(self) -> Ed25519PrivateKey: ...
    @property
    def board(self) -> Ed25519PrivateKey: ...
    @property
    def trustee_keys(self) -> Sequence[TrusteePrivateKeys]: ...
    @property
    def mixers(self) -> Sequence[Ed25519PrivateKey]: ...


def election_manifest(
    parties: PartyKeys,
    group: Group,
    *,
    election_id: str,
    title: str,
    options: Sequence[Option],
    threshold: int,
    more_contests: Sequence[Contest] = (),
) -> Manifest:
    """The manifest of a simulated or test election, its keys those of `parties`: one
    single-choice contest for mayor of Tsukuba (then `more_contests`, if any), voting from
    `VOTING_START` to `VOTING_END`, voters from 16 on 2026-12-06; trustees `trustee-i` and mix
    servers `mix-i` numbered from 1."""
    return Manifest(
        election_id=election_id,
        title=title,
        election_day=dt.date(2026, 12, 6),
        voting_start=VOTING_START,
        voting_end=VOTING_END,
        contests=(
            Contest("mayor", "市長", "public_office", "single", tuple(options)),
            *more_contests,
        ),
        eligibility=Eligibility(16, ("茨城県つくば市",)),
        threshold=threshold,
        trustees=tuple(
            Trustee(
                f"trustee-{i}",
                i,
                k.public(i).ed25519_public.hex(),
                k.public(i).x25519_public.hex(),
            )
            for i, k in enumerate(parties.trustee_keys, start=1)
        ),
        mix_servers=tuple(
            MixServer(f"mix-{i}", i, raw_public(k)) for i, k in enumerate(parties.mixers, start=1)
        ),
        admin_key=raw_public(parties.admin),
        registrar_key=raw_public(parties.registrar),
        board_key=raw_public(parties.board),
        group=group.description(),
    )


class Participants:
    """Everyone's keys and the manifest of one simulated election."""

    def __init__(
        self,
        group: Group,
        *,
        trustees: int,
        threshold: int,
        mixers: int,
        rng: RandomSource,
        election_id: str = ELECTION_ID,
        options: Sequence[str] = OPTIONS,
        more_contests: Sequence[Contest] = (),
    ) -> None:
        self.group = group
        self.election_id = election_id
        self.admin = ed25519_key(rng)
        self.registrar = ed25519_key(rng)
        self.board = ed25519_key(rng)
        self.trustee_keys: list[TrusteePrivateKeys] = [
            generate_trustee_keys(rng) for _ in range(trustees)
        ]
        self.mixers = [ed25519_key(rng) for _ in range(mixers)]
        self.manifest = election_manifest(
            self,
            group,
            election_id=election_id,
            title="シミュレーション選挙",
            options=tuple(Option(f"o{i + 1}", name) for i, name in enumerate(options)),
            threshold=threshold,
            more_contests=more_contests,
        )
        self.fingerprint = self.manifest.fingerprint()
        self.options = tuple(options)

    def admin_entry(self, type_: str, body: dict[str, Any]) -> Envelope:
        return sign_envelope(self.admin, self.election_id, type_, "admin", body)


class MemoryBoard:
    """The board's acceptance path in memory: `ElectionPolicy.check`, then `on_accept`.

    `post(..., cheat=True)` appends without the policy check: a board that misbehaves.
    """

    def __init__(self, election: str, *, allow_test_groups: bool = True) -> None:
        self.policy = ElectionPolicy(allow_test_groups=allow_test_groups)
        self.state = self.policy.initial_state(election)
        self.entries: list[bytes] = []
        self.refusals: Counter[str] = Counter()

    def post(self, envelope: Envelope | bytes, *, cheat: bool = False) -> int:
        """Accept an entry as the board does: decode the posted bytes (canonical only), check,
        append, update the state. Raises `Refusal` (and counts it) when the policy refuses."""
        data = envelope.to_bytes() if isinstance(envelope, Envelope) else envelope
        try:
            decoded = decode_envelope(data)
        except DecodeError as exc:
            self.refusals["malformed"] += 1
            raise Refusal("malformed", str(exc)) from exc
        if not cheat:
            try:
                self.policy.check(self.state, decoded)
            except Refusal as exc:
                self.refusals[exc.code] += 1
                raise
        index = len(self.entries)
        self.entries.append(data)
        self.policy.on_accept(self.state, decoded, index)
        return index


@dataclass(frozen=True)
class Vote:
    """One voter's intention: pseudonym and choice (0-based option index)."""

    pseudonym: bytes
    choice: int


@dataclass
class SimulatedElection:
    """One election in memory; call the phases in order (see `run_all`)."""

    people: Participants
    rng: RandomSource
    executor: Executor | None = None
    progress: bool = True
    board: MemoryBoard = field(init=False)
    outcome: DkgOutcome | None = None
    machines: dict[int, DkgTrustee] = field(default_factory=dict)
    intended: dict[bytes, int] = field(default_factory=dict)
    cast_ballots: list[tuple[bytes, Ballot]] = field(default_factory=list)
    #: the mix input's lists, then each mixer's: (contest id, rows) per contest
    mix_lists: list[Lists] = field(default_factory=list)
    #: the posted decryption shares: (trustee, its share of every contest list)
    shares: list[tuple[int, list[DecryptionShare]]] = field(default_factory=list)
    result: ListsResult | None = None
    tally: dict[str, int] = field(default_factory=dict)
    last_proof: list[shuffle_proof.ShuffleProof] | None = None
    #: DKG messages the board refused during the key ceremony, with the refusal
    ceremony_refusals: list[tuple[DkgMessage, Refusal]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.board = MemoryBoard(self.people.election_id)

    @property
    def group(self) -> Group:
        return self.people.group

    @property
    def fingerprint(self) -> bytes:
        return self.people.fingerprint

    def _bar(self, iterable: Iterable[Any], desc: str, total: int | None = None) -> Any:
        return tqdm(
            iterable,
            desc=desc,
            total=total,
            unit="",
            leave=False,
            disable=not self.progress,
            mininterval=0.5,
        )

    # ------------------------------------------------------------------ setup and ceremony
    def setup(self) -> None:
        p = self.people
        self.board.post(p.admin_entry("manifest", {"manifest": p.manifest.to_json()}))
        self.board.post(p.admin_entry("phase", {"phase": "key_ceremony"}))

    def key_ceremony(
        self,
        absent: Iterable[int] = (),
        intercept: Callable[[DkgMessage], list[DkgMessage]] | None = None,
    ) -> DkgOutcome:
        """Every present trustee's state machine; each message is posted, then delivered to all
        in board order; the administrator closes a round (a `dkg_round` entry) whenever the
        board falls quiet, and the ceremony with the joint key."""
        p = self.people
        config = ceremony_config(p.manifest)
        absent = set(absent)
        self.machines = {
            i: DkgTrustee(
                config, i, p.trustee_keys[i - 1], DeterministicRandom(self.rng.randbytes(32))
            )
            for i in config.indices
            if i not in absent
        }
        queue: deque[DkgMessage] = deque()

        def post_all(messages: Iterable[DkgMessage]) -> None:
            for m in (x for y in messages for x in (intercept(y) if intercept else [y])):
                key = p.trustee_keys[m.sender - 1].ed25519_key()
                env = sign_envelope(
                    key, p.election_id, "dkg", f"trustee-{m.sender}", m.to_json_value()
                )
                try:
                    self.board.post(env)
                except Refusal as exc:
                    self.ceremony_refusals.append((m, exc))
                    continue
                queue.append(decode_message(m.to_json(), self.group))

        def drain() -> None:
            while queue:
                msg = queue.popleft()
                for t in self.machines.values():
                    if t.phase is not Phase.DONE:
                        post_all(t.receive(msg))

        for t in self._bar(list(self.machines.values()), "key ceremony: dealing"):
            post_all(t.start())
            drain()
        record = next(iter(self.machines.values())).record
        while (round_ := record.next_round()) != CLOSED:
            self.board.post(p.admin_entry("dkg_round", {"v": 1, "round": round_}))
            for t in self.machines.values():
                post_all(t.close_round(round_))
            drain()
        self.board.post(p.admin_entry("joint_key", joint_key_body(record.outcome())))
        for t in self.machines.values():
            t.close_round(CLOSED)
        outcomes = [t.outcome for t in self.machines.values()]
        if any(o != outcomes[0] for o in outcomes):
            raise RuntimeError("the trustees disagree on the ceremony's outcome")
        self.outcome = outcomes[0]
        self.board.post(p.admin_entry("phase", {"phase": "voting"}))
        return self.outcome

    # ------------------------------------------------------------------ voting
    def make_votes(self, voters: int, revotes: int) -> list[Vote]:
        """`voters` first ballots, then `revotes` voters change their mind (the last counts)."""
        votes = [
            Vote(i.to_bytes(32, "big"), self.rng.randbelow(len(self.people.options)))
            for i in range(voters)
        ]
        for _ in range(revotes):
            who = self.rng.randbelow(voters)
            votes.append(Vote(votes[who].pseudonym, self.rng.randbelow(len(self.people.options))))
        return votes

    def make_ballots(self, votes: Sequence[Vote]) -> list[Ballot]:
        """What the voters' devices do: encrypt (bulk, on the executor) and prove, sign. The
        vote is for the mayor; any further contest is left blank."""
        assert self.outcome is not None
        pk = self.outcome.pk
        blank = [0] * (self.people.manifest.width - 1)
        rows, randomness = elgamal.encrypt_rows(
            pk, [[v.choice + 1, *blank] for v in votes], self.rng, self.executor
        )
        return [
            Ballot.create(self.fingerprint, pk, row, rs, ed25519_key(self.rng), self.rng)
            for row, rs in self._bar(zip(rows, randomness), "ballots: prove", len(rows))
        ]

    def ballot_entry(self, pseudonym: bytes, ballot: Ballot) -> Envelope:
        p = self.people
        att = sign_attestation(
            p.registrar, self.fingerprint, pseudonym, ballot.hash(self.fingerprint)
        )
        body = {"v": 1, "ballot": ballot.to_json(), "attestation": att.to_json()}
        return sign_envelope(p.registrar, p.election_id, "ballot", "registrar", body)

    def attest(self, votes: Sequence[Vote], ballots: Sequence[Ballot]) -> list[bytes]:
        """The registrar's part: attest {pseudonym, ballot hash} and sign each ballot entry."""
        return [
            self.ballot_entry(v.pseudonym, b).to_bytes()
            for v, b in self._bar(zip(votes, ballots), "registrar", len(votes))
        ]

    def cast(
        self,
        votes: Sequence[Vote],
        ballots: Sequence[Ballot],
        entries: Sequence[bytes] | None = None,
    ) -> int:
        """The board's intake of every ballot entry (made by `attest` unless given), each
        checked by the policy. Returns the number refused."""
        if entries is None:
            entries = self.attest(votes, ballots)
        refused = 0
        for vote, ballot, entry in self._bar(
            zip(votes, ballots, entries), "board intake", len(votes)
        ):
            try:
                self.board.post(entry)
            except Refusal:
                refused += 1
                continue
            self.intended[vote.pseudonym] = vote.choice
            self.cast_ballots.append((vote.pseudonym, ballot))
        return refused

    # ------------------------------------------------------------------ close and mix
    def close(self, *, drop_last: bool = False) -> Lists:
        """Close voting and post the mix input (one list per contest); `drop_last` plays a
        board that drops a ballot."""
        p = self.people
        self.board.post(p.admin_entry("phase", {"phase": "closed"}))
        indices, rows_json = mix_input_of(self.board.state)
        if drop_last:
            indices, rows_json = indices[:-1], rows_json[:-1]
        body = {
            "v": 1,
            "entries": indices,
            "contests": rules.contest_lists_json(p.manifest, rows_json),
        }
        self.board.post(p.admin_entry("mix_input", body), cheat=drop_last)
        if drop_last:
            # the cheating board's own state follows what it published
            self.board.state.mix_input = rows_json
        self.board.post(p.admin_entry("phase", {"phase": "mixing"}))
        rows = elgamal.rows_from_json(
            self.group, rows_json, p.manifest.width, self.rng, self.executor
        )
        self.mix_lists = [rules.contest_lists(p.manifest, rows)]
        return self.mix_lists[0]

    def derive_generators(self) -> None:
        """h, h_1..h_N of the proof of shuffle (docs/protocol.md §4): every mixer and verifier
        derives them once; this process then keeps them cached."""
        derive_generators(
            self.group,
            self.fingerprint,
            shuffle_proof.GENERATOR_PURPOSE,
            list_rows(self.mix_lists[-1]),
            self.executor,
        )

    def statement(
        self, k: int, c: int, outputs: Sequence[elgamal.Row]
    ) -> shuffle_proof.ShuffleStatement:
        """Mixer k's statement for contest list `c`: its input (the list after mixer k − 1)
        and `outputs`."""
        assert self.outcome is not None
        return shuffle_proof.ShuffleStatement(
            self.outcome.pk, list(self.mix_lists[k - 1][c][1]), list(outputs), self.fingerprint
        )

    def transcript(self, k: int, c: int) -> Transcript:
        """Mixer k's proof context for contest list `c` (`trustees.mixer.mix_transcript`)."""
        return mix_transcript(self.fingerprint, k, self.mix_lists[0][c][0])

    def check_previous(self, k: int, proofs: Sequence[shuffle_proof.ShuffleProof]) -> None:
        """Mixer k+1's duty: verify mixer k's proofs (one per contest) before mixing."""
        for c, proof in enumerate(proofs):
            shuffle_proof.verify(
                self.statement(k, c, self.mix_lists[k][c][1]),
                proof,
                transcript=self.transcript(k, c),
                executor=self.executor,
            )

    def shuffle_and_prove(self, k: int) -> tuple[Lists, list[shuffle_proof.ShuffleProof]]:
        """Mixer k shuffles each contest's list with its own permutation and proves each."""
        assert self.outcome is not None
        outs: list[tuple[str, Sequence[elgamal.Row]]] = []
        proofs = []
        for c, (contest, inputs) in enumerate(self.mix_lists[k - 1]):
            outputs, witness = shuffle(self.outcome.pk, inputs, self.rng, self.executor)
            proofs.append(
                shuffle_proof.prove(
                    self.statement(k, c, outputs),
                    witness,
                    transcript=self.transcript(k, c),
                    rng=self.rng,
                    executor=self.executor,
                )
            )
            outs.append((contest, outputs))
        return outs, proofs

    def post_shuffle(
        self, k: int, outputs: Lists, proofs: Sequence[shuffle_proof.ShuffleProof]
    ) -> None:
        body = {
            "v": 1,
            "position": k,
            "contests": [
                {
                    "contest": c,
                    "outputs": [elgamal.row_to_json(r) for r in rows],
                    "proof": proof.to_json(),
                }
                for (c, rows), proof in zip(outputs, proofs)
            ],
        }
        env = sign_envelope(
            self.people.mixers[k - 1], self.people.election_id, "shuffle", f"mix-{k}", body
        )
        self.board.post(env)
        self.mix_lists.append(list(outputs))

    def finish_mixing(self) -> None:
        self.board.post(self.people.admin_entry("phase", {"phase": "decrypting"}))

    # ------------------------------------------------------------------ decryption
    def make_share(self, index: int) -> list[tuple[str, DecryptionShare]]:
        """Trustee `index`'s share of every contest's last list."""
        machine = self.machines[index]
        assert machine.key_share is not None
        return [
            (
                c,
                make_share(
                    machine.key_share,
                    rows,
                    election=self.fingerprint,
                    rng=self.rng,
                    executor=self.executor,
                ),
            )
            for c, rows in self.mix_lists[-1]
        ]

    def post_share(self, shares: list[tuple[str, DecryptionShare]]) -> None:
        trustee = shares[0][1].trustee
        key = self.people.trustee_keys[trustee - 1].ed25519_key()
        self.board.post(
            sign_envelope(
                key,
                self.people.election_id,
                "decryption_share",
                f"trustee-{trustee}",
                share_entry_body(trustee, shares),
            )
        )
        self.shares.append((trustee, [s for _, s in shares]))

    def combine(self) -> ListsResult:
        assert self.outcome is not None
        manifest = self.people.manifest
        self.result = combine_lists(
            self.mix_lists[-1],
            self.shares,
            self.outcome.verification_keys,
            manifest.threshold,
            election=self.fingerprint,
            executor=self.executor,
            decoders={c.id: rules.contest_decoder(manifest, c) for c in manifest.contests},
        )
        contest = manifest.contests[0]
        counts = self.counted()[contest.id]["counts"]
        self.tally = {name: counts[o.id] for name, o in zip(self.people.options, contest.options)}
        return self.result

    def counted(self) -> dict[str, Any]:
        """The count of the decrypted lists (`rules.count_plaintexts`)."""
        assert self.result is not None
        return rules.count_plaintexts(self.people.manifest, dict(self.result.plaintexts))

    def post_result(self) -> None:
        """The admin publishes the plaintexts and the count of `election.counting`."""
        assert self.result is not None
        self.board.post(
            self.people.admin_entry(
                "result",
                {
                    "v": 1,
                    "trustees": list(self.result.used),
                    "plaintexts": rules.published_plaintexts(self.result.plaintexts),
                    "tally": self.counted(),
                },
            )
        )
        self.board.post(self.people.admin_entry("phase", {"phase": "tallied"}))

    def intended_tally(self) -> dict[str, int]:
        counts = Counter(self.intended.values())
        return {o: counts.get(i, 0) for i, o in enumerate(self.people.options)}

    # ------------------------------------------------------------------ everything
    def run_all(
        self,
        voters: int,
        revotes: int = 0,
        *,
        timer: Callable[[str], Any] | None = None,
    ) -> None:
        """The honest election from setup to tallied (used by attack controls and tests)."""

        def phase(name: str) -> Any:
            return timer(name) if timer else contextlib.nullcontext()

        with phase("setup"):
            self.setup()
        with phase("key ceremony"):
            self.key_ceremony()
        votes = self.make_votes(voters, revotes)
        with phase("ballots: encrypt + prove"):
            ballots = self.make_ballots(votes)
        with phase("registrar: attest + sign"):
            entries = self.attest(votes, ballots)
        with phase("board intake"):
            self.cast(votes, ballots, entries)
        with phase("close + mix input"):
            self.close()
        with phase("shuffle generators (once per party)"):
            self.derive_generators()
        k_total = len(self.people.mixers)
        for k in range(1, k_total + 1):
            if k > 1:
                with phase(f"mixer {k}: check previous"):
                    assert self.last_proof is not None
                    self.check_previous(k - 1, self.last_proof)
            with phase(f"mixer {k}: shuffle + prove"):
                outputs, proof = self.shuffle_and_prove(k)
            self.post_shuffle(k, outputs, proof)
            self.last_proof = proof
        self.finish_mixing()
        t = self.people.manifest.threshold
        with phase(f"decryption: {t} shares"):
            for j in sorted(self.machines)[:t]:
                self.post_share(self.make_share(j))
        with phase("decryption: combine + decode"):
            self.combine()
        self.post_result()
