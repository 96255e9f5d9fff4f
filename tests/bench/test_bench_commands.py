"""Every `tohyo bench …` command parses its own options and runs (tiny sizes; no timing is
asserted, only that the figures are printed)."""

from __future__ import annotations

import pytest

from bench.cli import BENCHMARKS
from tohyo.cli import main


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_has_its_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", name, "--help"])
    assert exited.value.code == 0
    assert "usage: tohyo bench" in capsys.readouterr().out


def test_bench_trustees_takes_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["bench", "trustees", "--group", "tohyo-schnorr-3072-256", "--n", "2", "--reps", "3"])
        == 0
    )
    out = capsys.readouterr().out
    assert "share verification, per ciphertext" in out and "exp. equivalents" in out


def test_bench_tally_prints_its_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from bench.tally import CATEGORIES

    assert (
        main(
            [
                "bench",
                "tally",
                "--n",
                "6",
                "--group",
                "test-schnorr-512-128",
                "--mixers",
                "2",
                "--threshold",
                "2",
                "--processes",
                "1",
                "--json",
                "--no-progress",
                "--generators",
                "ahead",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["bench"] == "tally" and result["verdict"] == "valid"
    assert result["parameters"] | {"n": 6, "mixers": 2, "threshold": 2} == result["parameters"]
    steps = [s["step"] for s in result["steps"]]
    assert list(dict.fromkeys(steps)) == [
        "close + mix input",
        "shuffle 1",
        "shuffle 2",
        "decryption share 1",
        "decryption share 2",
        "result",
        "verification",
    ]
    for row in result["steps"] + result["parties"]:
        assert set(row["split"]) == set(CATEGORIES)
        assert row["wall"] >= 0 and row["cpu"] >= 0
    parties = {p["party"] for p in result["parties"]}
    assert parties == {"admin", "board", "mix-1", "mix-2", "trustee-1", "trustee-2", "verifier"}
    totals = result["totals"]
    assert 0 < totals["close_to_result"] < totals["close_to_verified"]
    assert set(result["verifier_steps"]) >= {"V1", "V10"}
    assert len(result["record_sha256"]) == 64
    assert result["parameters"]["generators"] == "ahead"


@pytest.mark.parametrize("args", [["--group", "no-such-group"], ["--threshold", "4"], ["--n", "1"]])
def test_bench_tally_refuses_bad_options_in_one_line(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "tally", "--no-progress", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tohyo bench") and "\n" not in err


def test_bench_mixnet_prints_one_record_per_configuration_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The schema of `tohyo bench mixnet --json` (the figures behind the README's table): one
    record per group × N × width × processes, every cost a non-negative number, in ms per
    ciphertext and in exponentiation equivalents."""
    import json

    assert (
        main(
            [
                "bench",
                "mixnet",
                "--group",
                "test-safe-256",
                "--group",
                "secp256k1",
                "--n",
                "4",
                "--width",
                "1",
                "--width",
                "2",
                "--processes",
                "1",
                "--json",
                "--quiet",
            ]
        )
        == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert [(r["group"], r["n"], r["width"], r["processes"]) for r in records] == [
        (g, 4, w, 1) for g in ("test-safe-256", "secp256k1") for w in (1, 2)
    ]
    costs = {"powmod_ms", "tables_ms"} | {
        f"{what}_{unit}"
        for what in ("generators", "membership", "prove", "verify")
        for unit in ("ms_per_ct", "eq")
    }
    for r in records:
        assert set(r) == {"group", "n", "width", "processes"} | costs
        assert all(isinstance(r[k], (int, float)) and r[k] >= 0 for k in costs)
        assert r["powmod_ms"] > 0 and r["prove_ms_per_ct"] > 0 and r["verify_ms_per_ct"] > 0
