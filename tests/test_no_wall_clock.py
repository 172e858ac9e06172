"""No test asserts a wall-clock time or orders two measured times: on a loaded machine either
can come out either way (CI failed on two such asserts). Speed targets live in `nnbench bench`
and asv. This scans every test's asserts for an ordering (<, <=, >, >=) with a measured time on
one side and anything but 0 on the other, unless its line says why it holds "by construction"
(a timeout row's time is taken after the kill, so it is never below the timeout)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
TIMED = re.compile(r"(elapsed|seconds|perf_counter|monotonic|time\.time|_s\b|\btime_s)")
ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0


def wall_clock_asserts(source: str) -> list[tuple[int, str]]:
    """(line, text) of each assert that orders a measured time against something but 0."""
    found = []
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert) or "by construction" in lines[node.lineno - 1]:
            continue
        for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            sides = [compare.left, *compare.comparators]
            for op, left, right in zip(compare.ops, sides, sides[1:], strict=False):
                if not isinstance(op, ORDERINGS):
                    continue
                texts = [ast.unparse(left), ast.unparse(right)]
                timed = [bool(TIMED.search(t)) for t in texts]
                other = right if timed[0] else left
                if any(timed) and not _is_zero(other):
                    found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_scan_finds_what_it_should():
    bad = "assert elapsed < 30\nassert row.cg_total_s > row.time_s > 0\n"
    fine = "assert row.time_s > 0\nassert len(rows) < 30\nassert 0 < row.cg_solve_s\n"
    assert [line for line, _ in wall_clock_asserts(bad)] == [1, 2]
    assert wall_clock_asserts(fine) == []


@pytest.mark.parametrize("path", sorted(TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_no_assert_on_a_wall_clock_time(path):
    found = wall_clock_asserts(path.read_text())
    assert not found, f"{path.name}: " + "; ".join(f"line {n}: {t}" for n, t in found)
