import Foundation

/// Writes a `.npy` file (NumPy's format, version 1) of little-endian float32 `values` in C order, with
/// the header dictionary `header` — by default the one of a `rows × columns` array, or any text a test
/// needs (a shape that lies, a wrong dtype). The header is padded as NumPy pads it.
public func writeNpy(_ values: [Float], rows: Int, columns: Int, header: String? = nil, to path: String) throws {
    let text = header ?? "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    try npyBytes(header: text, payload: values.withUnsafeBytes { Data($0) }).write(to: URL(fileURLWithPath: path))
}

/// Writes a 1-D `.npy` file of little-endian int64 `values`.
public func writeNpy(integers values: [Int64], to path: String) throws {
    try npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (\(values.count),), }",
                 payload: values.withUnsafeBytes { Data($0) }).write(to: URL(fileURLWithPath: path))
}

/// The bytes of a `.npy` (version 1) with header dictionary `header` and the raw little-endian `payload`.
public func npyBytes(header: String, payload: Data) -> Data {
    var text = header
    while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
    text += "\n"
    let length = text.utf8.count
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(Data(text.utf8))
    data.append(payload)
    return data
}

/// Writes a `.npz` as `np.savez` does: a zip of `NAME.npy` members, stored uncompressed (with their CRC-32).
public func writeNpz(_ members: [(name: String, npy: Data)], to path: String) throws {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16((v >> 16) & 0xFFFF) }
    func crc32(_ data: Data) -> Int {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return Int(~crc)
    }
    var archive = Data(), directory = Data()
    for (name, npy) in members {
        let fileName = Array((name + ".npy").utf8), offset = archive.count, crc = crc32(npy)
        let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) + le32(npy.count) + le32(npy.count)
            + le16(fileName.count) + le16(0)
        archive.append(contentsOf: le32(0x0403_4B50) + common + fileName)
        archive.append(npy)
        directory.append(contentsOf: le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0)
                         + le32(offset) + fileName)
    }
    let directoryOffset = archive.count
    archive.append(directory)
    archive.append(contentsOf: le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
                   + le32(directory.count) + le32(directoryOffset) + le16(0))
    try archive.write(to: URL(fileURLWithPath: path))
}
