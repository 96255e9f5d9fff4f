"""The one canonical encoding of tohyo (docs/protocol.md §2).

Two forms of the same values:

- **Binary TLV** (`encode`), used for every hash: Fiat–Shamir transcripts, entry hashes,
  signatures. Each value is `tag (1 byte) ‖ length (8 bytes, big-endian) ‖ payload`; lists
  carry the count of items as length and the items' encodings as payload. The encoding is
  injective: ("A", "B") and ("AB",) differ.
- **Canonical JSON** (`canonical_json`, `parse_canonical_json`), used for storage and the
  wire: UTF-8, object keys sorted, no insignificant white space, integers only (|n| < 2^53),
  no floats, no duplicate keys. Big numbers (group elements, scalars) travel as fixed-width
  lowercase hex strings. A parser re-encodes what it read and rejects any input that differs,
  so one value has exactly one accepted byte string.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import orjson

from mixnet.errors import DecodeError

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_JSON_INT",
    "MAX_JSON_INT_DIGITS",
    "TAG_BYTES",
    "TAG_ELEMENT",
    "TAG_INT",
    "TAG_LIST",
    "TAG_MAP",
    "TAG_SCALAR",
    "TAG_STR",
    "Encodable",
    "bytes_from_hex",
    "canonical_json",
    "encode",
    "hex_to_int",
    "int_to_hex",
    "parse_canonical_json",
    "parse_if_canonical",
    "parse_json_strict",
]

TAG_BYTES = 0x01
TAG_STR = 0x02
TAG_INT = 0x03
TAG_LIST = 0x04
TAG_ELEMENT = 0x05
TAG_SCALAR = 0x06
TAG_MAP = 0x07

MAX_JSON_INT = 2**53 - 1
MAX_JSON_INT_DIGITS = 16  # len(str(MAX_JSON_INT)): a longer literal is refused unread
MAX_JSON_DEPTH = 64  # arrays and objects nested deeper are refused
_HEX = re.compile("[0-9a-f]*")


@runtime_checkable
class Encodable(Protocol):
    """An object with its own canonical binary form (group elements, scalars, records)."""

    def encode_tlv(self) -> bytes: ...


_header = struct.Struct(">BQ").pack  # tag, length


def _frame(tag: int, payload: bytes, length: int | None = None) -> bytes:
    return _header(tag, len(payload) if length is None else length) + payload


def encode(value: Any) -> bytes:
    """Binary TLV encoding of `value` (bytes, str, int ≥ 0, bool as int, lists, maps, elements)."""
    kind = type(value)  # the plain types first: they are most of every transcript
    if kind is str:
        text: bytes = value.encode("utf-8")
        return _header(TAG_STR, len(text)) + text
    if kind is bytes:
        raw: bytes = value
        return _header(TAG_BYTES, len(raw)) + raw
    if kind is dict or kind is list or kind is tuple:
        return _encode_container(value)
    if kind is int and value >= 0:
        return _frame(TAG_INT, value.to_bytes((value.bit_length() + 7) // 8, "big"))
    method = getattr(value, "encode_tlv", None)
    if method is not None:
        return method()  # type: ignore[no-any-return]
    if isinstance(value, bytes | bytearray | memoryview):
        return _frame(TAG_BYTES, bytes(value))
    if isinstance(value, str):
        return _frame(TAG_STR, value.encode("utf-8"))
    if isinstance(value, bool):
        return _frame(TAG_INT, b"\x01" if value else b"")
    if isinstance(value, int) or type(value).__name__ == "mpz":
        n = int(value)
        if n < 0:
            raise ValueError("the canonical encoding has no negative integers")
        return _frame(TAG_INT, n.to_bytes((n.bit_length() + 7) // 8, "big"))
    if isinstance(value, Mapping | Sequence):
        return _encode_container(value)
    raise TypeError(f"no canonical encoding for {type(value).__name__}")


def _encode_container(value: Mapping[str, Any] | Sequence[Any]) -> bytes:
    if isinstance(value, Mapping):
        keys = sorted(value)
        if not all(isinstance(k, str) for k in keys):
            raise TypeError("map keys must be strings")
        parts = b"".join([encode(k) + encode(value[k]) for k in keys])
        return _frame(TAG_MAP, parts, len(keys))
    return _frame(TAG_LIST, b"".join([encode(v) for v in value]), len(value))


def int_to_hex(value: int, width_bytes: int) -> str:
    """Fixed-width lowercase hex of a non-negative integer (2·width_bytes characters)."""
    if value < 0 or value.bit_length() > 8 * width_bytes:
        raise ValueError("integer does not fit the fixed width")
    return format(value, f"0{2 * width_bytes}x")


def bytes_from_hex(text: object, length: int, what: str = "value") -> bytes:
    """Exactly `length` bytes from lowercase hex; anything else is a `DecodeError`."""
    if not isinstance(text, str) or len(text) != 2 * length or _HEX.fullmatch(text) is None:
        raise DecodeError(f"{what}: {length} bytes as {2 * length} lowercase hex digits")
    return bytes.fromhex(text)


def hex_to_int(text: object, width_bytes: int) -> int:
    """Parse fixed-width lowercase hex; anything else is a `DecodeError`."""
    if not isinstance(text, str) or len(text) != 2 * width_bytes:
        raise DecodeError(f"expected {2 * width_bytes} hex digits")
    if _HEX.fullmatch(text) is None:
        raise DecodeError("hex digits must be lowercase 0-9a-f")
    return int(text, 16)


def _deeper(depth: int) -> int:
    """The depth inside one more array or object; refused beyond MAX_JSON_DEPTH."""
    if depth >= MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return depth + 1


def _check_json_value(value: Any, depth: int = 0) -> None:
    kind = type(value)  # the plain types first
    if kind is str:
        return
    if kind is dict:
        depth = _deeper(depth)
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError("JSON object keys must be strings")
            if type(v) is not str:
                _check_json_value(v, depth)
        return
    if kind is list:
        depth = _deeper(depth)
        for v in value:
            if type(v) is not str:
                _check_json_value(v, depth)
        return
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            raise ValueError("JSON integers are limited to ±(2^53 − 1); use hex strings")
        return
    if isinstance(value, float):
        raise ValueError("floats have no canonical JSON form here")
    if isinstance(value, Mapping):
        depth = _deeper(depth)
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("JSON object keys must be strings")
            _check_json_value(v, depth)
        return
    if isinstance(value, list | tuple):
        depth = _deeper(depth)
        for v in value:
            _check_json_value(v, depth)
        return
    raise TypeError(f"{type(value).__name__} has no JSON form")


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of a JSON-compatible value."""
    _check_json_value(value)
    # orjson writes what `json.dumps(value, sort_keys=True, separators=(",", ":"),
    # ensure_ascii=False).encode()` writes, byte for byte (tests/unit/mixnet), several times
    # faster; it refuses a str that is not valid Unicode, as the UTF-8 encoding would
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DecodeError(f"duplicate JSON key {k!r}")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not allowed in canonical JSON")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise DecodeError(f"JSON integers have at most {MAX_JSON_INT_DIGITS} digits")
    return int(text)


def parse_json_strict(data: bytes, *, max_bytes: int | None = None) -> Any:
    """Parse UTF-8 JSON with no duplicate keys, floats or NaN, no integer literal longer than
    MAX_JSON_INT_DIGITS or beyond ±MAX_JSON_INT, nothing nested deeper than MAX_JSON_DEPTH;
    any fault is a `DecodeError`.

    It does not demand canonical form; `parse_canonical_json` does.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise DecodeError(f"document larger than {max_bytes} bytes")
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_float=lambda s: _reject_constant("a float"),
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
        _check_json_value(value)
    except UnicodeDecodeError as exc:
        raise DecodeError("not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc.msg} at {exc.pos}") from exc
    except RecursionError as exc:
        raise DecodeError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc
    except (TypeError, ValueError) as exc:
        raise DecodeError(str(exc)) from exc
    return value


def parse_if_canonical(data: bytes) -> Any | None:
    """The value of `data` if it is canonical JSON, else None (never raises): the fast path of
    the parsers. Canonical bytes are the encoding of the value they parse to, so they hold no
    duplicate key, float or constant, and any JSON parser reads the same value from them."""
    try:
        value = orjson.loads(data)
        if canonical_json(value) == data:
            return value
    except (orjson.JSONDecodeError, TypeError, ValueError, RecursionError):
        pass
    return None


def parse_canonical_json(data: bytes, *, max_bytes: int | None = None) -> Any:
    """Parse canonical JSON; raise `DecodeError` unless `data` is exactly canonical."""
    if max_bytes is not None and len(data) > max_bytes:
        raise DecodeError(f"document larger than {max_bytes} bytes")
    value = parse_if_canonical(data)
    if value is not None:
        return value
    # the slow path, for its precise errors (and a canonical `null`)
    value = parse_json_strict(data, max_bytes=max_bytes)
    try:
        again = canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise DecodeError(str(exc)) from exc
    except RecursionError as exc:
        raise DecodeError("JSON nested too deeply") from exc
    if again != data:
        raise DecodeError("JSON is not in canonical form")
    return value
