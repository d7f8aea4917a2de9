/*
 * testhook.h — test-only fault points for the chaos harness (tests/chaos/).
 *
 * With SPOOLD_TEST_HOOKS=DIR in spoold's environment, the daemon's spool
 * calls go through a thin wrapper of the real system calls
 * (spool_sys_ops) that can stop the daemon at a moment a plain kill cannot
 * hit on purpose: between publishing a pack's output and moving its claim
 * out of claimed/ ("between publish and done").  When the file
 * DIR/stop-after-publish exists, the wrapper removes it (one trigger, one
 * stop) and raises SIGSTOP just before that rename; the harness then kills
 * the stopped daemon (or lets it go on with SIGCONT).  Without the
 * variable the real table is used and nothing changes.
 */
#ifndef SPOOLD_TESTHOOK_H
#define SPOOLD_TESTHOOK_H

#include "spool.h"

/* The ops table and its ctx for spool_open(): NULL and NULL (the real
 * system calls) unless SPOOLD_TEST_HOOKS is set. */
const struct spool_ops *testhook_ops(void **ctx);

#endif
