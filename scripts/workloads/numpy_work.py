"""Workload: numpy arrays, linear algebra, random numbers, saving to /tmp."""
import tempfile

import numpy as np

rng = np.random.default_rng(0)
a = rng.standard_normal((200, 200))
inv = np.linalg.inv(a @ a.T + np.eye(200))
assert inv.shape == (200, 200)
assert abs(np.fft.fft(np.ones(8))[0] - 8) < 1e-9
with tempfile.NamedTemporaryFile(dir="/tmp", suffix=".npy") as f:
    np.save(f.name, a)
    assert np.allclose(np.load(f.name), a)
print("OK numpy_work")
