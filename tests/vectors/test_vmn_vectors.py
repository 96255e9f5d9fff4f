"""Proof directories made by Verificatum's own `vmn` (tests/vectors/vmn/README.md), checked.

For every directory: the values `vmnv -t` printed while accepting it (ρ, the generators h, the
seed s and the challenge v) are re-derived by mixnet.vmn; `tohyo verify vmn` accepts it; and one
changed byte in any file it reads is refused, with the check named. The tampered copies live in
a temporary directory; the vectors are never written.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mixnet.errors import VerificationError
from mixnet.vmn import bytetree as bt
from mixnet.vmn.session import VmnSession, ciphertexts_from_tree
from mixnet.vmn.shuffle import _batch, _Statement
from verifier.vmn import read_protinfo, run_vmn, verify_vmn_directory

VECTORS = Path(__file__).parent / "vmn"
DIRS = sorted(p.name for p in VECTORS.iterdir() if p.is_dir())
SHUFFLES = [d for d in DIRS if "_mix" not in d]
MIXES = [d for d in DIRS if "_mix" in d]

#: File → the checks that may refuse it once a byte changes (the first equation a change reaches).
TAMPER_CHECKS = {
    "proofs/PermutationCommitment01.bt": {"u", "PoS.A"},
    "proofs/PoSCommitment01.bt": {"PoS.commitment", "PoS.A"},
    "proofs/PoSReply01.bt": {"PoS.reply", "PoS.A", "PoS.B", "PoS.C", "PoS.D", "PoS.F"},
    "proofs/Ciphertexts01.bt": {"bas.L_l", "PoS.A"},
    "Ciphertexts.bt": {"bas.L_0", "PoS.A"},
    "ShuffledCiphertexts.bt": {"ShuffledCiphertexts"},
    "FullPublicKey.bt": {"bas.pk", "PoS.A"},
}
#: The same for the decryption files of a mix.
TAMPER_MIX_CHECKS = {
    "proofs/PolynomialInExponent.bt": {"bas.y_l"},
    "proofs/DecryptionFactors01.bt": {"Dec.factors", "Dec.proof"},
    "proofs/DecrFactCommitment01.bt": {"Dec.commitment", "Dec.proof"},
    "proofs/DecrFactReply01.bt": {"Dec.reply", "Dec.proof"},
    "proofs/CorrectIndices.bt": {"Dec.correct"},
    "Plaintexts.bt": {"Plaintexts"},
}


def _test_vectors(name: str) -> dict[str, str]:
    """The blocks of vmnv-testvectors.txt: label → value."""
    text = (VECTORS / name / "vmnv-testvectors.txt").read_text()
    return dict(re.findall(r"TEST VECTOR\n(\S+) - [^\n]*\n([^\n]*)\n", text))


def _element_integers(session: VmnSession, element: object) -> list[int]:
    """An element's integers in the order vmnv prints them: the residue, or x and y of a point."""
    tree = session.vgroup.element_tree(element)  # type: ignore[arg-type]
    if isinstance(tree, bt.Leaf):
        return [int.from_bytes(tree.data, "big")]
    return [int.from_bytes(bt.leaf_data(c), "big") for c in bt.children(tree, 2)]


@pytest.mark.parametrize("name", SHUFFLES)
def test_derived_values_match_vmnv(name: str) -> None:
    directory = VECTORS / name
    expected = _test_vectors(name)
    params = read_protinfo((directory / "protInfo.xml").read_text())
    session = VmnSession(params, (directory / "auxsid").read_text().strip())
    assert session.rho.hex() == expected["der.rho"]
    width = int((directory / "width").read_text())
    inputs = ciphertexts_from_tree(
        session.vgroup, bt.decode((directory / "Ciphertexts.bt").read_bytes()), width
    )
    h = session.generators(len(inputs))
    printed = [int(x, 16) for x in re.findall(r"[0-9a-f]+", expected["bas.h"])]
    assert [i for e in h for i in _element_integers(session, e)] == printed
    outputs = ciphertexts_from_tree(
        session.vgroup, bt.decode((directory / "ShuffledCiphertexts.bt").read_bytes()), width
    )
    pk = session.public_key_from_tree(bt.decode((directory / "FullPublicKey.bt").read_bytes()))
    u_tree = bt.decode((directory / "proofs/PermutationCommitment01.bt").read_bytes())
    seed, _ = _batch(_Statement(session, pk, inputs, outputs), h, u_tree)
    assert seed.hex() == expected["PoS.s"]
    tau = bt.decode((directory / "proofs/PoSCommitment01.bt").read_bytes())
    assert f"{session.challenge(bt.node(bt.Leaf(seed), tau)):x}" == expected["PoS.v"].lstrip("0")


@pytest.mark.parametrize("name", DIRS)
def test_verificatum_proofs_are_accepted(name: str) -> None:
    report = verify_vmn_directory(VECTORS / name)
    group, n, w, mix = re.fullmatch(r"(\w+?)_n(\d+)_w(\d+)(_mix\d?)?", name).groups()  # type: ignore[union-attr]
    parties = int((VECTORS / name / "proofs/activethreshold").read_text())
    assert (report.type, report.ciphertexts, report.width, report.mixers) == (
        "mixing" if mix else "shuffling",
        int(n),
        int(w),
        parties,
    )
    assert ("secp256k1" in report.group) == (group == "secp256k1")


@pytest.mark.parametrize("name", MIXES)
def test_mix_decryption_matches_vmnv(name: str) -> None:
    expected = _test_vectors(name)
    report = verify_vmn_directory(VECTORS / name)
    assert report.decryption is not None
    assert report.decryption.seed.hex() == expected["Dec.s"]
    assert f"{report.decryption.challenge:x}" == expected["Dec.v"].lstrip("0")
    # the plaintexts are vmnd's demo messages: decodable group elements, not the identity
    assert all(e != e.group.identity() for row in report.decryption.plaintexts for e in row)


@pytest.mark.parametrize("file", sorted(TAMPER_MIX_CHECKS))
def test_one_changed_byte_in_a_decryption_file_is_refused(tmp_path: Path, file: str) -> None:
    copy = tmp_path / "mix"
    shutil.copytree(VECTORS / MIXES[0], copy)
    data = bytearray((copy / file).read_bytes())
    data[-1] ^= 0x01
    (copy / file).write_bytes(bytes(data))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check in TAMPER_MIX_CHECKS[file], (info.value.check, info.value.detail)


@pytest.mark.parametrize("name", ["modp2048_n10_w3", "secp256k1_n10_w1"])
@pytest.mark.parametrize("file", sorted(TAMPER_CHECKS))
@pytest.mark.parametrize("where", ["last", "middle"])
def test_one_changed_byte_is_refused(tmp_path: Path, name: str, file: str, where: str) -> None:
    copy = tmp_path / name
    shutil.copytree(VECTORS / name, copy)
    data = bytearray((copy / file).read_bytes())
    index = len(data) - 1 if where == "last" else len(data) // 2
    data[index] ^= 0x01
    (copy / file).write_bytes(bytes(data))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check in TAMPER_CHECKS[file], (info.value.check, info.value.detail)


@pytest.mark.parametrize(
    ("file", "content", "check"),
    [
        ("version", "3.0.4", "par.version"),
        ("type", "mixed", "par.type"),
        ("width", "2", "bas.L_0"),
        ("proofs/activethreshold", "2", "par.lambda"),
        ("auxsid", "default.x", "par.auxsid"),
    ],
)
def test_changed_parameters_are_refused(
    tmp_path: Path, file: str, content: str, check: str
) -> None:
    copy = tmp_path / "d"
    shutil.copytree(VECTORS / "modp2048_n10_w1", copy)
    (copy / file).write_text(content)
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == check


def test_another_session_id_changes_rho_and_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "d"
    shutil.copytree(VECTORS / "secp256k1_n10_w1", copy)
    info_file = copy / "protInfo.xml"
    info_file.write_text(info_file.read_text().replace("<sid>tohyoVectors", "<sid>otherVectors"))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == "PoS.A"


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_vmn([str(VECTORS / "secp256k1_n10_w3")]) == 0
    assert "accepted: 10 ciphertexts of width 3" in capsys.readouterr().out
    copy = tmp_path / "d"
    shutil.copytree(VECTORS / "secp256k1_n10_w3", copy)
    (copy / "ShuffledCiphertexts.bt").write_bytes(
        (VECTORS / "secp256k1_n10_w3" / "Ciphertexts.bt").read_bytes()
    )
    assert run_vmn([str(copy)]) == 1
    assert "REFUSED: ShuffledCiphertexts" in capsys.readouterr().out
    from tohyo.cli import CliError

    with pytest.raises(CliError, match="no such directory"):
        run_vmn([str(tmp_path / "missing")])


@pytest.mark.parametrize("name", ["modp2048_n10_w1", "secp256k1_n10_w1"])
def test_tohyo_writes_the_group_as_vog_does(name: str) -> None:
    # the <pgroup> of these files was written by Verificatum's `vog` from the same parameters
    from mixnet.groups import get_group
    from mixnet.vmn.groups import VmnGroup

    params = read_protinfo((VECTORS / name / "protInfo.xml").read_text())
    group = get_group(name.split("_")[0])
    assert VmnGroup.from_tohyo(group).pgroup_string() == params.pgroup


def test_a_missing_proof_file_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "d"
    shutil.copytree(VECTORS / "modp2048_n10_w1", copy)
    (copy / "type").write_text("mixing")  # a mix needs decryption files this directory lacks
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == "files" and "DecryptionFactors01.bt" in info.value.detail
    (copy / "proofs/PoSReply01.bt").unlink()
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == "files" and "PoSReply01.bt" in info.value.detail


def test_a_changed_reply_of_a_party_beyond_the_threshold_is_refused(tmp_path: Path) -> None:
    # three parties, threshold 2: vmnv combines parties 1 and 2 only and accepts this copy
    # (checked by hand with vmnv 3.1.0); tohyo checks every marked party's own proof too
    copy = tmp_path / "mix3"
    shutil.copytree(VECTORS / "modp2048_n10_w1_mix3", copy)
    reply = copy / "proofs/DecrFactReply03.bt"
    data = bytearray(reply.read_bytes())
    data[-1] ^= 0x01
    reply.write_bytes(bytes(data))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == "Dec.proof.l" and "party 3" in info.value.detail


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda t: '<!DOCTYPE p [<!ENTITY x "y">]>' + t, "document type"),
        (lambda t: t.replace("<statdist>100</statdist>", ""), "exactly one <statdist>"),
        (lambda t: t.replace("<keywidth>1<", "<keywidth>x<"), "not a number"),
        (lambda t: t.replace("<rohash>SHA-256<", "<rohash>MD5<"), "unsupported"),
        (lambda t: t[: len(t) // 2], "not XML"),
    ],
)
def test_bad_protocol_info_is_refused(tmp_path: Path, edit: Any, why: str) -> None:
    copy = tmp_path / "d"
    shutil.copytree(VECTORS / "modp2048_n10_w1", copy)
    info_file = copy / "protInfo.xml"
    info_file.write_text(edit(info_file.read_text()))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == "par" and why in info.value.detail


def test_a_group_tohyo_does_not_share_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "d"
    shutil.copytree(VECTORS / "secp256k1_n10_w1", copy)
    info_file = copy / "protInfo.xml"
    text = info_file.read_text()
    p256 = bt.encode(bt.node(bt.Leaf(b"com.verificatum.arithm.ECqPGroup"), bt.Leaf(b"P-256")))
    old = re.search(r"<pgroup>(.*?)</pgroup>", text).group(1)  # type: ignore[union-attr]
    info_file.write_text(text.replace(old, "ECqPGroup(P-256)::" + p256.hex()))
    with pytest.raises(VerificationError) as info:
        verify_vmn_directory(copy)
    assert info.value.check == "par.s_Gq" and "secp256k1" in info.value.detail
