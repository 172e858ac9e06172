"""Run one cell: make the matrix, time the method, check and evaluate its factors, and return
one typed row (with the training curve and the artifacts the report draws)."""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from nnbench.corpus.files import magnitude_problem
from nnbench.corpus.inferred import listed_tags
from nnbench.corpus.sparse import Matrix, as_csr
from nnbench.devices import DEVICES, Device
from nnbench.errors import Diverged, InvalidFactorization, SkipCell
from nnbench.methods import Factorization, LUFactorization, Method, RunContext, Settings
from nnbench.metrics import EVALUATE_ON, INSTANCE_CACHE, aggregate
from nnbench.metrics.evaluation import MetricInput, evaluate
from nnbench.precision import PRECISIONS, tf32_mode
from nnbench.results import Artifact, CellSpec, Outcome, Row, Status
from nnbench.results.record import AXES
from nnbench.results.table import CURVE_COLUMNS
from nnbench.running.cells import Cell
from nnbench.running.guard import group_rule
from nnbench.running.instances import INSTANCES
from nnbench.running.timing import time_call, warmup_input, warmup_shape


@dataclass(frozen=True)
class CellResult:
    """A cell's row, its loss curve (trained methods) and its artifact (see `Artifact`)."""

    row: Row
    curve: pd.DataFrame | None = None
    artifact: Artifact | None = None


def cell_spec(cell: Cell) -> CellSpec:
    n = cell.n if cell.n is not None else max(cell.shape)
    requires = cell.method.requires  # a user matrix's costly tags: those its method needs
    return CellSpec(
        cell_id=cell.cell_id,
        matrix=cell.family.name,
        family=cell.family.name.split(":", 1)[0],
        tags=",".join(listed_tags(cell.family.tags, requires.tags | requires.without)),
        n=n,
        n_rows=cell.shape[0],
        n_cols=cell.shape[1],
        method=cell.method.name,
        method_base=cell.method.base_name,
        method_source=cell.method.source,
        group=cell.method.group,
        kind=cell.method.kind,
        seed=cell.seed,
        matrix_seed=cell.matrix_seed,
        threads=cell.threads,
        options=cell.method.options,
        **{axis.name: getattr(cell, axis.name) for axis in AXES},
    )


def _settings(cell: Cell) -> Settings:
    return cell.method.settings(cell.n if cell.n is not None else max(cell.shape))


def stopped(cell: Cell, status: Status, reason: str, *, time_s: float = math.nan) -> CellResult:
    """The row of a cell that ended without metrics."""
    outcome = Outcome(status=status, reason=reason, time_s=time_s)
    return CellResult(Row(cell_spec(cell), _settings(cell), outcome))


def row_order(perm: np.ndarray) -> str:
    """Which row of A each row of P^T A is, e.g. "2,0,1" (A = P L U)."""
    return ",".join(str(i) for i in np.argmax(perm, axis=0))


def first_line(exc: BaseException) -> str:
    """An exception as a row's reason: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@functools.cache
def scratch_folder() -> Path:
    """This process's folder for what methods' setups share in a run without a results
    folder (fork workers inherit it)."""
    return Path(tempfile.mkdtemp(prefix="nnbench-shared-"))


def set_up(cell: Cell) -> Method:
    """The cell's method ready to run (`Method.setup`): the runner's, or set up here, in a
    worker process or a cell run on its own (cheap once the runner's call has run)."""
    ready, method = cell.ready, cell.method
    if ready is not None and (ready.name, ready.config_hash) == (method.name, method.config_hash):
        return ready  # (not if the cell was given another method since)
    folder = Path(cell.shared) if cell.shared else scratch_folder()
    with group_rule(method):  # its training, where it trains here (`running.guard`)
        return method.setup(RunContext(folder=folder, device=cell.device, dtype=cell.storage))


WARM: set[tuple[object, ...]] = set()
"""The method forms this process has warmed up (`warm_key`): a later cell of the same form
skips the warm-up call, unless its method works under the group rule (step 1 of the timing
protocol, `running.timing`)."""


def warm_key(cell: Cell, warm: Method, shape: tuple[int, int], batch: int) -> tuple[object, ...]:
    """What a warm-up call warms: the method's warm-up form and configuration, on the cell's
    device and dtype, at the warm-up input's shape, stacking and sparsity."""
    sparse = cell.family.sparse and warm.takes_sparse
    return (warm.name, warm.config_hash, cell.device, cell.storage, shape, batch, sparse)


def _warm_up(cell: Cell, method: Method, device: Device) -> tuple[Method, Callable[[], None]]:
    """Step 1 of the timing protocol (`running.timing`): the method's warm-up form and its
    untimed call on a small input (the cell's own shape for a method that factorizes one size
    only), made and prepared here (where `prepare` checks it, unguarded); the call's outcome,
    warnings included, does not matter. No call where this process has warmed the same form
    already (`WARM`), except under the group rule: putting the guard in place disturbs the
    caches, and the warm-up call is what takes that (docs/performance.md)."""
    warm = method.warmup_method()
    shape = cell.shape if method.warmup_at_full_size else warmup_shape(cell.shape, cell.rank)
    batch = min(cell.batch, 4)
    key = warm_key(cell, warm, shape, batch)
    if key in WARM and method.group != "neural":
        return warm, device.synchronize
    if warm.skip_reason(shape, rank=cell.rank, dtype=cell.storage, device=cell.device, batch=batch):
        return warm, device.synchronize
    small = [warmup_input(shape, cell.storage, cell.seed + i) for i in range(batch)]
    first = as_csr(small[0], cell.storage) if cell.family.sparse and warm.takes_sparse else small[0]
    w = warm.prepare(first if batch == 1 else np.stack(small), device=cell.device)

    def call() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.suppress(SkipCell, Diverged, ArithmeticError, RuntimeError):
                warm.compute(w, rank=cell.rank, seed=cell.seed)
        device.synchronize()
        WARM.add(key)

    return warm, call


def _first_warning(caught: list[warnings.WarningMessage]) -> str:
    """The first warning the timed calls raised, on one line (e.g. a solver's non-convergence)."""
    if not caught:
        return ""
    first = caught[0]
    text = " ".join(str(first.message).split())
    return f"{first.category.__name__}: {text[:300]}"


def _artifact(cell: Cell, x: MetricInput) -> Artifact | None:
    """Pictures and singular values of image matrices under rank-k methods, for the first
    instance of the first run (the report shows those side by side: the other instances'
    pictures doubled a quick results folder and were never drawn); the factors of every cell
    on a worked example."""
    family, fact = cell.family, x.fact
    first = cell.repeat == 0 and cell.run == 0
    picture = "image" in family.tags and fact.kind == "rank-k" and first
    if not (picture or family.keep_factors):
        return None
    return Artifact(
        picture=family.picture(x.a) if picture else None,
        approx_picture=family.picture(x.approx) if picture else None,
        picture_label=family.view_label,
        sigma=x.sigma if picture else None,
        factors=dict(fact.factors) if family.keep_factors else {},
    )


def _curve(cell: Cell, fact: Factorization) -> pd.DataFrame | None:
    history = fact.history
    if history is None:
        return None
    return pd.DataFrame(
        {
            "cell_id": cell.cell_id,
            "step": np.arange(1, history.steps + 1),
            "unit": history.unit,
            "loss": history.loss,
            "elapsed_s": history.elapsed_s,
        },
        columns=CURVE_COLUMNS,
    )


def _run(cell: Cell) -> CellResult:
    spec, settings = cell_spec(cell), _settings(cell)
    if cell.skip_reason:
        outcome = Outcome(status="skipped", reason=cell.skip_reason)
        return CellResult(Row(spec, settings, outcome))
    device = DEVICES[cell.device]
    dense = cell.family.sparse and not cell.method.takes_sparse  # (n <= DENSE_LIMIT: static)
    instances = [
        INSTANCES.make(cell.family, cell.n, seed=s, dtype=cell.storage, dense=dense)
        for s in cell.instance_seeds
    ]
    a = instances[0] if cell.batch == 1 else np.stack(instances)
    problem = magnitude_problem(a, cell.family.name)
    if problem is not None:
        skip = Outcome(status="skipped", reason=str(problem), device_name=device.describe())
        return CellResult(Row(spec, settings, skip))
    with tf32_mode(PRECISIONS[cell.dtype].tf32):
        return _timed(cell, device, spec, settings, instances, a)


def _timed(
    cell: Cell,
    device: Device,
    spec: CellSpec,
    settings: Settings,
    instances: list[Matrix],
    a: Matrix,
) -> CellResult:
    """Warm up, time, check and evaluate: steps 2 on of `_run`, in the cell's precision."""
    cost = cell.method.cost(cell.shape, cell.rank)
    outcome = Outcome(
        status="ok",
        device_name=device.describe(),
        tf32=device.tf32(),
        passes=cost.passes,
        memory_floats=cost.memory_floats,
    )
    measured = _measure(cell, device, a, outcome)
    if isinstance(measured, Outcome):  # it ended before there were factors to evaluate
        return CellResult(Row(spec, settings, measured))
    outcome, facts = measured
    return _evaluated(cell, spec, settings, outcome, instances, facts)


def _measure(
    cell: Cell, device: Device, a: Matrix, outcome: Outcome
) -> tuple[Outcome, list[Factorization]] | Outcome:
    """Set up, warm up and time the method's call, then check its factors: the outcome so
    far and the factors of each instance, or the outcome of a cell that ended here."""
    try:
        method = set_up(cell)
        x = method.prepare(a, device=cell.device)
        outcome = replace(outcome, train_time_s=method.train_time_s)  # (a fit in prepare too)
        warm, warm_up = _warm_up(cell, method, device)
        # a neural method's refused call fails the cell (`running.guard`): put in place once,
        # before the warm-up (which takes what doing so disturbs: the next call of a 0.3 ms
        # method was 9% slower), it costs the timed calls nothing measurable (performance.md)
        with group_rule(method, warm):
            warm_up()
            device.reset_peak()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                raw, timing = time_call(
                    lambda: method.compute(x, rank=cell.rank, seed=cell.seed),
                    repeats=cell.timing_repeats,
                    device=device,
                )
            outcome = replace(
                outcome,
                peak_mem_mb=device.peak_mb(),
                time_s=timing.median_s,
                time_iqr_s=timing.iqr_s,
                time_per_matrix_s=timing.median_s / cell.batch,
                timing_repeats=timing.repeats,
                timed_s=sum(timing.times_s),
                warning=_first_warning(caught),
            )
            facts = method.finish_batch(raw) if cell.batch > 1 else [method.finish(raw)]
    except SkipCell as skip:  # found after the timed calls too (a library's `info`): no time
        return Outcome(
            status="skipped",
            reason=skip.reason,
            device_name=outcome.device_name,
            tf32=outcome.tf32,
            train_time_s=outcome.train_time_s,
        )
    except Diverged as diverged:
        return replace(outcome, status="diverged", reason=str(diverged), steps=diverged.step)
    except InvalidFactorization as exc:
        return replace(outcome, status="failed", reason=f"invalid factors: {exc}")
    except Exception as exc:  # a method's crash is a row, not the end of the run
        traceback.clear_frames(exc.__traceback__)
        return replace(outcome, status="failed", reason=first_line(exc))
    return outcome, facts


def _evaluated(
    cell: Cell,
    spec: CellSpec,
    settings: Settings,
    outcome: Outcome,
    instances: list[Matrix],
    facts: list[Factorization],
) -> CellResult:
    """The cell's row from its checked factors: the metrics of each instance (the worst of a
    stack), and what the factors report of how they were made."""
    inputs = [
        MetricInput(
            a=m.astype(np.float64),
            fact=f,
            dtype=cell.storage,
            rank=cell.rank,
            linalg=EVALUATE_ON[cell.device],
            build_s=outcome.time_per_matrix_s,
        )
        for m, f in zip(instances, facts, strict=True)
    ]
    try:
        shared_before, start = INSTANCE_CACHE.seconds, time.perf_counter()
        metrics = aggregate([evaluate(x) for x in inputs])
        shared_s = INSTANCE_CACHE.seconds - shared_before  # computed here, for every cell on A
        outcome = replace(
            outcome,
            shared_time_s=shared_s,
            eval_time_s=time.perf_counter() - start - shared_s,
        )
        artifact = _artifact(cell, inputs[0]) if cell.batch == 1 else None
    except Diverged as diverged:  # a solve that hit its cap (CG): a status, never a score
        stop = replace(outcome, status="diverged", reason=str(diverged), steps=diverged.step)
        return CellResult(Row(spec, settings, stop))
    except Exception as exc:  # a metric that cannot score these factors fails this cell only
        failed = replace(outcome, status="failed", reason=f"evaluating: {first_line(exc)}")
        return CellResult(Row(spec, settings, failed))
    fact = facts[0]
    outcome, settings = _as_made(cell, fact, outcome, settings)
    return CellResult(Row(spec, settings, outcome, metrics), _curve(cell, fact), artifact)


def _as_made(
    cell: Cell, fact: Factorization, outcome: Outcome, settings: Settings
) -> tuple[Outcome, Settings]:
    """What the factors say of how they were made: row order, reads of A, training history
    and the step size a rule chose."""
    if isinstance(fact, LUFactorization) and fact.P is not None and cell.batch == 1:
        outcome = replace(outcome, row_order=row_order(fact.P))
    counted = fact.passes if fact.passes is not None else getattr(fact.history, "passes", None)
    if counted is not None:  # reads of A counted as they happened (Krylov, training)
        outcome = replace(outcome, passes=float(counted))
    history = fact.history
    if history is not None:
        outcome = replace(
            outcome,
            final_loss=history.final_loss,
            steps=history.steps,
            switch_step=math.nan if history.switch_step is None else history.switch_step,
        )
        if history.lr is not None:  # a rule chose the step size: record the one it chose
            settings = replace(settings, lr=history.lr)
    return outcome, settings


def run_cell(cell: Cell) -> CellResult:
    """Run one cell. Never raises: whatever goes wrong is this cell's row."""
    try:
        return _run(cell)
    except Exception as exc:
        traceback.clear_frames(exc.__traceback__)
        return stopped(cell, "failed", first_line(exc))
