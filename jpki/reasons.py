"""Reason codes for refusals, with plain-word explanations the voter client can show.

The string values are stable: they travel to clients and appear in records and tests.
"""

from __future__ import annotations

import enum

__all__ = ["Reason", "explain"]


class Reason(enum.StrEnum):
    # on the voter's side, from the card
    WRONG_PASSWORD = "wrong-password"  # noqa: S105 (a reason code)
    PASSWORD_BLOCKED = "password-blocked"  # noqa: S105 (a reason code)
    CARD_ERROR = "card-error"
    # at the registrar
    ELECTION_NOT_AUTHORISED = "election-not-authorised"
    VOTING_NOT_OPEN = "voting-not-open"
    VOTING_CLOSED = "voting-closed"
    VOTER_ROLL_UNAVAILABLE = "voter-roll-unavailable"
    MALFORMED_REQUEST = "malformed-request"
    CERTIFICATE_UNTRUSTED = "certificate-untrusted"
    CERTIFICATE_NOT_YET_VALID = "certificate-not-yet-valid"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_REVOKED = "certificate-revoked"
    CERTIFICATE_WRONG_USAGE = "certificate-wrong-usage"
    REVOCATION_UNKNOWN = "revocation-unknown"
    SIGNATURE_MISMATCH = "signature-mismatch"
    NOT_ELIGIBLE_AGE = "not-eligible-age"
    NOT_ELIGIBLE_RESIDENCE = "not-eligible-residence"
    NOT_ON_VOTER_ROLL = "not-on-voter-roll"
    VOTING_CODE_UNKNOWN = "voting-code-unknown"
    VOTING_CODE_USED = "voting-code-used"


_PLAIN: dict[Reason, str] = {
    Reason.WRONG_PASSWORD: "The password was wrong. {tries_left} tries are left before the "
    "card locks the password.",
    Reason.PASSWORD_BLOCKED: "The card's password is locked after too many wrong tries. Please "
    "have it reset at your municipal office (bring photo identification).",
    Reason.CARD_ERROR: "The card could not be read. Check that it lies flat on the reader and "
    "try again.",
    Reason.ELECTION_NOT_AUTHORISED: "This registrar does not take ballots for this election. "
    "Check the election's address on your voting letter.",
    Reason.VOTING_NOT_OPEN: "Voting for this election has not opened yet.",
    Reason.VOTING_CLOSED: "Voting for this election has closed. Nothing was recorded.",
    Reason.VOTER_ROLL_UNAVAILABLE: "The registrar cannot check the voter roll of this "
    "election right now. Nothing was recorded; please try again later.",
    Reason.MALFORMED_REQUEST: "The voting software sent an incomplete request. Please update "
    "it and try again.",
    Reason.CERTIFICATE_UNTRUSTED: "The certificate on the card was not issued by J-LIS.",
    Reason.CERTIFICATE_NOT_YET_VALID: "The certificate on the card is not valid yet.",
    Reason.CERTIFICATE_EXPIRED: "The certificate on the card has expired. Please renew it at "
    "your municipal office.",
    Reason.CERTIFICATE_REVOKED: "The certificate on the card has been revoked (for example "
    "after a move or a change of name). Please have a new one issued at your municipal office.",
    Reason.CERTIFICATE_WRONG_USAGE: "The card signed with a certificate that cannot be used for "
    "voting. Use the signing password (6 to 16 characters).",
    Reason.REVOCATION_UNKNOWN: "The certificate's status could not be checked right now. Please "
    "try again later.",
    Reason.SIGNATURE_MISMATCH: "The card's signature does not match this ballot. Nothing was "
    "recorded; please cast the ballot again.",
    Reason.NOT_ELIGIBLE_AGE: "You are below the minimum voting age for this election on "
    "election day.",
    Reason.NOT_ELIGIBLE_RESIDENCE: "The address on your card is not in an area taking part in "
    "this election.",
    Reason.NOT_ON_VOTER_ROLL: "You are not on the voter roll of this election.",
    Reason.VOTING_CODE_UNKNOWN: "The voting code is not valid for this election. Check the code "
    "on your postcard.",
    Reason.VOTING_CODE_USED: "This voting code has already been used by another voter.",
}


def explain(reason: Reason, *, tries_left: int | None = None) -> str:
    """A plain-words explanation of `reason` for the voter."""
    text = _PLAIN[reason]
    if "{tries_left}" in text:
        text = text.format(tries_left="Some" if tries_left is None else tries_left)
    return text
