import CHDF5
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk floating-point format of a dataset written by ``HDF5File/write(floats:shape:to:storage:chunkRows:gzipLevel:)``.
public enum HDF5FloatStorage: String, Sendable, CaseIterable {
    /// IEEE half precision, laid out as h5py writes `numpy.float16`.
    case float16
    case float32
    case float64
}

extension HDF5File {
    /// Writes `floats` (row-major, `shape.reduce(1, *)` of them) as a new dataset at `name`.
    ///
    /// Intermediate groups are created. With `chunkRows`, the dataset is chunked by that many rows;
    /// with `gzipLevel` (0–9) as well, each chunk is deflate-compressed, as `h5py`'s
    /// `compression="gzip"` does. HDF5 converts from `Float` to `storage`. O(elements).
    public func write(floats: [Float], shape: [Int], to name: String, storage: HDF5FloatStorage = .float32,
                      chunkRows: Int? = nil, gzipLevel: Int? = nil) throws(HDF5Error) {
        let fileType: hid_t
        switch storage {
        case .float32: fileType = H5Tcopy(chdf5_ieee_f32le())
        case .float64: fileType = H5Tcopy(chdf5_ieee_f64le())
        case .float16:
            fileType = H5Tcopy(chdf5_ieee_f32le())
            H5Tset_fields(fileType, 15, 10, 5, 0, 10)
            H5Tset_size(fileType, 2)
            H5Tset_ebias(fileType, 15)
        }
        defer { H5Tclose(fileType) }
        try create(name, shape: shape, fileType: fileType, chunkRows: chunkRows, gzipLevel: gzipLevel) { id in
            floats.withUnsafeBytes {
                H5Dwrite(id, chdf5_native_float(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
        }
    }

    /// Writes a 1-D (unless `shape` says otherwise) IEEE float64 dataset from `Double` values, exactly.
    public func write(doubles: [Double], shape: [Int]? = nil, to name: String) throws(HDF5Error) {
        try create(name, shape: shape ?? [doubles.count], fileType: chdf5_ieee_f64le(), chunkRows: nil, gzipLevel: nil) { id in
            doubles.withUnsafeBytes {
                H5Dwrite(id, chdf5_native_double(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
        }
    }

    /// Writes a little-endian int64 dataset, 1-D unless `shape` says otherwise.
    public func write(int64s: [Int64], shape: [Int]? = nil, to name: String) throws(HDF5Error) {
        try create(name, shape: shape ?? [int64s.count], fileType: chdf5_std_i64le(), chunkRows: nil, gzipLevel: nil) { id in
            int64s.withUnsafeBytes {
                H5Dwrite(id, chdf5_native_int64(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
        }
    }

    /// Writes a little-endian uint64 dataset, 1-D.
    public func write(uint64s: [UInt64], to name: String) throws(HDF5Error) {
        try create(name, shape: [uint64s.count], fileType: chdf5_std_u64le(), chunkRows: nil, gzipLevel: nil) { id in
            uint64s.withUnsafeBytes {
                H5Dwrite(id, chdf5_native_uint64(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
        }
    }

    /// Sets a UTF-8 string attribute on the file's root group (h5py reads it as `f.attrs[name]`).
    public func setAttribute(_ name: String, string value: String) throws(HDF5Error) {
        let type = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, chdf5_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(id, name, type, space, chdf5_p_default(), chdf5_p_default())
        guard attribute >= 0 else { throw .writeFailed(file: path, dataset: "@" + name, reason: lastHDF5ErrorText()) }
        defer { H5Aclose(attribute) }
        let status: herr_t = value.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            return H5Awrite(attribute, type, &pointer)
        }
        guard status >= 0 else { throw .writeFailed(file: path, dataset: "@" + name, reason: lastHDF5ErrorText()) }
    }

    /// Writes a 1-D dataset of fixed-length UTF-8 strings, `width` bytes each, NUL-padded
    /// (numpy's `S`/h5py's fixed `string_dtype('utf-8', width)`).
    public func write(fixedLengthStrings strings: [String], width: Int, to name: String) throws(HDF5Error) {
        try write(fixedLengthBytes: strings.map { Array($0.utf8) }, width: width, to: name)
    }

    /// Writes a 1-D dataset of fixed-length strings from raw bytes, `width` each, NUL-padded and marked
    /// UTF-8 whether or not they are (what a careless writer leaves; tests use it to make such files).
    public func write(fixedLengthBytes strings: [[UInt8]], width: Int, to name: String) throws(HDF5Error) {
        let type = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, width)
        H5Tset_cset(type, H5T_CSET_UTF8)
        var bytes = [UInt8](repeating: 0, count: strings.count * width)
        for (i, text) in strings.enumerated() {
            for (j, byte) in text.prefix(width).enumerated() { bytes[i * width + j] = byte }
        }
        try create(name, shape: [strings.count], fileType: type, chunkRows: nil, gzipLevel: nil) { id in
            H5Dwrite(id, type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), bytes)
        }
    }

    /// Writes a 1-D dataset of variable-length UTF-8 strings (h5py's `string_dtype()`).
    public func write(strings: [String], to name: String) throws(HDF5Error) {
        let type = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, chdf5_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        let buffers = strings.map { strdup($0) }
        defer { buffers.forEach { free($0) } }
        try create(name, shape: [strings.count], fileType: type, chunkRows: nil, gzipLevel: nil) { id in
            var pointers: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0) } }
            return H5Dwrite(id, type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &pointers)
        }
    }

    /// Creates a chunked float32 dataset of `shape` without writing any of it: unwritten chunks take no
    /// space, so the extent can be far larger than the file (what a hostile or sparse file looks like).
    public func createUnwrittenFloats(shape: [Int], chunkRows: Int, to name: String) throws(HDF5Error) {
        try create(name, shape: shape, fileType: chdf5_ieee_f32le(), chunkRows: chunkRows, gzipLevel: nil) { _ in 0 }
    }

    private func create(_ name: String, shape: [Int], fileType: hid_t, chunkRows: Int?, gzipLevel: Int?,
                        write: (hid_t) -> herr_t) throws(HDF5Error) {
        let dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), dims, nil)
        defer { H5Sclose(space) }
        let linkProperties = H5Pcreate(chdf5_p_link_create())
        defer { H5Pclose(linkProperties) }
        H5Pset_create_intermediate_group(linkProperties, 1)
        let createProperties = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(createProperties) }
        if let chunkRows, let first = shape.first, first > 0 {
            var chunk = dims
            chunk[0] = hsize_t(min(max(chunkRows, 1), first))
            H5Pset_chunk(createProperties, Int32(chunk.count), chunk)
            if let gzipLevel { H5Pset_deflate(createProperties, UInt32(gzipLevel)) }
        }
        let id = H5Dcreate2(self.id, name, fileType, space, linkProperties, createProperties, chdf5_p_default())
        guard id >= 0 else { throw .writeFailed(file: path, dataset: name, reason: lastHDF5ErrorText()) }
        defer { H5Dclose(id) }
        guard write(id) >= 0 else { throw .writeFailed(file: path, dataset: name, reason: lastHDF5ErrorText()) }
    }

    /// Flushes buffered data to disk.
    public func flush() { H5Fflush(id, H5F_SCOPE_GLOBAL) }
}
