"""The vpcd framing against a fake vpcd (a local TCP server playing pcscd's side)."""

from __future__ import annotations

import socket
import struct

import pytest
from jpki_unit_support import PASSWORD

from jpki import apdu
from jpki.apdu import StatusWord
from jpki.virtual_card import JPKI_ATR, IssuedCard
from jpki.vpcd import VpcdConnection, handle_message, port_for_slot


def frame(payload: bytes) -> bytes:
    return struct.pack(">H", len(payload)) + payload


def recv_frame(sock: socket.socket) -> bytes:
    header = b""
    while len(header) < 2:
        header += sock.recv(2 - len(header))
    (n,) = struct.unpack(">H", header)
    body = b""
    while len(body) < n:
        body += sock.recv(n - len(body))
    return body


def test_ports() -> None:
    assert port_for_slot(0) == 35963 and port_for_slot(1) == 35964
    with pytest.raises(ValueError):
        port_for_slot(2)


def test_control_codes_are_pure(taro_card: IssuedCard) -> None:
    card = taro_card.card
    assert handle_message(card, b"\x04") == JPKI_ATR
    assert handle_message(card, b"\x01") is None and card.powered
    assert handle_message(card, b"\x00") is None and not card.powered
    assert handle_message(card, b"\x02") is None and card.powered
    assert handle_message(card, b"\x07") is None  # unknown code: ignored
    assert handle_message(card, apdu.select_aid().to_bytes()) == b"\x90\x00"


def test_full_exchange_with_a_fake_vpcd(taro_card: IssuedCard) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    conn = VpcdConnection(taro_card.card, port=port)
    conn.start(connect_timeout=5)
    peer, _ = server.accept()
    peer.settimeout(5)
    try:
        peer.sendall(frame(b"\x04"))
        assert recv_frame(peer) == JPKI_ATR
        peer.sendall(frame(b"\x01"))  # power on: no reply
        peer.sendall(frame(apdu.select_aid().to_bytes()))
        assert recv_frame(peer) == b"\x90\x00"
        peer.sendall(frame(apdu.select_ef(apdu.FID_SIGN_PIN).to_bytes()))
        assert recv_frame(peer) == b"\x90\x00"
        peer.sendall(frame(apdu.verify(PASSWORD.encode()).to_bytes()))
        assert recv_frame(peer) == b"\x90\x00"
        peer.sendall(frame(apdu.select_ef(apdu.FID_SIGN_KEY).to_bytes()))
        recv_frame(peer)
        peer.sendall(frame(apdu.compute_signature(apdu.digest_info(b"m")).to_bytes()))
        reply = recv_frame(peer)
        assert len(reply) == 258 and reply[-2:] == b"\x90\x00"
        # a reset clears the verified password
        peer.sendall(frame(b"\x02"))
        peer.sendall(frame(apdu.select_aid().to_bytes()))
        recv_frame(peer)
        peer.sendall(frame(apdu.select_ef(apdu.FID_SIGN_KEY).to_bytes()))
        recv_frame(peer)
        peer.sendall(frame(apdu.compute_signature(apdu.digest_info(b"m")).to_bytes()))
        assert int.from_bytes(recv_frame(peer), "big") == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    finally:
        conn.stop()
        peer.close()
        server.close()
    assert not conn.connected.is_set()
    assert not taro_card.card.powered


def test_connection_ends_when_vpcd_closes(taro_card: IssuedCard) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    conn = VpcdConnection(taro_card.card, port=server.getsockname()[1])
    conn.start(connect_timeout=5)
    peer, _ = server.accept()
    peer.close()
    conn.wait()
    assert not conn.connected.is_set()
    server.close()


def test_no_vpcd_listening_times_out(taro_card: IssuedCard) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.close()  # nothing listens there now
    conn = VpcdConnection(taro_card.card, port=port)
    with pytest.raises(OSError):
        conn.run(connect_timeout=0.5)
