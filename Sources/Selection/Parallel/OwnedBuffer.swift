/// A fixed-capacity buffer of trivial values that owns its memory: allocated (zeroed) once, freed
/// with the buffer, used as scratch space a parallel chunk reuses block after block.
///
/// `base` is for BLAS calls on the buffer while the buffer is alive; it must not be kept beyond the
/// buffer's owner. Element access is unchecked except in debug builds. `count` and `append` let it
/// serve as a short list (at most `capacity` elements).
final class OwnedBuffer<Element: BitwiseCopyable> {
    let base: UnsafeMutablePointer<Element>
    let capacity: Int
    /// Elements in use when the buffer serves as a list.
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: max(capacity, 1))
        UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0,
                                                       count: max(capacity, 1) * MemoryLayout<Element>.stride)
    }

    deinit { base.deallocate() }

    subscript(index: Int) -> Element {
        get {
            assert(index >= 0 && index < capacity, "index \(index) outside 0..<\(capacity)")
            return base[index]
        }
        set {
            assert(index >= 0 && index < capacity, "index \(index) outside 0..<\(capacity)")
            base[index] = newValue
        }
    }

    /// Appends `value` after the `count` elements in use. Precondition: `count < capacity`.
    func append(_ value: Element) {
        assert(count < capacity, "buffer full (\(capacity))")
        base[count] = value
        count += 1
    }
}
