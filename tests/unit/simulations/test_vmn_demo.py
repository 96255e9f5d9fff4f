"""`tohyo mix vmn-demo` and mixnet.vmn.export: tohyo shuffles written as Verificatum proof dirs.

Verificatum's own vmnv judging these directories is scripts/vmn-crosscheck.sh (it needs a
Verificatum installation); here tohyo's verifier reads them back, and bad input is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mixnet.errors import VerificationError
from mixnet.vmn.export import protinfo_xml
from mixnet.vmn.groups import VmnGroup
from mixnet.vmn.session import VmnParams
from tohyo.cli import main
from verifier.vmn import read_protinfo, verify_vmn_directory


def test_protinfo_round_trips() -> None:
    from mixnet.groups import get_group

    pgroup = VmnGroup.from_tohyo(get_group("modp2048")).pgroup_string()
    params = VmnParams.tohyo_defaults(pgroup, "tohyoRoundTrip", nopart=3, thres=2)
    text = protinfo_xml(params, width=2)
    assert read_protinfo(text) == params
    assert text.count("<party>") == 3
    with pytest.raises(ValueError, match="session identifier"):
        protinfo_xml(VmnParams(**{**params.__dict__, "sid": "no spaces"}), 1)


@pytest.mark.parametrize(("group", "width"), [("test-safe-256", 2), ("secp256k1", 1)])
def test_demo_directory_verifies(tmp_path: Path, group: str, width: int) -> None:
    out = tmp_path / "out"
    argv = ["mix", "vmn-demo", str(out), "--group", group, "--ciphertexts", "6"]
    argv += ["--width", str(width), "--mixers", "3", "--seed", "demo", "--sid", "tohyoUnit"]
    assert main(argv) == 0
    report = verify_vmn_directory(out)
    assert (report.ciphertexts, report.width, report.mixers) == (6, width, 3)
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"protInfo.xml", "FullPublicKey.bt", "proofs/PoSReply03.bt"} <= names
    # a mixer's proof moved to another mixer's place is refused
    (out / "proofs/PoSReply02.bt").write_bytes((out / "proofs/PoSReply01.bt").read_bytes())
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(out)
    assert info.value.check.startswith("PoS.")


def test_bad_options_and_used_directories_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep").write_text("x")
    assert main(["mix", "vmn-demo", str(used)]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert sorted(p.name for p in used.iterdir()) == ["keep"]
    for option, value in [("--ciphertexts", "0"), ("--mixers", "26"), ("--sid", "9x")]:
        assert main(["mix", "vmn-demo", str(tmp_path / "new"), option, value]) == 2
        assert not (tmp_path / "new").exists()


def test_bench_mixnet_measures_the_vmn_format(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    argv = ["bench", "mixnet", "--proof-format", "vmn", "--group", "test-safe-256"]
    assert main([*argv, "--n", "4", "--width", "2", "--json", "--quiet"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert (record["proof_format"], record["n"], record["width"]) == ("vmn", 4, 2)
    assert record["prove_ms_per_ct"] > 0 and record["verify_ms_per_ct"] > 0
    assert main([*argv, "--processes", "2"]) == 2


@pytest.mark.parametrize(
    ("group", "width", "mixers"), [("test-safe-256", 2, 3), ("secp256k1", 1, 1)]
)
def test_demo_with_decryption_verifies(tmp_path: Path, group: str, width: int, mixers: int) -> None:
    out = tmp_path / "mix"
    argv = ["mix", "vmn-demo", str(out), "--group", group, "--ciphertexts", "5", "--decrypt"]
    assert main([*argv, "--width", str(width), "--mixers", str(mixers), "--seed", "d"]) == 0
    report = verify_vmn_directory(out)
    assert (report.type, report.mixers) == ("mixing", mixers)
    assert report.decryption is not None
    # the demo's messages are below 2^10: every plaintext decodes to one
    decoded = [
        e.group.decode_message(e, 1 << 10) for row in report.decryption.plaintexts for e in row
    ]
    assert len(decoded) == 5 * width
    # party `mixers`'s reply changed: refused by its own proof (and by the combined one for 1)
    reply = out / f"proofs/DecrFactReply{mixers:02d}.bt"
    data = bytearray(reply.read_bytes())
    data[-1] ^= 0x01
    reply.write_bytes(bytes(data))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(out)
    assert info.value.check == ("Dec.proof" if mixers == 1 else "Dec.proof.l")
