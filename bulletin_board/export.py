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
    if not tree_heads or final_head != tree_heads[-1]:
        raise ValueError("the final head is the last of the tree heads, co-signatures and all")
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
    """Write the export of `election` straight from a board's storage (storage must be open).

    `ValueError`, nothing written, unless `board_key_hex` is the key that signed the board's
    last tree head: an export under another key would not verify."""
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
    try:
        verify_tree_head(final, public_key_from_hex(board_key_hex))
    except (DecodeError, VerificationError) as exc:
        raise ValueError(
            f"{board_key_hex[:16]}… is not the key of the board that signed {election!r}'s "
            "tree heads: give the board's own key"
        ) from exc
    write_export(directory, election, board_key_hex, entries, heads, final)
    return final


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        raise DecodeError(f"{path.name}: last line has no newline")
    return data.split(b"\n")[:-1] if data else []


def verify_export(directory: str | Path, board_key_hex: str | None = None) -> SignedTreeHead:
    """Check an export: canonical files, every head signed and matching the entries' prefix
    root, every co-signature valid (those of tree-head.json too), the final head covering all
    entries and equal to the last line of tree-heads.jsonl. Returns the final head."""
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
    lines = _lines(d / "tree-heads.jsonl")
    for line in lines:
        sth = SignedTreeHead.from_json(parse_canonical_json(line))
        verify_tree_head(sth, key)
        for c in sth.cosignatures:
            verify_cosignature(sth, c)
        if sth.election != meta["election"] or sth.tree_size <= previous:
            raise VerificationError("export.tree_heads", "heads out of order or foreign")
        if sth.tree_size > len(log) or log.root(sth.tree_size) != sth.root_hash:
            raise VerificationError("export.tree_head_root", f"head {sth.tree_size} differs")
        previous = sth.tree_size
    final_line = (d / "tree-head.json").read_bytes().rstrip(b"\n")
    final = SignedTreeHead.from_json(parse_canonical_json(final_line))
    verify_tree_head(final, key)
    for c in final.cosignatures:
        verify_cosignature(final, c)
    if final.tree_size != len(log) or final.root_hash != log.root():
        raise VerificationError("export.final_head", "final head does not cover the entries")
    if not lines or final_line != lines[-1]:
        raise VerificationError(
            "export.final_head_line", "tree-head.json is not the last line of tree-heads.jsonl"
        )
    return final
