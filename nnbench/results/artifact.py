"""What the report draws that a table row cannot hold, kept per cell as
`artifacts/CELL_ID.npz`: pictures of an image matrix and of its approximation, the matrix's
singular values, and the factors of the studies' worked examples. A committed results folder
keeps only the fields its report draws, pictures as 256 grey levels (`Artifact.only`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

FACTOR_PREFIX = "factor_"
FIELDS = ("picture", "approx_picture", "sigma", "factors")
PICTURES = ("picture", "approx_picture")


def picture_scale(image: np.ndarray | None) -> float:
    """The top of a picture's grey scale: 1 for a [0, 1] picture, its maximum above that."""
    finite = np.asarray(image, dtype=float)
    finite = finite[np.isfinite(finite)]
    return max(1.0, float(finite.max())) if finite.size else 1.0


@dataclass(frozen=True, kw_only=True)
class Artifact:
    picture: np.ndarray | None = None  # what the report shows of the matrix (float32)
    approx_picture: np.ndarray | None = None  # the same view of the method's approximation
    picture_label: str = ""  # what the view shows when it is not the whole matrix
    sigma: np.ndarray | None = None  # singular values of the matrix, float64
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    grey_top: float | None = None  # pictures stored as 256 grey levels on [0, grey_top]

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
        if self.grey_top is not None:
            out |= {name: _grey(out[name], self.grey_top) for name in PICTURES if name in out}
            out["grey_top"] = np.array(self.grey_top)
        out |= {FACTOR_PREFIX + name: value for name, value in self.factors.items()}
        return out | {"picture_label": np.array(self.picture_label)}

    def write(self, path: str | Path) -> None:
        arrays: dict[str, Any] = self.arrays()
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    def only(self, fields: Iterable[str]) -> Artifact:
        """This artifact with only `fields` (of `FIELDS`) kept and its pictures stored as the
        report draws them: 256 grey levels on [0, the original's scale], clipped there."""
        keep = set(fields)
        if unknown := keep - set(FIELDS):
            raise ValueError(f"unknown artifact fields {sorted(unknown)}; known: {FIELDS}")
        top = self.grey_top if self.grey_top is not None else picture_scale(self.picture)
        return replace(
            self,
            picture=self.picture if "picture" in keep else None,
            approx_picture=self.approx_picture if "approx_picture" in keep else None,
            sigma=self.sigma if "sigma" in keep else None,
            factors=self.factors if "factors" in keep else {},
            grey_top=top,
        )


def _grey(picture: np.ndarray, top: float) -> np.ndarray:
    levels = np.nan_to_num(np.asarray(picture, dtype=float) / top * 255.0, nan=0.0)
    return np.rint(np.clip(levels, 0.0, 255.0)).astype(np.uint8)


def _picture(arrays: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """A picture as float32, whether stored whole or as grey levels."""
    picture = arrays.get(name)
    if picture is None:
        return None
    if "grey_top" in arrays:
        return picture.astype(np.float32) * np.float32(float(arrays["grey_top"]) / 255.0)
    return picture.astype(np.float32, copy=False)


def read_artifact(path: str | Path) -> Artifact:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    factors = {
        name.removeprefix(FACTOR_PREFIX): value
        for name, value in arrays.items()
        if name.startswith(FACTOR_PREFIX)
    }
    return Artifact(
        picture=_picture(arrays, "picture"),
        approx_picture=_picture(arrays, "approx_picture"),
        picture_label=str(arrays.get("picture_label", "")),
        sigma=arrays.get("sigma"),
        factors=factors,
        grey_top=float(arrays["grey_top"]) if "grey_top" in arrays else None,
    )
