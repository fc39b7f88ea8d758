/* capture_image.c - save what one sample of a live process reads, as a
 * memory image (src/sampler/image.h) for the plain-C tests and the fuzz
 * corpus.  Built and run by tools/capture_images.sh.
 *
 *   capture_image PID OUT.img
 */
#include <stdio.h>
#include <stdlib.h>

#include "sampler/image.h"
#include "sampler/sampler.h"

static int
ignore_thread(void *ctx, const pyprof_thread_sample_t *thread)
{
    (void)ctx, (void)thread;
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: capture_image PID OUT.img\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    char err[512];
    int status;
    pyprof_sampler_t *live = pyprof_sampler_attach(pid, &status, err,
                                                   sizeof(err));
    if (live == NULL) {
        fprintf(stderr, "capture_image: %s\n", err);
        return 1;
    }
    uint32_t version = pyprof_sampler_version(live);
    uint64_t runtime = pyprof_sampler_runtime_address(live);
    pyprof_sampler_detach(live);
    for (int attempt = 0; attempt < 100; attempt++) {
        pyprof_memory_reader_t process, reader;
        pyprof_image_recorder_t recorder;
        pyprof_memory_process(&process, pid);
        pyprof_image_recorder_init(&recorder, &process, &reader);
        pyprof_sampler_t *sampler = pyprof_sampler_open(
            &reader, runtime, version, 0, &status, err, sizeof(err));
        int rc = sampler ? pyprof_sampler_sample(sampler, 0, ignore_thread,
                                                 NULL)
                         : status;
        pyprof_sampler_detach(sampler);
        if (rc == 0) {
            FILE *out = fopen(argv[2], "wb");
            int bad = out == NULL
                      || pyprof_image_write(&recorder, version, runtime, out);
            if (out) {
                bad |= fclose(out) != 0;
            }
            pyprof_image_recorder_free(&recorder);
            return bad;
        }
        pyprof_image_recorder_free(&recorder);
    }
    fprintf(stderr, "capture_image: no consistent sample in 100 tries\n");
    return 1;
}
