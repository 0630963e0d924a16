import CZlib
import Foundation

/// zlib's inflate, typed: the one place selectjob calls zlib (HDF5's deflated chunks, `.npz` members).
public enum Inflate {
    /// Why bytes did not inflate.
    public struct Failure: Error, Equatable, Sendable {
        /// zlib's status code.
        public let status: Int32
        /// How many bytes came out (when not the expected count).
        public let produced: Int
    }

    /// Inflates zlib-wrapped `source` (HDF5's deflate filter) into `target`, which must be exactly the
    /// uncompressed size. O(bytes).
    public static func zlibWrapped(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(Failure) {
        var length = uLongf(target.count)
        let status = uncompress(target.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                                source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(source.count))
        guard status == Z_OK, Int(length) == target.count else { throw Failure(status: status, produced: Int(length)) }
    }

    /// Inflates raw deflate `source` (a zip member) to exactly `size` bytes. O(bytes).
    public static func raw(_ source: Data, size: Int) throws(Failure) -> Data {
        var output = Data(count: size)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(status: Z_STREAM_ERROR, produced: 0)
        }
        defer { inflateEnd(&stream) }
        let status = source.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { target in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(target.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw Failure(status: status, produced: Int(stream.total_out))
        }
        return output
    }
}
