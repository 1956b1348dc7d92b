#include "backend.h"

const struct rapl_backend *const rapl_backends[] = {
    &rapl_backend_powercap,
    &rapl_backend_perf,
    &rapl_backend_msr,
    NULL,
};
