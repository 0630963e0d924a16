"""Is selectjob's DropQuery round the numpy prototype's? Each stage against scikit-learn, same inputs.

The issue's prototype (scikit-learn KMeans, numpy dropout) reported +2.1 at 1 % in two rounds on
seeds 0-4 where `make quality PART=paired` measured -0.7 on the same seeds. This script separates the
stages so a difference in code would show and seed noise would not:
  1. the first round: selectjob's `kmeans` (K = 80) against scikit-learn's KMeans (n_init=1) + nearest
     distinct sample, ten seeds each, probe accuracy of the 80;
  2. the second round on one fixed first round: selectjob's `dropquery` (K = 80) against the prototype
     (3 passes, dropout 0.75, candidates: prediction changed in >= 2 passes, KMeans on them, nearest
     distinct sample per centre), eight seeds each, probe accuracy of the 160.
Run from this folder with the quality venv and a release build:
    ../../.venv-quality/bin/python dropquery_parity.py ../../.build/release/selectjob
"""
import itertools, os, sys, tempfile

import h5py
import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression

from common import P, Y, X, pool, probe, nearest_distinct

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run_quality as rq  # noqa: E402  the table's selectjob runner

binary = sys.argv[1]
labels = Y[pool]
folder = tempfile.mkdtemp()
run_index = itertools.count()
pool_file = os.path.join(folder, "pool.h5")
with h5py.File(pool_file, "w") as f:
    f["features"] = X[pool].astype(np.float32)
    f["labels"] = labels


def selectjob(method, k, seed, labelled=None):
    """selectjob's `method` for K = `k` on the pool, through the table's runner; `labelled`: pool rows
    already labelled, given with their labels."""
    if labelled is not None:
        labelled_file = os.path.join(folder, "labelled.h5")
        with h5py.File(labelled_file, "w") as f:
            f["ids"] = np.asarray(labelled, dtype=np.int64)
            f["labels"] = labels[labelled]
        labelled = {"path": labelled_file, "labels": "labels"}
    rows, _ = rq.select(binary, folder, pool_file, {"name": method}, k, seed, next(run_index), labelled=labelled)
    return rows


def sklearn_kmeans(rows, k, seed):
    km = KMeans(k, n_init=1, random_state=seed).fit(P[rows])
    return list(np.asarray(rows)[nearest_distinct(P[rows], km.cluster_centers_, km.labels_)])


def prototype_dropquery(labelled, k, seed, passes=3, dropout=0.75):
    rng = np.random.default_rng(seed)
    model = LogisticRegression(max_iter=2000, C=10.0).fit(P[labelled], labels[labelled])
    rest = np.setdiff1d(np.arange(len(P)), labelled)
    predicted = model.predict(P[rest])
    flips = np.zeros(len(rest), int)
    for _ in range(passes):
        kept = rng.random(P[rest].shape) >= dropout
        flips += model.predict(P[rest] * kept / (1 - dropout)) != predicted
    return sklearn_kmeans(rest[flips > passes // 2], k, seed)


def line(name, values):
    return f"{name:28s} {np.mean(values):5.1f} ± {np.std(values, ddof=1):.1f}  [{' '.join(f'{v:.1f}' for v in values)}]"


everything = list(range(len(P)))
ours, theirs = [], []
for seed in range(10):
    ours.append(probe(selectjob("kmeans", 80, seed)))
    theirs.append(probe(sklearn_kmeans(everything, 80, seed)))
print("round 1 alone (80 samples), seeds 0-9")
print(line("selectjob kmeans", ours))
print(line("scikit-learn KMeans", theirs))

first = sklearn_kmeans(everything, 80, 0)
ours, theirs = [], []
for seed in range(8):
    ours.append(probe(first + selectjob("dropquery", 80, seed, labelled=first)))
    theirs.append(probe(first + prototype_dropquery(np.array(first), 80, seed)))
print("round 2 on scikit-learn's round 1 of seed 0 (160 samples), seeds 0-7")
print(line("selectjob dropquery", ours))
print(line("numpy prototype", theirs))
