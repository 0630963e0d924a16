/// Limited-memory BFGS for smooth, strictly convex objectives in double precision.
///
/// Nocedal & Wright, "Numerical Optimization", 2nd ed., Springer 2006, Algorithm 7.4 (the two-loop
/// recursion) with a backtracking Armijo line search, which suffices here: on a strictly convex
/// objective every step keeps sᵀy > 0, so the update stays positive definite. Deterministic: the same
/// start and objective give the same iterates bit for bit. Cost per iteration: one or a few objective
/// evaluations plus O(memory · n); memory O(memory · n).
public enum LBFGS {
    /// How the minimisation ended.
    public struct Outcome: Sendable {
        public let x: [Double]
        public let value: Double
        /// The largest absolute gradient component at `x`.
        public let gradientNorm: Double
        public let iterations: Int
        public let converged: Bool
    }

    /// Minimises `objective` (value and gradient at a point) from `start`, until the gradient's
    /// largest component is at most `tolerance` or `maxIterations` is reached.
    public static func minimize(start: [Double], tolerance: Double, maxIterations: Int, memory: Int = 10,
                                objective: ([Double]) -> (value: Double, gradient: [Double])) -> Outcome {
        var x = start
        var (value, gradient) = objective(x)
        var steps: [[Double]] = [], changes: [[Double]] = [], rhos: [Double] = []
        func infinityNorm(_ v: [Double]) -> Double { v.reduce(0) { max($0, abs($1)) } }
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var total = 0.0
            for i in a.indices { total += a[i] * b[i] }
            return total
        }
        var iteration = 0
        while infinityNorm(gradient) > tolerance, iteration < maxIterations {
            iteration += 1
            // Two-loop recursion: direction = −H·gradient.
            var q = gradient
            var alphas = [Double](repeating: 0, count: steps.count)
            for i in stride(from: steps.count - 1, through: 0, by: -1) {
                alphas[i] = rhos[i] * dot(steps[i], q)
                for j in q.indices { q[j] -= alphas[i] * changes[i][j] }
            }
            if let s = steps.last, let y = changes.last {
                let scale = dot(s, y) / dot(y, y)
                for j in q.indices { q[j] *= scale }
            } else {
                let scale = 1 / max(infinityNorm(gradient), 1)
                for j in q.indices { q[j] *= scale }
            }
            for i in steps.indices {
                let beta = rhos[i] * dot(changes[i], q)
                for j in q.indices { q[j] += (alphas[i] - beta) * steps[i][j] }
            }
            var direction = q.map { -$0 }
            var slope = dot(gradient, direction)
            if slope >= 0 {  // not a descent direction (rounding): restart from steepest descent
                steps.removeAll(); changes.removeAll(); rhos.removeAll()
                direction = gradient.map { -$0 }
                slope = dot(gradient, direction)
            }
            // Backtracking until the Armijo condition holds.
            var step = 1.0
            var next: [Double] = x, nextValue = value, nextGradient = gradient
            var accepted = false
            for _ in 0..<60 {
                next = zip(x, direction).map { $0 + step * $1 }
                (nextValue, nextGradient) = objective(next)
                if nextValue <= value + 1e-4 * step * slope { accepted = true; break }
                step /= 2
            }
            guard accepted else { break }  // no decrease representable: at the optimum to rounding
            let s = zip(next, x).map { $0 - $1 }
            let y = zip(nextGradient, gradient).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-300 {
                steps.append(s); changes.append(y); rhos.append(1 / sy)
                if steps.count > memory { steps.removeFirst(); changes.removeFirst(); rhos.removeFirst() }
            }
            (x, value, gradient) = (next, nextValue, nextGradient)
        }
        let norm = infinityNorm(gradient)
        return Outcome(x: x, value: value, gradientNorm: norm, iterations: iteration, converged: norm <= tolerance)
    }
}
