import HeapModule

/// MaxHerding / facility location: greedily maximise the generalised coverage Σₓ max_{s∈S} k(x, s).
///
/// Bae, Noh & Sutherland, "Generalized Coverage for More Robust Low-Budget Active Learning", ECCV
/// 2024 (MaxHerding), which is greedy facility location (apricot's `FacilityLocationSelection`,
/// Schreiber et al., JMLR 2020). Kernel on L2-normalised features: `gaussian`
/// k(x, y) = exp(−‖x − y‖² / (2h²)) with h = `bandwidth`, or `cosine` k(x, y) = max(0, x·y). The
/// objective is monotone submodular, so gains only shrink and lazy greedy (Minoux 1978) is exact: the
/// stale gains sit in a max-heap and are refreshed, 32 at a time in one sgemm, until the best is fresh.
/// A pick's score is its gain, the curve the objective / N after each pick; ties go to the lower row.
/// Cost: O(N²·d) for the first gains (blocked sgemm), then O(N·d) per refreshed candidate; O(N) memory.
public enum Herding: SelectionMethod {
    public struct Parameters: MethodParameters {
        public enum Kernel: String, Sendable, CaseIterable { case gaussian, cosine }
        public var kernel: Kernel = .gaussian
        public var bandwidth = 0.5

        public init() {}
        public init(kernel: Kernel, bandwidth: Double) {
            self.kernel = kernel
            self.bandwidth = bandwidth
        }

        public static var parameters: [Parameter<Self>] {
            [.choice("kernel", \.kernel,
                     help: "gaussian: exp(−‖x − y‖²/(2h²)); cosine: max(0, x·y), on normalised features."),
             .number("bandwidth", \.bandwidth, above: 0, help: "h, the Gaussian kernel's bandwidth (unused by the cosine kernel).")]
        }

        /// k as a function of the similarity s = x·y of unit rows.
        func kernelValue(_ s: Float) -> Float {
            switch kernel {
            case .gaussian: return Float(Foundation.exp((Double(s) - 1) / (bandwidth * bandwidth)))
            case .cosine: return max(0, s)
            }
        }
    }

    public static let name = "herding"
    public static let summary = "Greedy facility location / MaxHerding: maximise Σₓ max over picks of a kernel k(x, pick)."
    public static let reference = "Bae, Noh & Sutherland, \"Generalized Coverage for More Robust Low-Budget Active Learning\", ECCV 2024; apricot's FacilityLocationSelection"

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
    }

    public static let labelledUse = LabelledUse.used(
        "Counts them as facilities already chosen: the objective starts from the coverage they give.")

    /// A candidate's gain as last computed, and after how many picks.
    struct Entry: Comparable {
        let gain: Double
        let row: Int
        let stamp: Int
        static func < (a: Entry, b: Entry) -> Bool { (a.gain, -a.row) < (b.gain, -b.row) }
        static func == (a: Entry, b: Entry) -> Bool { a.gain == b.gain && a.row == b.row }
    }

    public static func select(_ problem: SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        let unit = problem.pool.normalizedRows()
        let n = unit.rows
        var current = [Float](repeating: 0, count: n)
        // Labelled samples are facilities already open: every sample's coverage starts at its best
        // kernel value to them.
        for row in problem.labelled {
            try context.checkStop()
            let similarity = BlockedSimilarity.similarities(unit, to: unit.row(row), threads: context.threads)
            for i in 0..<n { current[i] = max(current[i], parameters.kernelValue(similarity[i])) }
        }
        // The first gains, from all pairs in blocks; a relative 1e-5 keeps them upper bounds of the
        // refreshed gains whatever the rounding of the two sgemm shapes.
        let first = gains(of: unit, against: unit, current: current, parameters: parameters, threads: context.threads)
        let isLabelled = problem.isLabelled
        var heap = Heap((0..<n).filter { !isLabelled[$0] }.map { Entry(gain: first[$0] * (1 + 1e-5) + 1e-9, row: $0, stamp: -1) })
        var picks: [Pick] = []
        var curve: [Double] = []
        var objective = current.reduce(0) { $0 + Double($1) }
        while picks.count < problem.budget {
            try context.checkStop()
            let top = heap.max!
            if top.stamp == picks.count {
                _ = heap.popMax()
                picks.append(Pick(row: top.row, score: top.gain))
                let similarity = BlockedSimilarity.similarities(unit, to: unit.row(top.row), threads: context.threads)
                for i in 0..<n { current[i] = max(current[i], parameters.kernelValue(similarity[i])) }
                objective += top.gain
                curve.append(objective / Double(n))
                context.progress(SelectionProgress(step: picks.count, total: problem.budget, value: curve.last!))
                continue
            }
            var stale: [Entry] = []
            while stale.count < 32, let entry = heap.max, entry.stamp != picks.count {
                stale.append(heap.popMax()!)
            }
            let rows = stale.map(\.row)
            let fresh = gains(of: unit.selecting(rows: rows), against: unit, current: current, parameters: parameters,
                              threads: context.threads)
            for (row, gain) in zip(rows, fresh) { heap.insert(Entry(gain: gain, row: row, stamp: picks.count)) }
        }
        return SelectionResult(picks: picks, curveName: "coverage", curve: curve, initialRows: [])
    }

    /// Σₓ max(0, k(x, c) − current(x)) for each row c of `candidates`, in double. O(rows·N·d).
    static func gains(of candidates: FeatureMatrix, against unit: FeatureMatrix, current: [Float],
                      parameters: Parameters, threads: Int) -> [Double] {
        BlockedSimilarity.rowwise(candidates, unit, threads: threads) { _, similarity in
            var total = 0.0
            for (x, s) in similarity.enumerated() {
                let gain = parameters.kernelValue(s) - current[x]
                if gain > 0 { total += Double(gain) }
            }
            return total
        }
    }
}

import Foundation
