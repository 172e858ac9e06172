"""Thread counts for torch and the BLAS behind numpy/scipy, set deliberately and recorded.

Measured on the 2-core CI machine: small batched torch work ran ~30x slower with 2 threads
than with 1, while a 1024x1024 LU gained only 1.2x from the second thread; 1 is the default,
and it also keeps parallel workers from oversubscribing the cores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_THREADS = 1


@contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)
