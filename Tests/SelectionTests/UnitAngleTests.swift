import Foundation
@testable import Selection
import Testing

/// The angle bounds the pruned searches keep, against double-precision geometry on random unit vectors.
@Suite struct UnitAngleTests {
    /// A random unit vector of `d` doubles.
    func unitVector(_ d: Int, _ generator: inout SeededGenerator) -> [Double] {
        let v = (0..<d).map { _ in RandomProblem.gaussian(&generator) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    @Test func belowAndAboveBracketTheAngle() {
        var generator = SeededGenerator(seed: 1)
        for _ in 0..<2000 {
            let s = Float(Double.random(in: -1.2...1.2, using: &generator))
            let exact = acos(min(1, max(-1, Double(s))))
            #expect(Double(UnitAngle.above(similarity: s)) >= exact)
            #expect(Double(UnitAngle.below(similarity: s)) <= min(exact, .pi / 2))
            // Tight: within a few float ulps (the below bound's clamp aside).
            #expect(Double(UnitAngle.above(similarity: s)) - exact < 1e-6)
            if s >= 0 { #expect(min(exact, .pi / 2) - Double(UnitAngle.below(similarity: s)) < 1e-6) }
        }
        #expect(UnitAngle.stored(similarity: -.infinity, turned: 3) == .infinity)
    }

    /// The property the searches rest on: after a centroid moves by δ (to another unit vector), a unit
    /// sample's similarity to it is at most cos(below(old similarity) − turn(δ)).
    @Test func turningBoundsTheNewSimilarity() {
        var generator = SeededGenerator(seed: 2)
        for trial in 0..<3000 {
            let d = 3 + trial % 20
            let f = unitVector(d, &generator), c = unitVector(d, &generator)
            // A move of a random size in a random direction, renormalised.
            let size = [1e-4, 1e-2, 0.3, 1.5][trial % 4]
            let step = unitVector(d, &generator)
            var moved = zip(c, step).map { $0 + size * $1 }
            let norm = moved.reduce(0) { $0 + $1 * $1 }.squareRoot()
            moved = moved.map { $0 / norm }
            let distance = Float(zip(c, moved).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()).nextUp
            let turn = UnitAngle.turn(distance: distance)
            #expect(Double(turn) >= acos(min(1, dot(c, moved))) - 1e-7)
            let lower = Double(UnitAngle.below(similarity: Float(dot(f, c)).nextUp)) - Double(turn)
            let bound = lower <= 0 ? 1 : cos(lower)
            #expect(dot(f, moved) <= bound + 1e-6, "trial \(trial)")
        }
    }

    /// At high similarities the angle bound grows far slower than the distance moved.
    @Test func theBoundGrowsSlowlyNearOne() {
        let s: Float = 0.97, distance: Float = 0.01
        let grown = cos(Double(UnitAngle.below(similarity: s) - UnitAngle.turn(distance: distance)))
        #expect(grown - Double(s) < 0.3 * Double(distance), "grew by \(grown - Double(s))")
    }
}
