import Foundation
import Logging
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
        let eta = progress.step > 0 ? elapsed / Double(progress.step) * Double(progress.total - progress.step) : 0
        if isTerminal {
            guard done || now.timeIntervalSince(lastUpdate) >= 0.1 else { return }
            let width = 30
            let filled = progress.total > 0 ? width * progress.step / progress.total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "\r%@ %5d/%d  value %.5g  %5.1fs  ETA %5.1fs", bar, progress.step,
                              progress.total, progress.value, elapsed, eta)
            FileHandle.standardError.write(Data(line.utf8))
            drewBar = true
        } else {
            guard done || now.timeIntervalSince(lastUpdate) >= logInterval else { return }
            logger.info("progress", metadata: [
                "job": "\(job)", "step": "\(progress.step)/\(progress.total)",
                "value": "\(String(format: "%.6g", progress.value))",
                "elapsed_s": "\(String(format: "%.1f", elapsed))", "eta_s": "\(String(format: "%.1f", eta))",
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
