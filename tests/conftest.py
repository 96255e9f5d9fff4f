"""Settings and fixtures every test process (and the processes it starts) shares."""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bulletin_board.testing import drop_database, fresh_database, postgres_dsn

# Key files written by `tohyo board …` are encrypted; tests use this passphrase throughout.
os.environ.setdefault("TOHYO_KEY_PASSPHRASE", "tohyo test key passphrase")


# The storage parameter: every test using `storage_url` runs on SQLite and PostgreSQL.
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "board.sqlite")
    else:
        server = postgres_dsn()
        database = asyncio.run(fresh_database(server))
        yield database
        asyncio.run(drop_database(server, database))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every PC/SC test in one xdist group: with `--dist loadgroup` they run one after another
    in one worker, so none waits on (or loses) the two vpcd readers to another worker."""
    for item in items:
        if item.get_closest_marker("pcsc"):
            item.add_marker(pytest.mark.xdist_group("pcsc"))


# CI's Hypothesis profile (`--hypothesis-profile=ci`): the same examples on every run, so a
# failure is reproduced by running again; tests' own settings (example counts) still apply.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With TOHYO_NO_SKIPS=1 (CI), a skipped test fails the run: no test may skip."""
    if os.environ.get("TOHYO_NO_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        for report in skipped:
            reporter.write_line(f"SKIPPED (not allowed in CI): {report.nodeid}", red=True)
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
