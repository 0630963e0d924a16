import CMPI

/// The processes an MPI launcher (`mpirun`, `srun`) started, and the collective operations on them,
/// typed: Open MPI's C interface through `CMPI`, with every pointer kept inside the call that uses it.
///
/// Only the world communicator exists: selectjob runs one job across all the ranks it was given.
/// Every collective must be called by every rank in the same order. MPI's default error handler
/// aborts the whole job on a failed call, which is what a batch job wants; the return codes are
/// still checked so a changed handler cannot go unnoticed. Threads: MPI is initialised with
/// `MPI_THREAD_FUNNELED`, and only the thread that initialised it calls it.
public final class Communicator: @unchecked Sendable {
    /// This process's rank in the world, 0..<size.
    public let rank: Int
    /// The number of ranks.
    public let size: Int

    /// Whether this process was started by an MPI launcher: Open MPI's `mpirun` sets
    /// `OMPI_COMM_WORLD_SIZE`, PMIx launchers (Slurm's `srun --mpi=pmix`) `PMIX_RANK`, PMI-2 `PMI_SIZE`.
    public static func isLaunched(environment: [String: String]) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    /// Initialises MPI (once per process) and returns the world. Call ``finalize()`` before exiting.
    public static func world() -> Communicator {
        var provided: Int32 = 0
        check(MPI_Init_thread(nil, nil, selectjob_mpi_thread_funneled(), &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        check(MPI_Comm_rank(selectjob_mpi_comm_world(), &rank), "MPI_Comm_rank")
        check(MPI_Comm_size(selectjob_mpi_comm_world(), &size), "MPI_Comm_size")
        return Communicator(rank: Int(rank), size: Int(size))
    }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// Ends MPI in this process: after it, no collective may be called.
    public func finalize() {
        Self.check(MPI_Finalize(), "MPI_Finalize")
    }

    /// Element-wise sum over the ranks, in place on every rank (MPI_Allreduce, MPI_SUM on int64).
    public func allreduceSum(_ values: inout [Int64]) {
        allreduce(&values, type: selectjob_mpi_int64(), operation: selectjob_mpi_sum())
    }

    /// Element-wise maximum over the ranks, in place on every rank (MPI_Allreduce, MPI_MAX on double).
    public func allreduceMaximum(_ values: inout [Double]) {
        allreduce(&values, type: selectjob_mpi_double(), operation: selectjob_mpi_max())
    }

    /// Every rank's bytes, in rank order, on every rank (MPI_Allgather of the lengths, then MPI_Allgatherv).
    /// Each rank's part must be under 2 GiB (MPI's int counts).
    public func allgather(_ bytes: [UInt8]) -> [[UInt8]] {
        precondition(bytes.count <= Int(Int32.max), "an MPI part must be under 2 GiB, got \(bytes.count) bytes")
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(bytes.count)
        Self.check(MPI_Allgather(&mine, 1, selectjob_mpi_int(), &counts, 1, selectjob_mpi_int(),
                                 selectjob_mpi_comm_world()), "MPI_Allgather")
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        let total = Int(offsets[size - 1]) + Int(counts[size - 1])
        var all = [UInt8](repeating: 0, count: max(total, 1))
        bytes.withUnsafeBytes { send in
            all.withUnsafeMutableBytes { receive in
                Self.check(MPI_Allgatherv(send.baseAddress, mine, selectjob_mpi_byte(), receive.baseAddress, counts, offsets,
                                          selectjob_mpi_byte(), selectjob_mpi_comm_world()), "MPI_Allgatherv")
            }
        }
        return (0..<size).map { Array(all[Int(offsets[$0])..<(Int(offsets[$0]) + Int(counts[$0]))]) }
    }

    /// In chunks of at most 2³⁰ elements, so counts fit MPI's int.
    private func allreduce<Element>(_ values: inout [Element], type: MPI_Datatype, operation: MPI_Op) {
        let chunk = 1 << 30
        values.withUnsafeMutableBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                let count = min(chunk, buffer.count - start)
                Self.check(MPI_Allreduce(selectjob_mpi_in_place(), buffer.baseAddress! + start, Int32(count), type, operation,
                                         selectjob_mpi_comm_world()), "MPI_Allreduce")
                start += count
            }
        }
    }

    private static func check(_ code: Int32, _ call: String) {
        precondition(code == selectjob_mpi_success(), "\(call) failed with MPI error \(code)")
    }
}
