/// Entropy sampling: the samples whose predicted distribution has the most entropy,
/// scored −Σ pᵢ log₂ pᵢ / log₂ C (Munro, `entropy_based` in rmunro/pytorch_active_learning; the
/// `activeft` package's `MaxEntropy`). O(N·C + N log K).
public enum EntropySampling: UncertaintyMethod {
    public typealias Parameters = NoParameters
    public static let name = "entropy"
    public static let summary = "The samples whose predicted class distribution has the highest entropy."
    public static let reference = "Munro, \"Human-in-the-Loop Machine Learning\", Manning 2021, ch. 3 (rmunro/pytorch_active_learning, entropy_based)"
    public static let measure = UncertaintySampling.Measure.entropy
}
