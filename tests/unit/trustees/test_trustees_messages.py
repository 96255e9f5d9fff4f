"""Canonical JSON of the DKG messages, the config and the decryption share."""

from __future__ import annotations

import json

import pytest

from mixnet.errors import DecodeError
from trustees.config import CeremonyConfig, TrusteeKeys
from trustees.messages import (
    Commitments,
    Complaints,
    EncryptedShare,
    Reveal,
    decode_message,
    sign_message,
)


def _one_of_each(config, keys, run):
    out = {type(m): m for m in run.posted}
    reveal = Reveal(config.election, 1, ((2, config.group.scalar(5)), (3, config.group.scalar(6))))
    out[Reveal] = sign_message(reveal, keys[0].ed25519_key())
    return out


def test_round_trip(ceremony):
    config, keys, run = ceremony
    for cls, m in _one_of_each(config, keys, run).items():
        data = m.to_json()
        again = decode_message(data, config.group)
        assert again == m and again.to_json() == data
        assert cls.from_json(data, config.group) == m


def test_from_json_checks_the_kind(ceremony):
    config, _, run = ceremony
    share = next(m for m in run.posted if isinstance(m, EncryptedShare))
    with pytest.raises(DecodeError, match=r"expected a dkg\.commitments"):
        Commitments.from_json(share.to_json(), config.group)


def _mutate(message, config, change):
    value = json.loads(message.to_json())
    change(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


MUTATIONS = {
    "extra field": lambda v: v.update(extra=1),
    "missing field": lambda v: v.pop("signature"),
    "unknown kind": lambda v: v.update(kind="dkg.other"),
    "version": lambda v: v.update(version=2),
    "sender as bool": lambda v: v.update(sender=True),
    "sender zero": lambda v: v.update(sender=0),
    "uppercase hex": lambda v: v.update(signature=v["signature"].upper()),
    "short signature": lambda v: v.update(signature=v["signature"][:-2]),
    "election length": lambda v: v.update(election="00"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_header_mutations_are_decode_errors(ceremony, name):
    config, _, run = ceremony
    with pytest.raises(DecodeError):
        decode_message(_mutate(run.posted[0], config, MUTATIONS[name]), config.group)


def test_body_mutations_are_decode_errors(ceremony):
    config, keys, run = ceremony
    msgs = _one_of_each(config, keys, run)
    bad = [
        (msgs[Commitments], lambda v: v.update(proofs=v["proofs"][:-1])),
        (msgs[Commitments], lambda v: v.update(commitments=[], proofs=[])),
        (msgs[EncryptedShare], lambda v: v.update(ciphertext=v["ciphertext"] + "00")),
        (msgs[EncryptedShare], lambda v: v.update(recipient="1")),
        (msgs[Complaints], lambda v: v.update(complaints=[[2, "rude"]])),
        (msgs[Complaints], lambda v: v.update(complaints=[[3, "missing"], [2, "missing"]])),
        (msgs[Reveal], lambda v: v.update(shares=[])),
        (msgs[Reveal], lambda v: v.update(shares=v["shares"][::-1])),
        (msgs[Reveal], lambda v: v.update(shares=[[2, "ff" * config.group.scalar_bytes]])),
    ]
    for m, change in bad:
        with pytest.raises(DecodeError):
            decode_message(_mutate(m, config, change), config.group)


def test_non_canonical_json_is_refused(ceremony):
    config, _, run = ceremony
    data = run.posted[0].to_json()
    for variant in (data + b" ", b" " + data, data.replace(b'"kind"', b'"kind" ', 1)):
        with pytest.raises(DecodeError):
            decode_message(variant, config.group)


def test_config_round_trip_and_checks(ceremony):
    config, _, _ = ceremony
    data = config.to_json()
    assert CeremonyConfig.from_json(data) == config
    value = json.loads(data)
    value["threshold"] = config.n + 1
    with pytest.raises(DecodeError, match="threshold"):
        CeremonyConfig.from_json_value(value)
    value = json.loads(data)
    value["trustees"] = value["trustees"][::-1]
    with pytest.raises(DecodeError, match="numbered"):
        CeremonyConfig.from_json_value(value)
    value = json.loads(data)
    value["group"]["p"] = value["group"]["p"][:-1] + "0"
    with pytest.raises(DecodeError):
        CeremonyConfig.from_json_value(value)
    with pytest.raises(ValueError):
        TrusteeKeys(0, bytes(32), bytes(32))


@pytest.mark.parametrize(
    "text",
    ["AB" * 32, "ab" * 31, "ab" * 33, "ab" * 31 + "  ", " " + "ab" * 31 + " ", "zz" * 32, 7],
    ids=["uppercase", "short", "long", "trailing spaces", "spaces", "not hex", "not a string"],
)
def test_trustee_keys_take_exactly_32_bytes_of_lowercase_hex(text):
    value = {"index": 1, "x25519": "ab" * 32, "ed25519": text}
    with pytest.raises(DecodeError, match="an Ed25519 key: 32 bytes as 64 lowercase hex"):
        TrusteeKeys.from_json_value(value)
