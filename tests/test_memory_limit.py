"""A cell's memory is bounded like its time (issue 33 item 6): a cell that grows its process
past `--max-memory` is stopped, a `failed` row naming the limit, and the run goes on."""

from __future__ import annotations

import pytest
from slow_methods import MemoryHog, OutOfMemory

from nnbench.api import Execution, Grid, load_results, run_grid
from nnbench.errors import NNBenchError
from nnbench.methods import METHODS
from nnbench.running.memory import DEFAULT_FRACTION, machine_memory_mb, parse_memory


@pytest.mark.parametrize(
    ("text", "mb"),
    [("4G", 4096.0), ("4GB", 4096.0), ("4 GiB", 4096.0), ("300M", 300.0), ("512", 512.0),
     ("1.5g", 1536.0), ("2048k", 2.0), ("none", None)],
)  # fmt: skip
def test_max_memory_reads_sizes_in_mb(text, mb):
    assert parse_memory(text) == mb


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "4X", ""])
def test_max_memory_refuses_what_is_not_a_size(text):
    with pytest.raises(ValueError, match="cannot read .* as a memory size: use e.g. 4G"):
        parse_memory(text)


def test_the_default_limit_is_a_fraction_of_the_machine_and_the_limit_is_checked():
    total = machine_memory_mb()
    if total is None:
        pytest.skip("no /proc/meminfo: no default limit here")
    assert Execution().max_memory_mb == pytest.approx(DEFAULT_FRACTION * total)
    assert parse_memory("50%") == pytest.approx(total / 2)
    assert Execution(max_memory_mb=None).max_memory_mb is None
    with pytest.raises(NNBenchError, match="max_memory_mb 0 is out of range"):
        Execution(max_memory_mb=0)


def test_the_command_line_passes_max_memory_to_the_execution():
    from nnbench.cli import _execution, _parser

    def execution(*options: str) -> Execution:
        return _execution(_parser().parse_args(["run", "--methods", "scipy-lu", *options]))

    assert execution("--max-memory", "300M").max_memory_mb == 300
    assert execution("--max-memory", "none").max_memory_mb is None
    assert execution().max_memory_mb == Execution().max_memory_mb


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "workers"])
def test_a_cell_past_max_memory_is_a_failed_row_and_the_run_goes_on(tmp_path, monkeypatch, jobs):
    """The hog would take 1 GB; at 300 MB it is stopped (in this process by a MemoryError
    raised in it, on workers by killing its worker). numpy's own MemoryError, asked for 4 EiB,
    is a failed row with numpy's sentence; every other cell is ok."""
    if machine_memory_mb() is None:
        pytest.skip("no /proc: resident memory cannot be read here")
    monkeypatch.setitem(METHODS, MemoryHog.name, MemoryHog(mb=1024))
    monkeypatch.setitem(METHODS, OutOfMemory.name, OutOfMemory())
    grid = Grid(
        matrices=("spd",),
        methods=("scipy-lu", MemoryHog.name, OutOfMemory.name, "scipy-qr"),
        sizes=(8, 9),
        timing_repeats=1,
    )
    run_grid(grid, out=tmp_path, execution=Execution(jobs=jobs, max_memory_mb=300))
    rows = load_results(tmp_path).results.set_index("method")
    hog = rows.loc[[MemoryHog.name]]
    assert (hog.status == "failed").all() and len(hog) == 2
    assert hog.reason.str.startswith("exceeded --max-memory of 300 MB (").all(), hog.reason
    out_of_memory = rows.loc[[OutOfMemory.name]]
    assert (out_of_memory.status == "failed").all()
    assert out_of_memory.reason.str.startswith("MemoryError: Unable to allocate").all()
    assert (rows.loc[["scipy-lu", "scipy-qr"]].status == "ok").all()
