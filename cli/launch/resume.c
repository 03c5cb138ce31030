/* resume.c: the thread that feeds qemu the saved appliance while it starts
 * (docs/appliance.md). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance.h"
#include "launch/launch.h"
#include "launch/session.h"
#include "output/output.h"

/* The thread that streams the saved appliance into qemu's pipe. */
static struct {
    pthread_t thread;
    bool running;
    int fd, ret;
    char err[256];
} feeder;

static void *feed_state(void *unused)
{
    (void) unused;
    feeder.ret = appliance_stream_state(feeder.fd, feeder.err, sizeof feeder.err);
    close(feeder.fd);
    return NULL;
}

int resume_feed(int fd)
{
    feeder.fd = fd;
    feeder.ret = 0;
    if ((errno = pthread_create(&feeder.thread, NULL, feed_state, NULL))) {
        report("pthread_create: %s", strerror(errno));
        return -1;
    }
    feeder.running = true;
    return 0;
}

const char *launch_resume_end(void)
{
    if (!feeder.running)
        return NULL;
    pthread_join(feeder.thread, NULL);
    feeder.running = false;
    if (feeder.ret < 0 && strstr(feeder.err, "Broken pipe")) {
        /* qemu stopped reading: garbage from a damaged state can make it
         * give up before the damage shows here. Read the rest to know. */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        feeder.ret = null < 0 ? 0 : appliance_stream_state(null, feeder.err, sizeof feeder.err);
        if (null >= 0)
            close(null);
    }
    return feeder.ret < 0 ? feeder.err : NULL;
}
