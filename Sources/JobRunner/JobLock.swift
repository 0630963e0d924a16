import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock that lets one `selectjob run` of a job run at a time: `flock` on a lock file
/// beside the database (never on the database itself), holding the owner's process id.
///
/// The kernel releases the lock when its process dies, however it dies, so a lock that can be taken
/// proves that no process is running the job — which is how crashed runs are recognised.
public final class JobLock {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The lock file of `job` for `database`: `DATABASE.JOB.lock` in the database's folder.
    public static func path(database: String, job: String) -> String { "\(database).\(job).lock" }

    /// Takes the lock, waiting up to `wait` seconds (0: fail at once) for another holder to finish.
    public static func acquire(database: String, job: String, wait: TimeInterval) throws(RunError) -> JobLock {
        let path = path(database: database, job: job)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .store(.cannotOpen(database: database, reason: "cannot create lock file \(path): \(String(cString: strerror(errno)))"))
        }
        let deadline = Date().addingTimeInterval(wait)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                close(descriptor)
                throw .locked(job: job, lockFile: path, holder: holder.flatMap { $0.isEmpty ? nil : $0 })
            }
            usleep(50_000)
        }
        let pid = "\(getpid())\n"
        ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return JobLock(path: path, descriptor: descriptor)
    }

    /// Whether some process holds the lock of `job` now (without taking it for long).
    public static func isHeld(database: String, job: String) -> Bool {
        let descriptor = open(path(database: database, job: job), O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }
}
