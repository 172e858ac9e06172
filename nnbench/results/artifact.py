"""What the report draws that a table row cannot hold, kept per cell as
`artifacts/CELL_ID.npz`: pictures of an image matrix and of its approximation, the matrix's
singular values, and the factors of the studies' worked examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FACTOR_PREFIX = "factor_"


@dataclass(frozen=True, kw_only=True)
class Artifact:
    picture: np.ndarray | None = None  # what the report shows of the matrix (float32)
    approx_picture: np.ndarray | None = None  # the same view of the method's approximation
    picture_label: str = ""  # what the view shows when it is not the whole matrix
    sigma: np.ndarray | None = None  # singular values of the matrix, float64
    factors: dict[str, np.ndarray] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            name: value
            for name, value in (
                ("picture", self.picture),
                ("approx_picture", self.approx_picture),
                ("sigma", self.sigma),
            )
            if value is not None
        }
        out |= {FACTOR_PREFIX + name: value for name, value in self.factors.items()}
        return out | {"picture_label": np.array(self.picture_label)}

    def write(self, path: str | Path) -> None:
        arrays: dict[str, Any] = self.arrays()
        with open(path, "wb") as f:
            np.savez(f, **arrays)


def read_artifact(path: str | Path) -> Artifact:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    factors = {
        name.removeprefix(FACTOR_PREFIX): value
        for name, value in arrays.items()
        if name.startswith(FACTOR_PREFIX)
    }
    return Artifact(
        picture=arrays.get("picture"),
        approx_picture=arrays.get("approx_picture"),
        picture_label=str(arrays.get("picture_label", "")),
        sigma=arrays.get("sigma"),
        factors=factors,
    )
