"""Files between the networked machine and an offline one (docs/trustees.md §7.1).

The networked side writes a *transfer input*: the election id, the author id the entries
will be posted under, the duty, and the duty's bundle (`trustees.offline` for the key
ceremony and decryption; `export_mix_input` here for mixing). The offline side runs the duty,
signs the resulting board entries with the key in its keystore and writes a *transfer
output*: the duty's output bundle and the signed entries. The networked side checks that the
entries are exactly the bundle's messages, signed by that author, and posts them.

    {"format": "tohyo-trustee-transfer", "version": 1, "direction": "in" | "out",
     "election": E, "author": A, "duty": "dkg" | "decrypt" | "mix",
     "bundle": …, "entries": [signed envelope, …]}        ("entries" only in outputs)

Everything is canonical JSON and decoded strictly. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from bulletin_board.entry import Envelope, decode_envelope
from election.entries import decode_contest_lists
from mixnet import elgamal
from mixnet.encoding import bytes_from_hex, canonical_json, parse_canonical_json
from mixnet.errors import DecodeError
from mixnet.groups import Element, group_from_description
from mixnet.rng import RandomSource, system_random
from trustees.config import _index
from trustees.mixer import Lists, mix, verify_chain

__all__ = [
    "DUTIES",
    "TRANSFER_FORMAT",
    "export_mix_input",
    "read_mix_output",
    "read_transfer",
    "run_mix_offline",
    "transfer_input",
    "transfer_output",
]

TRANSFER_FORMAT = "tohyo-trustee-transfer"
TRANSFER_VERSION = 1
MIX_FORMAT = "tohyo-mix-bundle"
DUTIES = ("dkg", "decrypt", "mix")
_MAX = 1 << 31


def transfer_input(election: str, author: str, duty: str, bundle: bytes) -> bytes:
    if duty not in DUTIES:
        raise ValueError(f"duty is one of {DUTIES}")
    return canonical_json(
        {
            "format": TRANSFER_FORMAT,
            "version": TRANSFER_VERSION,
            "direction": "in",
            "election": election,
            "author": author,
            "duty": duty,
            "bundle": parse_canonical_json(bundle, max_bytes=_MAX),
        }
    )


def transfer_output(
    election: str, author: str, duty: str, bundle: bytes, entries: Sequence[Envelope]
) -> bytes:
    return canonical_json(
        {
            "format": TRANSFER_FORMAT,
            "version": TRANSFER_VERSION,
            "direction": "out",
            "election": election,
            "author": author,
            "duty": duty,
            "bundle": parse_canonical_json(bundle, max_bytes=_MAX),
            "entries": [e.to_json() for e in entries],
        }
    )


def read_transfer(data: bytes, direction: str) -> tuple[str, str, str, bytes, list[Envelope]]:
    """(election, author, duty, bundle bytes, entries) of a transfer file of `direction`."""
    doc = parse_canonical_json(data, max_bytes=_MAX)
    fields = {"format", "version", "direction", "election", "author", "duty", "bundle"}
    if direction == "out":
        fields.add("entries")
    if (
        not isinstance(doc, dict)
        or doc.get("format") != TRANSFER_FORMAT
        or doc.get("version") != TRANSFER_VERSION
    ):
        raise DecodeError("not a version-1 tohyo trustee transfer file")
    if doc.get("direction") != direction:
        raise DecodeError(f"expected a transfer {direction!r} file, got {doc.get('direction')!r}")
    if set(doc) != fields:
        raise DecodeError(f"a transfer file ({direction}) has exactly {sorted(fields)}")
    if doc["duty"] not in DUTIES:
        raise DecodeError(f"duty is one of {DUTIES}")
    for k in ("election", "author"):
        if not isinstance(doc[k], str):
            raise DecodeError(f"{k} is a string")
    entries: list[Envelope] = []
    if direction == "out":
        if not isinstance(doc["entries"], list):
            raise DecodeError("entries is a list")
        entries = [decode_envelope(canonical_json(e)) for e in doc["entries"]]
        for e in entries:
            if e.election != doc["election"] or e.author != doc["author"]:
                raise DecodeError("an entry of another election or author")
    return doc["election"], doc["author"], doc["duty"], canonical_json(doc["bundle"]), entries


# ---------------------------------------------------------------- mixing offline


def export_mix_input(
    pk: Element, fingerprint: bytes, position: int, mix_input: Lists, shuffles: Sequence[Any]
) -> bytes:
    """The bundle for mix server `position`: pk, the mix input's lists (one per contest) and
    the shuffles before it."""
    return canonical_json(
        {
            "format": MIX_FORMAT,
            "version": 1,
            "duty": "mix",
            "position": position,
            "group": pk.group.description(),
            "election": fingerprint.hex(),
            "pk": pk.to_hex(),
            "mix_input": [
                {"contest": c, "rows": [elgamal.row_to_json(r) for r in rows]}
                for c, rows in mix_input
            ],
            "shuffles": list(shuffles),
        }
    )


def _read_mix(data: bytes, duty: str, fields: set[str]) -> dict[str, Any]:
    doc = parse_canonical_json(data, max_bytes=_MAX)
    expected = {"format", "version", "duty", "position", "election"} | fields
    if not isinstance(doc, dict) or set(doc) != expected:
        raise DecodeError(f"a {duty} bundle has exactly {sorted(expected)}")
    if doc["format"] != MIX_FORMAT or doc["version"] != 1 or doc["duty"] != duty:
        raise DecodeError(f"not a version-1 {duty} bundle")
    _index(doc["position"], "position")
    return doc


def run_mix_offline(
    bundle: bytes, *, rng: RandomSource = system_random, executor: Executor | None = None
) -> bytes:
    """Verify every earlier shuffle (raises `ShuffleRejected`), mix; the output bundle."""
    doc = _read_mix(bundle, "mix", {"group", "pk", "mix_input", "shuffles"})
    group = group_from_description(doc["group"])
    fingerprint = bytes_from_hex(doc["election"], 32, "the election fingerprint")
    pk = group.element_from_hex(doc["pk"])
    rows = decode_contest_lists(group, doc["mix_input"])
    if not isinstance(doc["shuffles"], list) or len(doc["shuffles"]) != doc["position"] - 1:
        raise DecodeError("the bundle holds every shuffle before this mix server's")
    current = verify_chain(pk, rows, doc["shuffles"], fingerprint, rng=rng, executor=executor)
    body = mix(pk, current, fingerprint, doc["position"], rng=rng, executor=executor)
    return canonical_json(
        {
            "format": MIX_FORMAT,
            "version": 1,
            "duty": "mix-output",
            "position": doc["position"],
            "election": doc["election"],
            "shuffle": body,
        }
    )


def read_mix_output(data: bytes, fingerprint: bytes) -> tuple[int, dict[str, Any]]:
    """(position, shuffle body) of a mix output bundle for this election."""
    doc = _read_mix(data, "mix-output", {"shuffle"})
    if bytes_from_hex(doc["election"], 32, "the election") != fingerprint:
        raise DecodeError("output bundle of another election")
    body = doc["shuffle"]
    if not isinstance(body, dict) or body.get("position") != doc["position"]:
        raise DecodeError("the shuffle is not at the bundle's position")
    return doc["position"], body
