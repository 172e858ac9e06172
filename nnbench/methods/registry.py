"""The one registry of methods. Adding a method = one entry in `REGISTERED` (a classical one
is a function and a `LibraryMethod` line; a configuration of a trained model is one line)."""

from __future__ import annotations

from nnbench.methods.amortized import AMORTIZED_METHODS, graph_ic_method
from nnbench.methods.base import GROUPS, KINDS, Method
from nnbench.methods.classical import CLASSICAL_METHODS
from nnbench.methods.streaming import STREAMING_METHODS
from nnbench.methods.trained import CONVEX_LU, NEURAL_LOWRANK_METHODS, NEURAL_LU_METHODS
from nnbench.methods.variants import parse_term, split_terms, with_options
from nnbench.methods.warm_start import GMRES_WARM_LU
from nnbench.selection import select, unknown_name_error

REGISTERED: tuple[Method, ...] = (
    *CLASSICAL_METHODS,
    *STREAMING_METHODS,
    *NEURAL_LU_METHODS,
    CONVEX_LU,
    *NEURAL_LOWRANK_METHODS,
    *AMORTIZED_METHODS,
    graph_ic_method(),
    GMRES_WARM_LU,
)

METHODS: dict[str, Method] = {method.name: method for method in REGISTERED}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise unknown_name_error("method", name, list(METHODS), "methods")
    return METHODS[name]


def _resolve(term: str) -> list[Method]:
    if term == "all":
        return list(METHODS.values())
    if term in GROUPS:
        return [m for m in METHODS.values() if m.group == term]
    if term.startswith("kind:"):
        kind = term.removeprefix("kind:")
        if kind not in KINDS:
            raise unknown_name_error("kind", kind, KINDS, "methods")
        return [m for m in METHODS.values() if m.kind == kind and not m.expensive]
    name, options = parse_term(term)
    return [with_options(get_method(name), options)]


def select_methods(selector: str | list[str]) -> list[Method]:
    """Names, groups (`classical`, `hybrid`, `neural`, `all`) or `kind:KIND` (every method of a
    task but the minutes-long study budgets: `kind:rank-k`), comma separated, registry order.
    A name may carry options: `neural-lu-study-final[optimizer=sgd,lr=0.01]` (see `variants`)."""
    terms = split_terms(selector) if isinstance(selector, str) else list(selector)
    return select(
        terms,
        _resolve,
        lambda m: m.name,
        what="methods",
        example="--methods NAME[,NAME...], classical or all",
    )
