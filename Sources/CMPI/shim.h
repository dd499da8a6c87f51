#ifndef LOMO_CMPI_SHIM_H
#define LOMO_CMPI_SHIM_H
// Open MPI's handles (MPI_COMM_WORLD, datatypes, operations) and MPI_IN_PLACE are macros over
// its global objects, which Swift cannot import: these functions return them.
#include <mpi.h>

static inline MPI_Comm lomo_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype lomo_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype lomo_mpi_uint16(void) { return MPI_UINT16_T; }
static inline MPI_Datatype lomo_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype lomo_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype lomo_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op lomo_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op lomo_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op lomo_mpi_min(void) { return MPI_MIN; }
static inline void *lomo_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *lomo_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Request lomo_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline int lomo_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
#endif
