import ArgumentParser
import Foundation
import Jobs
import Store

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete runs (with their selections and curves) by id, job or age.",
        discussion: """
            The filters combine: runs given by id, of --job, started more than --older-than days ago. \
            Each job's latest succeeded run (what latest_selections and export --job read) is kept \
            unless --include-latest; a run still marked running is never deleted, nor is a run whose \
            picks a job treats as labelled (its "labelled" names that run or its job): deleting it would \
            make the job forget those labels and select the samples again. Everything \
            that belongs to a deleted run goes with it in one transaction (foreign keys cascade). \
            --dry-run lists what would go; --vacuum compacts the file after.
            """
    )

    @Argument(help: "Run ids to delete.") var runIDs: [Int64] = []
    @Option(help: "Only runs of this job.") var job: String?
    @Option(help: ArgumentHelp("Only runs started more than this many days ago.", valueName: "days")) var olderThan: Double?
    @Flag(help: "Also delete a job's latest succeeded run.") var includeLatest = false
    @Flag(help: "List the runs that would be deleted, delete nothing.") var dryRun = false
    @Flag(help: "Compact the database file after deleting (VACUUM).") var vacuum = false
    @Option(name: .long, help: ArgumentHelp("Database (default: $SELECTJOB_DB, else ./selections.sqlite).", valueName: "path"))
    var db: String?

    func validate() throws {
        try checkDatabasePaths(db)
        guard !runIDs.isEmpty || job != nil || olderThan != nil else {
            throw ValidationError("say which runs: run ids, --job NAME or --older-than DAYS")
        }
        if let olderThan, !(olderThan >= 0 && olderThan.isFinite) {
            throw ValidationError("--older-than must be a number of days ≥ 0, got \(olderThan)")
        }
    }

    func run() throws {
        let path = db ?? ProcessInfo.processInfo.environment["SELECTJOB_DB"] ?? "selections.sqlite"
        guard FileManager.default.fileExists(atPath: path) else { throw fail(.missingDatabase(database: path)) }
        let store = try query { () throws(StoreError) in try SelectionStore(path: path) }
        for id in runIDs { _ = try query { () throws(StoreError) in try store.run(id: id) } }  // unknown id: exit 64
        var candidates = try query { () throws(StoreError) in try store.runs(job: job) }
        if !runIDs.isEmpty { candidates = candidates.filter { runIDs.contains($0.id) } }
        if let olderThan {
            let cutoff = Date().addingTimeInterval(-olderThan * 86_400)
            candidates = candidates.filter { $0.startedAt < cutoff }
        }
        var kept: [String] = []
        let latest = Set(candidates.map(\.job).uniqued().compactMap { name in
            try? store.latestSucceededRun(job: name).id
        })
        let holdingLabels = try query { () throws(StoreError) in try JobRunner.runsHoldingLabels(store: store) }
        let doomed = candidates.filter { run in
            if run.status == .running { kept.append("run \(run.id) (\(run.job)) is running"); return false }
            if let reason = holdingLabels[run.id] { kept.append("run \(run.id) (\(run.job)): \(reason)"); return false }
            if !includeLatest, latest.contains(run.id) {
                kept.append("run \(run.id) is the latest succeeded run of \(run.job) (--include-latest deletes it)")
                return false
            }
            return true
        }
        for line in kept { try emit("kept: \(line)") }
        let ids = doomed.map(\.id).sorted()
        if dryRun {
            try emit("would delete \(ids.count) run\(ids.count == 1 ? "" : "s")" + (ids.isEmpty ? "" : ": \(ids.map(String.init).joined(separator: ", "))"))
            return
        }
        let deleted = try query { () throws(StoreError) in try store.deleteRuns(ids: ids, vacuum: vacuum) }
        try emit("deleted \(deleted) run\(deleted == 1 ? "" : "s")" + (ids.isEmpty ? "" : ": \(ids.map(String.init).joined(separator: ", "))")
                 + (vacuum ? "; database compacted" : ""))
    }
}

extension Sequence where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
