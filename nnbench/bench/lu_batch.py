"""`nnbench bench lu-throughput`: batched hybrid-lu-newton on many 2x2 matrices, against the
library's batched LU and, for the record, study 000's Appendix A loop (`appendix_a`)."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import numpy as np

from nnbench.bench.timers import best_of
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import get_method
from nnbench.running.threads import DEFAULT_THREADS


def appendix_a(a: np.ndarray, *, nb_epochs: int = 5000, seed: int = 0) -> tuple[float, float]:
    """Study 000's Appendix A loop, transcribed: a Python data generator of `data_size` rows
    (np.random.rand), torch.Tensor (float32) inputs, Linear layers, MSELoss + penalty, Adam
    0.1. Returns (final loss, relative 2-norm error of W1^T W2^T)."""
    import torch

    np.random.seed(seed)
    torch.manual_seed(seed)
    n, data_size = a.shape[0], 100

    def data_generator(data_size: int) -> tuple[list, list]:
        inputs, labels = [], []
        for _ in range(data_size):
            x = np.random.rand(1, n)
            inputs.append([x])
            labels.append([np.matmul(x, a)])
        return inputs, labels

    fc1 = torch.nn.Linear(n, n, bias=False)
    fc2 = torch.nn.Linear(n, n, bias=False)
    critereon = torch.nn.MSELoss()
    optimizer = torch.optim.Adam([*fc1.parameters(), *fc2.parameters()], lr=0.1)
    loss = torch.zeros(())
    for _ in range(nb_epochs):
        inputs, labels = data_generator(data_size)
        x, y = torch.Tensor(np.array(inputs)), torch.Tensor(np.array(labels))
        loss = critereon(fc2(fc1(x)), y) + fc2.weight[0, 1] ** 2 + fc1.weight[1, 0] ** 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    product = (fc1.weight.T @ fc2.weight.T).detach().double().numpy()
    return float(loss.detach()), float(np.linalg.norm(product - a, 2) / np.linalg.norm(a, 2))


def lu_throughput(
    *, count: int = 1000, loops: int = 3, repeats: int = 3, steps: int = 5000
) -> None:
    """Batched hybrid-lu-newton on `count` random 2x2 matrices, against the strongest classical
    method for the job (batched `torch.linalg.lu_factor` on the same stack) and, for the
    record, against study 000's Appendix A loop on `loops` of them and its final
    configuration batched, both trained `steps` steps (the study's 5000)."""
    family = MATRIX_FAMILIES["random-gaussian"]
    batch = np.stack([family.make(2, seed=seed) for seed in range(count)])
    print(f"{count} random Gaussian 2x2 matrices, float64, {DEFAULT_THREADS} thread(s)")
    batch_s = _against_the_library(batch, repeats)
    _against_study_000(batch, batch_s, loops=loops, steps=steps)


def _against_the_library(batch: np.ndarray, repeats: int) -> float:
    """Prints the batched fit's time and accuracy beside batched `lu_factor`'s on the same
    stack; returns the fit's seconds."""
    import torch

    from nnbench.methods.trained import fit_lu_batch

    count = len(batch)
    config = get_method("hybrid-lu-newton").config
    batch_s, fit = best_of(lambda: fit_lu_batch(batch, config), repeats)
    good = int(np.sum(fit.rel_err_2 <= 1e-12))
    print(
        f"  hybrid-lu-newton batched: {batch_s:.4f} s (best of {repeats}), {fit.steps} steps; "
        f"{good}/{count} at rel_err_2 <= 1e-12 (max {fit.rel_err_2.max():.1e}); "
        f"goal: all in <= 5 s"
    )
    stack = torch.from_numpy(batch)

    def library() -> Any:
        lu, pivots = torch.linalg.lu_factor(stack)
        return torch.lu_unpack(lu, pivots)

    lib_s, (p, lower, upper) = best_of(library, repeats)
    lib_err = torch.linalg.matrix_norm(p @ lower @ upper - stack, 2) / torch.linalg.matrix_norm(
        stack, 2
    )
    print(
        f"  torch.linalg.lu_factor + lu_unpack on the same stack: {lib_s:.5f} s, max rel_err_2 "
        f"{float(lib_err.max()):.1e}: the batched network fit takes {batch_s / lib_s:,.0f}x "
        f"the library's time at matched accuracy"
    )
    return batch_s


def _against_study_000(batch: np.ndarray, batch_s: float, *, loops: int, steps: int) -> None:
    """Prints study 000's Appendix A loop on `loops` of the matrices and its final
    configuration batched, each against the batched fit's `batch_s`."""
    from nnbench.methods.trained import fit_lu_batch

    count = len(batch)
    loop_s = []
    for seed in range(loops):
        seconds, (loss, err) = best_of(
            partial(appendix_a, batch[seed], nb_epochs=steps, seed=seed), 1
        )
        loop_s.append(seconds)
        print(
            f"  Appendix A loop, matrix {seed}: {loop_s[-1]:.2f} s, loss {loss:.2e}, "
            f"rel_err_2 {err:.1e}"
        )
    per_matrix = float(np.median(loop_s))
    ratio = per_matrix * count / batch_s
    print(
        f"  against study 000's loop (not a competitor: the library is): "
        f"{count} x {per_matrix:.2f} s / {batch_s:.4f} s = {ratio:,.0f}x"
    )
    final = dataclasses.replace(get_method("neural-lu-study-final").config, steps=steps)
    study_s, study = best_of(partial(fit_lu_batch, batch.astype(np.float32), final), 1)
    print(
        f"  study 000's final configuration (Appendix A's network, Adam 0.1), batched (float32, "
        f"{steps} steps): {study_s:.1f} s "
        f"= {per_matrix * count / study_s:,.0f}x the loop; median rel_err_2 "
        f"{np.median(study.rel_err_2):.1e}, {int(np.sum(study.rel_err_2 <= 1e-3))}/{count} "
        f"at <= 1e-3"
    )
