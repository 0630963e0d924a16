import ArgumentParser
import Foundation
import Jobs
import Reporting
import Selection
import Store

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a self-contained HTML report of a run, or of runs side by side (--compare).",
        discussion: """
            The page holds the job and its parameters, the method's curve, a map of the pool (its two \
            leading principal components; density with the selected samples on top, coloured by label), \
            class shares of pool and selection, the distance from each pool sample to the selection with \
            the covering radius, the run's latest evaluation (selectjob evaluate) and the rounds it built \
            on. Inline SVG and CSS only: no scripts, no network. The pool is re-read from the run's \
            feature file (it must still have the run's fingerprint: else exit 65); runs compared must \
            share their pool (else exit 64). The file is written atomically; -o - is standard output; a \
            failed write is exit 74.
            """
    )

    @OptionGroup var database: ReadDatabaseOptions
    @Argument(help: "Run ids (succeeded runs); several need --compare.") var runs: [Int64] = []
    @Option(help: "The latest succeeded run of this job; repeatable.") var job: [String] = []
    @Flag(help: "Put several runs side by side (the same projection, overlaid histograms, one evaluation table).")
    var compare = false
    @Option(help: "The learning curves of this simulation (`selectjob simulate`, by its job's name) instead of runs; repeatable.")
    var simulation: [String] = []
    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write (- for standard output).", valueName: "file"))
    var output: String
    @Option(help: "Threads for the projection and distances; the page does not depend on it.")
    var threads: Int = ParallelChunks.processorCount

    func validate() throws {
        let count = runs.count + job.count
        if !simulation.isEmpty {
            guard count == 0, !compare else { throw ValidationError("--simulation draws simulations: give no run ids, --job or --compare") }
            if output.isEmpty { throw ValidationError("--output: the file name is empty") }
            return
        }
        guard count > 0 else { throw ValidationError("give a run id, --job NAME or --simulation NAME") }
        if count > 1, !compare { throw ValidationError("\(count) runs given: add --compare to put them side by side") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if output.isEmpty { throw ValidationError("--output: the file name is empty") }
    }

    func run() throws {
        let store = try database.open()
        if !simulation.isEmpty { return try simulationPage(store) }
        var ids = runs
        for name in job { ids.append(try query { () throws(StoreError) in try store.latestSucceededRun(job: name) }.id) }
        // One order everywhere on the page: as given (run ids, then --job), each run once.
        ids = ids.reduce(into: [Int64]()) { if !$0.contains($1) { $0.append($1) } }
        for id in ids { try requireSelection(try query { () throws(StoreError) in try store.run(id: id) }) }
        let picture: PoolPicture
        do { picture = try JobRunner.picture(runIDs: ids, store: store, threads: threads) } catch {
            printError(error.message)
            throw ExitCode(error.exitStatus.rawValue)
        }
        var reportRuns: [ReportRun] = []
        for entry in picture.runs {
            let id = entry.run.id
            reportRuns.append(ReportRun(
                run: entry.run, metrics: try query { () throws(StoreError) in try store.metrics(runID: id) },
                selectedRows: entry.selectedRows, nearestDistances: entry.nearestDistances, labelledRows: entry.labelledRows,
                earlierRuns: entry.earlierRuns, evaluation: entry.evaluation?.result, evaluationTest: entry.evaluation?.test))
        }
        let pool = ReportPool(featuresPath: picture.featuresPath, rows: picture.rows, columns: picture.columns,
                              x: picture.x, y: picture.y, labels: picture.labels, explainedShare: picture.plane.explainedShare)
        let html = Reports.html(pool: pool, runs: reportRuns, generatedAt: Date(), toolVersion: selectjobVersion)
        let protected = ProtectedFiles(ProtectedFiles.database(database.path)
                                       + picture.runs.flatMap { JobRunner.inputFiles(of: $0.run, store: store) })
        do { try OutputFile.write(Data(html.utf8), to: output, protecting: protected) } catch {
            printError(error.errorDescription ?? "\(error)")
            throw ExitCode((error.isUsage ? ExitStatus.badJob : ExitStatus.ioError).rawValue)
        }
        // Where the page went (not when it went to standard output, which is the page itself).
        if output != "-" {
            FileHandle.standardError.write(Data("wrote \(output) (\(String(format: "%.2f", Double(html.utf8.count) / 1e6)) MB)\n".utf8))
        }
    }

    /// `--simulation`: the learning curves page of the simulations named.
    private func simulationPage(_ store: SelectionStore) throws {
        var simulations: [[SimulationRecord]] = []
        for name in simulation {
            let records = try query { () throws(StoreError) in try store.simulationRounds(name) }
            guard !records.isEmpty else {
                printError("\(database.path): no simulation '\(name)' (selectjob simulate records one under its job's name)")
                throw ExitCode(ExitStatus.badJob.rawValue)
            }
            simulations.append(records)
        }
        let html = Reports.simulationHTML(simulations, generatedAt: Date(), toolVersion: selectjobVersion)
        do { try OutputFile.write(Data(html.utf8), to: output, protecting: ProtectedFiles(ProtectedFiles.database(database.path))) } catch {
            printError(error.errorDescription ?? "\(error)")
            throw ExitCode((error.isUsage ? ExitStatus.badJob : ExitStatus.ioError).rawValue)
        }
        if output != "-" {
            FileHandle.standardError.write(Data("wrote \(output) (\(String(format: "%.2f", Double(html.utf8.count) / 1e6)) MB)\n".utf8))
        }
    }
}
