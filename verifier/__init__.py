"""The observer's verifier: numbered checks over an election record (docs/record.md §7).

`tohyo verify RECORD` runs steps V1–V12 (V13 with auditors' evidence) and prints a report;
`tohyo verify ballot FILE` checks one Benaloh-audited ballot. The package imports only
verification functions and record decoders (an import-linter contract keeps it so).
"""

from verifier.audit import AuditResult, verify_audit
from verifier.record import Record, RecordError, load_record
from verifier.report import Report, StepResult
from verifier.steps import STEPS, Options, verify_record

__all__ = [
    "STEPS",
    "AuditResult",
    "Options",
    "Record",
    "RecordError",
    "Report",
    "StepResult",
    "load_record",
    "verify_audit",
    "verify_record",
]
