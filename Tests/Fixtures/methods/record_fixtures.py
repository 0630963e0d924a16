#!/usr/bin/env python3
"""Records the reference runs the method tests compare against (run once; outputs committed).

  kmeans_sklearn.json   scikit-learn KMeans(algorithm="lloyd", n_init=1, tol=1e-4, max_iter=300) on the
                        L2-normalised rows of ../activeft/mix2k.h5, in float64, started from given rows:
                        the labels, centres, iterations and inertia selectjob's Lloyd must reproduce.
  herding_apricot.json  apricot's FacilityLocationSelection (naive greedy, precomputed kernel) with the
                        Gaussian kernel exp(-|x - y|^2 / (2 h^2)), h = 0.5, on the first 300 normalised rows:
                        the ranking and gains selectjob's lazy greedy must reproduce.

Needs: numpy, h5py, scikit-learn, apricot-select (pip). Usage: python3 record_fixtures.py
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def unit_rows(n=None):
    with h5py.File(os.path.join(HERE, "..", "activeft", "mix2k.h5"), "r") as f:
        x = f["features"][:].astype(np.float64)
    if n is not None:
        x = x[:n]
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def record_kmeans():
    from sklearn.cluster import KMeans
    x = unit_rows()
    k = 40
    init_rows = np.random.default_rng(0).choice(len(x), size=k, replace=False)
    model = KMeans(n_clusters=k, init=x[init_rows], n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd")
    model.fit(x)
    out = {"k": k, "init_rows": [int(r) for r in init_rows], "labels": [int(l) for l in model.labels_],
           "centres": model.cluster_centers_.ravel().tolist(), "iterations": int(model.n_iter_),
           "inertia": float(model.inertia_), "sklearn": __import__("sklearn").__version__}
    with open(os.path.join(HERE, "kmeans_sklearn.json"), "w") as f:
        json.dump(out, f)


def record_herding():
    from apricot import FacilityLocationSelection
    x = unit_rows(300)
    h = 0.5
    squared = np.maximum(0, 2 - 2 * x @ x.T)
    kernel = np.exp(-squared / (2 * h * h))
    k = 30
    selector = FacilityLocationSelection(k, metric="precomputed", optimizer="naive")
    selector.fit(kernel)
    out = {"n": 300, "k": k, "bandwidth": h, "ranking": [int(r) for r in selector.ranking],
           "gains": [float(g) for g in selector.gains], "apricot": __import__("apricot").__version__}
    with open(os.path.join(HERE, "herding_apricot.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    record_kmeans()
    record_herding()
