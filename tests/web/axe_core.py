"""axe-core for the accessibility scans: the npm package, fetched once into a cache folder.

The browser tests inject `axe.min.js` from the package that `npm pack` brings from the npm
registry (never from a CDN at test time, never committed). `.ci/run` calls this file as a
script so the download happens before the tests; the tests call `axe_script()`, which fetches
the package if the cache is empty (a developer's first run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

AXE_VERSION = "4.10.3"
CACHE = Path(os.environ.get("TOHYO_AXE_CACHE", Path.home() / ".cache" / "tohyo"))
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_script() -> Path:
    """The path of axe.min.js of the pinned version (fetched with npm if not cached yet)."""
    target = CACHE / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if target.exists():
        return target
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed once to fetch axe-core (apt-get install npm)"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp],
            check=True,
            capture_output=True,
            timeout=300,
        )
        archive = Path(tmp) / f"axe-core-{AXE_VERSION}.tgz"
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            data = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


if __name__ == "__main__":
    print(axe_script())
