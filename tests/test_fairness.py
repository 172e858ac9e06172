"""The fair-comparison rules: method groups by what the code does, one timing protocol for
every method, validated budget options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from nnbench.api import METHODS, Grid, expand, select_methods
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import NNBenchError
from nnbench.methods import RunContext
from nnbench.methods.amortized import MODELS
from nnbench.methods.classical import Krylov, RandomizedSVD
from nnbench.running import measure
from nnbench.running.guard import GroupRuleViolation, refusing_linalg
from nnbench.running.measure import run_cell
from nnbench.running.timing import warmup_shape

TRAINED = [name for name, m in METHODS.items() if m.group != "classical" and not m.expensive]


@pytest.mark.parametrize("name", TRAINED)
def test_the_group_rule_holds_for_what_the_code_calls(name, tmp_path):
    """neural: optimizer steps only, so it runs with every factorization and solve refused
    (`running.guard.REFUSED`); amortized: the same for its training and its inference;
    hybrid: classical linear algebra does part of its work, so refusing it must show. (The
    untimed `prepare` may factorize to check its input: it runs unguarded, as in a run.)"""
    method = METHODS[name].small_budget()
    b = np.random.default_rng(0).standard_normal((12, 12))
    a = (b + b.T) / 2 + 12 * np.eye(12)  # SPD: amortized-ic declines any other matrix
    rank = 3 if method.needs_rank else None
    if method.group == "amortized" and not hasattr(method.config, "n"):  # graph preconditioner
        a = MATRIX_FAMILIES["diffusion-2d"].make(64, seed=0)  # sparse SPD, what it takes
    elif method.group == "amortized":
        config = dataclasses.replace(method.config, n=12, count=16, rank=3, rows=6)
        method = method.with_config(config)
        if MODELS[config.structure].classical_solve:  # the sketch's QR and SVD: it must show
            with pytest.raises(GroupRuleViolation), refusing_linalg(method):
                method.setup(RunContext(folder=tmp_path))
            return
    with refusing_linalg(method):
        ready = method.setup(RunContext(folder=tmp_path))
    x = ready.prepare(a, device="cpu")
    if method.group == "hybrid":
        with pytest.raises(GroupRuleViolation), refusing_linalg(ready):
            ready.compute(x, rank=rank, seed=0)
        return
    with refusing_linalg(ready):
        ready.finish(ready.compute(x, rank=rank, seed=0))


def test_a_variant_takes_the_group_its_configuration_earns():
    assert select_methods("neural-lu-adam")[0].group == "neural"
    assert select_methods("neural-lu-adam[pivot=true]")[0].group == "hybrid"
    assert select_methods("neural-lu-adam[init=convex]")[0].group == "hybrid"
    assert select_methods("hybrid-lowrank-als[optimizer=adam,oversample=0]")[0].group == "neural"
    names = {m.group: m.name for m in select_methods("hybrid")}
    assert set(names) == {"hybrid"} and set(select_methods("neural")) <= set(METHODS.values())


@pytest.mark.parametrize("name", [n for n, m in METHODS.items() if not m.expensive])
def test_every_method_is_timed_by_the_one_protocol(name, monkeypatch, tmp_path):
    """A warm-up call on a small input (trained methods: at most 3 steps; a model for one size:
    that size, trained before the cell), then timed calls on the cell's input, at least one
    and at most the grid's timing repeats."""
    method = METHODS[name].small_budget()
    if method.group == "amortized":  # its model, trained before the cell
        if hasattr(method.config, "n"):  # a model for one size: that size
            method = method.with_config(dataclasses.replace(method.config, n=24))
        method.setup(RunContext(folder=tmp_path))
    calls: list[tuple[tuple[int, ...], object]] = []
    original = type(method).compute

    def recording(self, x, *, rank, seed):
        budget = self.config if self.config is not None else None
        calls.append((tuple(x.shape), budget))
        return original(self, x, rank=rank, seed=seed)

    monkeypatch.setattr(type(method), "compute", recording)
    monkeypatch.setattr(measure, "WARM", set())  # as in a fresh process: no form warmed yet
    grid = Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(24,), ranks=(2,), timing_repeats=4)
    cell = dataclasses.replace(
        expand(grid)[0], method=method, rank=2 if method.needs_rank else None, shared=str(tmp_path)
    )
    row = run_cell(cell).row
    assert row.outcome.status == "ok", row.outcome.reason
    (warm_shape, warm_budget), *timed = calls
    full = method.warmup_at_full_size
    warm = (24, 24) if full else warmup_shape((24, 24), cell.rank)
    assert warm_shape == warm == ((24, 24) if full else (16, 16))
    steps = [getattr(warm_budget, f, None) for f in ("steps", "max_steps")]
    if method.group != "amortized":  # an amortized model's steps are its training, done before
        assert all(s is None or s <= 3 for s in steps)  # trained: a short fit
    assert [shape for shape, _ in timed] == [(24, 24)] * len(timed)
    assert 1 <= len(timed) == row.outcome.timing_repeats <= 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RandomizedSVD(niter=-1), "niter must be an integer >= 0"),
        (lambda: RandomizedSVD(oversample=1.5), "oversample must be an integer >= 0"),
        (lambda: Krylov(tol=-1.0), "tol must be >= 0"),
        (lambda: Krylov(maxiter=0), "maxiter must be a positive integer"),
        (lambda: select_methods("torch-rsvd[niter=-2]"), "niter must be an integer >= 0"),
        (lambda: select_methods("scipy-svds-arpack[tol=-1]"), "tol must be >= 0"),
        (lambda: select_methods("scipy-lu[niter=2]"), "scipy-lu has no options"),
        (lambda: Grid(timing_repeats=0) and expand(Grid(timing_repeats=0)), "timing repeats 0"),
    ],
)
def test_budget_options_are_validated(make, message):
    with pytest.raises(NNBenchError, match=message):
        make()


def test_budget_variants_buy_accuracy():
    a = np.random.default_rng(0).standard_normal((80, 80))
    s = np.linalg.svd(a, compute_uv=False)
    optimum = np.sqrt(np.sum(s[5:] ** 2))
    errors = [
        np.linalg.norm(
            a - select_methods(f"torch-rsvd[niter={q}]")[0].factorize(a, rank=5).reconstruct()
        )
        / optimum
        for q in (0, 8)
    ]
    assert errors[0] > errors[1] >= 1 - 1e-12 and errors[1] < 1 + 1e-4  # flat spectrum: slow


def _points_table() -> pd.DataFrame:
    """One rank-k problem: classical A (exact, 1 ms), classical B's budgets (1e-3 at 0.1 ms,
    1e-9 at 0.5 ms), a hybrid reaching 1e-9 at 5 ms, a neural stuck at 1e-4 (50 ms)."""
    from test_figures import _row

    from nnbench.results import to_frame

    specs = [  # method, base, group, options, ratio - 1, time
        ("a", "a", "classical", "", 0.0, 1e-3),
        ("b[niter=0]", "b", "classical", "niter=0", 1e-3, 1e-4),
        ("b[niter=4]", "b", "classical", "niter=4", 1e-9, 5e-4),
        ("h", "h", "hybrid", "", 1e-9, 5e-3),
        ("nn", "nn", "neural", "", 1e-4, 5e-2),
    ]
    rows = [
        _row(i * 2 + rep, method=method, method_base=base, group=group, options=options,
             kind="rank-k", rank=3, ratio_2=1 + excess, ratio_fro=1 + excess, time_s=t,
             opt_err_2=0.5, opt_err_fro=0.5, rel_err_2=0.5 * (1 + excess),
             rel_err_fro=0.5 * (1 + excess), expected_rank=3)  # excess / (1 - opt) = excess
        for i, (method, base, group, options, excess, t) in enumerate(specs)
        for rep in range(2)
    ]  # fmt: skip
    return to_frame(rows)


def test_time_to_accuracy_takes_each_methods_cheapest_budget_that_reaches():
    from nnbench.report.time_to_accuracy import time_to_accuracy

    table = time_to_accuracy(_points_table()).set_index("method")
    assert table.loc["b", "time to <= 0.01"] == "0.0001 s (niter=0)"
    assert table.loc["b", "time to <= 1e-06"] == "0.0005 s (niter=4)"
    assert table.loc["a", "time to <= 1e-12"] == "0.001 s"
    assert table.loc["nn", "time to <= 1e-06"] == "not reached"
    assert list(table.group) == ["classical", "classical", "hybrid", "neural"]


def test_verdict_puts_each_group_beside_the_best_classical_at_matched_accuracy():
    from nnbench.report.judging import verdict

    row = verdict(_points_table()).iloc[0]
    assert row["matched accuracy"].endswith("<= 1e-06")
    assert row["best classical"] == "b"  # 0.5 ms beats a's 1 ms at 1e-6
    assert row["hybrid: time ratio"] == pytest.approx(10.0)
    assert row["hybrid: reached"] == "1/1"
    assert row["neural: best"] == "none reached" and row["neural: reached"] == "0/1"


def test_a_user_matrix_against_every_rank_k_method_gets_the_time_to_accuracy_table(tmp_path):
    """Acceptance: --matrices file:PATH --methods kind:rank-k --ranks K gives rows for three
    or more classical rank-k methods, the hybrid and the neural ones, and the report built
    from them has the time-to-accuracy table."""
    from nnbench.cli import main

    path = tmp_path / "mine.npy"
    np.save(path, np.random.default_rng(3).standard_normal((40, 30)))
    out, report = tmp_path / "run", tmp_path / "report"
    args = ["run", "--matrices", f"file:{path}", "--methods", "kind:rank-k", "--ranks", "4"]
    args += ["--timing-repeats", "1"]  # (what is checked is which rows and tables, not times)
    assert main([*args, "--no-progress", "--out", str(out)]) == 0
    assert main(["report", "--results", str(out), "--out", str(report)]) == 0
    df = pd.read_parquet(out / "results.parquet")
    ok = df[df.status == "ok"].groupby("group").method.nunique()
    assert ok["classical"] >= 3 and ok["hybrid"] >= 1 and ok["neural"] >= 1
    table = pd.read_csv(report / "tables" / "time_to_accuracy_rank-k.csv")
    assert set(table.method) == set(df[df.status == "ok"].method)
    assert "Rank-k: least time to an accuracy" in (report / "report.md").read_text()


def test_a_batch_cell_factorizes_a_stack_and_reports_its_worst_matrix():
    grid = Grid(
        matrices=("random-gaussian",),
        methods=("torch-lu", "hybrid-lu-newton", "scipy-lu"),
        sizes=(3,),
        batches=(1, 50),
        timing_repeats=1,
    )
    from nnbench.api import run_grid

    df = run_grid(grid).results.set_index(["method", "batch"])
    assert "one matrix at a time" in df.loc[("scipy-lu", 50), "reason"]
    stack, single = df.loc[("torch-lu", 50)], df.loc[("torch-lu", 1)]
    assert stack.status == "ok" and stack.time_per_matrix_s == stack.time_s / 50
    assert stack.solve_backward_err < 1e-14 and stack.rank_ok
    assert df.loc[("hybrid-lu-newton", 50), "rel_err_2"] <= 1e-14
    stack_cell = next(c for c in expand(grid) if c.batch == 50)
    assert len(set(stack_cell.instance_seeds)) == 50 and single.status == "ok"


def test_aggregate_takes_each_metrics_worst_by_direction():
    from nnbench.metrics import MetricValues, aggregate

    values = [
        MetricValues(rel_err_2=1e-16, sigma_gap=0.5, rank_ok=True, numerical_rank=3.0),
        MetricValues(rel_err_2=1e-3, sigma_gap=0.1, rank_ok=False, numerical_rank=5.0),
        MetricValues(rel_err_2=1e-9, sigma_gap=0.3, rank_ok=True, numerical_rank=4.0),
    ]
    worst = aggregate(values)
    assert worst.rel_err_2 == 1e-3 and worst.sigma_gap == 0.1
    assert worst.rank_ok is False and worst.numerical_rank == 4.0


def test_on_a_singular_matrix_factors_with_one_percent_error_never_reach_1e_6():
    """The LU accuracy of every verdict is the factorization's backward error: a solve's
    backward error on a singular A is met by wrong factors and never counts there."""
    from nnbench.methods.factorization import LUFactorization
    from nnbench.metrics.evaluation import MetricInput, evaluate
    from nnbench.report.levels import ACCURACY

    rng = np.random.default_rng(0)
    data = rng.standard_normal((40, 12))
    data[:, [0, 5]] = 0  # two constant features, as in the digits data: a singular covariance
    a = np.cov(data.T)
    bad = LUFactorization(L=np.eye(12), U=np.triu(a) + 1e-6 * np.eye(12))  # far from A
    rows = []
    for fact in (bad,):
        values = evaluate(MetricInput(a=a, fact=fact, dtype="float64"))
        rows.append({**dataclasses.asdict(values), "n_rows": 12, "n_cols": 12})
    df = pd.DataFrame(rows)
    accuracy = ACCURACY["lu"].measure(df)
    assert df.expected_rank.iloc[0] < 12  # the matrix is numerically singular
    assert df.rel_err_fro.iloc[0] > 0.01 and accuracy.iloc[0] > 1e-6  # not a factorization
    assert df.solve_backward_err.iloc[0] < 1e-6  # which a solve's backward error would credit
    assert accuracy.iloc[0] >= df.rel_err_fro.iloc[0]


def test_time_to_accuracy_shows_the_range_of_the_cells_times():
    from nnbench.report.time_to_accuracy import time_to_accuracy

    df = _points_table()
    df.loc[df.method == "a", "time_s"] = [1e-3, 3e-3]  # two runs of the same cell, say
    table = time_to_accuracy(df).set_index("method")
    assert table.loc["a", "time to <= 1e-12"] == "0.002 s [0.0010, 0.0030]"


def test_fronts_join_only_one_configurations_budgets_and_only_its_pareto_points():
    from nnbench.report.fronts import configuration, pareto_front

    assert configuration("neural-lu-adam", "steps=300,lr=0.1") == "neural-lu-adam[lr=0.1]"
    assert configuration("torch-rsvd", "niter=4") == "torch-rsvd"
    assert configuration("hybrid-lu-newton", "init=identity,pivot=false,steps=2") == (
        "hybrid-lu-newton[init=identity,pivot=false]"
    )
    points = pd.DataFrame(
        {"time_s": [1.0, 2.0, 3.0, 4.0], "accuracy": [1e-2, 1e-1, 1e-6, 1e-6]}
    )  # the 2 s point is beaten by the faster 1 s one; 4 s adds nothing over 3 s
    assert pareto_front(points).time_s.tolist() == [1.0, 3.0]


def test_reverse_comparison_asks_the_classical_methods_for_each_networks_own_accuracy():
    from nnbench.report.fronts import reverse_comparison, reverse_pairs

    pairs = reverse_pairs(_points_table()).set_index("configuration")
    # the hybrid's final accuracy 1e-9: b[niter=4] (0.5 ms) gets there, a (1 ms) too
    assert pairs.loc["h", "classical"] == "b[niter=4]"
    assert pairs.loc["h", "ratio"] == pytest.approx(5e-3 / 5e-4)
    # the network stops at 1e-4: b[niter=4] is the fastest at or below it (niter=0: 1e-3)
    assert pairs.loc["nn", "classical"] == "b[niter=4]"
    assert pairs.loc["nn", "ratio"] == pytest.approx(5e-2 / 5e-4)
    table = reverse_comparison(_points_table()).set_index("configuration")
    assert table.loc["nn", "time ratio [95% CI]"].startswith("100× slower")
    assert table.loc["h", "classical reaches it"] == "1/1"
