"""asv results as a pandas table: one row per (commit, benchmark, parameter set)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd

from nnbench.errors import NNBenchError

HISTORY_COLUMNS = ["commit", "date", "machine", "env", "benchmark", "params", "value", "unit"]


def load_asv_results(results_dir: str | Path = ".asv/results") -> pd.DataFrame:
    """Read every asv result under `results_dir` (asv's own reader), newest commit last.

    `params` is a readable `name=value, ...` string; `value` is NaN where a parameter set was
    skipped or failed."""
    from asv.results import iter_results

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise NNBenchError(
            f"no asv results in {str(results_dir)!r}", "run `asv run --quick` first (see README)"
        )
    units, names = _benchmark_info(results_dir)
    rows = []
    for result in iter_results(str(results_dir)):
        for key in result.get_all_result_keys():
            param_lists = result.get_result_params(key)
            values = result.get_result_value(key, param_lists)
            combos = list(itertools.product(*param_lists)) if param_lists else [()]
            for combo, value in zip(combos, values, strict=False):
                label = ", ".join(
                    f"{n}={_plain(v)}" for n, v in zip(names.get(key, []), combo, strict=False)
                )
                rows.append(
                    {
                        "commit": result.commit_hash,
                        "date": pd.Timestamp(result.date, unit="ms", tz="UTC"),
                        "machine": result.params.get("machine", ""),
                        "env": result.env_name,
                        "benchmark": key,
                        "params": label,
                        "value": float("nan") if value is None else float(value),
                        "unit": units.get(key, ""),
                    }
                )
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return frame.sort_values(["date", "benchmark", "params"], ignore_index=True)


def _plain(value: str) -> str:
    return value.strip("'\"") if isinstance(value, str) else str(value)


def _benchmark_info(results_dir: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    path = results_dir / "benchmarks.json"
    if not path.is_file():
        return {}, {}
    info = json.loads(path.read_text())
    benches = {k: v for k, v in info.items() if isinstance(v, dict)}
    return (
        {k: v.get("unit", "") for k, v in benches.items()},
        {k: list(v.get("param_names", [])) for k, v in benches.items()},
    )
