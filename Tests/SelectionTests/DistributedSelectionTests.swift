import Foundation
@testable import Selection
import Testing

/// A method run on a pool split over 1…4 ranks (threads standing in for MPI processes, see
/// ``CollectiveBoard``) selects exactly what it selects on the whole pool, to the last bit.
@Suite struct DistributedSelectionTests {
    /// 4,500 rows: five 1,024-row blocks, the last one partial, split unevenly for 2, 3 and 4 ranks.
    static let pool: FeatureMatrix = {
        var generator = SeededGenerator(seed: 21)
        return RandomProblem.features(rows: 4500, columns: 12, generator: &generator)
    }()

    static let methods: [(name: String, method: ConfiguredMethod)] = [
        ("activeft", ActiveFT.configured(ActiveFTParameters(iterations: 15))),
        ("activeft, batches", ActiveFT.configured(ActiveFTParameters(iterations: 10, batchSize: 1300))),
        ("activeft, explicit rows", ActiveFT.configured(ActiveFTParameters(iterations: 5, initialization: .rows(Array(stride(from: 3, to: 4500, by: 150)))))),
        ("vtl", VTL.configured()),
        ("kmeans", KMeansSelection.configured()),
        ("kmeans, spherical", {
            var parameters = KMeansSelection.Parameters()
            parameters.spherical = true
            return KMeansSelection.configured(parameters)
        }()),
    ]

    /// Runs `method` on the pool split over `size` ranks; every rank's result.
    static func distributed(_ method: ConfiguredMethod, budget: Int, size: Int, threads: Int) -> [SelectionResult] {
        let pool = Self.pool
        return CollectiveBoard(size: size).run { group in
            let partition = RowPartition(totalRows: pool.rows, rank: group.rank, size: group.size)
            let block = pool.selecting(rows: Array(partition.rows))
            var context = SelectionContext(seed: 5, threads: threads, group: group)
            return try! method.select(SelectionProblem(pool: block, budget: budget, partition: partition), &context)
        }
    }

    @Test("identical selection, scores and curve for 1-4 ranks", arguments: DistributedSelectionTests.methods.map(\.name))
    func identicalForEveryRankCount(name: String) throws {
        let method = Self.methods.first { $0.name == name }!.method
        let budget = 30
        var context = SelectionContext(seed: 5, threads: 2)
        let whole = try method.select(SelectionProblem(pool: Self.pool, budget: budget), &context)
        #expect(whole.picks.count == budget)
        for size in 1...4 {
            for result in Self.distributed(method, budget: budget, size: size, threads: size == 3 ? 1 : 2) {
                #expect(result.picks.map(\.row) == whole.picks.map(\.row), "\(size) ranks")
                #expect(result.picks.map(\.score.bitPattern) == whole.picks.map(\.score.bitPattern), "\(size) ranks")
                #expect(result.curve.map(\.bitPattern) == whole.curve.map(\.bitPattern), "\(size) ranks")
                #expect(result.initialRows == whole.initialRows)
            }
        }
    }

    @Test func aMethodThatNeedsTheWholePoolRefusesASplitPool() {
        #expect(throws: SelectionError.notDistributable(method: "probcover", processes: 2,
                                                        reason: "it needs every row of the pool in one process")) {
            let partition = RowPartition(totalRows: 4500, rank: 0, size: 2)
            var context = SelectionContext(seed: 0)
            _ = try ProbCover.withDefaults.select(
                SelectionProblem(pool: Self.pool.selecting(rows: Array(partition.rows)), budget: 10, partition: partition), &context)
        }
        #expect(ActiveFT.distributionObstacle(ActiveFTParameters(initialization: .farthestPoint)) != nil)
        #expect(VTL.distributionObstacle(VTLParameters(prefilter: 100)) != nil)
        #expect(VTL.distributionObstacle(VTLParameters()) == nil)
    }
}

/// Fixed-point sums and the row partition that make distributed results exact.
@Suite struct ProcessGroupTests {
    @Test func fixedPointSumsDoNotDependOnTheOrderAndMatchADoubleSum() {
        var generator = SeededGenerator(seed: 4)
        let terms = (0..<100_000).map { _ in Double.random(in: -1...1, using: &generator) }
        let scale = FixedPointSum(bound: 1, count: terms.count)
        let forward = terms.reduce(Int64(0)) { $0 &+ scale.encode($1) }
        var shuffled = terms
        shuffled.shuffle(using: &generator)
        let backward = shuffled.reduce(Int64(0)) { $0 &+ scale.encode($1) }
        #expect(forward == backward)
        // Against an exact-enough reference: Kahan-compensated double summation.
        var sum = 0.0, compensation = 0.0
        for term in terms {
            let y = term - compensation
            let t = sum + y
            compensation = (t - sum) - y
            sum = t
        }
        // Each term is rounded by at most half a unit of 2^-s; s leaves the total below 2^62.
        #expect(abs(scale.decode(forward) - sum) <= Double(terms.count) * 0.5 / scale.scale + 1e-12)
        #expect(scale.scale * Double(terms.count) <= 0x1p62)
    }

    @Test func encodingRoundsToNearestEvenForEveryScale() {
        var generator = SeededGenerator(seed: 5)
        for (bound, count) in [(1.0, 1), (2.0, 7), (1.03, 50_000), (3e5, 2_000_000), (1e-3, 100)] {
            let scale = FixedPointSum(bound: bound, count: count)
            // One term stays below 2^51 (where the magic-number rounding is exact), the total below 2^62.
            #expect(bound * scale.scale < 0x1p51)
            #expect(bound * Double(count) * scale.scale < 0x1p62)
            var terms = (0..<2_000).map { _ in Double.random(in: -bound...bound, using: &generator) }
            terms += [bound, -bound, 0, 0.5 / scale.scale, 1.5 / scale.scale, -2.5 / scale.scale]  // exact ties
            for term in terms {
                #expect(scale.encode(term) == Int64((term * scale.scale).rounded(.toNearestOrEven)), "\(term) at \(bound), \(count)")
            }
        }
    }

    @Test func accumulatingARowAddsTheSameIntegersAsEncodingEachTerm() {
        var generator = SeededGenerator(seed: 6)
        let scale = FixedPointSum(bound: 2, count: 10_000)
        for columns in [1, 7, 8, 19, 384] {
            let row = (0..<columns).map { _ in Float.random(in: -1...1, using: &generator) }
            let weight = Double.random(in: 0..<1, using: &generator)
            var direct = (0..<columns).map { _ in Int64.random(in: -1_000_000...1_000_000, using: &generator) }
            var accumulated = direct
            for j in 0..<columns { direct[j] &+= scale.encode(weight * Double(row[j])) }
            row.withUnsafeBufferPointer { r in
                accumulated.withUnsafeMutableBufferPointer { scale.accumulate(weight, times: r.baseAddress!, count: columns, into: $0.baseAddress!) }
            }
            #expect(accumulated == direct, "\(columns) columns")
        }
    }

    @Test func integerTotalsAreTheSameForEverySplitAndThreadCount() {
        var generator = SeededGenerator(seed: 7)
        let terms = (0..<10_001).map { _ in Int64.random(in: -1_000_000...1_000_000, using: &generator) }
        let expected = [terms.reduce(0, &+), Int64(terms.count)]
        for parts in [1, 2, 3, 7] {
            for threads in [1, 2, 4] {
                let totals = ParallelChunks.integerTotals(count: terms.count, parts: parts, width: 2, threads: threads) { range, out in
                    for i in range { out[0] &+= terms[i]; out[1] += 1 }
                }
                #expect(totals == expected, "\(parts) parts on \(threads) threads")
            }
        }
    }

    @Test func partitionsAreWholeBlocksCoveringEveryRowOnce() {
        for rows in [1, 1024, 1025, 4500, 100_000] {
            for size in 1...4 where rows >= RowPartition.minimumRows(processes: size) {
                let parts = (0..<size).map { RowPartition(totalRows: rows, rank: $0, size: size) }
                #expect(parts.map(\.rows.lowerBound).first == 0)
                #expect(parts.last!.rows.upperBound == rows)
                for (a, b) in zip(parts, parts.dropFirst()) { #expect(a.rows.upperBound == b.rows.lowerBound) }
                for part in parts {
                    #expect(!part.rows.isEmpty, "\(rows) rows, \(size) ranks")
                    #expect(part.rows.lowerBound % RowPartition.blockRows == 0)
                    for row in [part.rows.lowerBound, part.rows.upperBound - 1] { #expect(part.owner(ofRow: row) == part.rank) }
                }
            }
        }
    }

    @Test func gatheredRowsComeFromTheirOwnersInTheAskedOrder() {
        var generator = SeededGenerator(seed: 8)
        let pool = RandomProblem.features(rows: 3000, columns: 5, generator: &generator)
        let asked = [2999, 0, 1024, 2047, 2048, 17, 17]
        for size in [1, 2, 3] {
            let gathered = CollectiveBoard(size: size).run { group in
                let partition = RowPartition(totalRows: pool.rows, rank: group.rank, size: group.size)
                return partition.gatherRows(asked, from: pool.selecting(rows: Array(partition.rows)), group: group)
            }
            for matrix in gathered { #expect(matrix.values == pool.selecting(rows: asked).values) }
        }
    }

    @Test func argmaxTakesTheLargestValueAndTheLowerRowOnTies() {
        let offers: [(Double, Int)] = [(0.5, 40), (0.9, 30), (0.9, 10), (-.infinity, -1)]
        let answers = CollectiveBoard(size: 4).run { group in group.argmax(value: offers[group.rank].0, row: offers[group.rank].1) }
        for answer in answers { #expect(answer.value == 0.9 && answer.row == 10) }
    }
}
