"""Records scikit-activeml's BADGE on a small problem: Tests/Fixtures/methods/badge_skactiveml.json.

    python3 -m venv /tmp/skal && /tmp/skal/bin/pip install scikit-activeml==1.0.1
    /tmp/skal/bin/python Tests/Fixtures/methods/record_badge_skactiveml.py

The classifier returns fixed class probabilities (so the fixture is the seeding, not a fit): 60 unit
rows of 6 features, 3 classes, rows 0..9 labelled; a batch of 8 with `return_utilities=True`. The
utilities of step i are the reference's D² sampling distribution over the rows given its first i
picks (NaN for labelled and picked rows). selectjob's `Badge.seeding`, driven with the reference's own
picks, must give the same distributions and the same first pick.
"""
import json
import os

import numpy as np
from skactiveml.base import SkactivemlClassifier
from skactiveml.pool import Badge
from skactiveml.utils import MISSING_LABEL


class FixedProbabilities(SkactivemlClassifier):
    """predict_proba looks each row up in a table of given probabilities."""

    def __init__(self, table=None, classes=None, missing_label=MISSING_LABEL):
        super().__init__(classes=classes, missing_label=missing_label)
        self.table = table

    def fit(self, X, y, sample_weight=None):
        return self

    def predict_proba(self, X):
        return np.array([self.table[tuple(np.round(x, 12))] for x in X])


rng = np.random.default_rng(4)
n, d, c = 60, 6, 3
x = rng.normal(size=(n, d))
x /= np.linalg.norm(x, axis=1, keepdims=True)
x = x.astype(np.float32).astype(np.float64)  # exactly representable in float32
logits = rng.normal(size=(n, c)) * 2
probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
y = np.full(n, np.nan)
y[:10] = rng.integers(0, c, size=10)
clf = FixedProbabilities(table={tuple(np.round(row, 12)): p for row, p in zip(x, probabilities)}, classes=[0, 1, 2])
picks, utilities = Badge(random_state=0).query(x, y, clf, fit_clf=False, batch_size=8, return_utilities=True)
out = {
    "features": x.tolist(), "probabilities": probabilities.tolist(), "labelled": list(range(10)),
    "picks": [int(i) for i in picks],
    "utilities": [[None if np.isnan(u) else float(u) for u in row] for row in utilities],
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "badge_skactiveml.json"), "w") as f:
    json.dump(out, f)
print(out["picks"])
