"""The election manifest: what is being voted on, by whom, with which keys (docs/record.md §2).

The manifest is the board's first entry. Its canonical JSON is hashed (SHA-256 over the TLV of
["tohyo/manifest/v1", manifest]) into the **election fingerprint**, which enters every
signature and every Fiat–Shamir transcript of the election.

Every field is checked when a manifest is built or decoded; decoding refuses unknown fields
and anything that would not re-encode to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from mixnet.encoding import canonical_json, encode
from mixnet.errors import DecodeError, ParameterError
from mixnet.groups import Group, group_from_description, production_group
from trustees.config import CeremonyConfig, TrusteeKeys

__all__ = [
    "BALLOT_STYLES",
    "MANIFEST_VERSION",
    "RULES",
    "Contest",
    "Eligibility",
    "Manifest",
    "MixServer",
    "Option",
    "Trustee",
    "ceremony_config",
]

MANIFEST_VERSION = 1
BALLOT_STYLES = ("public_office", "image", "text")
RULES = ("single", "k_of_n", "ranked")
VOTING_CODE_MODES = ("none", "per_election", "per_voter")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HEX32 = re.compile(r"[0-9a-f]{64}")


def _require(cond: bool, what: str) -> None:
    if not cond:
        raise DecodeError(what)


def _fields(
    data: Any, required: set[str], optional: frozenset[str] | set[str] = frozenset(), what: str = ""
) -> None:
    _require(isinstance(data, dict), f"{what}: expected an object")
    keys = set(data)
    missing = required - keys
    extra = keys - required - optional
    _require(not missing, f"{what}: missing {sorted(missing)}")
    _require(not extra, f"{what}: unknown fields {sorted(extra)}")


def _ident(value: Any, what: str) -> str:
    _require(
        isinstance(value, str) and _ID.fullmatch(value) is not None,
        f"{what}: an id of lowercase letters, digits, '.', '_' or '-'",
    )
    return str(value)


def _text(value: Any, what: str, max_len: int = 200) -> str:
    _require(isinstance(value, str) and 0 < len(value) <= max_len, f"{what}: 1..{max_len} chars")
    return str(value)


def _key(value: Any, what: str) -> str:
    _require(
        isinstance(value, str) and _HEX32.fullmatch(value) is not None,
        f"{what}: a 32-byte key as 64 lowercase hex digits",
    )
    return str(value)


@dataclass(frozen=True)
class Option:
    """One candidate or choice. `reading` is the name in kana (public-office style)."""

    id: str
    name: str
    reading: str = ""
    party: str = ""
    image: str = ""  # a path or URL relative to the election's assets, image style only

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "name": self.name}
        for k in ("reading", "party", "image"):
            if getattr(self, k):
                out[k] = getattr(self, k)
        return out

    @classmethod
    def from_json(cls, data: Any) -> Option:
        _fields(data, {"id", "name"}, {"reading", "party", "image"}, "option")
        return cls(
            _ident(data["id"], "option.id"),
            _text(data["name"], "option.name"),
            _text(data["reading"], "option.reading") if "reading" in data else "",
            _text(data["party"], "option.party") if "party" in data else "",
            _text(data["image"], "option.image", 500) if "image" in data else "",
        )


@dataclass(frozen=True)
class Contest:
    """A question on the ballot and its rule.

    Row layout (docs/record.md §3): slot values are small integers, 0 meaning empty.
    - single: one slot, option index + 1 (0 = blank).
    - k_of_n: `max_choices` slots, distinct option numbers ascending, zeros after.
    - ranked: one slot per option holding its rank 1..n (0 = unranked).
    """

    id: str
    title: str
    style: str
    rule: str
    options: tuple[Option, ...]
    max_choices: int = 1
    min_choices: int = 1
    allow_blank: bool = True
    allow_ties: bool = False

    def __post_init__(self) -> None:
        _require(self.style in BALLOT_STYLES, f"contest {self.id}: style must be {BALLOT_STYLES}")
        _require(self.rule in RULES, f"contest {self.id}: rule must be one of {RULES}")
        _require(len(self.options) >= 1, f"contest {self.id}: at least one option")
        ids = [o.id for o in self.options]
        _require(len(set(ids)) == len(ids), f"contest {self.id}: option ids must differ")
        _require(
            1 <= self.min_choices <= self.max_choices <= len(self.options),
            f"contest {self.id}: need 1 ≤ min_choices ≤ max_choices ≤ options",
        )
        if self.rule == "single":
            _require(self.max_choices == 1, f"contest {self.id}: single choice has max 1")
        if self.style == "image":
            _require(
                all(o.image for o in self.options),
                f"contest {self.id}: every option of an image ballot needs an image",
            )
        _require(
            not self.allow_ties or self.rule == "ranked",
            f"contest {self.id}: ties exist only in ranked contests",
        )

    @property
    def width(self) -> int:
        if self.rule == "single":
            return 1
        if self.rule == "k_of_n":
            return self.max_choices
        return len(self.options)

    @property
    def max_slot_value(self) -> int:
        return len(self.options)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "style": self.style,
            "rule": self.rule,
            "options": [o.to_json() for o in self.options],
            "max_choices": self.max_choices,
            "min_choices": self.min_choices,
            "allow_blank": int(self.allow_blank),
            "allow_ties": int(self.allow_ties),
        }

    @classmethod
    def from_json(cls, data: Any) -> Contest:
        _fields(
            data,
            {
                "id",
                "title",
                "style",
                "rule",
                "options",
                "max_choices",
                "min_choices",
                "allow_blank",
                "allow_ties",
            },
            what="contest",
        )
        _require(isinstance(data["options"], list), "contest.options: a list")
        for k in ("max_choices", "min_choices"):
            _require(isinstance(data[k], int) and not isinstance(data[k], bool), f"contest.{k}")
        for k in ("allow_blank", "allow_ties"):
            _require(data[k] in (0, 1) and not isinstance(data[k], bool), f"contest.{k}: 0 or 1")
        return cls(
            _ident(data["id"], "contest.id"),
            _text(data["title"], "contest.title"),
            data["style"],
            data["rule"],
            tuple(Option.from_json(o) for o in data["options"]),
            data["max_choices"],
            data["min_choices"],
            bool(data["allow_blank"]),
            bool(data["allow_ties"]),
        )


@dataclass(frozen=True)
class Eligibility:
    """Who may vote: minimum age on election day, where they live, how they prove it."""

    min_age: int
    areas: tuple[str, ...]  # prefecture + municipality, e.g. "茨城県つくば市"
    voter_roll: bool = False
    voting_codes: str = "per_voter"

    def __post_init__(self) -> None:
        _require(0 <= self.min_age <= 130, "eligibility.min_age: 0..130")
        _require(len(self.areas) >= 1, "eligibility.areas: at least one")
        _require(
            self.voting_codes in VOTING_CODE_MODES,
            f"eligibility.voting_codes: one of {VOTING_CODE_MODES}",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "min_age": self.min_age,
            "areas": list(self.areas),
            "voter_roll": int(self.voter_roll),
            "voting_codes": self.voting_codes,
        }

    @classmethod
    def from_json(cls, data: Any) -> Eligibility:
        _fields(data, {"min_age", "areas", "voter_roll", "voting_codes"}, what="eligibility")
        _require(isinstance(data["min_age"], int), "eligibility.min_age: an integer")
        _require(isinstance(data["areas"], list), "eligibility.areas: a list")
        _require(data["voter_roll"] in (0, 1), "eligibility.voter_roll: 0 or 1")
        return cls(
            data["min_age"],
            tuple(_text(a, "eligibility.area") for a in data["areas"]),
            bool(data["voter_roll"]),
            data["voting_codes"],
        )


@dataclass(frozen=True)
class Trustee:
    """A key-ceremony trustee: index 1..n, Ed25519 signing key, X25519 key for shares."""

    id: str
    index: int
    signing_key: str
    exchange_key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "index": self.index,
            "signing_key": self.signing_key,
            "exchange_key": self.exchange_key,
        }

    @classmethod
    def from_json(cls, data: Any) -> Trustee:
        _fields(data, {"id", "index", "signing_key", "exchange_key"}, what="trustee")
        _require(isinstance(data["index"], int) and data["index"] >= 1, "trustee.index ≥ 1")
        return cls(
            _ident(data["id"], "trustee.id"),
            data["index"],
            _key(data["signing_key"], "trustee.signing_key"),
            _key(data["exchange_key"], "trustee.exchange_key"),
        )


@dataclass(frozen=True)
class MixServer:
    """Mix server number `position` (1..k, the order of mixing) and its signing key."""

    id: str
    position: int
    signing_key: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, "signing_key": self.signing_key}

    @classmethod
    def from_json(cls, data: Any) -> MixServer:
        _fields(data, {"id", "position", "signing_key"}, what="mix server")
        _require(isinstance(data["position"], int) and data["position"] >= 1, "position ≥ 1")
        return cls(
            _ident(data["id"], "mix.id"),
            data["position"],
            _key(data["signing_key"], "mix.signing_key"),
        )


def _date(value: Any, what: str) -> dt.date:
    _require(isinstance(value, str), f"{what}: YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise DecodeError(f"{what}: YYYY-MM-DD") from exc
    _require(day.isoformat() == value, f"{what}: YYYY-MM-DD")
    return day


def _time(value: Any, what: str) -> dt.datetime:
    _require(isinstance(value, str), f"{what}: an ISO 8601 time with offset")
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise DecodeError(f"{what}: an ISO 8601 time with offset") from exc
    _require(
        t.tzinfo is not None and t.isoformat() == value,
        f"{what}: canonical ISO 8601 with offset, e.g. 2026-12-06T07:00:00+09:00",
    )
    return t


@dataclass(frozen=True)
class Manifest:
    election_id: str
    title: str
    election_day: dt.date
    voting_start: dt.datetime
    voting_end: dt.datetime
    contests: tuple[Contest, ...]
    eligibility: Eligibility
    threshold: int
    trustees: tuple[Trustee, ...]
    mix_servers: tuple[MixServer, ...]
    admin_key: str
    registrar_key: str
    board_key: str
    group: dict[str, Any] = field(hash=False)
    revote: str = "last_counts"
    version: int = MANIFEST_VERSION

    def __post_init__(self) -> None:
        _ident(self.election_id, "election_id")
        _text(self.title, "title")
        _require(self.voting_start < self.voting_end, "voting_start must precede voting_end")
        _require(len(self.contests) >= 1, "at least one contest")
        ids = [c.id for c in self.contests]
        _require(len(set(ids)) == len(ids), "contest ids must differ")
        n = len(self.trustees)
        _require(n >= 1 and 1 <= self.threshold <= n, "need 1 ≤ threshold ≤ number of trustees")
        _require(
            sorted(t.index for t in self.trustees) == list(range(1, n + 1)),
            "trustee indices must be 1..n",
        )
        authors = ["admin", "registrar", *(t.id for t in self.trustees)]
        authors += [m.id for m in self.mix_servers]
        _require(
            len(set(authors)) == len(authors),
            "author ids must differ: every trustee and mix-server id, and neither admin nor"
            " registrar",
        )
        k = len(self.mix_servers)
        _require(
            k >= 1 and sorted(m.position for m in self.mix_servers) == list(range(1, k + 1)),
            "mix-server positions must be 1..k",
        )
        _require(
            self.revote in ("last_counts", "first_counts"), "revote: last_counts or first_counts"
        )
        for what in ("admin_key", "registrar_key", "board_key"):
            _key(getattr(self, what), what)
        _require(self.version == MANIFEST_VERSION, f"unsupported manifest version {self.version}")
        group_from_description(self.group)

    # ---- derived values ----
    def group_object(self) -> Group:
        return group_from_description(self.group)

    def check_production(self) -> None:
        """Refuse a manifest whose group is for tests or benchmarks only."""
        try:
            production_group(self.group["name"])
        except ParameterError as exc:
            raise DecodeError(str(exc)) from exc

    @property
    def width(self) -> int:
        """Ciphertexts per ballot row: the contests' slots side by side, in order."""
        return sum(c.width for c in self.contests)

    def contest_slices(self) -> list[tuple[Contest, slice]]:
        out, start = [], 0
        for c in self.contests:
            out.append((c, slice(start, start + c.width)))
            start += c.width
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "election_id": self.election_id,
            "title": self.title,
            "election_day": self.election_day.isoformat(),
            "voting_start": self.voting_start.isoformat(),
            "voting_end": self.voting_end.isoformat(),
            "contests": [c.to_json() for c in self.contests],
            "eligibility": self.eligibility.to_json(),
            "threshold": self.threshold,
            "trustees": [t.to_json() for t in self.trustees],
            "mix_servers": [m.to_json() for m in self.mix_servers],
            "admin_key": self.admin_key,
            "registrar_key": self.registrar_key,
            "board_key": self.board_key,
            "group": self.group,
            "revote": self.revote,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def fingerprint(self) -> bytes:
        """The election fingerprint: SHA-256(TLV(["tohyo/manifest/v1", manifest JSON]))."""
        return hashlib.sha256(encode(["tohyo/manifest/v1", self.to_json()])).digest()

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        _fields(
            data,
            {
                "version",
                "election_id",
                "title",
                "election_day",
                "voting_start",
                "voting_end",
                "contests",
                "eligibility",
                "threshold",
                "trustees",
                "mix_servers",
                "admin_key",
                "registrar_key",
                "board_key",
                "group",
                "revote",
            },
            what="manifest",
        )
        for k in ("contests", "trustees", "mix_servers"):
            _require(isinstance(data[k], list), f"manifest.{k}: a list")
        _require(isinstance(data["threshold"], int), "manifest.threshold: an integer")
        _require(data["version"] == MANIFEST_VERSION, f"unsupported version {data['version']!r}")
        try:
            return cls(
                election_id=data["election_id"],
                title=data["title"],
                election_day=_date(data["election_day"], "election_day"),
                voting_start=_time(data["voting_start"], "voting_start"),
                voting_end=_time(data["voting_end"], "voting_end"),
                contests=tuple(Contest.from_json(c) for c in data["contests"]),
                eligibility=Eligibility.from_json(data["eligibility"]),
                threshold=data["threshold"],
                trustees=tuple(Trustee.from_json(t) for t in data["trustees"]),
                mix_servers=tuple(MixServer.from_json(m) for m in data["mix_servers"]),
                admin_key=data["admin_key"],
                registrar_key=data["registrar_key"],
                board_key=data["board_key"],
                group=data["group"],
                revote=data["revote"],
            )
        except TypeError as exc:
            raise DecodeError(f"manifest: {exc}") from exc


def ceremony_config(manifest: Manifest, group: Group | None = None) -> CeremonyConfig:
    """The key ceremony's configuration: trustees in index order (a manifest may list them in
    any order). `group`: the manifest's group, if the caller has already decoded it."""
    return CeremonyConfig(
        group if group is not None else manifest.group_object(),
        manifest.fingerprint(),
        manifest.threshold,
        tuple(
            TrusteeKeys(t.index, bytes.fromhex(t.exchange_key), bytes.fromhex(t.signing_key))
            for t in sorted(manifest.trustees, key=lambda t: t.index)
        ),
    )
