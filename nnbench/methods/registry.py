"""The one registry of methods. Adding a method = one class + one line in `REGISTERED`;
a configuration of an existing model = one line."""

from __future__ import annotations

from nnbench.corpus.select import unknown_name_error
from nnbench.errors import NNBenchError
from nnbench.methods.base import GROUPS, Method
from nnbench.methods.classical import CLASSICAL_METHODS
from nnbench.methods.neural_lowrank import NEURAL_LOWRANK_METHODS
from nnbench.methods.neural_lu import NEURAL_LU_METHODS
from nnbench.methods.options import parse_term, split_terms, with_options

REGISTERED: tuple[Method, ...] = (
    *(cls() for cls in CLASSICAL_METHODS),
    *NEURAL_LU_METHODS,
    *NEURAL_LOWRANK_METHODS,
)

METHODS: dict[str, Method] = {method.name: method for method in REGISTERED}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise unknown_name_error("method", name, list(METHODS), "methods")
    return METHODS[name]


def select_methods(selector: str | list[str]) -> list[Method]:
    """Names or groups (`classical`, `neural`, `all`), comma separated, in registry order.
    A name may carry options: `neural-lu-study[optimizer=sgd,lr=0.01]` (see `options`)."""
    terms = split_terms(selector) if isinstance(selector, str) else list(selector)
    terms = [t.strip() for t in terms if t.strip()]
    if not terms:
        raise NNBenchError("no methods selected", "pass --methods NAME[,NAME...], classical or all")
    chosen: dict[str, Method] = {}
    for term in terms:
        if term == "all":
            found = list(METHODS.values())
        elif term in GROUPS:
            found = [m for m in METHODS.values() if m.group == term]
            if not found:
                raise NNBenchError(
                    f"no {term} methods are registered yet", "use --methods classical or all"
                )
        else:
            name, options = parse_term(term)
            found = [with_options(get_method(name), options)]
        for method in found:
            chosen.setdefault(method.name, method)
    return list(chosen.values())
