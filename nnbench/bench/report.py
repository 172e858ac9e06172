"""`nnbench bench report-build`: what building the report costs, section by section."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from nnbench.bench.timers import best_of


def report_build(*, results: Path | None = None, repeats: int = 3) -> None:
    """What building the report costs: the quick study's results (`results`, or a fresh
    quick run), built `repeats` times into a scratch folder; prints the best and the median
    wall time of a build, the seconds of each section in the best build (its table or
    figure made, encoded and written), and the report folder's size."""
    import tempfile

    from nnbench.api import load_results, run_study
    from nnbench.report import build_report
    from nnbench.studies import report_sections

    with tempfile.TemporaryDirectory(prefix="nnbench-report-build-") as scratch:
        if results is None:
            results = Path(scratch) / "results"
            seconds, _ = best_of(partial(run_study, "quick", quick=True, out=results), 1)
            print(f"quick study: {seconds:.1f} s -> {results}")
        runs = [load_results(results)]
        sections = report_sections()
        builds: list[tuple[float, dict[str, float]]] = []
        for i in range(repeats):
            timings: dict[str, float] = {}
            out = Path(scratch) / f"report-{i}"
            build = partial(build_report, runs, out, sections=sections, timings=timings)
            builds.append((best_of(build, 1)[0], timings))
        walls = [wall for wall, _ in builds]
        best, timings = min(builds, key=lambda b: b[0])
        folder = Path(scratch) / f"report-{walls.index(best)}"
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(
            f"report build of {len(runs[0].results)} cells: "
            f"{', '.join(f'{w:.1f}' for w in walls)} s in {repeats} builds (the first in a "
            f"fresh process: what `nnbench report` costs); report folder {size / 1e6:.1f} MB "
            "(its results folder apart)"
        )
        print(f"{'section':<34} {'seconds':>8} {'share':>6}")
        for name, seconds in sorted(timings.items(), key=lambda t: -t[1]):
            print(f"{name:<34} {seconds:8.2f} {seconds / best:6.0%}")
