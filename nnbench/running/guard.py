"""The group rule, enforced while a method works: a `neural` method's weights change only
through optimizer steps, so inside its timed call, its warm-up, its `finish` and its `setup`
(its training) every factorization, decomposition, inverse and solve of `REFUSED` raises
`GroupRuleViolation`, and the cell becomes a `failed` row naming the call.

How: while some thread is inside `refusing_linalg`, the functions of `REFUSED`, and the names
bound to them in the modules of the method's code (`from scipy.linalg import lu_factor`), in
its attributes and in its classes, are wrappers that refuse in a guarded thread and call the
original in any other (a dask worker runs cells in threads side by side); the last guard to
leave puts the originals back, so no other method pays for a wrapper. What it cannot see: a
refused function reached through a name bound before the guard in some other module (a
plug-in's helper module that imported `lu_factor` by name), or called from C (LAPACK behind a
library's own function that is not in the list, such as `numpy.linalg.det` or
`torch.linalg.matrix_norm(ord=2)`), or work done in `prepare` (untimed checks of the input may
factorize) or in another process.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnbench.methods import Method

REFUSED: dict[str, tuple[str, ...]] = {
    "torch.linalg": (
        "qr", "svd", "svdvals", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "solve",
        "solve_ex", "solve_triangular", "cholesky", "cholesky_ex", "ldl_factor",
        "ldl_factor_ex", "ldl_solve", "lstsq", "eigh", "eigvalsh", "eig", "eigvals", "inv",
        "inv_ex", "pinv", "tensorinv", "tensorsolve",
    ),
    "torch": (
        "svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "inverse", "pinverse",
        "lu", "lu_solve", "lu_unpack", "triangular_solve", "geqrf", "lobpcg", "svd_lowrank",
        "pca_lowrank",
    ),
    "torch.Tensor": (
        "svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "inverse", "pinverse",
        "lu", "lu_solve", "triangular_solve", "geqrf",
    ),
    "numpy.linalg": (
        "qr", "svd", "cholesky", "eig", "eigh", "eigvals", "eigvalsh", "solve", "lstsq", "inv",
        "pinv", "tensorinv", "tensorsolve",
    ),
    "scipy.linalg": (
        "lu", "lu_factor", "lu_solve", "cholesky", "cho_factor", "cho_solve",
        "cholesky_banded", "cho_solve_banded", "ldl", "qr", "qr_multiply", "rq", "qz", "ordqz",
        "svd", "svdvals", "polar", "schur", "hessenberg", "eig", "eigh", "eigvals", "eigvalsh",
        "eig_banded", "eigvals_banded", "eigh_tridiagonal", "eigvalsh_tridiagonal", "solve",
        "solve_triangular", "solve_banded", "solveh_banded", "solve_circulant",
        "solve_toeplitz", "solve_sylvester", "lstsq", "inv", "pinv", "pinvh", "null_space",
        "orth",
    ),
    "scipy.sparse.linalg": (
        "splu", "spilu", "spsolve", "spsolve_triangular", "factorized", "inv", "svds", "eigs",
        "eigsh", "lobpcg", "cg", "cgs", "gmres", "lgmres", "bicg", "bicgstab", "minres", "qmr",
        "gcrotmk", "tfqmr", "lsqr", "lsmr",
    ),
}  # fmt: skip
"""What a `neural` method may not call: factorizations, decompositions (eigenvalues
included), inverses and solves (direct or iterative), by the owner's import path. Products,
norms, `det` and elementwise functions are allowed."""


class GroupRuleViolation(Exception):
    """A guarded method called a function of `REFUSED`; `call` names it
    ("torch.linalg.lu_factor")."""

    def __init__(self, method: str, call: str) -> None:
        self.method = method
        self.call = call
        super().__init__(
            f"{method} called {call}: a neural method's weights change only through optimizer "
            "steps (no factorization, decomposition, inverse or solve); declare it hybrid"
        )


@dataclass
class _Refusals:
    """One guarded stretch of one thread: whose it is and what it called."""

    method: str
    calls: list[str] = field(default_factory=list)

    def refuse(self, call: str) -> GroupRuleViolation:
        self.calls.append(call)
        return GroupRuleViolation(self.method, call)


@dataclass
class _Patch:
    """A refused function replaced in its owner while `users` guards need it."""

    owner: Any
    name: str
    original: Any
    users: int = 0


_LOCAL = threading.local()  # .active: this thread's _Refusals, while it is guarded
_LOCK = threading.Lock()
_PATCHES: dict[tuple[int, str], _Patch] = {}


def _active() -> _Refusals | None:
    return getattr(_LOCAL, "active", None)


_WRAPPERS: dict[tuple[int, str], tuple[Any, Callable[..., Any]]] = {}
"""Each refused function's wrapper, made once (a guard is put in place per cell), by the
function's id and name; the function is kept with it, so that its id is not reused."""


def _refusing(original: Callable[..., Any], call: str) -> Callable[..., Any]:
    made = _WRAPPERS.get((id(original), call))
    if made is not None and made[0] is original:
        return made[1]

    @functools.wraps(original)
    def refusing(*args: Any, **kwargs: Any) -> Any:
        active = _active()
        if active is None:  # another thread, not guarded: the function as it was
            return original(*args, **kwargs)
        raise active.refuse(call)

    _WRAPPERS[id(original), call] = (original, refusing)
    return refusing


@functools.cache
def _owner(path: str) -> Any:
    """The module (or class: `torch.Tensor`) at an import path."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, name = path.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)


def _set(owner: Any, name: str, value: Any) -> None:
    if isinstance(owner, dict):  # a module's namespace, as a function's `__globals__`
        owner[name] = value
    else:
        setattr(owner, name, value)


def _acquire(owner: Any, name: str, original: Any, call: str, held: list[_Patch]) -> None:
    key = (id(owner), name)
    patch = _PATCHES.get(key)
    if patch is None:
        patch = _PATCHES[key] = _Patch(owner, name, original)
        _set(owner, name, _refusing(original, call))
    patch.users += 1
    held.append(patch)


def _install(places: list[Any], held: list[_Patch]) -> None:
    """Every function of `REFUSED` wrapped, and so are the names bound to one in `places`
    (modules' globals, the method's own attributes, its classes); each patch taken goes to
    `held` as it is taken (to be released even if a later one fails)."""
    calls: dict[int, tuple[Any, str]] = {}  # id(original function) -> (it, its name)
    for path, names in REFUSED.items():
        owner = _owner(path)
        for name in names:
            if not hasattr(owner, name):  # (not in this version of the library)
                continue
            patch = _PATCHES.get((id(owner), name))
            original = getattr(owner, name) if patch is None else patch.original
            calls[id(original)] = (original, f"{path}.{name}")
            _acquire(owner, name, original, f"{path}.{name}", held)
    for place in places:
        bound = place if isinstance(place, dict) else vars(place)
        for name, value in list(bound.items()):
            patch = _PATCHES.get((id(place), name))
            original = value if patch is None else patch.original
            found = calls.get(id(original))
            if found is not None and found[0] is original:
                _acquire(place, name, original, found[1], held)


def _release(held: list[_Patch]) -> None:
    for patch in held:
        patch.users -= 1
        if patch.users == 0:
            _set(patch.owner, patch.name, patch.original)
            del _PATCHES[id(patch.owner), patch.name]


def _own_places(method: Method) -> list[Any]:
    """Where the method's code may have bound a refused function by name: the globals of the
    modules of its class's (and bases') functions and of the functions it holds (a library
    method's `call`), read from the functions (a plug-in file's module need not be in
    `sys.modules`); its own attributes; its classes."""
    classes = [cls for cls in type(method).__mro__ if cls is not object]
    own = getattr(method, "__dict__", {})  # (none where the class has __slots__)
    code = [f for cls in classes for f in vars(cls).values()] + list(own.values())
    places: dict[int, Any] = {id(own): own}
    places.update((id(cls), cls) for cls in classes)
    for f in code:
        namespace = getattr(getattr(f, "__func__", f), "__globals__", None)
        if isinstance(namespace, dict):
            places[id(namespace)] = namespace
    return list(places.values())


@contextlib.contextmanager
def refusing_linalg(method: Method, *more: Method) -> Iterator[None]:
    """Inside the block, in this thread, every call of `REFUSED` raises
    `GroupRuleViolation` (in the name of `method`; `more`: its other forms the block runs,
    such as its warm-up form); and if any was made, the block ends by raising the first, even
    where the method caught it (an `except Exception` of its own) and went on."""
    refusals = _Refusals(method.name)
    outer = _active()
    places = {id(p): p for m in (method, *more) for p in _own_places(m)}
    held: list[_Patch] = []
    try:
        with _LOCK:
            _install(list(places.values()), held)
        _LOCAL.active = refusals
        yield
    except Exception as exc:
        if refusals.calls and not isinstance(exc, GroupRuleViolation):
            raise GroupRuleViolation(method.name, refusals.calls[0]) from exc
        raise
    finally:
        _LOCAL.active = outer
        with _LOCK:
            _release(held)
    if refusals.calls:  # the method swallowed the violation and finished anyway
        raise GroupRuleViolation(method.name, refusals.calls[0])


def group_rule(method: Method, *more: Method) -> contextlib.AbstractContextManager[None]:
    """The group rule where `method` (and its other forms, `more`) works: calls of `REFUSED`
    refused for a `neural` method; nothing for the others (`hybrid` is told apart from
    `classical` by declaration and by `nnbench check`; `classical` is judged as declared)."""
    if method.group != "neural":
        return contextlib.nullcontext()
    return refusing_linalg(method, *more)
