"""The verifier's report: one result per numbered step (docs/record.md §7), as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAIL", "PASS", "REPORT_FORMAT", "SKIP", "Report", "StepResult"]

REPORT_FORMAT = "tohyo-verify-report/1"
PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass
class StepResult:
    id: str
    title: str
    checked: str
    status: str = PASS
    reason: str = ""
    check: str = ""  # the name of the failed check (e.g. "TW4a …", "entry.signature")
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "checked": self.checked,
            "status": self.status,
            "reason": self.reason,
            "check": self.check,
            "counts": dict(self.counts),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Report:
    election: str = ""
    fingerprint: str = ""
    source: str = ""
    steps: list[StepResult] = field(default_factory=list)
    allow_skips: bool = False

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == FAIL), None)

    @property
    def passed(self) -> bool:
        bad = (FAIL,) if self.allow_skips else (FAIL, SKIP)
        return bool(self.steps) and not any(s.status in bad for s in self.steps)

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)

    def to_json(self) -> dict[str, Any]:
        first = self.first_failure
        return {
            "format": REPORT_FORMAT,
            "election": self.election,
            "fingerprint": self.fingerprint,
            "source": self.source,
            "result": PASS if self.passed else FAIL,
            "first_failure": first.id if first else "",
            "steps": [s.to_json() for s in self.steps],
        }

    def to_text(self) -> str:
        lines = [
            f"tohyo verify: election {self.election or '?'} from {self.source}",
            f"  fingerprint {self.fingerprint or '?'}",
        ]
        for s in self.steps:
            counts = ", ".join(f"{k} {v}" for k, v in s.counts.items())
            tail = f"  ({counts})" if counts else ""
            lines.append(f"{s.id:<4} {s.status.upper():<4}  {s.title}{tail}")
            if s.status != PASS and s.reason:
                lines.append(f"      {s.check + ': ' if s.check else ''}{s.reason}")
            lines.extend(f"      note: {n}" for n in s.notes)
        first = self.first_failure
        if self.passed:
            lines.append(f"RESULT: PASS — all {len(self.steps)} steps passed")
        elif first is not None:
            lines.append(f"RESULT: FAIL — first failing step {first.id} ({first.title})")
        else:
            lines.append("RESULT: FAIL — steps were skipped (incomplete record)")
        return "\n".join(lines)
