// Open MPI (Debian's libopenmpi-dev, pkg-config "ompi-c"), wrapped once for Swift. MPI's predefined
// handles (MPI_COMM_WORLD, MPI_INT64_T, MPI_SUM, ...) are macros over addresses of global objects,
// which Swift cannot import: these functions return them.
#ifndef SELECTJOB_CMPI_SHIM_H
#define SELECTJOB_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm selectjob_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype selectjob_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype selectjob_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype selectjob_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype selectjob_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op selectjob_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op selectjob_mpi_max(void) { return MPI_MAX; }
static inline int selectjob_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline void *selectjob_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int selectjob_mpi_success(void) { return MPI_SUCCESS; }
#endif
