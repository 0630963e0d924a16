/// The file format of a feature file.
public enum FeatureFormat: String, Sendable, Equatable {
    /// HDF5, with named datasets.
    case hdf5
    /// A plain N × d `.npy` array (what `np.save(path, features)` writes); ids and labels, when
    /// given, are sibling files: `.npy` integer arrays, or `.txt` string ids one a line.
    case npy
    /// ActiveFT's `.npy` dump: N × (d+1), the label in the last column; the row index is the id.
    case activeftDump = "activeft"
    /// A `.npz` archive (`np.savez`): the features, ids and labels are arrays named in it.
    case npz

    /// The format a path implies: `.npy` is a plain array, `.npz` an archive, anything else HDF5.
    public static func implied(by path: String) -> FeatureFormat {
        let lowered = path.lowercased()
        return lowered.hasSuffix(".npy") ? .npy : lowered.hasSuffix(".npz") ? .npz : .hdf5
    }
}

/// Where a job's features live: an HDF5 file, the 2-D dataset in it, and optional 1-D ids and labels;
/// or a `.npy` array with optional sibling id and label files; or an ActiveFT `.npy` dump.
public struct FeatureSource: Sendable, Equatable {
    /// Path of the HDF5 file (already resolved against the job's folder).
    public var path: String
    /// Path of the N×d dataset inside the file, e.g. "features" or "/train/features".
    public var dataset: String
    /// Optional 1-D dataset of sample ids (integers or strings), N long (for `.npy`: a file's path).
    public var ids: String?
    /// Optional 1-D dataset of integer class labels, N long (for `.npy`: a file's path).
    public var labels: String?
    /// Optional [start, end) range of rows to read instead of all of them.
    public var rows: Range<Int>?
    public var format: FeatureFormat
    /// The files of a pool written in shards, concatenated in this order (each an HDF5 file with the
    /// same datasets); empty for one file. `path` is then the first shard, and `pattern` what the job
    /// gave (a glob, or a list).
    public var shards: [String] = []
    public var pattern: String?
    /// The whole pool's name in messages and records: the pattern of a sharded pool, else the path.
    public var displayPath: String { shards.count > 1 ? (pattern ?? "\(path) and \(shards.count - 1) more shards") : path }
    /// Whether the job left `dataset` at its default ("features"): a file without that dataset but
    /// with exactly one 2-D float dataset then has that one read (``FeatureTable/source`` names it).
    public var datasetIsDefault = false
    /// Whether an all-zero row is refused (features: it has no direction); predictions given as
    /// logits may legitimately be all zero.
    public var refusesZeroRows = true

    public init(path: String, dataset: String, ids: String? = nil, labels: String? = nil, rows: Range<Int>? = nil,
                format: FeatureFormat = .hdf5) {
        self.path = path
        self.dataset = dataset
        self.ids = ids
        self.labels = labels
        self.rows = rows
        self.format = format
    }
}

/// The identifiers of a pool's samples.
public enum SampleIDs: Sendable, Equatable {
    /// No ids dataset: a sample's id is its 0-based row.
    case rowIndices
    case integers([Int64])
    case strings([String])
}
