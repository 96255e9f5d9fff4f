"""docs/record.md §7.1 lists exactly the check ids `tohyo verify` can report, under their steps.

The ids are read from the code, not typed in here: every string literal that names a check —
the check argument of `StepFailed`, `VerificationError` and `RuleBroken`, a `check=` keyword, a
`getattr(exc, "check", default)` default, a `res.check` assignment and a tuple that starts
with a step's id (a check kept to be reported later) — in the modules whose
failures reach the report (`SOURCES`). A check id is the first word of the check string
(`"TW1 t1·c̄^c = g^s1"` is TW1). A new id in the code fails this test until its line is added
to the table; an id in the table that no code can report fails it too. The step ids come from a
real run of the verifier over a small election record.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

from election_helpers import Election, ElectionRun

from verifier import Options, load_record, verify_record
from verifier.steps import EVIDENCE_STEP, STEPS

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "record.md"

# module -> which of its check ids reach `tohyo verify`'s report (None: all of them)
SOURCES: dict[str, Callable[[str], bool] | None] = {
    "verifier/steps.py": None,  # V1–V12 and the generic `decode`
    "verifier/evidence.py": None,  # V13
    "verifier/audit.py": None,  # `tohyo verify ballot` (A1–A5)
    "election/rules.py": None,  # V4, V8, V12 rules (RuleBroken's check)
    "election/entries.py": None,  # B1, B2 (V8)
    "jpki/registrar.py": None,  # attestation-* (V8)
    "jpki/evidence.py": None,  # E1–E4 (V13)
    "mixnet/shuffle/proof.py": None,  # TW0–TW5 (V10)
    "trustees/decryption.py": None,  # T1, T2 (V11)
    "mixnet/proofs/decryption.py": None,  # D0 (V11)
    "mixnet/proofs/chaum_pedersen.py": None,  # CPB0, CP0–CP2 (V11)
    "bulletin_board/receipt.py": None,  # receipt.* (V6)
    # tree heads (V5, V6) and inclusion proofs (V6); consistency proofs are the mirrors'
    "bulletin_board/log.py": lambda check: check.startswith(("tree_head.", "inclusion.")),
}
CHECK_CALLS = {"StepFailed": 0, "VerificationError": 0, "RuleBroken": 1}


def first_word(node: ast.AST) -> str | None:
    """The check id a literal (or an f-string's literal start) names."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif (
        isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant)
    ):
        text = str(node.values[0].value)
        if len(node.values) > 1 and not any(ch.isspace() for ch in text):
            return None  # "pin.{code}": the id itself is not fixed
    else:
        return None
    words = text.split()
    return words[0] if words else None


def checks_in(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        candidates: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            position = CHECK_CALLS.get(str(name))
            if position is not None and len(node.args) > position:
                candidates.append(node.args[position])
            candidates += [k.value for k in node.keywords if k.arg == "check"]
            if name == "getattr" and len(node.args) == 3:
                attr = node.args[1]
                if isinstance(attr, ast.Constant) and attr.value == "check":
                    candidates.append(node.args[2])
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
            for target in node.targets:
                if isinstance(target, ast.Tuple):
                    for item, value in zip(target.elts, node.value.elts):
                        if isinstance(item, ast.Attribute) and item.attr == "check":
                            candidates.append(value)
        if isinstance(node, ast.Tuple) and node.elts:  # ("V8.voting_period", why), kept for later
            head = node.elts[0]
            if isinstance(head, ast.Constant) and re.fullmatch(r"V\d+\.[a-z_]+", str(head.value)):
                candidates.append(head)
        found.update(w for w in map(first_word, candidates) if w)
    return found


def code_ids() -> set[str]:
    ids: set[str] = set()
    for module, keep in SOURCES.items():
        found = checks_in(ROOT / module)
        assert found, f"{module} names no check: is SOURCES out of date?"
        ids.update(c for c in found if keep is None or keep(c))
    return ids


def doc_table() -> dict[str, set[str]]:
    """§7.1's rows: step id (V1…V13, or `any`, `audit`) -> the ids listed in backticks."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("### 7.1 Check ids")
    section = text[start : text.index("\n## ", start)]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"V\d+|any step|ballot audit \(§9\)", cells[0]):
            rows[cells[0]] = set(re.findall(r"`([^`]+)`", cells[1]))
    assert rows, "no table in §7.1"
    return rows


def test_every_reportable_check_id_is_documented_under_its_step_and_vice_versa() -> None:
    rows = doc_table()
    documented = set().union(*rows.values())
    ids = code_ids()
    missing = sorted(ids - documented)
    assert not missing, f"check ids the code can report but docs/record.md §7.1 lacks: {missing}"
    stale = sorted(documented - ids)
    assert not stale, f"check ids docs/record.md §7.1 lists but no code reports: {stale}"
    for step, listed in rows.items():
        for check in listed:
            prefix = re.match(r"(V\d+)\.", check)
            if prefix:
                assert prefix.group(1) == step, f"{check} is listed under {step}"


def test_the_table_has_one_row_per_step_of_a_real_run(
    election_record: tuple[Election, ElectionRun, Path],
) -> None:
    _, _, record_dir = election_record
    report = verify_record(load_record(record_dir), Options(allow_test_groups=True))
    ran = [s.id for s in report.steps]
    assert report.passed, [(s.id, s.check, s.reason) for s in report.steps]
    assert ran == [step[0] for step in STEPS]
    steps = {*ran, EVIDENCE_STEP[0]}
    rows = doc_table()
    assert {r for r in rows if r.startswith("V")} == steps
    assert "any step" in rows and "ballot audit (§9)" in rows


def test_the_collector_sees_literals_fstrings_keywords_and_defaults(tmp_path: Path) -> None:
    """The collector itself: each form it must read, and what it must not take for an id."""
    module = tmp_path / "m.py"
    module.write_text(
        "raise StepFailed('V1.a', 'x')\n"
        "raise RuleBroken('bad_body', 'V4.b', 'x')\n"
        "raise VerificationError(f'TW9 lengths {n}', 'x')\n"
        "check_members(xs, rng, check='Q0 membership')\n"
        "c = getattr(exc, 'check', 'V6.c')\n"
        "res.status, res.check = FAIL, 'decode'\n"
        "raise VerificationError(f'{check} group', 'x')\n"
        "raise VerificationError(f'pin.{code}', 'x')\n"
        "info.error = ('V8.d', 'late')\n"
        "pair = ('not an id', 'x')\n",
        encoding="utf-8",
    )
    assert checks_in(module) == {"V1.a", "V4.b", "TW9", "Q0", "V6.c", "decode", "V8.d"}


def test_a_used_share_that_fails_is_reported_under_its_own_check(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    """docs/record.md V11: the batch proof's own check, as the spec names it, not a generic
    V11.share (a changed factor changes the challenge, so the first equation, CP1, fails)."""
    from test_verifier_tamper import _doctor, alter_share

    doctor = _doctor(election_record, tmp_path)
    alter_share(doctor)
    report = verify_record(
        load_record(doctor.directory), Options(allow_test_groups=True, progress=False)
    )
    first = report.first_failure
    assert first is not None and first.id == "V11", report.to_text()
    assert first.check.split()[0] == "CP1", first.check


def test_a_non_canonical_entry_fails_v1_alone_and_later_steps_skip(
    election_record: tuple[Election, ElectionRun, Path], tmp_path: Path
) -> None:
    """docs/record.md §7 rule 2–3: V1 hands on no entries when one does not decode, so the
    report names the fault once (V1.entry_decode) and runs nothing on a partial record
    (before, V2–V6 ran on the entries before it and V7 reported the joint key missing)."""
    from test_verifier_tamper import _doctor

    doctor = _doctor(election_record, tmp_path)
    lines = (doctor.directory / "entries.jsonl").read_bytes().splitlines()
    k = next(i for i, line in enumerate(lines) if b'"type":"joint_key"' in line)
    lines[k] = lines[k].replace(b'{"author"', b'{ "author"', 1)  # same value, not canonical
    (doctor.directory / "entries.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    report = verify_record(
        load_record(doctor.directory), Options(allow_test_groups=True, progress=False)
    )
    statuses = {s.id: s.status for s in report.steps}
    assert report.step("V1").check == "V1.entry_decode", report.to_text()
    assert {i: st for i, st in statuses.items() if i != "V1"} == dict.fromkeys(
        [i for i in statuses if i != "V1"], "skip"
    ), report.to_text()
