/* cmd_dump.c - `pyprof dump --pid PID [--json]`, as `py-spy dump` does.
 *
 * One sample of every thread of another process through the sampler
 * (src/sampler/): the target is never stopped, so a deadlocked program is
 * read as fast as a busy one.  A sample torn by the target changing under
 * the reader is retried (up to MAX_ATTEMPTS within RETRY_BUDGET_NS); the
 * threads of the first whole sample are printed, each stack innermost
 * last, as a traceback reads.
 *
 * Plain C: never includes Python.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/sink.h"
#include "../report/escape.h"
#include "../sampler/sampler.h"
#include "cmd_dump.h"
#include "options.h"

#define MAX_ATTEMPTS 200
#define RETRY_BUDGET_NS 500000000LL

static const char usage[] =
    "usage: pyprof dump --pid PID [--json] [--blocking]\n";

static const char help_text[] =
    "\n"
    "Print the current Python stack of every thread of a running process,\n"
    "innermost call last, with each thread's id and name, whether it holds\n"
    "the GIL and whether it is running on a CPU.  The process is not\n"
    "stopped; a deadlocked process can be dumped too.\n"
    "\n"
    "options:\n"
    "  -p, --pid PID  the process to look at (any CPython 3.10-3.15)\n"
    "  --json         print one JSON object instead of text\n"
    "  --blocking     stop the process's Python threads while they are\n"
    "                 read (ptrace), for stacks read at one instant\n"
    "  -h, --help     show this help\n"
    "\n"
    "Reading another process's memory needs the permission to ptrace it:\n"
    "the same user (with kernel.yama.ptrace_scope 0), root, or\n"
    "CAP_SYS_PTRACE.\n";

/* One thread of the sample, copied out of the sampler's buffers. */
typedef struct {
    pyprof_thread_sample_t info;
    char name[256];             /* PYPROF_THREADNAME_MAX */
    char os_name[64];
    pyprof_frame_t *frames;     /* owned copy; strings are the sampler's */
} dump_thread_t;

typedef struct {
    dump_thread_t *threads;
    size_t count, capacity;
    int out_of_memory;
} dump_t;

static void
dump_clear(dump_t *dump)
{
    for (size_t i = 0; i < dump->count; i++) {
        free(dump->threads[i].frames);
    }
    dump->count = 0;
    dump->out_of_memory = 0;
}

static int
collect_thread(void *ctx, const pyprof_thread_sample_t *thread)
{
    dump_t *dump = ctx;
    if (dump->count == dump->capacity) {
        size_t capacity = dump->capacity ? dump->capacity * 2 : 16;
        dump_thread_t *grown =
            realloc(dump->threads, capacity * sizeof(*grown));
        if (grown == NULL) {
            dump->out_of_memory = 1;
            return -1;
        }
        dump->threads = grown;
        dump->capacity = capacity;
    }
    dump_thread_t *copy = &dump->threads[dump->count];
    copy->info = *thread;
    snprintf(copy->name, sizeof(copy->name), "%s", thread->name);
    copy->info.name = copy->name;
    snprintf(copy->os_name, sizeof(copy->os_name), "%s", thread->os_name);
    copy->info.os_name = copy->os_name;
    copy->frames = malloc((thread->nframes ? thread->nframes : 1)
                          * sizeof(*copy->frames));
    if (copy->frames == NULL) {
        dump->out_of_memory = 1;
        return -1;
    }
    memcpy(copy->frames, thread->frames,
           thread->nframes * sizeof(*copy->frames));
    copy->info.frames = copy->frames;
    dump->count++;
    return 0;
}

static long long
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Take one whole sample into *dump.  Returns 0 or a sampler status. */
static int
take_sample(pyprof_sampler_t *sampler, unsigned flags, dump_t *dump)
{
    long long deadline = now_ns() + RETRY_BUDGET_NS;
    int rc = PYPROF_SAMPLER_INCONSISTENT;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        dump_clear(dump);
        rc = pyprof_sampler_sample(sampler, flags, collect_thread, dump);
        if (dump->out_of_memory) {
            return PYPROF_SAMPLER_NO_MEMORY;
        }
        if ((rc != PYPROF_SAMPLER_INCONSISTENT
             && rc != PYPROF_SAMPLER_NOT_READY)
            || now_ns() > deadline) {
            break;
        }
        struct timespec pause = {0, 1000000}; /* 1 ms: let the target move */
        nanosleep(&pause, NULL);
    }
    return rc;
}

static void
read_cmdline(pid_t pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    size_t got = fread(out, 1, size - 1, f);
    fclose(f);
    out[got] = '\0';
    for (size_t i = 0; i + 1 < got; i++) {
        if (out[i] == '\0') {
            out[i] = ' ';
        }
    }
}

static void
version_text(uint32_t hex, char *out, size_t size)
{
    snprintf(out, size, "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff,
             (hex >> 8) & 0xff);
}

static const char *
thread_state(const pyprof_thread_sample_t *thread)
{
    int gil = thread->holds_gil == 1;
    if (thread->running == 1) {
        return gil ? "active+gil" : "active";
    }
    if (thread->running == 0) {
        return gil ? "idle+gil" : "idle";
    }
    return gil ? "gil" : "unknown";
}

static void
print_text(pyprof_sink_t *out, const pyprof_sampler_t *sampler,
           const dump_t *dump, const char *cmdline)
{
    char version[32];
    version_text(pyprof_sampler_version(sampler), version, sizeof(version));
    pyprof_sink_printf(out, "Process %d: %s\n", (int)pyprof_sampler_pid(sampler),
                       cmdline);
    pyprof_sink_printf(out, "Python v%s (%s)\n", version,
                       pyprof_sampler_binary(sampler));
    for (size_t i = 0; i < dump->count; i++) {
        const pyprof_thread_sample_t *thread = &dump->threads[i].info;
        pyprof_sink_printf(out, "\nThread %ld (%s): \"%s\"%s\n",
                           thread->native_id, thread_state(thread),
                           thread->name, thread->is_main ? " [main]" : "");
        if (thread->truncated) {
            pyprof_sink_printf(out, "    ... (outer frames not shown)\n");
        }
        for (size_t k = thread->nframes; k-- > 0;) {
            const pyprof_frame_t *frame = &thread->frames[k];
            pyprof_sink_printf(out, "    %s (%s:%d)\n", frame->name,
                               frame->filename, frame->line);
        }
    }
}

static void
json_bool(pyprof_sink_t *out, const char *key, int value, int comma)
{
    pyprof_sink_printf(out, "\"%s\": %s%s", key,
                       value < 0 ? "null" : value ? "true" : "false",
                       comma ? ", " : "");
}

static void
print_json(pyprof_sink_t *out, const pyprof_sampler_t *sampler,
           const dump_t *dump, const char *cmdline)
{
    char version[32];
    version_text(pyprof_sampler_version(sampler), version, sizeof(version));
    pyprof_sink_printf(out, "{\"pid\": %d, \"python_version\": ",
                       (int)pyprof_sampler_pid(sampler));
    pyprof_escape_json(out, version);
    pyprof_sink_puts(out, ", \"binary\": ");
    pyprof_escape_json(out, pyprof_sampler_binary(sampler));
    pyprof_sink_puts(out, ", \"command_line\": ");
    pyprof_escape_json(out, cmdline);
    pyprof_sink_puts(out, ", \"threads\": [");
    for (size_t i = 0; i < dump->count; i++) {
        const pyprof_thread_sample_t *thread = &dump->threads[i].info;
        pyprof_sink_printf(out,
                           "%s\n  {\"native_id\": %ld, \"thread_id\": %llu, "
                           "\"interpreter_id\": %lld, \"name\": ",
                           i ? "," : "", thread->native_id,
                           (unsigned long long)thread->thread_id,
                           (long long)thread->interpreter_id);
        pyprof_escape_json(out, thread->name);
        pyprof_sink_puts(out, ", \"os_name\": ");
        pyprof_escape_json(out, thread->os_name);
        pyprof_sink_puts(out, ", ");
        json_bool(out, "holds_gil", thread->holds_gil, 1);
        json_bool(out, "running", thread->running, 1);
        json_bool(out, "is_main", thread->is_main, 1);
        json_bool(out, "truncated", thread->truncated, 1);
        pyprof_sink_puts(out, "\"frames\": [");
        for (size_t k = thread->nframes, n = 0; k-- > 0; n++) {
            const pyprof_frame_t *frame = &thread->frames[k];
            pyprof_sink_puts(out, n ? ", {\"name\": " : "{\"name\": ");
            pyprof_escape_json(out, frame->name);
            pyprof_sink_puts(out, ", \"filename\": ");
            pyprof_escape_json(out, frame->filename);
            pyprof_sink_printf(out, ", \"line\": %d, \"firstlineno\": %d}",
                               frame->line, frame->firstlineno);
        }
        pyprof_sink_puts(out, "]}");
    }
    pyprof_sink_puts(out, "\n]}\n");
}

static int
parse_args(int argc, char **argv, long *pid, int *json, int *blocking)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof dump", argc, argv);
    *pid = 0;
    *json = 0;
    *blocking = 0;
    while (pyprof_options_current(&scan)) {
        const char *value;
        int got;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            fputs(usage, stdout);
            fputs(help_text, stdout);
            return 1;
        }
        if (pyprof_options_flag(&scan, NULL, "--json")) {
            *json = 1;
            continue;
        }
        if (pyprof_options_flag(&scan, NULL, "--blocking")) {
            *blocking = 1;
            continue;
        }
        got = pyprof_options_value(&scan, "-p", "--pid", &value);
        if (got < 0) {
            return -1;
        }
        if (got > 0) {
            if (pyprof_options_parse_long(&scan, "--pid", value, 1,
                                          0x3fffffff, pid) < 0) {
                return -1;
            }
            continue;
        }
        fprintf(stderr, "pyprof dump: unknown argument '%s'\n%s",
                pyprof_options_current(&scan), usage);
        return -1;
    }
    if (*pid == 0) {
        fprintf(stderr, "pyprof dump: --pid PID is required\n%s", usage);
        return -1;
    }
    return 0;
}

int
pyprof_cmd_dump(int argc, char **argv)
{
    long pid;
    int json, blocking;
    int parsed = parse_args(argc, argv, &pid, &json, &blocking);
    if (parsed != 0) {
        return parsed > 0 ? 0 : 2;
    }
    char err[512];
    int status;
    pyprof_sampler_t *sampler =
        pyprof_sampler_attach((pid_t)pid, &status, err, sizeof(err));
    if (sampler == NULL) {
        fprintf(stderr, "pyprof dump: %s\n", err);
        return 1;
    }
    dump_t dump = {0};
    unsigned flags = PYPROF_SAMPLE_RUNNING | PYPROF_SAMPLE_NAMES
                     | (blocking ? PYPROF_SAMPLE_BLOCKING : 0u);
    int rc = take_sample(sampler, flags, &dump);
    int exit_status = 0;
    if (rc == 0) {
        char cmdline[1024];
        read_cmdline((pid_t)pid, cmdline, sizeof(cmdline));
        pyprof_sink_t out;
        pyprof_sink_init_file(&out, stdout);
        if (json) {
            print_json(&out, sampler, &dump, cmdline);
        }
        else {
            print_text(&out, sampler, &dump, cmdline);
        }
        fflush(stdout);
        if (pyprof_sink_failed(&out)) {
            fprintf(stderr, "pyprof dump: cannot write the output\n");
            exit_status = 1;
        }
    }
    else {
        const char *why = pyprof_sampler_error(sampler);
        if (rc == PYPROF_SAMPLER_GONE) {
            fprintf(stderr, "pyprof dump: pid %ld exited while it was read\n",
                    pid);
        }
        else if (rc == PYPROF_SAMPLER_INCONSISTENT) {
            fprintf(stderr,
                    "pyprof dump: pid %ld kept changing its stacks while "
                    "they were read (%s); try again\n", pid, why);
        }
        else {
            fprintf(stderr, "pyprof dump: %s\n", why);
        }
        exit_status = 1;
    }
    dump_clear(&dump);
    free(dump.threads);
    pyprof_sampler_detach(sampler);
    return exit_status;
}
