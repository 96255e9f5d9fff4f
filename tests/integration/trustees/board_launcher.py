"""A board with the election policy (test groups allowed), for the trustee daemon tests.

`tohyo board serve` runs the registry policy only, so the tests start this small launcher in a
separate process instead:

    python tests/integration/trustees/board_launcher.py --db PATH --key PEM (unencrypted)

It prints `tohyo board: key <hex>` and `tohyo board: listening on <url>` like `serve`, and
stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin_board.board import Board, Limits
from bulletin_board.log import public_key_hex
from bulletin_board.server import BoardServer
from bulletin_board.storage import SqliteStorage
from election.policy import ElectionPolicy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-body", type=int, default=4 * 1024 * 1024)
    args = parser.parse_args()
    with open(args.key, "rb") as f:  # an unencrypted test key written by the test
        key = serialization.load_pem_private_key(f.read(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    board = Board(SqliteStorage(args.db), key, ElectionPolicy(allow_test_groups=True),
                  limits=Limits(max_body_bytes=args.max_body))
    server = BoardServer(board, "127.0.0.1", args.port)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        print(f"tohyo board: key {public_key_hex(key.public_key())}", flush=True)
        print(f"tohyo board: listening on {server.url}", flush=True)
        try:
            await stop.wait()
        finally:
            await server.stop()

    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run())


if __name__ == "__main__":
    main()
