import Crypto
import FeatureIO
import Foundation
import Logging
import Selection
import Store

/// What a run split over the processes of ``JobRunner/group`` (under `selectjob-mpi`) adds to the
/// one pipeline of ``JobRunner/run(jobPath:logger:stopSignal:progress:)``.
///
/// Every process parses the job and reads only its own block of rows (``RowPartition``: contiguous
/// whole blocks of 1,024 rows) — features, ids and labels, by hyperslab reads — plus the method's
/// small inputs whole. Rank 0 alone takes the job lock and opens, writes and commits the database;
/// it receives the pool's ids and labels (N of each, not the features) to check that ids are unique
/// and to record the picks. The fingerprint is combined from each block's SHA-256, so it equals the
/// one a single process records. Each phase ends in an agreement: if any process failed, every
/// process stops with that process's exit status, and rank 0 reports it naming the rank. Stop
/// signals are collective too (a stop on any process stops all at the same step), so a run is
/// recorded 'cancelled' by rank 0 exactly as in one process. A process that dies leaves the others
/// to be ended by the MPI launcher; the run stays 'running' with its lock released, and the next
/// `run` or `runs` marks it 'crashed'. Memory per process: its N/P·d floats plus the method's
/// O(K·d) state; rank 0 also holds N ids and labels.
extension JobRunner {
    /// Why `spec` cannot run split over ``group``'s processes, thrown in the job's words.
    func checkDistributable(_ spec: JobSpec, jobPath: String) throws(RunError) {
        let configured = spec.method.configured
        do throws(SelectionError) { try configured.checkDistributable(processes: group.size) } catch { throw .parameters(file: jobPath, error) }
        guard spec.labelled.isEmpty else {
            throw .notDistributable(file: jobPath, reason: "a job with \"labelled\" samples runs in one process (without mpirun)")
        }
        guard spec.curation.isEmpty else {
            throw .notDistributable(file: jobPath, reason: "a job with \"filter\", \"dedup\" or \"balance\" runs in one process (without mpirun)")
        }
        guard spec.features.format == .hdf5 else {
            throw .notDistributable(file: jobPath, reason: "\(spec.features.path): a distributed run reads HDF5 features by row blocks; convert the .npy file to HDF5")
        }
        guard spec.features.rows == nil else {
            throw .notDistributable(file: jobPath, reason: "\"features.rows\" selects a row range: a distributed run partitions the whole dataset")
        }
    }

    /// Reads this process's block of the pool and the method's inputs whole, and gathers what rank 0
    /// records of the whole pool (fingerprint, ids, labels): the job checked against the whole pool,
    /// this block's values, and the partition. Every step is agreed among the processes.
    func loadBlocks(_ spec: JobSpec, jobPath: String) throws(RunError) -> (ValidatedJob, [Float], RowPartition) {
        let group = self.group
        let configured = spec.method.configured
        // The pool's size, then this process's rows of it.
        let totalRows = try agreed { () throws(RunError) in
            do throws(FeatureInputError) { return try FeatureTable.rowCount(spec.features) } catch { throw .input(error) }
        }
        try agreed { () throws(RunError) in
            guard totalRows >= RowPartition.minimumRows(processes: group.size) else {
                throw .notDistributable(file: jobPath, reason: "the pool's \(totalRows) rows are too few for \(group.size) processes (each needs a block of \(RowPartition.blockRows) rows; at least \(RowPartition.minimumRows(processes: group.size)) rows)")
            }
        }
        let partition = RowPartition(totalRows: totalRows, rank: group.rank, size: group.size)
        var blockSource = spec.features
        blockSource.rows = partition.rows
        var block = try agreed { () throws(RunError) in
            do throws(FeatureInputError) { return try FeatureTable.load(blockSource) } catch { throw .input(error) }
        }
        let inputs = try agreed { () throws(RunError) in
            var inputs: [String: FeatureTable] = [:]
            for (name, source) in spec.method.inputs.sorted(by: { $0.key < $1.key }) {
                do throws(FeatureInputError) { inputs[name] = try FeatureTable.load(source) } catch { throw .input(error) }
            }
            return inputs
        }
        let budget = spec.budget.count(poolSize: totalRows)
        let shape = ProblemShape(poolSize: totalRows, width: block.columns, budget: budget,
                                 inputs: inputs.mapValues { (rows: $0.rows, columns: $0.columns) })
        try agreed { () throws(RunError) in
            do throws(SelectionError) { try configured.validate(shape) } catch { throw .parameters(file: jobPath, error) }
        }

        // The whole pool's fingerprint, ids and labels, from every block.
        let digests = group.gather(values: FeatureTable.blockDigests(columns: block.columns, values: block.values,
                                                                     ids: block.ids, labels: block.labels).flatMap { $0 })
            .flatMap { $0 }
        let fingerprint = FeatureTable.fingerprint(
            rows: totalRows, columns: block.columns, ids: block.ids, hasLabels: block.labels != nil,
            blockDigests: stride(from: 0, to: digests.count, by: 32).map { Array(digests[$0..<($0 + 32)]) })
        let ids = gatheredIDs(block.ids, group: group)
        let labels = block.labels.map { (local: [Int64]) in group.gather(values: local).flatMap { $0 } }
        try agreed { () throws(RunError) in
            do throws(FeatureInputError) { try FeatureTable.checkUniqueIDs(ids, file: spec.features.path, dataset: spec.features.ids ?? "ids") }
            catch { throw .input(error) }
        }
        let pool = block.describingWholePool(totalRows: totalRows, ids: ids, labels: labels, fingerprint: fingerprint)
        let job = ValidatedJob(spec: spec, features: pool, inputs: inputs, outcomes: [:], budget: budget)
        return (job, block.takeValues(), partition)
    }

    /// Runs `body` on every process, then agrees: when any process failed, every process throws —
    /// the failed process its own error, the others ``RunError/onRank(rank:status:message:)`` for
    /// the lowest failed rank — so all stop at the same step with the same exit status. One gather.
    func agreed<T>(_ body: () throws(RunError) -> T) throws(RunError) -> T {
        let outcome: Result<T, RunError>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        var report: [UInt8] = []
        if case let .failure(error) = outcome {
            report = withUnsafeBytes(of: error.exitStatus.rawValue.littleEndian) { Array($0) }
                + Array((error.errorDescription ?? "\(error)").utf8)
        }
        let reports = group.gather(report)
        guard let failed = reports.firstIndex(where: { !$0.isEmpty }) else { return try outcome.get() }
        if case let .failure(error) = outcome, failed == group.rank { throw error }
        let status = reports[failed].prefix(4).enumerated().reduce(Int32(0)) { $0 | Int32($1.element) << (8 * $1.offset) }
        throw .onRank(rank: failed, status: ExitStatus(rawValue: status) ?? .failure,
                      message: String(decoding: reports[failed].dropFirst(4), as: UTF8.self))
    }

    /// The whole pool's ids from every process's block, in row order.
    private func gatheredIDs(_ ids: SampleIDs, group: any ProcessGroup) -> SampleIDs {
        switch ids {
        case .rowIndices:
            return .rowIndices
        case let .integers(values):
            return .integers(group.gather(values: values).flatMap { $0 })
        case let .strings(values):
            let joined: [UInt8] = values.flatMap { Array($0.utf8) + [0] }
            return .strings(group.gather(joined).flatMap { part in
                part.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
            })
        }
    }
}
