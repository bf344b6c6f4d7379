"""kymatio 0.3 (numpy frontend) timings matching crates/scattering/examples/scattering_timing.rs
(same cases, same deterministic inputs).

Prints `case best_ms` lines: the fastest of REPEATS runs after one warm-up call (which also
builds nothing: the filters are built by the constructor, outside the timing, as on our side).
"""
import sys
import time

import numpy as np
from kymatio.numpy import Scattering1D, Scattering2D

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def best(f):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return min(times)


b, i, j = np.meshgrid(np.arange(16), np.arange(128), np.arange(128), indexing="ij")
x2 = ((i * 31 + j * 17 + b * 7) % 97) / 97.0 - 0.5
b, i = np.meshgrid(np.arange(16), np.arange(4096), indexing="ij")
x1 = ((i * 31 + b * 7) % 97) / 97.0 - 0.5
s2 = Scattering2D(J=4, shape=(128, 128), L=8)
s1 = Scattering1D(J=8, shape=4096, Q=8)
print("case best_ms")
print(f"scattering2d_J4_L8_16x128x128 {best(lambda: s2(x2)):.3f}")
print(f"scattering1d_J8_Q8_16x4096 {best(lambda: s1(x1)):.3f}")
