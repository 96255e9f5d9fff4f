"""The exported record of one election (docs/board.md §9) and its stand-alone check.

Layout of an export directory:

    board.json        {"format": "tohyo-board-export/1", "election", "board_key", "tree_size",
                       "root_hash"}
    entries.jsonl     entry i (its canonical JSON bytes) on line i + 1, each line ending "\\n"
    tree-heads.jsonl  every tree head the board issued up to tree_size, by size, each with
                      its co-signatures, canonical JSON, one per line
    tree-head.json    the final signed tree head (size tree_size) with its co-signatures

All files are canonical JSON, so an export made from the database (`tohyo board export`) and
one downloaded over HTTP (`BoardClient.export`) are byte-identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bulletin_board.log import (
    Cosignature,
    MerkleLog,
    SignedTreeHead,
    hash_leaf,
    public_key_from_hex,
    verify_cosignature,
    verify_tree_head,
)
from bulletin_board.storage import Storage
from mixnet.encoding import canonical_json, parse_canonical_json
from mixnet.errors import DecodeError, VerificationError

__all__ = ["EXPORT_FORMAT", "export_from_storage", "verify_export", "write_export"]

EXPORT_FORMAT = "tohyo-board-export/1"


def write_export(
    directory: str | Path,
    election: str,
    board_key_hex: str,
    entries: Sequence[bytes],
    tree_heads: Sequence[SignedTreeHead],
    final_head: SignedTreeHead,
) -> None:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    root = MerkleLog(hash_leaf(e) for e in entries).root()
    meta = {
        "format": EXPORT_FORMAT,
        "election": election,
        "board_key": board_key_hex,
        "tree_size": len(entries),
        "root_hash": root.hex(),
    }
    (out / "board.json").write_bytes(canonical_json(meta) + b"\n")
    with (out / "entries.jsonl").open("wb") as f:
        for e in entries:
            f.write(e + b"\n")
    with (out / "tree-heads.jsonl").open("wb") as f:
        for h in tree_heads:
            f.write(canonical_json(h.to_json()) + b"\n")
    (out / "tree-head.json").write_bytes(canonical_json(final_head.to_json()) + b"\n")


async def export_from_storage(
    storage: Storage, election: str, board_key_hex: str, directory: str | Path
) -> SignedTreeHead:
    """Write the export of `election` straight from a board's storage (storage must be open)."""
    size = await storage.size(election)
    if size == 0:
        raise ValueError(f"no election {election!r} in this database")
    entries: list[bytes] = []
    while len(entries) < size:
        entries.extend(await storage.entries(election, len(entries), len(entries) + 5000))
    heads: list[SignedTreeHead] = []
    start = 0
    while True:
        rows = await storage.tree_heads(election, start, 5000)
        if not rows:
            break
        batch = [SignedTreeHead.from_json(parse_canonical_json(r)) for r in rows]
        cos: dict[int, list[Cosignature]] = {}
        for s, signer, sig in await storage.cosignatures_between(
            election, batch[0].tree_size, batch[-1].tree_size
        ):
            cos.setdefault(s, []).append(Cosignature(signer, sig))
        heads.extend(h.with_cosignatures(cos.get(h.tree_size, ())) for h in batch)
        start = batch[-1].tree_size + 1
    heads = [h for h in heads if h.tree_size <= size]
    final = next(h for h in reversed(heads) if h.tree_size == size)
    write_export(directory, election, board_key_hex, entries, heads, final)
    return final


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        raise DecodeError(f"{path.name}: last line has no newline")
    return data.split(b"\n")[:-1] if data else []


def verify_export(directory: str | Path, board_key_hex: str | None = None) -> SignedTreeHead:
    """Check an export: canonical files, every head signed and matching the entries' prefix
    root, co-signatures valid, the final head covering all entries. Returns the final head."""
    d = Path(directory)
    meta = parse_canonical_json((d / "board.json").read_bytes().rstrip(b"\n"))
    if meta.get("format") != EXPORT_FORMAT:
        raise DecodeError("board.json: unknown format")
    if board_key_hex is not None and meta["board_key"] != board_key_hex:
        raise VerificationError("export.board_key", "exported by another board key")
    key = public_key_from_hex(meta["board_key"])
    entries = _lines(d / "entries.jsonl")
    log = MerkleLog()
    for e in entries:
        parse_canonical_json(e)
        log.append(hash_leaf(e))
    if meta["tree_size"] != len(log) or meta["root_hash"] != log.root().hex():
        raise VerificationError("export.root", "board.json does not match the entries")
    previous = 0
    for line in _lines(d / "tree-heads.jsonl"):
        sth = SignedTreeHead.from_json(parse_canonical_json(line))
        verify_tree_head(sth, key)
        for c in sth.cosignatures:
            verify_cosignature(sth, c)
        if sth.election != meta["election"] or sth.tree_size <= previous:
            raise VerificationError("export.tree_heads", "heads out of order or foreign")
        if sth.tree_size > len(log) or log.root(sth.tree_size) != sth.root_hash:
            raise VerificationError("export.tree_head_root", f"head {sth.tree_size} differs")
        previous = sth.tree_size
    final = SignedTreeHead.from_json(
        parse_canonical_json((d / "tree-head.json").read_bytes().rstrip(b"\n"))
    )
    verify_tree_head(final, key)
    if final.tree_size != len(log) or final.root_hash != log.root():
        raise VerificationError("export.final_head", "final head does not cover the entries")
    return final
