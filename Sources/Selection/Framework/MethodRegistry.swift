/// Every selection method selectjob offers, in the order `selectjob methods` lists them.
///
/// The one list of methods: the job parser, the runner, `selectjob methods`, the benchmarks and the
/// generated schema and docs all iterate it. Adding a method is a type conforming to ``SelectionMethod``
/// in `Methods/`, its tests, one line here, and `make generated` for the schema and the docs.
public enum MethodRegistry {
    public static let all: [any SelectionMethod.Type] = [
        RandomSampling.self,
        KCenterGreedy.self,
        KMeansSelection.self,
        TypiClust.self,
        ProbCover.self,
        Herding.self,
        ActiveFT.self,
        VTL.self,
        ITL.self,
        CTL.self,
        CosineSimilarity.self,
        LeastConfidence.self,
        MarginSampling.self,
        RatioSampling.self,
        EntropySampling.self,
        InformationDensity.self,
        ATLUncertainty.self,
        AdaptiveRepresentative.self,
        ATLAS.self,
        DropQuery.self,
        ClusterMargin.self,
        Badge.self,
        TypiClustSwitch.self,
    ]

    /// The method jobs call `name`, if any.
    public static func method(named name: String) -> (any SelectionMethod.Type)? {
        all.first { $0.name == name }
    }

    /// The job names of every method, in registry order.
    public static var names: [String] { all.map { $0.name } }
}
