/// The processes one selection runs on, and the collective operations a method needs to combine
/// what each process computed on its own rows.
///
/// A method never learns how the group is implemented: ``SingleProcess`` is every run in one
/// process; `selectjob-mpi` passes one backed by Open MPI. Every operation is collective: each
/// process of the group calls it, in the same order. The sums are over integers, so exact and
/// independent of the order in which the processes' parts are combined — with ``FixedPointSum``
/// that is what makes a distributed selection identical, bit for bit, to the one-process selection.
public protocol ProcessGroup: Sendable {
    /// This process's place in the group, 0..<size.
    var rank: Int { get }
    /// How many processes share the pool.
    var size: Int { get }
    /// Element-wise sum over the group, in place on every process. Exact (wrapping on overflow).
    func sum(_ values: inout [Int64])
    /// Element-wise maximum over the group, in place on every process.
    func maximum(_ values: inout [Double])
    /// Every process's bytes, in rank order, on every process.
    func gather(_ bytes: [UInt8]) -> [[UInt8]]
}

/// The group of one: every collective returns its input. What every run without MPI uses.
public struct SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: inout [Int64]) {}
    public func maximum(_ values: inout [Double]) {}
    public func gather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
}

extension ProcessGroup {
    /// Whether any process passed `true` (a collective stop test). O(1) messages.
    public func any(_ flag: Bool) -> Bool {
        guard size > 1 else { return flag }
        var value = [flag ? 1.0 : 0.0]
        maximum(&value)
        return value[0] > 0
    }

    /// Every process's values, in rank order (element types without pointers only). O(total) bytes.
    public func gather<Element: BitwiseCopyable>(values: [Element]) -> [[Element]] {
        guard size > 1 else { return [values] }
        let bytes = values.withUnsafeBytes { Array($0) }
        return gather(bytes).map { part in
            part.withUnsafeBytes { raw in
                (0..<(part.count / MemoryLayout<Element>.stride)).map {
                    raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<Element>.stride, as: Element.self)
                }
            }
        }
    }

    /// The largest `value` over the group with its `row`, ties to the lower row; a process with
    /// nothing to offer passes row −1. The answer is the same on every process. O(size) values.
    public func argmax(value: Double, row: Int) -> (value: Double, row: Int) {
        guard size > 1 else { return (value, row) }
        var best = (value: -Double.infinity, row: -1)
        for offer in gather(values: [value, Double(bitPattern: UInt64(bitPattern: Int64(row)))]) {
            let offered = (value: offer[0], row: Int(Int64(bitPattern: offer[1].bitPattern)))
            guard offered.row >= 0 else { continue }
            if best.row < 0 || offered.value > best.value || (offered.value == best.value && offered.row < best.row) {
                best = offered
            }
        }
        return best
    }

    /// The group's element-wise totals of `local`, integers encoded with `scale`, decoded: the same
    /// bits however the terms were split over processes. One collective sum of `local.count` integers.
    public func exactSum(_ local: [Int64], scale: FixedPointSum) -> [Double] {
        var total = local
        sum(&total)
        return total.map(scale.decode)
    }
}

/// Rounds terms once, to multiples of 2⁻ˢ, and adds them as 64-bit integers: integer addition is
/// associative, so a sum no longer depends on how its terms were split over threads, row blocks or
/// processes. `s` is the largest that keeps any sum of `count` terms of magnitude ≤ `bound` below 2⁶²
/// and each term below 2⁵¹, so the resolution is about `bound·count`·2⁻⁶² (4·10⁻¹³ for unit terms and
/// a million rows), far below a double-precision sum's own rounding over as many terms. O(1) per term,
/// a few vector instructions per 8 terms in ``accumulate(_:times:count:into:)``.
public struct FixedPointSum: Sendable, Equatable {
    /// 2ˢ: a term x is kept as round(x·2ˢ).
    public let scale: Double
    private let inverse: Double
    /// 1.5·2⁵²: for |v| < 2⁵¹, v + magic lands in [2⁵², 2⁵³), where doubles are the integers, so its
    /// bits are magic's plus round(v) (to nearest, ties to even): rounding without a libm call.
    private static let magic = 6_755_399_441_055_744.0
    private static let magicBits = Int64(bitPattern: magic.bitPattern)

    /// - Parameters:
    ///   - bound: the largest magnitude any term can have.
    ///   - count: how many terms one total can have (over every process).
    public init(bound: Double, count: Int) {
        let bound = max(bound, .leastNormalMagnitude)
        let largest = bound * Double(max(count, 1))
        let exponent = min(max(min(61 - Int(largest.exponent), 50 - Int(bound.exponent)), -1000), 1000)
        scale = Double(sign: .plus, exponent: exponent, significand: 1)
        inverse = Double(sign: .plus, exponent: -exponent, significand: 1)
    }

    /// The integer a term is added as: round(x·2ˢ), ties to even.
    @inline(__always) public func encode(_ x: Double) -> Int64 { Self.rounded(x * scale) }

    /// round(v) for |v| < 2⁵¹, ties to even.
    @inline(__always) private static func rounded(_ v: Double) -> Int64 {
        Int64(bitPattern: (v + magic).bitPattern) &- magicBits
    }

    /// Adds the term `weight`·`row[j]` to `target[j]` for each j < `count`: the same integers as
    /// `encode(weight * Double(row[j]))` (2ˢ is a power of two, so scaling `weight` first is exact),
    /// 8 at a time. O(count).
    @inline(__always)
    public func accumulate(_ weight: Double, times row: UnsafePointer<Float>, count: Int,
                           into target: UnsafeMutablePointer<Int64>) {
        let w = weight * scale
        let lanes = SIMD8<Double>(repeating: w), magic = SIMD8<Double>(repeating: Self.magic)
        let magicBits = SIMD8<Int64>(repeating: Self.magicBits)
        var j = 0
        while j + 8 <= count {
            // Pointer steps, not byte offsets: `j * 4` and `j * 8` were checked for overflow every step.
            let f = SIMD8<Double>(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self))
            let shifted = unsafeBitCast(f * lanes + magic, to: SIMD8<Int64>.self) &- magicBits
            let total = UnsafeMutableRawPointer(target + j)
            total.storeBytes(of: total.loadUnaligned(as: SIMD8<Int64>.self) &+ shifted, as: SIMD8<Int64>.self)
            j += 8
        }
        while j < count {
            target[j] &+= Self.rounded(Double(row[j]) * w)
            j += 1
        }
    }

    /// The value of an integer total.
    @inline(__always) public func decode(_ total: Int64) -> Double { Double(total) * inverse }
}

/// Which rows of the pool each process of a group holds: contiguous ranges of whole blocks of
/// ``blockRows`` rows, as even as whole blocks allow. Every blocked computation in the methods
/// (sgemm row blocks, per-block partial sums) starts its blocks at multiples of ``blockRows``, so a
/// block is computed the same way whichever process holds it.
public struct RowPartition: Sendable, Equatable {
    /// The granularity of the partition; row blocks of the blocked computations divide it.
    public static let blockRows = 1024
    /// N, the rows of the whole pool.
    public let totalRows: Int
    /// The first row of each process's range, and N at the end (size + 1 entries).
    public let boundaries: [Int]
    /// This process's rank.
    public let rank: Int

    /// The partition of `totalRows` rows over `size` processes, seen from `rank`.
    public init(totalRows: Int, rank: Int = 0, size: Int = 1) {
        precondition(size >= 1 && rank >= 0 && rank < size, "rank \(rank) of \(size)")
        self.totalRows = totalRows
        self.rank = rank
        let blocks = (totalRows + Self.blockRows - 1) / Self.blockRows
        boundaries = (0...size).map { min(totalRows, (blocks * $0 / size) * Self.blockRows) }
    }

    /// The rows this process holds.
    public var rows: Range<Int> { boundaries[rank]..<boundaries[rank + 1] }

    /// Whether one process holds every row.
    public var isWhole: Bool { rows == 0..<totalRows }

    /// The number of processes.
    public var size: Int { boundaries.count - 1 }

    /// The least number of rows that gives each of `size` processes at least one block.
    public static func minimumRows(processes size: Int) -> Int { (size - 1) * blockRows + 1 }

    /// The rank holding global row `row`. O(log size).
    public func owner(ofRow row: Int) -> Int {
        var low = 0, high = size - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if boundaries[mid] <= row { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The rows `rows` (global indices, any order, repeats allowed) of the pool whose local part is
    /// `local`, in that order, as one row-major matrix on every process: each process contributes
    /// the rows it holds. One gather of rows·d floats.
    public func gatherRows(_ rows: [Int], from local: FeatureMatrix, group: any ProcessGroup) -> FeatureMatrix {
        let d = local.columns
        if isWhole { return local.selecting(rows: rows) }
        let mine = rows.filter { self.rows.contains($0) }.map { $0 - self.rows.lowerBound }
        let parts = group.gather(values: local.selecting(rows: mine).values)
        var next = [Int](repeating: 0, count: size)
        var out = [Float]()
        out.reserveCapacity(rows.count * d)
        for row in rows {
            let owner = owner(ofRow: row)
            out.append(contentsOf: parts[owner][(next[owner] * d)..<((next[owner] + 1) * d)])
            next[owner] += 1
        }
        return FeatureMatrix(rows: rows.count, columns: d, values: out)
    }
}
