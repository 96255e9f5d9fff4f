"""Test support: card transports that answer nonsense (for the plain-error paths)."""

from __future__ import annotations


class Garbled:
    """A card whose every answer is one byte: not a response APDU."""

    def transmit(self, command: bytes) -> bytes:
        return b"\x90"

    def atr(self) -> bytes:
        return b""

    def close(self) -> None:
        pass


class Silent(Garbled):
    """A card that says 'success' and sends no data where data is due."""

    def transmit(self, command: bytes) -> bytes:
        return b"\x90\x00"
