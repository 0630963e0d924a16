import CHDF5
import Foundation

/// What a dataset's elements are, as far as this wrapper cares.
public enum HDF5ElementKind: Equatable, Sendable, CustomStringConvertible {
    case float(bits: Int)
    case integer(bits: Int, signed: Bool)
    case string(variableLength: Bool)
    case other(String)

    public var description: String {
        switch self {
        case let .float(bits): return "float\(bits)"
        case let .integer(bits, signed): return (signed ? "int" : "uint") + "\(bits)"
        case let .string(variable): return variable ? "variable-length string" : "fixed-length string"
        case let .other(name): return name
        }
    }

    /// Whether the elements are floating-point numbers.
    public var isFloat: Bool {
        if case .float = self { return true }
        return false
    }
}

/// An open dataset: its shape, element kind, and typed reads with HDF5 converting to native types.
public final class HDF5Dataset {
    /// The file the dataset belongs to.
    public let file: HDF5File
    /// The dataset's path inside the file, as given when it was opened.
    public let name: String
    /// Extent of each dimension (rank = `shape.count`).
    public let shape: [Int]
    /// The stored element kind.
    public let elementKind: HDF5ElementKind
    let id: hid_t

    init(file: HDF5File, name: String, id: hid_t) throws(HDF5Error) {
        self.file = file
        self.name = name
        self.id = id
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 0))
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        shape = dims.map { Int($0) }
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        elementKind = Self.kind(of: type)
    }

    deinit { H5Dclose(id) }

    private static func kind(of type: hid_t) -> HDF5ElementKind {
        let bits = Int(H5Tget_size(type)) * 8
        switch H5Tget_class(type) {
        case H5T_FLOAT: return .float(bits: bits)
        case H5T_INTEGER: return .integer(bits: bits, signed: H5Tget_sign(type) == H5T_SGN_2)
        case H5T_STRING: return .string(variableLength: H5Tis_variable_str(type) > 0)
        case H5T_COMPOUND: return .other("compound")
        case H5T_ENUM: return .other("enum")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("variable-length sequence")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_REFERENCE: return .other("reference")
        default: return .other("unknown")
        }
    }

    /// Number of elements (product of the shape).
    public var count: Int { shape.reduce(1, *) }

    /// Reads every element as `Float`, in row-major order, converting from float16/32/64.
    ///
    /// With `rows`, reads only that range of the first dimension (a hyperslab). A whole float32
    /// matrix compressed by deflate alone in row chunks has its chunks inflated on `threads` threads
    /// (``readFloatsInflatingInParallel(threads:)``). O(elements read).
    public func readFloats(rows: Range<Int>? = nil,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws(HDF5Error) -> [Float] {
        guard case .float = elementKind else {
            throw .unsupportedType(file: file.path, dataset: name, found: elementKind.description, wanted: "float")
        }
        if rows == nil || rows == 0..<(shape.first ?? 0), let values = try readFloatsInflatingInParallel(threads: threads) {
            return values
        }
        return try read(memoryType: chdf5_native_float(), rows: rows, zero: 0)
    }

    /// Reads every element as `Double`, converting from float16/32/64.
    public func readDoubles() throws(HDF5Error) -> [Double] {
        guard case .float = elementKind else {
            throw .unsupportedType(file: file.path, dataset: name, found: elementKind.description, wanted: "float")
        }
        return try read(memoryType: chdf5_native_double(), rows: nil, zero: 0)
    }

    /// Reads every element as `Int64`, converting from any integer width and sign.
    public func readInt64s() throws(HDF5Error) -> [Int64] {
        guard case .integer = elementKind else {
            throw .unsupportedType(file: file.path, dataset: name, found: elementKind.description, wanted: "integer")
        }
        return try read(memoryType: chdf5_native_int64(), rows: nil, zero: 0)
    }

    /// Reads every element as `UInt64` (for unsigned 64-bit data, whose top half Int64 cannot hold).
    public func readUInt64s() throws(HDF5Error) -> [UInt64] {
        guard case .integer = elementKind else {
            throw .unsupportedType(file: file.path, dataset: name, found: elementKind.description, wanted: "integer")
        }
        return try read(memoryType: chdf5_native_uint64(), rows: nil, zero: 0)
    }

    /// Reads a 1-D string dataset, variable-length or fixed-length (NUL- or space-padded), as UTF-8.
    /// Bytes that are not UTF-8 are refused (``HDF5Error/invalidUTF8(file:dataset:row:)``), never
    /// replaced: two distinct byte strings must never read as one string.
    public func readStrings() throws(HDF5Error) -> [String] {
        guard case let .string(variableLength) = elementKind else {
            throw .unsupportedType(file: file.path, dataset: name, found: elementKind.description, wanted: "string")
        }
        let n = count
        if variableLength {
            let memoryType = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(memoryType) }
            H5Tset_size(memoryType, chdf5_variable())
            H5Tset_cset(memoryType, H5T_CSET_UTF8)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            guard H5Dread(id, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &pointers) >= 0 else {
                throw .readFailed(file: file.path, dataset: name, reason: lastHDF5ErrorText())
            }
            let strings = pointers.map { $0.flatMap { String(validatingCString: $0) } ?? ($0 == nil ? "" : nil) }
            let space = H5Dget_space(id)
            H5Dvlen_reclaim(memoryType, space, chdf5_p_default(), &pointers)
            H5Sclose(space)
            if let row = strings.firstIndex(of: nil) { throw .invalidUTF8(file: file.path, dataset: name, row: row) }
            return strings.map { $0! }
        }
        let fileType = H5Dget_type(id)
        let width = H5Tget_size(fileType)
        let characterSet = H5Tget_cset(fileType)
        H5Tclose(fileType)
        let memoryType = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(memoryType) }
        H5Tset_size(memoryType, width)
        // HDF5 converts between ASCII and UTF-8 in neither direction: read in the file's own set.
        H5Tset_cset(memoryType, characterSet)
        var bytes = [UInt8](repeating: 0, count: n * width)
        guard H5Dread(id, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &bytes) >= 0 else {
            throw .readFailed(file: file.path, dataset: name, reason: lastHDF5ErrorText())
        }
        var strings: [String] = []
        strings.reserveCapacity(n)
        for i in 0..<n {
            let field = bytes[(i * width)..<((i + 1) * width)].prefix { $0 != 0 }
            guard var text = String(validating: field, as: UTF8.self) else {
                throw .invalidUTF8(file: file.path, dataset: name, row: i)
            }
            while text.last == " " { text.removeLast() }
            strings.append(text)
        }
        return strings
    }

    private func read<T>(memoryType: hid_t, rows: Range<Int>?, zero: T) throws(HDF5Error) -> [T] {
        guard let rows, !shape.isEmpty else {
            var values = [T](repeating: zero, count: count)
            let status = values.withUnsafeMutableBytes {
                H5Dread(id, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw .readFailed(file: file.path, dataset: name, reason: lastHDF5ErrorText()) }
            return values
        }
        let rowLength = shape.dropFirst().reduce(1, *)
        var values = [T](repeating: zero, count: rows.count * rowLength)
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: shape.count)
        var extent = shape.map { hsize_t($0) }
        start[0] = hsize_t(rows.lowerBound)
        extent[0] = hsize_t(rows.count)
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, extent, nil)
        let memorySpace = H5Screate_simple(Int32(shape.count), extent, nil)
        defer { H5Sclose(memorySpace) }
        let status = values.withUnsafeMutableBytes {
            H5Dread(id, memoryType, memorySpace, fileSpace, chdf5_p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw .readFailed(file: file.path, dataset: name, reason: lastHDF5ErrorText()) }
        return values
    }
}
