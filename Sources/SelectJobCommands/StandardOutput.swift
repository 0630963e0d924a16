import Foundation
import ArgumentParser
import Jobs

/// Writes `text` and `terminator` to standard output, every byte, unbuffered.
///
/// A failed write (a full disk behind a redirect, /dev/full, a closed pipe) is reported as
/// "standard output: cannot write (reason)" and ends the command with exit 74, never silently.
func emit(_ text: String, terminator: String = "\n") throws {
    let data = Data((text + terminator).utf8)
    let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
        var offset = 0
        while offset < raw.count {
            let written = write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }
    if let failure {
        printError("standard output: cannot write (\(String(cString: strerror(failure))))")
        throw ExitCode(ExitStatus.ioError.rawValue)
    }
}
