/* signals.h: SIGINT, SIGTERM and SIGHUP during a command, and the one
 * local file that must not outlive an interrupted or failed run. */
#ifndef FERRY_SIGNALS_H
#define FERRY_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* The first signal during a command sets ferry_interrupted (transfers see
 * it and cancel; the appliance is shut down cleanly, then ferry dies of
 * the signal). Before a command runs, or at a second signal: at once. */
extern volatile sig_atomic_t ferry_interrupted;
void signals_install(void);
void signals_graceful(bool on);
/* The file being written (a partial download), removed if ferry dies of
 * a signal; NULL when there is none. */
void partial_file(const char *path);

#endif
