"""Constants and helpers shared by the jpki PC/SC integration tests."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from jpki.certs import BasicFacts, Sex

UTC = dt.UTC
PASSWORD = "VOTE2027X"
AUTH_PIN = "2468"
NOW = dt.datetime.now(UTC)
TARO = BasicFacts(
    "投票\u3000太郎", dt.date(1990, 6, 15), Sex.MALE, "茨城県つくば市研究学園一丁目1番地1"
)


def reader_name(slot: int) -> str:
    return f"Virtual PCD 00 {slot:02d}"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)
