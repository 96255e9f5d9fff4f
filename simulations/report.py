"""Results as JSON and plots as PNG, in the output folder a command names."""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PhaseTimer", "machine_info", "plot_bars", "plot_loglog", "write_json"]


def machine_info() -> dict[str, Any]:
    import os

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


class PhaseTimer:
    """`with timer("phase"):` adds the wall time of the block to `timings["phase"]`."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_bars(
    values: Mapping[str, float],
    path: Path,
    *,
    title: str,
    xlabel: str,
    horizontal: bool = True,
    limit: float | None = None,
) -> Path:
    plt = _pyplot()
    names = list(values)
    if horizontal:
        fig, ax = plt.subplots(figsize=(8, 0.42 * len(names) + 1.2))
        ax.barh(names, [values[n] for n in names], color="#3b6ea5")
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        if limit is not None:
            ax.set_xlim(0, limit)
    else:
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(names)), 4.5))
        ax.bar(names, [values[n] for n in names], color="#3b6ea5")
        ax.set_ylabel(xlabel)
        if limit is not None:
            ax.set_ylim(0, limit)
        ax.tick_params(axis="x", labelrotation=20)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_loglog(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log: bool = True,
) -> Path:
    """One line per series name: (xs, ys); log–log axes unless `log` is False."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", label=name)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
