import CBLAS

import Foundation

/// Thin typed access to the OpenBLAS routines selectjob uses (row-major throughout).
///
/// Every routine first makes sure OpenBLAS runs the kernels this CPU supports (``kernels``).
public enum BLAS {
    /// The kernel family OpenBLAS runs, chosen once, before the first BLAS call.
    ///
    /// Debian's OpenBLAS picks its kernels from the CPU model when it is loaded and falls back to its
    /// generic `Prescott` (SSE3) kernels on a model it does not know, such as a recent or virtual Xeon
    /// with AVX-512; sgemm then runs about half as fast (BENCHMARKS.md). When that fallback happened,
    /// `OPENBLAS_CORETYPE` is not set, and the CPU supports AVX2 + FMA or AVX-512, OpenBLAS is asked to
    /// choose again as `Haswell` or `SkylakeX` — what setting `OPENBLAS_CORETYPE` before the process
    /// started would have done. Setting `OPENBLAS_CORETYPE` (OpenBLAS's own variable) keeps its choice.
    /// Every thread then uses the same kernels, so results stay independent of the thread count.
    ///
    /// OpenBLAS is also set to one thread per call here: selectjob splits its work into parallel
    /// chunks itself (`--threads`), each calling BLAS, and OpenBLAS's own threads would only compete
    /// with them (spinning in `sched_yield`).
    public static let kernels: String = {
        openblas_set_num_threads(1)
        let loaded = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        guard loaded.lowercased() == "prescott",
              ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let widest = selectjob_blas_widest_core(),
              selectjob_blas_force_core(widest) == 1
        else { return loaded }
        return openblas_get_corename().map { String(cString: $0) } ?? String(cString: widest)
    }()

    /// C ← α·A·Bᵀ + β·C for row-major A (m×k, row stride `lda`), B (n×k, row stride `ldb`) and
    /// C (m×n, row stride `ldc`). O(m·n·k) flops.
    @inlinable
    public static func multiplyTransposed(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = kernels
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C ← α·A·Bᵀ + β·C in double precision; same layout as the single-precision form.
    @inlinable
    public static func multiplyTransposed(
        m: Int, n: Int, k: Int, alpha: Double = 1,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        dgemm(CblasNoTrans, CblasTrans, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc)
    }

    /// C ← α·A·B + β·C for row-major A (m×k) and B (k×n), in double precision. O(m·n·k).
    @inlinable
    public static func multiply(
        m: Int, n: Int, k: Int, alpha: Double = 1,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        dgemm(CblasNoTrans, CblasNoTrans, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc)
    }

    /// C ← α·Aᵀ·B + β·C for row-major A (k×m) and B (k×n), in double precision. O(m·n·k).
    @inlinable
    public static func multiplyFirstTransposed(
        m: Int, n: Int, k: Int, alpha: Double = 1,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        dgemm(CblasTrans, CblasNoTrans, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc)
    }

    /// The row-major dgemm behind the double-precision products: C ← α·op(A)·op(B) + β·C.
    @usableFromInline
    static func dgemm(
        _ transposeA: CBLAS_TRANSPOSE, _ transposeB: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        _ = kernels
        cblas_dgemm(CblasRowMajor, transposeA, transposeB, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C ← AᵀA for a row-major A (rows × columns); C is columns × columns. O(rows·columns²).
    @inlinable
    public static func gram(rows: Int, columns: Int, a: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>) {
        dgemm(CblasTrans, CblasNoTrans, m: columns, n: columns, k: rows, alpha: 1, a: a, lda: columns, b: a,
              ldb: columns, beta: 0, c: c, ldc: columns)
    }

    /// C ← AᵀA for a row-major A (rows × columns) in single precision; C is columns × columns.
    /// O(rows·columns²).
    @inlinable
    public static func gram(rows: Int, columns: Int, a: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        _ = kernels
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(columns), Int32(columns), Int32(rows),
                    1, a, Int32(columns), a, Int32(columns), 0, c, Int32(columns))
    }

    /// y ← α·A·x + β·y for row-major A (m×n). O(m·n).
    @inlinable
    public static func multiplyVector(
        m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        _ = kernels
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// The number of threads OpenBLAS uses for one call.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set {
            _ = kernels
            openblas_set_num_threads(Int32(max(newValue, 1)))
        }
    }

    /// OpenBLAS's build description (version, kernel core, thread model), for the run record.
    public static var configuration: String {
        _ = kernels
        guard let text = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: text)
    }
}
