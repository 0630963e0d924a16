"""Runs the ActiveFT reference on CPU, for `make bench`'s side-by-side rows.

The reference is yichen928/ActiveFT, `data_selection/sample_tools/ActiveFT_CIFAR.py` (Xie et al.,
"Active Finetuning", CVPR 2023). It calls `.cuda()` everywhere; here CUDA is not used.

    python activeft_reference.py POOL.h5 BUDGET ITERATIONS [--threads T] [--reference-dir DIR]

- With `--reference-dir` (a checkout of yichen928/ActiveFT), the reference's own `SampleModel` and
  `optimize_dist` run unchanged, with `.cuda()` made the identity.
- Without it (no checkout on this machine: it is not on PyPI), the same torch operations run,
  restated from the reference: the loss of `SampleModel.get_loss`, `torch.optim.Adam`, then each
  centroid in turn takes the first not yet taken row of its full descending sort (`torch.sort`).

Features are read from the HDF5 dataset `features` and L2-normalised, as the reference's `main`
does; centroids start at `random.sample` rows (seed 0). Prints one JSON line: which code ran, the
seconds spent in the optimisation and the final step, and the selected rows.
"""
import argparse
import contextlib
import json
import os
import random
import sys
import time
import types

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def restated_optimize(features, sample_num, args):
    """The reference's optimisation and final step, operation for operation (see the module doc)."""
    rows = random.sample(list(range(features.shape[0])), sample_num)
    centroids = torch.nn.Parameter(features[rows].clone())
    optimizer = torch.optim.Adam([centroids], lr=args.lr)
    for _ in range(args.max_iter):
        unit = F.normalize(centroids, dim=1)
        prod_exp = torch.exp(torch.matmul(features, unit.transpose(1, 0)) / args.temperature)
        prod_exp_pos, pos_k = torch.max(prod_exp, dim=1)
        cent_exp_sum = torch.sum(torch.exp(torch.matmul(unit.detach(), unit.transpose(1, 0)) / args.temperature), dim=0)
        loss = -torch.mean(torch.log(prod_exp_pos) - torch.log(prod_exp_pos + cent_exp_sum[pos_k] * args.balance))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    unit = F.normalize(centroids.detach(), dim=1)
    _, order = torch.sort(torch.matmul(unit, features.transpose(1, 0)), dim=1, descending=True)
    taken = set()
    for k in range(order.shape[0]):
        for j in range(order.shape[1]):
            if order[k, j].item() not in taken:
                taken.add(order[k, j].item())
                break
    return sorted(taken)


def reference_optimize(reference_dir):
    """The reference's own `optimize_dist`, with `.cuda()` the identity."""
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self
    sys.path.insert(0, reference_dir + "/data_selection/sample_tools")
    import ActiveFT_CIFAR  # noqa: E402  (the reference module)
    torch.autograd.set_detect_anomaly(False)  # the module turns it on; it only slows the CPU run
    return ActiveFT_CIFAR.optimize_dist


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pool")
    parser.add_argument("budget", type=int)
    parser.add_argument("iterations", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference-dir")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    random.seed(0)
    torch.manual_seed(0)
    with h5py.File(options.pool, "r") as file:
        features = F.normalize(torch.from_numpy(np.asarray(file["features"], dtype=np.float32)), dim=1)
    args = types.SimpleNamespace(temperature=0.07, lr=0.001, balance=1.0, max_iter=options.iterations,
                                 scheduler="none", init="random", distance="euclidean")
    if options.reference_dir:
        optimize, source = reference_optimize(options.reference_dir), "yichen928/ActiveFT ActiveFT_CIFAR.py"
    else:
        optimize, source = restated_optimize, "restated from ActiveFT_CIFAR.py"
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # it prints every iteration's loss
        selected = optimize(features, options.budget, args)
    print(json.dumps({"source": source, "seconds": time.perf_counter() - started, "selected": sorted(selected)}))


if __name__ == "__main__":
    main()
