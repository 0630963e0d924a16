// OpenBLAS's CBLAS interface plus its thread-count and kernel-selection controls.
#ifndef SELECTJOB_CBLAS_SHIM_H
#define SELECTJOB_CBLAS_SHIM_H
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

// A DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernels once, at load, from the CPU model, and falls
// back to its generic Prescott (SSE3) kernels on a model it does not know (a new or virtual Xeon),
// even when the CPU has AVX2 or AVX-512. These two functions of such builds redo that choice; they
// are declared weak so a build without them still links (the functions below then do nothing).
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/// The widest OpenBLAS kernel family this CPU runs: "SkylakeX" (AVX-512 F/BW/DQ/VL), "Haswell"
/// (AVX2 + FMA), or NULL.
static inline const char *selectjob_blas_widest_core(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

/// Makes OpenBLAS choose its kernels again as if OPENBLAS_CORETYPE had been `core` at load; returns 0
/// when this OpenBLAS cannot (not a DYNAMIC_ARCH build). Call before any other BLAS call is in flight.
static inline int selectjob_blas_force_core(const char *core) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return 1;
}
#endif
