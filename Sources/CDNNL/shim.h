#ifndef LOMO_CDNNL_SHIM_H
#define LOMO_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
// oneDNN's Debian build uses the OpenMP runtime: its thread count is OpenMP's.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
#endif
