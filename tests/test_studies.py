"""Contract over every registered study: both variants expand, and the quick one runs to rows
that all carry a status (never `failed`), round-trip through a results folder, and report."""

from __future__ import annotations

import pytest

from nnbench import STUDIES, Execution, expand, load_results, run_study
from nnbench.results import COLUMNS, STATUSES


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
