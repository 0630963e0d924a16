import Foundation

/// Writes a finished document (a report) the way exports are written, so nothing partial is ever seen.
///
/// `-` is standard output; a device, FIFO or socket is written straight through; a regular file (or
/// none) is replaced atomically through a temporary file in its folder renamed over it, keeping the
/// old file's permissions; a symbolic link's target is written the same way; a folder, a loop of
/// links and the files in `protecting` (the database, the run's inputs) are refused.
public enum OutputFile {
    public static func write(_ data: Data, to path: String, protecting: ProtectedFiles = ProtectedFiles()) throws(ExportError) {
        if path == "-" {
            try SelectionExport.writeThrough(data, descriptor: STDOUT_FILENO, file: "standard output")
            return
        }
        let destination = try SelectionExport.resolvingSymbolicLinks(path)
        try protecting.check(destination, shownAs: path)
        var info = stat()
        let exists = stat(destination, &info) == 0
        let kind = info.st_mode & S_IFMT
        if exists, kind == S_IFDIR { throw .cannotWrite(file: path, reason: "is a directory") }
        if exists, kind != S_IFREG {
            let descriptor = open(destination, O_WRONLY | O_NOCTTY)
            guard descriptor >= 0 else { throw .cannotWrite(file: path, reason: String(cString: strerror(errno))) }
            defer { close(descriptor) }
            try SelectionExport.writeThrough(data, descriptor: descriptor, file: path)
            return
        }
        try SelectionExport.replaceAtomically(destination, shownAs: path) { temporary in try data.write(to: temporary) }
    }
}
