"""The method contract: one class per method, registered in `nnbench.methods.registry`.

A method runs in three phases so that only the work itself is timed:
`prepare` (move the input to the device and dtype; untimed), `compute` (timed),
`finish` (bring the result back as a typed `Factorization`; untimed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from nnbench.devices import device_skip_reason
from nnbench.errors import NNBenchError
from nnbench.methods.factorization import Factorization

KINDS = ("lu", "qr", "svd", "rank-k")
GROUPS = ("classical", "neural")


class Method(ABC):
    """Base class. Subclasses set the class attributes and implement `compute` and `finish`;
    `compute` raises `SkipCell` for unsuitable input and `Diverged` when training blows up."""

    # Class-level defaults; a configurable method (one model, several named configurations)
    # sets `name` and `description` per instance.
    name: str
    kind: ClassVar[str]
    group: ClassVar[str] = "classical"
    backend: ClassVar[str] = "numpy"  # "numpy" runs on the CPU only; "torch" on any device
    description: str = ""
    square_only: ClassVar[bool] = False
    timing_repeats: ClassVar[int] = 5  # trainings set 1: their cost is measured once
    expensive: bool = False  # minutes per cell (a study's full budget): left out of asv
    options: str = ""  # the options a variant changed, e.g. "optimizer=sgd,lr=0.01"
    warmup: ClassVar[bool] = True

    @property
    def needs_rank(self) -> bool:
        return self.kind == "rank-k"

    def skip_reason(
        self, shape: tuple[int, int], *, rank: int | None, dtype: str, device: str
    ) -> str | None:
        """Why this method cannot run on such an input, or None. Checked before any work."""
        if self.backend == "numpy" and device != "cpu":
            return f"{self.name} runs on the CPU only (numpy/scipy)"
        if self.backend == "torch":
            reason = device_skip_reason(device)
            if reason:
                return reason
            if device == "mps" and dtype == "float64":
                return "MPS has no float64"
        if self.square_only and shape[0] != shape[1]:
            return f"{self.name} needs a square matrix, got {shape[0]}x{shape[1]}"
        if self.needs_rank:
            if rank is None:
                return f"{self.name} needs a rank k"
            if not 1 <= rank <= min(shape):
                return f"rank {rank} is outside 1..{min(shape)} for a {shape[0]}x{shape[1]} matrix"
        return None

    def row_options(self, n: int) -> dict[str, Any]:
        """Training settings for the row (optimizer, lr, init, data_size); none by default."""
        return {}

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        """The input as `compute` wants it (a numpy array by default)."""
        return a

    @abstractmethod
    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        """The timed work. Raise `SkipCell` if the input turns out to be unsuitable."""

    @abstractmethod
    def finish(self, raw: Any) -> Factorization:
        """`compute`'s output as a typed factorization with numpy factors."""

    def factorize(
        self, a: np.ndarray, *, rank: int | None = None, device: str = "cpu", seed: int = 0
    ) -> Factorization:
        """Factorize `a` in one call (notebooks, tests). Raises NNBenchError on unusable input."""
        a = np.asarray(a)
        if a.ndim != 2 or a.dtype.name not in ("float32", "float64"):
            raise NNBenchError(
                f"{self.name} needs a 2-D float32/float64 array, got {a.dtype} {a.shape}",
                "pass e.g. np.asarray(A, dtype=np.float64)",
            )
        reason = self.skip_reason(a.shape, rank=rank, dtype=a.dtype.name, device=device)
        if reason:
            raise NNBenchError(
                f"cannot run {self.name}: {reason}", "choose another matrix or method"
            )
        if not np.all(np.isfinite(a)):
            raise NNBenchError(f"{self.name} got NaN/Inf entries", "clean the matrix first")
        return self.finish(self.compute(self.prepare(a, device=device), rank=rank, seed=seed))
