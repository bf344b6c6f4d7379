"""Reference coefficients from PyWavelets for the wcrg-wavelets tests.

Run from crates/wavelets with PyWavelets and NumPy installed:
    python tests/data/gen_reference.py
Seeded (numpy default_rng(20261123)); writes the .npz files next to this script and
`versions.txt` with the library versions used. All transforms use mode='periodization'.

Files (keys inside each .npz):
  filters.npz   {name}_dec_lo, {name}_dec_hi, {name}_rec_lo, {name}_rec_hi
  dwt1.npz      {name}_x (64,), {name}_packed (64,) = coeffs_to_array(wavedec(x, level=3)),
                {name}_y (64,), {name}_inv (64,) = waverec(array_to_coeffs(y)) (level 3)
  dwt2.npz      same for 32x32, wavedec2/waverec2, level 2
  dwt3.npz      same for 8x8x8, wavedecn/waverecn, level 2
  wrap.npz      filters longer than the signal: {name}_x (16,), {name}_packed, level 3 for
                db10, sym12, coif5
  layout.npz    db4 on 32x32 level 3: x, cA3, cH3, cV3, cD3, cH2, ..., cD1 (wavedec2 output), and
                3-D db2 on 8x8x8 level 2: x3, a3 (cA2), and every wavedecn key as {key}{level}
  packets.npz   WaveletPacket2D(x, 'db2', 'periodization', maxlevel=2) on 32x32: x, and
                bands (16, 8, 8) = get_level(2, order='freq') row-major over the 4x4 grid
"""
import pathlib

import numpy as np
import pywt

HERE = pathlib.Path(__file__).parent
RNG = np.random.default_rng(20261123)
MODE = "periodization"
NAMES = ["haar"] + [f"db{n}" for n in range(1, 21)] + [f"sym{n}" for n in range(2, 21)] + [
    f"coif{n}" for n in range(1, 6)
]


def packed(coeffs):
    arr, _ = pywt.coeffs_to_array(coeffs)
    return arr


def roundtrip_inverse(y, shape_coeffs):
    _, slices = pywt.coeffs_to_array(shape_coeffs)
    return pywt.array_to_coeffs(y, slices, output_format="wavedecn")


filters = {}
for name in NAMES:
    w = pywt.Wavelet(name)
    for k in ("dec_lo", "dec_hi", "rec_lo", "rec_hi"):
        filters[f"{name}_{k}"] = np.array(getattr(w, k))
np.savez(HERE / "filters.npz", **filters)

for dim, shape, level in ((1, (64,), 3), (2, (32, 32), 2), (3, (8, 8, 8), 2)):
    out = {}
    for name in NAMES:
        x = RNG.standard_normal(shape)
        coeffs = pywt.wavedecn(x, name, mode=MODE, level=level)
        out[f"{name}_x"] = x
        out[f"{name}_packed"] = packed(coeffs)
        y = RNG.standard_normal(shape)
        out[f"{name}_y"] = y
        out[f"{name}_inv"] = pywt.waverecn(roundtrip_inverse(y, coeffs), name, mode=MODE)
    np.savez(HERE / f"dwt{dim}.npz", **out)

wrap = {}
for name in ("db10", "sym12", "coif5"):
    x = RNG.standard_normal(16)
    wrap[f"{name}_x"] = x
    wrap[f"{name}_packed"] = packed(pywt.wavedecn(x, name, mode=MODE, level=3))
np.savez(HERE / "wrap.npz", **wrap)

layout = {}
x = RNG.standard_normal((32, 32))
layout["x"] = x
c = pywt.wavedec2(x, "db4", mode=MODE, level=3)
layout["cA3"] = c[0]
for i, (h, v, d) in enumerate(c[1:]):
    lev = 3 - i
    layout[f"cH{lev}"], layout[f"cV{lev}"], layout[f"cD{lev}"] = h, v, d
x3 = RNG.standard_normal((8, 8, 8))
layout["x3"] = x3
c3 = pywt.wavedecn(x3, "db2", mode=MODE, level=2)
layout["a2"] = c3[0]
for i, det in enumerate(c3[1:]):
    lev = 2 - i
    for key, arr in det.items():
        layout[f"{key}{lev}"] = arr
np.savez(HERE / "layout.npz", **layout)

x = RNG.standard_normal((32, 32))
wp = pywt.WaveletPacket2D(x, "db2", mode=MODE, maxlevel=2)
grid = wp.get_level(2, order="freq")
bands = np.stack([node.data for row in grid for node in row])
paths = [node.path for row in grid for node in row]
np.savez(HERE / "packets.npz", x=x, bands=bands)

with open(HERE / "versions.txt", "w") as f:
    f.write(f"pywavelets {pywt.__version__}\nnumpy {np.__version__}\nseed 20261123\n")
    f.write("packet paths (freq order): " + " ".join(paths) + "\n")
print("ok")
