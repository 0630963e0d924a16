"""Records scikit-learn PCA fits that selectjob's PrincipalPlane (the report's pool map) is held to.

Run from the repository root with a Python that has numpy and scikit-learn (make quality's
.venv-quality has both):  .venv-quality/bin/python Tests/Fixtures/pca/record_sklearn.py

Writes Tests/Fixtures/pca/sklearn_pca.json: the float32 data (written out, so the Swift test needs no
generator of its own), and sklearn's first two components, explained variances (population
covariance, as selectjob: sklearn's are divided by n − 1, so they are rescaled by (n − 1)/n here),
explained variance ratios, and the projections of the first rows. Components are signed so that
their largest-magnitude entry is positive, selectjob's convention.
"""
import json

import numpy as np
import sklearn
from sklearn.decomposition import PCA

rng = np.random.default_rng(20261122)
n, d = 300, 10
scales = np.array([5.0, 3.0, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
x = ((rng.normal(size=(n, d)) * scales) @ rotation.T + rng.normal(size=d)).astype(np.float32)

pca = PCA(n_components=2, svd_solver="full").fit(x.astype(np.float64))
components = pca.components_.copy()
for i in range(2):
    if components[i][np.argmax(np.abs(components[i]))] < 0:
        components[i] = -components[i]
projection = (x.astype(np.float64) - pca.mean_) @ components.T

with open("Tests/Fixtures/pca/sklearn_pca.json", "w") as f:
    json.dump({
        "sklearn": sklearn.__version__, "n": n, "d": d, "x": x.astype(float).tolist(),
        "mean": pca.mean_.tolist(), "components": components.tolist(),
        "variances": (pca.explained_variance_ * (n - 1) / n).tolist(),
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
        "projection_first_rows": projection[:20].tolist(),
    }, f)
print("wrote PCA fixture", x.shape)
