"""The repository cites only itself (docs/contributing.md §2.1).

Every tracked text file is read: none may cite a file outside the repository (design or spec
notes kept elsewhere, a sibling folder of the clone), and every `docs/….md` path named anywhere,
and every file a Markdown document links to (or `.md` file it names), must exist.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(REPO).as_posix()

# Citations of files that are not in the repository.
# The names are assembled from parts, so that this file does not itself cite them.
SIBLING = "../" + "sha" + "red"
SPECS = "spe" + "cs/"
STYLE = "STY" + "LE.md"
DESIGN = "DES" + "IGN.md"
OUTSIDE = re.compile(
    "|".join(re.escape(n) for n in (SIBLING, "/work/" + "sha" + "red", SPECS, STYLE, DESIGN))
)

# Files allowed to cite outside the repository, with the reason: none; every file is held to
# the rule.
ALLOWED_OUTSIDE: dict[str, str] = {}

DOCS_PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]*?\.md\b")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")  # any relative link target
BARE_MD = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")


def tracked_files() -> list[str]:
    """The files git tracks, or every file but caches and the virtualenv outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
        ).stdout
        return [name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {
            ".git",
            ".venv",
            ".mypy_cache",
            ".ruff_cache",
            ".pytest_cache",
            ".hypothesis",
            "__pycache__",
            "demo-output",
            "simulation-output",
        }
        return [
            p.relative_to(REPO).as_posix()
            for p in REPO.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(REPO).parts)
        ]


def text_files() -> dict[str, str]:
    out = {}
    for name in tracked_files():
        path = REPO / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            out[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return out


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    found = text_files()
    assert "README.md" in found and "docs/card.md" in found  # the walk found the repository
    return found


def outside_citations(files: dict[str, str]) -> list[str]:
    return [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
        for name, text in files.items()
        if name != THIS and name not in ALLOWED_OUTSIDE
        for m in OUTSIDE.finditer(text)
    ]


def missing_docs(files: dict[str, str]) -> list[str]:
    missing = []
    for name, text in files.items():
        if name == THIS:
            continue
        targets = {m.group() for m in DOCS_PATH.finditer(text)}
        if name.endswith(".md"):
            folder = Path(name).parent
            links = {m.group(1) for m in MARKDOWN_LINK.finditer(text)}
            if name.startswith("docs/"):
                links |= {m.group(1) for m in BARE_MD.finditer(text)}
            targets |= {
                (folder / link).as_posix()
                for link in links
                if "://" not in link and not link.startswith("mailto:")
            }
        missing += [f"{name}: {t}" for t in sorted(targets) if not (REPO / t).exists()]
    return missing


def unknown_documents(files: dict[str, str]) -> list[str]:
    """Bare `name.md` mentions (`crypto.md §2`) of a name no file in the repository has."""
    names = {name.rsplit("/", 1)[-1] for name in files}
    return [
        f"{name}: {m.group(1)}"
        for name, text in files.items()
        if name != THIS and name not in ALLOWED_OUTSIDE
        for m in BARE_MD.finditer(text)
        if m.group(1) not in names
    ]


def test_no_file_cites_anything_outside_the_repository(files: dict[str, str]) -> None:
    assert outside_citations(files) == []
    assert unknown_documents(files) == []


def test_every_cited_document_exists(files: dict[str, str]) -> None:
    assert missing_docs(files) == []


def test_the_checks_catch_what_they_look_for() -> None:
    """The checks against made-up files: a citation of each kind is caught."""
    made_up = {
        "jpki/x.py": f'"""APDUs ({SPECS}jpki.md §1.3)."""',
        "mixnet/y.py": f"# see {STYLE} principle 4 and {DESIGN}",
        "tests/z.py": f"CA = '{SIBLING}/data/jpki-ca'",
        "docs/a.md": "as [the card](card.md) says; see nowhere.md §2 and docs/gone.md",
        "README.md": "read [this](docs/missing.md#top), `docs/card.md`, ![x](docs/gone.png)",
        "bench/b.py": "# docs/absent.md §3",
        "mixnet/w.py": '"""Whole ciphertexts (crypto.md §2)."""',
        "docs/card.md": "# The card",
    }
    assert [c.split(": ", 1)[1] for c in outside_citations(made_up)] == [
        SPECS,
        STYLE,
        DESIGN,
        SIBLING,
    ]
    assert missing_docs(made_up) == [
        "docs/a.md: docs/gone.md",
        "docs/a.md: docs/nowhere.md",
        "README.md: docs/gone.png",
        "README.md: docs/missing.md",
        "bench/b.py: docs/absent.md",
    ]
    assert unknown_documents(made_up) == [
        f"mixnet/y.py: {STYLE}",
        f"mixnet/y.py: {DESIGN}",
        "docs/a.md: nowhere.md",
        "mixnet/w.py: crypto.md",
    ]
