import OpenBLAS
import Dispatch
import Foundation
import HDF5

// The scale cases of issue 11, each through the binaries in child processes: ActiveFT's cost model
// (per-iteration time against the machine's floor at three sizes of N, K and d), loading 1.28 M rows
// stored as gzip float32 and as float16, and VTL at a million rows.

/// Writes `rows × dimensions` mixture features with `demo-features` (a sibling of `selectjob`):
/// gzip-4 chunks of 1,024 rows, ids and labels. Returns the path.
@discardableResult
func demoFeatures(_ selectjob: String, path: String, rows: Int, dimensions: Int, classes: Int, subclusters: Int,
                  seed: Int, storage: String = "float32") throws -> String {
    let binary = URL(fileURLWithPath: selectjob).deletingLastPathComponent().appendingPathComponent("demo-features").path
    let child = try runChild(binary, ["--output", path, "--rows", String(rows), "--dimensions", String(dimensions),
                                      "--classes", String(classes), "--subclusters", String(subclusters),
                                      "--seed", String(seed), "--storage", storage])
    guard child.status == 0 else {
        throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "demo-features failed: \(child.stdout)"])
    }
    return path
}

/// Writes a job file running `method` (a JSON object's members) on `pool`, and returns its path.
func writeJob(folder: String, name: String, pool: String, method: String, budget: Int) throws -> String {
    let path = folder + "/\(name).json"
    try Data("""
        {"name": "\(name)", "features": {"path": "\(pool)", "ids": "ids", "labels": "labels"},
         "method": {\(method)}, "budget": {"count": \(budget)}, "database": "\(name).sqlite"}
        """.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

/// `selectjob run` on `job`, `repetitions` times: (median seconds, median peak MiB, runs).
func timeRun(_ selectjob: String, job: String, threads: Int, repetitions: Int) throws -> (Double, Double, Int) {
    try timeCommand(selectjob, repetitions: repetitions) { _ in
        ["run", "--quiet", "--force", "--log-level", "error", "--threads", String(threads), job]
    }
}

/// The median wall seconds of 5 runs of `body`.
func medianOfFiveSeconds(_ body: () -> Void) -> Double {
    (0..<5).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }.sorted()[2]
}

/// The machine's floor for `rows × columns` float32 features on `threads` threads: a dense
/// N×K×d sgemm's GFLOP/s (row blocks of 1,024, one single-threaded sgemm each, as selectjob runs
/// them) and the GB/s of one pass over the features (one sgemv of 1,024-row blocks, a dot product per row: the least
/// any exact per-iteration work touches). Medians of 5.
func machineFloor(rows: Int, columns: Int, centroids: Int, threads: Int) -> (gflops: Double, gigabytesPerSecond: Double) {
    var generator = SystemRandomNumberGenerator()
    let features = (0..<(rows * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
    let targets = (0..<(centroids * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
    let blocks = (rows + 1023) / 1024
    let sums = UnsafeMutableBufferPointer<Float>.allocate(capacity: blocks)
    defer { sums.deallocate() }
    let (gemm, pass): (Double, Double) = features.withUnsafeBufferPointer { x in
        targets.withUnsafeBufferPointer { c in
            let (xs, cs, out) = (SendablePointer(x.baseAddress!), SendablePointer(c.baseAddress!), SendableMutable(sums.baseAddress!))
            let gemm = medianOfFiveSeconds {
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    var scores = [Float](repeating: 0, count: 1024 * centroids)
                    for block in stride(from: worker, to: blocks, by: threads) {
                        let n = min(1024, rows - block * 1024)
                        BLAS.multiplyTransposed(m: n, n: centroids, k: columns, a: xs.base + block * 1024 * columns, lda: columns,
                                                b: cs.base, ldb: columns, c: &scores, ldc: centroids)
                    }
                }
            }
            let pass = medianOfFiveSeconds {
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    var products = [Float](repeating: 0, count: 1024)
                    for block in stride(from: worker, to: blocks, by: threads) {
                        products.withUnsafeMutableBufferPointer { y in
                            BLAS.multiplyVector(m: min(1024, rows - block * 1024), n: columns, a: xs.base + block * 1024 * columns,
                                                lda: columns, x: cs.base, y: y.baseAddress!)
                        }
                        out.base[block] = products[0]
                    }
                }
            }
            return (gemm, pass)
        }
    }
    return (2 * Double(rows) * Double(centroids) * Double(columns) / gemm / 1e9, Double(rows * columns * 4) / pass / 1e9)
}

/// The machine's double-precision rate on `threads` threads, in GFLOP/s: each thread multiplies its
/// own matrix by its transpose (single-threaded dgemm), all at once; the better of the centroid term's
/// shape (K×d times d×K) and a large square one (1,024³), so the rate is not held back by the small
/// shape. Medians of 5.
func dgemmRate(centroids k: Int, columns d: Int, threads: Int) -> Double {
    var generator = SystemRandomNumberGenerator()
    func rate(rows: Int, columns: Int) -> Double {
        let a = (0..<(rows * columns)).map { _ in Double.random(in: -1...1, using: &generator) }
        let seconds: Double = a.withUnsafeBufferPointer { a in
            let input = SendableDoubles(a.baseAddress!)
            return medianOfFiveSeconds {
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    var c = [Double](repeating: 0, count: rows * rows)
                    BLAS.multiplyTransposed(m: rows, n: rows, k: columns, a: input.base, lda: columns,
                                            b: input.base, ldb: columns, c: &c, ldc: rows)
                }
            }
        }
        return 2 * Double(rows * rows * columns) * Double(threads) / seconds / 1e9
    }
    return max(rate(rows: k, columns: d), rate(rows: 1024, columns: 1024))
}

/// The GB/s of reading `rows` × `columns` float32 values once on `threads` threads (each thread sums
/// its contiguous share, 64 floats per step): the memory floor of any pass over the features.
/// Median of 5.
func readRate(rows: Int, columns: Int, threads: Int) -> Double {
    let count = rows * columns / 64 * 64
    let values = (0..<count).map { Float($0 & 1023) * 1e-3 }
    let sums = UnsafeMutableBufferPointer<Float>.allocate(capacity: threads)
    defer { sums.deallocate() }
    let seconds: Double = values.withUnsafeBufferPointer { x in
        let (input, out) = (SendablePointer(x.baseAddress!), SendableMutable(sums.baseAddress!))
        return medianOfFiveSeconds {
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                let raw = UnsafeRawPointer(input.base)
                var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
                var j = count / 64 * worker / threads * 64
                let end = count / 64 * (worker + 1) / threads * 64
                while j < end {
                    s0 += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                    s1 += raw.loadUnaligned(fromByteOffset: j * 4 + 64, as: SIMD16<Float>.self)
                    s2 += raw.loadUnaligned(fromByteOffset: j * 4 + 128, as: SIMD16<Float>.self)
                    s3 += raw.loadUnaligned(fromByteOffset: j * 4 + 192, as: SIMD16<Float>.self)
                    j += 64
                }
                out.base[worker] = (s0 + s1 + s2 + s3).sum()
            }
        }
    }
    return Double(count * 4) / seconds / 1e9
}

/// The least time an exact ActiveFT run of `iterations` over `rows` × `columns` features with K =
/// `centroids` can take on this machine with selectjob's set-up, from rates measured now: `setUp`
/// (a measured 0-iteration run: load, normalisation, initial centroids, final step, commit) plus, per
/// iteration, one read of the features (every sample's similarity to its centroid changes, so each
/// row is read at least once; the faster of ``readRate`` and ``machineFloor``'s pass) and the centroid
/// term's 1.5·K²·d double multiply-adds (the symmetric K×K Gram matrix and the softmax-weighted sum
/// of the centroids) at ``dgemmRate``. It leaves out the exponentials, the gradient, Adam and the
/// search, and takes each rate at its best, so every real run takes longer.
func exactRunFloor(rows: Int, columns: Int, centroids: Int, iterations: Int, setUp: Double,
                   threads: Int) -> (seconds: Double, pass: Double, centroidTerm: Double) {
    let bandwidth = max(readRate(rows: rows, columns: columns, threads: threads),
                        machineFloor(rows: rows, columns: columns, centroids: centroids, threads: threads).gigabytesPerSecond)
    let pass = Double(rows * columns * 4) / bandwidth / 1e9
    let flops = 2 * 1.5 * Double(centroids * centroids * columns)
    let centroidTerm = flops / dgemmRate(centroids: centroids, columns: columns, threads: threads) / 1e9
    return (setUp + Double(iterations) * (pass + centroidTerm), pass, centroidTerm)
}

private struct SendableDoubles: @unchecked Sendable { let base: UnsafePointer<Double>; init(_ p: UnsafePointer<Double>) { base = p } }
private struct SendablePointer: @unchecked Sendable { let base: UnsafePointer<Float>; init(_ p: UnsafePointer<Float>) { base = p } }
private struct SendableMutable: @unchecked Sendable { let base: UnsafeMutablePointer<Float>; init(_ p: UnsafeMutablePointer<Float>) { base = p } }

/// ActiveFT's cost per iteration at three sizes of N, of K and of d (the others at 50,000, 500 and
/// 384): each `selectjob run` with 0 and with 300 iterations (median of `repetitions`), so an
/// iteration costs (t₃₀₀ − t₀)/300 on average over the reference's schedule (the first iterations,
/// while the centroids move fast, cost several times the later ones), beside the floor: the dense sgemm a plain implementation
/// computes each iteration, and one pass over the features. Returns the markdown table.
func costModelTable(folder: String, threads: Int, repetitions: Int, selectjob: String) throws -> String {
    let base = (n: 50_000, k: 500, d: 384)
    let sizes = [(100_000 / 4, base.k, base.d), base, (100_000, base.k, base.d),
                 (base.n, 250, base.d), (base.n, 1_000, base.d), (base.n, base.k, 128), (base.n, base.k, 768)]
    var lines = ["| N | K | d | set-up + final step (0 iterations) | per iteration | dense sgemm per iteration (GFLOP/s) | one pass over the features (GB/s) | per iteration ÷ one pass |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (n, k, d) in sizes {
        let pool = folder + "/cost-\(n)-\(d).h5"
        if !FileManager.default.fileExists(atPath: pool) {
            try demoFeatures(selectjob, path: pool, rows: n, dimensions: d, classes: 10, subclusters: 5, seed: 1)
        }
        var seconds: [Int: Double] = [:]
        for iterations in [0, 300] {
            let job = try writeJob(folder: folder, name: "cost-\(n)-\(k)-\(d)-\(iterations)", pool: pool,
                                   method: "\"name\": \"activeft\", \"iterations\": \(iterations)", budget: k)
            seconds[iterations] = try timeRun(selectjob, job: job, threads: threads, repetitions: repetitions).0
        }
        let perIteration = (seconds[300]! - seconds[0]!) / 300
        let floor = machineFloor(rows: n, columns: d, centroids: k, threads: threads)
        let dense = 2 * Double(n * k * d) / floor.gflops / 1e9
        let pass = Double(n * d * 4) / floor.gigabytesPerSecond / 1e9
        let line = String(format: "| %d | %d | %d | %.2f s | %.1f ms | %.1f ms (%.0f) | %.2f ms (%.1f) | %.0f× |",
                          n, k, d, seconds[0]!, perIteration * 1000, dense * 1000, floor.gflops, pass * 1000,
                          floor.gigabytesPerSecond, perIteration / pass)
        emit(line)
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}

/// Loading 1,281,167 × 384 features stored as gzip-4 float32 chunks and as float16 (converted chunk
/// by chunk): `selectjob run` of a random selection (K = 1 %), load, checks and commit.
func loadRows(folder: String, rows: Int, threads: Int, repetitions: Int, selectjob: String,
              row: (String, (Double, Double, Int)) -> Void) throws {
    for storage in ["float32", "float16"] {
        let pool = try demoFeatures(selectjob, path: folder + "/load-\(storage).h5", rows: rows, dimensions: 384,
                                    classes: 1000, subclusters: 2, seed: 3, storage: storage)
        let job = try writeJob(folder: folder, name: "load-\(storage)", pool: pool, method: "\"name\": \"random\"",
                               budget: rows / 100)
        row("`selectjob run`, `random` K = 1 %, \(rows) × 384 stored as \(storage) (gzip-4, 1,024-row chunks): load, checks, commit (\(String(format: "%.2f", Double(rows * 384 * 4) / 1e9)) GB as float32)",
            try timeRun(selectjob, job: job, threads: threads, repetitions: repetitions))
        try? FileManager.default.removeItem(atPath: pool)
    }
}

/// VTL and undirected VTL on a `rows` × 384 pool (1,000 targets from the same mixture for VTL), with
/// 100 and 300 picks: a pick costs (t₃₀₀ − t₁₀₀)/200; peak memory beside the float32 features' bytes.
func vtlScaleRows(folder: String, rows: Int, threads: Int, selectjob: String,
                  row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let pool = try demoFeatures(selectjob, path: folder + "/vtl-pool.h5", rows: rows, dimensions: 384,
                                classes: 100, subclusters: 10, seed: 4)
    let targets = try demoFeatures(selectjob, path: folder + "/vtl-targets.h5", rows: 1_000, dimensions: 384,
                                   classes: 100, subclusters: 10, seed: 5)
    var sentences: [String] = []
    for (label, method) in [("VTL, 1,000 targets", "\"name\": \"vtl\", \"targets\": {\"path\": \"\(targets)\", \"dataset\": \"features\"}"),
                            ("undirected VTL", "\"name\": \"vtl\"")] {
        var measured: [Int: (Double, Double, Int)] = [:]
        for picks in [100, 300] {
            let job = try writeJob(folder: folder, name: "vtl-\(picks)-\(label.count)", pool: pool, method: method, budget: picks)
            measured[picks] = try timeRun(selectjob, job: job, threads: threads, repetitions: 1)
            row("`selectjob run`, \(label), \(rows) × 384, \(picks) picks", measured[picks]!)
        }
        let perPick = (measured[300]!.0 - measured[100]!.0) / 200
        sentences.append(String(format: "%@: %.0f ms per pick, so K = 5,000 ≈ %.0f min; peak %.2f GB", label, perPick * 1000,
                                (measured[100]!.0 + 4_900 * perPick) / 60, max(measured[100]!.1, measured[300]!.1) * 1_048_576 / 1e9))
    }
    return "VTL at \(rows) × 384 (features \(String(format: "%.2f", Double(rows * 384 * 4) / 1e9)) GB as float32): "
        + sentences.joined(separator: "; ") + "."
}

/// The cost model, the 1.28 M-row load rows and the VTL rows as one markdown section (rows of the
/// main table go through `row`).
func scaleSection(folder: String, threads: Int, repetitions: Int, selectjob: String, costModel withCostModel: Bool,
                  loadRowCount: Int, vtlRowCount: Int, row: (String, (Double, Double, Int)) -> Void) throws -> String {
    let scaleFolder = folder + "/scale"
    try FileManager.default.createDirectory(atPath: scaleFolder, withIntermediateDirectories: true)
    let costModel = withCostModel
        ? try costModelTable(folder: scaleFolder, threads: threads, repetitions: min(repetitions, 3), selectjob: selectjob)
        : "(cost model not measured in this run: `--no-cost-model`)"
    if loadRowCount > 0 {
        try loadRows(folder: scaleFolder, rows: loadRowCount, threads: threads, repetitions: min(repetitions, 3),
                     selectjob: selectjob, row: row)
    }
    let vtl = vtlRowCount > 0 ? try vtlScaleRows(folder: scaleFolder, rows: vtlRowCount, threads: threads,
                                                 selectjob: selectjob, row: row) : ""
    return """
        **ActiveFT's cost model.** Per iteration, measured as (t₃₀₀ − t₀)/300 of two `selectjob run`s
        (medians of 3; the average over the 300 iterations: the first ones, while the centroids move
        fast, cost several times the later ones), at three sizes of N, of K and of d, the others at 50,000, 500 and 384; beside it
        the machine's floor on the same threads: a dense N×K×d sgemm (what an implementation without
        pruning computes every iteration, at the GFLOP/s measured here) and one pass over the
        features (a dot product per row by sgemv, at the GB/s measured here: the least an exact iteration touches).

        \(costModel)

        \(vtl)
        """
}
