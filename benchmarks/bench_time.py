"""time_* and peakmem_* for every registered method; inputs are built in setup."""

from __future__ import annotations

from nnbench.devices import get_device

from .common import CLASSICAL, DEVICES, SIZES, TORCH, TRAINED, limit_threads, prepared


class Classical:
    params = (CLASSICAL, SIZES)
    param_names = ("method", "n")

    def setup(self, method: str, n: int) -> None:
        limit_threads()
        self.method, self.x, self.rank = prepared(method, "random-gaussian", n)

    def time_factorize(self, method: str, n: int) -> None:
        self.method.compute(self.x, rank=self.rank, seed=0)

    def peakmem_factorize(self, method: str, n: int) -> None:
        self.method.compute(self.x, rank=self.rank, seed=0)


class Trained:
    """Training to each method's own stopping rule on small inputs (its fixed budget)."""

    params = (TRAINED, ["random-uniform", "image-logo"])
    param_names = ("method", "matrix")
    number = 1
    repeat = (1, 3, 60.0)
    timeout = 300

    def setup(self, method: str, matrix: str) -> None:
        limit_threads()
        self.method, self.x, self.rank = prepared(method, matrix, 32)

    def time_train(self, method: str, matrix: str) -> None:
        self.method.compute(self.x, rank=self.rank, seed=0)

    def peakmem_train(self, method: str, matrix: str) -> None:
        self.method.compute(self.x, rank=self.rank, seed=0)


class OnDevice:
    """torch's classical methods and the hybrids on each device (the input on the device,
    the clock stopped after the device finishes); cuda skips on a machine without a GPU."""

    params = (TORCH, [256, 1024], DEVICES)
    param_names = ("method", "n", "device")

    def setup(self, method: str, n: int, device: str) -> None:
        limit_threads()
        self.device = get_device(device)
        # cuda on a machine without a GPU: skipped
        self.method, self.x, self.rank = prepared(method, "spd", n, device)

    def time_factorize(self, method: str, n: int, device: str) -> None:
        self.method.compute(self.x, rank=self.rank, seed=0)
        self.device.synchronize()

    def peakmem_factorize(self, method: str, n: int, device: str) -> None:
        self.method.compute(self.x, rank=self.rank, seed=0)
