"""User matrices: `file:PATH` for .npy, .csv, Matrix Market (.mtx) and image files."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.inferred import PROGRESS_MIN_ENTRIES, InferredTags, progress
from nnbench.corpus.sparse import Matrix, as_csr, entries, is_sparse
from nnbench.errors import NNBenchError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")


def safe_range(dtype: str) -> tuple[float, float]:
    """Largest entries whose squares neither underflow nor overflow in `dtype`: norms, Gram
    matrices and least-squares solves stay finite and accurate inside it."""
    info = np.finfo(dtype)
    return float(np.sqrt(info.tiny)), float(np.sqrt(info.max))


def magnitude_problem(a: Matrix, name: str) -> NNBenchError | None:
    """Why the entries of `a` (dense or sparse) are too large or too small for arithmetic in
    a.dtype, or None."""
    values = entries(a)
    with np.errstate(over="ignore"):  # max and -min: no |a| temporary as large as `a`
        largest = max(float(values.max(initial=0.0)), -float(values.min(initial=0.0)))
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


def fingerprint(a: Matrix) -> str:
    """A hash of the array's shape and values (a canonical CSR's pattern and values where
    `a` is sparse): its identity for the cache."""
    if is_sparse(a):
        digest = hashlib.blake2b(repr(("csr", a.shape)).encode(), digest_size=8)
        for part in (a.indptr, a.indices, a.data):
            digest.update(np.ascontiguousarray(part, dtype=np.float64).data)
        return digest.hexdigest()
    data = np.ascontiguousarray(a, dtype=np.float64)
    digest = hashlib.blake2b(repr(data.shape).encode(), digest_size=8)
    digest.update(data.data)  # the buffer itself: no copy of a large matrix
    return digest.hexdigest()


def _validate_sparse(a: Matrix, name: str) -> Matrix:
    """A sparse matrix as a canonical float64 CSR array, checked as `validate_matrix` checks
    a dense one."""
    if a.dtype.kind not in "biuf":
        raise NNBenchError(
            f"matrix {name!r} has dtype {a.dtype}", "give real numbers (int or float entries)"
        )
    if 0 in a.shape:
        raise NNBenchError(f"matrix {name!r} is empty (shape {a.shape})", "give a non-empty matrix")
    a = as_csr(a, "float64")
    bad = int(np.sum(~np.isfinite(a.data)))
    if bad:
        raise NNBenchError(
            f"matrix {name!r} has {bad} NaN/Inf entries", "replace or drop them before benchmarking"
        )
    problem = magnitude_problem(a, name)
    if problem is not None:
        raise problem
    return a


def validate_matrix(a: Matrix, name: str) -> Matrix:
    """A finite, non-empty 2-D float64 array (a canonical CSR array where `a` is sparse), or
    an NNBenchError that says how to fix it."""
    if is_sparse(a):
        return _validate_sparse(a, name)
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise NNBenchError(
            f"matrix {name!r} has dtype {a.dtype}", "give real numbers (int or float entries)"
        )
    if a.ndim == 1:
        raise NNBenchError(
            f"matrix {name!r} is 1-D with shape {a.shape}",
            "give a 2-D array (reshape a vector to (n, 1) or (1, n))",
        )
    if a.ndim != 2:
        raise NNBenchError(
            f"matrix {name!r} has {a.ndim} dimensions (shape {a.shape}) and a matrix needs 2",
            "give one 2-D array (one slice of it, or it reshaped to rows x columns)",
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
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except ValueError as exc:  # numpy's words for "not a .npy array" talk of pickles
        if "pickle" in str(exc):
            raise ValueError(
                "not a numpy array file: it does not start with .npy's header"
            ) from None
        raise


def _csv(path: Path) -> np.ndarray:
    with warnings.catch_warnings():  # an empty file: the empty matrix's error says it, once
        warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
        try:
            a = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError:
            ragged = _ragged_row(path)
            if ragged is None:
                raise
            raise ragged from None
    return a if a.size else np.zeros((0, 0))  # (0, 1) would suggest a column was read


def _ragged_row(path: Path) -> NNBenchError | None:
    """The error for the first row of a CSV with another number of columns than its first
    row (numpy's own words advise `usecols`, a keyword of a call the user does not make), or
    None where every row has as many. Rows are lines as `loadtxt` reads them: blank lines
    and `#` comments are none."""
    first: tuple[int, int] | None = None
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            columns = text.count(",") + 1
            if first is None:
                first = (number, columns)
            elif columns != first[1]:
                return NNBenchError(
                    f"cannot read matrix file {str(path)!r}: line {number} has {columns} "
                    f"columns and the first row (line {first[0]}) has {first[1]}",
                    "give every row the same number of comma-separated values",
                )
    return None


SPARSE_DENSITY = 0.1
"""A Matrix Market coordinate file with at most this fraction of its entries stored stays
sparse (CSR) end to end; a denser one is read dense."""


def _matrix_market(path: Path) -> Matrix:
    import scipy.io
    import scipy.sparse

    m = scipy.io.mmread(path, spmatrix=False)
    if not scipy.sparse.issparse(m):
        return np.asarray(m)
    if m.nnz <= SPARSE_DENSITY * m.shape[0] * m.shape[1]:
        return as_csr(m, m.dtype if m.dtype.kind in "biuf" else "float64")
    return m.toarray()


def _image(path: Path) -> np.ndarray:
    from skimage.io import imread

    from nnbench.corpus.images import to_gray

    return to_gray(imread(path))


READERS: dict[str, Callable[[Path], Matrix]] = {
    ".npy": _npy,
    ".csv": _csv,
    ".mtx": _matrix_market,
    **dict.fromkeys(IMAGE_SUFFIXES, _image),
}
"""How each file type is read (by lower-case suffix); images as grayscale in [0, 1]."""


def _announce(path: Path) -> None:
    """A line on stderr before reading a large file (its shape if the file says it cheaply)."""
    size = path.stat().st_size
    if size < 8 * PROGRESS_MIN_ENTRIES:
        return
    what = f"{size / 1e6:,.0f} MB"
    if path.suffix.lower() == ".npy":
        with contextlib.suppress(OSError, ValueError):  # the reader says what is wrong
            what = "x".join(map(str, np.load(path, mmap_mode="r").shape))  # the header only
    progress(f"reading {path} ({what}) ...")


def native_dtype(path: str | Path) -> str:
    """The dtype a run of this file uses when none is asked for: a `.npy` array's own
    precision (float32 stays float32), float64 for every other file (read as float64). Reads
    the header only; an unreadable file says why when it is loaded."""
    path = Path(path)
    if path.suffix.lower() != ".npy" or not path.is_file():
        return "float64"
    try:
        dtype = np.load(path, mmap_mode="r").dtype
    except (OSError, ValueError):
        return "float64"
    return "float32" if dtype.itemsize <= 4 else "float64"


def _missing(path: Path) -> NNBenchError:
    """Why `path` names no file: a symbolic link that loops or leads nowhere, or nothing."""
    if path.is_symlink() or any(p.is_symlink() for p in path.parents):
        try:
            path.resolve(strict=True)
        except RuntimeError:  # Python 3.11 and 3.12: "Symlink loop from ..."
            return _loop(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # Python 3.13
                return _loop(path)
        if path.is_symlink():
            target = os.readlink(path)
            return NNBenchError(
                f"matrix file {str(path)!r} is a symbolic link to {target!r}, which does not exist",
                "point the link at the file, or give the file's own path",
            )
    return NNBenchError(f"matrix file {str(path)!r} does not exist", "check the path")


def _loop(path: Path) -> NNBenchError:
    return NNBenchError(
        f"matrix file {str(path)!r} is a symbolic link that loops (it leads back to itself)",
        "point the link at the file, or give the file's own path",
    )


def load_matrix_file(path: str | Path) -> Matrix:
    """The file's matrix as a validated float64 array, or CSR array for a sparse Matrix
    Market file (see `validate_matrix`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise NNBenchError(
            f"cannot read {str(path)!r}: unknown file type {path.suffix or '(none)'!r}",
            f"use one of {', '.join(READERS)}",
        )
    if path.is_dir():
        raise NNBenchError(
            f"matrix file {str(path)!r} is a folder", f"give the path of a {suffix} file"
        )
    if not path.is_file():
        raise _missing(path)
    _announce(path)
    try:
        a = READERS[suffix](path)
    except NNBenchError:  # a reader that says itself what is wrong (a ragged CSV)
        raise
    except Exception as exc:  # any reader's failure is the same user-facing problem
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NNBenchError(
            f"cannot read matrix file {str(path)!r} ({detail})",
            f"check it is a valid {path.suffix.lower()} file holding one 2-D numeric array",
        ) from None
    return validate_matrix(a, str(path))


def _copy_of(a: Matrix, n: int, rng: np.random.Generator) -> Matrix:
    return a.copy()


def _read_only(a: Matrix) -> None:
    for part in (a.data, a.indices, a.indptr) if is_sparse(a) else (a,):
        part.setflags(write=False)


def _fixed_family(
    name: str, a: Matrix, *, image: bool, source: str, keep_factors: bool
) -> MatrixFamily:
    """The family of a validated matrix, which it keeps (read-only): its tags are inferred
    when first needed (`InferredTags`), its fingerprint is a hash of the values."""
    _read_only(a)
    key = fingerprint(a)
    sparse = is_sparse(a)
    return MatrixFamily(
        name=name,
        generate=partial(_copy_of, a),
        tags=InferredTags(
            a, fingerprint=key, label=source or name, given={"image"} if image else ()
        ),
        description=f"user matrix {a.shape[0]}x{a.shape[1]}"
        + (f", sparse ({a.nnz:,} nonzeros)" if sparse else ""),
        fixed_shape=(int(a.shape[0]), int(a.shape[1])),
        source=source or "user",
        fingerprint=key,
        keep_factors=keep_factors,
        sparse=sparse,
    )


def array_family(
    name: str, a: Matrix, *, image: bool = False, source: str = "", keep_factors: bool = False
) -> MatrixFamily:
    """A fixed-shape family holding one user matrix (a copy of a notebook's array); its
    fingerprint is a hash of the values, so an edited matrix is not served from the cache."""
    a = validate_matrix(a, name)
    return _fixed_family(name, a, image=image, source=source, keep_factors=keep_factors)


def file_family(path: str) -> MatrixFamily:
    a = load_matrix_file(path)
    image = Path(path).suffix.lower() in IMAGE_SUFFIXES
    return _fixed_family(f"file:{path}", a, image=image, source=str(path), keep_factors=False)
