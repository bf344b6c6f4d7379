#!/usr/bin/env bash
# Side by side: wcrg-samplers vs PyTorch on batched 2-D φ⁴ samplers at β_c (MALA steps and
# checkerboard Metropolis sweeps; 128 chains of 32² and 64², 16 chains of 256²), float64, on
# 1 thread and on all threads. Creates a virtual environment under target/bench-venv-torch with
# PyTorch from PyPI (its Linux wheel brings the CUDA libraries: about 3 GB; only the CPU is used).
#   bash benches/sampling_vs_torch.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-5}"
venv=target/bench-venv-torch
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi
py=$("$venv/bin/python" benches/sampling_vs_torch.py "$repeats")
rs=$(cargo run --quiet --release -p wcrg-samplers --example sampling_timing -- "$repeats")
"$venv/bin/python" - "$py" "$rs" <<'PY'
import sys
py = {tuple(l.split()[:4]): tuple(map(float, l.split()[4:])) for l in sys.argv[1].splitlines()[1:]}
print(f"{'kernel':<11}{'size':>6}{'chains':>7}{'thr':>4}{'torch µs':>11}{'wcrg µs':>10}{'ratio':>8}{'acc torch':>10}{'acc wcrg':>9}")
for line in sys.argv[2].splitlines()[1:]:
    k, n, b, thr, t, a = line.split()
    pt, pa = py[(k, n, b, thr)]
    t, a = float(t), float(a)
    print(f"{k:<11}{n + '²':>6}{b:>7}{thr:>4}{pt:>11.1f}{t:>10.1f}{pt / t:>7.1f}×{pa:>10.3f}{a:>9.3f}")
PY
echo "(µs per chain and transition: a MALA step, or a Metropolis sweep of every site)"
