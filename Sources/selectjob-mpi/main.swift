import Foundation
import ArgumentParser
import Jobs
import MPI
import SelectJobCommands
import Selection

/// Open MPI's world as the process group the selection methods combine their parts over.
struct MPIProcessGroup: ProcessGroup {
    let world: Communicator
    var rank: Int { world.rank }
    var size: Int { world.size }
    func sum(_ values: inout [Int64]) { world.allreduceSum(&values) }
    func maximum(_ values: inout [Double]) { world.allreduceMaximum(&values) }
    func gather(_ bytes: [UInt8]) -> [[UInt8]] { world.allgather(bytes) }
}

struct SelectJobMPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selectjob-mpi",
        abstract: "selectjob run across processes and nodes: mpirun -np P selectjob-mpi run JOB.json (or srun).",
        discussion: """
            Every rank reads only its own block of rows; rank 0 alone takes the job lock, writes the \
            database and prints. The selection is the same, bit for bit, as `selectjob run` gives. \
            Exit codes are selectjob's.
            """,
        version: selectjobVersion,
        subcommands: [DistributedRun.self]
    )
}

struct DistributedRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: Run.configuration.abstract, discussion: Run.configuration.discussion)

    @OptionGroup var options: Run

    func run() throws {
        let world = Communicator.world()
        defer { world.finalize() }
        try options.execute(group: MPIProcessGroup(world: world))
    }
}

// As in selectjob: a closed reader is exit 74, not SIGPIPE.
signal(SIGPIPE, SIG_IGN)
SelectJobMPI.main()
