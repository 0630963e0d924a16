@testable import Selection
import Testing

/// `typiclust_switch`: on either side of the switch point, exactly the method it names.
@Suite struct TypiClustSwitchTests {
    static func run(_ method: ConfiguredMethod, _ problem: SelectionProblem) throws -> SelectionResult {
        var context = SelectionContext(seed: 6, threads: 2)
        return try method.select(problem, &context)
    }

    /// 40 labelled samples of 4 classes: 10 per class. A switch point above that runs typiclust, one at
    /// or below it dropquery (with the switch's probe C), pick for pick and score for score.
    @Test func runsTypiClustBelowTheSwitchAndDropQueryFromIt() throws {
        let problem = DropQueryTests.problem(budget: 20, labelledCount: 40)
        #expect(TypiClustSwitch.labelsPerClass(problem.labelledClasses!) == 10)
        let typical = try Self.run(TypiClustSwitch.configure(["switch_per_class": .number(10.5)]), problem)
        let typiclust = try Self.run(TypiClust.withDefaults, problem)
        #expect(typical.picks == typiclust.picks && typical.curve == typiclust.curve)
        #expect(typical.notes == ["switched_to_uncertainty": 0, "labels_per_class": 10])
        let uncertain = try Self.run(TypiClustSwitch.configure(["switch_per_class": .number(10), "probe_c": .number(3)]), problem)
        let dropquery = try Self.run(DropQuery.configure(["probe_c": .number(3)]), problem)
        #expect(uncertain.picks == dropquery.picks && uncertain.curve == dropquery.curve)
        #expect(uncertain.notes["switched_to_uncertainty"] == 1)
        #expect(uncertain.picks != typical.picks)
    }

    @Test func needsLabelledClasses() throws {
        let pool = MethodRegistryTests.pool(rows: 50, columns: 6)
        #expect(throws: SelectionError.needsLabelledSamples(method: "typiclust_switch", withClasses: true)) {
            try TypiClustSwitch.withDefaults.validate(SelectionProblem(pool: pool, budget: 5, labelled: [1, 2]).shape)
        }
    }
}
