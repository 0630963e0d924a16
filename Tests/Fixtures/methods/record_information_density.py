#!/usr/bin/env python3
"""Records the `activeft` package's InformationDensity on a small problem.

Writes Tests/Fixtures/methods/information_density_package.json: the model's class probabilities for
the pool (float32 values) and, for β = 1 (the package's default) and β = 3, the 25 rows the package
ranks highest with its acquisition value of each.

Run with the package installed (pip install activeft==0.1.1 "torch==2.13.0+cpu" faiss-cpu h5py):
    python Tests/Fixtures/methods/record_information_density.py
Problem: the pool and targets of activeft_package.json (rows 0..399 and 1500..1529 of
Tests/Fixtures/activeft/mix2k.h5), in float64 arithmetic. The model embeds a row as itself and
predicts 4 classes by softmax(x·W), W a fixed seeded 32 × 4 matrix; its probabilities are rounded
to float32 (what selectjob reads), and the model returns their logarithm as logits, so the package
and selectjob compute the entropy of the same distributions. The values are
InformationDensity.compute on the whole pool; the rows are its 25 largest, ties to the lower row.
β = 3 rather than a fractional β: the package's value is NaN where the mean similarity is negative
and β is fractional (113 of these 400 rows), which its ranking would put first.
"""
import json
import os

import h5py
import numpy as np
import torch
import activeft
from activeft.acquisition_functions.information_density import InformationDensity

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
POOL, TARGETS, K, CLASSES = (0, 400), (1500, 1530), 25, 4

with h5py.File(os.path.join(HERE, "..", "activeft", "mix2k.h5"), "r") as f:
    features = f["features"][:].astype(np.float32)
pool = torch.tensor(features[POOL[0]:POOL[1]], dtype=torch.float64)
targets = torch.tensor(features[TARGETS[0]:TARGETS[1]], dtype=torch.float64)
weights = torch.tensor(np.random.RandomState(0).normal(size=(features.shape[1], CLASSES)) * 2)


def probabilities(x):
    """softmax(x·W), rounded to float32."""
    return torch.softmax(x @ weights, dim=1).to(torch.float32).to(torch.float64)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1), requires_grad=False)

    def forward(self, x):
        return torch.log(probabilities(x))

    def embed(self, x):
        return x


def ranked(beta):
    values = InformationDensity(target=targets, beta=beta).compute(Model(), pool, None)
    order = sorted(range(len(values)), key=lambda i: (-float(values[i]), i))[:K]
    return {"beta": beta, "selected_rows": order, "values": [float(values[i]) for i in order]}


out = {
    "package": "activeft " + getattr(activeft, "__version__", "0.1.1"),
    "features": "Tests/Fixtures/activeft/mix2k.h5", "pool_rows": list(POOL), "target_rows": list(TARGETS),
    "k": K, "probabilities": probabilities(pool).tolist(),
    "runs": [ranked(1.0), ranked(3.0)],
}
with open(os.path.join(HERE, "information_density_package.json"), "w") as f:
    json.dump(out, f, indent=1)
for run in out["runs"]:
    print(run["beta"], run["selected_rows"][:10])
