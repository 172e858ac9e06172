"""Amortized factorization (issue 15): a network trained once on a distribution of matrices,
then applied to matrices it has never seen by one forward pass.

Training: `AmortizedConfig.families` x size `n`, `count` instances whose seeds live in their
own namespace (`train_seeds`), disjoint from every cell's evaluation seeds. Each structure has
its own loss (`MODELS`, whose `loss_formula` the results' `loss` column states): for LU and
Cholesky the unbiased stochastic Frobenius loss of NeuralIF (Hausner, Oktem & Sjolund, TMLR
2024), ||(L U - A) z||^2 with z ~ N(0, I), whose expectation is ||L U - A||_F^2; for the
preconditioner the same for L L^T relative to ||A||_F^2; for the sketch the relative rank-k
error within the row space of S A. Matrices are scaled to max|a_ij| = 1. The method's `setup`
(called by the runner once, before any cell, untimed) trains the model and saves it with its
config and loss curve under the run's folder (`ModelStore`), or loads it from there; a cell's
timed call is inference only (plus `refine` gradient steps per matrix, counted as inference).
`train_time_s` is a column of its own.

One framework: every learned model is a `Model` (model.py) in one registry (`MODELS`, by its
config's `structure`), trained by the one loop (`train`), kept by the one store (`ModelStore`)
and run by the one method class (`AmortizedMethod`): the dense ones (models.py) and the graph
preconditioner (`GRAPH_IC`, graph_ic.py). Adding one: docs/methods.md.
"""

from nnbench.methods.amortized.config import AmortizedConfig, train_seeds, training_set
from nnbench.methods.amortized.graph_ic import GRAPH_IC, GraphICConfig
from nnbench.methods.amortized.method import (
    AMORTIZED_METHODS,
    MODELS_DIR,
    AmortizedMethod,
    graph_ic_method,
)
from nnbench.methods.amortized.model import LearnedConfig, Model
from nnbench.methods.amortized.models import MODELS, FactorNet, stochastic_frobenius
from nnbench.methods.amortized.store import ModelStore, Trained, train

__all__ = [
    "AMORTIZED_METHODS",
    "GRAPH_IC",
    "MODELS",
    "MODELS_DIR",
    "AmortizedConfig",
    "AmortizedMethod",
    "FactorNet",
    "GraphICConfig",
    "LearnedConfig",
    "Model",
    "ModelStore",
    "Trained",
    "graph_ic_method",
    "stochastic_frobenius",
    "train",
    "train_seeds",
    "training_set",
]
