"""Contract over every registered study: both variants expand, and the quick one runs to rows
that all carry a status (never `failed`), round-trip through a results folder, and report."""

from __future__ import annotations

import pytest

from nnbench.api import STUDIES, Execution, expand, load_results, run_study
from nnbench.results import COLUMNS, STATUSES
from nnbench.studies.study002 import STUDY as STUDY_002


@pytest.mark.parametrize("name", list(STUDIES))
def test_full_variant_expands(name):
    cells = [cell for grid in STUDIES[name].grids for cell in expand(grid)]
    assert cells and len({c.cell_id for c in cells}) >= len(cells) // 2


@pytest.mark.parametrize("name", list(STUDIES))
def test_quick_variant_runs(name, tmp_path):
    study = STUDIES[name]
    expected = {c.cell_id for grid in study.quick for c in expand(grid)}
    res = run_study(name, quick=True, out=tmp_path, execution=Execution(jobs=2))
    df = res.results
    assert list(df.columns) == COLUMNS and set(df.cell_id) == expected and df.cell_id.is_unique
    assert set(df.status) <= set(STATUSES) and "failed" not in set(df.status)
    assert (df[df.status != "ok"].reason.str.len() > 0).all()
    assert (df.status == "ok").any()
    back = load_results(tmp_path)
    assert len(back.results) == len(df) and set(back.artifacts) == set(res.artifacts)


def test_study002_quick_fills_its_own_tables(tmp_path):
    """The photo hypotheses, the funnel collapse rates and both bias configurations come from
    the study's own cells (at quick sizes here)."""
    from nnbench.report.reproduction import config_choice
    from nnbench.studies.study002 import funnel_collapse, photo_hypotheses

    res = run_study("study002-reproduce", quick=True, out=tmp_path)
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
