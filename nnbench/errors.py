"""The one error type users see: a one-line message that names the problem and the fix."""

from __future__ import annotations


class NNBenchError(ValueError):
    """Bad input to nnbench. The message is one line: what is wrong, then how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}")


class SkipCell(Exception):
    """Raised by a method that cannot handle an input; the runner records `skipped` + reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Diverged(Exception):
    """Raised by a trained method whose loss became NaN/Inf or exploded at `step`; the
    message says where (" at step N") unless `detail` says it already (`located`: a CG run's
    reason names its own iteration)."""

    def __init__(self, step: int, detail: str, *, located: bool = False) -> None:
        self.step = step
        super().__init__(detail if located else f"{detail} at step {step}")


class InvalidFactorization(ValueError):
    """A factorization whose factors are not finite or do not fit together; the runner
    records the cell as `failed` with this message."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: `finished` of its `total` cells are in the journal of the results
    folder `out` (None: no folder, or nothing journaled), where `--resume` finds them."""

    def __init__(self, finished: int, total: int, out: str | None) -> None:
        self.finished = finished
        self.total = total
        self.out = out
        super().__init__(f"{finished} of {total} cells finished")
