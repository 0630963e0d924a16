import FeatureIO
import Foundation
import Store

extension JobRunner {
    /// The files run `run` read, each with what it is: its job file, its features, its method's inputs
    /// and its labelled files, as its recorded job names them. What an output must never replace. A
    /// recorded job that no longer parses gives its job file and features only. O(size of the job).
    public static func inputFiles(of run: RunRecord, store: SelectionStore) -> [(path: String, what: String)] {
        var files = [(path: run.jobPath, what: "the job file of run \(run.id)"),
                     (path: run.featuresPath, what: "the features of run \(run.id)")]
        guard let text = try? store.jobJSON(runID: run.id),
              let spec = try? JobSpec.parse(Data(text.utf8), file: run.jobPath,
                                            folder: URL(fileURLWithPath: run.jobPath).deletingLastPathComponent())
        else { return files }
        for (name, source) in spec.method.inputs.sorted(by: { $0.key < $1.key }) {
            files.append((source.path, "the method input '\(name)' of run \(run.id)"))
        }
        for case let .file(path, _, _) in spec.labelled {
            files.append((path, "a labelled file of run \(run.id)"))
        }
        return files
    }
}

extension JobRunner {
    /// The runs whose picks some job treats as labelled, each with why: for every job in the database,
    /// the `labelled` of its latest run's recorded job names earlier rounds (`{"job": J}`: every
    /// succeeded run of J; `{"run": N}`: run N). Deleting one would make that job forget labels it has
    /// and select those samples again. O(runs + size of the recorded jobs).
    public static func runsHoldingLabels(store: SelectionStore) throws(StoreError) -> [Int64: String] {
        let runs = try store.runs()
        var latestOfJob: [String: RunRecord] = [:]
        for run in runs where latestOfJob[run.job] == nil { latestOfJob[run.job] = run }  // newest first
        var held: [Int64: String] = [:]
        for (name, latest) in latestOfJob.sorted(by: { $0.key < $1.key }) {
            guard let text = try? store.jobJSON(runID: latest.id),
                  let spec = try? JobSpec.parse(Data(text.utf8), file: latest.jobPath,
                                                folder: URL(fileURLWithPath: latest.jobPath).deletingLastPathComponent())
            else { continue }
            for source in spec.labelled {
                switch source {
                case let .job(labelledJob):
                    for run in runs where run.job == labelledJob && run.status == .succeeded && held[run.id] == nil {
                        held[run.id] = "job \(name) counts its picks as labelled (its \"labelled\" names job \(labelledJob))"
                    }
                case let .run(id) where held[id] == nil:
                    held[id] = "job \(name) counts its picks as labelled (its \"labelled\" names run \(id))"
                default: continue
                }
            }
        }
        return held
    }
}
