/// What a job may ask around any method: which samples may be picked (a filter), near-duplicates
/// dropped before selection, and quotas per group (balance).
///
/// The labelled samples stay in every problem the method sees (methods build on them; they are never
/// picked); only the samples it may pick are restricted. With balance the method runs once per group,
/// on the labelled samples and that group's candidates, with the group's quota as budget, the groups
/// in order, all from the one seeded generator; the picks are ranked round-robin over the groups (each
/// group's first pick, then each group's second…), and the curve is each group's curve in turn.
/// Cost: the method's, once per group, plus a copy of the rows each group's problem holds, plus
/// ``NearDuplicates`` with dedup.
public struct Curation: Sendable {
    /// How samples are put in groups for balance.
    public enum Groups: Sendable {
        /// A group index per pool row, and the groups' names (by index).
        case given(index: [Int], names: [String])
        /// By the class the probe (logistic regression with this C on the labelled samples and their
        /// classes) predicts for each sample.
        case predicted(probeC: Double)
    }

    /// Quotas per group: proportional to group size^alpha (``GroupQuotas``).
    public struct Balance: Sendable {
        public var groups: Groups
        public var alpha: Double
        public init(groups: Groups, alpha: Double) {
            self.groups = groups
            self.alpha = alpha
        }
    }

    /// Per pool row, whether it may be picked (the filter); nil: every row.
    public var candidates: [Bool]?
    /// Cosine similarity at or above which two samples are near-duplicates; nil: no dedup.
    public var dedupThreshold: Double?
    public var balance: Balance?

    public init(candidates: [Bool]? = nil, dedupThreshold: Double? = nil, balance: Balance? = nil) {
        self.candidates = candidates
        self.dedupThreshold = dedupThreshold
        self.balance = balance
    }

    /// Nothing asked: the method runs on the problem as it is.
    public var isEmpty: Bool { candidates == nil && dedupThreshold == nil && balance == nil }
}

/// A group's share of a balanced selection.
public struct GroupQuota: Sendable, Equatable {
    public let name: String
    /// Candidates in the group (after the filter and dedup).
    public let available: Int
    public let quota: Int
}

/// A selection with what the curation did on the way.
public struct CuratedSelection: Sendable {
    public let result: SelectionResult
    /// The candidates the method chose from (after the filter and dedup).
    public let candidateCount: Int
    /// With dedup: the samples dropped as near-duplicates.
    public let duplicates: NearDuplicates?
    /// With balance: each group's quota, in group order.
    public let quotas: [GroupQuota]
}

extension Curation {
    /// Selects `problem.budget` samples with `method` under this curation. The method's own checks
    /// run on each problem it is given. Throws ``SelectionError/fewerCandidatesThanBudget(budget:candidates:after:)``
    /// when the filter and dedup leave fewer candidates than the budget.
    public func select(_ problem: SelectionProblem, method: ConfiguredMethod, context: inout SelectionContext)
        throws(SelectionError) -> CuratedSelection {
        if let parameter = method.poolRowParameter {
            throw .parameterOutOfRange(parameter: parameter, value: "rows",
                                       reason: "names pool rows, which a filter, dedup or balance renumbers; leave it out")
        }
        let n = problem.pool.rows, isLabelled = problem.isLabelled
        var eligible = (0..<n).filter { !isLabelled[$0] && (candidates?[$0] ?? true) }
        var duplicates: NearDuplicates?
        if let threshold = dedupThreshold {
            let rows = (problem.labelled + eligible).sorted()
            let found = NearDuplicates.find(in: problem.pool, rows: rows, labelled: problem.labelled, threshold: threshold,
                                            threads: context.threads)
            let dropped = Set(found.dropped.map(\.row))
            eligible.removeAll { dropped.contains($0) }
            duplicates = found
            try context.checkStop()
        }
        guard eligible.count >= problem.budget else {
            let stages = [candidates != nil ? "the filter" : nil, dedupThreshold != nil ? "dedup" : nil].compactMap { $0 }
            throw .fewerCandidatesThanBudget(budget: problem.budget, candidates: eligible.count,
                                             after: stages.isEmpty ? "the labelled samples" : stages.joined(separator: " and "))
        }
        // The groups, each with its candidates (ascending rows) and quota.
        var groups: [(name: String, rows: [Int])] = [("all", eligible)]
        var quotas: [GroupQuota] = []
        if let balance {
            let index: [Int], names: [String]
            switch balance.groups {
            case let .given(given, givenNames): (index, names) = (given, givenNames)
            case let .predicted(probeC): (index, names) = try predictedClasses(problem, rows: eligible, c: probeC, threads: context.threads)
            }
            var members = [[Int]](repeating: [], count: names.count)
            for row in eligible { members[index[row]].append(row) }
            groups = zip(names, members).filter { !$0.1.isEmpty }.map { (name: $0.0, rows: $0.1) }
            let shares = GroupQuotas.quotas(sizes: groups.map(\.rows.count), budget: problem.budget, alpha: balance.alpha)
            quotas = zip(groups, shares).map { GroupQuota(name: $0.0.name, available: $0.0.rows.count, quota: $0.1) }
        }
        var perGroup: [SelectionResult] = []
        for (position, group) in groups.enumerated() {
            let budget = balance == nil ? problem.budget : quotas[position].quota
            guard budget > 0 else { continue }
            let rows = problem.labelled + group.rows
            let sub = problem.restricted(to: rows, budget: budget, alignedInputs: method.alignedInputs)
            let result = try method.select(sub, &context)
            perGroup.append(SelectionResult(picks: result.picks.map { Pick(row: rows[$0.row], score: $0.score) },
                                            curveName: result.curveName, curve: result.curve,
                                            initialRows: result.initialRows.map { rows[$0] },
                                            notes: groups.count == 1 ? result.notes : [:]))
            try context.checkStop()
        }
        let longest = perGroup.map(\.picks.count).max() ?? 0
        let picks = (0..<longest).flatMap { rank in perGroup.compactMap { rank < $0.picks.count ? $0.picks[rank] : nil } }
        let result = SelectionResult(picks: picks, curveName: perGroup.first?.curveName ?? "", curve: perGroup.flatMap(\.curve),
                                     initialRows: perGroup.flatMap(\.initialRows),
                                     notes: perGroup.count == 1 ? perGroup[0].notes : [:])
        return CuratedSelection(result: result, candidateCount: eligible.count, duplicates: duplicates, quotas: quotas)
    }

    /// Each of `rows`' class as the probe predicts it, as group indices into the class names (the
    /// labelled classes, sorted). O(probe fit + rows·d·C).
    private func predictedClasses(_ problem: SelectionProblem, rows: [Int], c: Double, threads: Int)
        throws(SelectionError) -> (index: [Int], names: [String]) {
        let probed = try ProbedPool(problem, c: c, method: "balance by predicted class", threads: threads)
        let names = Array(Set(problem.labelledClasses!)).sorted()
        let p = probed.model.probabilities(probed.unit, rows: rows), k = probed.model.classes
        var index = [Int](repeating: 0, count: problem.pool.rows)
        for (i, row) in rows.enumerated() {
            var best = 0
            for j in 1..<k where p[i * k + j] > p[i * k + best] { best = j }
            index[row] = best
        }
        return (index, names.map { String($0) })
    }
}

extension SelectionProblem {
    /// The problem on `rows` of the pool only (the labelled rows first, then candidates): the labelled
    /// rows become 0..<L with their classes, each input in `alignedInputs` (one row per pool row) keeps
    /// the same rows, the other inputs are unchanged. O(rows·d).
    func restricted(to rows: [Int], budget: Int, alignedInputs: Set<String>) -> SelectionProblem {
        var inputs = self.inputs
        for name in alignedInputs { inputs[name] = inputs[name]?.selecting(rows: rows) }
        return SelectionProblem(pool: pool.selecting(rows: rows), budget: budget, inputs: inputs,
                                labelled: Array(0..<labelled.count), labelledClasses: labelledClasses, outcomes: outcomes)
    }
}

extension ConfiguredMethod {
    /// The method's inputs with one row per pool row (predictions), which a restricted problem subsets.
    var alignedInputs: Set<String> { Set(method.inputs.filter { $0.kind == .predictions }.map(\.name)) }
}
