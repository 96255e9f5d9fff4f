"""The card as the web UI uses it: open a reader, read the password's tries, sign a ballot.

Blocking calls (PC/SC is synchronous); the web app runs them in a worker thread, one at a
time. A `CardOpener` returns a fresh `jpki.transport.Transport` per use: the first PC/SC reader
(or a named one) in a real run, an in-process virtual card in tests.
"""

from __future__ import annotations

from collections.abc import Callable

from election.manifest import Manifest
from jpki.card import JpkiCard
from jpki.pins import PinKind
from jpki.transport import Transport, TransportError
from voter_client.ballot import EncryptedBallot
from voter_client.session import sign_with_card

__all__ = ["CardOpener", "NoReaderError", "pcsc_opener", "sign_ballot", "tries_left"]

CardOpener = Callable[[], Transport]


class NoReaderError(TransportError):
    """No PC/SC service or no (such) card reader: distinct from a reader without a card."""


def pcsc_opener(reader: str | None) -> CardOpener:
    """Open the card in `reader`, or in the first reader PC/SC lists."""

    def open_card() -> Transport:
        from jpki.pcsc import PcscTransport, list_readers

        try:
            names = list_readers()
        except TransportError as exc:
            raise NoReaderError(str(exc)) from None
        name = reader or (names[0] if names else None)
        if name is None or name not in names:
            raise NoReaderError("no card reader")
        return PcscTransport(name)

    return open_card


def tries_left(opener: CardOpener) -> int:
    """Tries left on the signing password (0 when locked); reading them needs no password."""
    transport = opener()
    try:
        card = JpkiCard(transport)
        card.select_ap()
        status = card.pin_status(PinKind.SIGN)
        return 0 if status.blocked else status.tries_left
    finally:
        transport.close()


def sign_ballot(
    opener: CardOpener, password: str, manifest: Manifest, encrypted: EncryptedBallot
) -> tuple[bytes, bytes]:
    """(certificate, signature) of the ballot; the card's WrongPinError/PinBlockedError pass."""
    transport = opener()
    try:
        return sign_with_card(JpkiCard(transport), password.upper(), manifest, encrypted)
    finally:
        transport.close()
