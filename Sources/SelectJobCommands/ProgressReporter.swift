import Foundation
import Logging
import Reporting
import Selection

/// Shows a method's progress: a redrawn bar with ETA on a terminal, periodic log lines otherwise (cron).
final class ProgressReporter {
    private let job: String
    private let logger: Logger
    private let enabled: Bool
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private var lastUpdate = Date.distantPast
    private var drewBar = false
    private var estimate = ProgressEstimate()

    /// Seconds between log lines when stderr is not a terminal.
    private let logInterval: TimeInterval = 10

    init(job: String, logger: Logger, enabled: Bool) {
        self.job = job
        self.logger = logger
        self.enabled = enabled
    }

    func report(_ progress: SelectionProgress) {
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        let done = progress.step == progress.total
        estimate.record(step: progress.step, at: elapsed)
        let left = estimate.secondsLeft(total: progress.total)
        if isTerminal {
            guard done || now.timeIntervalSince(lastUpdate) >= 0.1 else { return }
            let width = 30
            let filled = progress.total > 0 ? min(width, width * progress.step / progress.total) : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let eta = done ? "done" : left.map { String(format: "ETA %.1fs", $0) } ?? "ETA –"
            // \r back to the start, ESC[K clears what a longer earlier line left; the last draw ends the line.
            let line = String(format: "\r%@ %5d/%d  value %.5g  %5.1fs  %@\u{1B}[K", bar, progress.step,
                              progress.total, progress.value, elapsed, eta) + (done ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
            drewBar = !done
        } else {
            guard done || now.timeIntervalSince(lastUpdate) >= logInterval else { return }
            logger.info("progress", metadata: [
                "job": "\(job)", "step": "\(progress.step)/\(progress.total)",
                "value": "\(String(format: "%.6g", progress.value))",
                "elapsed_s": "\(String(format: "%.1f", elapsed))", "eta_s": "\(left.map { String(format: "%.1f", $0) } ?? "-")",
            ])
        }
        lastUpdate = now
    }

    /// Ends the bar's line, if one was drawn.
    func finish() {
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
        drewBar = false
    }
}
