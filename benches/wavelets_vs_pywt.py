"""PyWavelets timings matching crates/wavelets/examples/timing.rs (same cases, same input).

Prints one line per case: `wavelet size levels forward_ms inverse_ms`: the fastest of REPEATS
runs (deterministic work on a shared machine: the minimum is the least noisy estimate), as in
the Rust side.
PyWavelets is single-threaded; the comparison script divides its times by ours.
"""
import sys
import time

import numpy as np
import pywt

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
print("wavelet size levels forward_ms inverse_ms")
for name in ("db4", "db8"):
    for n in (256, 1024):
        for levels in (3, int(np.log2(n))):
            i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            x = ((i * 31 + j * 17) % 97) / 97.0 - 0.5
            fw, inv = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                c = pywt.wavedec2(x, name, mode="periodization", level=levels)
                fw.append((time.perf_counter() - t) * 1e3)
                t = time.perf_counter()
                pywt.waverec2(c, name, mode="periodization")
                inv.append((time.perf_counter() - t) * 1e3)
            print(f"{name} {n} {levels} {min(fw):.4f} {min(inv):.4f}")
