"""The corpus: named, parametrised, deterministic matrix families with verified tags."""

from nnbench.corpus.family import DTYPES, MatrixFamily
from nnbench.corpus.files import array_family, file_family, load_matrix_file, validate_matrix
from nnbench.corpus.registry import MATRIX_FAMILIES
from nnbench.corpus.select import select_matrices
from nnbench.corpus.tags import TAG_CHECKS, VALUE_CHECKS, infer_tags, numerical_rank

__all__ = [
    "DTYPES",
    "MATRIX_FAMILIES",
    "TAG_CHECKS",
    "VALUE_CHECKS",
    "MatrixFamily",
    "array_family",
    "file_family",
    "infer_tags",
    "load_matrix_file",
    "numerical_rank",
    "select_matrices",
    "validate_matrix",
]
