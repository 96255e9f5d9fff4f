"""The transport interface between card operations and a card, and the in-process transport."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["InProcessTransport", "SimulatedCard", "Transport", "TransportError"]


class TransportError(Exception):
    """The card or reader is gone or does not answer (not a status word from the card)."""


@runtime_checkable
class Transport(Protocol):
    """Sends one command APDU and returns the raw response APDU (data ‖ SW1 SW2)."""

    def transmit(self, command: bytes) -> bytes: ...

    def atr(self) -> bytes: ...

    def close(self) -> None: ...


class SimulatedCard(Protocol):
    """What an in-process card offers (implemented by `VirtualJpkiCard`)."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def reset(self) -> None: ...

    def process(self, command: bytes) -> bytes: ...


class InProcessTransport:
    """Talks to a simulated card in the same process; powers it on when opened."""

    def __init__(self, card: SimulatedCard) -> None:
        self._card = card
        self._open = True
        card.power_on()

    def transmit(self, command: bytes) -> bytes:
        if not self._open:
            raise TransportError("transport is closed")
        return self._card.process(bytes(command))

    def atr(self) -> bytes:
        return self._card.atr

    def reset(self) -> None:
        self._card.reset()

    def close(self) -> None:
        if self._open:
            self._card.power_off()
            self._open = False
