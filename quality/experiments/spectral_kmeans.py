from common import *
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
def knn(Z, k):
    n=len(Z); idx=np.zeros((n,k),int); sim=np.zeros((n,k))
    for s in range(0,n,2000):
        S = Z[s:s+2000] @ Z.T
        for i in range(S.shape[0]): S[i, s+i] = -9
        part = np.argpartition(-S, k, axis=1)[:, :k]
        idx[s:s+2000]=part; sim[s:s+2000]=np.take_along_axis(S, part, 1)
    return idx, sim
t=time.time(); I, S = knn(P, 30); print("knn", time.time()-t, flush=True)
np.save("/tmp/knn_idx.npy", I); np.save("/tmp/knn_sim.npy", S)  # read by repulsive_typical_picks.py
for nn in (10,):
  n=len(P)
  order = np.argsort(-S,1)[:, :nn]; Ii=np.take_along_axis(I,order,1); Si=np.take_along_axis(S,order,1)
  W = sp.csr_matrix((np.ones(n*nn), (np.repeat(np.arange(n),nn), Ii.ravel())), shape=(n,n))
  W = W.maximum(W.T)
  d = np.asarray(W.sum(1)).ravel(); Dm = sp.diags(1/np.sqrt(d)); A = Dm @ W @ Dm
  for dim in (32, 64):
    t=time.time()
    vals, vecs = eigsh(A, k=dim+1, which='LA', tol=1e-4)
    print("eig", time.time()-t, vals[:3], vals[-3:], flush=True)
    E = vecs[:, np.argsort(-vals)][:, 1:] / np.sqrt(d)[:,None]
    En = E/np.linalg.norm(E,axis=1,keepdims=True)
    for space, Z in (("unit", En),):
        def f(k, seed, Z=Z):
            m = KMeans(k, n_init=1, random_state=seed).fit(Z)
            l = m.labels_
            cen = np.stack([P[l==c].mean(0) if (l==c).any() else P[0] for c in range(k)])
            return nearest_distinct(P, cen, l)
        run(f"spectral nn{nn} d{dim} {space}", f, (1,2))
