"""Records the DropQuery authors' code on small problems: Tests/Fixtures/methods/dropquery_authors.json.

    git clone https://github.com/sanketx/AL-foundation-models /tmp/alfm   # the ALFM package
    python3 -m venv /tmp/dq && /tmp/dq/bin/pip install torch pytorch-lightning torchmetrics hydra-core \
        omegaconf faiss-cpu rich
    PYTHONPATH=/tmp/alfm /tmp/dq/bin/python Tests/Fixtures/methods/record_dropquery_authors.py

Two parts, each through the authors' own code (ALFM/src/query_strategies/dropout.py and
ALFM/src/classifiers/base_classifier.py), with no training (so the fixture is the query, not a fit):

- `dropout`: their `LinearClassifier` (dropout on the input, BatchNorm1d without affine in eval mode,
  then a linear layer) with fixed random weights and running statistics, on 40 float32 rows of 6
  features, 3 classes. Its prediction without dropout (`predicted`) and, over `passes` forward passes
  with dropout p = 0.75 through their `predict_step`, the fraction of passes in which each row's
  prediction changed (`flip_rates`). BatchNorm in eval mode is affine, so the same model is the linear
  model `weights` · (x ⊙ mask) / (1 − p) + `intercepts` on the rows as given: W' = W / √(var + eps),
  b' = b − W' · mean. selectjob's flip counts over as many passes, with that model, must give the
  same rates within binomial noise.
- `candidates`: their `_get_candidates` (the threshold lowered while fewer than 25·K rows qualify) fed
  fixed per-pass predictions, so that each row's mismatch count is given (`mismatches`); the rows it
  returns for each (passes, K).
"""
import json
import os
import types

import numpy as np
import torch

from ALFM.src.classifiers.linear_classifier import LinearClassifier
from ALFM.src.query_strategies.dropout import Dropout

torch.manual_seed(0)
rng = np.random.default_rng(11)

# --- dropout: flip rates of the authors' classifier -------------------------------------------
n, d, c, p, passes = 40, 6, 3, 0.75, 4000
x = rng.normal(size=(n, d)).astype(np.float32)
classifier = LinearClassifier(d, num_classes=c, dropout_p=p, lr=1e-2, weight_decay=1e-2, metrics=[])
with torch.no_grad():
    classifier.linear.weight.copy_(torch.from_numpy(rng.normal(size=(c, d)).astype(np.float32)))
    classifier.linear.bias.copy_(torch.from_numpy(rng.normal(size=c).astype(np.float32) * 2))
    classifier.feature_extractor.running_mean.copy_(torch.from_numpy(rng.normal(size=d).astype(np.float32) * 0.3))
    classifier.feature_extractor.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, size=d).astype(np.float32)))
classifier.eval()  # what Lightning's predict loop does: BatchNorm uses its running statistics


def predict(dropout):
    """The authors' prediction path (ClassifierWrapper._predict → predict_step), one batch."""
    classifier.set_dropout(dropout)
    classifier.set_pred_mode("probs")
    with torch.no_grad():
        return classifier.predict_step((torch.from_numpy(x), None), 0)["probs"]


plain = predict(False)
top2 = plain.topk(2, dim=1).values
assert (top2[:, 0] - top2[:, 1]).min() > 1e-3, "no near-tie without dropout"
predicted = plain.argmax(dim=1)
changed = torch.zeros(n, dtype=torch.int64)
for _ in range(passes):
    changed += (predict(True).argmax(dim=1) != predicted).long()

bn = classifier.feature_extractor
scale = 1 / torch.sqrt(bn.running_var.double() + bn.eps)
weights = classifier.linear.weight.double() * scale
intercepts = classifier.linear.bias.double() - weights @ bn.running_mean.double()

# --- candidates: the threshold rule on given mismatch counts -----------------------------------
cases = []
for m, k in [(3, 1), (3, 2), (3, 4), (5, 1), (5, 3), (4, 2), (9, 1)]:
    rows = 200
    mismatches = rng.integers(0, m + 1, size=rows)
    mismatches[rng.random(rows) < 0.6] = 0  # most rows stable, as on real data
    y_star = torch.zeros(rows, dtype=torch.int64)
    # pass j predicts class 1 (a change) for the rows with more than j mismatches
    probabilities = [torch.nn.functional.one_hot(torch.from_numpy((mismatches > j).astype(np.int64)), 2).float()
                     for j in range(m)]
    stream = iter(probabilities)
    model = types.SimpleNamespace(get_probs=lambda features, dropout=True: next(stream))
    query = types.SimpleNamespace(model=model, num_iter=m)
    chosen = Dropout._get_candidates(query, None, y_star, k)
    cases.append({"passes": m, "budget": k, "mismatches": mismatches.tolist(),
                  "candidates": sorted(int(i) for i in chosen)})

out = {
    "dropout": {
        "features": x.astype(np.float64).tolist(), "dropout": p, "passes": passes,
        "weights": weights.tolist(), "intercepts": intercepts.tolist(),
        "predicted": predicted.tolist(), "flip_rates": (changed.double() / passes).tolist(),
    },
    "candidates": cases,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "dropquery_authors.json"), "w") as f:
    json.dump(out, f)
print("flip rates", np.round(out["dropout"]["flip_rates"], 3).tolist())
print("candidates", [len(case["candidates"]) for case in cases])
