"""The PC/SC transport through pyscard — the only module that imports `smartcard`."""

from __future__ import annotations

from smartcard.CardConnection import CardConnection
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.pcsc.PCSCExceptions import EstablishContextException, ListReadersException
from smartcard.System import readers

from jpki.transport import TransportError

__all__ = ["PcscTransport", "card_present", "list_readers"]


def list_readers() -> list[str]:
    """Names of the PC/SC readers (empty if pcscd runs but has none)."""
    try:
        return [str(r) for r in readers()]
    except (EstablishContextException, ListReadersException) as exc:
        raise TransportError(f"PC/SC service not available: {exc}") from None


def _reader(name: str) -> object:
    try:
        found = readers()
    except (EstablishContextException, ListReadersException) as exc:
        raise TransportError(f"PC/SC service not available: {exc}") from None
    for reader in found:
        if str(reader) == name:
            return reader
    raise TransportError(f"no reader named {name!r}")


def card_present(name: str) -> bool:
    """True when a card in reader `name` answers a connect."""
    try:
        transport = PcscTransport(name)
    except TransportError:
        return False
    transport.close()
    return True


class PcscTransport:
    """A connection to the card in one PC/SC reader."""

    def __init__(self, reader_name: str) -> None:
        self.reader_name = reader_name
        self._conn = _reader(reader_name).createConnection()  # type: ignore[attr-defined]
        try:
            self._conn.connect(CardConnection.T0_protocol | CardConnection.T1_protocol)
        except (NoCardException, CardConnectionException) as exc:
            self.close()
            raise TransportError(f"no card in {reader_name!r}: {type(exc).__name__}") from None

    def transmit(self, command: bytes) -> bytes:
        try:
            data, sw1, sw2 = self._conn.transmit(list(command))
            # T=0 style continuations, in case a reader driver passes them up
            while sw1 == 0x61:
                more, sw1, sw2 = self._conn.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
                data += more
            if sw1 == 0x6C:
                data, sw1, sw2 = self._conn.transmit([*command[:4], sw2])
        except CardConnectionException as exc:
            # the message of pyscard never contains the command bytes
            raise TransportError(f"card communication failed: {type(exc).__name__}") from None
        return bytes(data) + bytes([sw1, sw2])

    def atr(self) -> bytes:
        return bytes(self._conn.getATR())

    def reset(self) -> None:
        self._conn.reconnect(disposition=0x0001)  # SCARD_RESET_CARD

    def close(self) -> None:
        """Disconnect and release the PC/SC context now (not later in a finaliser)."""
        try:
            self._conn.release()
        except CardConnectionException:
            pass
