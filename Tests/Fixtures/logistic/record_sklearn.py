"""Records scikit-learn LogisticRegression fits that selectjob's LogisticRegression is held to.

Run from the repository root with a Python that has numpy and scikit-learn (make quality's
.venv-quality has both):  .venv-quality/bin/python Tests/Fixtures/logistic/record_sklearn.py

Writes Tests/Fixtures/logistic/sklearn_fits.json: the data (written out, so the Swift test needs no
generator of its own) and, for each case, sklearn's coefficients and intercepts fitted with the lbfgs
solver to a tight tolerance, so that the recorded optimum is the optimum to ~1e-8.
"""
import json

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(20261122)
n, d = 120, 6
centres = rng.normal(size=(3, d)) * 1.5
labels3 = rng.integers(0, 3, size=n)
x = (centres[labels3] + rng.normal(size=(n, d))).astype(np.float32)
labels2 = (labels3 == 1).astype(int)
weights = rng.uniform(0.5, 2.0, size=n)

cases = []
for name, y, c, w in [
    ("binary_c1", labels2, 1.0, None),
    ("binary_c0.1_weighted", labels2, 0.1, weights),
    ("multinomial_c1", labels3, 1.0, None),
    ("multinomial_c10_weighted", labels3, 10.0, weights),
]:
    model = LogisticRegression(C=c, tol=1e-12, max_iter=100000, solver="lbfgs")
    model.fit(x.astype(np.float64), y, sample_weight=w)
    cases.append({
        "name": name,
        "labels": y.tolist(),
        "classes": int(len(np.unique(y))),
        "C": c,
        "sample_weight": None if w is None else w.tolist(),
        "coef": model.coef_.tolist(),
        "intercept": model.intercept_.tolist(),
    })

with open("Tests/Fixtures/logistic/sklearn_fits.json", "w") as f:
    json.dump({"sklearn": sklearn.__version__, "n": n, "d": d, "x": x.astype(float).tolist(), "cases": cases}, f)
print("wrote", len(cases), "cases")
