/// Least-confidence sampling: the samples whose most probable class is least probable,
/// scored (1 − p₁) · C / (C − 1) (Munro, `least_confidence` in rmunro/pytorch_active_learning;
/// the `activeft` package's `LeastConfidence`). O(N·C + N log K).
public enum LeastConfidence: UncertaintyMethod {
    public typealias Parameters = NoParameters
    public static let name = "least_confidence"
    public static let summary = "The samples whose most probable predicted class is least probable."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 3 (rmunro/pytorch_active_learning, least_confidence)"
    public static let measure = UncertaintySampling.Measure.leastConfidence
}
