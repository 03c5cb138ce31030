/* harness.h: a minimal test harness. Each test is a function; CHECK ends
 * it on the first failure. main() runs them with RUN and prints "N passed,
 * N failed". The state is defined once, in the file that defines
 * HARNESS_MAIN before including this. */
#ifndef FERRY_HARNESS_H
#define FERRY_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int h_passed, h_failed, h_current_failed;
extern const char *h_name;
/* Called after each test, failed or not: what it started is stopped. */
extern void (*h_teardown)(void);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s: line %d: %s: ", h_name ? h_name : "?", __LINE__, #cond);              \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            fflush(stdout);                                                                        \
            h_current_failed = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#ifdef HARNESS_MAIN
int h_passed, h_failed, h_current_failed;
const char *h_name;
void (*h_teardown)(void);

static void h_run(const char *name, void (*fn)(void), const char *only)
{
    if (only && !strstr(name, only))
        return;
    h_name = name;
    h_current_failed = 0;
    fn();
    if (h_teardown)
        h_teardown();
    if (h_current_failed) {
        h_failed++;
    } else {
        h_passed++;
        printf("PASS %s\n", name);
    }
    fflush(stdout);
}

#define RUN(fn) h_run(#fn, fn, argc > 1 ? argv[1] : NULL)
#define SUMMARY() (printf("%d passed, %d failed\n", h_passed, h_failed), h_failed != 0)
#endif

#endif
