"""`tohyo bench …`: the benchmark scripts of bench/, behind one command."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from typing import Any

# benchmark name -> (module, help)
BENCHMARKS = {
    "mixnet": ("bench.mixnet", "shuffle, proof and verification per ciphertext"),
    "board": ("bench.board", "bulletin-board intake against in-process validation"),
    "trustees": ("bench.trustees", "decryption shares per ciphertext"),
    "verify": ("bench.verify", "whole-record verification"),
    "ec": ("bench.ec", "elliptic-curve primitives"),
    "tally": ("bench.tally", "close → mixing → decryption → result → verification, per step"),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks")
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, (module, helptext) in BENCHMARKS.items():
        if importlib.util.find_spec(module) is None:
            continue
        p = sub.add_parser(name, help=helptext)
        mod = importlib.import_module(module)
        if hasattr(mod, "add_arguments"):
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
        else:
            p.add_argument("args", nargs=argparse.REMAINDER)
            p.set_defaults(func=lambda a, m=mod: m.main(a.args))
