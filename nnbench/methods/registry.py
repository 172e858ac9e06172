"""The one registry of methods. Adding a method = one entry in `REGISTERED` (a classical one
is a function and a `LibraryMethod` line; a configuration of a trained model is one line)."""

from __future__ import annotations

from collections.abc import Sequence

from nnbench.methods.amortized import AMORTIZED_METHODS
from nnbench.methods.base import GROUPS, KINDS, Method, RunContext
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
    GMRES_WARM_LU,
)

METHODS: dict[str, Method] = {method.name: method for method in REGISTERED}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise unknown_name_error("method", name, list(METHODS), "methods")
    return METHODS[name]


def _trains_unasked(method: Method, trained_in: Sequence[RunContext]) -> bool:
    """Whether running `method` would first train a model that is not in every one of the
    run's contexts (`trained_in`; none given: not known to be anywhere)."""
    if not method.trains_model:
        return False
    return not trained_in or not all(method.has_trained_model(c) for c in trained_in)


def _resolve(term: str, trained_in: Sequence[RunContext]) -> list[Method]:
    if term == "all":
        return list(METHODS.values())
    if term in GROUPS:
        return [m for m in METHODS.values() if m.group == term]
    if term.startswith("kind:"):
        kind = term.removeprefix("kind:")
        if kind not in KINDS:
            raise unknown_name_error("kind", kind, KINDS, "methods")
        return [
            m
            for m in METHODS.values()
            if m.kind == kind and not m.expensive and not _trains_unasked(m, trained_in)
        ]
    name, options = parse_term(term)
    return [with_options(get_method(name), options)]


def select_methods(
    selector: str | list[str], *, trained_in: Sequence[RunContext] = ()
) -> list[Method]:
    """Names, groups (`classical`, `hybrid`, `neural`, `amortized`, `all`) or `kind:KIND`,
    comma separated, registry order. `kind:rank-k` is every method of the task that runs in
    seconds: not the minutes-long study budgets (`expensive`), nor a method that would first
    train a model (`trains_model`: the amortized ones, `gmres-warm-lu`'s network start)
    unless each of the run's contexts `trained_in` (folder, device, dtype) already holds it.
    Named, a method runs whatever it costs. A name may carry options:
    `neural-lu-study-final[optimizer=sgd,lr=0.01]` (see `variants`)."""
    terms = split_terms(selector) if isinstance(selector, str) else list(selector)
    return select(
        terms,
        lambda term: _resolve(term, trained_in),
        lambda m: m.name,
        what="methods",
        example="--methods NAME[,NAME...], classical or all",
    )
