#!/usr/bin/env bash
# Side by side: wcrg-scattering vs kymatio 0.3's numpy frontend (the issue's two cases:
# Scattering2D J=4 L=8 on 16 x 128², Scattering1D J=8 Q=8 on 16 x 4096), wcrg on 1 thread and
# on all threads. Creates a virtual environment under target/bench-venv-kymatio with kymatio
# 0.3.0, NumPy and SciPy from PyPI.
#   bash benches/scattering_vs_kymatio.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-5}"
venv=target/bench-venv-kymatio
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "kymatio==0.3.0" "scipy==1.14.1" numpy
fi
py=$("$venv/bin/python" benches/scattering_vs_kymatio.py "$repeats")
rs=$(cargo run --quiet --release -p wcrg-scattering --example scattering_timing -- "$repeats")
"$venv/bin/python" - "$py" "$rs" <<'PY'
import sys
py = {l.split()[0]: float(l.split()[1]) for l in sys.argv[1].splitlines()[1:]}
print(f"{'case':<32}{'threads':>8}{'kymatio':>11}{'wcrg':>11}{'ratio':>8}")
for line in sys.argv[2].splitlines()[1:]:
    name, thr, t = line.split()
    k, t = py[name], float(t)
    print(f"{name:<32}{thr:>8}{k:>9.1f}ms{t:>9.1f}ms{k / t:>7.1f}x")
PY
