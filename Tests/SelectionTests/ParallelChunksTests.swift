import Testing
@testable import Selection

@Suite struct ParallelChunksTests {
    @Test func costlyChunksAreSpreadLongestFirst() {
        // ActiveFT's centroid term at K = 500: four parts of 5, 8, 6 and 7 dgemms. Round robin would
        // give the threads 11 and 15; longest first gives 13 and 13.
        let schedule = ParallelChunks.schedule(costs: [5, 8, 6, 7], threads: 2)
        #expect(schedule == [[1, 0], [3, 2]])
        // Ties go to the lower chunk and the lower thread.
        #expect(ParallelChunks.schedule(costs: [1, 1, 1], threads: 2) == [[0, 2], [1]])
        // No more threads than chunks, and one thread runs everything, costliest first.
        #expect(ParallelChunks.schedule(costs: [2, 3], threads: 8) == [[1], [0]])
        #expect(ParallelChunks.schedule(costs: [2, 3, 1], threads: 1) == [[1, 0, 2]])
    }

    @Test func everyChunkRunsOnceAndTheLongestIsBoundedAsGrahamShows() {
        var generator = SeededGenerator(seed: 11)
        for threads in 1...5 {
            for chunks in [1, 2, 7, 30] {
                let costs = (0..<chunks).map { _ in Double.random(in: 0.5...10, using: &generator) }
                let schedule = ParallelChunks.schedule(costs: costs, threads: threads)
                #expect(schedule.flatMap { $0 }.sorted() == Array(0..<chunks))
                // List scheduling: no thread ends later than the mean load plus the largest chunk.
                let loads = schedule.map { $0.reduce(0.0) { $0 + costs[$1] } }
                let bound = costs.reduce(0, +) / Double(schedule.count) + costs.max()!
                #expect(loads.max()! <= bound + 1e-9)
                let ran = ChunkResults<Int>(count: chunks)
                ParallelChunks.run(costs: costs, threads: threads) { ran.set($0, $0) }
                #expect(ran.values == Array(0..<chunks))
            }
        }
    }
}
