"""`nnbench list|run|check|report|bench` (also `python -m nnbench ...`): a thin face over the Python
API (`nnbench.api`: `run_study`, `build_report`, the registries). `python -m nnbench.report`
is `nnbench report`. Each command imports what it needs: a report from existing results
loads no torch and no method."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from nnbench.errors import NNBenchError, RunInterrupted


def _split(cast: Callable[[str], object]) -> Callable[[str], tuple[object, ...]]:
    def parse(text: str) -> tuple[object, ...]:
        try:
            return tuple(cast(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"cannot read {text!r} as a comma list") from None

    return parse


def _method_terms(text: str) -> tuple[str, ...]:
    """`--methods`: split on the commas between terms, not those inside a term's [...]."""
    from nnbench.selection import split_terms

    return tuple(split_terms(text))


def _matrix_terms(text: str) -> tuple[str, ...]:
    """`--matrices`: split on commas, a `file:` name kept whole where it holds commas."""
    from nnbench.corpus.select import join_file_names

    return tuple(term for term in join_file_names(text.split(",")) if term.strip())


def _plugins(args: argparse.Namespace) -> list[Any]:
    """Load the installed plug-ins and those of `--plugin` (none: nothing is imported)."""
    from nnbench.sources import installed_plugins

    given = getattr(args, "plugin", None) or []
    if not given and not installed_plugins():
        return []
    from nnbench.plugins import load_plugins

    return load_plugins(given)


def _method_terms_added(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`--methods` as (the methods in place of a study's, the `+NAME` ones added to them)."""
    terms = tuple(args.methods or ())
    added = tuple(term[1:].strip() for term in terms if term.startswith("+"))
    if added and len(added) != len(terms):
        raise NNBenchError(
            "--methods mixes +NAME terms (added to the study's own methods) with plain ones "
            "(in place of them)",
            "write every term with + to add methods, or none to replace the study's",
        )
    if "" in added:
        raise NNBenchError("--methods has a + without a name", "write +NAME, e.g. +my-lu")
    return (() if added else terms), added


def _check_names(args: argparse.Namespace, plugins: list[Any]) -> None:
    """Refuse an unknown study, method or matrix name before the registries of methods and
    studies load (seconds: torch, matplotlib), from their names (`nnbench.names`); with
    plug-ins (which have loaded them), from the registries as the plug-ins left them."""
    from nnbench.names import build_index, check_method_terms, check_study, name_index

    index = build_index() if plugins else name_index()
    # a TOML file is read (and checked) by the run (`studies.study_file.is_study_file`, not
    # imported here: nnbench.studies loads every study, the report and matplotlib)
    if args.study and not args.study.endswith(".toml"):
        check_study(args.study, index)
    methods, added = _method_terms_added(args)
    if methods or added:
        check_method_terms(methods or added, index)
    named = [term for term in args.matrices or () if not term.strip().startswith("file:")]
    if named:  # the corpus loads in a blink; files are read (and checked) by the run
        from nnbench.corpus import select_matrices

        select_matrices(named)


def _memory(text: str) -> float | None:
    from nnbench.running.memory import parse_memory

    try:
        return parse_memory(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _list_matrices() -> None:
    from nnbench.corpus import MATRIX_FAMILIES

    print("Matrix families (select by name, tag:EXPR, all or file:PATH):")
    for f in MATRIX_FAMILIES.values():
        size = "x".join(map(str, f.fixed_shape)) if f.fixed_shape else f"n (default {f.default_n})"
        params = ", ".join(f"{k}={v}" for k, v in f.params.items())
        print(f"  {f.name:<20} {size:<16} tags: {','.join(sorted(f.tags))}")
        print(f"  {'':<20} {f.description}{f'  [{params}]' if params else ''}")


def _list_methods() -> None:
    from nnbench.methods import GROUPS, METHODS
    from nnbench.sources import NNBENCH

    print(
        f"Methods (select by name, group: {', '.join(GROUPS)}, all, or task: kind:KIND; "
        "change a method's options with NAME[option=value,...]):"
    )
    width = max(len(name) for name in METHODS)
    sources = dict.fromkeys(m.source for m in METHODS.values())  # nnbench's first
    for source in sources:
        if source != NNBENCH:
            print(f"Methods of the plug-in {source}:")
        for m in (m for m in METHODS.values() if m.source == source):
            print(f"  {m.name:<{width}} {m.kind:<7} {m.group:<10} {m.backend:<6} {m.description}")


def _list_studies() -> None:
    from nnbench.studies import STUDIES

    print("Studies (--study NAME; --quick for the small variant):")
    for s in STUDIES.values():
        print(f"  {s.name:<20} {s.description}")


def _list_metrics() -> None:
    from nnbench.metrics import METRICS

    print("Metrics (one results column each; direction: which way is better):")
    for metric in METRICS:
        print(f"  {metric.name:<20} {metric.direction:<7} {metric.description}")


LISTINGS: dict[str, Callable[[], None]] = {
    "matrices": _list_matrices,
    "methods": _list_methods,
    "studies": _list_studies,
    "metrics": _list_metrics,
}


def _list(args: argparse.Namespace, argv: Sequence[str]) -> None:
    _plugins(args)
    for name, show in LISTINGS.items():
        if args.what in ("all", name):
            show()


def _execution(args: argparse.Namespace) -> Any:
    from nnbench.running.executors import Execution

    return Execution(
        jobs=args.jobs,
        timeout=args.timeout,
        scheduler=args.scheduler,
        force=args.force,
        keep_failures=args.keep_failures,
        progress=not args.no_progress,
        deadline=args.deadline,
        # not given: Execution's own default (SUPPRESS leaves the attribute out)
        **({"max_memory_mb": args.max_memory} if "max_memory" in vars(args) else {}),
    )


def _native_dtypes(matrices: Sequence[str]) -> tuple[str, ...]:
    """A grid's dtypes when none are asked for: each file's own precision, else float64."""
    from nnbench.corpus.files import native_dtype

    dtypes = [native_dtype(m.removeprefix("file:")) if m.startswith("file:") else "float64"
              for m in matrices]  # fmt: skip
    return tuple(dict.fromkeys(dtypes)) or ("float64",)


def _run(args: argparse.Namespace, argv: Sequence[str]) -> None:
    plugins = _plugins(args)
    _check_names(args, plugins)
    from nnbench.api import run_study
    from nnbench.running.journal import Journal

    methods, added = _method_terms_added(args)
    study = args.study or ("quick" if args.quick or not (args.matrices or methods) else None)
    out = args.out or Path("results") / (Path(study).stem if study else "run")
    execution = _execution(args)
    if plugins:
        from nnbench.plugins import check_execution

        check_execution(execution)
    if args.resume and not Journal(out).lines.is_file():
        raise NNBenchError(f"nothing to resume in {str(out)!r}", "run without --resume first")
    start = time.perf_counter()
    results = run_study(
        study,
        quick=args.quick,
        out=out,
        execution=execution,
        command="nnbench " + shlex.join(argv),
        matrices=args.matrices,
        methods=methods or None,
        add_methods=added,
        **{
            **{name: getattr(args, name) for name in _grid_fields()},
            "dtypes": args.dtypes or (None if study else _native_dtypes(args.matrices or ())),
        },
    )
    _summary(results, out, time.perf_counter() - start)


def _summary(results: Any, out: Path, wall_s: float) -> None:
    """The run's closing line: its cells by status, what was reused, and how much of its wall
    time the measured methods' timed calls were (the rest is the harness: matrices, checks,
    metrics, journal)."""
    counts = results.results["status"].value_counts().to_dict()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    cached = results.provenance.get("cached_cells", 0)
    held = results.provenance.get("folder_cells", len(results.results))
    timed = float(results.results["timed_s"].sum())
    share = (  # a reused cell's timed calls were made by an earlier run
        f", of which timed calls {timed:.1f} s ({timed / wall_s:.0%})" if not cached else ""
    )
    print(
        f"{len(results.results)} cells of this run ({summary}; {cached} reused from {out}) in "
        f"{wall_s:.1f} s{share}; the folder holds {held} -> {out}/results.parquet"
    )


def _report(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from nnbench.report import build_report
    from nnbench.report.build import check_report_folder
    from nnbench.results import load_results
    from nnbench.results.asv_history import load_asv_results
    from nnbench.studies import report_sections

    check_report_folder(args.out)  # before reading results or running anything
    if args.prune:
        from nnbench.report.prune import prune_results

        if not args.results:
            raise NNBenchError(
                "--prune prunes results folders, and none was given",
                "name them with --results DIR ...",
            )
        print(prune_results(args.results, report_sections()), file=sys.stderr)
    if args.results:
        from dataclasses import replace

        # each folder's path beside its provenance: the page names the folder of each verdict
        runs = [
            replace(res, provenance={**res.provenance, "folder": str(folder)})
            for folder, res in ((f, load_results(f)) for f in args.results)
        ]
    else:
        from nnbench.api import run_study
        from nnbench.running.executors import Execution

        print("no --results given: running the quick study first", file=sys.stderr)
        start = time.perf_counter()
        quick = run_study(
            "quick",
            quick=True,
            out=args.out / "results",
            execution=Execution(progress=True),
            command="nnbench report (quick study)",
        )
        _summary(quick, args.out / "results", time.perf_counter() - start)
        runs = [quick]
    history = load_asv_results(args.asv) if args.asv.is_dir() else None
    build_report(runs, args.out, sections=report_sections(), history=history, svg=args.svg)
    print(f"report -> {args.out}/report.md")


def _check(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """`nnbench check [--plugin P ...] [NAME ...]`: the conformance checks of the named
    methods, or of the `--plugin` plug-ins' (without either: every installed plug-in's)."""
    plugins = _plugins(args)
    from nnbench.check import check_methods, print_results
    from nnbench.methods import select_methods
    from nnbench.plugins import load_plugins

    terms = [term for names in args.names for term in names]
    if not terms:
        named = load_plugins(args.plugin, installed=False) if args.plugin else plugins
        terms = [name for plugin in named for name in plugin.methods]
    if not terms:
        raise NNBenchError(
            "nothing to check", "name methods (nnbench check NAME ...) or a plug-in (--plugin PATH)"
        )
    return print_results(check_methods(select_methods(terms)))


def _bench(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from nnbench.bench import BENCHMARKS, TAKES_RESULTS
    from nnbench.running.threads import DEFAULT_THREADS, thread_limit

    if args.name not in BENCHMARKS:
        raise NNBenchError(
            f"unknown benchmark {args.name!r}", f"choose one of {', '.join(sorted(BENCHMARKS))}"
        )
    options = {"results": args.results} if args.results is not None else {}
    if options and args.name not in TAKES_RESULTS:
        raise NNBenchError(
            f"bench {args.name} takes no --results", f"only {', '.join(TAKES_RESULTS)} does"
        )
    with thread_limit(DEFAULT_THREADS):
        BENCHMARKS[args.name](**options)


def _plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH.py|MODULE",
        help="load a plug-in: a Python file or an importable module whose NNBENCH_METHODS "
        "(NNBENCH_FAMILIES, NNBENCH_STUDIES) lists methods built from nnbench.api "
        "(repeatable; installed ones with an `nnbench` entry point load on their own; "
        "docs/plugins.md)",
    )


def _axes(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """--axes NAME=V1,V2;OTHER=V3 as (name, values) pairs (values as text: the axis's type
    is checked and applied with the grid)."""
    pairs = []
    for part in filter(str.strip, text.split(";")):
        name, equals, values = part.partition("=")
        if not equals or not name.strip() or not values.strip():
            raise argparse.ArgumentTypeError(f"cannot read {part!r} as NAME=V1,V2")
        pairs.append((name.strip(), tuple(v.strip() for v in values.split(",") if v.strip())))
    return tuple(pairs)


PARSERS: dict[str, Callable[[str], Any]] = {
    "ints": _split(int),
    "strs": _split(str),
    "int": int,
    "float": float,
    "axes": _axes,
}
"""How a `Grid` option's text parses (its field's `parse`)."""


def _grid_fields() -> list[str]:
    """The `Grid` fields that are plain options of `nnbench run` (matrices and methods have
    options of their own)."""
    from dataclasses import fields

    from nnbench.running.grid import Grid

    return [f.name for f in fields(Grid) if f.metadata.get("parse")]


def _grid_options(run: argparse.ArgumentParser) -> None:
    """`--NAME` for each `Grid` field with a parse, its help from the field."""
    from dataclasses import fields

    from nnbench.running.grid import Grid

    for f in fields(Grid):
        if f.metadata.get("parse"):
            flag = "--" + f.name.replace("_", "-")
            run.add_argument(flag, type=PARSERS[f.metadata["parse"]], help=f.metadata["help"])


def _run_options(run: argparse.ArgumentParser) -> None:
    _plugin_option(run)
    run.add_argument(
        "--study",
        help="named set of grids, or a TOML file of them (path/study.toml) (default: quick "
        "when no --matrices or --methods are given; with them, one grid of the documented "
        "defaults: float64 (a .npy file: its own precision), one instance, 5 timed calls, "
        "k = 1)",
    )
    run.add_argument("--quick", action="store_true", help="use the study's small variant")
    run.add_argument(
        "--matrices",
        type=_matrix_terms,
        help="names, tag:EXPR (tag:spd, tag:square+!image), all, file:PATH (may hold commas)",
    )
    run.add_argument(
        "--methods",
        type=_method_terms,
        help="names (NAME[option=value,...] to change options), groups (classical, hybrid, "
        "neural, amortized), all, or a task's methods: kind:lu, qr, svd, rank-k or precond; "
        "+NAME,+OTHER adds methods to the study's own (to its grids of their kind)",
    )
    _grid_options(run)
    run.add_argument("--out", type=Path, help="results folder (default: results/STUDY)")
    run.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    run.add_argument("--timeout", type=float, help="seconds per cell, enforced by killing it")
    from nnbench.running.memory import DEFAULT_FRACTION

    run.add_argument(
        "--max-memory",
        type=_memory,
        default=argparse.SUPPRESS,
        help="how far a cell may grow its process's resident memory: 4G, 300M, 512 (MB), 50%% "
        f"of the machine's or none (default: {100 * DEFAULT_FRACTION:.0f}%% of the machine's). "
        "A cell past it is stopped, a failed row saying so, and the run goes on: a worker "
        "(--jobs, --timeout) is killed; in this process the cell gets a MemoryError at its "
        "next Python step",
    )
    run.add_argument(
        "--deadline",
        type=float,
        help="seconds from the start after which no cell starts (the rest: skipped rows saying "
        "so; a later run of --out runs them), e.g. a lent GPU's budget",
    )
    run.add_argument("--scheduler", help="dask.distributed scheduler, e.g. tcp://HOST:8786")
    run.add_argument(
        "--force", action="store_true", help="recompute this run's cells already in --out"
    )
    run.add_argument(
        "--keep-failures",
        action="store_true",
        help="reuse failed cells already in --out too (by default a failed cell runs again; "
        "ok, skipped, diverged and timeout cells are reused)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted run in --out (finished cells are reused)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _report_options(report: argparse.ArgumentParser) -> None:
    report.add_argument(
        "--results",
        type=Path,
        nargs="*",
        default=[],
        help="results folders (default: run the quick study first)",
    )
    report.add_argument("--out", type=Path, default=Path("reports/quick"), help="report folder")
    report.add_argument(
        "--prune",
        action="store_true",
        help="first prune the --results folders to what this report draws (artifacts' "
        "pictures as grey levels, loss curves at most 256 steps each), for committing "
        "results a report is rebuilt from",
    )
    report.add_argument(
        "--svg", action="store_true", help="write each figure as SVG too, beside its PNG"
    )
    report.add_argument(
        "--asv",
        type=Path,
        default=Path(".asv/results"),
        help="asv results folder for the history section (used if it exists)",
    )


COMMANDS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int | None]] = {
    "list": _list,
    "run": _run,
    "check": _check,
    "report": _report,
    "bench": _bench,
}


class _Parser(argparse.ArgumentParser):
    """argparse's own errors as one line, like every other error (its usage block is the
    `--help` text's, not the fix)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nnbench", description="Neural vs classical matrix factorization benchmarks."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    lister = sub.add_parser("list", help="show matrix families, methods, studies or metrics")
    lister.add_argument("what", nargs="?", default="all", choices=["all", *LISTINGS])
    _plugin_option(lister)
    _run_options(sub.add_parser("run", help="run a study or a grid; write a results folder"))
    checker = sub.add_parser(
        "check", help="check that methods (a plug-in's) keep the method contract"
    )
    _plugin_option(checker)
    checker.add_argument(
        "names",
        nargs="*",
        type=_method_terms,
        help="methods to check (default: the --plugin plug-ins' methods)",
    )
    _report_options(sub.add_parser("report", help="tables, figures and HTML from results"))
    bench = sub.add_parser("bench", help="benchmark scripts that print measured ratios")
    bench.add_argument("name", help="which benchmark (an unknown name lists them)")
    bench.add_argument(
        "--results",
        type=Path,
        help="report-build: the results folder to build from (default: run the quick study)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args, argv)
    except NNBenchError as exc:
        print(f"nnbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C: one line, not a traceback
        message = "nnbench: interrupted"
        if isinstance(exc, RunInterrupted) and exc.out and exc.finished:
            again = argv if "--resume" in argv else [*argv, "--resume"]
            message += (
                f": {exc.finished} of {exc.total} cells finished and are kept in "
                f"{exc.out}/.journal; resume with: nnbench {shlex.join(again)}"
            )
        elif isinstance(exc, RunInterrupted):
            message += f" before any of its {exc.total} cells finished; nothing is kept"
        print(message, file=sys.stderr)
        return 130
    return code or 0
