/* session.c: `ferry session start` and `ferry session stop` (share/). */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "share/share.h"

#define IDLE_DEFAULT_S 900

int cmd_session(struct session *s, struct args *a)
{
    const char *verb = a->argv[0];

    if (!strcmp(verb, "stop")) {
        if (a->argc != 1)
            return usage_error("session stop", "takes no operands");
        if (!s->join)
            return usage_error("session stop", "FERRY_SESSION is not set: no session to stop");
        return share_stop(s->join);
    }
    if (strcmp(verb, "start"))
        return usage_error("session", "start or stop, not '%s'", verb);
    for (int i = 1; i < a->argc; i++) {
        if (s->nimages >= MAX_IMAGES)
            return usage_error(NULL, "at most %d images", MAX_IMAGES);
        s->images[s->nimages++] = (struct image){ a->argv[i], i == 1 ? s->pending_format : NULL };
    }
    if (!s->nimages)
        return usage_error("session start", "which image? (-a IMAGE, or IMAGE)");
    if (opt_on(a, "rw"))
        s->rw = true;
    if (opt_on(a, "ro"))
        s->rw = false;
    const char *idle = opt_val(a, "idle-timeout");
    char *end;
    long idle_s = idle ? strtol(idle, &end, 10) : IDLE_DEFAULT_S;
    if (idle && (*end || idle_s < 0 || idle_s > 7 * 86400))
        return usage_error("session start", "--idle-timeout takes seconds (0: none), not '%s'",
                           idle);
    s->command = "session start";
    return share_start(s, (int) idle_s);
}
