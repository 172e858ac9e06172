"""What a learned model is to the amortized framework: a `Model` (its network, training data,
loss and inference, as functions of its config) and the `LearnedConfig` that names it in
`models.MODELS`. One training loop (`store.train`), one store (`store.ModelStore`) and one
method class (`method.AmortizedMethod`) serve every model; docs/methods.md says how to add one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import torch

from nnbench.methods.base import ANY_MATRIX, Cost, Requirements

C = TypeVar("C")  # a model's config


class LearnedConfig(Protocol):
    """What the framework reads of a model's config: a frozen dataclass whose fields are the
    method's options (`name[steps=..]`). `structure`: its model's name in `MODELS` (a field,
    or a ClassVar where the config serves one model); `key`: a hash of what decides the
    trained weights (the store's file name); `small_budget`: the config with a few steps on a
    few matrices (contract tests)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def structure(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def families(self) -> tuple[str, ...]: ...

    @property
    def count(self) -> int: ...

    @property
    def steps(self) -> int: ...

    @property
    def lr(self) -> float: ...

    @property
    def seed(self) -> int: ...

    def small_budget(self) -> Self: ...


@dataclass(frozen=True, kw_only=True)
class Model(Generic[C]):
    """A learned model, `C` its config's type. Training (`store.train`): `data(config, dtype,
    device)` builds the training set, `build(config)` the network, `place` (optional) runs once
    on the whole training set before the gradient steps (timed as training) to fix what
    gradients cannot move (a sparse sketch's positions), then Adam takes one step on
    `loss(net, batch, generator, config)` for each batch of `batches(data, generator, config)`.
    Inference (the timed call): `infer(net, x, config, rank)` -> factors by field name of
    `kind`'s factorization; x is a stack (b, n, n) of tensors on the cells' device, or, for a
    `sparse` model, one scipy.sparse CSR matrix on the CPU (a dense input converted untimed).
    `loss_formula` and `init` say in words what `loss` computes (`{field}`: a config field) and
    where training starts (results columns). `one_size`: the n it is trained for and the only
    one it factorizes (None: any n); `max_rank`: the largest rank it serves (a sketch's rows);
    `trains_on`: (device, dtype) it trains and infers in whatever the cells' (None: theirs);
    `parameters`: its trainable parameters, counted from the config (None: not stated);
    `cost`: its passes over A and memory (`Method.cost_model`); `classical_solve`: inference
    ends in classical linear algebra (the sketch's); `requires`: what it needs of a matrix
    (`Requirements`), which `check` (untimed, on each matrix of a stack) enforces by raising
    `SkipCell`."""

    kind: str
    build: Callable[[C], torch.nn.Module]
    data: Callable[[C, torch.dtype, str], Any]
    batches: Callable[[Any, torch.Generator, C], Iterable[Any]]
    loss: Callable[[torch.nn.Module, Any, torch.Generator, C], torch.Tensor]
    infer: Callable[[torch.nn.Module, Any, C, int | None], dict[str, Any]]
    loss_formula: str
    init: str
    place: Callable[[torch.nn.Module, Any, C], None] | None = None
    one_size: Callable[[C], int] | None = None
    max_rank: Callable[[C], int] | None = None
    sparse: bool = False
    trains_on: tuple[str, str] | None = None
    parameters: Callable[[C], int] | None = None
    cost: Callable[[tuple[int, int], int, C], Cost] | None = None
    classical_solve: bool = False
    requires: Requirements = ANY_MATRIX
    check: Callable[[Any], None] | None = None
