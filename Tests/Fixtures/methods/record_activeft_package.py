#!/usr/bin/env python3
"""Records the `activeft` package's embedding-only acquisition functions on a small problem.

Writes Tests/Fixtures/methods/activeft_package.json: for ITL, UndirectedITL, CTL, CosineSimilarity and
MaxDist, the rows the package picks (in order) and its acquisition value of each pick (null where
infinite).

Run with the package installed (pip install activeft==0.1.1 torch faiss-cpu h5py):
    python Tests/Fixtures/methods/record_activeft_package.py
Problem: pool = rows 0..399 of Tests/Fixtures/activeft/mix2k.h5, targets = rows 1500..1529, as
stored (float32, not normalised), in float64 arithmetic; noise_std 0.1 (σ² = 0.01, the package's
default); K = 25. The loop is the package's own `select_from_minibatch` (initialize, then compute /
selector / step per pick) over the whole pool as one mini-batch, so the selection is exact.
"""
import json
import os

import h5py
import numpy as np
import torch
import activeft
from activeft.acquisition_functions.itl import ITL
from activeft.acquisition_functions.undirected_itl import UndirectedITL
from activeft.acquisition_functions.ctl import CTL
from activeft.acquisition_functions.cosine_similarity import CosineSimilarity
from activeft.acquisition_functions.max_dist import MaxDist

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
POOL, TARGETS, K = (0, 400), (1500, 1530), 25

with h5py.File(os.path.join(HERE, "..", "activeft", "mix2k.h5"), "r") as f:
    features = f["features"][:].astype(np.float32)
pool = torch.tensor(features[POOL[0]:POOL[1]], dtype=torch.float64)
targets = torch.tensor(features[TARGETS[0]:TARGETS[1]], dtype=torch.float64)


def sequential(fn):
    rows, values = fn.select_from_minibatch(K, None, pool, None)
    # JSON has no infinity: MaxDist's first value (the distance to no pick) is written as null.
    return {"selected_rows": [int(r) for r in rows],
            "values": [float(v) if np.isfinite(float(v)) else None for v in values]}


def batch(fn):
    values = fn.compute(None, pool, None)
    order = sorted(range(len(values)), key=lambda i: (-float(values[i]), i))[:K]
    return {"selected_rows": order, "values": [float(values[i]) for i in order]}


runs = {
    "itl": sequential(ITL(target=targets, noise_std=0.1)),
    "undirected_itl": sequential(UndirectedITL(noise_std=0.1)),
    "ctl": sequential(CTL(target=targets, noise_std=0.1)),
    "cosine": batch(CosineSimilarity(target=targets)),
    "maxdist": sequential(MaxDist()),
}
out = {
    "package": "activeft " + getattr(activeft, "__version__", "0.1.1"),
    "features": "Tests/Fixtures/activeft/mix2k.h5", "pool_rows": list(POOL), "target_rows": list(TARGETS),
    "noise_variance": 0.01, "k": K, "runs": runs,
}
with open(os.path.join(HERE, "activeft_package.json"), "w") as f:
    json.dump(out, f, indent=1)
for name, run in runs.items():
    print(name, run["selected_rows"][:10])
