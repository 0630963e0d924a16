/// Margin sampling: the samples with the smallest gap between the two most probable classes,
/// scored 1 − (p₁ − p₂) (Munro, `margin_confidence` in rmunro/pytorch_active_learning; the `activeft`
/// package's `MinMargin`). O(N·C + N log K).
public enum MarginSampling: UncertaintyMethod {
    public typealias Parameters = NoParameters
    public static let name = "margin"
    public static let summary = "The samples with the smallest margin between the two most probable predicted classes."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 3 (rmunro/pytorch_active_learning, margin_confidence)"
    public static let measure = UncertaintySampling.Measure.margin
}
