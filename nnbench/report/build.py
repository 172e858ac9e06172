"""The one place the report writes files: index.html (self-contained), report.md,
tables/*.csv and figures/*.png (and *.svg on request)."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import textwrap
import time
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from nnbench.errors import NNBenchError
from nnbench.report import page
from nnbench.report.figures import FIGURES
from nnbench.report.judging import PAGE_HIDES, RATIO_NUMBERS
from nnbench.report.page import safe_name
from nnbench.report.problems import MACHINE, SOURCE
from nnbench.report.resampling import resampling, resampling_text
from nnbench.report.sentences import headline
from nnbench.report.spec import FigureSpec, HeadlineSpec, Missing, NoteSpec, TableSpec
from nnbench.report.tables import HISTORY, TABLES, history_table
from nnbench.report.untimed import untimed_note
from nnbench.results import Results
from nnbench.results.provenance import git_commit
from nnbench.results.table import umask


def combine(runs: list[Results]) -> Results:
    """Several results folders as one Results (provenance keeps each run's entry). A cell in
    several folders (the same cell_id) counts once: the last folder's row. Each row's `source`
    is its folder's place in `runs` (the verdict judges a problem within one run), its
    `machine` the machine that folder ran on (`machine`)."""
    results = _short_file_names(
        pd.concat(
            [
                r.results.assign(**{SOURCE: i, MACHINE: machine(r.provenance)})
                for i, r in enumerate(runs)
            ],
            ignore_index=True,
        )
    )
    # a folder without curves has an untyped empty table: concatenated, it would make the
    # loss column `object` (quantiles fail), so only non-empty curve tables are joined
    curves = pd.concat([r.curves for r in runs if len(r.curves)] or [runs[0].curves])
    curves = curves.reset_index(drop=True)
    return Results(
        results=results.drop_duplicates("cell_id", keep="last", ignore_index=True),
        curves=curves.drop_duplicates(["cell_id", "step"], keep="last", ignore_index=True),
        provenance={"runs": [r.provenance for r in runs]},
        artifacts={k: v for r in runs for k, v in r.artifacts.items()},
    )


def machine(provenance: dict) -> str:
    """The machine a run's times were measured on, from its provenance: CPU, threads, GPUs."""
    threads = provenance.get("threads", "?")
    gpus = [str(v) for k, v in provenance.get("devices", {}).items() if k != "cpu"]
    return ", ".join([f"CPU {provenance.get('cpu', '?')}", f"{threads} thread(s)", *gpus])


def _short_file_names(results: pd.DataFrame) -> pd.DataFrame:
    """A user's matrix `file:/long/path/coins.png` as `file:coins.png` (the figure titles and
    tables show it; the results folders keep the path), unless two paths share a name."""
    paths = results.matrix[results.matrix.str.startswith("file:")].unique()
    short = {p: "file:" + Path(p.removeprefix("file:")).name for p in paths}
    if len(set(short.values())) < len(short):
        return results
    return results.assign(matrix=results.matrix.replace(short)) if short else results


def _figure_bytes(fig: Figure, svg: bool) -> tuple[bytes, bytes | None]:
    """The figure as the page's PNG, and as SVG where asked for (encoding both doubled a
    report's figure time). A figure with a constrained layout already fits its legends and
    titles inside itself: it is saved as laid out, without the second draw that measuring a
    tight box costs (a quarter of its encoding time); others are cut to their tight box."""
    fits = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    if fits:
        fit_title(fig)
    for ax in fig.axes:
        log_ticks(ax)
    box = None if fits else "tight"
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110, bbox_inches=box)
    vector = None
    if svg:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", bbox_inches=box)
        vector = buffer.getvalue()
    plt.close(fig)
    return _palette_png(png.getvalue()), vector


def log_ticks(ax: Axes) -> None:
    """Label a log axis that spans under two decades at a few round values (1, 2, 5, ... of
    each decade, two digits: it showed one labelled tick, or every minor tick's label run
    together), and never a minor tick."""
    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log":
            continue
        low, high = sorted(limits)
        explicit = isinstance(axis.get_major_locator(), matplotlib.ticker.FixedLocator)
        if low > 0 and high / low < 100 and not explicit:  # (a figure's own ticks stay)
            axis.set_major_locator(matplotlib.ticker.FixedLocator(_round_ticks(low, high)))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:.2g}"))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _round_ticks(low: float, high: float) -> list[float]:
    """Three or four round values in [low, high] (fewer where even 1, 1.5, 2, 3, 4, 5, 7 of
    each decade give no more)."""
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    ticks: list[float] = []
    for subs in ((1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0, 7.0), (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)):
        ticks = [m * 10.0**e for e in decades for m in subs if low <= m * 10.0**e <= high]
        if len(ticks) >= 3:
            return ticks[:: max(1, len(ticks) // 4)]
    if len(ticks) >= 2:
        return ticks
    # a range too narrow for round values: three points across it, to two digits
    return sorted({float(f"{t:.2g}") for t in np.geomspace(low, high, 5)[1:-1]})


def fit_title(fig: Figure) -> None:
    """Wrap the figure's title to its width: a figure saved as laid out (not cut to its tight
    box) would otherwise cut a long title at both edges."""
    title = getattr(fig, "_suptitle", None)  # matplotlib keeps it there (no public getter)
    if title is None or not title.get_text():
        return
    size = title.get_fontsize()
    chars = max(20, int(fig.get_figwidth() * 72 / (0.6 * float(size))))
    title.set_text(textwrap.fill(" ".join(title.get_text().split()), chars))


Timings = MutableMapping[str, float]  # seconds per report section, filled as it is built


@contextmanager
def _timed(timings: Timings | None, name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def _palette_png(png: bytes) -> bytes:
    """The PNG with at most 256 colours (a figure's lines, text and grayscale pictures need
    no more): about a third of the bytes, so that the pages that embed them stay small; the
    SVG beside it keeps every colour. A figure all in greys (the image panels) is stored as
    8-bit grey, exactly and in about half the bytes of its palette. The fast octree palette,
    saved without PIL's optimize pass: a quarter of the median-cut palette's time and fewer
    bytes, for text edges a shade coarser."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    pixels = np.asarray(rgb)
    grey = bool(
        (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    )
    small = rgb.convert("L") if grey else rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()


PAGE_ROWS = 200  # rows of a table on the page and in report.md (the CSV has them all)
# a compact table's CSV, not its page
CSV_ONLY = ("time_iqr_s", "rel_err_fro_max", *PAGE_HIDES, *RATIO_NUMBERS)


def _compact(spec: TableSpec, table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table without the columns that hold one value on every row, and the line that
    states them once; a `compact` table without its CSV_ONLY columns too (the CSV keeps every
    column). A one-row table keeps its columns: its row reads as one. The first column goes
    too where it holds one value (it names no row apart), unless nothing else would vary."""
    several = len(table) >= 2
    constant = [c for c in table.columns if several and table[c].nunique(dropna=False) == 1]
    if len(constant) >= len(table.columns) - 1 and table.columns[0] in constant:
        constant.remove(table.columns[0])  # a table of one varying column keeps its name
    hidden = [c for c in CSV_ONLY if spec.compact and c in table.columns and c not in constant]
    empty = [c for c in constant if _plain(table[c].iloc[0]) in ("", "-")]
    lines = []
    if said := [c for c in constant if c not in empty]:
        shown = ", ".join(f"{c} {_plain(table[c].iloc[0])}" for c in said)
        lines.append(f"Every row: {shown}.")
    if empty:
        lines.append(f"No row has a value for {', '.join(empty)}.")
    if hidden:
        lines.append(f"The CSV adds {', '.join(hidden)}.")
    return table.drop(columns=constant + hidden), " ".join(lines)


def _plain(value: object) -> str:
    if value is None or value is pd.NA:
        return "-"
    if isinstance(value, float):
        return "-" if value != value else page.number(value)
    return str(value)


def _headlines(sections: Sequence[object]) -> list[HeadlineSpec]:
    """The studies' headline specs, summaries first (a method's sentence over all its problems
    came after eleven per-family ones)."""
    specs = [s for s in sections if isinstance(s, HeadlineSpec)]
    return sorted(specs, key=lambda s: not s.summary)


def build_report(
    runs: list[Results],
    out: str | Path,
    *,
    sections: Sequence[TableSpec | FigureSpec | NoteSpec | HeadlineSpec] = (),
    history: pd.DataFrame | None = None,
    svg: bool = False,
    timings: Timings | None = None,
) -> Path:
    """Write the report for the combined results of `runs` into `out`: the report's own
    tables and figures and the given `sections` (the studies': see
    `nnbench.studies.report_sections`), laid out as the headline (one sentence per task, from
    the verdict: `report.sentences.headline`), the cell count and the notes, leading tables,
    figures, other tables.
    An asv history section is added when `history` (from `load_asv_results`) is given.
    `svg` writes each figure as SVG too; `timings`, where given, gets the seconds each
    section took (its table or figure made, encoded and written) and "headline".

    The page is written to a temporary folder beside `out` and moved into place whole, so a
    failure leaves no half report and no file of an earlier build survives in `out`."""
    out = Path(out)
    check_report_folder(out)
    res = combine(runs)
    tables: list[TableSpec] = [
        *TABLES[:2],
        *(s for s in sections if isinstance(s, TableSpec)),
        *TABLES[2:],
    ]
    if history is not None and not history.empty:
        tables.append(replace(HISTORY, make=lambda _: history_table(history)))
    figures: list[FigureSpec] = [*FIGURES, *(s for s in sections if isinstance(s, FigureSpec))]
    notes = [s.text for s in sections if isinstance(s, NoteSpec) and s.applies(res)]
    with _timed(timings, "headline"):
        sentences = [  # first after the title: the verdict in words, then the studies' answers
            *headline(res.results),
            *(line for s in _headlines(sections) for line in s.make(res)),
        ]
    names = [spec.name for spec in tables] + [spec.name for spec in figures]
    if len(set(names)) != len(names):
        shared = sorted({n for n in names if names.count(n) > 1})
        raise NNBenchError(
            f"report sections share a name: {', '.join(shared)}",
            "give each TableSpec and FigureSpec a name of its own",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o777 & ~umask())  # mkdtemp's folder is owner-only; a report is not
    try:
        _write(staging, *_layout(res, tables, figures, notes, sentences, svg, timings))
        _replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def check_report_folder(out: Path) -> None:
    """Refuse, before any work, a report folder that cannot be one: an existing file, a path
    under a file, or a place this user cannot write."""
    parent = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if parent.is_file() or (out.exists() and not out.is_dir()):
        raise NNBenchError(
            f"report folder {str(out)!r} is a file or lies under one", "pass --out a folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NNBenchError(
            f"cannot write in {str(parent)!r}", "pass --out a folder you can write to"
        )


def _replace(staging: Path, out: Path) -> None:
    """`out` becomes `staging`: what the build wrote, and of an earlier `out` only what the
    report does not write (a results folder kept beside it, say)."""
    if out.exists():
        for name in (*WRITTEN, *(p.name for p in staging.iterdir())):
            old = out / name
            if old.is_dir():
                shutil.rmtree(old)
            elif old.exists():
                old.unlink()
        for item in out.iterdir():
            item.rename(staging / item.name)
        out.rmdir()
    staging.rename(out)


WRITTEN = ("tables", "figures", "index.html", "report.md")  # what a build owns in `out`


def _layout(
    res: Results,
    table_specs: list[TableSpec],
    figure_specs: list[FigureSpec],
    notes: list[str],
    sentences: list[str],
    svg: bool,
    timings: Timings | None,
) -> tuple[list[page.Block], dict[str, pd.DataFrame], dict[str, bytes]]:
    """The page's blocks, in their order (headline, cell count, notes, leading tables,
    figures, the other tables, provenance), with the files beside it: each table's CSV (all
    its rows) and each figure's PNG (and SVG), by file name."""
    tables: dict[str, tuple[TableSpec, pd.DataFrame]] = {}
    for spec in table_specs:
        with _timed(timings, spec.name):
            made = spec.make(res)
        if not made.empty:
            tables[spec.name] = (spec, made)
    blocks: list[page.Block] = [
        *(page.Paragraph(sentence, "headline") for sentence in sentences),
        page.Paragraph(_cell_count(res.results)),
        page.Paragraph(resampling_text(resampling(res.results)), "note"),
        *(page.Paragraph(note) for note in notes),
        *(_table_block(spec, table) for spec, table in tables.values() if spec.leading),
        page.Section("Figures", "figures"),
    ]
    files: dict[str, bytes] = {}
    missing: list[tuple[str, str]] = []
    for figure in figure_specs:
        with _timed(timings, figure.name):
            drawn = _figure_block(res, figure, svg, files)
        if isinstance(drawn, Missing):
            if not figure.optional:
                missing.append((figure.title, drawn.reason))
        elif drawn is not None:
            blocks.append(drawn)
    if missing:  # one line each, after the figures the run could draw
        blocks.append(page.NotDrawn(tuple(missing)))
    blocks += [_table_block(spec, table) for spec, table in tables.values() if not spec.leading]
    blocks.append(page.Provenance(tuple(res.provenance["runs"]), rendered_at()))
    csvs = {f"{safe_name(name)}.csv": table for name, (_, table) in tables.items()}
    return blocks, csvs, files


def rendered_at() -> str:
    """The commit of this checkout that renders the page, "+ uncommitted changes" where a
    tracked file outside reports/ is modified (`git_commit`); "" outside git."""
    commit = git_commit()
    modified = " + uncommitted changes" if commit.endswith("-dirty") else ""
    return f"commit {commit.removesuffix('-dirty')[:12]}{modified}" if commit else ""


def _cell_count(results: pd.DataFrame) -> str:
    counts = results["status"].value_counts().to_dict()
    runs = results.run.nunique() if "run" in results else 1
    repeated = f" ({runs} runs of each)" if runs > 1 else ""
    return f"{len(results)} cells{repeated}: " + ", ".join(f"{v} {k}" for k, v in counts.items())


def _table_block(spec: TableSpec, table: pd.DataFrame) -> page.Table:
    shown, constant = _compact(spec, table)
    cut = ""
    if len(shown) > PAGE_ROWS:  # a page a person reads; the CSV keeps every row
        shown = shown.head(PAGE_ROWS)
        cut = f"The page shows the first {PAGE_ROWS} of {len(table)} rows; the CSV has all."
    notes = [spec.note, untimed_note(table), constant, cut, _number_notes(spec, shown)]
    return page.Table(
        name=spec.name,
        title=spec.title,
        note=" ".join(filter(None, notes)),
        shown=shown,
        digits=spec.digits,
        rows=len(table),
        collapsed=spec.collapsed,
        nav=spec.nav or spec.name,
    )


def _number_notes(spec: TableSpec, shown: pd.DataFrame) -> str:
    """What the page's numbers need said: a tiny negative shown as 0, and inf where the
    table's own note does not say what it means."""
    notes = []
    if page.tiny_negatives(shown):
        notes.append(
            f"A negative value of magnitude below {page.TINY:g} is rounding's (below the "
            "rounding floor max(m, n) eps of its task) and is shown as 0."
        )
    numbers = shown.select_dtypes("number").to_numpy(float, na_value=np.nan)
    if np.isinf(numbers).any() and "inf" not in spec.note:
        notes.append("inf: infinite (the quantity divides by zero there).")
    return " ".join(notes)


def _figure_block(
    res: Results, figure: FigureSpec, svg: bool, files: dict[str, bytes]
) -> page.Figure | Missing:
    """The figure drawn and encoded (its files added to `files`), or why it cannot be."""
    drawn = figure.make(res)
    if isinstance(drawn, Missing):
        return drawn
    pictures = []
    for name, fig in drawn if isinstance(drawn, list) else [(figure.name, drawn)]:
        stem = safe_name(name)
        png, vector = _figure_bytes(fig, svg)
        files[f"{stem}.png"] = png
        if vector is not None:
            files[f"{stem}.svg"] = vector
        pictures.append(page.Picture(name, stem, png, vector is not None))
    return page.Figure(figure.title, figure.caption, tuple(pictures))


def _write(
    out: Path, blocks: list[page.Block], csvs: dict[str, pd.DataFrame], files: dict[str, bytes]
) -> None:
    """The page twice (index.html, report.md) and the files beside it, into `out`."""
    for sub in ("tables", "figures"):
        (out / sub).mkdir()
    for name, table in csvs.items():
        table.to_csv(out / "tables" / name, index=False)
    for name, data in files.items():
        (out / "figures" / name).write_bytes(data)
    (out / "index.html").write_text(page.html_page(blocks))
    (out / "report.md").write_text(page.markdown(blocks))
