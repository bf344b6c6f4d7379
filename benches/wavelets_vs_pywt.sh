#!/usr/bin/env bash
# Side by side: wcrg-wavelets vs PyWavelets on wavedec2/waverec2 (periodization), db4 and db8,
# 256² and 1024², level 3 and full depth, wcrg on 1 thread and on all threads.
# Creates a virtual environment under target/bench-venv with PyWavelets and NumPy from PyPI.
#   bash benches/wavelets_vs_pywt.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-20}"
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pywavelets numpy
fi
py=$("$venv/bin/python" benches/wavelets_vs_pywt.py "$repeats")
rs=$(cargo run --quiet --release -p wcrg-wavelets --example timing -- "$repeats")
"$venv/bin/python" - "$py" "$rs" <<'PY'
import sys
py = {tuple(l.split()[:3]): tuple(map(float, l.split()[3:])) for l in sys.argv[1].splitlines()[1:]}
print(f"{'case':<22}{'thr':>4}{'pywt fwd':>10}{'wcrg fwd':>10}{'ratio':>8}{'pywt inv':>10}{'wcrg inv':>10}{'ratio':>8}")
for line in sys.argv[2].splitlines()[1:]:
    name, n, lev, thr, f, i = line.split()
    pf, pi = py[(name, n, lev)]
    f, i = float(f), float(i)
    print(f"{name} {n}² L{lev:<10}{thr:>4}{pf:>9.2f}m{f:>9.2f}m{pf / f:>7.1f}×{pi:>9.2f}m{i:>9.2f}m{pi / i:>7.1f}×")
PY
