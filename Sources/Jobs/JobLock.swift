import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock that lets one `selectjob run` of a job run at a time: an open-file-description
/// lock (`F_OFD_SETLK`) on a lock file beside the database (never on the database itself), holding
/// the owner's process id.
///
/// The kernel releases the lock when its process dies, however it dies, so a lock that is free proves
/// that no process is running the job — which is how crashed runs are recognised. Whether it is held
/// is asked with `F_OFD_GETLK`, which never takes the lock, so asking cannot make a starting run fail.
/// The lock file is keyed on the database's real path (symbolic links and `..` resolved), so one
/// database reached by two paths has one lock per job. It is opened with `O_NOFOLLOW` and must be a
/// regular file with one link: a symbolic or hard link planted at its path is refused, never written.
public final class JobLock {
    /// The lock file.
    public let path: String
    private let descriptor: Int32
    /// Failures an earlier holder noted but could not record (``noteUnrecordedFailure(runID:reason:)``),
    /// read before this holder rewrote the file.
    public let inheritedFailures: [Int64: String]

    private init(path: String, descriptor: Int32, inheritedFailures: [Int64: String]) {
        self.path = path
        self.descriptor = descriptor
        self.inheritedFailures = inheritedFailures
    }

    deinit {
        _ = Self.lockRequest(descriptor, command: Self.setLock, type: Int16(F_UNLCK))
        close(descriptor)
    }

    // Linux's open-file-description lock commands (<fcntl.h> with _GNU_SOURCE).
    private static let getLock: Int32 = 36, setLock: Int32 = 37

    /// One fcntl lock request on the whole file; returns the request as the kernel left it, or nil on error.
    private static func lockRequest(_ descriptor: Int32, command: Int32, type: Int16) -> flock? {
        var request = flock()
        request.l_type = type
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0
        request.l_pid = 0
        return fcntl(descriptor, command, &request) == 0 ? request : nil
    }

    /// The lock file of `job` for `database`: `DATABASE.JOB.lock` beside the database's real path.
    public static func path(database: String, job: String) -> String { "\(realPath(of: database)).\(job).lock" }

    /// `path` with symbolic links and `.`/`..` resolved; for a file that does not exist yet, its
    /// folder's real path joined with its name.
    static func realPath(of path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        guard let resolved = realpath(folder, nil) else { return url.standardizedFileURL.path }
        defer { free(resolved) }
        return URL(fileURLWithPath: String(cString: resolved)).appendingPathComponent(url.lastPathComponent).path
    }

    /// The longest file name and path the file systems selectjob runs on accept (Linux's NAME_MAX, PATH_MAX).
    static let maximumNameBytes = 255, maximumPathBytes = 4096

    /// Checks that the lock file of `job` for `database` can exist: its name fits the file system's
    /// limit (a long job name beside a long database name does not), so `validate` finds what every
    /// `run` would fail on. O(length).
    public static func checkPath(database: String, job: String) throws(RunError) {
        let path = path(database: database, job: job)
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard name.utf8.count <= maximumNameBytes, path.utf8.count < maximumPathBytes else {
            throw .store(.cannotOpen(database: database, reason: "the job's lock file name \(name) is \(name.utf8.count) bytes, "
                                     + "longer than the file system's \(maximumNameBytes); shorten the job's name or the database's file name"))
        }
    }

    /// Opens the lock file without following a symbolic link, and checks it is a plain file of ours.
    private static func openLockFile(_ path: String, database: String, create: Bool) throws(RunError) -> Int32? {
        let descriptor = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0o644)
        guard descriptor >= 0 else {
            if errno == ENOENT, !create { return nil }
            let reason = errno == ELOOP ? "is a symbolic link; refusing to use it" : String(cString: strerror(errno))
            throw .store(.cannotOpen(database: database, reason: "lock file \(path) \(reason)"))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink == 1 else {
            close(descriptor)
            throw .store(.cannotOpen(database: database,
                                     reason: "lock file \(path) is not a plain file (a device, folder or hard link); refusing to use it"))
        }
        return descriptor
    }

    /// Takes the lock, waiting up to `wait` seconds (0: fail at once) for another holder to finish.
    /// `stopSignal` is asked while waiting: a signal ends the wait at once (``RunError/cancelled(signal:recorded:)``).
    public static func acquire(database: String, job: String, wait: TimeInterval,
                               stopSignal: () -> Int32? = { nil }) throws(RunError) -> JobLock {
        try checkPath(database: database, job: job)
        let path = path(database: database, job: job)
        let descriptor = try openLockFile(path, database: database, create: true)!
        let deadline = Date().addingTimeInterval(wait)
        while lockRequest(descriptor, command: setLock, type: Int16(F_WRLCK)) == nil {
            guard errno == EAGAIN || errno == EACCES || errno == EINTR, Date() < deadline else {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                close(descriptor)
                throw .locked(job: job, lockFile: path, holder: holder.flatMap { $0.isEmpty ? nil : $0 })
            }
            if let signal = stopSignal() {
                close(descriptor)
                throw .cancelled(signal: signal, recorded: false)
            }
            usleep(50_000)
        }
        // Ours now: only the holder of the lock rewrites the file, after reading what it noted.
        let inherited = failures(in: descriptor)
        let pid = "\(getpid())\n"
        ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return JobLock(path: path, descriptor: descriptor, inheritedFailures: inherited)
    }

    /// Notes in the lock file, after the holder's process id, that run `runID` failed for `reason`
    /// although the database could not record it (it stayed locked). Whoever next finds the run
    /// 'running' with the lock free records it as failed with this reason, not as crashed.
    public func noteUnrecordedFailure(runID: Int64, reason: String) {
        let line = "\(getpid())\nfailed run \(runID): \(reason.replacingOccurrences(of: "\n", with: " "))\n"
        ftruncate(descriptor, 0)
        _ = line.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    /// The failures noted in `job`'s lock file (``noteUnrecordedFailure(runID:reason:)``), by run id.
    public static func unrecordedFailures(database: String, job: String) -> [Int64: String] {
        let path = path(database: database, job: job)
        let opened: Int32?
        do { opened = try openLockFile(path, database: database, create: false) } catch { return [:] }
        guard let descriptor = opened else { return [:] }
        defer { close(descriptor) }
        return failures(in: descriptor)
    }

    /// The "failed run N: reason" lines of an open lock file.
    private static func failures(in descriptor: Int32) -> [Int64: String] {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return [:] }
        var notes: [Int64: String] = [:]
        for line in String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\n") where line.hasPrefix("failed run ") {
            let rest = line.dropFirst("failed run ".count)
            guard let colon = rest.firstIndex(of: ":"), let id = Int64(rest[..<colon]) else { continue }
            notes[id] = String(rest[rest.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return notes
    }

    /// Whether some process holds the lock of `job` now. Never takes the lock. A lock file that
    /// cannot be checked counts as held (nothing is marked crashed on a guess).
    public static func isHeld(database: String, job: String) -> Bool {
        let path = path(database: database, job: job)
        let opened: Int32?
        do { opened = try openLockFile(path, database: database, create: false) } catch { return true }
        guard let descriptor = opened else { return false }  // no lock file: no process ran the job here
        defer { close(descriptor) }
        guard let answer = lockRequest(descriptor, command: getLock, type: Int16(F_WRLCK)) else { return true }
        return answer.l_type != Int16(F_UNLCK)
    }
}
