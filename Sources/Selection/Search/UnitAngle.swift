import Foundation

/// Angles between unit vectors, rounded the safe way for bounds that follow centroids as they turn.
///
/// A sample at angle α from a centroid is at least α − Δ from it after the centroid turns by Δ
/// (the triangle inequality on the sphere), so a similarity bound u becomes cos(max(0, acos u − Δ)).
/// That grows by sin(acos u)·Δ for a small turn, where the plain bound u + δ (a move of δ changes a
/// unit sample's similarity by at most δ) grows by Δ: at the similarities near 0.97 of clustered
/// features, four to five times slower. Angles add, so bounds can be stored relative to a running
/// total of turns, as the linear ones were. O(1) each.
enum UnitAngle {
    /// A lower bound on acos(`similarity`), with the similarity taken as at least 0 (so the angle is
    /// at most π/2). Past π/2, a rounding error ε in the similarity would grow to ε/sin α in the bound
    /// after the centroid turns; at most π/2 it never grows, so the search's margin still absorbs it.
    @inline(__always) static func below(similarity: Float) -> Float {
        acos(min(1, max(0, similarity))).nextDown.nextDown
    }

    /// An upper bound on acos(`similarity`) (the similarity clamped to [−1, 1]).
    @inline(__always) static func above(similarity: Float) -> Float {
        acos(min(1, max(-1, similarity))).nextUp.nextUp
    }

    /// An upper bound on the angle between two unit vectors at distance `distance`: 2·asin(δ/2).
    static func turn(distance: Float) -> Float {
        Float(2 * asin(min(1, Double(distance) / 2))).nextUp
    }

    /// What a bound on the similarity of a group's centroids is stored as: a lower bound on their
    /// angle plus the group's total turn so far (`turned`), rounded down; +∞ for no centroid.
    @inline(__always) static func stored(similarity: Float, turned: Float) -> Float {
        similarity == -.infinity ? .infinity : (below(similarity: similarity) + turned).nextDown
    }
}
