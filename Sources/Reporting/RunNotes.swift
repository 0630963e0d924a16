import Foundation
import Store

/// A run's notes (`runs.notes_json`): what its method said about how the selection came about.
extension Reports {
    /// The share of picks that are still their initial rows above which a note says the optimisation
    /// barely moved the selection.
    static let unmovedShare = 0.5

    /// The notes of `notesJSON` by name; empty when there are none or the text is not an object of numbers.
    public static func notes(_ notesJSON: String?) -> [String: Double] {
        guard let text = notesJSON else { return [:] }
        return (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
    }

    /// The notes as one line for people ("186 of 200 picks are the rows the centroids started at; …"),
    /// nil without notes. O(notes).
    public static func notesLine(_ notesJSON: String?, budget: Int) -> String? {
        var notes = notes(notesJSON)
        guard !notes.isEmpty else { return nil }
        var parts: [String] = []
        if let unmoved = notes.removeValue(forKey: "picks_at_initial_rows") {
            parts.append("\(Int(unmoved)) of \(budget) picks are the rows the centroids started at")
            if unmoved > unmovedShare * Double(budget) {
                parts.append("the optimisation barely moved them (try \"init\": \"kmeans++\")")
            }
        }
        if let moved = notes.removeValue(forKey: "mean_centroid_movement") {
            parts.append(String(format: "centroids moved %.3g on average (unit vectors: 0 … 2)", moved))
        }
        parts += notes.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%g", $0.value))" }
        return parts.joined(separator: "; ")
    }
}
