import OpenBLAS
import FeatureIO
import Foundation
import HDF5
import Reporting
import Selection
import Store
import SyntheticData

/// The core table's cases, each measured in a child process of its own (`selectjob-bench case`).
struct Case {
    let name: String
    let what: String
    /// Steps per run (iterations or picks), for the per-step column; 0 when it does not apply.
    let steps: Int
    /// Floating-point operations per run of a dense computation, for GFLOP/s; 0 when it does not apply.
    let flops: Double
    let stepName: String
}

let pool = 50_000, width = 384, targetCount = 1_000

/// Parameters that differ from a method's defaults in its `method-…` case, and why.
/// ProbCover's default δ = 0.6 joins ~5,000 neighbours per sample on this tight synthetic mixture,
/// over its `max_edges` guard; δ = 0.3 keeps the graph near the size the method is meant for.
let benchOverrides: [String: [String: ParameterValue]] = ["probcover": ["delta": .number(0.3)]]

/// Methods that need labelled samples get the pool's first this many rows as labelled.
let benchLabelledRows = 500

/// The labelled rows a method's case gets: none, unless it cannot run without them.
func benchLabelled(_ method: any SelectionMethod.Type) -> [Int] {
    if case .required = method.labelledUse { return Array(0..<benchLabelledRows) }
    return []
}

func cases(rows n: Int, dimensions d: Int) -> [Case] {
    let N = Double(n), D = Double(d)
    return [
        Case(name: "hdf5-load", what: "HDF5 load of \(n) × \(d) float32 (gzip chunks), ids, labels, checks",
             steps: 0, flops: 0, stepName: ""),
        Case(name: "activeft-k500", what: "ActiveFT, K = \(n / 100) (1 %), 300 iterations",
             steps: 300, flops: 300 * 2 * N * Double(n / 100) * D, stepName: "iteration"),
        Case(name: "activeft-k1000", what: "ActiveFT, K = \(n / 50) (2 %), 300 iterations",
             steps: 300, flops: 300 * 2 * N * Double(n / 50) * D, stepName: "iteration"),
        Case(name: "vtl", what: "VTL, \(targetCount) targets, 500 picks",
             steps: 500, flops: 500 * 4 * N * D, stepName: "pick"),
        Case(name: "undirected-vtl", what: "undirected VTL, 500 picks",
             steps: 500, flops: 500 * 4 * N * D, stepName: "pick"),
    ] + MethodRegistry.all.map { method in
        Case(name: "method-\(method.name)",
             what: "`\(method.name)`, K = 500, "
                + (benchOverrides[method.name].map { "defaults but " + $0.map { "\($0.key) \($0.value.quoted)" }.sorted().joined(separator: ", ") }
                   ?? "the registry's defaults")
                + (method.inputs.contains(where: { $0.required && $0.kind == .predictions }) ? ", 10-class predictions"
                   : method.inputs.contains(where: { $0.required && $0.kind == .validation }) ? ", \(targetCount) validation samples (1 in 4 wrong)"
                   : method.inputs.contains(where: \.required) ? ", \(targetCount) targets"
                   : method.inputs.isEmpty ? "" : ", no targets (undirected)")
                + (benchLabelled(method).isEmpty ? "" : ", \(benchLabelledRows) labelled"),
             steps: 0, flops: 0, stepName: "")
    } + [
        Case(name: "sqlite-write", what: "SQLite: record a run with a 500-sample selection and 300 curve points",
             steps: 0, flops: 0, stepName: ""),
    ]
}

// MARK: - One measurement (child process)

func loadPool(_ folder: String) throws -> FeatureTable {
    try FeatureTable.load(FeatureSource(path: folder + "/pool.h5", dataset: "features", ids: "ids", labels: "labels"))
}

func matrix(_ table: FeatureTable) -> FeatureMatrix {
    FeatureMatrix(rows: table.rows, columns: table.columns, values: table.values)
}

func measure(_ name: String, folder: String, threads: Int) throws -> Double {
    func timed(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }
    switch name {
    case "hdf5-load":
        return try timed { _ = try loadPool(folder) }
    case "activeft-k500", "activeft-k1000":
        // Handed over as `selectjob run` does (the only reference), so ActiveFT reorders the rows in
        // place rather than in a copy of its own.
        var features: FeatureMatrix? = matrix(try loadPool(folder))
        let budget = features!.rows / (name == "activeft-k500" ? 100 : 50)
        var generator = SeededGenerator(seed: 0)
        return try timed {
            _ = try ActiveFT.select(features: features.take()!, budget: budget, parameters: ActiveFTParameters(),
                                    generator: &generator, threads: threads)
        }
    case "vtl", "undirected-vtl":
        let features = matrix(try loadPool(folder))
        let targets = name == "vtl"
            ? matrix(try FeatureTable.load(FeatureSource(path: folder + "/targets.h5", dataset: "features"))) : nil
        return try timed {
            _ = try VTL.select(pool: features, targets: targets, budget: 500, parameters: VTLParameters(), threads: threads)
        }
    case let registered where registered.hasPrefix("method-"):
        guard let method = MethodRegistry.method(named: String(registered.dropFirst("method-".count))) else {
            throw NSError(domain: "bench", code: 64, userInfo: [NSLocalizedDescriptionKey: "unknown case \(name)"])
        }
        // The pool's values move out of the table, so the problem holds the only reference to them.
        var table = try loadPool(folder)
        let poolLabels = table.labels
        let features = FeatureMatrix(rows: table.rows, columns: table.columns, values: table.takeValues())
        let configured = try method.configure(benchOverrides[method.name] ?? [:])
        // Required inputs: targets are the suite's 1,000 target rows, predictions a seeded softmax over
        // 10 classes per pool row; optional ones are left out.
        var inputs: [String: FeatureMatrix] = [:]
        var outcomes: [String: [Bool]] = [:]
        for input in method.inputs where input.required {
            switch input.kind {
            case .validation:
                let validation = matrix(try FeatureTable.load(FeatureSource(path: folder + "/targets.h5", dataset: "features")))
                inputs[input.name] = validation
                outcomes[input.name] = (0..<validation.rows).map { $0 % 4 != 0 }
            case .features:
                inputs[input.name] = matrix(try FeatureTable.load(FeatureSource(path: folder + "/targets.h5", dataset: "features")))
            case .predictions:
                var generator = SeededGenerator(seed: 7)
                var values = [Float](repeating: 0, count: features.rows * 10)
                for row in 0..<features.rows {
                    let logits = (0..<10).map { _ in Double(generator.next() >> 11) / Double(1 << 53) * 4 }
                    let total = logits.reduce(0) { $0 + exp($1) }
                    for c in 0..<10 { values[row * 10 + c] = Float(exp(logits[c]) / total) }
                }
                inputs[input.name] = FeatureMatrix(rows: features.rows, columns: 10, values: values)
            }
        }
        // Handed over with the only reference to the pool, as `selectjob run` does.
        var problem: SelectionProblem? = SelectionProblem(pool: consume features, budget: 500, inputs: inputs,
                                                          labelled: benchLabelled(method),
                                                          labelledClasses: poolLabels.map { labels in benchLabelled(method).map { labels[$0] } },
                                                          outcomes: outcomes)
        var context = SelectionContext(seed: 0, threads: threads)
        return try timed { _ = try configured.select(problem.take()!, &context) }
    case "sqlite-write":
        let path = folder + "/write-\(UUID().uuidString).sqlite"
        defer { ["", "-wal", "-shm"].forEach { unlink(path + $0) } }
        let store = try SelectionStore(path: path)
        return try timed {
            let run = try store.beginRun(NewRun(
                job: "bench", jobPath: "/bench.json", jobJSON: "{}", jobSHA256: "0", featuresPath: "/pool.h5",
                featuresFingerprint: "sha256:0", method: "activeft", paramsJSON: "{}", n: pool, d: width, budget: 500,
                seed: 0, toolVersion: "bench", startedAt: Date()))
            let selection = (0..<500).map {
                SelectedSample(runID: run, rank: $0, rowIndex: $0 * 97, sampleID: .integer(1_000_000 + Int64($0 * 97)),
                               score: 0.9, label: Int64($0 % 10))
            }
            let metrics = (0..<300).map { RunMetric(runID: run, step: $0, name: "loss", value: 1 / Double($0 + 1)) }
            try store.completeRun(id: run, selection: selection, metrics: metrics, paramsJSON: "{}", finishedAt: Date(),
                                  durationSeconds: 1)
        }
    default:
        throw NSError(domain: "bench", code: 64, userInfo: [NSLocalizedDescriptionKey: "unknown case \(name)"])
    }
}
