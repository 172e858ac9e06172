"""Benchmark scripts that print ratios measured in one run (speed targets live here and in
asv, never in unit tests): `nnbench bench NAME` runs `BENCHMARKS[NAME]`. One module per script
(or close family of scripts); their timers are `timers` (the runner's `time_call`), and the
bare library calls that timing-overhead compares the methods with are `library_calls`."""

from __future__ import annotations

from collections.abc import Callable

from nnbench.bench.evaluation import EVAL_COST_METHODS, eval_cost
from nnbench.bench.file_input import file_matrix
from nnbench.bench.guard import GUARDED, group_rule_cost
from nnbench.bench.ic0_speed import classical_speed
from nnbench.bench.jobs import jobs_speedup
from nnbench.bench.lu_batch import appendix_a, lu_throughput
from nnbench.bench.overhead import timing_overhead
from nnbench.bench.rank_k import RANK_K_CONTENDERS, lowrank_vs_svd
from nnbench.bench.report import report_build

BENCHMARKS: dict[str, Callable[..., None]] = {
    "report-build": report_build,
    "classical-speed": classical_speed,
    "eval-cost": eval_cost,
    "lowrank-vs-svd": lowrank_vs_svd,
    "jobs-speedup": jobs_speedup,
    "lu-throughput": lu_throughput,
    "timing-overhead": timing_overhead,
    "file-matrix": file_matrix,
    "group-rule-cost": group_rule_cost,
}
TAKES_RESULTS = ("report-build",)  # benchmarks that read an existing results folder

__all__ = [
    "BENCHMARKS",
    "EVAL_COST_METHODS",
    "GUARDED",
    "RANK_K_CONTENDERS",
    "TAKES_RESULTS",
    "appendix_a",
]
