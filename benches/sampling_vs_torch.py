"""Batched φ⁴ samplers in PyTorch, the way research code writes them: the chains as one
(B, L, L) float64 tensor, neighbours by torch.roll, the gradient written out (no autograd).
The same cases as `crates/samplers/examples/sampling_timing.rs`: 2-D φ⁴ at β = 0.922,
λ = 1, MALA with step 0.01 and checkerboard Metropolis with half-width 1.4.

    python sampling_vs_torch.py [REPEATS]

Prints `kernel size chains threads us_per_chain_step acceptance`, fastest of REPEATS.
"""
import sys
import time

import torch

BETA, LAM = 0.922, 1.0


def neighbours(x):
    return (torch.roll(x, 1, 1) + torch.roll(x, -1, 1) + torch.roll(x, 1, 2) + torch.roll(x, -1, 2))


def energy(x):
    """β/2 Σ_x Σ_μ (x(u+e_μ) − x(u))² + λ Σ (x² − 1)², per chain."""
    kin = ((torch.roll(x, -1, 1) - x) ** 2 + (torch.roll(x, -1, 2) - x) ** 2).sum((1, 2))
    return 0.5 * BETA * kin + LAM * ((x * x - 1.0) ** 2).sum((1, 2))


def grad(x):
    return BETA * (4.0 * x - neighbours(x)) + 4.0 * LAM * x * (x * x - 1.0)


def mala(x, eps, steps, gen):
    u, g = energy(x), grad(x)
    acc = 0.0
    for _ in range(steps):
        y = x - eps * g + (2.0 * eps) ** 0.5 * torch.randn(x.shape, generator=gen)
        uy, gy = energy(y), grad(y)
        fwd = ((y - x + eps * g) ** 2).sum((1, 2))
        bwd = ((x - y + eps * gy) ** 2).sum((1, 2))
        log_a = u - uy - (bwd - fwd) / (4.0 * eps)
        a = torch.exp(torch.clamp(log_a, max=0.0))
        take = torch.rand(a.shape, generator=gen) < a
        m = take[:, None, None]
        x, g = torch.where(m, y, x), torch.where(m, gy, g)
        u = torch.where(take, uy, u)
        acc += a.mean().item()
    return acc / steps


def metropolis(x, width, sweeps, gen):
    n = x.shape[1]
    ii, jj = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    colours = [((ii + jj) % 2 == c) for c in (0, 1)]
    acc = 0.0
    for _ in range(sweeps):
        for mask in colours:
            new = x + width * (2.0 * torch.rand(x.shape, generator=gen) - 1.0)
            s = neighbours(x)
            # Local energy change: β/2 Σ_nn [(y−x')² − (y−x)²] + V(x') − V(x).
            d = 0.5 * BETA * (4.0 * (new * new - x * x) - 2.0 * (new - x) * s)
            d += LAM * ((new * new - 1.0) ** 2 - (x * x - 1.0) ** 2)
            a = torch.exp(torch.clamp(-d, max=0.0))
            take = mask & (torch.rand(x.shape, generator=gen) < a)
            x = torch.where(take, new, x)
            acc += (a * mask).sum().item() / (mask.sum().item() * x.shape[0])
    return acc / (2 * sweeps)


def start(b, n):
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    c = torch.arange(b)[:, None, None]
    return 0.3 * (((i * 7 + j * 3 + c) % 11).double() / 11.0 - 0.5)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_default_dtype(torch.float64)
    print("kernel size chains threads us_per_chain_step acceptance")
    for n, b, steps in [(32, 128, 200), (64, 128, 100), (256, 16, 50)]:
        for threads in (1, torch.get_num_threads()):
            torch.set_num_threads(threads)
            for name in ("mala", "metropolis"):
                best, acc = float("inf"), 0.0
                for r in range(repeats):
                    gen = torch.Generator().manual_seed(r)
                    x = start(b, n)
                    t = time.perf_counter()
                    if name == "mala":
                        acc = mala(x, 0.01, steps, gen)
                    else:
                        acc = metropolis(x, 1.4, steps, gen)
                    best = min(best, time.perf_counter() - t)
                print(f"{name} {n} {b} {threads} {1e6 * best / (b * steps):.3f} {acc:.3f}")


if __name__ == "__main__":
    main()
