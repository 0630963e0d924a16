/// The budget-aware switch: TypiClust while the labels are few, DropQuery once each class seen has
/// enough of them.
///
/// Hacohen, Dekel & Weinshall, "Active Learning on a Budget: Opposite Strategies Suit High and Low
/// Budgets", ICML 2022: with few labels, typical samples (``TypiClust``) beat uncertain ones; with
/// more, uncertainty wins. The switch point here is `switch_per_class` labelled samples per class seen
/// among the labelled ones: below it the round runs ``TypiClust`` with its defaults, at or above it
/// ``DropQuery`` with its defaults and this `probe_c` — the uncertainty strategy `make quality
/// PART=paired` measured best in later rounds. The run's notes record which one ran
/// (`switched_to_uncertainty`: 0 or 1) and the labels per class that decided it.
///
/// Cost: that of the method it runs.
public enum TypiClustSwitch: SelectionMethod {
    public struct Parameters: MethodParameters {
        public var switchPerClass = 2.0
        public var probeC = 10.0

        public init() {}

        public static var parameters: [Parameter<Self>] {
            [.number("switch_per_class", \.switchPerClass, above: 0, atMost: 1e6,
                     help: "Labelled samples per class seen from which the round runs dropquery instead of typiclust."),
             .probeC(\.probeC)]
        }
    }

    public static let name = "typiclust_switch"
    public static let summary = "TypiClust while labels per class are few, then DropQuery: the budget-aware switch."
    public static let reference = "Hacohen, Dekel & Weinshall, \"Active Learning on a Budget: Opposite Strategies Suit High and Low Budgets\", ICML 2022"
    public static let labelledUse = LabelledUse.required(
        "Counts their labels per class to choose: typiclust below switch_per_class, dropquery (fitting its probe to them) from it on.")

    public static func validate(_ shape: ProblemShape, _ parameters: Parameters) throws(SelectionError) {
        try shape.checkPoolAndBudget()
        try shape.checkLabelledClasses(method: name)
    }

    /// Labelled samples per class seen among them.
    static func labelsPerClass(_ classes: [Int64]) -> Double {
        Double(classes.count) / Double(max(1, Set(classes).count))
    }

    public static func select(_ problem: consuming SelectionProblem, _ parameters: Parameters, _ context: inout SelectionContext)
        throws(SelectionError) -> SelectionResult {
        guard let classes = problem.labelledClasses else { throw .needsLabelledSamples(method: name, withClasses: true) }
        let perClass = labelsPerClass(classes)
        let uncertain = perClass >= parameters.switchPerClass
        var result: SelectionResult
        if uncertain {
            var dropQuery = DropQuery.Parameters()
            dropQuery.probeC = parameters.probeC
            result = try DropQuery.select(problem, dropQuery, &context)
        } else {
            result = try TypiClust.select(problem, TypiClust.Parameters(), &context)
        }
        result.notes["switched_to_uncertainty"] = uncertain ? 1 : 0
        result.notes["labels_per_class"] = perClass
        return result
    }
}
