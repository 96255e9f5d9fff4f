"""Verificatum byte trees (docs/vmn.md §2): the one format of every Verificatum file and hash.

A byte tree is a leaf or a node. A leaf is ``01 ‖ n ‖ data`` with n the number of data bytes;
a node is ``00 ‖ k ‖ child_1 ‖ … ‖ child_k`` with k its number of children; n and k are 4-byte
big-endian unsigned integers below 2^31 (Java's int). Decoding is strict: the whole input is
one tree, nothing follows it, every length fits in what remains, and nesting is bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from mixnet.errors import DecodeError

__all__ = [
    "MAX_DEPTH",
    "ByteTree",
    "Leaf",
    "Node",
    "decode",
    "encode",
    "leaf_int",
    "leaf_str",
]

#: Deeper trees than any Verificatum object (arrays of ciphertexts of width w are 4 deep).
MAX_DEPTH: Final = 16
#: Java arrays are indexed by int: lengths and counts stay below 2^31.
MAX_LENGTH: Final = 2**31 - 1

LEAF_TAG: Final = 1
NODE_TAG: Final = 0


@dataclass(frozen=True, slots=True)
class Leaf:
    data: bytes

    def to_int(self) -> int:
        """A 4-byte leaf read as a Java int (the format of counts and bit lengths)."""
        if len(self.data) != 4:
            raise DecodeError("an integer leaf has 4 bytes")
        return int.from_bytes(self.data, "big", signed=True)


@dataclass(frozen=True, slots=True)
class Node:
    children: tuple[ByteTree, ...]


ByteTree = Leaf | Node


def leaf_int(value: int) -> Leaf:
    """A Java int as a 4-byte leaf (Verificatum's `ByteTree.intToByteTree`)."""
    return Leaf(value.to_bytes(4, "big", signed=True))


def leaf_str(text: str) -> Leaf:
    """A string as the leaf of its UTF-8 bytes."""
    return Leaf(text.encode("utf-8"))


def node(*children: ByteTree) -> Node:
    return Node(tuple(children))


def encode(tree: ByteTree) -> bytes:
    parts: list[bytes] = []
    _encode_into(tree, parts)
    return b"".join(parts)


def _encode_into(tree: ByteTree, parts: list[bytes]) -> None:
    if isinstance(tree, Leaf):
        parts.append(bytes([LEAF_TAG]) + len(tree.data).to_bytes(4, "big"))
        parts.append(tree.data)
        return
    parts.append(bytes([NODE_TAG]) + len(tree.children).to_bytes(4, "big"))
    for child in tree.children:
        _encode_into(child, parts)


def decode(data: bytes) -> ByteTree:
    """The one byte tree that is exactly `data`; `DecodeError` for anything else."""
    view = memoryview(bytes(data))
    tree, end = _decode_at(view, 0, 0)
    if end != len(view):
        raise DecodeError(f"{len(view) - end} bytes follow the byte tree")
    return tree


def _decode_at(view: memoryview, pos: int, depth: int) -> tuple[ByteTree, int]:
    if depth > MAX_DEPTH:
        raise DecodeError("byte tree nested too deeply")
    if pos + 5 > len(view):
        raise DecodeError("byte tree truncated in a header")
    tag = view[pos]
    count = int.from_bytes(view[pos + 1 : pos + 5], "big")
    pos += 5
    if count > MAX_LENGTH:
        raise DecodeError("byte tree length does not fit a Java int")
    if tag == LEAF_TAG:
        if pos + count > len(view):
            raise DecodeError("byte tree leaf longer than its input")
        return Leaf(bytes(view[pos : pos + count])), pos + count
    if tag != NODE_TAG:
        raise DecodeError(f"byte tree tag {tag} is neither leaf (1) nor node (0)")
    if count > len(view) - pos:  # every child takes at least 5 bytes; refuse huge counts early
        raise DecodeError("byte tree node has more children than its input can hold")
    children = []
    for _ in range(count):
        child, pos = _decode_at(view, pos, depth + 1)
        children.append(child)
    return Node(tuple(children)), pos


def children(tree: ByteTree, count: int | None = None, what: str = "node") -> tuple[ByteTree, ...]:
    """The children of a node, refusing a leaf or (with `count`) another number of children."""
    if not isinstance(tree, Node):
        raise DecodeError(f"{what}: expected a node, found a leaf")
    if count is not None and len(tree.children) != count:
        raise DecodeError(f"{what}: expected {count} children, found {len(tree.children)}")
    return tree.children


def leaf_data(tree: ByteTree, what: str = "leaf") -> bytes:
    if not isinstance(tree, Leaf):
        raise DecodeError(f"{what}: expected a leaf, found a node")
    return tree.data


def nodes(items: Sequence[ByteTree]) -> Node:
    return Node(tuple(items))


__all__ += ["children", "leaf_data", "node", "nodes"]
