import Foundation

/// Writes a `.npy` file (NumPy's format, version 1) of little-endian float32 `values` in C order, with
/// the header dictionary `header` — by default the one of a `rows × columns` array, or any text a test
/// needs (a shape that lies, a wrong dtype). The header is padded as NumPy pads it.
public func writeNpy(_ values: [Float], rows: Int, columns: Int, header: String? = nil, to path: String) throws {
    var text = header ?? "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
    text += "\n"
    let length = text.utf8.count
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(Data(text.utf8))
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    try data.write(to: URL(fileURLWithPath: path))
}

/// Writes a 1-D `.npy` file of little-endian int64 `values`.
public func writeNpy(integers values: [Int64], to path: String) throws {
    var text = "{'descr': '<i8', 'fortran_order': False, 'shape': (\(values.count),), }"
    while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
    text += "\n"
    let length = text.utf8.count
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(Data(text.utf8))
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    try data.write(to: URL(fileURLWithPath: path))
}
