/* cstack.h - how much of the calling thread's C stack is in use.
 *
 * A PEP 523 frame hook (and, on 3.10, tracing mode) turns every Python
 * call into a C-level recursion: 3.11 inlines Python-to-Python calls in
 * one C frame only while no frame-evaluation function is set.  Plain
 * python survives a recursion its limit allows; under a hook the same
 * recursion can overflow the C stack and crash.  A hook asks
 * pyprof_cstack_deep() at each frame and gives its route up (for one
 * that costs no C stack per call) before the stack is in danger.
 *
 * Plain C over pthreads, no Python.h; the bounds are read once per
 * thread (pthread_getattr_np) and kept in initial-exec thread-locals, so
 * the check is a thread-local load and a compare.
 */
#ifndef PYPROF_CSTACK_H
#define PYPROF_CSTACK_H

#include <stdint.h>

/* Below this address the calling thread is "deep"; 0 until computed (a
 * thread whose bounds cannot be read gets 1: never deep). */
extern _Thread_local uintptr_t pyprof_cstack_deep_below
    __attribute__((tls_model("initial-exec")));

/* Reads the calling thread's stack bounds and sets the threshold: deep
 * once a quarter of the stack is in use.  Returns the threshold. */
uintptr_t pyprof_cstack_compute(void);

/* Non-zero when a quarter or more of the calling thread's C stack is in
 * use.  A frame's default evaluation needs a few hundred bytes of C stack
 * per nested Python call under a hook, so a quarter leaves room for every
 * recursion the default recursion limit allows and for what the program's
 * own C code needs after the hook gives up its route. */
static inline int
pyprof_cstack_deep(void)
{
    char here;
    uintptr_t below = pyprof_cstack_deep_below;
    if (below == 0) {
        below = pyprof_cstack_compute();
    }
    return (uintptr_t)&here < below;
}

#endif
