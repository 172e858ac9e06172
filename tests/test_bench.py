"""`nnbench bench NAME`: every benchmark runs through the command line on a tiny configuration
and prints the ratios it claims, each consistent with the numbers printed beside it (up to
their rounding); an unknown name is one line that lists the benchmarks."""

from __future__ import annotations

import math
import os
import re
from functools import partial
from typing import Any

import numpy as np
import pytest

from nnbench.bench import BENCHMARKS, EVAL_COST_METHODS, RANK_K_CONTENDERS
from nnbench.cli import main
from nnbench.methods import METHODS

TINY: dict[str, dict[str, Any]] = {  # seconds, not the minutes of the defaults
    "eval-cost": {"sizes": (16,), "rank": 2},
    "lowrank-vs-svd": {"n": 16, "ranks": (2,), "repeats": 1},
    "jobs-speedup": {"sizes": (8,), "repeats": 1},
    "lu-throughput": {"count": 4, "loops": 1, "repeats": 1, "steps": 20},
    "file-matrix": {"n": 64},
    "timing-overhead": {"sizes": (8,), "batch": 10, "repeats": 3},
    "report-build": {"repeats": 2},
    "classical-speed": {"sizes": (256,), "pairs": 3, "dense_sizes": (64,), "ranks": (5,)},
    "group-rule-cost": {"n": 8, "rank": 2, "pairs": 3, "calls": 1, "budget_s": 0.0, "swaps": 5},
}
NUMBER = r"[\d,]+(?:\.\d+)?"


def bench(name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> str:
    """What `nnbench bench NAME` prints, on the tiny configuration."""
    monkeypatch.setitem(BENCHMARKS, name, partial(BENCHMARKS[name], **TINY[name]))
    assert main(["bench", name]) == 0
    return capsys.readouterr().out


def interval(printed: str) -> tuple[float, float]:
    """The values a printed number stands for: within half a unit of its last digit."""
    plain = printed.replace(",", "")
    half = 0.5 * 10.0 ** -len(plain.partition(".")[2])
    return float(plain) - half, float(plain) + half


def agrees(ratio: str, numerator: str, denominator: str, *, times: float = 1.0) -> bool:
    """Whether the printed `ratio` can be times * numerator / denominator, all as printed."""
    low, high = interval(ratio)
    n_low, n_high = interval(numerator)
    d_low, d_high = interval(denominator)
    smallest = max(n_low, 0.0) * times / d_high
    return high >= smallest and (d_low <= 0 or low <= n_high * times / d_low)


def test_agrees_allows_rounding_and_nothing_more():
    assert agrees("2.0", "0.1", "0.05") and agrees("1.8", "0.1", "0.05")  # 0.1 is 0.05..0.15
    assert not agrees("4.0", "0.1", "0.05") and not agrees("0.5", "0.10", "0.05")
    assert agrees("1,000", "1.00", "0.001") and agrees("7", "0.1", "0.0")  # 0.0: no bound


def test_every_benchmark_has_a_tiny_configuration():
    assert set(TINY) == set(BENCHMARKS)


def test_report_build_prints_each_build_and_section(monkeypatch, capsys, tmp_path):
    from nnbench.api import Grid, run_grid

    grid = Grid(matrices=("spd", "image-logo"), methods=("scipy-lu", "scipy-tsvd"), sizes=(8,))
    run_grid(grid, out=tmp_path / "results")
    monkeypatch.setitem(BENCHMARKS, "report-build", partial(BENCHMARKS["report-build"], repeats=2))
    assert main(["bench", "report-build", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    builds = re.search(rf"report build of 4 cells: ({NUMBER}), ({NUMBER}) s in 2 builds", out)
    assert builds, out
    sections = dict(re.findall(rf"^(\S+) +({NUMBER}) +\d+%$", out, re.MULTILINE))
    assert {"headline", "verdict", "performance_profiles"} <= set(sections), out
    assert sum(map(float, sections.values())) <= float(builds[1]) + float(builds[2])
    assert main(["bench", "eval-cost", "--results", str(tmp_path)]) == 2  # takes none


def test_classical_speed_times_ic0_and_its_apply_against_references(monkeypatch, capsys):
    out = bench("classical-speed", monkeypatch, capsys)
    assert "n = 256" in out and "(L L^T)^-1 r, compiled solves" in out
    ratio = rf"ours/theirs +{NUMBER}x \[{NUMBER}, {NUMBER}\]"
    assert re.search(rf"SuperLU's factor of L reused +{NUMBER} ms +{ratio}", out), out
    pytest.importorskip("ilupp")
    assert re.search(rf"ILU\+\+ ichol0 +{NUMBER} ms +{ratio}", out), out
    gap = float(re.search(r"largest entry difference (\S+) \(relative\)", out)[1])
    assert gap <= 1e-12  # the same factor


def test_classical_speed_times_every_home_grown_method_against_its_reference(monkeypatch, capsys):
    from nnbench.bench.speed_references import REFERENCES

    out = bench("classical-speed", monkeypatch, capsys)
    line = re.compile(
        rf"^  (\S+) +64 +(?:5)? +({NUMBER}) ms .+? ({NUMBER}) ms +({NUMBER})x "
        rf"\[({NUMBER}), ({NUMBER})\] +(\S+) +(meets|MISSES|not a comparator)",
        re.MULTILINE,
    )
    rows = line.findall(out)
    assert {row[0] for row in rows} == {r.method for r in REFERENCES}, out  # ic0: LAPACK too
    for _, _, _, ratio, low, high, gap, _ in rows:
        assert float(low) <= float(ratio) <= float(high), out
        assert float(gap) <= 1e-8  # the same output, to rounding


def test_eval_cost(monkeypatch, capsys):
    out = bench("eval-cost", monkeypatch, capsys)
    row = re.compile(
        rf"^\s*16 (\S+)\s+({NUMBER})\s+({NUMBER}) \(\s*({NUMBER})x\)\s+({NUMBER}) "
        rf"\(\s*({NUMBER})x\)$",
        re.MULTILINE,
    )
    rows = row.findall(out)
    assert [r[0] for r in rows] == list(EVAL_COST_METHODS), out
    for name, method_s, first_s, first_x, later_s, later_x in rows:
        assert agrees(first_x, first_s, method_s), name
        assert agrees(later_x, later_s, method_s), name


def test_lowrank_vs_svd(monkeypatch, capsys):
    out = bench("lowrank-vs-svd", monkeypatch, capsys)
    line = re.compile(
        rf"^ +(\S+) +(classical|hybrid|neural) +({NUMBER}) s, ratio - 1 = (\S+)$", re.MULTILINE
    )
    timed = {
        name: (group, seconds, float(excess)) for name, group, seconds, excess in line.findall(out)
    }
    assert list(timed) == list(RANK_K_CONTENDERS), out
    assert all(excess >= -1e-12 for _, _, excess in timed.values())  # none beats the optimum
    verdict = re.search(
        rf"at the hybrid's accuracy: (\S+), ({NUMBER}) s; the hybrid takes ({NUMBER})x its time",
        out,
    )
    assert verdict, out
    best, best_s, ratio = verdict.groups()
    assert timed[best][0] == "classical" and timed[best][1] == best_s
    assert agrees(ratio, timed["hybrid-lowrank-als"][1], best_s)


def test_jobs_speedup(monkeypatch, capsys):
    out = bench("jobs-speedup", monkeypatch, capsys)
    assert out.startswith("10 cells of hybrid-lowrank-als")  # 5 families x 1 size x 2 ranks
    found = re.search(
        rf"inline: ({NUMBER}) s; --jobs 2: ({NUMBER}) s .* speed-up ({NUMBER})x "
        r"\(goal >= 1.7x\); identical errors: (\w+)",
        out,
    )
    assert found, out
    inline_s, parallel_s, speedup, identical = found.groups()
    assert identical == "True"
    assert agrees(speedup, inline_s, parallel_s)


def test_lu_throughput(monkeypatch, capsys):
    out = bench("lu-throughput", monkeypatch, capsys)
    batched = re.search(rf"batched: ({NUMBER}) s .* (\d+)/4 at rel_err_2 <= 1e-12", out)
    library = re.search(
        rf"on the same stack: ({NUMBER}) s, .*takes ({NUMBER})x the library's time", out
    )
    loop = re.search(rf"4 x ({NUMBER}) s / ({NUMBER}) s = ({NUMBER})x", out)
    study = re.search(rf"\(float32, 20 steps\): ({NUMBER}) s = ({NUMBER})x the loop", out)
    assert batched and library and loop and study, out
    batch_s, exact = batched.groups()
    assert exact == "4"  # the hybrid fits every 2x2 matrix to rounding
    assert agrees(library[2], batch_s, library[1])
    per_matrix, loop_batch_s, speedup = loop.groups()
    assert loop_batch_s == batch_s and agrees(speedup, per_matrix, batch_s, times=4)
    assert agrees(study[2], per_matrix, study[1], times=4)


def test_unknown_benchmark_is_one_line_naming_the_choices(capsys):
    assert main(["bench", "nope"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("nnbench: error: unknown benchmark 'nope'")
    assert all(name in err for name in BENCHMARKS)


def test_file_matrix(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("NNBENCH_CACHE", str(tmp_path))  # the benchmark uses its own
    out = bench("file-matrix", monkeypatch, capsys)
    assert out.startswith("a random Gaussian 64x64 .npy (0 MB) under scipy-lu"), out
    base = re.search(
        rf"one scipy LU: ({NUMBER}) s; one SVD \(singular values\): ({NUMBER}) s; "
        rf"LU \+ SVD: ({NUMBER}) s",
        out,
    )
    whole = re.search(
        rf"whole run \(read, tags, the cell: ok, results written\): ({NUMBER}) s "
        rf"= ({NUMBER})x \(LU \+ SVD\) \(goal <= 3x\)",
        out,
    )
    again = re.search(rf"re-run, 1 of 1 cells cached: ({NUMBER}) s \(goal <= 10 s\)", out)
    assert base and whole and again, out
    assert agrees(whole[2], whole[1], base[3])
    assert os.environ["NNBENCH_CACHE"] == str(tmp_path) and not any(tmp_path.iterdir())


def test_timing_overhead(monkeypatch, capsys):
    out = bench("timing-overhead", monkeypatch, capsys)
    row = re.compile(
        rf"^(\S+) +(8x8|10x8x8) +(.+?) +({NUMBER}) +({NUMBER}) +({NUMBER})$", re.MULTILINE
    )
    rows = row.findall(out)
    classical = [name for name, m in METHODS.items() if m.group == "classical"]
    batched = [name for name in classical if METHODS[name].batchable]
    expected = [(name, "8x8") for name in classical] + [(name, "10x8x8") for name in batched]
    assert [r[:2] for r in rows] == expected, out
    ratios = [float(r[5]) for r in rows]
    assert all(math.isfinite(r) and r > 0 for r in ratios), out
    for name, shape, _, ours_us, library_us, ratio in rows:
        assert agrees(ratio, ours_us, library_us), (name, shape)
    summary = re.search(
        rf"^median ratio ({NUMBER})x \(goal <= 1.3x\); max ({NUMBER})x, (\S+ \S+) "
        r"\(goal <= 2x\): (met|NOT met)$",
        out,
        re.MULTILINE,
    )
    assert summary, out
    assert abs(float(summary[1]) - float(np.median(ratios))) <= 0.01
    assert float(summary[2]) == max(ratios) and summary[3] in {f"{n} {s}" for n, s in expected}


def test_library_calls_are_one_per_classical_method():
    from nnbench.bench.library_calls import TABLES, library_calls

    names = [name for table in TABLES for name in table()]
    assert len(names) == len(set(names))  # no method in two tasks' tables
    assert set(library_calls()) == {n for n, m in METHODS.items() if m.group == "classical"}


def test_group_rule_cost(monkeypatch, capsys):
    from nnbench.bench import GUARDED
    from nnbench.methods import select_methods

    out = bench("group-rule-cost", monkeypatch, capsys)
    row = rf"^(\S+) +({NUMBER}) +({NUMBER}) +({NUMBER}) \[({NUMBER}), ({NUMBER})\] +(\d+)$"
    rows = re.findall(row, out, re.MULTILINE)
    assert [r[0] for r in rows] == [m.name for m in select_methods(list(GUARDED))], out
    assert all(m.group == "neural" for m in select_methods(list(GUARDED)))
    for _, _, _, ratio, q1, q3, pairs in rows:
        assert 0 < float(q1) <= float(ratio) <= float(q3) and int(pairs) == 3
    summary = re.search(
        rf"^every pair: median ratio ({NUMBER}) \[95% ({NUMBER}), ({NUMBER})\], (\d+) pairs "
        r"\(goal <= 1.02: (met|NOT met)\); the guard put in place and taken away: \d+ us",
        out,
        re.MULTILINE,
    )
    assert summary, out
    assert float(summary[2]) <= float(summary[1]) <= float(summary[3])
    assert int(summary[4]) == 3 * len(rows)
    assert (summary[5] == "met") == (float(summary[1]) <= 1.02)
