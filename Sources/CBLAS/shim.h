// OpenBLAS's CBLAS interface plus its thread-count controls.
#ifndef SELECTJOB_CBLAS_SHIM_H
#define SELECTJOB_CBLAS_SHIM_H
#include <cblas.h>
#endif
