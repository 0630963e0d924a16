import FeatureIO
import Foundation
@testable import Jobs
import Selection
import Testing

let jobFile = "/jobs/test.json"
let jobFolder = URL(fileURLWithPath: "/jobs")

func parse(_ json: String) throws(JobError) -> JobSpec {
    try JobSpec.parse(Data(json.utf8), file: jobFile, folder: jobFolder)
}

/// Wraps members into an otherwise valid job, so each case changes one thing.
func job(name: String = "\"t\"", features: String = #"{"path": "f.h5"}"#, method: String = #"{"name": "activeft"}"#,
         budget: String = #"{"count": 5}"#, extra: String = "") -> String {
    #"{"name": \#(name), "features": \#(features), "method": \#(method), "budget": \#(budget)\#(extra)}"#
}

@Suite struct JobSpecTests {
    @Test func minimalJobGetsTheReferenceDefaults() throws {
        let spec = try parse(job())
        #expect(spec.name == "t")
        var expected = FeatureSource(path: "/jobs/f.h5", dataset: "features")
        expected.datasetIsDefault = true
        #expect(spec.features == expected)
        #expect(spec.method.name == "activeft")
        #expect(spec.method.configured.parameters as? ActiveFTParameters
            == ActiveFTParameters(temperature: 0.07, iterations: 300, learningRate: 0.001, balance: 1.0,
                                  initialization: .random, batchSize: nil))
        #expect(spec.budget == .count(5))
        #expect(spec.seed == 0)
        #expect(spec.database == nil)
    }

    @Test func everyFieldIsRead() throws {
        let spec = try parse(#"""
            {"name": "cifar10-activeft-1pct",
             "features": {"path": "../data/c.h5", "dataset": "/train/features", "ids": "ids", "labels": "labels"},
             "method": {"name": "activeft", "temperature": 0.1, "iterations": 12, "learning_rate": 0.01,
                        "balance": 0.5, "init": {"rows": [3, 1, 2]}, "batch_size": 64},
             "budget": {"percent": 1.5}, "seed": 42, "database": "out/sel.sqlite"}
            """#)
        #expect(spec.features == FeatureSource(path: "/data/c.h5", dataset: "/train/features", ids: "ids", labels: "labels"))
        #expect(spec.method.configured.parameters as? ActiveFTParameters
            == ActiveFTParameters(temperature: 0.1, iterations: 12, learningRate: 0.01, balance: 0.5,
                                  initialization: .rows([3, 1, 2]), batchSize: 64))
        #expect(spec.budget == .percent(1.5))
        #expect(spec.seed == 42)
        #expect(spec.database == "/jobs/out/sel.sqlite")
        #expect(try parse(job(method: #"{"name": "activeft", "init": "fps"}"#)).method.configured.parameters
            as? ActiveFTParameters == ActiveFTParameters(initialization: .farthestPoint))
        #expect(try parse(job(method: #"{"name": "activeft", "init": "kmeans++"}"#)).method.configured.parameters
            as? ActiveFTParameters == ActiveFTParameters(initialization: .kMeansPlusPlus))
    }

    @Test(arguments: ["0 3 * * *", "*/15 * * * *", "0 0 1,15 * MON-FRI", "30 2 * JAN,jul 0", "5-10/2 1-23/3 31 12 7"])
    func validSchedulesAreAccepted(schedule: String) throws {
        #expect(try parse(job(extra: ", \"schedule\": \"\(schedule)\"")).schedule?.description == schedule)
    }

    @Test func npyFeaturesAreRecognisedByExtensionOrFormat() throws {
        #expect(try parse(job(features: #"{"path": "dump.npy"}"#)).features
            == FeatureSource(path: "/jobs/dump.npy", dataset: "(npy array)", format: .npy))
        #expect(try parse(job(features: #"{"path": "dump.bin", "format": "npy"}"#)).features.format == .npy)
        #expect(try parse(job(features: #"{"path": "x.NPY", "format": "hdf5"}"#)).features.format == .hdf5)
    }

    @Test func labelledSourcesAreRead() throws {
        #expect(try parse(job()).labelled.isEmpty)
        #expect(try parse(job(extra: #", "labelled": {"job": "round1"}"#)).labelled == [.job("round1")])
        let several = try parse(job(extra: #", "labelled": [{"run": 12}, {"path": "../l.h5"}, {"path": "m.h5", "dataset": "picked"}]"#))
        #expect(several.labelled == [.run(12), .file(path: "/l.h5"), .file(path: "/jobs/m.h5", dataset: "picked")])
    }

    @Test func predictionsInputsAreRead() throws {
        let spec = try parse(job(method: #"{"name": "entropy", "predictions": {"path": "p.h5", "dataset": "logits", "kind": "logits"}}"#))
        var source = FeatureSource(path: "/jobs/p.h5", dataset: "logits")
        source.refusesZeroRows = false
        #expect(spec.method.inputs == ["predictions": source])
        #expect(spec.method.predictionKinds == ["predictions": .logits])
        let plain = try parse(job(method: #"{"name": "margin", "predictions": {"path": "p.h5"}}"#))
        #expect(plain.method.inputs["predictions"]?.dataset == "predictions")
        #expect(plain.method.predictionKinds == ["predictions": .probabilities])
    }

    @Test func vtlJobsAreRead() throws {
        let targeted = try parse(job(method: #"""
            {"name": "vtl", "noise_variance": 0.1, "normalize": true,
             "targets": {"path": "../val.h5", "dataset": "emb", "rows": [10, 20]}, "prefilter": {"k": 500}}
            """#))
        #expect(targeted.method.configured.parameters as? VTLParameters
            == VTLParameters(noiseVariance: 0.1, normalize: true, prefilter: 500))
        #expect(targeted.method.inputs == ["targets": FeatureSource(path: "/val.h5", dataset: "emb", rows: 10..<20)])
        let undirected = try parse(job(method: #"{"name": "vtl"}"#))
        #expect(undirected.method.configured.parameters as? VTLParameters
            == VTLParameters(noiseVariance: 0.01, normalize: false, prefilter: nil))
        #expect(undirected.method.inputs.isEmpty)
    }

    @Test(arguments: [(50_000, 1.0, 500), (50_000, 2.0, 1000), (2000, 5.0, 100), (999, 1.0, 9), (10, 5.0, 0)])
    func percentBudgetFloorsAsTheReferenceDoes(poolSize: Int, percent: Double, expected: Int) {
        #expect(JobSpec.Budget.percent(percent).count(poolSize: poolSize) == expected)
    }

    /// A table of bad jobs, each with the exact message the user sees.
    @Test(arguments: [
        ("{", "not valid JSON"),
        ("[1, 2]", "$: expected an object, got array [1, 2]"),
        (job(extra: #", "budgets": 3"#), #"budgets: unknown key; expected one of "name", "features", "method", "budget", "seed", "database", "schedule", "labelled", "filter", "dedup", "balance""#),
        (job(extra: #", "labelled": []"#), "labelled: expected a source object or a non-empty array of them, got []"),
        (job(extra: #", "labelled": {}"#), #"labelled: expected exactly one of "job", "run" or "path", got none"#),
        (job(extra: #", "labelled": {"job": "a", "run": 3}"#), #"labelled: expected exactly one of "job", "run" or "path", got job and run"#),
        (job(extra: #", "labelled": [{"job": "a"}, {"run": 0}]"#), "labelled[1].run: expected an integer ≥ 1, got 0"),
        (job(extra: #", "labelled": {"job": "a", "dataset": "ids"}"#), #"labelled.dataset: only used with "path""#),
        (job(extra: #", "labelled": {"jobs": "a"}"#), #"labelled.jobs: unknown key; expected one of "job", "run", "path", "dataset", "as", "labels""#),
        (job(method: #"{"name": "information_density", "targets": {"path": "t.h5"}}"#), "method.predictions: required key is missing"),
        (job(method: #"{"name": "margin", "predictions": {"path": "p.h5", "kind": "odds"}}"#), #"method.predictions.kind: expected "probabilities" or "logits", got string "odds""#),
        (job(method: #"{"name": "margin", "predictions": {"path": "p.h5", "rows": [0, 5]}}"#), #"method.predictions.rows: unknown key; expected one of "path", "dataset", "kind", "ids""#),
        (job(extra: #", "schedule": "0 3 * *""#), #"schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 4, got "0 3 * *""#),
        (job(extra: #", "schedule": "61 3 * * *""#), #"schedule: the minute field '61' is not a value, range, list or step within its bounds, got "61 3 * * *""#),
        (job(extra: #", "schedule": "0 5-2 * * *""#), #"schedule: the hour field '5-2' is not a value, range, list or step within its bounds, got "0 5-2 * * *""#),
        (job(extra: #", "schedule": "0 3 * * FUNDAY""#), #"schedule: the day of week field 'FUNDAY' is not a value, range, list or step within its bounds, got "0 3 * * FUNDAY""#),
        (job(extra: #", "schedule": "@daily""#), #"schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 1, got "@daily""#),
        (job(extra: #", "schedule": 3"#), "schedule: expected a string, got integer 3"),
        (job(extra: #", "seed": 1, "seed": 2"#), "seed: key appears more than once"),
        (job(method: #"{"name": "activeft", "temperature": 0.1, "temperature": 0.2}"#), "method.temperature: key appears more than once"),
        (job(method: #"{"name": "activeft", "init": {"rows": [1], "rows": [2]}}"#), "method.init.rows: key appears more than once"),
        (#"{"features": {"path": "f.h5"}, "method": {"name": "activeft"}, "budget": {"count": 1}}"#, "name: required key is missing"),
        (job(name: "3"), "name: expected a string, got integer 3"),
        (job(name: "\"\""), #"name: expected a non-empty string, got """#),
        (job(name: "\"has space\""), #"name: expected 1 to 128 letters, digits, '.', '_' or '-', got "has space""#),
        (job(features: "\"f.h5\""), #"features: expected an object, got string "f.h5""#),
        (job(features: #"{"dataset": "x"}"#), "features.path: required key is missing"),
        (job(features: #"{"path": "f.h5", "datset": "x"}"#), #"features.datset: unknown key; expected one of "path", "format", "layout", "dataset", "ids", "labels""#),
        (job(features: #"{"path": "f.h5", "format": "parquet"}"#), #"features.format: expected "hdf5", "npy" or "npz", got string "parquet""#),
        (job(features: #"{"path": "f.npy", "dataset": "features"}"#), "features.dataset: not used with .npy features: the file holds one array"),
        (job(features: #"{"path": "f.npy", "layout": "activeft", "ids": "ids.npy"}"#), #"features.ids: not used with "layout": "activeft" (N × (d+1), the label in the last column; the row is the id)"#),
        (job(features: #"{"path": "f.h5", "layout": "activeft"}"#), "features.layout: only for .npy features (HDF5 and .npz name their arrays)"),
        (job(features: #"{"path": "f.npy", "layout": "dump"}"#), #"features.layout: expected "plain" or "activeft", got string "dump""#),
        (job(features: #"{"path": "f.h5", "format": "activeft"}"#), #"features.format: expected "hdf5", "npy" or "npz", got string "activeft""#),
        (job(features: #"{"path": "f.h5", "ids": 1}"#), "features.ids: expected a string, got integer 1"),
        (job(method: #""activeft""#), #"method: expected an object, got string "activeft""#),
        (job(method: #"{"temperature": 0.1}"#), "method.name: required key is missing"),
        (job(method: #"{"name": "kmedians"}"#), "method.name: expected one of " + MethodRegistry.names.map { "\"\($0)\"" }.joined(separator: ", ") + #", got "kmedians""#),
        (job(method: #"{"name": "vtl", "temperature": 0.1}"#), #"method.temperature: unknown key; expected one of "name", "noise_variance", "normalize", "prefilter", "targets""#),
        (job(method: #"{"name": "vtl", "noise_variance": 0}"#), "method.noise_variance: expected a number > 0, got 0"),
        (job(method: #"{"name": "vtl", "normalize": "yes"}"#), #"method.normalize: expected true or false, got string "yes""#),
        (job(method: #"{"name": "vtl", "targets": "t.h5"}"#), #"method.targets: expected an object, got string "t.h5""#),
        (job(method: #"{"name": "vtl", "targets": {"dataset": "f"}}"#), "method.targets.path: required key is missing"),
        (job(method: #"{"name": "vtl", "targets": {"path": "t.h5", "rows": [5]}}"#), "method.targets.rows: expected [start, end], got array [5]"),
        (job(method: #"{"name": "vtl", "targets": {"path": "t.h5", "rows": [5, 5]}}"#), "method.targets.rows: expected start < end, got [5, 5]"),
        (job(method: #"{"name": "vtl", "targets": {"path": "t.h5", "rows": [-1, 5]}}"#), "method.targets.rows[0]: expected an integer in 0...2147483647, got -1"),
        (job(method: #"{"name": "vtl", "targets": {"path": "t.h5", "row": [0, 5]}}"#), #"method.targets.row: unknown key; expected one of "path", "dataset", "rows""#),
        (job(method: #"{"name": "vtl", "targets": {"path": "t.h5"}, "prefilter": {"k": 0}}"#), "method.prefilter.k: expected an integer ≥ 1, got 0"),
        (job(method: #"{"name": "vtl", "targets": {"path": "t.h5"}, "prefilter": 10}"#), "method.prefilter: expected an object, got integer 10"),
        (job(method: #"{"name": "activeft", "temp": 0.1}"#), #"method.temp: unknown key; expected one of "name", "temperature", "iterations", "learning_rate", "balance", "init", "batch_size""#),
        (job(method: #"{"name": "activeft", "temperature": 0}"#), "method.temperature: expected a number > 0.0001, got 0"),
        (job(method: #"{"name": "activeft", "temperature": -0.5}"#), "method.temperature: expected a number > 0.0001, got -0.5"),
        (job(method: #"{"name": "activeft", "temperature": "hot"}"#), #"method.temperature: expected a number, got string "hot""#),
        (job(method: #"{"name": "activeft", "iterations": 2.5}"#), "method.iterations: expected an integer, got number 2.5"),
        (job(method: #"{"name": "activeft", "iterations": -1}"#), "method.iterations: expected an integer in 0...1000000, got -1"),
        (job(method: #"{"name": "activeft", "learning_rate": null}"#), "method.learning_rate: expected a number, got null"),
        (job(method: #"{"name": "activeft", "balance": 0}"#), "method.balance: expected a number > 0, got 0"),
        (job(method: #"{"name": "activeft", "init": "kmeans"}"#), #"method.init: expected "random", "fps", "kmeans++" or {"rows": [...]}, got "kmeans""#),
        (job(method: #"{"name": "activeft", "init": {"rows": []}}"#), "method.init.rows: expected at least one row, got []"),
        (job(method: #"{"name": "activeft", "init": {"rows": [1, -2]}}"#), "method.init.rows[1]: expected an integer in 0...2147483647, got -2"),
        (job(method: #"{"name": "activeft", "init": {"rows": "1,2"}}"#), #"method.init.rows: expected an array of row indices, got string "1,2""#),
        (job(method: #"{"name": "activeft", "init": {"row": [1]}}"#), #"method.init.row: unknown key; expected one of "rows""#),
        (job(method: #"{"name": "activeft", "batch_size": 0}"#), "method.batch_size: expected an integer ≥ 1, got 0"),
        (job(budget: "10"), "budget: expected an object, got integer 10"),
        (job(budget: "{}"), #"budget: expected exactly one of "percent" or "count", got neither"#),
        (job(budget: #"{"percent": 1, "count": 5}"#), #"budget: expected exactly one of "percent" or "count", got both"#),
        (job(budget: #"{"percent": 0}"#), "budget.percent: expected a number in (0, 100], got 0"),
        (job(budget: #"{"percent": 150}"#), "budget.percent: expected a number in (0, 100], got 150"),
        (job(budget: #"{"count": 0}"#), "budget.count: expected an integer ≥ 1, got 0"),
        (job(budget: #"{"count": "5"}"#), #"budget.count: expected an integer, got string "5""#),
        (job(budget: #"{"fraction": 0.1}"#), #"budget.fraction: unknown key; expected one of "percent", "count""#),
        (job(extra: #", "seed": -1"#), "seed: expected an integer in 0...9007199254740991, got -1"),
        (job(extra: #", "seed": 1.5"#), "seed: expected an integer, got number 1.5"),
        (job(extra: #", "database": false"#), "database: expected a string, got boolean false"),
        (job(extra: #", "filter": {"dataset": "split"}"#), "filter.values: required key is missing"),
        (job(extra: #", "filter": {"dataset": "split", "values": []}"#),
         "filter.values: expected a non-empty list of strings or integers, got array []"),
        (job(extra: #", "filter": {"dataset": "split", "values": [1.5]}"#), "filter.values[0]: expected a string or an integer, got number 1.5"),
        (job(extra: #", "filter": {"values": ["a"]}"#), "filter.dataset: required key is missing"),
        (job(extra: #", "dedup": {"threshold": 1}"#), "dedup.threshold: expected a cosine similarity in (0, 1), got 1"),
        (job(extra: #", "dedup": {"threshold": 0.9, "k": 2}"#), #"dedup.k: unknown key; expected one of "threshold""#),
        (job(extra: #", "balance": {"by": "colour"}"#), #"balance.by: expected "labels", "predicted" or "metadata", got "colour""#),
        (job(extra: #", "balance": {"by": "metadata"}"#), "balance.dataset: required key is missing"),
        (job(extra: #", "balance": {"by": "predicted", "dataset": "x"}"#), #"balance.dataset: only with "by": "metadata""#),
        (job(extra: #", "balance": {"by": "labels"}"#),
         #"balance.by: "labels" groups by the pool's labels, but the job's features give no "labels""#),
        (job(extra: #", "balance": {"by": "predicted", "alpha": 5}"#), "balance.alpha: expected a number in [0, 4], got 5"),
        (job(extra: #", "balance": {"by": "metadata", "dataset": "x", "probe_c": 3}"#), #"balance.probe_c: only with "by": "predicted""#),
    ])
    func badJobIsRejectedWithItsMessage(json: String, expected: String) {
        do {
            _ = try parse(json)
            Issue.record("accepted: \(json)")
        } catch {
            let message = error.errorDescription ?? ""
            if case .malformedJSON = error {
                #expect(message.hasPrefix("\(jobFile): \(expected)"), "\(message)")
            } else {
                #expect(message == "\(jobFile): \(expected)")
            }
        }
    }

    /// Issue 10 item 15: keys are compared decoded; JSON syntax errors say where; trailing commas fail.
    @Test(arguments: [
        (#"{"seed": 1, "se\u0065d": 2}"#, "seed: key appears more than once"),
        (#"{"method": {"name": "vtl", "n\u0061me": "vtl"}}"#, "method.name: key appears more than once"),
        ("{\"name\": \"x\",\n \"seed\": 1,\n}", "not valid JSON (line 3, column 1: trailing comma before '}')"),
        (#"{"budget": {"count": [1, 2,]}}"#, "not valid JSON (line 1, column 28: trailing comma before ']')"),
        (#"{"name": 'x'}"#, "not valid JSON (line 1, column 10: expected a value, found ''')"),
        (#"{"seed": 01}"#, "not valid JSON (line 1, column 10: leading zero in a number)"),
        (#"{"name": "x"} {}"#, "not valid JSON (line 1, column 15: unexpected '{' after the JSON value)"),
        (String(repeating: "[", count: 300), "not valid JSON (line 1, column 257: nesting deeper than 256 levels)"),
    ])
    func strictJSONNamesWhereItIsWrong(json: String, expected: String) {
        do {
            _ = try parse(json)
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.errorDescription == "\(jobFile): \(expected)")
        }
    }

    @Test func keysRepeatedInDifferentObjectsOrInsideStringsAreFine() throws {
        let spec = try parse(#"{"name": "n", "features": {"path": "name.h5", "dataset": "x\": \"name"}, "method": {"name": "activeft"}, "budget": {"count": 2}}"#)
        #expect(spec.features.dataset == #"x": "name"#)
        #expect(spec.name == "n")
    }

    @Test func missingAndDirectoryJobFilesAreNamed() throws {
        #expect(throws: JobError.unreadable(file: "/no/such/job.json", reason: "no such file")) {
            _ = try JobSpec.load(path: "/no/such/job.json")
        }
        #expect(throws: JobError.unreadable(file: "/tmp", reason: "is a directory")) { _ = try JobSpec.load(path: "/tmp") }
    }

    @Test func shippedJobsAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let shipped = ["demo.json": "activeft", "demo-kmeans.json": "kmeans", "cifar10.json": "activeft",
                       "demo-vtl.json": "vtl", "cifar10-vtl.json": "vtl", "demo-round1.json": "kmeans",
                       "demo-round2.json": "vtl", "demo-rounds-kmeans.json": "kmeans",
                       "demo-rounds-dropquery.json": "dropquery"]
        for (name, method) in shipped {
            let spec = try JobSpec.load(path: root.appendingPathComponent("jobs/\(name)").path).spec
            #expect(spec.method.name == method)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("jobs").path)
        #expect(Set(files.filter { $0.hasSuffix(".json") }) == Set(shipped.keys), "a job in jobs/ is not checked here")
    }
}

/// schemas/job.schema.json and the parser accept the same keys and defaults.
@Suite struct JobSchemaTests {
    let schema: [String: Any]

    init() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/job.schema.json")
        schema = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func properties(_ object: [String: Any]) -> Set<String> {
        Set((object["properties"] as? [String: Any] ?? [:]).keys)
    }

    func property(_ object: [String: Any], _ name: String) -> [String: Any] {
        (object["properties"] as! [String: Any])[name] as! [String: Any]
    }

    var methodBranches: [[String: Any]] { property(schema, "method")["oneOf"] as! [[String: Any]] }

    func methodBranch(_ name: String) -> [String: Any]? {
        methodBranches.first { (property($0, "name")["const"] as? String) == name }
    }

    @Test func everyObjectListsExactlyTheKeysTheParserAccepts() {
        #expect(properties(schema) == Set(JobSpec.acceptedKeys["$"]!))
        #expect(schema["additionalProperties"] as? Bool == false)
        let features = property(schema, "features")
        #expect(properties(features) == Set(JobSpec.acceptedKeys["features"]!))
        let budgets = property(schema, "budget")["oneOf"] as! [[String: Any]]
        #expect(budgets.reduce(into: Set<String>()) { $0.formUnion(properties($1)) } == Set(JobSpec.acceptedKeys["budget"]!))
        let definitions = schema["$defs"] as! [String: Any]
        let input = definitions["featureInput"] as! [String: Any]
        #expect(properties(input) == Set(JobSpec.acceptedKeys["method input"]!))
        let predictions = definitions["predictionsInput"] as! [String: Any]
        #expect(properties(predictions) == Set(JobSpec.acceptedKeys["predictions input"]!))
        let validation = definitions["validationInput"] as! [String: Any]
        #expect(properties(validation) == Set(JobSpec.acceptedKeys["validation input"]!))
        let labelled = definitions["labelledSource"] as! [String: Any]
        #expect(properties(labelled) == Set(JobSpec.acceptedKeys["labelled"]!))
        for object in [schema, features, input, predictions, validation, labelled] + budgets + methodBranches {
            #expect(object["additionalProperties"] as? Bool == false)
        }
    }

    /// The schema's method branches are the registry's methods, key for key and default for default.
    @Test func everyRegisteredMethodHasItsBranch() throws {
        #expect(methodBranches.count == MethodRegistry.all.count)
        for method in MethodRegistry.all {
            let branch = try #require(methodBranch(method.name), "no schema branch for \(method.name)")
            #expect(properties(branch) == Set(JobSpec.methodKeys(method)), "\(method.name)")
            for input in method.inputs {
                let definition = switch input.kind {
                case .features: "#/$defs/featureInput"
                case .predictions: "#/$defs/predictionsInput"
                case .validation: "#/$defs/validationInput"
                }
                #expect(property(branch, input.name)["$ref"] as? String == definition, "\(method.name).\(input.name)")
                #expect(((branch["required"] as? [String]) ?? []).contains(input.name) == input.required, "\(method.name).\(input.name)")
            }
            for field in method.parameterFields {
                let declared = property(branch, field.name)
                let where_ = "\(method.name).\(field.name)"
                #expect(numeric(try schemaDefault(method.name, field.name)) == numeric(field.defaultValue), "\(where_) default")
                switch field.kind {
                case let .number(minimum, maximum):
                    #expect(declared["type"] as? String == "number", "\(where_)")
                    #expect((declared["exclusiveMinimum"] as? NSNumber)?.doubleValue == minimum, "\(where_)")
                    #expect((declared["maximum"] as? NSNumber)?.doubleValue == maximum, "\(where_)")
                case let .integer(range):
                    #expect(declared["type"] as? String == "integer", "\(where_)")
                    #expect((declared["minimum"] as? NSNumber)?.int64Value == range.lowerBound, "\(where_)")
                    #expect((declared["maximum"] as? NSNumber)?.int64Value
                        == (range.upperBound == Int64.max ? nil : range.upperBound), "\(where_)")
                case .boolean:
                    #expect(declared["type"] as? String == "boolean", "\(where_)")
                case let .choice(names):
                    #expect(declared["enum"] as? [String] == names, "\(where_)")
                case .structured:
                    #expect(declared["oneOf"] != nil || declared["type"] as? String == "object", "\(where_)")
                }
            }
        }
    }

    /// Integers as numbers, so that 1 and 1.0 compare equal as JSON does.
    func numeric(_ value: ParameterValue?) -> ParameterValue? {
        if case let .integer(i)? = value { return .number(Double(i)) }
        return value
    }

    /// The schema's default for a method's parameter, parsed as job files are (so 1.0 stays a number).
    func schemaDefault(_ method: String, _ field: String) throws -> ParameterValue? {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/job.schema.json")
        func member(_ value: ParameterValue?, _ key: String) -> ParameterValue? {
            if case let .object(members, _)? = value { return members[key] }
            return nil
        }
        guard case let .array(branches)? = member(member(member(try JSONValue.parse(Data(contentsOf: url)), "properties"), "method"), "oneOf")
        else { return nil }
        let branch = branches.first { member(member(member($0, "properties"), "name"), "const") == .string(method) }
        return member(member(member(branch, "properties"), field), "default")
    }

    @Test func schemaDefaultsAreTheParsersDefaults() {
        #expect(property(schema, "seed")["maximum"] as? Int64 == JobSpec.maximumSeed)
        #expect(property(property(schema, "features"), "dataset")["default"] as? String == "features")
    }
}
