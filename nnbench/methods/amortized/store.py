"""Training a model once and keeping it: `train`, the one training loop of every learned
model (`Model`), and `ModelStore`, the folder of trained models."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.amortized.model import LearnedConfig
from nnbench.methods.amortized.models import MODELS


@dataclass
class Trained:
    """A trained model with its config, loss curve and training time."""

    config: LearnedConfig
    net: torch.nn.Module
    loss: np.ndarray
    elapsed_s: np.ndarray
    train_time_s: float


def train(config: LearnedConfig, device: str = "cpu", dtype: str = "float32") -> Trained:
    """The model's (`MODELS[config.structure]`) training set and network, its `place` step if
    it has one, then Adam (cosine-annealed from `lr`), one step on its loss per batch."""
    torch_dtype = getattr(torch, dtype)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    torch.manual_seed(config.seed)
    model = MODELS[config.structure]
    data = model.data(config, torch_dtype, device)
    net = model.build(config).to(device=device, dtype=torch_dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(config.steps, 1))
    losses, elapsed = [], []
    start = time.perf_counter()
    if model.place is not None:  # data-dependent set-up (a sketch's positions): training time
        model.place(net, data, config)
    for batch in model.batches(data, gen, config):
        loss = model.loss(net, batch, gen, config)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        elapsed.append(time.perf_counter() - start)
        if not math.isfinite(losses[-1]):
            raise NNBenchError("amortized training diverged", "lower its lr")
    total = time.perf_counter() - start
    return Trained(config, net.eval(), np.array(losses), np.array(elapsed), total)


class ModelStore:
    """Trained models in a folder: `KEY.pt` (weights), `KEY.json` (config, training time,
    device, dtype, code, trainable parameters) and `KEY.loss.npz` (the loss curve), KEY = the
    config's `key`, the code fingerprint of the method that trained it (`code`), device and
    dtype."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _stem(self, config: LearnedConfig, device: str, dtype: str, code: str) -> Path:
        return self.folder / "-".join(filter(None, (config.key, code, device, dtype)))

    def has(self, config: LearnedConfig, device: str, dtype: str, *, code: str = "") -> bool:
        return self._stem(config, device, dtype, code).with_suffix(".json").is_file()

    def save(self, trained: Trained, device: str, dtype: str, *, code: str = "") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self._stem(trained.config, device, dtype, code)
        torch.save(trained.net.state_dict(), stem.with_suffix(".pt"))
        np.savez(stem.with_suffix(".loss.npz"), loss=trained.loss, elapsed_s=trained.elapsed_s)
        info = {
            "config": dataclasses.asdict(trained.config),
            "train_time_s": trained.train_time_s,
            "device": device,
            "dtype": dtype,
            "code": code,
            "parameters": sum(p.numel() for p in trained.net.parameters()),
        }
        stem.with_suffix(".json").write_text(json.dumps(info, indent=1))  # last: marks complete

    def load(self, config: LearnedConfig, device: str, dtype: str, *, code: str = "") -> Trained:
        stem = self._stem(config, device, dtype, code)
        info = json.loads(stem.with_suffix(".json").read_text())
        net = MODELS[config.structure].build(config).to(device=device, dtype=getattr(torch, dtype))
        weights = torch.load(stem.with_suffix(".pt"), map_location=device, weights_only=True)
        net.load_state_dict(weights)
        curve = np.load(stem.with_suffix(".loss.npz"))
        return Trained(config, net.eval(), curve["loss"], curve["elapsed_s"], info["train_time_s"])
