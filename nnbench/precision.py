"""Precisions a cell can run in (the results' `dtype` column): a storage dtype for the matrix
and the factors, and whether CUDA matmuls may use TF32 tensor cores."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Precision:
    name: str
    storage: str  # numpy/torch dtype of the matrix, the factors and the metrics' floor
    tf32: bool  # torch.backends.cuda.matmul.allow_tf32 (and cuDNN's) during the cell
    description: str


PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("float64", "float64", False, "IEEE double"),
        Precision("float32", "float32", False, "IEEE single; CUDA matmuls in full float32"),
        Precision(
            "tf32",
            "float32",
            True,
            "float32 storage with TF32 tensor-core matmuls (10-bit mantissa products) on CUDA",
        ),
    )
}


def tf32_skip_reason(precision: str, device: str) -> str | None:
    """TF32 is a mode of NVIDIA tensor cores: tf32 cells run on CUDA only."""
    if PRECISIONS[precision].tf32 and device != "cuda":
        return "tf32 is a CUDA tensor-core mode: run tf32 cells with --devices cuda"
    return None


@contextlib.contextmanager
def tf32_mode(on: bool) -> Iterator[None]:
    """TF32 matmuls allowed (on) or not for the duration, the previous setting restored."""
    if not on:
        yield
        return
    import torch

    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
