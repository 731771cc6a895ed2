"""Run benchmarks by name (all when none is given) and print their figures."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys

from rich.console import Console
from rich.table import Table

import bench.load  # noqa: F401  (registers)
from bench import graphs
from bench.registry import BENCHMARKS, quick_names


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", choices=list(BENCHMARKS), help="benchmarks to run")
    parser.add_argument("--json", action="store_true", help="print one JSON object per benchmark")
    parser.add_argument(
        "--graph",
        choices=list(graphs.CHOICES),
        default="falkordb",
        help="the graph store(s) of load_hubei, api and chains: the embedded FalkorDB (default), "
        "a Neo4j server the run starts, or both in the same run with Neo4j ÷ FalkorDB ratios",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny data and a few requests, answers checked (what tests/bench/test_quick.py "
        "runs): proves each benchmark still works; its figures mean nothing",
    )
    args = parser.parse_args()
    graphs.select(args.graph)
    if args.quick:
        lacking = [n for n in args.names if not BENCHMARKS[n].quick]
        if lacking:
            parser.error(f"no quick mode: {', '.join(lacking)}")
    console = Console()
    for name in args.names or (quick_names() if args.quick else list(BENCHMARKS)):
        entry = BENCHMARKS[name]
        figures = asyncio.run(entry.run(quick=args.quick))
        if args.json:
            print(json.dumps({"benchmark": name, **figures}, ensure_ascii=False))
            continue
        table = Table("figure", "value", title=f"{name}: {entry.description}")
        for key, value in figures.items():
            table.add_row(key, str(value))
        console.print(table)
    if not args.json:  # JSON output stays one object per line
        console.print(
            f"python {platform.python_version()} on {platform.machine()}, {_cores()} cores"
        )
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
