from common import *
I=np.load("/tmp/knn_idx.npy"); S=np.load("/tmp/knn_sim.npy")
dens = S[:, :20].mean(1) if False else np.sort(S,1)[:, -20:].mean(1)
S5=(0,1,2,3,4)
for lam in (0.0, 0.5, 1.0, 2.0, 4.0, 100.0):
    def f(k, seed, lam=lam):
        m = KMeans(k, n_init=1, random_state=seed).fit(P); l=m.labels_
        cen = np.stack([P[l==c].mean(0) for c in range(k)])
        picks = nearest_distinct(P, cen, l)
        members = [np.where(l==c)[0] for c in range(k)]
        cl_of_pick = l[picks]
        picks = list(picks)
        for it in range(3):
            for j in range(k):
                c = cl_of_pick[j]; mem = members[c]
                others = np.array([p for i,p in enumerate(picks) if i!=j])
                rep = (P[mem] @ P[others].T).max(1)
                score = dens[mem] - lam * np.maximum(rep, 0)**4
                picks[j] = mem[np.argmax(score)]
        return np.array(picks)
    run(f"usl lam={lam}", f, (1,), S5)
