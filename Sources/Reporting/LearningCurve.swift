import Foundation
import Store

extension Reports {
    /// `selectjob simulate`'s learning curve: per strategy and round, the labelled count and the
    /// probe's accuracy and macro-F1 on the test set, mean ± std over the seeds. O(records).
    public static func learningCurve(_ records: [SimulationRecord]) -> String {
        var lines: [String] = []
        for strategy in Array(Set(records.map(\.strategy))).sorted() {
            let mine = records.filter { $0.strategy == strategy }
            let seeds = Set(mine.map(\.seed)).sorted()
            lines.append("\(mine.first!.simulation): \(strategy), seeds \(seeds.map(String.init).joined(separator: ", "))")
            var rows: [[String]] = []
            for round in Array(Set(mine.map(\.round))).sorted() {
                let at = mine.filter { $0.round == round }
                let labelled = meanAndDeviation(at.map { Double($0.labelledCount) }).mean
                let accuracy = meanAndDeviation(at.map(\.accuracy)), f1 = meanAndDeviation(at.map(\.macroF1))
                rows.append([String(round), String(Int(labelled.rounded())),
                             String(format: "%.4f ± %.4f", accuracy.mean, accuracy.deviation),
                             String(format: "%.4f ± %.4f", f1.mean, f1.deviation),
                             at.map { String($0.runID) }.joined(separator: ", ")])
            }
            lines.append(table(header: ["round", "labelled", "accuracy", "macro-F1", "runs"], rows: rows,
                               rightAligned: [0, 1, 2, 3]))
        }
        return lines.joined(separator: "\n")
    }
}
