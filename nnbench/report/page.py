"""A report page as a list of typed blocks (headings, paragraphs, tables, figures, the
figures a run could not draw, provenance), laid out once by `build` and written twice: as
Markdown (`markdown`) and as self-contained HTML (`html_page`)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:1360px;
padding:1rem 1.2rem;color:#222;line-height:1.4}
h1{border-bottom:2px solid #357;padding-bottom:.3rem}h2{margin-top:2rem;color:#235}
table{border-collapse:collapse;font-size:11.5px;margin:.5rem 0;max-width:100%}
th,td{border:1px solid #ccc;padding:2px 3px;text-align:right}
td{max-width:16rem}
th{background:#eef2f7;white-space:normal;vertical-align:bottom;overflow-wrap:normal;
min-width:3rem}
td:first-child,th:first-child{text-align:left}
.scroll{overflow-x:auto;border:1px solid #ddd}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555}.missing{color:#955;font-style:italic}
nav a{margin-right:1rem;display:inline-block}code{background:#f4f4f4;padding:0 3px}
.note{font-size:13px;color:#444;max-width:75rem}
.headline{font-size:15px;max-width:75rem;border-left:4px solid #357;padding-left:.6rem}
table.wrap-last td:last-child{min-width:16rem;max-width:30rem;text-align:left}
"""

WRAPPED = ("note", "reason", "command", "headline")  # long text: a last column of these wraps


@dataclass(frozen=True)
class Paragraph:
    """A line of prose: a headline sentence (`css="headline"`), the cell count, a note."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class Section:
    """A heading of its own (## in Markdown), listed in the page's navigation."""

    title: str
    anchor: str


@dataclass(frozen=True)
class Table:
    """A table section: its shown rows (the CSV beside the page has them all)."""

    name: str
    title: str
    note: str
    shown: pd.DataFrame
    digits: int
    rows: int
    collapsed: bool
    nav: str


@dataclass(frozen=True)
class Picture:
    """One panel of a figure: its file stem, its PNG, and whether an SVG lies beside it."""

    name: str
    stem: str
    png: bytes
    svg: bool


@dataclass(frozen=True)
class Figure:
    title: str
    caption: str
    pictures: tuple[Picture, ...]


@dataclass(frozen=True)
class NotDrawn:
    """The figures the run has no data for, each with the reason."""

    missing: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Provenance:
    """The page's footer: each results folder the page was built from (the runs' `run.json`
    entries) and the commit that rendered the page (`rendered`: "abc123 + uncommitted
    changes" where the checkout was modified; "" where none is known)."""

    runs: tuple[dict, ...]
    rendered: str = ""


Block = Paragraph | Section | Table | Figure | NotDrawn | Provenance
TITLE = "nnbench report"


def markdown(blocks: list[Block]) -> str:
    """The page as report.md."""
    lines = [f"# {TITLE}", ""]
    for block in blocks:
        lines += MARKDOWN[type(block)](block)
    return "\n".join(lines) + "\n"


def html_page(blocks: list[Block]) -> str:
    """The page as one self-contained index.html (figures embedded), with a navigation bar
    of its sections."""
    nav = "".join(
        f'<a href="#{safe_name(anchor)}">{html.escape(label)}</a>'
        for anchor, label in map(_nav, blocks)
        if anchor
    )
    body = f"<h1>{TITLE}</h1>" + "".join(HTML[type(block)](block) for block in blocks)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{TITLE}</title><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
        f"<nav>{nav}</nav>{body}</body></html>"
    )


def _nav(block: Block) -> tuple[str, str]:
    """The anchor and label of a block's entry in the navigation ("" for none)."""
    if isinstance(block, Section):
        return block.anchor, block.title
    if isinstance(block, Table):
        return block.name, block.nav
    if isinstance(block, Provenance):
        return "provenance", "Provenance"
    return "", ""


def _paragraph_md(block: Paragraph) -> list[str]:
    return [block.text, ""]


def _paragraph_html(block: Paragraph) -> str:
    css = f' class="{block.css}"' if block.css else ""
    return f"<p{css}>{html.escape(block.text)}</p>"


def _section_md(block: Section) -> list[str]:
    return [f"## {block.title}", ""]


def _section_html(block: Section) -> str:
    return f'<h2 id="{safe_name(block.anchor)}">{html.escape(block.title)}</h2>'


def _table_md(block: Table) -> list[str]:
    note = [block.note, ""] if block.note else []
    return [f"## {block.title}", "", *note, _table_markdown(block.shown, block.digits), ""]


def _table_section_html(block: Table) -> str:
    anchor = safe_name(block.name)
    inner = f'<div class="scroll">{_table_html(block.shown, block.digits)}</div>'
    if block.note:
        inner = f'<p class="note">{html.escape(block.note)}</p>{inner}'
    if block.collapsed:
        inner = f"<details><summary>{block.rows} rows</summary>{inner}</details>"
    return (
        f'<h2 id="{anchor}">{html.escape(block.title)}</h2>{inner}'
        f'<p><a href="tables/{anchor}.csv">CSV</a></p>'
    )


def _figure_md(block: Figure) -> list[str]:
    lines = [f"### {block.title}", ""]
    for picture in block.pictures:
        lines += [f"![{picture.name}](figures/{picture.stem}.png)", ""]
    return lines


def _figure_html(block: Figure) -> str:
    parts = [f"<h3>{html.escape(block.title)}</h3>"]
    for picture in block.pictures:
        link = f' (<a href="figures/{picture.stem}.svg">SVG</a>)' if picture.svg else ""
        data = base64.b64encode(picture.png).decode()
        parts.append(
            f'<figure><img alt="{html.escape(picture.name)}" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(block.caption)}{link}</figcaption></figure>"
        )
    return "".join(parts)


def _not_drawn_md(block: NotDrawn) -> list[str]:
    items = [f"- {title}: {reason}." for title, reason in block.missing]
    return ["Not drawn (no data in this run):", "", *items, ""]


def _not_drawn_html(block: NotDrawn) -> str:
    items = "".join(
        f"<li>{html.escape(title)}: {html.escape(reason)}</li>" for title, reason in block.missing
    )
    return (
        f'<details class="missing"><summary>{len(block.missing)} figures need data this run '
        f"does not have</summary><ul>{items}</ul></details>"
    )


NOT_RECORDED = "not recorded by this run"  # a run.json written before the entry existed


def footer_lines(block: Provenance) -> list[tuple[str, str]]:
    """The footer's facts as (label, text): the commits that ran the results, the commit
    that rendered the page, the CPU and the BLAS libraries. Where the runs differ, each value
    names its results folders (numbered as the list below them)."""
    return [
        ("Results run at", _by_run(block.runs, _run_commit)),
        ("Page rendered at", block.rendered or "not in a git checkout"),
        ("CPU", _by_run(block.runs, _cpu_text)),
        ("BLAS", _by_run(block.runs, _blas_text)),
    ]


def _by_run(runs: tuple[dict, ...], describe: Callable[[dict], str]) -> str:
    """One text for all runs, or each distinct text with its results folders (1, 2, ...)."""
    folders: dict[str, list[int]] = {}
    for number, run in enumerate(runs, start=1):
        folders.setdefault(describe(run), []).append(number)
    if len(folders) <= 1:
        return next(iter(folders), NOT_RECORDED)
    return "; ".join(
        f"{text} (results folder{'s' * (len(n) > 1)} {', '.join(map(str, n))})"
        for text, n in folders.items()
    )


def _run_commit(run: dict) -> str:
    commit = str(run.get("git_commit") or "")
    if not commit:
        return f"commit {NOT_RECORDED}"
    modified = " + uncommitted changes" if commit.endswith("-dirty") else ""
    return f"commit {commit.removesuffix('-dirty')[:12]}{modified}"


def _cpu_text(run: dict) -> str:
    """ "AMD EPYC (AuthenticAMD family 25 model 1 stepping 1, avx2, under a hypervisor, 2
    logical CPUs), 2 thread(s)"; the name alone for a run that recorded no model."""
    model = run.get("cpu_model")
    if model:
        described = " ".join(
            f"{label}{model[key]}".strip()
            for key, label in (("vendor", ""), ("family", "family "), ("model", "model "))
            if model.get(key)
        )
        facts = [
            described + (f" stepping {model['stepping']}" if model.get("stepping") else ""),
            str(model.get("simd") or ""),
            "under a hypervisor" if model.get("hypervisor") else "",
            f"{model['logical_cpus']} logical CPUs" if model.get("logical_cpus") else "",
        ]
        details = f" ({', '.join(f for f in facts if f)})"
    else:
        details = f" (model details {NOT_RECORDED})"
    threads = f", {run['threads']} thread(s)" if run.get("threads") else ""
    return f"{run.get('cpu') or NOT_RECORDED}{details}{threads}"


def _blas_text(run: dict) -> str:
    """ "numpy: openblas 0.3.31 (libscipy_openblas64_.so); torch: built with mkl
    2024.2"; NOT_RECORDED for a run from before run.json named its BLAS."""
    if "blas" not in run:
        return NOT_RECORDED
    libraries = []
    for package, lib in run["blas"].items():
        if package == "torch":
            if lib:
                version = f" {lib['version']}" if lib.get("version") else ""
                libraries.append(f"torch: built with {lib.get('blas', 'unknown')}{version}")
            continue
        # its num_threads is the pool when run.json was written, not the cells' (`threads`)
        version = lib.get("version") or "version unknown"
        libraries.append(
            f"{package}: {lib.get('internal_api', 'unknown')} {version} "
            f"({lib.get('library', 'file unknown')})"
        )
    return "; ".join(libraries) or "none loaded"


def _provenance_md(block: Provenance) -> list[str]:
    lines = ["## Provenance", ""]
    lines += [f"- {label}: {text}" for label, text in footer_lines(block)]
    lines.append("")
    for number, run in enumerate(block.runs, start=1):
        folder = f"`{run['folder']}`: " if run.get("folder") else ""
        plugins = f", {_plugins_text(run)}" if run.get("plugins") else ""
        lines.append(
            f"{number}. {folder}`{run.get('command', '?')}` at {run.get('started', '?')}, commit "
            f"`{str(run.get('git_commit', '?'))[:12]}`, {run.get('threads', '?')} "
            f"thread(s), CPU {run.get('cpu', '?')}, "
            f"torch {run.get('versions', {}).get('torch', '?')}{plugins}"
        )
    return lines


def _provenance_section_html(block: Provenance) -> str:
    facts = "".join(
        f"<li><b>{html.escape(label)}</b>: {html.escape(text)}</li>"
        for label, text in footer_lines(block)
    )
    return (
        f'<footer><h2 id="provenance">Provenance</h2><ul>{facts}</ul>'
        f"{_provenance_html({'runs': list(block.runs)})}</footer>"
    )


MARKDOWN: dict[type, Callable] = {
    Paragraph: _paragraph_md,
    Section: _section_md,
    Table: _table_md,
    Figure: _figure_md,
    NotDrawn: _not_drawn_md,
    Provenance: _provenance_md,
}
HTML: dict[type, Callable] = {
    Paragraph: _paragraph_html,
    Section: _section_html,
    Table: _table_section_html,
    Figure: _figure_html,
    NotDrawn: _not_drawn_html,
    Provenance: _provenance_section_html,
}


def _blank_missing(table: pd.DataFrame) -> pd.DataFrame:
    """Every missing value (NaN, None, pd.NA, in any column) as a blank cell: a page shows
    no `nan`, `None` or `<NA>`. Float columns stay numbers (their formatter blanks NaN)."""
    shown = table.copy()
    for column in shown.columns:
        plain_float = isinstance(shown[column].dtype, np.dtype) and shown[column].dtype.kind == "f"
        if not plain_float and shown[column].isna().any():  # nullable Float64 too: <NA>
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
    return shown


TINY = 1e-9
"""A negative value closer to 0 than this is rounding's (an excess of -5.6e-16, say): the
page shows 0, and the table's note says so (`tiny_negatives`)."""


def number(v: float, digits: int = 2) -> str:
    """A float on the page: `digits` significant digits, positional where it is a count or
    below a million (1200, 78, 0.0012, 3.6e-15); blank where missing; 0 for a tiny negative
    (`TINY`); inf as inf (the table's note says what it means)."""
    if v != v:
        return ""
    if not np.isfinite(v):
        return "inf" if v > 0 else "-inf"
    if -TINY < v < 0:
        return "0"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    shown = f"{v:.{digits}g}"
    if "e+" in shown and abs(v) < 1e6:
        return f"{float(shown):.0f}"
    return shown


def tiny_negatives(table: pd.DataFrame) -> bool:
    """Whether any float of `table` is a tiny negative the page shows as 0."""
    values = table.select_dtypes("number").to_numpy(float, na_value=np.nan).ravel()
    values = values[np.isfinite(values)]
    return bool(((values < 0) & (values > -TINY)).any())


def _numbers(table: pd.DataFrame, digits: int) -> pd.DataFrame:
    return _blank_missing(table).map(lambda v: number(v, digits) if isinstance(v, float) else v)


def _table_markdown(table: pd.DataFrame, digits: int = 2) -> str:
    """Floats by `number` (missing values blank); strings as they are. tabulate would parse
    a number-like string such as the study's "1.00146" and round it, hence
    disable_numparse."""
    shown = _numbers(table, digits)
    return str(shown.to_markdown(index=False, disable_numparse=True))


def _table_html(table: pd.DataFrame, digits: int = 2) -> str:
    wrap = len(table.columns) and table.columns[-1] in WRAPPED
    page = _numbers(table, digits).to_html(
        index=False,
        na_rep="",
        border=0,
        escape=True,
        float_format=lambda x: f"{x:.{digits}g}",
        classes="wrap-last" if wrap else None,
    )
    # headers such as solve_backward_err may break after an underscore, and long method names
    # such as neural-lu-study-final[optimizer=adagrad,lr=0.1] after a bracket or a comma
    page = re.sub(r"<th>([^<]*)</th>", lambda m: f"<th>{m[1].replace('_', '_<wbr>')}</th>", page)
    return re.sub(
        r"<td>([^<]*)</td>",
        lambda m: f"<td>{m[1].replace(',', ',<wbr>').replace('[', '[<wbr>')}</td>",
        page,
    )


def _plugins_text(run: dict) -> str:
    """A run's plug-ins: each file with its sha256, or module with its distribution."""
    shown = [
        f"{p.get('label', '?')} (sha256 {str(p.get('sha256', ''))[:12]})"
        for p in run.get("plugins", [])
    ]
    return f"plug-ins: {'; '.join(shown)}" if shown else ""


def _provenance_html(provenance: dict) -> str:
    """Each results folder, numbered as the tables' "results folder" column numbers them."""
    items = []
    for run in provenance.get("runs", []):
        versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
        devices = "; ".join(f"{k}: {v}" for k, v in run.get("devices", {}).items())
        folder = f"<code>{html.escape(run['folder'])}</code>: " if run.get("folder") else ""
        plugins = f"<br>{html.escape(_plugins_text(run))}" if run.get("plugins") else ""
        items.append(
            "<li>{}<code>{}</code><br>started {} finished {}; commit <code>{}</code>; "
            "{} thread(s); CPU {}; devices: {}; Python {} on {}<br>{}{}</li>".format(
                folder,
                *(
                    html.escape(str(run.get(k, "?")))
                    for k in ("command", "started", "finished", "git_commit", "threads", "cpu")
                ),
                html.escape(devices),
                html.escape(str(run.get("python", "?"))),
                html.escape(str(run.get("platform", "?"))),
                html.escape(versions),
                plugins,
            )
        )
    return "<ol>" + "".join(items) + "</ol>"


def safe_name(name: str) -> str:
    """`name` as a file name and an HTML anchor: characters other than letters, digits,
    '.', '_' and '-' become '_' (a file: matrix's path has '/' and ':')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
