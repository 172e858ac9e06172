"""`python -m nnbench.report [--results DIR ...] [--out DIR]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nnbench.api import run_study
from nnbench.asv_history import load_asv_results
from nnbench.errors import NNBenchError
from nnbench.report.build import build_report
from nnbench.results import load_results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnbench.report", description=__doc__)
    parser.add_argument(
        "--results",
        type=Path,
        nargs="*",
        default=[],
        help="results folders (default: run the quick study first)",
    )
    parser.add_argument("--out", type=Path, default=Path("reports/quick"), help="report folder")
    parser.add_argument(
        "--asv",
        type=Path,
        default=Path(".asv/results"),
        help="asv results folder for the history section (used if it exists)",
    )
    args = parser.parse_args(argv)
    try:
        if args.results:
            runs = [load_results(folder) for folder in args.results]
        else:
            print("no --results given: running the quick study first", file=sys.stderr)
            run = run_study(
                "quick",
                quick=True,
                progress=True,
                out=args.out / "results",
                command="python -m nnbench.report (quick study)",
            )
            runs = [run]
        history = load_asv_results(args.asv) if args.asv.is_dir() else None
        build_report(runs, args.out, history=history)
    except NNBenchError as exc:
        print(f"nnbench.report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report -> {args.out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
