"""`tohyo verify vmn DIR [PROTINFO]`: verify a proof directory made by Verificatum (docs/vmn.md §7).

DIR is what Verificatum's ``vmn`` writes under ``dir/nizkp/AUXSID`` (files ``version``, ``type``,
``auxsid``, ``width``, ``FullPublicKey.bt``, ``Ciphertexts.bt``, ``ShuffledCiphertexts.bt`` or
``Plaintexts.bt``, and ``proofs/``); PROTINFO is the session's protocol info file (default
DIR/protInfo.xml). The reading happens here; every check is in `mixnet.vmn`.

Checks, named as ``vmnv -t`` names the values they concern: ``par.version``, ``par.type``,
``par.omega`` (width), ``par.lambda`` (active threshold), ``bas.pk``, ``bas.L_0`` (input list),
``bas.L_l`` (a mixer's output), ``u`` (permutation commitment), ``PoS.commitment``,
``PoS.reply``, ``PoS.A`` … ``PoS.F`` (the proof's equations), ``ShuffledCiphertexts`` (the
final list is the last mixer's output); for mixing and decryption, ``bas.y_l`` (the polynomial
in the exponent), ``Dec.correct``, ``Dec.factors``, ``Dec.commitment``, ``Dec.reply``,
``Dec.proof`` (the combined proof of decryption), ``Dec.proof.l`` (a party's own) and
``Plaintexts``. Unlike ``vmnv``, which
replaces a failed mixer's output by its input and accepts while enough proofs hold, tohyo
refuses any failed proof.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mixnet.errors import DecodeError, VerificationError
from mixnet.rng import system_random
from mixnet.vmn.bytetree import decode
from mixnet.vmn.decryption import DecryptionFiles, DecryptionResult, verify_decryption
from mixnet.vmn.groups import parse_pgroup
from mixnet.vmn.session import VMN_VERSION, VmnParams, VmnSession, ciphertexts_from_tree
from mixnet.vmn.shuffle import PosProof, verify

__all__ = ["VmnReport", "read_protinfo", "verify_vmn_directory"]

#: Protocol info fields read, with their types.
_INT_FIELDS: Final = ("statdist", "vbitlenro", "ebitlenro", "nopart", "thres", "keywidth")
_STR_FIELDS: Final = ("version", "sid", "prg", "pgroup", "rohash")
#: A proof directory's small files are short; nothing larger is read as text.
_MAX_TEXT: Final = 1 << 20


@dataclass(frozen=True)
class VmnReport:
    type: str
    auxsid: str
    width: int
    group: str
    ciphertexts: int
    mixers: int
    decryption: DecryptionResult | None = None  # mixing and decryption proofs


def read_protinfo(text: str) -> VmnParams:
    """The proof-relevant fields of a protocol info file (no DTDs, no entities)."""
    if "<!" in text.replace("<!--", ""):
        raise DecodeError("protocol info: document type declarations are refused")
    try:
        # no DTD got this far, so no entity can expand; expat never fetches external ones
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError as exc:
        raise DecodeError(f"protocol info is not XML: {exc}") from exc
    if root.tag != "protocol":
        raise DecodeError("protocol info: the root element is not <protocol>")
    values: dict[str, str] = {}
    for name in (*_INT_FIELDS, *_STR_FIELDS):
        found = root.findall(name)
        if len(found) != 1 or found[0].text is None:
            raise DecodeError(f"protocol info: exactly one <{name}> is needed")
        values[name] = found[0].text.strip()
    ints: dict[str, int] = {}
    for name in _INT_FIELDS:
        if not re.fullmatch(r"[0-9]{1,9}", values[name]):
            raise DecodeError(f"protocol info: <{name}> is not a number")
        ints[name] = int(values[name])
    return VmnParams(
        sid=values["sid"],
        version=values["version"],
        prg=values["prg"],
        pgroup=values["pgroup"],
        rohash=values["rohash"],
        **ints,
    )


def _text(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_TEXT + 1)
    except OSError as exc:
        raise DecodeError(f"{path.name}: {exc.strerror}") from exc
    if len(data) > _MAX_TEXT:
        raise DecodeError(f"{path.name}: too large")
    return data.decode("utf-8", "strict").strip()


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerificationError("files", f"{path.name}: {exc.strerror}") from exc


def _named(check: str, what: str) -> VerificationError:
    return VerificationError(check, what)


def verify_vmn_directory(directory: Path, protinfo: Path | None = None) -> VmnReport:
    """Verify a Verificatum proof directory (shuffling, mixing or decryption); raise
    `VerificationError` naming the failed check."""
    try:
        params = read_protinfo(_text(protinfo or directory / "protInfo.xml"))
    except (DecodeError, UnicodeDecodeError) as exc:
        raise _named("par", f"protocol info: {exc}") from exc

    def small(name: str, check: str) -> str:
        try:
            return _text(directory / name)
        except (DecodeError, UnicodeDecodeError) as exc:
            raise _named(check, str(exc)) from exc

    version = small("version", "par.version")
    if version != VMN_VERSION or params.version != VMN_VERSION:
        raise _named("par.version", f"expected {VMN_VERSION}, found {version}/{params.version}")
    kind = small("type", "par.type")
    if kind not in ("shuffling", "mixing", "decryption"):
        raise _named("par.type", f"unknown type of proof {kind!r}")
    auxsid = small("auxsid", "par.auxsid")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,1023}", auxsid):
        raise _named("par.auxsid", "not a Verificatum session identifier")
    width_text = small("width", "par.omega")
    if not re.fullmatch(r"[1-9][0-9]{0,3}", width_text):
        raise _named("par.omega", "width is not a positive number")
    width = int(width_text)
    proofs = directory / "proofs"
    active_text = small("proofs/activethreshold", "par.lambda")
    if not re.fullmatch(r"[1-9][0-9]?", active_text):
        raise _named("par.lambda", "active threshold is not a positive number")
    active = int(active_text)
    if not params.thres <= active <= params.nopart:
        raise _named("par.lambda", "active threshold outside [threshold, number of parties]")
    try:
        parse_pgroup(params.pgroup)
    except (DecodeError, ValueError) as exc:
        raise _named("par.s_Gq", str(exc)) from exc
    try:
        session = VmnSession(params, auxsid)
    except (DecodeError, ValueError) as exc:  # hash or PRG, bit lengths, key width
        raise _named("par", str(exc)) from exc
    vg = session.vgroup

    def load_list(path: Path, check: str, count: int | None = None) -> list:  # type: ignore[type-arg]
        try:
            return ciphertexts_from_tree(vg, decode(_bytes(path)), width, count)
        except DecodeError as exc:
            raise _named(check, f"{path.name}: {exc}") from exc

    try:
        pk = session.public_key_from_tree(decode(_bytes(directory / "FullPublicKey.bt")))
    except DecodeError as exc:
        raise _named("bas.pk", str(exc)) from exc
    current = load_list(directory / "Ciphertexts.bt", "bas.L_0")
    n = len(current)
    for party in range(1, active + 1 if kind != "decryption" else 1):
        out_path = proofs / f"Ciphertexts{party:02d}.bt"
        if party == active and not out_path.exists():
            out_path = directory / "ShuffledCiphertexts.bt"
        output = load_list(out_path, "bas.L_l", n)
        proof = PosProof(
            _bytes(proofs / f"PermutationCommitment{party:02d}.bt"),
            _bytes(proofs / f"PoSCommitment{party:02d}.bt"),
            _bytes(proofs / f"PoSReply{party:02d}.bt"),
        )
        try:
            verify(session, pk, current, output, proof, system_random)
        except VerificationError as exc:
            raise _named(exc.check, f"mixer {party}: {exc.detail}") from exc
        current = output
    if kind == "shuffling":
        final = load_list(directory / "ShuffledCiphertexts.bt", "ShuffledCiphertexts", n)
        if final != current:
            raise _named("ShuffledCiphertexts", "the final list is not the last mixer's output")
        return VmnReport(kind, auxsid, width, vg.human(), n, active)
    k = params.nopart
    files = DecryptionFiles(
        polynomial=_bytes(proofs / "PolynomialInExponent.bt"),
        factors=[_bytes(proofs / f"DecryptionFactors{j:02d}.bt") for j in range(1, k + 1)],
        commitments=[_bytes(proofs / f"DecrFactCommitment{j:02d}.bt") for j in range(1, k + 1)],
        replies=[_bytes(proofs / f"DecrFactReply{j:02d}.bt") for j in range(1, k + 1)],
        correct=_bytes(proofs / "CorrectIndices.bt"),
        plaintexts=_bytes(directory / "Plaintexts.bt"),
    )
    result = verify_decryption(session, pk, k, params.thres, current, files)
    mixers = active if kind == "mixing" else 0
    return VmnReport(kind, auxsid, width, vg.human(), n, mixers, result)


def run_vmn(arguments: list[str]) -> int:
    """The CLI's `tohyo verify vmn DIR [PROTINFO]`: 0 valid, 1 refused, 2 usage."""
    from tohyo.cli import CliError

    if not 1 <= len(arguments) <= 2:
        raise CliError("usage: tohyo verify vmn DIR [PROTINFO]")
    directory = Path(arguments[0])
    if not directory.is_dir():
        raise CliError(f"{directory}: no such directory")
    protinfo = Path(arguments[1]) if len(arguments) == 2 else None
    try:
        report = verify_vmn_directory(directory, protinfo)
    except VerificationError as exc:
        print(f"VMN PROOF REFUSED: {exc.check}: {exc.detail}")
        return 1
    print(
        f"Verificatum proof of {report.type} accepted: {report.ciphertexts} ciphertexts of "
        f"width {report.width} in {report.group}, {report.mixers} mixer(s), "
        f"auxsid {report.auxsid}"
    )
    return 0


__all__ += ["run_vmn"]
