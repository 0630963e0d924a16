import Foundation

/// A moving estimate of the time left: the rate over the last `window` seconds of progress reports,
/// none until that rate means something.
///
/// A whole-run average is misled by a slow start (set-up, the first full comparisons) — it once
/// promised 2,168 s for a 22 s run; the recent rate follows what the method does now.
public struct ProgressEstimate: Sendable {
    /// Seconds of reports the rate is taken over.
    public let window: TimeInterval
    /// No estimate before this many seconds of reports.
    public let minimumSpan: TimeInterval
    private var samples: [(time: TimeInterval, step: Int)] = []

    public init(window: TimeInterval = 10, minimumSpan: TimeInterval = 1) {
        self.window = window
        self.minimumSpan = minimumSpan
    }

    /// Records that `step` steps were done at `time` seconds.
    public mutating func record(step: Int, at time: TimeInterval) {
        samples.append((time, step))
        while let first = samples.first, time - first.time > window, samples.count > 2 { samples.removeFirst() }
    }

    /// Seconds left to reach `total` steps at the recent rate; nil while there is no meaningful rate.
    public func secondsLeft(total: Int) -> TimeInterval? {
        guard let first = samples.first, let last = samples.last else { return nil }
        let span = last.time - first.time, steps = last.step - first.step
        guard span >= minimumSpan, steps > 0 else { return nil }
        return Double(max(0, total - last.step)) * span / Double(steps)
    }
}
