/* main.c: runs the protocol tests (every TEST() of tests/protocol/, as
 * list.sh finds them), each followed by the fixtures' teardown.
 *
 *   protocol [NAME-FILTER]      (FERRYD names the daemon to test) */
#include <signal.h>
#include <stdlib.h>

#define HARNESS_MAIN
#include "protocol/lib.h"

#define T(name) TEST(name);
#include "protocol-tests.h"
#undef T

int main(int argc, char **argv)
{
    ferryd = getenv("FERRYD") ? getenv("FERRYD") : "build/ferryd";
    signal(SIGPIPE, SIG_IGN);
    h_teardown = fixtures_teardown;
#define T(name) RUN(name);
#include "protocol-tests.h"
#undef T
    if (root[0])
        sh("rm -rf '%s'", root);
    return SUMMARY();
}
