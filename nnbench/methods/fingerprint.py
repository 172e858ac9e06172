"""A fingerprint of the code that computes a method's factors (`code_fingerprint`), part of
every cell's identity: editing that code gives its cells new ids (the journal then recomputes
them), while a docstring, a comment, the formatting or a registry line's description does not.

What it covers, from a method's class: each class of its MRO down to `Method` (a user's own
classes included), attribute by attribute; from there, whatever the code reaches by name in
`COVERED` (`nnbench.methods`, `nnbench.elimination`, `nnbench.seeds`) and in the modules of a
user's classes: functions, classes and module-level values (e.g. an amortized model's
networks, losses, training loop and training seeds, the library calls of classical methods,
the self-checking factorizations). A function counts by its instructions with their
constants and names (so not its docstring, comments or line numbers; nested functions and
lambdas included), its default values and what its closure holds; a value by its contents
(functions and classes in it by their code); an object of another library by its type.

Not covered: numpy, scipy, torch and other libraries (their versions are in the run's
provenance); the rest of nnbench (the matrix generators, whose cells are keyed by their
family's parameters and fingerprint, and an amortized model's training matrices; the
metrics; the devices; the runner); names imported inside a function body; files read at run
time. Fingerprints are of the interpreter's bytecode: another Python version gives other
fingerprints, hence recomputed cells.
"""

from __future__ import annotations

import dataclasses
import dis
import enum
import functools
import types
from collections.abc import Callable
from typing import Any

from nnbench.seeds import stable_hash

COVERED = ("nnbench.methods", "nnbench.elimination", "nnbench.seeds")
"""nnbench's factorization code: the methods, and the elimination kernels and seed derivation
they share with the rest of nnbench."""
TEXT = frozenset({"description", "source"})
"""Attributes and fields that are words about a thing (a method, an input distribution) or
where it comes from (nnbench or a plug-in's file), not code: never part of a fingerprint. (A
results column's text, such as a loss's, is part of it: a cell cached with other words would
show them.)"""
_NOT_CODE = frozenset({"_abc_impl"})  # abc's cache
_SCALARS = (type(None), bool, int, float, complex, str, bytes, enum.Enum)


def _dunder_data(name: str, value: Any) -> bool:
    """A class's `__name__` data (its docstring, module, dataclass fields; `__slotnames__`,
    which copy and pickle add at run time): not code. Its `__init__`, `__call__`... are."""
    dunder = name.startswith("__") and name.endswith("__")
    return dunder and not isinstance(value, types.FunctionType | staticmethod | classmethod)


def _key(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _stores_doc(ins: dis.Instruction | None) -> bool:
    return ins is not None and ins.opname == "STORE_NAME" and ins.argval == "__doc__"


@functools.cache
def _instructions(code: types.CodeType) -> str:
    """A code object's instructions with their arguments resolved (constants by value, so
    that a docstring's constant slot and line numbers do not count), nested code included."""
    shown: list[str] = []
    instructions = list(dis.get_instructions(code))
    for ins, after in zip(instructions, [*instructions[1:], None], strict=True):
        if _stores_doc(ins) or (ins.opname == "LOAD_CONST" and _stores_doc(after)):
            continue  # a class body's docstring
        arg = ins.argval
        shown.append(ins.opname + " " + (_instructions(arg) if _is_code(arg) else _constant(arg)))
    signature = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)
    return f"{signature}\n" + "\n".join(shown)


def _is_code(value: Any) -> bool:
    return isinstance(value, types.CodeType)


def _constant(value: Any) -> str:
    """repr, but sets in sorted order (a set's order varies with the process's hash seed)."""
    if isinstance(value, frozenset | set):
        return "{" + ", ".join(sorted(map(_constant, value))) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_constant, value)) + ")"
    return repr(value)


def _global_names(code: types.CodeType) -> list[str]:
    """The names a code object and its nested ones read (globals, and attribute names)."""
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += _global_names(const)
    return list(dict.fromkeys(names))


class _Walk:
    """Everything reachable from a root that counts as its code: `found` holds each function's
    and class's key and what it is (instructions, attributes, values read)."""

    def __init__(self, own: Callable[[str], bool], opaque: type | None) -> None:
        self.own = own
        self.opaque: type | tuple[()] = opaque or ()  # () : isinstance is never true
        self.found: list[tuple[str, str]] = []
        self.seen: set[int] = set()  # by identity: lambdas and closures share their keys
        self.path: set[int] = set()  # containers being shown (a cycle is shown once)

    def code(self, obj: Any, *, ours: bool = False) -> str:
        """Visit a function or class (if it is ours, or `ours`: a function in our class's
        body, wherever it was written) and return how a reference shows it."""
        obj = getattr(obj, "__wrapped__", obj)  # functools.cache, wraps
        key = _key(obj)
        if id(obj) in self.seen or not (ours or self.own(getattr(obj, "__module__", ""))):
            return key
        self.seen.add(id(obj))  # before its body: a recursion ends here
        if isinstance(obj, types.FunctionType):
            self.found.append((key, self._function(obj)))
        elif isinstance(obj, type):
            self.found.append((key, self._class(obj)))
        return key

    def _function(self, fn: types.FunctionType) -> str:
        read = {
            name: self.value(fn.__globals__[name])
            for name in _global_names(fn.__code__)
            if name in fn.__globals__
        }
        closure = [self.value(cell.cell_contents) for cell in fn.__closure__ or ()]
        defaults = self.value((fn.__defaults__, fn.__kwdefaults__))
        return repr((_instructions(fn.__code__), defaults, closure, read))

    def _class(self, cls: type) -> str:
        attributes = {
            name: self.code(value, ours=True)
            if isinstance(value, types.FunctionType)
            else self.value(value)
            for name, value in vars(cls).items()
            if name not in _NOT_CODE and name not in TEXT and not _dunder_data(name, value)
        }
        bases = [self.code(base) for base in cls.__bases__]
        return repr((bases, attributes))

    def value(self, value: Any) -> str:
        """How code that reads `value` sees it."""
        if isinstance(value, _SCALARS):
            return repr(value)
        if isinstance(value, types.ModuleType):
            return f"module {value.__name__}"
        if isinstance(value, staticmethod | classmethod):
            return self.code(value.__func__)
        if isinstance(value, property):
            return repr([self.value(f) for f in (value.fget, value.fset, value.fdel)])
        if isinstance(value, functools.cached_property):
            return self.code(value.func)
        if isinstance(value, types.FunctionType | type) or hasattr(value, "__wrapped__"):
            return self.code(value)
        if isinstance(value, types.BuiltinFunctionType):
            return _key(value)
        if isinstance(value, functools.partial):
            return repr((self.code(value.func), self.value(value.args), self.value(value.keywords)))
        if id(value) in self.path:
            return "<cycle>"
        self.path.add(id(value))
        try:
            return self._contents(value)
        finally:
            self.path.discard(id(value))

    def _contents(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return f"{type(value).__name__}[{', '.join(map(self.value, value))}]"
        if isinstance(value, set | frozenset):
            return "{" + ", ".join(sorted(map(self.value, value))) + "}"
        if isinstance(value, dict):
            return repr({self.value(k): self.value(v) for k, v in value.items()})
        kind = type(value)
        if not self.own(kind.__module__) or isinstance(value, self.opaque):
            # another library's object (a ufunc by its name); a method has its own identity
            return f"<{_key(kind)} {getattr(value, '__name__', '')}>"
        if dataclasses.is_dataclass(value):
            items = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        else:
            items = dict(getattr(value, "__dict__", {}))
        fields = {k: self.value(v) for k, v in items.items() if k not in TEXT}
        return f"{self.code(kind)}({fields})"


def _ours(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in COVERED)


def _roots(obj: Any) -> frozenset[str]:
    """The modules of `obj` and, for a class, of its MRO above nnbench's own classes (a
    user's method classes and the code next to them)."""
    modules = {getattr(obj, "__module__", "")}
    for cls in getattr(obj, "__mro__", ()):
        if _ours(cls.__module__):
            break
        modules.add(cls.__module__)
    return frozenset(modules)


@functools.cache
def code_fingerprint(obj: Any, opaque: type | None = None) -> str:
    """16 hex digits of the code of a method class, a function or a callable (see the module
    docstring for what counts); the walk stops at `opaque` (the `Method` base, which every
    method shares). Cached per object for the life of the process: a function replaced at run
    time (a test's monkeypatch) shows after `code_fingerprint.cache_clear()`."""
    roots = _roots(obj)
    walk = _Walk(lambda module: module in roots or _ours(module), opaque=opaque)
    walk.value(obj)
    return stable_hash(sorted(walk.found))
