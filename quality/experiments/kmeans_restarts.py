"""Is one-shot `kmeans` a weak baseline because it keeps a single k-means++ start?

QUALITY.md's rounds tables compare labelling in rounds with one-shot `kmeans` (one k-means++ start).
Its accuracy at 1 % varies by about ±2 points between seeds, so a better start might close the
rounds' lead. This runs selectjob's `kmeans` with its default and with `"restarts": 10` (the lowest
inertia of ten starts, scikit-learn's n_init) on the same seeds and prints the paired difference.
Run from this folder with the quality venv and a release build:
    ../../.venv-quality/bin/python kmeans_restarts.py ../../.build/release/selectjob [--seeds 0-29]
"""
import argparse, os, statistics, sys, tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run_quality as rq  # noqa: E402  the table's split, probe and selectjob runner

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--seeds", default="0-29", help="FIRST-LAST")
parser.add_argument("--percents", default="1,2,5")
args = parser.parse_args()
first, last = map(int, args.seeds.split("-"))
seeds = list(range(first, last + 1))

with h5py.File(rq.DATA, "r") as f:
    features = f["features"][:].astype(np.float32)
    labels = f["labels"][:]
pool, test = rq.split(len(features))
unit = rq.normalise(features)
with tempfile.TemporaryDirectory() as folder:
    pool_file = os.path.join(folder, "pool.h5")
    with h5py.File(pool_file, "w") as f:
        f["features"] = features[pool]
        f["labels"] = labels[pool]
    index = 0
    for percent in map(int, args.percents.split(",")):
        k = len(pool) * percent // 100
        one, ten = [], []
        for seed in seeds:
            for method, scores in (({"name": "kmeans"}, one), ({"name": "kmeans", "restarts": 10}, ten)):
                rows, _ = rq.select(args.binary, folder, pool_file, method, k, seed, index)
                index += 1
                scores.append(rq.probe(unit, labels, pool[rows], test))
        deltas = [b - a for a, b in zip(one, ten)]
        print(f"{percent} % (K = {k}), seeds {first}-{last}: kmeans {statistics.mean(one):.1f} ± {statistics.stdev(one):.1f}, "
              f"restarts 10 {statistics.mean(ten):.1f} ± {statistics.stdev(ten):.1f}; paired difference "
              f"{statistics.mean(deltas):+.1f} ± {statistics.stdev(deltas) / len(deltas) ** 0.5:.1f} (standard error), "
              f"better on {sum(d > 0 for d in deltas)} of {len(deltas)}", flush=True)
