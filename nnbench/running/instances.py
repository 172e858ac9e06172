"""The matrices a process has made, kept for the next cells on them: a run's cells on one
matrix instance (every method, rank and precision of it) would otherwise each generate it
again, and a generator that resizes a photo or assembles a mesh costs more than a small cell's
timed call. Each cell gets its own copy, so no method can change another's input."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

import numpy as np
import scipy.sparse as sp

from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.sparse import Matrix

BUDGET_BYTES = 64 * 2**20  # the cache's size: large matrices are rarely shared across cells


def _nbytes(matrix: Matrix) -> int:
    if sp.issparse(matrix):
        return int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)
    return int(np.asarray(matrix).nbytes)


class Instances:
    """Made matrices by (family, n, seed, dtype, dense), least recently used dropped first
    once they hold more than `budget` bytes."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self.held: OrderedDict[Hashable, Matrix] = OrderedDict()
        self.bytes = 0

    def make(
        self, family: MatrixFamily, n: int | None, *, seed: int, dtype: str, dense: bool
    ) -> Matrix:
        """`family.make(n, seed=seed, dtype=dtype, dense=dense)`, a copy of it if made before."""
        key = (family.name, family.fingerprint, repr(sorted(family.params.items())), n, seed,
               dtype, dense)  # fmt: skip
        if key in self.held:
            self.held.move_to_end(key)
            return self.held[key].copy()
        matrix = family.make(n, seed=seed, dtype=dtype, dense=dense)
        size = _nbytes(matrix)
        if size <= self.budget:
            self.held[key] = matrix.copy()
            self.bytes += size
            while self.bytes > self.budget:
                _, dropped = self.held.popitem(last=False)
                self.bytes -= _nbytes(dropped)
        return matrix


INSTANCES = Instances()
