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

    /// What a run's `filter`, `dedup` and `balance` did, from its recorded parameters, as one line
    /// ("1967 of 3000 samples were candidates: filter split kept 2000; dedup ≥ 0.99 dropped 33 …");
    /// nil for a run without them. O(groups).
    public static func curationLine(paramsJSON: String, poolSize: Int) -> String? {
        guard let params = try? JSONSerialization.jsonObject(with: Data(paramsJSON.utf8)) as? [String: Any],
              let curation = params["curation"] as? [String: Any] else { return nil }
        var parts: [String] = []
        if let filter = curation["filter"] as? [String: Any], let dataset = filter["dataset"] as? String {
            let values = (filter["values"] as? [String] ?? []).joined(separator: ", ")
            parts.append("filter \(dataset) in {\(values)} kept \(filter["kept"] as? Int ?? 0)")
        }
        if let dedup = curation["dedup"] as? [String: Any], let threshold = dedup["threshold"] as? Double {
            parts.append("dedup at cosine ≥ \(String(format: "%g", threshold)) dropped \(dedup["dropped"] as? Int ?? 0) (table dropped_duplicates)")
        }
        if let balance = curation["balance"] as? [String: Any], let by = balance["by"] as? String {
            let alpha = String(format: "%g", balance["alpha"] as? Double ?? 1)
            var text = "balance by \(by == "metadata" ? balance["dataset"] as? String ?? by : by) (alpha \(alpha))"
            if let quotas = balance["quotas"] as? [String: Int], let available = balance["available"] as? [String: Int] {
                let names = quotas.keys.sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }
                text += ": " + names.map { "\($0) \(quotas[$0]!)/\(available[$0] ?? 0)" }.joined(separator: ", ")
            }
            parts.append(text)
        }
        let candidates = (curation["candidates"] as? Int).map { "\($0) of \(poolSize) samples were candidates" }
        return ([candidates].compactMap { $0 } + parts).joined(separator: "; ")
    }
}
