"""The source studies' worked examples, by name (see ../shared/seeds/ and SPEC.md)."""

from __future__ import annotations

import numpy as np

WORKED_EXAMPLES: dict[str, tuple[list[list[float]], str]] = {
    "study000-a": ([[10, 20], [30, 40]], "study 000, neural LU: final loss 4.38e-12"),
    "study000-b": ([[2, 10], [8, 13]], "study 000, neural LU: loss 1.40e-5 (poor fit)"),
    "study000-c": ([[100, 3], [60, 0.4]], "study 000, neural LU: final loss 3.68e-11"),
    "study003-lu": ([[4, 3], [6, 3]], "study 003: LU and Gram-Schmidt QR by hand"),
    "study004-lu": ([[6, 18, 3], [2, 12, 1], [4, 15, 3]], "study 004: LU by elimination"),
    "study004-doolittle": (
        [[8, 2, 9], [4, 9, 4], [6, 7, 9]],
        "study 004: Doolittle LU via Schur complements, det 166",
    ),
    "study004-pivot": ([[0, 5, 5], [2, 9, 0], [6, 8, 8]], "study 004: needs pivoting (PA = LU)"),
    "study004-solve": (
        [[3, 2, -1], [2, -2, 4], [-1, 0.5, -1]],
        "study 004: Ax = b with b = [1, -2, 0] has x = [1, -2, -2]",
    ),
}


def worked_example(name: str) -> np.ndarray:
    return np.array(WORKED_EXAMPLES[name][0], dtype=np.float64)
