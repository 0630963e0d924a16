/// How many of K picks each group gets when a selection is balanced over groups.
///
/// Group g of n_g available samples has weight n_g^α: α = 1 is proportional to size, α = 0 equal
/// shares, values between flatten the large groups. Shares above a group's size are capped there and
/// the rest spread over the others by weight (water-filling); the real shares are rounded by largest
/// remainder (ties to the lower group), so the quotas always total K. When K ≥ G every group gets at
/// least one: a group rounded to 0 takes one from the group whose quota most exceeds its real share.
/// O(G²) at worst.
public enum GroupQuotas {
    /// The quotas for groups of `sizes` (each ≥ 1, total ≥ `budget`) at exponent `alpha` ≥ 0.
    public static func quotas(sizes: [Int], budget: Int, alpha: Double) -> [Int] {
        precondition(sizes.allSatisfy { $0 >= 1 } && sizes.reduce(0, +) >= budget && budget >= 0 && alpha >= 0)
        let g = sizes.count
        var share = [Double](repeating: 0, count: g)
        var capped = [Bool](repeating: false, count: g)
        var remaining = Double(budget)
        // Water-filling: cap every group whose share exceeds its size, then share the rest again.
        while true {
            let open = (0..<g).filter { !capped[$0] }
            let total = open.reduce(0.0) { $0 + Foundation.pow(Double(sizes[$1]), alpha) }
            var cappedNow = false
            for i in open {
                share[i] = remaining * Foundation.pow(Double(sizes[i]), alpha) / total
                if share[i] >= Double(sizes[i]) {
                    capped[i] = true
                    share[i] = Double(sizes[i])
                    remaining -= Double(sizes[i])
                    cappedNow = true
                }
            }
            if !cappedNow || open.isEmpty { break }
        }
        var quota = share.map { Int($0.rounded(.down)) }
        let left = budget - quota.reduce(0, +)
        let remainder = (0..<g).map { share[$0] - Double(quota[$0]) }
        let byRemainder = (0..<g).sorted { (remainder[$0], -$0) > (remainder[$1], -$1) }
        for i in byRemainder.prefix(left) { quota[i] += 1 }
        if budget >= g {
            for i in 0..<g where quota[i] == 0 {
                let excess = (0..<g).map { Double(quota[$0]) - share[$0] }
                let donor = (0..<g).filter { quota[$0] > 1 }.max { (excess[$0], -$0) < (excess[$1], -$1) }!
                quota[donor] -= 1
                quota[i] = 1
            }
        }
        return quota
    }
}

import Foundation
