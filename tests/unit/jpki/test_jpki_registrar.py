"""The registrar: every refusal, the successful path, pseudonyms, attestations, evidence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jpki_unit_support import (
    ELECTION_DAY,
    HANAKO,
    PASSWORD,
    TARO,
    UTC,
    VOTING_END,
    VOTING_START,
    VOTING_TIME,
)

from jpki.card import CertKind, JpkiCard
from jpki.certs import BasicFacts, Sex, TrustAnchors
from jpki.evidence import EvidenceStore, check_evidence
from jpki.pins import PinKind
from jpki.reasons import Reason, explain
from jpki.registrar import (
    Accepted,
    Attestation,
    BallotAuthentication,
    CardRefused,
    EligibilityRules,
    MemoryCodeLedger,
    Refused,
    Registrar,
    RegistrarConfig,
    VotingCodeConfig,
    VotingCodeMode,
    age_on,
    attestation_message,
    ballot_message,
    check_card,
    derive_pseudonym,
    is_resident,
    roll_entry,
    sign_attestation,
    verify_attestation,
)
from jpki.testca import TestCa
from jpki.transport import InProcessTransport
from jpki.virtual_card import IssuedCard
from jpki.voting_codes import generate_voting_codes, hash_voting_code
from mixnet.encoding import encode
from mixnet.errors import VerificationError

FINGERPRINT = hashlib.sha256(b"election: Tsukuba youth council 2027").digest()
OTHER_FINGERPRINT = hashlib.sha256(b"election: another one").digest()
PSEUDONYM_KEY = bytes(range(32))
ATTESTATION_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
SHARED_CODE = "TSKB-2K27-VXTE-HERE"
MUNICIPALITIES = ("茨城県つくば市",)
PERIOD = {"voting_start": VOTING_START, "voting_end": VOTING_END}
FOUR_FACT_CHANGES = [  # each of the four basic facts changed alone
    {"name": "投票\u3000次郎"},
    {"birth_date": dt.date(1990, 6, 16)},
    {"sex": Sex.FEMALE},
    {"address": "茨城県つくば市研究学園一丁目1番地2"},
]


def ballot_hash(n: int = 1) -> bytes:
    return hashlib.sha256(f"ballot {n}".encode()).digest()


def sign_ballot(
    issued: IssuedCard,
    fingerprint: bytes = FINGERPRINT,
    bhash: bytes | None = None,
    *,
    code: str = SHARED_CODE,
) -> BallotAuthentication:
    """What the voter client does: verify the password, read the cert, sign the message."""
    bhash = bhash or ballot_hash()
    card = JpkiCard(InProcessTransport(issued.card))
    card.select_ap()
    card.verify_pin(PinKind.SIGN, PASSWORD)
    cert = card.read_certificate(CertKind.SIGN)
    signature = card.sign(PinKind.SIGN, ballot_message(fingerprint, bhash))
    card.transport.close()
    return BallotAuthentication(fingerprint, bhash, cert, signature, code)


@pytest.fixture
def config_for(anchors_for) -> Callable[..., RegistrarConfig]:
    def make(
        *,
        fingerprint: bytes = FINGERPRINT,
        minimum_age: int = 16,
        municipalities: tuple[str, ...] = MUNICIPALITIES,
        prefixes: tuple[str, ...] = (),
        roll: frozenset[bytes] | None = None,
        codes: VotingCodeConfig | None = None,
        anchors: TrustAnchors | None = None,
        key: bytes = PSEUDONYM_KEY,
    ) -> RegistrarConfig:
        return RegistrarConfig(
            election_fingerprint=fingerprint,
            trust=anchors or anchors_for(),
            eligibility=EligibilityRules(
                election_day=ELECTION_DAY,
                minimum_age=minimum_age,
                municipalities=municipalities,
                address_prefixes=prefixes,
                voter_roll=roll,
                **PERIOD,
            ),
            voting_codes=codes
            or VotingCodeConfig(VotingCodeMode.SHARED, frozenset({hash_voting_code(SHARED_CODE)})),
            pseudonym_key=key,
            attestation_key=ATTESTATION_KEY,
        )

    return make


class ListSink:
    def __init__(self) -> None:
        self.items: list = []

    def append_many(self, records) -> None:
        self.items.extend(records)


def refused(result: Accepted | Refused, reason: Reason) -> None:
    assert isinstance(result, Refused), result
    assert result.reason is reason, result


def with_facts(issue, label: str, **changes: object) -> IssuedCard:
    return issue(dataclasses.replace(TARO, **changes), label=label)


# --- the successful path ---


def test_accepts_and_attests(config_for, taro_card: IssuedCard) -> None:
    sink = ListSink()
    registrar = Registrar(config_for(), sink)
    request = sign_ballot(taro_card)
    result = registrar.register(request, now=VOTING_TIME)
    assert isinstance(result, Accepted)
    assert result.pseudonym == derive_pseudonym(PSEUDONYM_KEY, FINGERPRINT, TARO)
    att = result.attestation
    assert (att.election_fingerprint, att.pseudonym, att.ballot_hash) == (
        FINGERPRINT,
        result.pseudonym,
        request.ballot_hash,
    )
    verify_attestation(att, registrar.public_key, election_fingerprint=FINGERPRINT)
    (evidence,) = sink.items
    assert evidence.certificate == request.certificate
    assert evidence.signature == request.signature
    assert evidence.received_at == VOTING_TIME
    check_evidence(
        evidence,
        config_for().trust,
        attestation=att,
        registrar_public_key=registrar.public_key,
        pseudonym_key=PSEUDONYM_KEY,
    )


def test_message_formats_are_the_agreed_ones() -> None:
    assert ballot_message(FINGERPRINT, ballot_hash()) == encode(
        ["tohyo/jpki-ballot/v1", FINGERPRINT, ballot_hash()]
    )
    pseudonym = bytes(32)
    assert attestation_message(FINGERPRINT, pseudonym, ballot_hash()) == encode(
        ["tohyo/attestation/v1", FINGERPRINT, pseudonym, ballot_hash()]
    )


# --- refusals; each leaves no state behind ---


def assert_no_state(registrar: Registrar, sink: ListSink) -> None:
    assert sink.items == []
    assert len(registrar.ledger) == 0  # type: ignore[arg-type]


def test_signature_over_another_ballot(config_for, taro_card: IssuedCard) -> None:
    sink = ListSink()
    registrar = Registrar(config_for(), sink)
    request = sign_ballot(taro_card)
    tampered = dataclasses.replace(request, ballot_hash=ballot_hash(2))
    refused(registrar.register(tampered, now=VOTING_TIME), Reason.SIGNATURE_MISMATCH)
    assert_no_state(registrar, sink)


def test_signature_by_another_card(config_for, issue, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(), ListSink())
    hanako = issue(HANAKO, label="hanako")
    mine = sign_ballot(taro_card)
    theirs = sign_ballot(hanako)
    mixed = dataclasses.replace(mine, signature=theirs.signature)
    refused(registrar.register(mixed, now=VOTING_TIME), Reason.SIGNATURE_MISMATCH)


def test_signature_bound_to_the_election(config_for, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(), ListSink())
    request = sign_ballot(taro_card, fingerprint=OTHER_FINGERPRINT)
    forwarded = dataclasses.replace(request, election_fingerprint=FINGERPRINT)
    refused(registrar.register(forwarded, now=VOTING_TIME), Reason.SIGNATURE_MISMATCH)
    refused(registrar.register(request, now=VOTING_TIME), Reason.MALFORMED_REQUEST)


def test_expired_certificate(config_for, issue) -> None:
    old = issue(
        label="taro",
        not_before=dt.datetime(2021, 1, 1, tzinfo=UTC),
        not_after=dt.datetime(2026, 1, 1, tzinfo=UTC),
    )
    sink = ListSink()
    registrar = Registrar(config_for(), sink)
    refused(registrar.register(sign_ballot(old), now=VOTING_TIME), Reason.CERTIFICATE_EXPIRED)
    assert_no_state(registrar, sink)


def test_revoked_certificate(config_for, anchors_for, taro_card: IssuedCard) -> None:
    sink = ListSink()
    anchors = anchors_for((taro_card.sign_cert.serial_number,))
    registrar = Registrar(config_for(anchors=anchors), sink)
    refused(registrar.register(sign_ballot(taro_card), now=VOTING_TIME), Reason.CERTIFICATE_REVOKED)
    assert_no_state(registrar, sink)


def test_untrusted_certificate(config_for, issue, other_ca: TestCa) -> None:
    registrar = Registrar(config_for(), ListSink())
    fake = issue(ca=other_ca)
    refused(registrar.register(sign_ballot(fake), now=VOTING_TIME), Reason.CERTIFICATE_UNTRUSTED)


def test_auth_certificate_is_the_wrong_one(config_for, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(), ListSink())
    card = JpkiCard(InProcessTransport(taro_card.card))
    card.select_ap()
    card.verify_pin(PinKind.AUTH, "4321")
    message = ballot_message(FINGERPRINT, ballot_hash())
    request = BallotAuthentication(
        FINGERPRINT,
        ballot_hash(),
        card.read_certificate(CertKind.AUTH),
        card.sign(PinKind.AUTH, message),
        SHARED_CODE,
    )
    refused(registrar.register(request, now=VOTING_TIME), Reason.CERTIFICATE_WRONG_USAGE)


def test_no_current_crl(config_for, anchors_for, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(anchors=anchors_for(with_crl=False)), ListSink())
    refused(registrar.register(sign_ballot(taro_card), now=VOTING_TIME), Reason.REVOCATION_UNKNOWN)


@pytest.mark.parametrize(
    "change",
    [
        {"ballot_hash": b"\x00" * 31},
        {"certificate": b""},
        {"certificate": b"\x30\x03\x02\x01\x01"},
        {"signature": b""},
        {"signature": b"\x00" * 2000},
        {"election_fingerprint": OTHER_FINGERPRINT},
    ],
)
def test_malformed_requests(config_for, taro_card: IssuedCard, change: dict) -> None:
    sink = ListSink()
    registrar = Registrar(config_for(), sink)
    request = dataclasses.replace(sign_ballot(taro_card), **change)
    refused(registrar.register(request, now=VOTING_TIME), Reason.MALFORMED_REQUEST)
    assert_no_state(registrar, sink)


# --- age on election day ---


def test_age_boundary_on_election_day(config_for, issue) -> None:
    """Election day 2027-04-25, minimum age 16: born 2011-04-26 is 15, born 2011-04-25 is 16."""
    registrar = Registrar(config_for(minimum_age=16), ListSink())
    day_before_birthday = with_facts(issue, "young", birth_date=dt.date(2011, 4, 26))
    refused(
        registrar.register(sign_ballot(day_before_birthday), now=VOTING_TIME),
        Reason.NOT_ELIGIBLE_AGE,
    )
    birthday = with_facts(issue, "young", birth_date=dt.date(2011, 4, 25))
    assert isinstance(registrar.register(sign_ballot(birthday), now=VOTING_TIME), Accepted)


def test_age_counts_on_election_day_not_on_voting_day(config_for, issue) -> None:
    # voting happens 2027-04-20, five days before election day; 16th birthday on 04-23 counts
    registrar = Registrar(config_for(minimum_age=16), ListSink())
    card = with_facts(issue, "young", birth_date=dt.date(2011, 4, 23))
    assert isinstance(registrar.register(sign_ballot(card), now=VOTING_TIME), Accepted)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (dt.date(2011, 4, 25), dt.date(2027, 4, 24), 15),
        (dt.date(2011, 4, 25), dt.date(2027, 4, 25), 16),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), 20),
        (dt.date(1990, 12, 31), dt.date(2027, 1, 1), 36),
    ],
)
def test_age_on(birth: dt.date, day: dt.date, age: int) -> None:
    assert age_on(birth, day) == age


# --- residence ---


@pytest.mark.parametrize(
    "address",
    [
        "東京都新宿区西新宿二丁目8番1号茨城県つくば市ビル",  # merely contains it
        "東京都港区つくば市通り1番",
        "茨城県つくばみらい市みらい平1",  # a different municipality, same first letters
        "茨城県土浦市つくば町1",
        "つくば市研究学園1",  # no prefecture
        "",
    ],
)
def test_address_that_is_not_in_the_municipality_is_refused(
    config_for, issue, address: str
) -> None:
    sink = ListSink()
    registrar = Registrar(config_for(), sink)
    card = with_facts(issue, "taro", address=address or "茨城県")
    refused(registrar.register(sign_ballot(card), now=VOTING_TIME), Reason.NOT_ELIGIBLE_RESIDENCE)
    assert_no_state(registrar, sink)


@pytest.mark.parametrize(
    ("address", "areas", "expected"),
    [
        ("茨城県つくば市研究学園一丁目1番地1", ("茨城県つくば市",), True),
        ("茨城県 つくば市 研究学園１－１", ("茨城県つくば市",), True),  # spaces, full-width
        ("茨城県つくばみらい市みらい平1", ("茨城県つくば市",), False),
        ("北海道伊達市末永町1", ("福島県伊達市",), False),  # same city name, other prefecture
        ("福島県伊達市保原町1", ("福島県伊達市",), True),
        ("東京都府中市宮西町2", ("広島県府中市",), False),
        ("大阪府大阪市北区梅田1", ("大阪府大阪市",), True),
        ("大阪府大阪狭山市狭山1", ("大阪府大阪市",), False),
        ("茨城県龍ヶ崎市3710", ("茨城県龍ケ崎市",), True),  # ヶ/ケ variants
        ("長野県北佐久郡軽井沢町大字軽井沢1", ("長野県北佐久郡軽井沢町",), True),
    ],
)
def test_is_resident(address: str, areas: tuple[str, ...], expected: bool) -> None:
    assert is_resident(address, areas) is expected


def test_address_prefixes(config_for, issue) -> None:
    registrar = Registrar(
        config_for(municipalities=(), prefixes=("茨城県つくば市研究学園",)), ListSink()
    )
    inside = with_facts(issue, "taro", address="茨城県つくば市研究学園五丁目1")
    outside = with_facts(issue, "taro", address="茨城県つくば市天王台一丁目1")
    assert isinstance(registrar.register(sign_ballot(inside), now=VOTING_TIME), Accepted)
    refused(
        registrar.register(sign_ballot(outside), now=VOTING_TIME), Reason.NOT_ELIGIBLE_RESIDENCE
    )


@pytest.mark.parametrize("bad", ["つくば市", "茨城県", "茨城県つくば", "Tsukuba"])
def test_municipality_config_must_be_prefecture_plus_municipality(bad: str) -> None:
    with pytest.raises(ValueError):
        EligibilityRules(election_day=ELECTION_DAY, minimum_age=18, municipalities=(bad,), **PERIOD)


def test_rules_need_an_area() -> None:
    with pytest.raises(ValueError):
        EligibilityRules(election_day=ELECTION_DAY, minimum_age=18, **PERIOD)


# --- voter roll ---


def test_voter_roll(config_for, issue, taro_card: IssuedCard) -> None:
    """The roll holds keyed hashes of the four facts: Taro is on it, Hanako is not, and Taro
    after a move (a new card, a new address) is not either: he votes in person."""
    roll = frozenset({roll_entry(PSEUDONYM_KEY, TARO)})
    registrar = Registrar(config_for(roll=roll), ListSink())
    assert isinstance(registrar.register(sign_ballot(taro_card), now=VOTING_TIME), Accepted)
    hanako = issue(HANAKO, label="hanako")
    refused(registrar.register(sign_ballot(hanako), now=VOTING_TIME), Reason.NOT_ON_VOTER_ROLL)
    moved = with_facts(issue, "taro-moved", address="茨城県つくば市吾妻三丁目9番")
    refused(registrar.register(sign_ballot(moved), now=VOTING_TIME), Reason.NOT_ON_VOTER_ROLL)
    # a roll made under another key (someone else's registrar) lets nobody in
    other = Registrar(config_for(roll=frozenset({roll_entry(b"k" * 32, TARO)})), ListSink())
    refused(other.register(sign_ballot(taro_card), now=VOTING_TIME), Reason.NOT_ON_VOTER_ROLL)
    # an empty roll is a roll: nobody is on it
    empty = Registrar(config_for(roll=frozenset()), ListSink())
    refused(empty.register(sign_ballot(taro_card), now=VOTING_TIME), Reason.NOT_ON_VOTER_ROLL)


@pytest.mark.parametrize("change", FOUR_FACT_CHANGES)
def test_roll_entry_depends_on_each_fact_and_is_not_a_pseudonym(change: dict) -> None:
    other = dataclasses.replace(TARO, **change)
    assert roll_entry(PSEUDONYM_KEY, other) != roll_entry(PSEUDONYM_KEY, TARO)
    assert roll_entry(PSEUDONYM_KEY, TARO) != derive_pseudonym(PSEUDONYM_KEY, FINGERPRINT, TARO)
    spelled = dataclasses.replace(
        TARO, name=" 投票  太郎 ", address="茨城県つくば市研究学園一丁目1番地１"
    )
    assert roll_entry(PSEUDONYM_KEY, spelled) == roll_entry(PSEUDONYM_KEY, TARO)


# --- voting period (R0) ---


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (VOTING_START - dt.timedelta(minutes=2, seconds=1), Reason.VOTING_NOT_OPEN),
        (VOTING_START - dt.timedelta(minutes=2), None),
        (VOTING_END + dt.timedelta(minutes=2), None),
        (VOTING_END + dt.timedelta(minutes=2, seconds=1), Reason.VOTING_CLOSED),
        (VOTING_END + dt.timedelta(days=2), Reason.VOTING_CLOSED),
    ],
)
def test_voting_period_with_its_clock_tolerance(
    config_for, taro_card: IssuedCard, now: dt.datetime, reason: Reason | None
) -> None:
    """Two minutes of clock tolerance either side (`election.period.CLOCK_TOLERANCE`); a
    refusal keeps nothing."""
    sink = ListSink()
    result = Registrar(config_for(), sink).register(sign_ballot(taro_card), now=now)
    if reason is None:
        assert isinstance(result, Accepted)
    else:
        refused(result, reason)
        assert sink.items == []


def test_voting_period_needs_aware_times(config_for, taro_card: IssuedCard) -> None:
    with pytest.raises(ValueError):
        EligibilityRules(
            election_day=ELECTION_DAY,
            minimum_age=18,
            municipalities=MUNICIPALITIES,
            voting_start=dt.datetime(2027, 4, 18),
            voting_end=VOTING_END,
        )
    with pytest.raises(ValueError):
        EligibilityRules(
            election_day=ELECTION_DAY,
            minimum_age=18,
            municipalities=MUNICIPALITIES,
            voting_start=VOTING_END,
            voting_end=VOTING_START,
        )
    with pytest.raises(ValueError):
        check_card(config_for(), sign_ballot(taro_card), dt.datetime(2027, 4, 20, 9))


# --- voting codes ---


def test_shared_code(config_for, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(), ListSink())
    request = sign_ballot(taro_card, code="tskb 2k27 vxte here")  # normalised
    assert isinstance(registrar.register(request, now=VOTING_TIME), Accepted)
    refused(
        registrar.register(sign_ballot(taro_card, code="TSKB-2K27-VXTE-HERF"), now=VOTING_TIME),
        Reason.VOTING_CODE_UNKNOWN,
    )
    refused(
        registrar.register(sign_ballot(taro_card, code="nonsense"), now=VOTING_TIME),
        Reason.VOTING_CODE_UNKNOWN,
    )


def test_one_time_codes(config_for, issue, taro_card: IssuedCard) -> None:
    csv_text, hashes = generate_voting_codes(3)
    codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
    config = config_for(codes=VotingCodeConfig(VotingCodeMode.ONE_TIME, frozenset(hashes)))
    sink = ListSink()
    registrar = Registrar(config, sink)
    hanako = issue(HANAKO, label="hanako")

    refused(
        registrar.register(sign_ballot(taro_card, code=SHARED_CODE), now=VOTING_TIME),
        Reason.VOTING_CODE_UNKNOWN,
    )
    assert isinstance(
        registrar.register(sign_ballot(taro_card, code=codes[0]), now=VOTING_TIME), Accepted
    )
    # the same voter may re-vote with the same code; another voter may not use it
    assert isinstance(
        registrar.register(
            sign_ballot(taro_card, bhash=ballot_hash(2), code=codes[0]), now=VOTING_TIME
        ),
        Accepted,
    )
    before = len(sink.items)
    refused(
        registrar.register(sign_ballot(hanako, code=codes[0]), now=VOTING_TIME),
        Reason.VOTING_CODE_USED,
    )
    assert len(sink.items) == before
    assert isinstance(
        registrar.register(sign_ballot(hanako, code=codes[1]), now=VOTING_TIME), Accepted
    )


def test_a_restarted_registrar_rebuilds_its_code_bindings_from_the_evidence(
    config_for, issue, taro_card: IssuedCard, tmp_path: Path
) -> None:
    csv_text, hashes = generate_voting_codes(2)
    codes = [line.split(",")[1] for line in csv_text.splitlines()[1:]]
    config = config_for(codes=VotingCodeConfig(VotingCodeMode.ONE_TIME, frozenset(hashes)))
    path = tmp_path / "evidence"
    first = Registrar(config, EvidenceStore(path, "evidence passphrase", scrypt_n=2**10))
    assert isinstance(
        first.register(sign_ballot(taro_card, code=codes[0]), now=VOTING_TIME), Accepted
    )
    store = EvidenceStore(path, "evidence passphrase")
    assert [r.code_hash for r in store.read_all()] == [hash_voting_code(codes[0])]
    ledger = MemoryCodeLedger.from_evidence(store.read_all())
    assert ledger.owner(hash_voting_code(codes[0])) == derive_pseudonym(
        PSEUDONYM_KEY, FINGERPRINT, TARO
    )
    again = Registrar(config, store, ledger=ledger)
    hanako = issue(HANAKO, label="hanako")
    refused(
        again.register(sign_ballot(hanako, code=codes[0]), now=VOTING_TIME), Reason.VOTING_CODE_USED
    )
    assert isinstance(
        again.register(
            sign_ballot(taro_card, bhash=ballot_hash(3), code=codes[0]), now=VOTING_TIME
        ),
        Accepted,
    )
    # without the rebuilt ledger the used code would pass: the test above can fail
    forgetful = Registrar(config, store)
    assert isinstance(
        forgetful.register(sign_ballot(hanako, code=codes[0]), now=VOTING_TIME), Accepted
    )


def test_reserve_takes_the_code_hash_computed_elsewhere(config_for, taro_card: IssuedCard) -> None:
    csv_text, hashes = generate_voting_codes(1)
    code = csv_text.splitlines()[1].split(",")[1]
    config = config_for(codes=VotingCodeConfig(VotingCodeMode.ONE_TIME, frozenset(hashes)))
    registrar = Registrar(config, ListSink())
    request = sign_ballot(taro_card, code=code)
    pseudonym = check_card(config, request, VOTING_TIME)
    attestation = sign_attestation(
        config.attestation_key, FINGERPRINT, pseudonym, request.ballot_hash
    )
    pending = registrar.reserve(
        request, pseudonym, attestation, now=VOTING_TIME, code_hash=hash_voting_code(code)
    )
    assert not isinstance(pending, Refused) and pending.code_hash == hash_voting_code(code)
    registrar.abort(pending)
    # a hash that is not one of the election's: refused as an unknown code
    refused(
        registrar.reserve(request, pseudonym, attestation, now=VOTING_TIME, code_hash="00" * 32),
        Reason.VOTING_CODE_UNKNOWN,
    )


def test_check_card_raises_the_reason(config_for, issue) -> None:
    too_young = with_facts(issue, "young", birth_date=dt.date(2015, 1, 1))
    with pytest.raises(CardRefused) as caught:
        check_card(config_for(), sign_ballot(too_young), VOTING_TIME)
    assert caught.value.reason is Reason.NOT_ELIGIBLE_AGE


def test_refusal_does_not_consume_a_one_time_code(config_for, issue) -> None:
    csv_text, hashes = generate_voting_codes(1)
    code = csv_text.splitlines()[1].split(",")[1]
    config = config_for(codes=VotingCodeConfig(VotingCodeMode.ONE_TIME, frozenset(hashes)))
    sink = ListSink()
    registrar = Registrar(config, sink)
    too_young = with_facts(issue, "young", birth_date=dt.date(2015, 1, 1))
    refused(
        registrar.register(sign_ballot(too_young, code=code), now=VOTING_TIME),
        Reason.NOT_ELIGIBLE_AGE,
    )
    assert_no_state(registrar, sink)
    hanako = issue(HANAKO, label="hanako")
    assert isinstance(registrar.register(sign_ballot(hanako, code=code), now=VOTING_TIME), Accepted)


def test_no_code_mode(config_for, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(codes=VotingCodeConfig(VotingCodeMode.NONE)), ListSink())
    assert isinstance(
        registrar.register(sign_ballot(taro_card, code=""), now=VOTING_TIME), Accepted
    )


def test_code_config_is_checked() -> None:
    with pytest.raises(ValueError):
        VotingCodeConfig(VotingCodeMode.SHARED, frozenset())
    with pytest.raises(ValueError):
        VotingCodeConfig(VotingCodeMode.ONE_TIME, frozenset())


# --- pseudonyms ---


def test_pseudonym_stable_across_renewal(config_for, issue) -> None:
    """Same person, two certificates (new keys, new serial, new validity), same address."""
    registrar = Registrar(config_for(), ListSink())
    first = issue(label="taro")
    renewed = issue(
        TARO,
        label="taro-renewed",
        not_before=dt.datetime(2027, 3, 1, tzinfo=UTC),
        not_after=dt.datetime(2032, 6, 14, tzinfo=UTC),
    )
    assert first.sign_cert.serial_number != renewed.sign_cert.serial_number
    assert first.sign_cert.public_key() != renewed.sign_cert.public_key()
    a = registrar.register(sign_ballot(first), now=VOTING_TIME)
    b = registrar.register(sign_ballot(renewed, bhash=ballot_hash(2)), now=VOTING_TIME)
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    assert a.pseudonym == b.pseudonym


def test_namesakes_at_different_addresses_are_two_voters(config_for, issue) -> None:
    """Two residents with the same name, birth date and sex (the register holds each at one
    address): two pseudonyms, so neither's ballot replaces the other's."""
    registrar = Registrar(config_for(), ListSink())
    taro = issue(label="taro")
    namesake = with_facts(issue, "taro-namesake", address="茨城県つくば市天王台一丁目1番1")
    a = registrar.register(sign_ballot(taro), now=VOTING_TIME)
    b = registrar.register(sign_ballot(namesake, bhash=ballot_hash(2)), now=VOTING_TIME)
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    assert a.pseudonym != b.pseudonym


def test_pseudonym_differs_per_person_and_per_election(
    config_for, issue, taro_card: IssuedCard
) -> None:
    here = Registrar(config_for(), ListSink())
    there = Registrar(config_for(fingerprint=OTHER_FINGERPRINT), ListSink())
    other_key = Registrar(config_for(key=b"k" * 32), ListSink())
    hanako = issue(HANAKO, label="hanako")
    taro_here = here.register(sign_ballot(taro_card), now=VOTING_TIME)
    hanako_here = here.register(sign_ballot(hanako), now=VOTING_TIME)
    taro_there = there.register(sign_ballot(taro_card, OTHER_FINGERPRINT), now=VOTING_TIME)
    taro_other_key = other_key.register(sign_ballot(taro_card), now=VOTING_TIME)
    results = [taro_here, hanako_here, taro_there, taro_other_key]
    assert all(isinstance(r, Accepted) for r in results)
    assert len({r.pseudonym for r in results}) == 4  # type: ignore[union-attr]


@pytest.mark.parametrize("change", FOUR_FACT_CHANGES)
def test_pseudonym_depends_on_each_of_the_four_facts(change: dict) -> None:
    other = dataclasses.replace(TARO, **change)
    assert derive_pseudonym(PSEUDONYM_KEY, FINGERPRINT, other) != derive_pseudonym(
        PSEUDONYM_KEY, FINGERPRINT, TARO
    )


def test_pseudonym_ignores_spelling_variants_of_name_and_address() -> None:
    """White space in the name; full-width digits and spaces in the address."""
    spaced = dataclasses.replace(
        TARO, name=" 投票  太郎 ", address="茨城県 つくば市研究学園一丁目１番地１"
    )
    base = derive_pseudonym(PSEUDONYM_KEY, FINGERPRINT, TARO)
    assert derive_pseudonym(PSEUDONYM_KEY, FINGERPRINT, spaced) == base
    assert len(base) == 32


# --- attestations ---


def test_attestation_verification_fails_on_tampering(config_for, taro_card: IssuedCard) -> None:
    registrar = Registrar(config_for(), ListSink())
    result = registrar.register(sign_ballot(taro_card), now=VOTING_TIME)
    assert isinstance(result, Accepted)
    att = result.attestation
    assert Attestation.from_json(att.to_json()) == att
    for field, value in (
        ("pseudonym", bytes(32)),
        ("ballot_hash", ballot_hash(9)),
        ("election_fingerprint", OTHER_FINGERPRINT),
        ("signature", bytes(64)),
    ):
        with pytest.raises(VerificationError):
            verify_attestation(dataclasses.replace(att, **{field: value}), registrar.public_key)
    with pytest.raises(VerificationError) as info:
        verify_attestation(att, registrar.public_key, election_fingerprint=OTHER_FINGERPRINT)
    assert info.value.check == "attestation-election"
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(VerificationError):
        verify_attestation(att, stranger)
    raw_key = ATTESTATION_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    verify_attestation(att, raw_key)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"ballot_hash": "00", "election_fingerprint": "00", "pseudonym": "00", "signature": "00"},
        {
            "ballot_hash": "AA" * 32,
            "election_fingerprint": "00" * 32,
            "pseudonym": "00" * 32,
            "signature": "00" * 64,
        },
        "x",
    ],
)
def test_attestation_json_is_strict(data: object) -> None:
    with pytest.raises(ValueError):
        Attestation.from_json(data)


# --- evidence on disk ---


def test_registrar_with_encrypted_evidence_store(
    config_for, taro_card: IssuedCard, tmp_path: Path
) -> None:
    store = EvidenceStore(tmp_path / "evidence.tohyo", "correct horse battery", scrypt_n=2**10)
    registrar = Registrar(config_for(), store)
    request = sign_ballot(taro_card)
    result = registrar.register(request, now=VOTING_TIME)
    assert isinstance(result, Accepted)
    refused(
        registrar.register(
            dataclasses.replace(request, ballot_hash=ballot_hash(3)), now=VOTING_TIME
        ),
        Reason.SIGNATURE_MISMATCH,
    )
    reopened = EvidenceStore(tmp_path / "evidence.tohyo", "correct horse battery")
    (evidence,) = reopened.read_all()
    assert evidence.certificate == request.certificate
    check_evidence(evidence, config_for().trust, pseudonym_key=PSEUDONYM_KEY)


# --- reason codes ---


def test_every_reason_has_plain_words() -> None:
    values = [r.value for r in Reason]
    assert len(set(values)) == len(values)
    for reason in Reason:
        text = explain(reason, tries_left=2)
        assert text and "{" not in text
    assert "2 tries" in explain(Reason.WRONG_PASSWORD, tries_left=2)
    assert "municipal office" in explain(Reason.PASSWORD_BLOCKED)


def test_config_repr_hides_keys(config_for) -> None:
    text = repr(config_for())
    assert PSEUDONYM_KEY.hex() not in text and "pseudonym_key" not in text


def test_config_checks_sizes(config_for) -> None:
    with pytest.raises(ValueError):
        config_for(key=b"short")
    with pytest.raises(ValueError):
        config_for(fingerprint=b"\x00" * 20)


def test_pseudonym_of_a_name_outside_the_bmp() -> None:
    facts = BasicFacts("𠮷野\u3000一", dt.date(2000, 1, 1), Sex.UNKNOWN, "茨城県つくば市1")
    assert derive_pseudonym(PSEUDONYM_KEY, FINGERPRINT, facts) != derive_pseudonym(
        PSEUDONYM_KEY, FINGERPRINT, TARO
    )


def test_one_time_code_cannot_be_shared_by_concurrent_submissions(config_for, issue) -> None:
    import threading
    import time

    csv_text, hashes = generate_voting_codes(1)
    code = csv_text.splitlines()[1].split(",")[1]
    config = config_for(codes=VotingCodeConfig(VotingCodeMode.ONE_TIME, frozenset(hashes)))

    class SlowSink(ListSink):
        def append_many(self, records) -> None:
            time.sleep(0.2)  # widen the window between check and commit
            super().append_many(records)

    sink = SlowSink()
    registrar = Registrar(config, sink)
    requests = [
        sign_ballot(issue(TARO, label="taro"), code=code),
        sign_ballot(issue(HANAKO, label="hanako"), code=code),
    ]
    results: list[Accepted | Refused] = []
    barrier = threading.Barrier(2)

    def submit(request: BallotAuthentication) -> None:
        barrier.wait()
        results.append(registrar.register(request, now=VOTING_TIME))

    threads = [threading.Thread(target=submit, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [r for r in results if isinstance(r, Accepted)]
    refusals = [r for r in results if isinstance(r, Refused)]
    assert len(accepted) == 1 and len(refusals) == 1
    assert refusals[0].reason is Reason.VOTING_CODE_USED
    assert len(sink.items) == 1
