"""Offline trustee duties: exactly the inputs in, exactly the outputs back (docs/trustees.md §7).

A trustee whose secrets never touch a networked machine works from files:

1. On the networked side, `export_dkg_input` (or `export_decryption_input`) writes a bundle:
   canonical JSON holding the ceremony config and every posted message the duty needs.
2. On the offline machine, `run_dkg_offline` / `run_decryption_offline` read the bundle and
   the trustee's secrets and return the output bundle (plus, for the DKG, the updated secrets
   to save in the keystore *before* the outputs are posted).
3. Back on the networked side, `read_dkg_output` / `read_decryption_output` return the messages
   to post.

The offline step drives the same `DkgTrustee` state machine with the same posted messages as
the online path, so both give the same messages and the same outcome. A DKG takes a trip per
round the administrator opens (dealing; complaints; answers; …; the final share): the input
holds the posted messages and the administrator's round closes (`{"close": r}`) in board
order. Bundles are checked like any outside input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from election.entries import decode_contest_lists
from mixnet.elgamal import Row, row_to_json
from mixnet.encoding import bytes_from_hex, canonical_json, parse_canonical_json
from mixnet.errors import DecodeError
from mixnet.rng import RandomSource
from trustees.config import CeremonyConfig, _index
from trustees.decryption import DecryptionShare, make_share, share_entry_body
from trustees.dkg import (
    DkgOutcome,
    DkgTrustee,
    Event,
    KeyShare,
    Phase,
    RoundClose,
    derive_public_outcome,
)
from trustees.errors import LocalProtocolError
from trustees.messages import DkgMessage, decode_message
from trustees.private import TrusteeSecrets

__all__ = [
    "BUNDLE_FORMAT",
    "decryption_entry_body",
    "export_decryption_input",
    "export_dkg_input",
    "key_share_from_secrets",
    "read_decryption_output",
    "read_dkg_output",
    "run_decryption_offline",
    "run_dkg_offline",
]

BUNDLE_FORMAT = "tohyo-trustee-bundle"
BUNDLE_VERSION = 1
_MAX_BUNDLE = 1 << 31


def _bundle(duty: str, trustee: int, **fields: Any) -> bytes:
    return canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "duty": duty,
            "trustee": trustee,
            **fields,
        }
    )


def _read(data: bytes, duty: str, fields: set[str]) -> dict[str, Any]:
    doc = parse_canonical_json(data, max_bytes=_MAX_BUNDLE)
    expected = {"format", "version", "duty", "trustee"} | fields
    if not isinstance(doc, dict) or set(doc) != expected:
        raise DecodeError(f"a {duty} bundle has exactly {sorted(expected)}")
    if doc["format"] != BUNDLE_FORMAT or doc["version"] != BUNDLE_VERSION:
        raise DecodeError("not a version-1 tohyo trustee bundle")
    if doc["duty"] != duty:
        raise DecodeError(f"expected a {duty} bundle, got {doc['duty']!r}")
    _index(doc["trustee"], "trustee")
    return doc


def _messages(value: object, config: CeremonyConfig) -> list[DkgMessage]:
    if not isinstance(value, list):
        raise DecodeError("messages is a list")
    return [decode_message(m, config.group) for m in value]


def _events(value: object, config: CeremonyConfig) -> list[Event]:
    """Posted messages and round closes ({"close": r}) in board order."""
    if not isinstance(value, list):
        raise DecodeError("messages is a list")
    out: list[Event] = []
    for item in value:
        if isinstance(item, dict) and set(item) == {"close"}:
            if type(item["close"]) is not int:
                raise DecodeError('a round close is {"close": r}')
            out.append(RoundClose(item["close"]))
        else:
            out.append(decode_message(item, config.group))
    return out


def _events_json(events: Sequence[Event]) -> list[Any]:
    return [{"close": e.round} if isinstance(e, RoundClose) else e.to_json_value() for e in events]


def _check_secrets(secrets: TrusteeSecrets, config: CeremonyConfig, trustee: int) -> None:
    if secrets.trustee != trustee:
        raise LocalProtocolError(f"these are trustee {secrets.trustee}'s secrets, not {trustee}'s")
    if secrets.election != config.election or secrets.group != config.group.name:
        raise LocalProtocolError("these secrets belong to another election or group")


# ---------------------------------------------------------------- key generation


def export_dkg_input(
    config: CeremonyConfig,
    trustee: int,
    posted: Sequence[Event],
) -> bytes:
    """The bundle for trustee `trustee`'s next DKG step: config, all posted DKG messages and
    the administrator's round closes."""
    config.keys(trustee)
    return _bundle(
        "dkg",
        trustee,
        config=config.to_json_value(),
        messages=_events_json(posted),
    )


def _outcome_json(outcome: DkgOutcome, trustee: int) -> dict[str, Any]:
    return {
        "pk": outcome.pk.to_hex(),
        "verification_key": outcome.verification_keys[trustee].to_hex(),
        "qualified": list(outcome.qualified),
        "disqualified": [[i, r] for i, r in sorted(outcome.disqualified.items())],
    }


def run_dkg_offline(
    bundle: bytes, secrets: TrusteeSecrets, rng: RandomSource
) -> tuple[bytes, TrusteeSecrets]:
    """One offline DKG step. Returns (output bundle, secrets to save before posting)."""
    doc = _read(bundle, "dkg", {"config", "messages"})
    config = CeremonyConfig.from_json_value(doc["config"])
    trustee = doc["trustee"]
    _check_secrets(secrets, config, trustee)
    if secrets.share is not None:
        raise LocalProtocolError("this trustee's key ceremony is already finished")
    machine = DkgTrustee(config, trustee, secrets.keys, rng, secrets.polynomial_object())
    events = _events(doc["messages"], config)
    before = [m.slot for m in events if not isinstance(m, RoundClose)]
    out: list[DkgMessage] = []
    for event in events:
        out += machine.feed(event)
    out += machine.start()
    out = [m for m in out if m.slot not in before]
    assert machine.polynomial is not None
    new = dataclasses.replace(
        secrets, polynomial=tuple(a.value for a in machine.polynomial.coefficients)
    )
    outcome: dict[str, Any] | None = None
    problem: str | None = None
    if machine.phase is Phase.DONE:
        outcome = _outcome_json(machine.outcome, trustee)
        problem = machine.share_problem
        if machine.key_share is not None:
            new = dataclasses.replace(new, polynomial=None, share=machine.key_share.secret.value)
    data = _bundle(
        "dkg-output",
        trustee,
        election=config.election.hex(),
        messages=[m.to_json_value() for m in out],
        outcome=outcome,
        problem=problem,
    )
    return data, new


def read_dkg_output(data: bytes, config: CeremonyConfig) -> list[DkgMessage]:
    """The messages an offline DKG step asks to post (checked to come from that trustee)."""
    doc = _read(data, "dkg-output", {"election", "messages", "outcome", "problem"})
    if bytes_from_hex(doc["election"], 32, "the election") != config.election:
        raise DecodeError("output bundle of another election")
    messages = _messages(doc["messages"], config)
    if any(m.sender != doc["trustee"] for m in messages):
        raise DecodeError("an output bundle holds only its trustee's messages")
    return messages


# ---------------------------------------------------------------- decryption


def key_share_from_secrets(secrets: TrusteeSecrets, outcome: DkgOutcome) -> KeyShare:
    """x_j from the keystore, checked against the public X_j."""
    if secrets.share is None:
        raise LocalProtocolError("the keystore holds no key share (ceremony not finished)")
    group = secrets.group_object()
    x = group.scalar(secrets.share)
    if group.generator() ** x != outcome.verification_keys[secrets.trustee]:
        raise LocalProtocolError("the stored key share does not match the public X_j")
    return KeyShare(secrets.trustee, x, outcome)


def export_decryption_input(
    config: CeremonyConfig,
    trustee: int,
    dkg_messages: Sequence[Event],
    lists: Sequence[tuple[str, Sequence[Row]]],
) -> bytes:
    """The bundle for a decryption share: config, the DKG record (for X_j) and the last
    shuffle's lists, one per contest."""
    config.keys(trustee)
    return _bundle(
        "decrypt",
        trustee,
        config=config.to_json_value(),
        dkg_messages=_events_json(dkg_messages),
        lists=[{"contest": c, "rows": [row_to_json(r) for r in rows]} for c, rows in lists],
    )


def run_decryption_offline(bundle: bytes, secrets: TrusteeSecrets, rng: RandomSource) -> bytes:
    """Compute the decryption shares (one per contest list) offline; the output bundle."""
    doc = _read(bundle, "decrypt", {"config", "dkg_messages", "lists"})
    config = CeremonyConfig.from_json_value(doc["config"])
    _check_secrets(secrets, config, doc["trustee"])
    outcome = derive_public_outcome(_events(doc["dkg_messages"], config), config)
    lists = decode_contest_lists(config.group, doc["lists"])
    key_share = key_share_from_secrets(secrets, outcome)
    shares = [
        {
            "contest": contest,
            "share": make_share(key_share, rows, election=config.election, rng=rng).to_json_value(),
        }
        for contest, rows in lists
    ]
    return _bundle("decrypt-output", doc["trustee"], shares=shares)


def read_decryption_output(
    data: bytes, config: CeremonyConfig
) -> list[tuple[str, DecryptionShare]]:
    """The output bundle's shares, (contest id, share) per contest list."""
    doc = _read(data, "decrypt-output", {"shares"})
    if not isinstance(doc["shares"], list) or any(
        not isinstance(p, dict) or set(p) != {"contest", "share"} for p in doc["shares"]
    ):
        raise DecodeError("shares is a list of {contest, share}")
    out = []
    for p in doc["shares"]:
        share = DecryptionShare.from_json_value(p["share"], config.group)
        if share.trustee != doc["trustee"] or share.election != config.election:
            raise DecodeError("the share is not this trustee's for this election")
        out.append((str(p["contest"]), share))
    return out


def decryption_entry_body(data: bytes, config: CeremonyConfig) -> dict[str, Any]:
    """The `decryption_share` entry body an output bundle stands for (`share_entry_body`)."""
    shares = read_decryption_output(data, config)
    return share_entry_body(shares[0][1].trustee if shares else 0, shares)
