/// One selected sample: its 0-based pool row and the method's score for it.
public struct Pick: Sendable, Equatable {
    public let row: Int
    public let score: Double
    public init(row: Int, score: Double) {
        self.row = row
        self.score = score
    }
}

/// What a selection method returns: the picks in rank order and the curve it followed.
public struct SelectionResult: Sendable {
    /// Picks in rank order (rank 0 first).
    public let picks: [Pick]
    /// Name of the per-step curve, e.g. "loss" for ActiveFT.
    public let curveName: String
    /// The curve's value at each step.
    public let curve: [Double]
    /// Rows that seeded the method (ActiveFT's initial centroids), for reproducing the run.
    public let initialRows: [Int]
    /// What the method reports about how its selection came about, by name (recorded with the run).
    public var notes: [String: Double] = [:]

    public init(picks: [Pick], curveName: String, curve: [Double], initialRows: [Int], notes: [String: Double] = [:]) {
        self.picks = picks
        self.curveName = curveName
        self.curve = curve
        self.initialRows = initialRows
        self.notes = notes
    }

    /// The first non-finite score or curve value, described ("score inf at rank 3"), or nil when every
    /// number is finite: what must never be recorded (JSON and the report cannot show it). O(K + steps).
    public var firstNonFinite: String? {
        if let rank = picks.firstIndex(where: { !$0.score.isFinite }) { return "score \(picks[rank].score) at rank \(rank)" }
        if let step = curve.firstIndex(where: { !$0.isFinite }) { return "\(curveName) \(curve[step]) at step \(step)" }
        return nil
    }
}

/// Progress of a running method: `step` of `total` done, and the curve's latest value.
public struct SelectionProgress: Sendable {
    public let step: Int
    public let total: Int
    public let value: Double
}

/// A method's precondition that the caller did not meet; each message names the parameter and value.
public enum SelectionError: Error, Equatable, Sendable, CustomStringConvertible {
    case budgetOutOfRange(budget: Int, poolSize: Int)
    case initialRowsCount(given: Int, budget: Int)
    case initialRowOutOfRange(row: Int, poolSize: Int)
    case duplicateInitialRow(row: Int)
    case batchSizeOutOfRange(batchSize: Int, poolSize: Int)
    case emptyPool
    case targetWidthMismatch(poolWidth: Int, targetWidth: Int)
    case noiseVarianceOutOfRange(Double)
    case budgetExceedsPrefilter(budget: Int, prefilter: Int)
    /// The budget is more than the samples not yet labelled.
    case budgetExceedsUnlabelled(budget: Int, unlabelled: Int, labelled: Int)
    /// A parameter that needs a named input the job did not give.
    case needsInput(parameter: String, input: String, reason: String)
    /// A method that builds on samples labelled in earlier rounds (`withClasses`: and on their class
    /// labels) was given none.
    case needsLabelledSamples(method: String, withClasses: Bool)
    /// A required named input is missing.
    case missingInput(String)
    /// A parameter's value does not fit this pool (e.g. too many neighbours for its clusters).
    case parameterOutOfRange(parameter: String, value: String, reason: String)
    /// Fewer samples may be picked than the budget, once `after` (the filter, the dedup) removed some.
    case fewerCandidatesThanBudget(budget: Int, candidates: Int, after: String)
    /// `shouldStop` asked the method to stop.
    case cancelled
    /// The method, with these parameters, cannot run on a pool split over several processes.
    case notDistributable(method: String, processes: Int, reason: String)

    public var description: String {
        switch self {
        case let .notDistributable(method, processes, reason):
            return "method '\(method)' cannot run on \(processes) processes: \(reason)"
        case let .budgetOutOfRange(budget, poolSize):
            return "budget \(budget) is outside 1...\(poolSize) (the pool has \(poolSize) samples)"
        case let .initialRowsCount(given, budget):
            return "\(given) initial rows were given but the budget is \(budget) (one per centroid)"
        case let .initialRowOutOfRange(row, poolSize):
            return "initial row \(row) is outside the pool's rows 0..<\(poolSize)"
        case let .duplicateInitialRow(row):
            return "initial row \(row) is given more than once"
        case let .batchSizeOutOfRange(batchSize, poolSize):
            return "batch_size \(batchSize) is outside 1...\(poolSize)"
        case .emptyPool:
            return "the pool is empty"
        case let .targetWidthMismatch(poolWidth, targetWidth):
            return "the targets have \(targetWidth) features per row but the pool has \(poolWidth)"
        case let .noiseVarianceOutOfRange(value):
            return "noise_variance must be a finite number > 0, got \(value)"
        case let .budgetExceedsPrefilter(budget, prefilter):
            return "budget \(budget) is larger than prefilter.k \(prefilter) (the samples kept for selection)"
        case let .budgetExceedsUnlabelled(budget, unlabelled, labelled):
            return "budget \(budget) is more than the \(unlabelled) samples not yet labelled (\(labelled) of the pool are labelled)"
        case let .needsInput(parameter, input, reason):
            return "\(parameter) needs \(input) (\(reason))"
        case let .needsLabelledSamples(method, withClasses):
            return "\(method) needs samples labelled in earlier rounds" + (withClasses ? ", with their class labels" : "")
        case let .missingInput(input):
            return "the method needs \(input), which was not given"
        case let .parameterOutOfRange(parameter, value, reason):
            return "\(parameter) \(value) \(reason)"
        case let .fewerCandidatesThanBudget(budget, candidates, after):
            return "budget \(budget) is more than the \(candidates) samples left to pick from after \(after)"
        case .cancelled:
            return "cancelled"
        }
    }
}
