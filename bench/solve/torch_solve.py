"""The pair solve in PyTorch on the same rows (bench/solve-paths.ts): the peer of linscope's solve.

- `lstsq`: the authors' definition as their code computes it (torch.linalg.lstsq on the centred,
  normalised rows, float64 here, torch's default CPU driver 'gelsy' = minimum norm through a
  rank-revealing QR, rcond as linscope's cutoff sqrt(max(N, d)·eps) on singular values), both
  targets at once, score 1 - ||Xn A - Tn||^2. ('gelsd', through the SVD, took 275 s vs linscope's
  15 s at d 4096, N 2048, 1 thread under load 12.)
- `eigh`: linscope's previous algorithm in torch: eigh of the statistics' XcᵀXc/||Xc||² and one
  matmul Vᵀ·XcᵀDc, exact and ridge scores of both targets.
The statistics and the centring are not timed. Prints one JSON line per method.
Run with OPENBLAS_NUM_THREADS set: torch.set_num_threads does not limit Debian's OpenBLAS. torch's
own threads as in the other peers (torch_peers.set_torch_threads: TORCH_THREADS, which
bench/peers/peer-env.ts sets to 1, else the OpenBLAS count).
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from torch_peers import set_torch_threads  # noqa: E402

folder, method, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
set_torch_threads()
meta = json.load(open(f"{folder}/meta.json"))
d, n = meta["d"], meta["n"]
eps = float(np.finfo(np.float64).eps)
rcond = max(n, d) * eps


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if method == "lstsq":
    x = torch.from_numpy(np.fromfile(f"{folder}/x.f32", dtype=np.float32).reshape(n, d)).double()
    y = torch.from_numpy(np.fromfile(f"{folder}/y.f32", dtype=np.float32).reshape(n, d)).double()
    xc = x - x.mean(0)
    yc = y - y.mean(0)
    dc = yc - xc
    xn = xc / xc.norm()
    t = torch.cat([yc / yc.norm(), dc / dc.norm()], 1)
    del x, y, xc, yc, dc
    before = rss_mb()
    start = time.perf_counter()
    a = torch.linalg.lstsq(xn, t, rcond=rcond ** 0.5, driver="gelsy").solution
    r = xn @ a - t
    scores = [1 - float((r[:, :d] ** 2).sum()), None, 1 - float((r[:, d:] ** 2).sum()), None]
    seconds = time.perf_counter() - start
else:
    cxx = torch.from_numpy(np.fromfile(f"{folder}/cxx.f64", dtype=np.float64).reshape(d, d))
    cxd = torch.from_numpy(np.fromfile(f"{folder}/cxd.f64", dtype=np.float64).reshape(d, d))
    xx, yy, dd = meta["xx"], meta["yy"], meta["dd"]
    before = rss_mb()
    start = time.perf_counter()
    w, v = torch.linalg.eigh(cxx / xx)
    b = v.T @ cxd
    delta = (b * b).sum(1)
    a = xx * w
    target = a * a * (v * v).sum(0) + 2 * a * (b * v.T).sum(1) + delta
    keep = w > rcond * w[-1]
    lam = 1e-8 * float(torch.diagonal(cxx).sum() / xx) / d
    s = w + lam
    ridge = 2 / s - w / (s * s)
    scores = []
    for e, tt in ((target, yy), (delta, dd)):
        scores += [float((e[keep] / w[keep]).sum()) / (xx * tt), float((e * ridge).sum()) / (xx * tt)]
    seconds = time.perf_counter() - start
print(json.dumps({"tool": "torch", "method": method, "threads": threads, "seconds": seconds, "scores": scores,
                  "maxRssMB": rss_mb(), "inputRssMB": before}))
