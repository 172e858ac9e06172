"""User matrices: `file:PATH` for .npy, .csv, Matrix Market (.mtx) and image files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.tags import infer_tags
from nnbench.errors import NNBenchError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")


def safe_range(dtype: str) -> tuple[float, float]:
    """Largest entries whose squares neither underflow nor overflow in `dtype`: norms, Gram
    matrices and least-squares solves stay finite and accurate inside it."""
    info = np.finfo(dtype)
    return float(np.sqrt(info.tiny)), float(np.sqrt(info.max))


def magnitude_problem(a: np.ndarray, name: str) -> NNBenchError | None:
    """Why the entries of `a` are too large or too small for arithmetic in a.dtype, or None."""
    with np.errstate(over="ignore"):
        largest = float(np.abs(a).max(initial=0.0))
    low, high = safe_range(a.dtype.name)
    fix = "divide it by its largest entry"
    if largest > high or not np.isfinite(largest):
        return NNBenchError(
            f"matrix {name!r} has entries up to {largest:.3g}, beyond {high:.1e} where "
            f"{a.dtype.name} arithmetic overflows",
            fix,
        )
    if 0.0 < largest < low:
        return NNBenchError(
            f"matrix {name!r} has entries no larger than {largest:.3g}, below {low:.1e} where "
            f"{a.dtype.name} arithmetic underflows",
            fix,
        )
    return None


def fingerprint(a: np.ndarray) -> str:
    """A hash of the array's shape and values: its identity for the cache."""
    data = np.ascontiguousarray(a, dtype=np.float64)
    return hashlib.blake2b(repr(data.shape).encode() + data.tobytes(), digest_size=8).hexdigest()


def validate_matrix(a: np.ndarray, name: str) -> np.ndarray:
    """A finite, non-empty 2-D float64 array, or an NNBenchError that says how to fix it."""
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise NNBenchError(
            f"matrix {name!r} has dtype {a.dtype}", "give real numbers (int or float entries)"
        )
    if a.ndim != 2:
        raise NNBenchError(
            f"matrix {name!r} is {a.ndim}-D with shape {a.shape}",
            "give a 2-D array (reshape a vector to (n, 1) or (1, n))",
        )
    if a.size == 0:
        raise NNBenchError(f"matrix {name!r} is empty (shape {a.shape})", "give a non-empty matrix")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        bad = int(np.sum(~np.isfinite(a)))
        raise NNBenchError(
            f"matrix {name!r} has {bad} NaN/Inf entries", "replace or drop them before benchmarking"
        )
    problem = magnitude_problem(a, name)
    if problem is not None:
        raise problem
    return a


def _npy(path: Path) -> np.ndarray:
    return np.asarray(np.load(path, allow_pickle=False))


def _csv(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", ndmin=2)


def _matrix_market(path: Path) -> np.ndarray:
    import scipy.io
    import scipy.sparse

    m = scipy.io.mmread(path)
    return m.toarray() if scipy.sparse.issparse(m) else np.asarray(m)


def _image(path: Path) -> np.ndarray:
    from skimage.io import imread

    from nnbench.corpus.images import to_gray

    return to_gray(imread(path))


READERS: dict[str, Callable[[Path], np.ndarray]] = {
    ".npy": _npy,
    ".csv": _csv,
    ".mtx": _matrix_market,
    **dict.fromkeys(IMAGE_SUFFIXES, _image),
}
"""How each file type is read (by lower-case suffix); images as grayscale in [0, 1]."""


def load_matrix_file(path: str | Path) -> np.ndarray:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise NNBenchError(
            f"cannot read {str(path)!r}: unknown file type {path.suffix or '(none)'!r}",
            f"use one of {', '.join(READERS)}",
        )
    if not path.is_file():
        raise NNBenchError(f"matrix file {str(path)!r} does not exist", "check the path")
    try:
        a = READERS[suffix](path)
    except Exception as exc:  # any reader's failure is the same user-facing problem
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NNBenchError(
            f"cannot read matrix file {str(path)!r} ({detail})",
            f"check it is a valid {path.suffix.lower()} file holding one 2-D numeric array",
        ) from None
    return validate_matrix(a, str(path))


def _copy_of(a: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return a.copy()


def array_family(
    name: str, a: np.ndarray, *, image: bool = False, source: str = "", keep_factors: bool = False
) -> MatrixFamily:
    """A fixed-shape family holding one user matrix (from a file or a notebook's array); its
    fingerprint is a hash of the values, so an edited file is not served from the cache."""
    a = validate_matrix(a, name)
    a.setflags(write=False)
    tags = infer_tags(a) | ({"image"} if image else set())
    return MatrixFamily(
        name=name,
        generate=partial(_copy_of, a),
        tags=frozenset(tags),
        description=f"user matrix {a.shape[0]}x{a.shape[1]}",
        fixed_shape=(int(a.shape[0]), int(a.shape[1])),
        source=source or "user",
        fingerprint=fingerprint(a),
        keep_factors=keep_factors,
    )


def file_family(path: str) -> MatrixFamily:
    a = load_matrix_file(path)
    image = Path(path).suffix.lower() in IMAGE_SUFFIXES
    return array_family(f"file:{path}", a, image=image, source=str(path))
