"""How many threads the numerical libraries use: BLAS under NumPy, and PyTorch's intra-op pool.

The matrices of the course's VAE are small (batches of 128, layers of 400), so extra threads gain little:
on 2 idle cores, 2 threads train some 10-40% faster than 1. But BLAS and OpenMP threads wait for each other by
spinning, and when another program holds a core they fall far behind: on 2 busy cores, 2 threads trained
some 30 times *slower* than 1 (measured by the kit's benchmarks). ``vaekit train`` therefore uses 1 thread unless told
otherwise.
"""

from __future__ import annotations

import sys

DEFAULT_THREADS = 1


def set_threads(n: int) -> None:
    """Use ``n`` threads in BLAS (NumPy) and, if it is imported, PyTorch; ``n = 0`` keeps the libraries' defaults.

    Applies to the whole process from now on (``threadpoolctl`` changes the thread count of the BLAS
    library already loaded; ``torch.set_num_threads`` that of PyTorch).
    """
    if n < 0:
        raise ValueError(f"the number of threads must be >= 0, got {n}")
    if n == 0:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
