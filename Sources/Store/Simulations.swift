import Foundation
import GRDB

/// A `simulations` row: one round of a simulated labelling campaign (`selectjob simulate`) — which
/// run labelled it, how many samples were labelled after it, and the probe's test scores then.
public struct SimulationRecord: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "simulations"
    public var id: Int64?
    /// The simulation's name (the job's), shared by its strategies, seeds and rounds.
    public var simulation: String
    /// How the rounds after the first chose ("kmeans → dropquery").
    public var strategy: String
    public var seed: Int64
    public var round: Int
    public var runID: Int64
    public var labelledCount: Int
    public var accuracy: Double
    public var macroF1: Double
    public var testFingerprint: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, simulation, strategy, seed, round, runID = "run_id", labelledCount = "labelled_count", accuracy
        case macroF1 = "macro_f1", testFingerprint = "test_fingerprint", createdAt = "created_at"
    }

    public init(simulation: String, strategy: String, seed: Int64, round: Int, runID: Int64, labelledCount: Int,
                accuracy: Double, macroF1: Double, testFingerprint: String, createdAt: Date) {
        self.simulation = simulation
        self.strategy = strategy
        self.seed = seed
        self.round = round
        self.runID = runID
        self.labelledCount = labelledCount
        self.accuracy = accuracy
        self.macroF1 = macroF1
        self.testFingerprint = testFingerprint
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension SelectionStore {
    /// Records a simulated round, replacing an earlier record of the same simulation, strategy, seed
    /// and round (a simulation run again). One transaction.
    public func saveSimulationRound(_ record: SimulationRecord) throws(StoreError) {
        try writeTransaction { db in
            try SimulationRecord.filter(Column("simulation") == record.simulation && Column("strategy") == record.strategy
                                        && Column("seed") == record.seed && Column("round") == record.round).deleteAll(db)
            var inserted = record
            try inserted.insert(db)
        }
    }

    /// Every recorded round of `simulation`, by strategy, seed and round.
    public func simulationRounds(_ simulation: String) throws(StoreError) -> [SimulationRecord] {
        try readTransaction { db in
            try SimulationRecord.filter(Column("simulation") == simulation)
                .order(Column("strategy"), Column("seed"), Column("round")).fetchAll(db)
        }
    }
}
