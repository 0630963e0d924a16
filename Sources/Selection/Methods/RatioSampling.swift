/// Ratio sampling: the samples whose second most probable class comes closest to the first,
/// scored p₂ / p₁ (Munro, `ratio_confidence` in rmunro/pytorch_active_learning). O(N·C + N log K).
public enum RatioSampling: UncertaintyMethod {
    public typealias Parameters = NoParameters
    public static let name = "ratio"
    public static let summary = "The samples with the largest ratio of the second to the first predicted probability."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 3 (rmunro/pytorch_active_learning, ratio_confidence)"
    public static let measure = UncertaintySampling.Measure.ratio
}
