import CHDF5

/// A failure reported by the HDF5 library or by this wrapper, naming the file and object involved.
public enum HDF5Error: Error, Equatable, Sendable {
    /// The file does not exist, is not HDF5, or is damaged (`reason` is HDF5's own description).
    case cannotOpen(file: String, reason: String)
    /// The file could not be created for writing.
    case cannotCreate(file: String, reason: String)
    /// No object of that name exists in the file.
    case missingObject(file: String, name: String)
    /// The object exists but is a group or another non-dataset object.
    case notADataset(file: String, name: String)
    /// The dataset's element type cannot be read as the requested kind.
    case unsupportedType(file: String, dataset: String, found: String, wanted: String)
    /// HDF5 failed while reading the data (a truncated file or a corrupt chunk, typically).
    case readFailed(file: String, dataset: String, reason: String)
    /// HDF5 failed while writing.
    case writeFailed(file: String, dataset: String, reason: String)
    /// Another process has the file open for writing (HDF5's file locking refused to share it).
    case lockedByWriter(file: String)
    /// A string element whose bytes are not UTF-8 (row `row` of a 1-D dataset).
    case invalidUTF8(file: String, dataset: String, row: Int)
}

extension HDF5Error: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidUTF8(file, dataset, row):
            return "\(file): dataset '\(dataset)' row \(row) is not valid UTF-8"
        case let .cannotOpen(file, reason):
            return "\(file): cannot open as HDF5 (\(reason))"
        case let .cannotCreate(file, reason):
            return "\(file): cannot create HDF5 file (\(reason))"
        case let .missingObject(file, name):
            return "\(file): no dataset '\(name)'"
        case let .notADataset(file, name):
            return "\(file): '\(name)' is not a dataset"
        case let .unsupportedType(file, dataset, found, wanted):
            return "\(file): dataset '\(dataset)' has type \(found), expected \(wanted)"
        case let .readFailed(file, dataset, reason):
            return "\(file): reading dataset '\(dataset)' failed (\(reason))"
        case let .writeFailed(file, dataset, reason):
            return "\(file): writing dataset '\(dataset)' failed (\(reason))"
        case let .lockedByWriter(file):
            return "\(file): another process has the file open for writing (HDF5 file lock); try again when it is done"
        }
    }
}

/// HDF5's description of the most recent failure on this thread: "outer: inner", or "unknown error".
func lastHDF5ErrorText() -> String {
    var text = chdf5_error_text()
    chdf5_last_error(&text)
    let outer = withUnsafeBytes(of: &text.outer) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    let inner = withUnsafeBytes(of: &text.inner) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    switch (outer.isEmpty, inner.isEmpty) {
    case (true, true): return "unknown error"
    case (false, true): return outer
    case (true, false): return inner
    case (false, false): return outer == inner ? outer : "\(outer): \(inner)"
    }
}

/// An open HDF5 file. Closed when the last reference goes away.
///
/// HDF5's automatic error printing is switched off the first time a file is opened; failures come
/// back as ``HDF5Error`` with HDF5's own description folded in. Not thread-safe (HDF5's serial build).
public final class HDF5File {
    /// The path the file was opened or created at, as given.
    public let path: String
    let id: hid_t

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    deinit { H5Fclose(id) }

    /// Opens an existing file read-only.
    public static func open(readingAt path: String) throws(HDF5Error) -> HDF5File {
        chdf5_silence_errors()
        guard H5Fis_hdf5(path) > 0 else {
            let reason = H5Fis_hdf5(path) == 0 ? "not an HDF5 file" : lastHDF5ErrorText()
            throw .cannotOpen(file: path, reason: reason)
        }
        let id = H5Fopen(path, chdf5_acc_rdonly(), chdf5_p_default())
        guard id >= 0 else {
            let reason = lastHDF5ErrorText()
            // HDF5's file locking: a writer holds the file (errno 11, EAGAIN). Temporary, not damage.
            if reason.contains("unable to lock file") { throw .lockedByWriter(file: path) }
            if reason.contains("bad superblock version") || reason.contains("bad version number") {
                throw .cannotOpen(file: path, reason: "written in a newer HDF5 format than this libhdf5 "
                    + "(\(HDF5File.libraryVersion)) reads — e.g. h5py with libver='latest'; rewrite it with "
                    + "libver='earliest' or 'v110' [\(reason)]")
            }
            throw .cannotOpen(file: path, reason: reason)
        }
        return HDF5File(path: path, id: id)
    }

    /// The linked libhdf5's version, e.g. "1.10.8".
    public static var libraryVersion: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }

    /// Creates a file, replacing any file at `path`.
    public static func create(at path: String) throws(HDF5Error) -> HDF5File {
        chdf5_silence_errors()
        let id = H5Fcreate(path, chdf5_acc_trunc(), chdf5_p_default(), chdf5_p_default())
        guard id >= 0 else { throw .cannotCreate(file: path, reason: lastHDF5ErrorText()) }
        return HDF5File(path: path, id: id)
    }

    /// Whether an object exists at `name`, a path such as "features" or "/train/features".
    public func contains(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += "/" + component
            guard H5Lexists(id, prefix, chdf5_p_default()) > 0 else { return false }
        }
        return !prefix.isEmpty
    }

    /// The paths of every dataset in the file ("features", "train/ids"), in name order. O(objects).
    public func datasetPaths() -> [String] {
        final class Found { var paths: [String] = [] }
        let found = Found()
        let visit: H5O_iterate_t = { _, name, info, data in
            guard let name, let info, let data, info.pointee.type == H5O_TYPE_DATASET else { return 0 }
            Unmanaged<Found>.fromOpaque(data).takeUnretainedValue().paths.append(String(cString: name))
            return 0
        }
        withExtendedLifetime(found) {
            _ = H5Ovisit2(id, H5_INDEX_NAME, H5_ITER_INC, visit, Unmanaged.passUnretained(found).toOpaque(),
                          UInt32(H5O_INFO_BASIC))
        }
        return found.paths
    }

    /// Opens the dataset at `name`.
    public func dataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        guard contains(name) else { throw .missingObject(file: path, name: name) }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), chdf5_p_default()) >= 0 else {
            throw .cannotOpen(file: path, reason: lastHDF5ErrorText())
        }
        guard info.type == H5O_TYPE_DATASET else { throw .notADataset(file: path, name: name) }
        let datasetID = H5Dopen2(id, name, chdf5_p_default())
        guard datasetID >= 0 else { throw .readFailed(file: path, dataset: name, reason: lastHDF5ErrorText()) }
        return try HDF5Dataset(file: self, name: name, id: datasetID)
    }
}
