from common import *
def km(Z, pickZ=None):
    def f(k, seed):
        m = KMeans(k, n_init=1, random_state=seed).fit(Z)
        l=m.labels_
        cen = np.stack([Z[l==c].mean(0) for c in range(k)])
        return nearest_distinct(Z, cen, l)
    return f
S5=(0,1,2,3,4)
run("kmeans", km(P), (1,), S5)
C = P - P.mean(0)
U_,s_,Vt = np.linalg.svd(C, full_matrices=False)
for D in (0,1,3,8):
    Z = C - (C @ Vt[:D].T) @ Vt[:D] if D else C.copy()
    Z /= np.linalg.norm(Z,axis=1,keepdims=True)
    run(f"abtt D={D}", km(Z), (1,), S5)
