/// A named input a method needs beyond the pool, which the job layer reads and fingerprints.
public struct MethodInput: Sendable, Equatable {
    /// What an input is.
    public enum Kind: Sendable, Equatable {
        /// A feature matrix with the pool's width (e.g. VTL's targets).
        case features
        /// One row per pool sample, aligned with the pool: a model's class probabilities (N × C,
        /// each row a distribution; the job layer checks them and turns logits into probabilities).
        case predictions
        /// Labelled samples outside the pool with the model's verdict on each: their features (the
        /// pool's width) and, in ``SelectionProblem/outcomes``, whether the model predicted each correctly.
        case validation
    }

    public let name: String
    public let kind: Kind
    public let required: Bool
    public let help: String

    public init(_ name: String, _ kind: Kind, required: Bool, help: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.help = help
    }
}

/// The sizes of a selection problem, known before any data is computed on: what `validate` checks.
public struct ProblemShape: Sendable, Equatable {
    public let poolSize: Int
    public let width: Int
    public let budget: Int
    /// Rows and columns of each named input given.
    public let inputs: [String: (rows: Int, columns: Int)]
    /// How many pool samples are already labelled (never selected again), and whether their class
    /// labels are known (``SelectionProblem/labelledClasses``).
    public let labelledCount: Int
    public let labelledClassesKnown: Bool

    public init(poolSize: Int, width: Int, budget: Int, inputs: [String: (rows: Int, columns: Int)] = [:],
                labelledCount: Int = 0, labelledClassesKnown: Bool = false) {
        self.poolSize = poolSize
        self.width = width
        self.budget = budget
        self.inputs = inputs
        self.labelledCount = labelledCount
        self.labelledClassesKnown = labelledClassesKnown
    }

    public static func == (a: ProblemShape, b: ProblemShape) -> Bool {
        a.poolSize == b.poolSize && a.width == b.width && a.budget == b.budget && a.labelledCount == b.labelledCount
            && a.labelledClassesKnown == b.labelledClassesKnown
            && a.inputs.mapValues { [$0.rows, $0.columns] } == b.inputs.mapValues { [$0.rows, $0.columns] }
    }

    /// The checks every method shares: a non-empty pool and a budget in 1...N − (labelled samples).
    public func checkPoolAndBudget() throws(SelectionError) {
        guard poolSize > 0 else { throw .emptyPool }
        guard budget >= 1, budget <= poolSize else { throw .budgetOutOfRange(budget: budget, poolSize: poolSize) }
        guard budget <= poolSize - labelledCount else {
            throw .budgetExceedsUnlabelled(budget: budget, unlabelled: poolSize - labelledCount, labelled: labelledCount)
        }
    }

    /// A `targets` input, when given, has the pool's width.
    public func checkTargetWidth() throws(SelectionError) {
        if let targets = inputs["targets"], targets.columns != width {
            throw .targetWidthMismatch(poolWidth: width, targetWidth: targets.columns)
        }
    }
}

/// What a method selects from: the pool, the budget K, the named inputs and the samples already labelled.
public struct SelectionProblem: Sendable {
    public let pool: FeatureMatrix
    public let budget: Int
    public let inputs: [String: FeatureMatrix]
    /// Pool rows already labelled by earlier rounds, distinct, in the order they were selected: never
    /// selected again; a method whose ``SelectionMethod/labelledUse`` is `.used` builds on them.
    public let labelled: [Int]
    /// The class label of each of `labelled`, in the same order, when the annotators' labels are
    /// known (round methods fit their probe on them); nil otherwise.
    public let labelledClasses: [Int64]?
    /// For each input of kind ``MethodInput/Kind/validation``: per row, whether the model predicted it correctly.
    public let outcomes: [String: [Bool]]
    /// Which rows of the whole pool `pool` holds: all of them, except in a distributed run, where
    /// `pool` is this process's block and row indices (`labelled`, picks) are still global.
    public let partition: RowPartition

    public init(pool: FeatureMatrix, budget: Int, inputs: [String: FeatureMatrix] = [:], labelled: [Int] = [],
                labelledClasses: [Int64]? = nil, outcomes: [String: [Bool]] = [:], partition: RowPartition? = nil) {
        precondition(labelledClasses.map { $0.count == labelled.count } ?? true, "one class per labelled row")
        self.pool = pool
        self.partition = partition ?? RowPartition(totalRows: pool.rows)
        self.budget = budget
        self.inputs = inputs
        self.labelled = labelled
        self.labelledClasses = labelledClasses
        self.outcomes = outcomes
    }

    public var shape: ProblemShape {
        ProblemShape(poolSize: partition.totalRows, width: pool.columns, budget: budget,
                     inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) }, labelledCount: labelled.count,
                     labelledClassesKnown: labelledClasses != nil)
    }

    /// A flag per pool row: true for the labelled rows. O(N).
    public var isLabelled: [Bool] {
        var flags = [Bool](repeating: false, count: pool.rows)
        for row in labelled { flags[row] = true }
        return flags
    }
}

/// What a method does with the samples earlier rounds labelled.
public enum LabelledUse: Sendable, Equatable {
    /// The method runs on the unlabelled samples alone, as if the labelled ones were not in the pool.
    case excluded
    /// The method never selects them and builds on them as the text says.
    case used(String)
    /// As `used`, and the method cannot run without them.
    case required(String)

    /// One sentence for `selectjob methods` and the README's method table.
    public var description: String {
        switch self {
        case .excluded: return "Runs on the unlabelled samples only; the labelled ones play no part."
        case let .used(text): return text
        case let .required(text): return "Required. " + text
        }
    }
}

/// How a method runs: its one source of randomness, its threads, and the caller's stop and progress hooks.
public struct SelectionContext {
    /// All randomness comes from here, seeded from the job's seed.
    public var generator: SeededGenerator
    /// Threads selectjob's own loops may use; results never depend on it.
    public let threads: Int
    /// Asked between steps; when it answers true the method throws ``SelectionError/cancelled``.
    public let shouldStop: () -> Bool
    /// Called after each step with the curve's latest value.
    public let progress: (SelectionProgress) -> Void
    /// The processes the pool is split over (``SelectionProblem/partition``); one, except under MPI.
    public let group: any ProcessGroup

    public init(seed: UInt64, threads: Int = ParallelChunks.processorCount,
                group: any ProcessGroup = SingleProcess(),
                shouldStop: @escaping () -> Bool = { false },
                progress: @escaping (SelectionProgress) -> Void = { _ in }) {
        generator = SeededGenerator(seed: seed)
        self.group = group
        self.threads = max(1, threads)
        self.shouldStop = shouldStop
        self.progress = progress
    }

    /// Throws ``SelectionError/cancelled`` when the caller asked to stop.
    public func checkStop() throws(SelectionError) {
        if shouldStop() { throw .cancelled }
    }
}

/// A selection method: a name for job files, its paper, its parameters and inputs, and `select`.
///
/// Every method is one type conforming to this protocol and listed once in ``MethodRegistry/all``;
/// the job parser, the runner, `selectjob methods`, the benchmarks and the schema test iterate that list.
public protocol SelectionMethod: Sendable {
    associatedtype Parameters: MethodParameters
    /// The name jobs use (`"method": {"name": ...}`) and runs record.
    static var name: String { get }
    /// One line: what the method does.
    static var summary: String { get }
    /// The paper or reference implementation it follows (authors, title, venue, year).
    static var reference: String { get }
    /// Inputs beyond the pool.
    static var inputs: [MethodInput] { get }
    /// What the method does with samples labelled in earlier rounds (``SelectionProblem/labelled``).
    static var labelledUse: LabelledUse { get }
    /// Whether the method, with these parameters, reads the pool only as L2-normalised rows. The
    /// runner then normalises its only copy of the pool in place (``FeatureMatrix/hasUnitRows``), so
    /// the method's own `normalizedRows()` costs no second copy of the features.
    static func usesUnitRows(_ parameters: Parameters) -> Bool
    /// Why the method, with these parameters, cannot run on a pool split over several processes
    /// (``SelectionProblem/partition``), or `nil` when it can: then its selection is the same, bit
    /// for bit, for any number of processes, through ``SelectionContext/group``.
    static func distributionObstacle(_ parameters: Parameters) -> String?
    /// The parameter that names rows of the pool (ActiveFT's explicit `init` rows, k-center's
    /// `first_row`), when these parameters give one: a problem restricted to some rows (a job's filter,
    /// dedup or balance) renumbers them, so such a run is refused. `nil` when none is given.
    static func poolRowParameter(_ parameters: Parameters) -> String?
    /// Checks the parameters against the problem's sizes before any work.
    static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError)
    /// Selects `problem.budget` rows of the pool, ranked, with scores and a curve.
    ///
    /// The problem is handed over: a method may declare the parameter `consuming` and, holding the
    /// only reference to the pool, rework it in place (``ActiveFT`` reorders its rows) without a copy.
    static func select(_ problem: consuming SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult
}

extension SelectionMethod {
    public static var inputs: [MethodInput] { [] }
    public static var labelledUse: LabelledUse { .excluded }
    public static func usesUnitRows(_ parameters: Parameters) -> Bool { false }
    public static func distributionObstacle(_ parameters: Parameters) -> String? {
        "it needs every row of the pool in one process"
    }
    public static func poolRowParameter(_ parameters: Parameters) -> String? { nil }

    /// The parameters jobs may give, with kinds, defaults and help.
    public static var parameterFields: [ParameterField] { Parameters.fields }

    /// Reads the parameters into a ready-to-run method. O(fields).
    public static func configure(_ members: [String: ParameterValue]) throws(ParameterError) -> ConfiguredMethod {
        let reader = try ParameterReader(members: members, fields: Parameters.fields)
        return ConfiguredMethod(method: Self.self, parameters: try Parameters(reader), effective: reader.effective)
    }

    /// The method with every default.
    public static var withDefaults: ConfiguredMethod { configured() }

    /// The method with these parameters.
    public static func configured(_ parameters: Parameters = Parameters()) -> ConfiguredMethod {
        var effective: [String: ParameterValue] = [:]
        for field in Parameters.fields { if let v = field.defaultValue { effective[field.name] = v } }
        return ConfiguredMethod(method: Self.self, parameters: parameters, effective: effective)
    }

    static func erasedUsesUnitRows(_ parameters: any MethodParameters) -> Bool {
        usesUnitRows(parameters as! Parameters)
    }

    static func erasedDistributionObstacle(_ parameters: any MethodParameters) -> String? {
        distributionObstacle(parameters as! Parameters)
    }

    static func erasedPoolRowParameter(_ parameters: any MethodParameters) -> String? {
        poolRowParameter(parameters as! Parameters)
    }

    static func erasedValidate(_ shape: ProblemShape, _ parameters: any MethodParameters) throws(SelectionError) {
        try validate(shape, parameters as! Parameters)
    }

    static func erasedSelect(_ problem: consuming SelectionProblem, _ parameters: any MethodParameters,
                             _ context: inout SelectionContext) throws(SelectionError) -> SelectionResult {
        try select(problem, parameters as! Parameters, &context)
    }
}

/// A method with its parameters read: what a job runs.
public struct ConfiguredMethod: Sendable {
    public let method: any SelectionMethod.Type
    public let parameters: any MethodParameters
    /// The parameters as given, every default filled in, keyed by field name: what a run records.
    public let effective: [String: ParameterValue]

    public var name: String { method.name }

    /// Whether the method reads the pool only as unit rows (``SelectionMethod/usesUnitRows(_:)``).
    public var usesUnitRows: Bool { method.erasedUsesUnitRows(parameters) }

    /// Why the method cannot run distributed with these parameters (``SelectionMethod/distributionObstacle(_:)``).
    public var distributionObstacle: String? { method.erasedDistributionObstacle(parameters) }

    /// The parameter naming pool rows these parameters give, if any (``SelectionMethod/poolRowParameter(_:)``).
    public var poolRowParameter: String? { method.erasedPoolRowParameter(parameters) }

    /// Throws ``SelectionError/notDistributable(method:processes:reason:)`` when `processes` > 1 and
    /// the method cannot run on a split pool.
    public func checkDistributable(processes: Int) throws(SelectionError) {
        if processes > 1, let reason = distributionObstacle {
            throw .notDistributable(method: name, processes: processes, reason: reason)
        }
    }

    public func validate(_ shape: ProblemShape) throws(SelectionError) {
        for input in method.inputs where input.required && shape.inputs[input.name] == nil {
            throw .missingInput(input.name)
        }
        try method.erasedValidate(shape, parameters)
        if case .required = method.labelledUse, shape.labelledCount == 0 {
            throw .needsLabelledSamples(method: method.name, withClasses: false)
        }
    }

    /// Selects `problem.budget` rows. A method that does not use labelled samples runs on the
    /// unlabelled rows (a copy of them, and of every per-row input) and its picks are mapped back to
    /// pool rows. O(N·d) for that copy, plus the method's own cost. The problem is handed over to the
    /// method (``SelectionMethod/select(_:_:_:)``): a caller that keeps no other reference to the pool
    /// lets the method work on it in place.
    public func select(_ problem: consuming SelectionProblem, _ context: inout SelectionContext) throws(SelectionError)
        -> SelectionResult {
        try validate(problem.shape)
        try checkDistributable(processes: problem.partition.size)
        guard !problem.labelled.isEmpty, method.labelledUse == .excluded else {
            return try method.erasedSelect(consume problem, parameters, &context)
        }
        let isLabelled = problem.isLabelled
        let rest = (0..<problem.pool.rows).filter { !isLabelled[$0] }
        var inputs = problem.inputs
        for input in method.inputs where input.kind == .predictions {
            inputs[input.name] = inputs[input.name]?.selecting(rows: rest)
        }
        let unlabelled = SelectionProblem(pool: problem.pool.selecting(rows: rest), budget: problem.budget, inputs: inputs,
                                          outcomes: problem.outcomes)
        let result = try method.erasedSelect(unlabelled, parameters, &context)
        return SelectionResult(picks: result.picks.map { Pick(row: rest[$0.row], score: $0.score) },
                               curveName: result.curveName, curve: result.curve,
                               initialRows: result.initialRows.map { rest[$0] })
    }
}
