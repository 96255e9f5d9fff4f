"""The administrator's election definition (TOML) and its translation into a `Manifest`.

The definition is what people edit: dates as dates, one table per contest, keys as hex. It
becomes the signed manifest only through `manifest_from_definition`, which checks everything
and says precisely what is wrong (file, field, why).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee
from mixnet.errors import DecodeError
from mixnet.groups import get_group, production_group

__all__ = ["EXAMPLE", "DefinitionError", "load_definition", "manifest_from_definition"]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tsukuba-2026.toml"


class DefinitionError(ValueError):
    """The definition cannot become a manifest; the message names the field."""


def load_definition(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise DefinitionError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}: not valid TOML: {exc}") from exc


def _get(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise DefinitionError(f"{where}.{key} is missing")
    value = d[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise DefinitionError(f"{where}.{key} has the wrong type")
    return value


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise DefinitionError(f"{where} is empty: fill in the 64-digit hex public key")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise DefinitionError(f"{where} must be 64 lowercase hex digits")
    return value


def _aware(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise DefinitionError(
            f"{where} must be a date-time with an offset, e.g. 2026-12-06T20:00:00+09:00"
        )
    return value


def manifest_from_definition(defn: dict[str, Any], *, allow_test_group: bool = False) -> Manifest:
    """Build and check the manifest. Test groups only with `allow_test_group` (simulations)."""
    try:
        group_name = _get(defn, "group", str, "definition")
        group = get_group(group_name) if allow_test_group else production_group(group_name)
        contests = []
        for i, c in enumerate(_get(defn, "contests", list, "definition")):
            where = f"contests[{i}]"
            options = tuple(
                Option(
                    _get(o, "id", str, f"{where}.options[{j}]"),
                    _get(o, "name", str, f"{where}.options[{j}]"),
                    o.get("reading", ""),
                    o.get("party", ""),
                    o.get("image", ""),
                )
                for j, o in enumerate(_get(c, "options", list, where))
            )
            contests.append(
                Contest(
                    _get(c, "id", str, where),
                    _get(c, "title", str, where),
                    _get(c, "style", str, where),
                    _get(c, "rule", str, where),
                    options,
                    c.get("max_choices", 1),
                    c.get("min_choices", 1),
                    bool(c.get("allow_blank", True)),
                    bool(c.get("allow_ties", False)),
                )
            )
        el = _get(defn, "eligibility", dict, "definition")
        eligibility = Eligibility(
            _get(el, "min_age", int, "eligibility"),
            tuple(_get(el, "areas", list, "eligibility")),
            bool(el.get("voter_roll", False)),
            el.get("voting_codes", "per_voter"),
        )
        trustees = tuple(
            Trustee(
                _get(t, "id", str, f"trustees[{i}]"),
                i + 1,
                _key(t.get("signing_key"), f"trustees[{i}].signing_key"),
                _key(t.get("exchange_key"), f"trustees[{i}].exchange_key"),
            )
            for i, t in enumerate(_get(defn, "trustees", list, "definition"))
        )
        mixers = tuple(
            MixServer(
                _get(m, "id", str, f"mix_servers[{i}]"),
                i + 1,
                _key(m.get("signing_key"), f"mix_servers[{i}].signing_key"),
            )
            for i, m in enumerate(_get(defn, "mix_servers", list, "definition"))
        )
        keys = _get(defn, "keys", dict, "definition")
        day = _get(defn, "election_day", dt.date, "definition")
        return Manifest(
            election_id=_get(defn, "election_id", str, "definition"),
            title=_get(defn, "title", str, "definition"),
            election_day=day,
            voting_start=_aware(defn.get("voting_start"), "voting_start"),
            voting_end=_aware(defn.get("voting_end"), "voting_end"),
            contests=tuple(contests),
            eligibility=eligibility,
            threshold=_get(_get(defn, "threshold", dict, "definition"), "t", int, "threshold"),
            trustees=trustees,
            mix_servers=mixers,
            admin_key=_key(keys.get("admin"), "keys.admin"),
            registrar_key=_key(keys.get("registrar"), "keys.registrar"),
            board_key=_key(keys.get("board"), "keys.board"),
            group=group.description(),
            revote=defn.get("revote", "last_counts"),
        )
    except DecodeError as exc:
        raise DefinitionError(str(exc)) from exc
    except Exception as exc:  # a ParameterError for an unknown or test group
        if isinstance(exc, DefinitionError):
            raise
        raise DefinitionError(str(exc)) from exc
