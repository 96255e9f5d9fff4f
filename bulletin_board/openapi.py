"""The OpenAPI 3.0 description of the board's HTTP interface (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from bulletin_board.board import Limits
from bulletin_board.policy import REFUSAL_CODES

__all__ = ["openapi_document"]

HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{128}$"}
UINT = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
ELECTION = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


def _ok(schema: dict[str, Any], status: str = "200", text: str = "OK") -> dict[str, Any]:
    return {status: {"description": text, "content": {"application/json": {"schema": schema}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        codes = sorted(c for c, (s, _) in REFUSAL_CODES.items() if s == status)
        out[str(status)] = {
            "description": "refused: " + ", ".join(codes),
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return out


READ_ERRORS = (400, 404, 405, 429)
WRITE_ERRORS = (400, 403, 404, 405, 408, 409, 413, 415, 422, 429)


def _param(
    name: str,
    where: str,
    schema: dict[str, Any],
    required: bool = False,
    text: str = "",
    example: Any = None,
) -> dict[str, Any]:
    out = {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": text,
    }
    if example is not None:
        out["example"] = example
    return out


def _caps_text(limits: Limits) -> str:
    record = ", ".join(sorted(limits.record_types))
    return (
        "Each entry type has a size cap; a larger entry is refused with 413 too_large, the "
        "detail naming the cap. Entries of the types "
        f"{record} are at most {limits.max_record_body_bytes} bytes, any other at most "
        f"{limits.max_body_bytes} bytes. The election policy derives some caps from the "
        "manifest instead: a ballot's from the width of its row (a few KiB), the record "
        "entries' from the number of rows to mix times the size of a row; none exceeds "
        f"{limits.max_record_body_bytes} bytes. GET /v1/board lists the limits."
    )


def openapi_document(limits: Limits, *, ballots: bool = False) -> dict[str, Any]:
    election = _param("election", "path", ELECTION, text="election id", example="e1")
    tree_size = _param("tree_size", "path", UINT, text="number of entries in the tree", example=3)
    page = {"type": "integer", "minimum": 0, "maximum": limits.max_page}
    tree_head = _obj(
        {
            "v": {"type": "integer", "enum": [1]},
            "election": {"type": "string"},
            "tree_size": UINT,
            "root_hash": HEX32,
            "timestamp": UINT,
            "signature": HEX64,
            "cosignatures": {"type": "array", "items": _ref("Cosignature")},
        },
        required=["v", "election", "tree_size", "root_hash", "timestamp", "signature"],
    )
    entry = _obj(
        {
            "v": {"type": "integer", "enum": [1]},
            "election": ELECTION,
            "type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
            "author": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$"},
            "body": {"type": "object"},
            "signature": HEX64,
        }
    )
    schemas = {
        "Error": _obj(
            {
                "error": {"type": "string", "enum": [*sorted(REFUSAL_CODES), "internal"]},
                "detail": {"type": "string"},
            }
        ),
        "Entry": entry,
        "TreeHead": tree_head,
        "Cosignature": _obj({"signer": HEX32, "signature": HEX64}),
        "Receipt": _obj(
            {
                "v": {"type": "integer", "enum": [2]},
                "election": ELECTION,
                "index": UINT,
                "entry_hash": HEX32,
                "tree_head": _ref("TreeHead"),
                "inclusion_proof": {"type": "array", "items": HEX32},
                "signature": HEX64,
            }
        ),
    }
    nullable_uint = {**UINT, "nullable": True}
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "summary": "liveness",
                "operationId": "health",
                "responses": {**_ok(_obj({"status": {"type": "string"}})), **_errors(405)},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "this document",
                "operationId": "openapi",
                "responses": {**_ok({"type": "object"}), **_errors(405)},
            }
        },
        "/v1/board": {
            "get": {
                "summary": "the board's public key, limits and refusal codes",
                "operationId": "boardInfo",
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "v": {"type": "integer"},
                                "public_key": HEX32,
                                "limits": {"type": "object"},
                                "refusal_codes": {"type": "object"},
                            }
                        )
                    ),
                    **_errors(405),
                },
            }
        },
        "/v1/elections": {
            "get": {
                "summary": "a page of the elections on this board, by id",
                "operationId": "listElections",
                "parameters": [
                    _param("after", "query", ELECTION, text="list the ids after this one"),
                    _param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": limits.max_elections_listed},
                        text="page size",
                    ),
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "elections": {
                                    "type": "array",
                                    "items": _obj({"election": ELECTION, "tree_size": UINT}),
                                },
                                "next": {**ELECTION, "nullable": True},
                            }
                        )
                    ),
                    **_errors(400, 405),
                },
            }
        },
        "/v1/elections/{election}": {
            "get": {
                "summary": "an election's size and policy state (phase, counts)",
                "operationId": "getElection",
                "parameters": [election],
                "responses": {
                    **_ok(
                        _obj(
                            {"election": ELECTION, "tree_size": UINT, "policy": {"type": "object"}}
                        )
                    ),
                    **_errors(*READ_ERRORS),
                },
            }
        },
        "/v1/elections/{election}/entries": {
            "post": {
                "summary": "append a signed entry; returns the board's signed receipt",
                "description": _caps_text(limits),
                "operationId": "postEntry",
                "parameters": [election],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Entry")}},
                },
                "responses": {**_ok(_ref("Receipt"), "201", "accepted"), **_errors(*WRITE_ERRORS)},
            },
            "get": {
                "summary": f"a page of entries (at most {limits.max_page})",
                "operationId": "listEntries",
                "parameters": [
                    election,
                    _param("start", "query", UINT, text="first index", example=1),
                    _param("limit", "query", page, text="page size", example=2),
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "election": ELECTION,
                                "start": UINT,
                                "tree_size": UINT,
                                "entries": {"type": "array", "items": _ref("Entry")},
                                "next": nullable_uint,
                            }
                        )
                    ),
                    **_errors(*READ_ERRORS),
                },
            },
        },
        "/v1/elections/{election}/entries/{index}": {
            "get": {
                "summary": "one entry and its hash",
                "operationId": "getEntry",
                "parameters": [election, _param("index", "path", UINT, example=2)],
                "responses": {
                    **_ok(_obj({"index": UINT, "entry_hash": HEX32, "entry": _ref("Entry")})),
                    **_errors(*READ_ERRORS),
                },
            }
        },
        "/v1/elections/{election}/tree-head": {
            "get": {
                "summary": "the latest signed tree head with its co-signatures",
                "operationId": "getTreeHead",
                "parameters": [election],
                "responses": {**_ok(_ref("TreeHead")), **_errors(*READ_ERRORS)},
            }
        },
        "/v1/elections/{election}/tree-heads": {
            "get": {
                "summary": "stored tree heads by size (paginated)",
                "operationId": "listTreeHeads",
                "parameters": [
                    election,
                    _param("start_size", "query", UINT, example=2),
                    _param("limit", "query", page, example=2),
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "election": ELECTION,
                                "tree_heads": {"type": "array", "items": _ref("TreeHead")},
                                "next": nullable_uint,
                            }
                        )
                    ),
                    **_errors(*READ_ERRORS),
                },
            }
        },
        "/v1/elections/{election}/tree-heads/{tree_size}": {
            "get": {
                "summary": "the tree head of one size with its co-signatures",
                "operationId": "getTreeHeadOfSize",
                "parameters": [election, tree_size],
                "responses": {**_ok(_ref("TreeHead")), **_errors(*READ_ERRORS)},
            }
        },
        "/v1/elections/{election}/tree-heads/{tree_size}/cosignatures": {
            "post": {
                "summary": "add a mirror's co-signature to a tree head",
                "operationId": "postCosignature",
                "parameters": [election, tree_size],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Cosignature")}},
                },
                "responses": {**_ok(_ref("TreeHead"), "201", "stored"), **_errors(*WRITE_ERRORS)},
            }
        },
        "/v1/elections/{election}/proofs/inclusion": {
            "get": {
                "summary": "RFC 9162 inclusion proof, by index or by entry hash",
                "operationId": "getInclusionProof",
                "parameters": [
                    election,
                    _param("index", "query", UINT, example=1),
                    _param("entry_hash", "query", HEX32),
                    _param("tree_size", "query", UINT, text="default: current size", example=4),
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "index": UINT,
                                "tree_size": UINT,
                                "path": {"type": "array", "items": HEX32},
                            }
                        )
                    ),
                    **_errors(*READ_ERRORS),
                },
            }
        },
        "/v1/elections/{election}/proofs/consistency": {
            "get": {
                "summary": "RFC 9162 consistency proof between two tree sizes",
                "operationId": "getConsistencyProof",
                "parameters": [
                    election,
                    _param("first", "query", UINT, required=True, example=2),
                    _param("second", "query", UINT, text="default: current size", example=5),
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "first": UINT,
                                "second": UINT,
                                "proof": {"type": "array", "items": HEX32},
                            }
                        )
                    ),
                    **_errors(*READ_ERRORS),
                },
            }
        },
    }
    if ballots:
        paths["/v1/elections/{election}/ballots"] = {
            "post": {
                "summary": "cast a ballot: the registrar checks the card's signature, "
                "certificate and eligibility, then the board appends the ballot",
                "operationId": "castBallot",
                "parameters": [election],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                {
                                    "ballot": {"type": "object"},
                                    "jpki": _obj(
                                        {
                                            "certificate": {"type": "string"},
                                            "signature": {"type": "string"},
                                        }
                                    ),
                                    "voting_code": {"type": "string", "maxLength": 64},
                                }
                            )
                        }
                    },
                },
                "responses": {
                    **_ok(_obj({"receipt": _ref("Receipt"), "replaced_earlier_ballot": UINT})),
                    **_errors(*WRITE_ERRORS),
                    "503": {
                        "description": "refused: registrar_refused (revocation-unknown)",
                        "content": {"application/json": {"schema": _ref("Error")}},
                    },
                },
            }
        }
        paths["/v1/elections/{election}/voting-code"] = {
            "post": {
                "summary": "is this one of the election's voting codes? (never whether it was "
                "used; at most 10 checks a minute per address, then 429 busy)",
                "operationId": "checkVotingCode",
                "parameters": [election],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj({"voting_code": {"type": "string", "maxLength": 64}})
                        }
                    },
                },
                "responses": {
                    **_ok(_obj({"known": {"type": "boolean"}})),
                    **_errors(400, 404, 415, 429),
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tohyo bulletin board",
            "version": "1",
            "description": "Append-only, signed, Merkle-logged election records. "
            "See docs/board.md.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
