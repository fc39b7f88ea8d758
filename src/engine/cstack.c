/* cstack.c - see cstack.h. */
#include "cstack.h"

#include <pthread.h>

_Thread_local uintptr_t pyprof_cstack_deep_below
    __attribute__((tls_model("initial-exec")));

uintptr_t
pyprof_cstack_compute(void)
{
    uintptr_t below = 1; /* unknown bounds: never deep */
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *low = NULL;
        size_t size = 0;
        if (pthread_attr_getstack(&attr, &low, &size) == 0 && low != NULL
            && size != 0) {
            /* the stack grows down from low + size */
            below = (uintptr_t)low + size - size / 4;
        }
        pthread_attr_destroy(&attr);
    }
    pyprof_cstack_deep_below = below;
    return below;
}
