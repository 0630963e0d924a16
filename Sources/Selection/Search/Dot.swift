/// a·b over `count` floats, 16 lanes at a time. O(count).
///
/// The one dot product every search and assignment compares similarities with, so every caller
/// rounds the same way (the searches' exact comparisons rely on it).
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var sum = SIMD16<Float>()
    var j = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    while j + 16 <= count {
        let va = rawA.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        let vb = rawB.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        sum += va * vb  // not addProduct: without FMA in the target, that becomes a libm call per lane
        j += 16
    }
    var total = sum.sum()
    while j < count {
        total += a[j] * b[j]
        j += 1
    }
    return total
}
