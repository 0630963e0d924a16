import Foundation
@testable import Selection
import Testing

/// Properties every registered method must have, checked by walking the registry.
@Suite struct MethodRegistryTests {
    /// A small clustered pool: 12 directions with noise, so clustering methods have structure to find.
    static func pool(rows: Int = 300, columns: Int = 12, seed: UInt64 = 5) -> FeatureMatrix {
        var generator = SeededGenerator(seed: seed)
        let centres = RandomProblem.features(rows: 12, columns: columns, generator: &generator)
        var values: [Float] = []
        for i in 0..<rows {
            let c = i % 12
            for j in 0..<columns {
                values.append(centres.values[c * columns + j] + 0.3 * Float(RandomProblem.gaussian(&generator)))
            }
        }
        return FeatureMatrix(rows: rows, columns: columns, values: values)
    }

    /// Class probabilities for `rows` samples over 4 classes, from a seeded softmax.
    static func predictions(rows: Int, seed: UInt64 = 9) -> FeatureMatrix {
        var generator = SeededGenerator(seed: seed)
        var values: [Float] = []
        for _ in 0..<rows {
            let logits = (0..<4).map { _ in 2 * RandomProblem.gaussian(&generator) }
            let total = logits.reduce(0) { $0 + exp($1) }
            values += logits.map { Float(exp($0) / total) }
        }
        return FeatureMatrix(rows: rows, columns: 4, values: values)
    }

    /// The required inputs of `method` for `pool`: the pool itself as targets, or predictions for it.
    static func requiredInputs(_ method: any SelectionMethod.Type, pool: FeatureMatrix) -> [String: FeatureMatrix] {
        var inputs: [String: FeatureMatrix] = [:]
        // Required inputs, and predictions wherever a method reads them (optional for the uncertainty
        // methods, whose probe otherwise needs labelled samples).
        for input in method.inputs where input.required || input.kind == .predictions {
            switch input.kind {
            case .features: inputs[input.name] = pool
            case .predictions: inputs[input.name] = predictions(rows: pool.rows)
            case .validation: inputs[input.name] = pool.selecting(rows: Array(0..<60))
            }
        }
        return inputs
    }

    /// For validation inputs: the model is wrong on every third row.
    static func outcomes(_ method: any SelectionMethod.Type) -> [String: [Bool]] {
        Dictionary(uniqueKeysWithValues: method.inputs.filter { $0.kind == .validation }.map { ($0.name, (0..<60).map { $0 % 3 != 0 }) })
    }

    /// A problem for `method` on `pool`: its required inputs, and labelled samples where it needs them.
    static func problem(_ method: any SelectionMethod.Type, pool: FeatureMatrix, budget: Int, labelled: [Int] = [])
        -> SelectionProblem {
        var labelled = labelled
        if labelled.isEmpty, case .required = method.labelledUse { labelled = [1, 2, 3, 5, 8] }
        // The labelled samples' classes (their cluster, in three classes), for methods that fit a probe.
        return SelectionProblem(pool: pool, budget: budget, inputs: requiredInputs(method, pool: pool), labelled: labelled,
                                labelledClasses: labelled.map { Int64($0 % 12 % 3) },
                                outcomes: outcomes(method))
    }

    static func run(_ method: any SelectionMethod.Type, pool: FeatureMatrix, budget: Int, seed: UInt64 = 1,
                    threads: Int = 2, labelled: [Int] = []) throws -> SelectionResult {
        var context = SelectionContext(seed: seed, threads: threads)
        return try method.withDefaults.select(problem(method, pool: pool, budget: budget, labelled: labelled), &context)
    }

    @Test func namesAreUniqueAndLookedUp() {
        #expect(Set(MethodRegistry.names).count == MethodRegistry.all.count)
        for method in MethodRegistry.all {
            #expect(MethodRegistry.method(named: method.name).map(ObjectIdentifier.init) == ObjectIdentifier(method))
        }
        #expect(MethodRegistry.method(named: "kmedians") == nil)
    }

    /// The README's method table and docs/methods.md list every registered method and every parameter
    /// and input of each, with the parameter's default.
    @Test func docsDescribeEveryMethodParameterAndDefault() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let reference = try String(contentsOf: root.appendingPathComponent("docs/methods.md"), encoding: .utf8)
        let sections = reference.components(separatedBy: "\n**`").dropFirst()
        for method in MethodRegistry.all {
            #expect(readme.contains("| `\(method.name)` |"), "README's method table lacks \(method.name)")
            guard let section = sections.first(where: { $0.hasPrefix("\(method.name)`**") }) else {
                Issue.record("docs/methods.md lacks \(method.name)")
                continue
            }
            let body = section.components(separatedBy: "\n\n**").first ?? section
            for field in method.parameterFields {
                let shown = field.defaultValue.map { "`\($0.quoted)`" } ?? "none"
                #expect(body.contains("| `\(field.name)` |") && body.contains(shown),
                        "docs/methods.md: \(method.name).\(field.name) missing or its default \(shown) not shown")
            }
            for input in method.inputs {
                #expect(body.contains("| `\(input.name)` |"), "docs/methods.md: \(method.name)'s input \(input.name) missing")
            }
        }
    }

    @Test func everyDeclaredDefaultIsOfItsKindAndReadsBackAsTheDefaultParameters() throws {
        for method in MethodRegistry.all {
            var members: [String: ParameterValue] = [:]
            for field in method.parameterFields {
                if let value = field.defaultValue {
                    try ParameterReader.check(value, as: field)
                    members[field.name] = value
                }
                #expect(!field.help.isEmpty, "\(method.name).\(field.name) has no help")
            }
            // Giving every default explicitly configures the same parameters as giving none.
            let explicit = try method.configure(members), implicit = try method.configure([:])
            #expect(explicit.effective == implicit.effective, "\(method.name)")
            #expect(!method.summary.isEmpty && !method.reference.isEmpty)
        }
    }

    @Test(arguments: MethodRegistry.names)
    func selectsTheBudgetInDistinctRowsIdenticallyForEveryThreadCount(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        let pool = Self.pool()
        let one = try Self.run(method, pool: pool, budget: 15, threads: 1)
        let two = try Self.run(method, pool: pool, budget: 15, threads: 2)
        let three = try Self.run(method, pool: pool, budget: 15, threads: 3)
        #expect(one.picks.count == 15)
        #expect(Set(one.picks.map(\.row)).count == 15)
        #expect(one.picks.allSatisfy { (0..<pool.rows).contains($0.row) && $0.score.isFinite })
        #expect(one.picks == two.picks && one.picks == three.picks)
        #expect(one.curve == two.curve)
        // The same seed gives the same selection; the selection is a function of the seed.
        #expect(try Self.run(method, pool: pool, budget: 15).picks == one.picks)
    }

    @Test(arguments: MethodRegistry.names)
    func rejectsABudgetLargerThanThePool(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        let inputs = Dictionary(uniqueKeysWithValues: method.inputs.filter(\.required).map { ($0.name, (rows: 3, columns: 4)) })
        let shape = ProblemShape(poolSize: 10, width: 4, budget: 11, inputs: inputs)
        #expect(throws: SelectionError.budgetOutOfRange(budget: 11, poolSize: 10)) {
            try method.withDefaults.validate(shape)
        }
    }

    /// Samples labelled in earlier rounds are never selected again, whatever the method does with them,
    /// and the selection is still the budget in distinct rows, the same for every thread count.
    @Test(arguments: MethodRegistry.names)
    func neverSelectsLabelledSamples(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        let pool = Self.pool()
        let labelled = [17, 3, 250, 101, 44, 299, 0, 128]
        let one = try Self.run(method, pool: pool, budget: 20, threads: 1, labelled: labelled)
        let two = try Self.run(method, pool: pool, budget: 20, threads: 2, labelled: labelled)
        #expect(one.picks.count == 20)
        #expect(Set(one.picks.map(\.row)).count == 20)
        #expect(Set(one.picks.map(\.row)).isDisjoint(with: labelled), "\(name)")
        #expect(one.picks == two.picks)
    }

    /// A budget larger than the unlabelled samples is refused before any work.
    @Test(arguments: MethodRegistry.names)
    func rejectsABudgetLargerThanTheUnlabelledSamples(name: String) throws {
        let method = MethodRegistry.method(named: name)!
        let inputs = Dictionary(uniqueKeysWithValues: method.inputs.filter(\.required).map {
            ($0.name, $0.kind == .predictions ? (rows: 10, columns: 4) : (rows: 3, columns: 4))
        })
        let shape = ProblemShape(poolSize: 10, width: 4, budget: 8, inputs: inputs, labelledCount: 3)
        #expect(throws: SelectionError.budgetExceedsUnlabelled(budget: 8, unlabelled: 7, labelled: 3)) {
            try method.withDefaults.validate(shape)
        }
    }

    /// The error a method throws when asked to stop before its first step, if any.
    static func errorWhenStopped(_ method: any SelectionMethod.Type) -> SelectionError? {
        var context = SelectionContext(seed: 1, threads: 1, shouldStop: { true })
        do {
            let pool = pool()
            _ = try method.withDefaults.select(problem(method, pool: pool, budget: 10), &context)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: MethodRegistry.names)
    func stopsWhenAsked(name: String) {
        let error = Self.errorWhenStopped(MethodRegistry.method(named: name)!)
        // Random sampling and cosine similarity (one pass, then a top-K) have no steps to stop between.
        #expect(error == (["random", "cosine"].contains(name) ? nil : .cancelled))
    }
}
