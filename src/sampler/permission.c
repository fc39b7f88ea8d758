/* permission.c - naming the cause of a refused process_vm_readv().
 *
 * Reading another process's memory needs PTRACE_MODE_ATTACH: the same
 * user (and a dumpable target) unless the reader has CAP_SYS_PTRACE; and
 * Yama may restrict further (ptrace_scope 1: descendants only; 2: only
 * with CAP_SYS_PTRACE; 3: never).  The checks run in the order a user can
 * act on them; the first that explains the refusal is the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "permission.h"

#define CAP_SYS_PTRACE_BIT 19

/* The value of /proc/sys/kernel/yama/ptrace_scope, or -1 without Yama. */
static int
yama_scope(void)
{
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
    int scope = -1;
    if (f) {
        if (fscanf(f, "%d", &scope) != 1) {
            scope = -1;
        }
        fclose(f);
    }
    return scope;
}

/* 1 when this process has CAP_SYS_PTRACE in its effective set. */
static int
has_cap_sys_ptrace(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long caps = 0;
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "CapEff:", 7) == 0) {
            caps = strtoull(line + 7, NULL, 16);
            break;
        }
    }
    fclose(f);
    return (caps >> CAP_SYS_PTRACE_BIT) & 1;
}

/* 1 when pyprof seems to run inside a container. */
static int
in_container(void)
{
    if (access("/.dockerenv", F_OK) == 0
        || access("/run/.containerenv", F_OK) == 0) {
        return 1;
    }
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512];
    int found = 0;
    if (f == NULL) {
        return 0;
    }
    while (!found && fgets(line, sizeof(line), f)) {
        found = strstr(line, "docker") || strstr(line, "kubepods")
                || strstr(line, "containerd") || strstr(line, "lxc")
                || strstr(line, "libpod");
    }
    fclose(f);
    return found;
}

void
pyprof_permission_explain(pid_t pid, char *err, size_t errlen)
{
    struct stat st;
    char path[64];
    uid_t me = geteuid();
    int cap = has_cap_sys_ptrace();
    int scope = yama_scope();
    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    if (!cap && me == 0 && stat(path, &st) == 0 && st.st_uid != me) {
        snprintf(err, errlen,
                 "permission denied: pid %d belongs to uid %u and pyprof "
                 "runs as root without CAP_SYS_PTRACE; give it the "
                 "capability (a container: --cap-add SYS_PTRACE)",
                 (int)pid, (unsigned)st.st_uid);
    }
    else if (!cap && stat(path, &st) == 0 && st.st_uid != me) {
        snprintf(err, errlen,
                 "permission denied: pid %d belongs to uid %u and pyprof "
                 "runs as uid %u; run pyprof as that user, or as root "
                 "(sudo), or give it CAP_SYS_PTRACE",
                 (int)pid, (unsigned)st.st_uid, (unsigned)me);
    }
    else if (scope == 3) {
        snprintf(err, errlen,
                 "permission denied: /proc/sys/kernel/yama/ptrace_scope is 3 "
                 "(no process may read another's memory, until reboot); "
                 "profile in process with `pyprof run` instead");
    }
    else if (scope == 2 && !cap) {
        snprintf(err, errlen,
                 "permission denied: /proc/sys/kernel/yama/ptrace_scope is 2 "
                 "(only CAP_SYS_PTRACE may read another process's memory); "
                 "run pyprof as root (sudo) or give it CAP_SYS_PTRACE");
    }
    else if (scope == 1 && !cap) {
        snprintf(err, errlen,
                 "permission denied: /proc/sys/kernel/yama/ptrace_scope is 1 "
                 "(only a parent may read a process's memory); run pyprof "
                 "as root (sudo), give it CAP_SYS_PTRACE, start the program "
                 "under `pyprof record -- COMMAND`, or run "
                 "`echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope`");
    }
    else if (!cap && in_container()) {
        snprintf(err, errlen,
                 "permission denied: pyprof runs in a container without "
                 "CAP_SYS_PTRACE; start the container with --cap-add "
                 "SYS_PTRACE (Kubernetes: securityContext.capabilities.add: "
                 "[SYS_PTRACE])");
    }
    else if (!cap) {
        snprintf(err, errlen,
                 "permission denied reading the memory of pid %d (it may "
                 "have changed its credentials or be non-dumpable); run "
                 "pyprof as root (sudo) or give it CAP_SYS_PTRACE",
                 (int)pid);
    }
    else {
        snprintf(err, errlen,
                 "permission denied reading the memory of pid %d although "
                 "pyprof has CAP_SYS_PTRACE: a security module (SELinux, "
                 "AppArmor, seccomp) refuses it; check the system's policy",
                 (int)pid);
    }
}
