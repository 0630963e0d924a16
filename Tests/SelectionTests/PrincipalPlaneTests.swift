import Foundation
import Numerics
@testable import Selection
import Testing

/// scikit-learn's PCA of a small matrix, recorded by Tests/Fixtures/pca/record_sklearn.py.
struct SklearnPCA: Decodable {
    let n: Int
    let d: Int
    let x: [[Double]]
    let mean: [Double]
    let components: [[Double]]
    let variances: [Double]
    let explained_variance_ratio: [Double]
    let projection_first_rows: [[Double]]
}

/// The report's pool map: the plane of the two leading principal components, checked three ways.
@Suite struct PrincipalPlaneTests {
    /// The same mean, axes, variances, explained shares and coordinates as scikit-learn's PCA.
    @Test func matchesScikitLearn() throws {
        let fixture = try Fixtures.json("pca/sklearn_pca.json", as: SklearnPCA.self)
        let x = FeatureMatrix(rows: fixture.n, columns: fixture.d, values: fixture.x.flatMap { $0.map(Float.init) })
        let plane = PrincipalPlane.fit(x, threads: 2)
        for (a, b) in zip(plane.mean, fixture.mean) { #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 1e-5)) }
        for axis in 0..<2 {
            for (a, b) in zip(plane.axes[axis], fixture.components[axis]) {
                #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 1e-4))
            }
            #expect(plane.variances[axis].isApproximatelyEqual(to: fixture.variances[axis], relativeTolerance: 1e-4))
            #expect(plane.explainedShare[axis].isApproximatelyEqual(to: fixture.explained_variance_ratio[axis],
                                                                    relativeTolerance: 1e-4))
        }
        let (px, py) = plane.project(x, threads: 3)
        for (row, expected) in fixture.projection_first_rows.enumerated() {
            #expect(Double(px[row]).isApproximatelyEqual(to: expected[0], absoluteTolerance: 1e-3))
            #expect(Double(py[row]).isApproximatelyEqual(to: expected[1], absoluteTolerance: 1e-3))
        }
    }

    /// Against a direct recomputation: the covariance built with plain double loops, and each axis an
    /// eigenvector of it (C·a = λ·a) with no unit vector orthogonal to the first axis reaching more
    /// variance than the second (checked on every coordinate direction projected off the first axis).
    @Test func axesAreEigenvectorsOfTheDirectCovariance() {
        let x = MethodRegistryTests.pool(rows: 400, columns: 7, seed: 5)
        let plane = PrincipalPlane.fit(x, threads: 1)
        let n = x.rows, d = x.columns
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(x.values[i * d + j]) / Double(n) } }
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d {
                for b in 0..<d {
                    c[a * d + b] += (Double(x.values[i * d + a]) - mean[a]) * (Double(x.values[i * d + b]) - mean[b]) / Double(n)
                }
            }
        }
        func apply(_ v: [Double]) -> [Double] { (0..<d).map { a in (0..<d).reduce(0.0) { $0 + c[a * d + $1] * v[$1] } } }
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0.0) { $0 + $1.0 * $1.1 } }
        for axis in 0..<2 {
            let v = plane.axes[axis], cv = apply(v)
            for j in 0..<d { #expect(cv[j].isApproximatelyEqual(to: plane.variances[axis] * v[j], absoluteTolerance: 1e-5)) }
            #expect(dot(v, v).isApproximatelyEqual(to: 1, absoluteTolerance: 1e-9))
        }
        #expect(abs(dot(plane.axes[0], plane.axes[1])) < 1e-9)
        #expect(plane.variances[0] >= plane.variances[1])
        let trace = (0..<d).reduce(0.0) { $0 + c[$1 * d + $1] }
        #expect(plane.totalVariance.isApproximatelyEqual(to: trace, relativeTolerance: 1e-5))
        for j in 0..<d {
            var e = [Double](repeating: 0, count: d)
            e[j] = 1
            let along = dot(e, plane.axes[0])
            var u = zip(e, plane.axes[0]).map { $0 - along * $1 }
            let norm = dot(u, u).squareRoot()
            guard norm > 1e-6 else { continue }
            u = u.map { $0 / norm }
            #expect(dot(u, apply(u)) <= plane.variances[1] + 1e-7)
        }
    }

    /// Properties: the projected coordinates have mean 0 and variances equal to the eigenvalues, and
    /// the plane is identical for every thread count (fixed row groups).
    @Test func projectionPropertiesAndThreadIndependence() {
        let x = MethodRegistryTests.pool(rows: 5000, columns: 16, seed: 9).normalizedRows()
        let one = PrincipalPlane.fit(x, threads: 1), three = PrincipalPlane.fit(x, threads: 3)
        #expect(one == three)
        let (px, py) = one.project(x, threads: 2)
        #expect((px, py) == three.project(x, threads: 1))
        for (coordinates, variance) in [(px, one.variances[0]), (py, one.variances[1])] {
            let mean = coordinates.reduce(0.0) { $0 + Double($1) } / Double(x.rows)
            let spread = coordinates.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(x.rows)
            #expect(abs(mean) < 1e-5)
            #expect(spread.isApproximatelyEqual(to: variance, relativeTolerance: 1e-3))
        }
        #expect(one.explainedShare[0] + one.explainedShare[1] <= 1 + 1e-9)
    }

    /// One row, or identical rows: no variance, and the fit still returns (zero variances).
    @Test func degeneratePools() {
        let single = PrincipalPlane.fit(FeatureMatrix(rows: 1, columns: 3, values: [1, 2, 3]), threads: 1)
        #expect(single.totalVariance == 0 && single.variances.allSatisfy { abs($0) < 1e-12 })
        let same = PrincipalPlane.fit(FeatureMatrix(rows: 4, columns: 2, values: [1, 0, 1, 0, 1, 0, 1, 0]), threads: 2)
        #expect(same.variances.allSatisfy { abs($0) < 1e-12 })
        #expect(same.project(FeatureMatrix(rows: 1, columns: 2, values: [1, 0]), threads: 1).x == [0])
    }
}
