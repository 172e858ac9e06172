"""An installable nnbench plug-in: modified Gram-Schmidt QR, declared to nnbench by the entry
point in pyproject.toml (`[project.entry-points.nnbench]`), so that once installed
(`pip install examples/nnbench-example-plugin`) every `nnbench run`, `list` and `check`
loads it, with no `--plugin`.

Its method's code lives in this module, the one the entry point names: a cell's code
fingerprint covers it (an edit recomputes its cells); code in other modules of the package
would not be (the distribution's version in run.json is their record)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnbench.api import LibraryMethod, Raw, Requirements, SkipCell


def _mgs_qr(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    """Thin A = Q R by modified Gram-Schmidt: each new column is made orthogonal to the
    earlier ones one at a time. x: (m, n) float with m >= n."""
    n = x.shape[1]
    q = np.array(x, copy=True)
    r = np.zeros((n, n), dtype=x.dtype)
    for j in range(n):
        r[j, j] = np.linalg.norm(q[:, j])
        if r[j, j] == 0:
            raise SkipCell(f"column {j + 1} depends on the earlier ones: Gram-Schmidt stops")
        q[:, j] /= r[j, j]
        r[j, j + 1 :] = q[:, j] @ q[:, j + 1 :]
        q[:, j + 1 :] -= np.outer(q[:, j], r[j, j + 1 :])
    return {"Q": q, "R": r}


NNBENCH_METHODS = [
    LibraryMethod(
        "example-mgs-qr",
        "qr",
        _mgs_qr,
        "modified Gram-Schmidt QR (an installed plug-in example)",
        tall_only=True,
        requires=Requirements(without=frozenset({"singular"})),  # what it may decline
        structure_cond_power=1,  # Q loses orthogonality like cond(A) eps
    ),
]
