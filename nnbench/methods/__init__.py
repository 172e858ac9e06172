"""Methods: one registry of classical and neural factorizations with typed results."""

from nnbench.methods.base import GROUPS, KINDS, Method
from nnbench.methods.factorization import (
    Factorization,
    LowRankFactorization,
    LUFactorization,
    QRFactorization,
    SVDFactorization,
    TrainingHistory,
)
from nnbench.methods.registry import METHODS, get_method, select_methods

__all__ = [
    "GROUPS",
    "KINDS",
    "METHODS",
    "Factorization",
    "LUFactorization",
    "LowRankFactorization",
    "Method",
    "QRFactorization",
    "SVDFactorization",
    "TrainingHistory",
    "get_method",
    "select_methods",
]
