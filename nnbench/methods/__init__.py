"""Methods: one registry of classical and trained factorizations with typed results."""

from nnbench.methods.base import GROUPS, KINDS, Method, Raw, Requirements, RunContext, Settings
from nnbench.methods.factorization import (
    FACTORIZATIONS,
    Factorization,
    LowRankFactorization,
    LUFactorization,
    QRFactorization,
    SVDFactorization,
    TrainingHistory,
)
from nnbench.methods.registry import METHODS, get_method, select_methods

__all__ = [
    "FACTORIZATIONS",
    "GROUPS",
    "KINDS",
    "METHODS",
    "Factorization",
    "LUFactorization",
    "LowRankFactorization",
    "Method",
    "QRFactorization",
    "Raw",
    "Requirements",
    "RunContext",
    "SVDFactorization",
    "Settings",
    "TrainingHistory",
    "get_method",
    "select_methods",
]
