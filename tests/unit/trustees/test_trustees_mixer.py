"""The mix node's duty, the offline transfer files, and the coordinator's public computations."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.entry import sign_envelope
from election import rules
from election.counting import count_election
from election.entries import PostedList, PostedShuffle
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from mixnet import elgamal
from mixnet.errors import DecodeError
from mixnet.groups import Group, get_group
from mixnet.rng import DeterministicRandom
from trustees.coordinator import ceremony_move, count
from trustees.mixer import (
    ShuffleRejected,
    decode_shuffle,
    mix,
    shapes_of,
    verify_chain,
    verify_shuffle,
)
from trustees.testing import make_config, run_ceremony
from trustees.transfer import (
    export_mix_input,
    read_mix_output,
    read_transfer,
    run_mix_offline,
    transfer_input,
    transfer_output,
)

FP = hashlib.sha256(b"mixer tests").digest()


@pytest.fixture(params=["test-schnorr-512-128", "test-safe-256"])
def group(request: pytest.FixtureRequest) -> Group:
    return get_group(request.param)


def setup(group: Group, n: int = 6, width: int = 2) -> tuple[Any, list[Any]]:
    """A key and two contest lists of n rows: "a" of `width` ciphertexts, "b" of one."""
    rng = DeterministicRandom("mixer setup")
    kp = elgamal.keygen(group, rng)
    rows, _ = elgamal.encrypt_rows(kp.public, [[i % 5, (i + 1) % 5][:width] for i in range(n)], rng)
    other, _ = elgamal.encrypt_rows(kp.public, [[(i + 2) % 5] for i in range(n)], rng)
    return kp, [("a", rows), ("b", other)]


def chain(group: Group, k: int = 2) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    kp, lists = setup(group)
    bodies: list[dict[str, Any]] = []
    current = lists
    for position in range(1, k + 1):
        body = mix(kp.public, current, FP, position, rng=DeterministicRandom(f"mixer {position}"))
        bodies.append(body)
        posted = decode_shuffle(group, body, shapes_of(current))
        current = [(part.contest, list(part.outputs)) for part in posted.lists]
    return kp, lists, bodies


def plain(kp: Any, rows: Any) -> list[tuple[int, ...]]:
    return sorted(tuple(elgamal.decrypt_row(kp.secret, r, 16)) for r in rows)


@pytest.mark.parametrize("where", ["outputs", "proof"])
def test_batched_decoding_still_refuses_one_element_outside_the_subgroup(where: str) -> None:
    """decode_shuffle tests membership in batches (on the executor): an element of order r,
    which passes the cheap Legendre test, is still refused, in the rows and in the proof."""
    from tests.mixnet_support import modp, non_member_values

    group = modp("test-schnorr-512-128")
    _, lists, bodies = chain(group, 1)
    outsider = dict(non_member_values(group))["order-r"]
    text = format(int(outsider), f"0{2 * group.element_bytes}x")
    body = copy.deepcopy(bodies[0])
    part = body["contests"][0]  # contest "a", two ciphertexts a row
    if where == "outputs":
        part["outputs"][3][1][0] = text
    else:
        part["proof"]["c"][2] = text
    shapes = shapes_of(lists)
    with ThreadPoolExecutor(2) as ex, pytest.raises(DecodeError):
        decode_shuffle(group, body, shapes, rng=DeterministicRandom("batch"), executor=ex)
    assert all(p.outputs for p in decode_shuffle(group, bodies[0], shapes, executor=None).lists)


def test_honest_chain_verifies_and_keeps_the_plaintexts(group: Group) -> None:
    kp, lists, bodies = chain(group)
    final = verify_chain(kp.public, lists, bodies, FP)
    assert [c for c, _ in final] == ["a", "b"]
    for (_, rows), (_, out) in zip(lists, final):
        assert plain(kp, out) == plain(kp, rows)
    # each contest is its own list in the entry, with its own proof
    assert [part["contest"] for part in bodies[0]["contests"]] == ["a", "b"]
    assert bodies[0]["contests"][0]["proof"] != bodies[0]["contests"][1]["proof"]


def test_executor_gives_the_same_verdict(group: Group) -> None:
    kp, lists, bodies = chain(group, 1)
    with ThreadPoolExecutor(2) as pool:
        assert verify_chain(kp.public, lists, bodies, FP, executor=pool) == verify_chain(
            kp.public, lists, bodies, FP
        )


@pytest.mark.parametrize(
    "tamper",
    ["swap", "reencrypted", "context", "position", "shape", "contest_context", "relabelled"],
)
def test_a_bad_shuffle_is_refused_and_named(group: Group, tamper: str) -> None:
    kp, lists, bodies = chain(group)
    bad = copy.deepcopy(bodies)
    target = bad[1]["contests"][0]
    if tamper == "swap":
        target["outputs"][0], target["outputs"][1] = target["outputs"][1], target["outputs"][0]
    elif tamper == "reencrypted":  # one output row replaced by another encryption
        other, _ = elgamal.encrypt_rows(kp.public, [[1, 1]], DeterministicRandom("forged"))
        target["outputs"][3] = elgamal.row_to_json(other[0])
    elif tamper == "context":  # a proof made for another election fingerprint
        posted = decode_shuffle(group, bad[0], shapes_of(lists))
        current = [(part.contest, list(part.outputs)) for part in posted.lists]
        bad[1] = mix(
            kp.public, current, hashlib.sha256(b"other").digest(), 2, rng=DeterministicRandom("x")
        )
    elif tamper == "position":
        bad[1]["position"] = 3
    elif tamper == "shape":
        target["outputs"] = target["outputs"][:-1]
    elif tamper == "contest_context":  # contest a's list proven in contest b's context
        posted = decode_shuffle(group, bad[0], shapes_of(lists))
        current = [("b", list(posted.lists[0].outputs)), ("a", list(posted.lists[1].outputs))]
        forged = mix(kp.public, current, FP, 2, rng=DeterministicRandom("y"))
        bad[1]["contests"][0] = {**forged["contests"][0], "contest": "a"}
    else:  # contest b's part posted in contest a's slot
        bad[1]["contests"] = [bad[1]["contests"][1], bad[1]["contests"][0]]
    with pytest.raises(ShuffleRejected) as info:
        verify_chain(kp.public, lists, bad, FP)
    assert info.value.position == 2
    assert info.value.check.startswith("TW")
    assert "mix server 2" in str(info.value)
    if tamper in ("swap", "reencrypted", "context", "contest_context"):
        assert info.value.contest == "a"


def test_a_proof_binds_its_contest(group: Group) -> None:
    """The same list, the same outputs, the same proof: valid in the context of the contest it
    was made for, refused in any other contest's."""
    kp, lists, bodies = chain(group, 1)
    posted = decode_shuffle(group, bodies[0], shapes_of(lists))
    verify_shuffle(kp.public, lists, posted, FP)
    relabelled = PostedShuffle(
        1, (PostedList("b", posted.lists[0].outputs, posted.lists[0].proof), posted.lists[1])
    )
    with pytest.raises(ShuffleRejected) as info:
        verify_shuffle(kp.public, [("b", lists[0][1]), lists[1]], relabelled, FP)
    assert info.value.contest == "b" and info.value.check.startswith("TW")


def test_offline_mixing_round_trip(group: Group) -> None:
    kp, lists, bodies = chain(group, 1)
    bundle = export_mix_input(kp.public, FP, 2, lists, bodies)
    out = run_mix_offline(bundle, rng=DeterministicRandom("offline mixer"))
    position, body = read_mix_output(out, FP)
    assert position == 2
    verify_chain(kp.public, lists, [*bodies, body], FP)
    with pytest.raises(DecodeError, match="another election"):
        read_mix_output(out, hashlib.sha256(b"other").digest())
    # the offline mixer verifies what it is given, too
    bad = copy.deepcopy(bodies)
    bad[0]["contests"][1]["outputs"].reverse()
    with pytest.raises(ShuffleRejected):
        run_mix_offline(export_mix_input(kp.public, FP, 2, lists, bad))
    with pytest.raises(DecodeError, match="every shuffle before"):
        run_mix_offline(export_mix_input(kp.public, FP, 3, lists, bodies))


def test_transfer_files_are_strict() -> None:
    bundle = b'{"a":1}'
    data = transfer_input("city", "trustee-1", "dkg", bundle)
    assert read_transfer(data, "in") == ("city", "trustee-1", "dkg", bundle, [])
    with pytest.raises(DecodeError, match="expected a transfer 'out'"):
        read_transfer(data, "out")
    key = Ed25519PrivateKey.generate()
    own = sign_envelope(key, "city", "dkg", "trustee-1", {"x": 1})
    out = transfer_output("city", "trustee-1", "dkg", bundle, [own])
    assert read_transfer(out, "out")[4] == [own]
    foreign = sign_envelope(key, "city", "dkg", "trustee-2", {"x": 1})
    with pytest.raises(DecodeError, match="another election or author"):
        read_transfer(transfer_output("city", "trustee-1", "dkg", bundle, [foreign]), "out")
    with pytest.raises(DecodeError):
        read_transfer(data.replace(b'"dkg"', b'"nap"'), "in")
    with pytest.raises(DecodeError):
        read_transfer(data + b" ", "in")


def manifest(*contests: Contest) -> Manifest:
    jst = dt.timezone(dt.timedelta(hours=9))
    k = "00" * 32
    return Manifest(
        election_id="count",
        title="t",
        election_day=dt.date(2026, 12, 6),
        voting_start=dt.datetime(2026, 11, 29, 7, tzinfo=jst),
        voting_end=dt.datetime(2026, 12, 6, 20, tzinfo=jst),
        contests=contests,
        eligibility=Eligibility(16, ("x",)),
        threshold=1,
        trustees=(Trustee("t", 1, k, k),),
        mix_servers=(MixServer("m", 1, k),),
        admin_key=k,
        registrar_key=k,
        board_key=k,
        group=get_group("test-schnorr-512-128").description(),
    )


def test_count_per_rule() -> None:
    opts = (Option("a", "A"), Option("b", "B"), Option("c", "C"))
    m = manifest(
        Contest("one", "1", "public_office", "single", opts),
        Contest("two", "2", "public_office", "k_of_n", opts, max_choices=2),
        Contest("rank", "3", "public_office", "ranked", opts, max_choices=3),
    )
    plaintexts = (
        (1, 1, 3, 2, 1, 3),  # a | a, c | b first
        (0, 0, 0, 0, 0, 0),  # blank everywhere
        (3, 2, 0, 1, 2, 3),  # c | b | a first
    )
    tally = count(m, rules.contest_lists(m, plaintexts))
    assert tally == count_election(m, plaintexts)  # the verifier's own rules
    assert tally["one"]["counts"] == {"a": 1, "b": 0, "c": 1}
    assert tally["one"]["blank"] == 1
    assert set(tally) == {"one", "two", "rank"}


def test_ceremony_move_follows_the_record() -> None:
    """The administrator closes a round once everything it expects is posted, or at the round
    timeout; never because of a trustee's message."""
    config, keys = make_config(get_group("test-schnorr-512-128"), 2, 3)
    run = run_ceremony(config, keys)
    from trustees.dkg import CLOSED, PublicRecord, RoundClose

    record = PublicRecord(config)
    for event in run.events:
        if isinstance(event, RoundClose):
            assert ceremony_move(record, 0.0, 60.0) == event.round
            assert ceremony_move(record, 61.0, 60.0) == event.round
            record.close(event.round)
        else:
            assert ceremony_move(record, 0.0, 60.0) is None  # still waiting
            assert ceremony_move(record, 61.0, 60.0) == record.next_round()  # the timeout
            record.append(event)
    assert record.round == CLOSED and ceremony_move(record, 99.0, 1.0) is None
