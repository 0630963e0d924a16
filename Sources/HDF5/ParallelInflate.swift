import CHDF5
import Compression
import Dispatch
import Foundation

extension HDF5Dataset {
    /// A whole 2-D little-endian float32 or IEEE half (float16) dataset stored in row chunks (each
    /// chunk spans every column) compressed by deflate alone, read with its chunks inflated on
    /// `threads` threads; nil when the dataset is not stored that way (the caller then reads it
    /// through `H5Dread`).
    ///
    /// HDF5 inflates chunks one after another on one thread, and converts half floats element by
    /// element through its generic soft conversion: for a 1,000,000 × 384 gzip file that is most of
    /// the load (float16: 4.8× the float32 time). Here the compressed bytes are read in batches of
    /// chunks (`H5Dread_chunk`, serial: the library is not thread-safe) and each batch is inflated by
    /// zlib in parallel, every chunk into its own rows of the result, half floats converted to
    /// `Float` (exactly) chunk by chunk — the values are the same whatever the thread count.
    /// O(elements) work; memory: the float32 result plus one batch of compressed chunks.
    func readFloatsInflatingInParallel(threads: Int) throws(HDF5Error) -> [Float]? {
        #if _endian(big)
        return nil  // the chunks' little-endian bytes are copied as they are
        #endif
        guard threads > 1, shape.count == 2, shape[0] > 0, shape[1] > 0,
              let (chunkRows, elementBytes) = deflateOnlyRowChunks() else { return nil }
        let rows = shape[0], columns = shape[1]
        let chunkBytes = chunkRows * columns * elementBytes
        var values = [Float](repeating: 0, count: rows * columns)
        let chunkCount = (rows + chunkRows - 1) / chunkRows
        let batch = 64
        var failure: HDF5Error?
        values.withUnsafeMutableBytes { output in
            let out = UncheckedPointer(base: output.baseAddress!)
            for batchStart in stride(from: 0, to: chunkCount, by: batch) {
                let chunks = batchStart..<min(chunkCount, batchStart + batch)
                var compressed: [(bytes: [UInt8], filtered: Bool)] = []
                for chunk in chunks {
                    var offset: [hsize_t] = [hsize_t(chunk * chunkRows), 0]
                    var size: hsize_t = 0
                    var mask: UInt32 = 0
                    guard H5Dget_chunk_storage_size(id, &offset, &size) >= 0, size > 0 else {
                        failure = .readFailed(file: file.path, dataset: name, reason: "chunk at row \(chunk * chunkRows) is missing")
                        return
                    }
                    var bytes = [UInt8](repeating: 0, count: Int(size))
                    guard H5Dread_chunk(id, chdf5_p_default(), &offset, &mask, &bytes) >= 0 else {
                        failure = .readFailed(file: file.path, dataset: name, reason: lastHDF5ErrorText())
                        return
                    }
                    compressed.append((bytes, mask & 1 == 0))  // bit 0 set: deflate was skipped for this chunk
                }
                let errors = ChunkErrors(count: compressed.count)
                let input = compressed
                DispatchQueue.concurrentPerform(iterations: min(threads, input.count)) { worker in
                    var scratch = [UInt8](repeating: 0, count: chunkBytes)
                    for slot in stride(from: worker, to: input.count, by: min(threads, input.count)) {
                        let chunk = chunks.lowerBound + slot
                        let firstRow = chunk * chunkRows, validRows = min(chunkRows, rows - firstRow)
                        let validBytes = validRows * columns * elementBytes
                        let target = out.base + firstRow * columns * 4
                        let (bytes, filtered) = input[slot]
                        if !filtered {
                            guard bytes.count >= validBytes else {
                                errors.set(slot, "chunk at row \(firstRow): \(bytes.count) bytes, expected \(chunkBytes)")
                                continue
                            }
                            bytes.withUnsafeBytes { storeFloats(from: $0, count: validRows * columns, elementBytes: elementBytes, to: target) }
                            continue
                        }
                        let failure = scratch.withUnsafeMutableBytes { target in
                            bytes.withUnsafeBytes { source -> Inflate.Failure? in
                                do throws(Inflate.Failure) { try Inflate.zlibWrapped(source, into: target) } catch { return error }
                                return nil
                            }
                        }
                        if let failure {
                            errors.set(slot, "chunk at row \(firstRow) does not inflate to \(chunkBytes) bytes (zlib status \(failure.status), \(failure.produced) bytes)")
                            continue
                        }
                        scratch.withUnsafeBytes { storeFloats(from: $0, count: validRows * columns, elementBytes: elementBytes, to: target) }
                    }
                }
                if let message = errors.first {
                    failure = .readFailed(file: file.path, dataset: name, reason: message)
                    return
                }
            }
        }
        if let failure { throw failure }
        return values
    }

    /// The chunk height and the stored element size (4: float32, 2: IEEE half) when the dataset is
    /// little-endian float32 or half, chunked by whole rows and filtered by deflate only; otherwise nil.
    private func deflateOnlyRowChunks() -> (rows: Int, elementBytes: Int)? {
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        let elementBytes: Int
        if H5Tequal(type, chdf5_ieee_f32le()) > 0 {
            elementBytes = 4
        } else if isLittleEndianHalf(type) {
            elementBytes = 2
        } else {
            return nil
        }
        let plist = H5Dget_create_plist(id)
        defer { H5Pclose(plist) }
        guard H5Pget_layout(plist) == H5D_CHUNKED else { return nil }
        var chunk: [hsize_t] = [0, 0]
        guard H5Pget_chunk(plist, 2, &chunk) == 2, chunk[1] == hsize_t(shape[1]), chunk[0] > 0 else { return nil }
        guard H5Pget_nfilters(plist) == 1 else { return nil }
        var flags: UInt32 = 0
        var elements = 8
        var parameters = [UInt32](repeating: 0, count: 8)
        var filterName = [CChar](repeating: 0, count: 64)
        var config: UInt32 = 0
        let filter = H5Pget_filter2(plist, 0, &flags, &elements, &parameters, 64, &filterName, &config)
        guard filter == H5Z_FILTER_DEFLATE else { return nil }
        return (Int(chunk[0]), elementBytes)
    }

    /// Whether `type` is IEEE half precision, little-endian (sign bit 15, exponent bits 10–14 with
    /// bias 15, mantissa bits 0–9: what h5py writes for `numpy.float16`).
    private func isLittleEndianHalf(_ type: hid_t) -> Bool {
        guard H5Tget_class(type) == H5T_FLOAT, H5Tget_size(type) == 2, H5Tget_order(type) == H5T_ORDER_LE,
              H5Tget_ebias(type) == 15 else { return false }
        var (signPosition, exponentPosition, exponentSize, mantissaPosition, mantissaSize): (Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0)
        guard H5Tget_fields(type, &signPosition, &exponentPosition, &exponentSize, &mantissaPosition, &mantissaSize) >= 0
        else { return false }
        return (signPosition, exponentPosition, exponentSize, mantissaPosition, mantissaSize) == (15, 10, 5, 0, 10)
    }
}

/// Writes `count` little-endian elements of `elementBytes` bytes (4: float32, copied; 2: IEEE half,
/// converted exactly) from `source` to `target` as `Float`. O(count).
private func storeFloats(from source: UnsafeRawBufferPointer, count: Int, elementBytes: Int, to target: UnsafeMutableRawPointer) {
    if elementBytes == 4 {
        target.copyMemory(from: source.baseAddress!, byteCount: count * 4)
        return
    }
    let floats = target.assumingMemoryBound(to: Float.self)
    for i in 0..<count {
        floats[i] = Float(halfBits: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    }
}

extension Float {
    /// The value of IEEE half-precision bits (every half is exactly a float). Bit arithmetic, so
    /// it needs neither F16C nor a platform with `Float16`. O(1).
    init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0x1f {  // infinity or NaN (payload kept)
            self.init(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        } else if exponent != 0 {  // normal: rebias 15 -> 127
            self.init(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        } else {  // zero or subnormal: mantissa · 2⁻²⁴, exact in float
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign != 0 ? -magnitude : magnitude
        }
    }
}

/// The output buffer, written by the inflating threads each into its own rows.
private struct UncheckedPointer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
}

/// The first error message of a batch of chunks, each slot written by one thread.
private final class ChunkErrors: @unchecked Sendable {
    private var messages: [String?]
    init(count: Int) { messages = [String?](repeating: nil, count: count) }
    func set(_ slot: Int, _ message: String) { messages[slot] = message }
    var first: String? { messages.compactMap { $0 }.first }
}
