"""The asv results loader returns every commit in one DataFrame."""

from __future__ import annotations

import datetime
import json

import pytest
from asv.results import Results
from asv.runner import BenchmarkResult

from nnbench.errors import NNBenchError
from nnbench.results.asv_history import load_asv_results

BENCH = {
    "name": "bench_accuracy.NeuralLowRankAccuracy.track_steps",
    "params": [["'hybrid-lowrank-als'", "'neural-lowrank-adam'"], ["'spd'"]],
    "param_names": ["method", "matrix"],
    "unit": "steps",
    "version": "1",
    "type": "track",
}


def _write(results_dir, commit: str, date: int, values: list[float | None]) -> None:
    res = Results(
        {"machine": "ci", "python": "3.11"}, {}, commit, date, "3.11", "virtualenv-py3.11", {}
    )
    samples = [[v] if v is not None else None for v in values]
    outcome = BenchmarkResult(
        result=values, samples=samples, number=[1] * 2, errcode=0, stderr="", profile=None
    )
    started = datetime.datetime.fromtimestamp(date / 1000, tz=datetime.timezone.utc)
    res.add_result(BENCH, outcome, started_at=started, duration=1.0)
    res.save(str(results_dir))


def test_two_commits_in_one_frame(tmp_path):
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "machine.json").write_text(json.dumps({"machine": "ci", "version": 1}))
    (tmp_path / "benchmarks.json").write_text(json.dumps({BENCH["name"]: BENCH, "version": 2}))
    _write(tmp_path, "a" * 40, 1_700_000_000_000, [120.0, 5000.0])
    _write(tmp_path, "b" * 40, 1_700_000_100_000, [118.0, None])
    df = load_asv_results(tmp_path)
    assert list(df.commit.unique()) == ["a" * 40, "b" * 40]
    assert len(df) == 4 and set(df.unit) == {"steps"}
    first = df[(df.commit == "a" * 40) & (df.params == "method=hybrid-lowrank-als, matrix=spd")]
    assert first.value.item() == 120.0
    assert df[df.commit == "b" * 40].value.isna().sum() == 1


def test_missing_results_folder(tmp_path):
    with pytest.raises(NNBenchError, match="asv run --quick"):
        load_asv_results(tmp_path / "nothing")


def test_asv_cuda_parameters_skip_cleanly_without_a_gpu():
    """asv skips a parameter set whose setup raises NotImplementedError (issue 14)."""
    import torch

    from benchmarks.bench_time import OnDevice
    from benchmarks.common import TORCH

    bench = OnDevice()
    method = next(p for p in TORCH if p.startswith("torch-lu@"))
    bench.setup(method, 256, "cpu")
    bench.time_factorize(method, 256, "cpu")
    if torch.cuda.is_available():
        bench.setup(method, 256, "cuda")
        bench.time_factorize(method, 256, "cuda")
    else:
        with pytest.raises(NotImplementedError, match="CUDA"):
            bench.setup(method, 256, "cuda")
