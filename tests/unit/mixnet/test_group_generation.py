"""The named parameter sets are what docs/protocol.md §1.3–§1.4 publish, with minimal counters.

V3 compares a manifest's group with the published sets and re-derives them from their seeds; it
does not re-run the search, because the counters are fixed by the published sets. Here the
search is re-run from each seed to show that every recorded counter is the first that works,
and the values printed in the docs are compared with the registry's.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import mixnet.groups.ec  # noqa: F401  (registers secp256k1)
from mixnet.errors import ParameterError
from mixnet.groups import ModpGroup, check_generation, get_group
from mixnet.groups.params import (
    _schnorr_candidate,
    generate_safe_prime_group,
    generate_schnorr_group,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"


def modp(name: str) -> ModpGroup:
    group = get_group(name)
    assert isinstance(group, ModpGroup)
    return group


def research(name: str) -> dict[str, object]:
    """The generation record the search finds from the set's own seed."""
    params = modp(name).params
    gen = params.generation
    seed = bytes.fromhex(gen["seed"])
    if params.family == "modp-schnorr":
        found = generate_schnorr_group(name, seed, gen["p_bits"], gen["q_bits"])
    else:
        found = generate_safe_prime_group(name, seed, gen["bits"])
    assert (found.p, found.q, found.g) == (params.p, params.q, params.g)
    return found.generation


@pytest.mark.parametrize("name", ["test-safe-256", "test-schnorr-512-128", "test-schnorr-1024-160"])
def test_test_sets_have_the_first_counter_that_works(name: str) -> None:
    assert research(name) == modp(name).params.generation


@pytest.mark.slow
def test_production_schnorr_set_has_the_first_counter_that_works() -> None:
    """About a minute: 614,781 candidates, most removed by the sieve."""
    assert research("tohyo-schnorr-3072-256") == modp("tohyo-schnorr-3072-256").params.generation


def test_a_later_generator_counter_is_refused() -> None:
    """g from j = 1 is a valid generator, but j = 0 already gave one: V3 refuses the set."""
    params = modp("test-schnorr-512-128").params
    r = (params.p - 1) // (2 * params.q)
    seed = bytes.fromhex(params.generation["seed"])
    g1 = _schnorr_candidate(seed, params.p, 2 * r, 1)
    assert g1 not in (0, 1, params.g)
    later = dataclasses.replace(params, g=g1, generation={**params.generation, "g_counter": 1})
    with pytest.raises(ParameterError, match="g_counter is not the first"):
        check_generation(later)
    check_generation(params)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def block_value(text: str, key: str, after: str) -> str:
    """The hex after `key =` in the first code block following `after`, joined across lines."""
    start = text.index(after)
    block = text[start:].split("```", 2)[1]
    match = re.search(rf"^\s*{key}\s*=\s*([0-9a-f\n ]+?)(?=^\s*\w+\s*=|\Z)", block, re.M | re.S)
    assert match, key
    return re.sub(r"\s", "", match.group(1))


def test_docs_publish_the_production_schnorr_set() -> None:
    text = doc_text()
    group = modp("tohyo-schnorr-3072-256")
    d = group.description()
    gen = d["generation"]
    assert f'"seed": "{gen["seed"]}"' in text
    assert f'"counter": {gen["counter"]}, "g_counter": {gen["g_counter"]}' in text
    assert bytes.fromhex(gen["seed"]).decode() in text
    where = "**`tohyo-schnorr-3072-256`**: `generation`"
    for key in ("q", "p", "g"):
        assert block_value(text, key, where) == d[key], key
    r = (group.params.p - 1) // (2 * group.params.q)
    assert int(block_value(text, "r", where), 16) == r


def test_docs_publish_the_secp256k1_strings() -> None:
    text = doc_text()
    start = text.index("**`secp256k1`**: the description's strings")
    block = text[start:].split("```", 2)[1]
    published = dict(
        (k.strip(), v.strip())
        for k, v in (line.split("=", 1) for line in block.strip().splitlines())
    )
    assert published == get_group("secp256k1").description()


def test_docs_publish_the_test_sets() -> None:
    text = doc_text()
    for name in ("test-safe-256", "test-schnorr-512-128", "test-schnorr-1024-160"):
        gen = modp(name).params.generation
        seed = bytes.fromhex(gen["seed"]).decode()
        entry = re.search(rf"`{name}` \(seed `([^`]+)`[^)]*?, counter (\d+)", text)
        assert entry, name
        assert re.sub(r"\s+", " ", entry.group(1)) == seed
        assert int(entry.group(2)) == gen["counter"]
