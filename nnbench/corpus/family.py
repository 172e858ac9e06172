"""A matrix family is data: a name, tags, default parameters and a deterministic generator."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnbench.corpus.sparse import Matrix, as_csr, to_dense
from nnbench.errors import NNBenchError

Generator = Callable[..., Matrix]
"""`generate(n, rng, **params) -> float64 ndarray` (a scipy.sparse array for a sparse family);
`n` is ignored by fixed-shape families."""

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class MatrixFamily:
    """A named, parametrised, deterministic generator of matrices.

    `tags` are boolean properties every instance has (tests verify them numerically): a
    frozenset for a generator, or for one fixed matrix (a file's) the `InferredTags` that
    check each tag when first asked;
    `fixed_shape` is set for families whose size cannot change (worked examples, files), and
    `fingerprint` (a hash of the array) for families that hold one fixed array, so that a
    changed file is a different matrix to the cache.
    `numeric_tags(n, params)` gives properties with a value (exact rank, condition number,
    pixel scale: the keys of `tags.VALUE_CHECKS`, whose checks tests run on instances).
    `view` turns an instance (or an approximation of it) into the picture the report shows
    of it (default: the matrix itself), described by `view_label`; `keep_factors` keeps the
    factors of every cell on it (worked examples, whose factors the studies printed).
    `sparse` families make scipy.sparse CSR instances (see `corpus.sparse`).
    """

    name: str
    generate: Generator
    tags: Set[str]
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fixed_shape: tuple[int, int] | None = None
    default_n: int = 16
    source: str = ""
    numeric_tags: Callable[[int, Mapping[str, Any]], dict[str, float]] | None = None
    shape_of: Callable[[int, Mapping[str, Any]], tuple[int, int]] | None = None
    fingerprint: str = ""
    view: Callable[[np.ndarray], np.ndarray] | None = None
    view_label: str = ""
    keep_factors: bool = False
    sparse: bool = False

    @property
    def sizable(self) -> bool:
        return self.fixed_shape is None

    def make(
        self,
        n: int | None = None,
        *,
        seed: int = 0,
        dtype: str = "float64",
        dense: bool = False,
        **params: Any,
    ) -> Matrix:
        """Return the instance for (n, seed, params) as a C-contiguous array of `dtype`, or a
        canonical CSR array of `dtype` for a sparse family unless `dense` is asked for."""
        if dtype not in DTYPES:
            raise NNBenchError(f"unknown dtype {dtype!r}", f"use one of {', '.join(DTYPES)}")
        unknown = set(params) - set(self.params)
        if unknown:
            known = ", ".join(sorted(self.params)) or "none"
            raise NNBenchError(
                f"family {self.name!r} has no parameter {sorted(unknown)[0]!r}",
                f"its parameters are: {known}",
            )
        size = self.default_n if n is None else int(n)
        if self.sizable and size < 1:
            raise NNBenchError(f"size {size} is too small", "use sizes >= 1")
        rng = np.random.default_rng(seed)
        merged = {**self.params, **params}
        matrix = self.generate(size, rng, **merged)
        if self.sparse and not dense:
            return as_csr(matrix, dtype)
        return np.ascontiguousarray(to_dense(matrix), dtype=dtype)

    def shape(self, n: int | None = None, **params: Any) -> tuple[int, int]:
        """Shape of the instance of size n, without generating it."""
        if self.fixed_shape is not None:
            return self.fixed_shape
        size = self.default_n if n is None else int(n)
        if self.shape_of is not None:
            return self.shape_of(size, {**self.params, **params})
        return (size, size)

    def picture(self, a: np.ndarray) -> np.ndarray:
        """What the report shows of an instance or of an approximation of it (float32)."""
        return np.asarray(a if self.view is None else self.view(a), dtype=np.float32)

    def tag_values(self, n: int | None = None, **params: Any) -> dict[str, float]:
        if self.numeric_tags is None:
            return {}
        return self.numeric_tags(self.default_n if n is None else n, {**self.params, **params})
