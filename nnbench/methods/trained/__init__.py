"""Trained methods: networks whose weights become the factors (neural LU, neural rank-k)."""

from nnbench.methods.trained.lowrank import NEURAL_LOWRANK_METHODS, LowRankTraining, NeuralLowRank
from nnbench.methods.trained.lu import NEURAL_LU_METHODS, NeuralLU
from nnbench.methods.trained.lu_convex import CONVEX_LU, ConvexLU, ConvexNeuralLU
from nnbench.methods.trained.lu_training import LUTraining, fit_lu_batch

__all__ = [
    "CONVEX_LU",
    "NEURAL_LOWRANK_METHODS",
    "NEURAL_LU_METHODS",
    "ConvexLU",
    "ConvexNeuralLU",
    "LUTraining",
    "LowRankTraining",
    "NeuralLU",
    "NeuralLowRank",
    "fit_lu_batch",
]
