"""Connect a virtual card to vsmartcard's vpcd driver inside pcscd (docs/card.md §5).

The card is the TCP client; vpcd listens on port 35963 (slot 0) / 35964 (slot 1). Both ways
each message is a 2-byte big-endian length and that many bytes. A 1-byte message from vpcd is
a control code (00 power off, 01 power on, 02 reset, 04 ATR request — only 04 is answered);
anything longer is a command APDU, answered by one response APDU.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from jpki.transport import SimulatedCard

__all__ = ["VPCD_HOST", "VPCD_PORT", "VpcdConnection", "port_for_slot"]

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963

CTRL_OFF = 0x00
CTRL_ON = 0x01
CTRL_RESET = 0x02
CTRL_ATR = 0x04

log = logging.getLogger(__name__)


def port_for_slot(slot: int) -> int:
    if slot not in (0, 1):
        raise ValueError("vpcd offers slots 0 and 1")
    return VPCD_PORT + slot


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    if len(payload) > 0xFFFF:
        raise ValueError("vpcd frames carry at most 65535 bytes")
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


def handle_message(card: SimulatedCard, message: bytes) -> bytes | None:
    """The reply to one vpcd message, or None when vpcd expects no reply. Pure."""
    if len(message) == 1:
        code = message[0]
        if code == CTRL_OFF:
            card.power_off()
        elif code == CTRL_ON:
            card.power_on()
        elif code == CTRL_RESET:
            card.reset()
        elif code == CTRL_ATR:
            return card.atr
        else:
            log.warning("unknown vpcd control code %02X", code)
        return None
    return card.process(message)


class VpcdConnection:
    """Runs `card` behind vpcd: in the foreground (`run`) or a thread (`start`/`stop`)."""

    def __init__(
        self, card: SimulatedCard, *, host: str = VPCD_HOST, port: int = VPCD_PORT
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def _connect(self, timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return socket.create_connection((self.host, self.port), timeout=5)
            except OSError:
                if self._stop.is_set() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def run(self, *, connect_timeout: float = 30.0) -> None:
        """Serve until vpcd closes the connection or `stop` is called."""
        sock = self._connect(connect_timeout)
        sock.settimeout(None)
        self._sock = sock
        self.connected.set()
        log.info("virtual card connected to vpcd at %s:%d", self.host, self.port)
        try:
            while not self._stop.is_set():
                header = _recv_exact(sock, 2)
                if header is None:
                    break
                message = _recv_exact(sock, int.from_bytes(header, "big"))
                if message is None:
                    break
                reply = handle_message(self.card, message)
                if reply is not None:
                    _send(sock, reply)
        except OSError:
            if not self._stop.is_set():
                raise
        finally:
            self.card.power_off()
            sock.close()
            self.connected.clear()

    def start(self, *, connect_timeout: float = 30.0) -> None:
        self._thread = threading.Thread(
            target=self.run, kwargs={"connect_timeout": connect_timeout}, daemon=True
        )
        self._thread.start()
        if not self.connected.wait(connect_timeout):
            raise TimeoutError(f"vpcd at {self.host}:{self.port} did not accept the card")

    def wait(self) -> None:
        """Block until the connection ends (vpcd closed it, or `stop` was called)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        """Remove the card from the reader (close the connection)."""
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._thread is not None:
            self._thread.join(5)
