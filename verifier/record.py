"""Reading an election record: the board's export directory (docs/record.md §1).

Only file reading and decoding here; every check lives in `verifier.steps`. The layout is the
board's export (docs/board.md §9):

    board.json        {"board_key", "election", "format": "tohyo-board-export/1",
                       "root_hash", "tree_size"}
    entries.jsonl     entry i's canonical JSON bytes on line i + 1
    tree-heads.jsonl  every signed tree head up to tree_size, with co-signatures
    tree-head.json    the final signed tree head
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixnet.encoding import parse_canonical_json
from mixnet.errors import DecodeError

__all__ = ["EXPORT_FORMAT", "Record", "RecordError", "load_record"]

EXPORT_FORMAT = "tohyo-board-export/1"
FILES = ("board.json", "entries.jsonl", "tree-heads.jsonl", "tree-head.json")


class RecordError(Exception):
    """The directory is not a record at all (missing files): a usage error, exit status 2."""


@dataclass(frozen=True)
class Record:
    source: str
    meta: dict[str, Any]
    entries: tuple[bytes, ...]  # canonical JSON bytes, board order
    head_lines: tuple[bytes, ...]  # tree-heads.jsonl, one canonical JSON head per line
    final_head: bytes  # tree-head.json without its newline


def _lines(data: bytes, name: str) -> tuple[bytes, ...]:
    if data and not data.endswith(b"\n"):
        raise DecodeError(f"{name}: the last line has no newline")
    return tuple(data.split(b"\n")[:-1]) if data else ()


def load_record(directory: str | Path) -> Record:
    """Read the four files. `RecordError` if the directory or a file is missing; `DecodeError`
    if board.json is not canonical JSON of the export format (both reported by step V1)."""
    d = Path(directory)
    if not d.is_dir():
        raise RecordError(f"{d}: not a directory")
    missing = [f for f in FILES if not (d / f).is_file()]
    if missing:
        raise RecordError(f"{d}: not a record export, missing {', '.join(missing)}")
    meta_bytes = (d / "board.json").read_bytes()
    meta = parse_canonical_json(meta_bytes.removesuffix(b"\n"))
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        raise DecodeError(f"board.json: not the {EXPORT_FORMAT} format")
    final = (d / "tree-head.json").read_bytes()
    return Record(
        source=str(d),
        meta=meta,
        entries=_lines((d / "entries.jsonl").read_bytes(), "entries.jsonl"),
        head_lines=_lines((d / "tree-heads.jsonl").read_bytes(), "tree-heads.jsonl"),
        final_head=final.removesuffix(b"\n"),
    )
