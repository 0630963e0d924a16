from common import *
def km(Z):
    def f(k, seed):
        m = KMeans(k, n_init=1, random_state=seed).fit(Z)
        return nearest_distinct(Z, m.cluster_centers_, m.labels_)
    return f
run("kmeans", km(P), (1,2))
C = P - P.mean(0); C /= np.linalg.norm(C,axis=1,keepdims=True)
run("kmeans centered", km(C), (1,2))
# density flattening: weights by kNN distance
from sklearn.neighbors import NearestNeighbors
nn = NearestNeighbors(n_neighbors=21).fit(P); dist,_ = nn.kneighbors(P)
r = dist[:,1:].mean(1)
for beta in (2, 6):
    def f(k, seed, beta=beta):
        m = KMeans(k, n_init=1, random_state=seed).fit(P, sample_weight=(r/r.mean())**beta)
        return nearest_distinct(P, m.cluster_centers_, m.labels_)
    run(f"kmeans weight r^{beta}", f, (1,2))
