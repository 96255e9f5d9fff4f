"""A Verificatum proof directory and protocol info file for shuffles proven by tohyo.

(docs/vmn.md §8.) Pure: returns file names and contents; the caller writes them. The directory
is what Verificatum's ``vmn -shuffle`` writes under ``dir/nizkp/AUXSID``, so that
``vmnv -shuffle protInfo.xml DIR`` verifies it. The protocol info file carries what the proofs
depend on; the parties' signature keys and addresses, which only a running ``vmn`` uses, are
left empty or set to placeholder loopback addresses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from mixnet.elgamal import Row
from mixnet.groups.base import Element
from mixnet.vmn.bytetree import encode
from mixnet.vmn.decryption import DecryptionFiles
from mixnet.vmn.session import VMN_VERSION, VmnParams, VmnSession, ciphertexts_tree
from mixnet.vmn.shuffle import PosProof

__all__ = ["SID_PATTERN", "proof_directory", "protinfo_xml"]

#: Verificatum's session identifiers (and auxsids).
SID_PATTERN = r"[A-Za-z][A-Za-z0-9]{1,1023}"


def protinfo_xml(params: VmnParams, width: int, name: str = "tohyo shuffle") -> str:
    """A protocol info file ``vmnv`` accepts for these parameters and ``params.nopart`` parties."""
    if not re.fullmatch(SID_PATTERN, params.sid):
        raise ValueError("a Verificatum session identifier is a letter and 1-1023 letters/digits")
    fields = [
        ("version", params.version),
        ("sid", params.sid),
        ("name", name),
        ("descr", ""),
        ("nopart", str(params.nopart)),
        ("statdist", str(params.statdist)),
        ("bullboard", "com.verificatum.protocol.com.BullBoardBasicHTTPW"),
        ("thres", str(params.thres)),
        ("pgroup", params.pgroup),
        ("keywidth", str(params.keywidth)),
        ("vbitlen", "128"),
        ("vbitlenro", str(params.vbitlenro)),
        ("ebitlen", "128"),
        ("ebitlenro", str(params.ebitlenro)),
        ("prg", params.prg),
        ("rohash", params.rohash),
        ("corr", "noninteractive"),
        ("width", str(width)),
        ("maxciph", "0"),
    ]
    lines = ["<protocol>"]
    lines += [f"   <{k}>{escape(v)}</{k}>" for k, v in fields]
    for party in range(1, params.nopart + 1):
        lines += [
            "   <party>",
            f"      <name>Party{party:02d}</name>",
            "      <srtbyrole>anyrole</srtbyrole>",
            "      <descr></descr>",
            "      <pkey></pkey>",
            f"      <http>http://127.0.0.1:{8040 + party}</http>",
            f"      <hint>127.0.0.1:{4040 + party}</hint>",
            "   </party>",
        ]
    lines.append("</protocol>")
    return "\n".join(lines) + "\n"


def proof_directory(
    session: VmnSession,
    pk: Element,
    inputs: Sequence[Row],
    mixes: Sequence[tuple[Sequence[Row], PosProof]],
    decryption: DecryptionFiles | None = None,
) -> dict[str, bytes]:
    """Relative path → bytes of a proof directory: one (output, proof) per mixer; with
    `decryption`, a ``mixing`` directory (the mix and the joint decryption of its output)."""
    if not mixes:
        raise ValueError("a proof directory needs at least one mixer")
    width = len(inputs[0])
    vg = session.vgroup
    files = {
        "version": VMN_VERSION.encode(),
        "type": b"shuffling" if decryption is None else b"mixing",
        "auxsid": session.auxsid.encode(),
        "width": str(width).encode(),
        "FullPublicKey.bt": encode(session.public_key_tree(pk)),
        "Ciphertexts.bt": encode(ciphertexts_tree(vg, inputs, width)),
        "proofs/activethreshold": str(len(mixes)).encode(),
    }
    for party, (outputs, proof) in enumerate(mixes, start=1):
        files[f"proofs/Ciphertexts{party:02d}.bt"] = encode(ciphertexts_tree(vg, outputs, width))
        files[f"proofs/PermutationCommitment{party:02d}.bt"] = proof.permutation_commitment
        files[f"proofs/PoSCommitment{party:02d}.bt"] = proof.commitment
        files[f"proofs/PoSReply{party:02d}.bt"] = proof.reply
    if decryption is None:
        files["ShuffledCiphertexts.bt"] = encode(ciphertexts_tree(vg, mixes[-1][0], width))
        return files
    files["proofs/PolynomialInExponent.bt"] = decryption.polynomial
    files["proofs/CorrectIndices.bt"] = decryption.correct
    files["Plaintexts.bt"] = decryption.plaintexts
    for party in range(1, len(decryption.factors) + 1):
        files[f"proofs/DecryptionFactors{party:02d}.bt"] = decryption.factors[party - 1]
        files[f"proofs/DecrFactCommitment{party:02d}.bt"] = decryption.commitments[party - 1]
        files[f"proofs/DecrFactReply{party:02d}.bt"] = decryption.replies[party - 1]
    return files
