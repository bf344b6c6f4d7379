"""Gaussian test fields for `docs/rg.md` section 3: periodic (N, L, L) float64 fields of power
spectrum |k|^-slope (default 3; P(0) = 1), at unit variance, from a seeded numpy generator.

    python docs/scripts/gaussian_fields.py --seed 1 train.npy
    python docs/scripts/gaussian_fields.py --seed 2 reference.npy
    cargo run --release --example phi4_wcrg -- --data train.npy --reference reference.npy --window 3
    python docs/scripts/gaussian_fields.py --slope 2.5 --seed 1 train.npy
"""

import argparse

import numpy as np


def fields(n: int, size: int, slope: float, seed: int) -> np.ndarray:
    k = np.fft.fftfreq(size) * size
    norm = np.hypot(k[:, None], k[None, :])
    spectrum = np.where(norm > 0, np.maximum(norm, 1.0) ** -slope, 1.0)
    white = np.random.default_rng(seed).standard_normal((n, size, size))
    x = np.fft.ifft2(np.fft.fft2(white) * np.sqrt(spectrum)).real
    # Unit variance by the spectrum's own normalisation (not the sample's: two sets drawn
    # with different seeds then have the same law).
    return x / np.sqrt(spectrum.mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--slope", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    np.save(a.out, fields(a.n, a.size, a.slope, a.seed))


if __name__ == "__main__":
    main()
