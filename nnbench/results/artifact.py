"""What the report draws that a table row cannot hold, kept per cell as
`artifacts/CELL_ID.npz`: pictures of an image matrix and of its approximation, the matrix's
singular values, and the factors of the studies' worked examples. A committed results folder
keeps only the fields its report draws, pictures as 8-bit grey PNGs (`Artifact.only`)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

FACTOR_PREFIX = "factor_"
FIELDS = ("picture", "approx_picture", "sigma", "factors")
PICTURES = ("picture", "approx_picture")
PICTURE_SIDE = 256  # pixels a side of a committed picture


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
        if self.grey_top is not None:  # each picture as an 8-bit grey PNG's bytes
            out |= {
                f"{name}_png": _png(_grey(out.pop(name), self.grey_top))
                for name in PICTURES
                if name in out
            }
            out["grey_top"] = np.array(self.grey_top)
        out |= {FACTOR_PREFIX + name: value for name, value in self.factors.items()}
        return out | {"picture_label": np.array(self.picture_label)}

    def write(self, path: str | Path) -> None:
        arrays: dict[str, Any] = self.arrays()
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    def only(self, fields: Iterable[str]) -> Artifact:
        """This artifact with only `fields` (of `FIELDS`) kept and its pictures stored as the
        report draws them: at most `PICTURE_SIDE` pixels a side (a panel is about 250 pixels
        wide on the page) and 256 grey levels on [0, the original's scale], clipped there."""
        keep = set(fields)
        if unknown := keep - set(FIELDS):
            raise ValueError(f"unknown artifact fields {sorted(unknown)}; known: {FIELDS}")
        top = self.grey_top if self.grey_top is not None else picture_scale(self.picture)
        return replace(
            self,
            picture=_shrink(self.picture) if "picture" in keep else None,
            approx_picture=_shrink(self.approx_picture) if "approx_picture" in keep else None,
            sigma=self.sigma if "sigma" in keep else None,
            factors=self.factors if "factors" in keep else {},
            grey_top=top,
        )


def _shrink(picture: np.ndarray | None, side: int = PICTURE_SIDE) -> np.ndarray | None:
    """The picture's means over f x f blocks, f the least integer that brings both sides to
    at most `side` (edges padded with their last row and column)."""
    if picture is None or max(picture.shape) <= side:
        return picture
    f = -(-max(picture.shape) // side)
    h, w = picture.shape
    padded = np.pad(picture, ((0, -h % f), (0, -w % f)), mode="edge")
    blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(picture.dtype)


def _grey(picture: np.ndarray, top: float) -> np.ndarray:
    levels = np.nan_to_num(np.asarray(picture, dtype=float) / top * 255.0, nan=0.0)
    return np.rint(np.clip(levels, 0.0, 255.0)).astype(np.uint8)


def _png(levels: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, format="PNG", optimize=True)  # uint8: mode "L"
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


def _picture(arrays: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """A picture as float32, whether stored whole or as a grey PNG on [0, grey_top]."""
    if f"{name}_png" in arrays:
        with Image.open(io.BytesIO(arrays[f"{name}_png"].tobytes())) as png:
            levels = np.asarray(png, dtype=np.float32)
        return levels * np.float32(float(arrays["grey_top"]) / 255.0)
    picture = arrays.get(name)
    return None if picture is None else picture.astype(np.float32, copy=False)


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
