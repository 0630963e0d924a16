import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a request to stop that a run polls, so it can record itself as
/// 'cancelled' and exit with 130 or 143 instead of dying mid-write.
final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.record(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func record(_ number: Int32) {
        lock.lock()
        if received == nil { received = number }
        lock.unlock()
    }

    /// The first stop signal received, if any.
    var current: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
