"""Reference outputs of kymatio 0.3 (numpy frontend) for the wcrg-scattering tests.

Run from this folder with kymatio==0.3.0, numpy and scipy installed (the committed files were
made with kymatio 0.3.0, numpy 2.2.6, scipy 1.14.1, Python 3.11; kymatio 0.3.0 needs
scipy < 1.15, whose scipy.special still has sph_harm):

    python gen_kymatio_reference.py

Every input is fixed by a seed, so re-running reproduces the committed files bit for bit
(up to the FFT library's rounding). The Rust tests never run Python; they read the .npy files.
"""
import numpy as np
from kymatio.numpy import Scattering1D, Scattering2D

rng = np.random.default_rng(20261123)

# 2-D: a smooth Gaussian field plus its square (non-Gaussian), 32 x 32, batch of 2.
g = rng.standard_normal((2, 32, 32))
k = np.fft.fftfreq(32)
kk = np.sqrt(k[:, None] ** 2 + k[None, :] ** 2)
g = np.real(np.fft.ifft2(np.fft.fft2(g) * np.exp(-(kk / 0.15) ** 2)))
x2 = g / g.std() + 0.5 * (g / g.std()) ** 2
np.save("kymatio_2d_input.npy", x2)
s2 = Scattering2D(J=3, shape=(32, 32), L=8)
np.save("kymatio_2d_J3_L8.npy", s2(x2))
# Filters at the padded size (kymatio keeps them in single precision).
np.save("kymatio_2d_phi0.npy", np.asarray(s2.phi["levels"][0], dtype=np.float64))
np.save("kymatio_2d_psi_j1_t3_level1.npy",
        np.asarray(s2.psi[1 * 8 + 3]["levels"][1], dtype=np.float64))

# 1-D: a random walk with jumps, length 256, batch of 2.
steps = rng.standard_normal((2, 256)) + (rng.random((2, 256)) < 0.02) * 5.0
x1 = np.cumsum(steps, axis=1)
x1 -= x1.mean(axis=1, keepdims=True)
np.save("kymatio_1d_input.npy", x1)
s1 = Scattering1D(J=5, shape=256, Q=1)
np.save("kymatio_1d_J5_Q1.npy", s1(x1))
meta = s1.meta()
np.save("kymatio_1d_J5_Q1_meta_xi.npy", np.nan_to_num(meta["xi"], nan=-1.0))
np.save("kymatio_1d_J5_Q1_meta_j.npy", np.nan_to_num(meta["j"], nan=-1.0))
np.save("kymatio_1d_phi0.npy", s1.phi_f["levels"][0])
np.save("kymatio_1d_psi1_2.npy", s1.psi1_f[2]["levels"][0])

# 1-D with Q = 8 (the benchmark's filter bank) on a shorter signal: meta and output.
x1q = rng.standard_normal((1, 1024))
np.save("kymatio_1d_q8_input.npy", x1q)
s1q = Scattering1D(J=6, shape=1024, Q=8)
np.save("kymatio_1d_J6_Q8.npy", s1q(x1q))
