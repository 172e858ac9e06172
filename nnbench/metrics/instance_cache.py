"""The process's cache of what a matrix instance alone determines (its singular values, its
log-determinant, its Doolittle factors), shared by every cell that evaluates on it."""

from __future__ import annotations

import hashlib
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from nnbench.metrics.backends import numpy_svdvals


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple):
        return sum(map(_nbytes, value))
    return 0


class InstanceCache:
    """What evaluation needs of a matrix instance alone (its singular values, its
    log-determinant, its Doolittle factors under a given row order), computed once per
    instance and shared by every method, rank and repeat that evaluates on it (in this
    process): keyed by the shape and a blake2b digest of the float64 values, so an edited
    matrix is a new instance. At most `size` values and `max_bytes` of arrays are kept (least
    recently used first out). `computed` counts the computations actually run, by quantity."""

    def __init__(self, size: int = 128, max_bytes: int = 1 << 30) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.computed: Counter[str] = Counter()
        self.seconds = 0.0  # spent computing (not looking up) values, in all
        self._values: OrderedDict[tuple[str, tuple[int, ...], str], Any] = OrderedDict()

    @staticmethod
    def digest(a: np.ndarray) -> str:
        """What identifies an instance: a blake2b digest of its float64 values."""
        a = np.ascontiguousarray(a, dtype=np.float64)
        return hashlib.blake2b(a.data, digest_size=16).hexdigest()

    def get(
        self,
        a: np.ndarray,
        what: str,
        compute: Callable[[np.ndarray], Any],
        *,
        digest: str | None = None,
    ) -> Any:
        """compute(a), once per (what, shape, digest); `digest` where the caller knows it
        (hashing an n = 1024 matrix costs a third of its LU)."""
        a = np.ascontiguousarray(a, dtype=np.float64)
        key = (what, a.shape, self.digest(a) if digest is None else digest)
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        start = time.perf_counter()
        value = compute(a)
        self.seconds += time.perf_counter() - start
        for array in value if isinstance(value, tuple) else (value,):
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
        self.computed[what] += 1
        self._values[key] = value
        while len(self._values) > self.size or (
            len(self._values) > 1 and sum(map(_nbytes, self._values.values())) > self.max_bytes
        ):
            self._values.popitem(last=False)
        return value

    def __call__(
        self,
        a: np.ndarray,
        svdvals: Callable[[np.ndarray], np.ndarray] = numpy_svdvals,
        *,
        digest: str | None = None,
    ) -> np.ndarray:
        """The singular values of `a`."""
        return self.get(a, "sigma", svdvals, digest=digest)

    def clear(self) -> None:
        self._values.clear()


INSTANCE_CACHE = InstanceCache()
"""The process's cache of what instances alone determine (`MetricInput.sigma`, `_det`,
`_factor`)."""
