import Compression
import Foundation

/// The arrays of a `.npz` file — what `np.savez` (stored) and `np.savez_compressed` (deflated) write:
/// a zip archive of `.npy` members — found through the zip's central directory, zip64 included.
/// Format: PKWARE's APPNOTE.TXT, sections 4.3.7 (local header), 4.3.12 (central directory), 4.3.16
/// (end of central directory) and 4.5.3 (zip64 extra field).
struct NpzArchive {
    /// Where a member's bytes are and how they are stored.
    struct Member {
        /// 0: stored; 8: deflated.
        let method: UInt16
        let compressedSize: Int
        let size: Int
        let localHeader: Int
    }

    let file: String
    private let data: Data
    /// Members by array name (the member's name without `.npy`).
    let members: [String: Member]

    /// Reads the central directory of the archive at `path`. O(members).
    init(path: String) throws(FeatureInputError) {
        file = path
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch { throw .unreadable(file: path) }
        let bytes = data
        func u16(_ at: Int) -> Int { Int(bytes[bytes.startIndex + at]) | Int(bytes[bytes.startIndex + at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        func fail(_ reason: String) -> FeatureInputError { .notNpy(file: path, reason: "not a readable .npz archive (\(reason))") }
        // The end of central directory record: its signature within the last 64 KiB + 22 bytes.
        guard bytes.count >= 22,
              let end = stride(from: bytes.count - 22, through: max(0, bytes.count - 65_557), by: -1)
                .first(where: { u32($0) == 0x0605_4B50 })
        else { throw fail("no end of central directory") }
        var count = u16(end + 10), directory = u32(end + 16)
        if count == 0xFFFF || directory == 0xFFFF_FFFF {
            // Zip64: the locator just before names the zip64 end of central directory record.
            guard end >= 20, u32(end - 20) == 0x0706_4B50 else { throw fail("zip64 without its locator") }
            let record = u64(end - 12)
            guard record + 56 <= bytes.count, u32(record) == 0x0606_4B50 else { throw fail("bad zip64 record") }
            count = u64(record + 32)
            directory = u64(record + 48)
        }
        var members: [String: Member] = [:]
        var at = directory
        for _ in 0..<count {
            guard at + 46 <= bytes.count, u32(at) == 0x0201_4B50 else { throw fail("bad central directory entry") }
            let nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32)
            guard at + 46 + nameLength + extraLength <= bytes.count else { throw fail("truncated central directory") }
            let name = String(decoding: bytes[(bytes.startIndex + at + 46)..<(bytes.startIndex + at + 46 + nameLength)], as: UTF8.self)
            var size = u32(at + 24), compressed = u32(at + 20), local = u32(at + 42)
            // Zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), length = u16(extra + 2)
                if id == 0x0001 {
                    var field = extra + 4
                    if size == 0xFFFF_FFFF { size = u64(field); field += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = u64(field); field += 8 }
                    if local == 0xFFFF_FFFF { local = u64(field) }
                }
                extra += 4 + length
            }
            if name.hasSuffix(".npy") {
                members[String(name.dropLast(4))] = Member(method: UInt16(u16(at + 10)), compressedSize: compressed,
                                                           size: size, localHeader: local)
            }
            at = extraEnd + commentLength
        }
        self.members = members
    }

    /// The bytes of array `name` (a whole `.npy` file), inflated when deflated. O(its size).
    func array(_ name: String) throws(FeatureInputError) -> Data {
        guard let member = members[name] else {
            throw .datasetNotFound(file: file, dataset: name, holds: members.keys.sorted().map { "'\($0)'" },
                                   closest: members.keys.min { FeatureTable.editDistance($0, name) < FeatureTable.editDistance($1, name) }
                                    .flatMap { FeatureTable.editDistance($0, name) <= max(2, name.count / 3) ? $0 : nil })
        }
        let local = member.localHeader
        guard local + 30 <= data.count else { throw .notNpy(file: file, reason: "member '\(name)': truncated archive") }
        let base = data.startIndex
        let nameLength = Int(data[base + local + 26]) | Int(data[base + local + 27]) << 8
        let extraLength = Int(data[base + local + 28]) | Int(data[base + local + 29]) << 8
        let start = local + 30 + nameLength + extraLength
        guard start + member.compressedSize <= data.count else {
            throw .notNpy(file: file, reason: "member '\(name)': truncated archive")
        }
        let stored = data.subdata(in: (base + start)..<(base + start + member.compressedSize))
        switch member.method {
        case 0: return stored
        case 8:
            do throws(Inflate.Failure) { return try Inflate.raw(stored, size: member.size) } catch {
                throw .notNpy(file: file, reason: "member '\(name)' does not inflate (zlib status \(error.status))")
            }
        default:
            throw .notNpy(file: file, reason: "member '\(name)' uses zip compression method \(member.method); np.savez and savez_compressed write 0 and 8")
        }
    }
}
