"""The real PC/SC stack for the jpki integration tests: pcscd + vpcd + pyscard.

`pcscd_service` (session): uses the running pcscd if /run/pcscd/pcscd.comm answers, otherwise
starts `pcscd --foreground` itself and stops it afterwards. `pcscd` (each test): the service,
and a file lock on the vpcd readers for the test's duration, since vpcd has only two slots; it
is shared with `tohyo demo` (which takes it without waiting and says so when it cannot). CI
runs every PC/SC test in one xdist group (`pcsc`, `--dist loadgroup`), so no other worker
waits on the lock. Nothing here skips: a missing pcscd, vpcd driver or pyscard is an error, as
CI installs them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jpki_pcsc_support import AUTH_PIN, NOW, PASSWORD, TARO, reader_name, wait_for

from jpki.certs import BasicFacts
from jpki.testca import TestCa, pooled_rsa_key
from jpki.virtual_card import IssuedCard, issue_virtual_card
from jpki.vpcd import VpcdConnection, port_for_slot

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
LOCK_FILE = Path("/tmp/tohyo-pcsc-tests.lock")
PCSCD_LOG = Path("/tmp/tohyo-pcscd-tests.log")


def _socket_answers() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


@pytest.fixture
def pcscd(pcscd_service: None) -> Iterator[None]:
    """The readers are this test's until it ends."""
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def pcscd_service() -> Iterator[None]:
    from jpki.pcsc import list_readers  # pyscard must be installed: no skip

    proc: subprocess.Popen[bytes] | None = None
    try:
        if not _socket_answers():
            binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
            assert Path(binary).exists(), "pcscd is not installed (apt-get install pcscd)"
            with contextlib.suppress(FileNotFoundError):
                PCSCD_SOCKET.unlink()  # stale socket of a dead pcscd
            log = PCSCD_LOG.open("wb")
            proc = subprocess.Popen(
                [binary, "--foreground"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            wait_for(_socket_answers, 15, f"pcscd socket (log: {PCSCD_LOG})")

        def vpcd_readers() -> bool:
            try:
                names = list_readers()
            except Exception:
                return False
            return reader_name(0) in names and reader_name(1) in names

        wait_for(vpcd_readers, 15, "the vpcd readers (is vsmartcard-vpcd installed?)")
        yield
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="session")
def test_ca() -> TestCa:
    return TestCa.create(label="integration")


@pytest.fixture
def issue(test_ca: TestCa) -> Callable[..., IssuedCard]:
    def make(facts: BasicFacts = TARO, *, label: str = "taro") -> IssuedCard:
        return issue_virtual_card(
            test_ca,
            facts,
            sign_password=PASSWORD,
            auth_pin=AUTH_PIN,
            not_before=NOW - dt.timedelta(days=30),
            not_after=NOW + dt.timedelta(days=365),
            sign_key=pooled_rsa_key(f"{label}-sign"),
            auth_key=pooled_rsa_key(f"{label}-auth"),
        )

    return make


@pytest.fixture
def insert(pcscd: None) -> Iterator[Callable[..., str]]:
    """Put a virtual card into a vpcd slot; returns the reader name once pyscard sees it."""
    from jpki.pcsc import card_present

    inserted: list[tuple[VpcdConnection, str]] = []

    def put(issued: IssuedCard, slot: int = 0) -> str:
        connection = VpcdConnection(issued.card, port=port_for_slot(slot))
        connection.start(connect_timeout=15)
        name = reader_name(slot)
        inserted.append((connection, name))
        wait_for(lambda: card_present(name), 15, f"a card in {name}")
        return name

    yield put
    for connection, name in inserted:
        connection.stop()
        wait_for(lambda n=name: not card_present(n), 15, f"{name} to be empty")
