/// A pool as the round methods see it: its unit rows, the probe fitted to the labelled samples and
/// their classes, and the rows not yet labelled.
///
/// The one place `dropquery`, `badge`, `cluster_margin`, balance by predicted class and the
/// uncertainty methods (without predictions) fit their probe: ``LogisticRegression/probe(_:rows:classes:c:threads:)``
/// with C = `c`. O(N·d) for the unit rows, plus the fit.
struct ProbedPool {
    let unit: FeatureMatrix
    let model: LogisticRegression
    /// Pool rows not labelled, ascending.
    let unlabelled: [Int]

    /// Fits the probe for `method` (named in the error when the labelled samples have no classes).
    init(_ problem: SelectionProblem, c: Double, method: String, threads: Int) throws(SelectionError) {
        guard let classes = problem.labelledClasses else { throw .needsLabelledSamples(method: method, withClasses: true) }
        unit = problem.pool.normalizedRows()
        model = try LogisticRegression.probe(unit, rows: problem.labelled, classes: classes, c: c, threads: threads)
        let isLabelled = problem.isLabelled
        unlabelled = (0..<unit.rows).filter { !isLabelled[$0] }
    }

    /// The probe's class probabilities for the unlabelled rows (rows × classes). O(N·d·C).
    var unlabelledProbabilities: [Double] { model.probabilities(unit, rows: unlabelled) }
}

extension ProblemShape {
    /// Round methods that fit a probe need labelled samples with their classes.
    func checkLabelledClasses(method: String) throws(SelectionError) {
        guard labelledClassesKnown else { throw .needsLabelledSamples(method: method, withClasses: true) }
    }
}

extension Parameter {
    /// `probe_c`: C of the probe a round method fits (``ProbedPool``), declared once for all of them.
    static func probeC(_ path: WritableKeyPath<Root, Double>) -> Parameter {
        .number("probe_c", path, above: 0, atMost: 1e6,
                help: "C, the probe's inverse L2 regularisation (its logistic regression on the labelled samples).")
    }
}
