"""Contract over every registered study: both variants expand to distinct cells, and the quick
one runs to rows that all carry a status (never `failed`), round-trip through a results
folder, and fill the study's own report sections. Studies whose quick grids are the same
(`fair`, `fair-quick` and `fair-gpu`) are run once and checked once each."""

from __future__ import annotations

import pytest
from conftest import on_quick_run, shared_quick_run

from nnbench.api import STUDIES, expand, load_results
from nnbench.report.spec import Missing
from nnbench.results import COLUMNS, STATUSES
from nnbench.studies.study002 import STUDY as STUDY_002


@pytest.mark.parametrize("name", list(STUDIES))
def test_full_variant_expands_to_distinct_cells(name):
    """Within a grid every cell is distinct, and every grid adds cells the ones before it do
    not have (two grids may share a cell, such as the truncated SVD a comparison needs)."""
    seen: set[str] = set()
    for grid in STUDIES[name].grids:
        ids = [cell.cell_id for cell in expand(grid)]
        assert ids and len(set(ids)) == len(ids), grid
        assert set(ids) - seen, f"{grid} adds no cell"
        seen |= set(ids)


QUICK_RUNS = list(dict.fromkeys(shared_quick_run(name) for name in STUDIES))
"""One name per distinct quick run: studies with the same quick grids (fair-quick, fair,
fair-gpu) share one, and their sections are checked on it together, each once."""


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=on_quick_run(n)) for n in QUICK_RUNS])
def test_quick_variant_runs(name, quick_run):
    study = STUDIES[name]
    sharing = [s for s in STUDIES.values() if s.quick == study.quick]
    expected = {c.cell_id for grid in study.quick for c in expand(grid)}
    res, out = quick_run(name)
    df = res.results
    assert list(df.columns) == COLUMNS and set(df.cell_id) == expected and df.cell_id.is_unique
    assert set(df.status) <= set(STATUSES) and "failed" not in set(df.status)
    assert (df[df.status != "ok"].reason.str.len() > 0).all()
    assert (df.status == "ok").any()
    back = load_results(out)
    assert len(back.results) == len(df) and set(back.artifacts) == set(res.artifacts)
    tables = dict.fromkeys(t for s in sharing for t in s.tables)
    figures = dict.fromkeys(f for s in sharing for f in s.figures)
    for table in tables:  # a study's own tables are made from its own cells
        assert not table.make(back).empty, table.name
    for figure in figures:
        assert not isinstance(figure.make(back), Missing), figure.name


@pytest.mark.slow
@on_quick_run("study002-reproduce")
def test_study002_quick_fills_its_own_tables(quick_run):
    """The photo hypotheses, the funnel collapse rates and both bias configurations come from
    the study's own cells (at quick sizes here)."""
    from nnbench.report.reproduction import config_choice
    from nnbench.studies.study002 import funnel_collapse, photo_hypotheses

    res, _ = quick_run("study002-reproduce")
    photo = photo_hypotheses(res.results)
    assert len(photo) >= 1 and (photo.nn_over_svd >= 1 - 1e-9).all()
    funnel = funnel_collapse(res.results)
    assert set(funnel.architecture) == {"funnel", "n-n-k-n"}
    assert funnel.rank_collapse_rate.between(0, 1).all() and (funnel.seeds >= 2).all()
    choice = config_choice(res, STUDY_002.targets)
    biases = choice[choice.candidates.str.startswith("neural-lowrank-study /")]
    assert biases.chosen.sum() == 1 and (biases.targets_run > 0).all()
    loss = res.results.set_index("method").loss
    assert "biases" in loss["neural-lowrank-study"].iloc[0]
    assert "biases" not in loss["neural-lowrank-study[bias=False]"].iloc[0]
