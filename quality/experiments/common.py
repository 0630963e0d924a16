import h5py, numpy as np, sys, time
from sklearn.linear_model import LogisticRegression
from sklearn.cluster import KMeans
import os
f = h5py.File(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'debian_dev20k.h5'), 'r')
X = f['features'][:].astype(np.float64); Y = f['labels'][:]
perm = np.random.default_rng(0).permutation(20000)
test = np.sort(perm[:4000]); pool = np.sort(perm[4000:])
U = X / np.linalg.norm(X,axis=1,keepdims=True)
P = U[pool]
def probe(rows):
    m = LogisticRegression(max_iter=2000, C=10.0).fit(U[pool[rows]], Y[pool[rows]])
    return 100*(m.predict(U[test])==Y[test]).mean()
def nearest_distinct(Z, centers, labels=None):
    # nearest unused sample to each centroid, largest cluster first
    d = ((Z[:,None,:]-centers[None])**2).sum(-1) if False else None
    sims = Z @ centers.T
    dist = (Z**2).sum(1)[:,None] - 2*sims + (centers**2).sum(1)[None]
    order = np.argsort(-np.bincount(labels, minlength=len(centers))) if labels is not None else range(len(centers))
    used=set(); out=[]
    for c in order:
        for r in np.argsort(dist[:,c]):
            if r not in used: used.add(r); out.append(r); break
    return np.array(out)
def run(name, fn, pcts=(1,), seeds=(0,1,2)):
    for p in pcts:
        k = 16000*p//100; s=[]
        t=time.time()
        for seed in seeds: s.append(probe(fn(k, seed)))
        print(f"{name:40s} {p}% {np.mean(s):5.1f} ± {np.std(s,ddof=1):.1f}  {[round(x,1) for x in s]} ({(time.time()-t)/len(seeds):.1f}s)", flush=True)
