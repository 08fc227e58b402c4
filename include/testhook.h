/*
 * testhook.h - points where a test build can widen a race window or make
 * a system call fail, so that a regression test can reach a rare path.
 *
 * Compiled in only with -DLANHTTPD_TEST_HOOKS (make check's builds); in
 * every other build the macros are empty and cost nothing.  A test turns
 * a point on through the environment of the server it starts:
 *
 *   LANHTTPD_HOOK_<point>=<ms>     testhook_pause() sleeps that long
 *   LANHTTPD_HOOK_<point>=fail     testhook_fail() returns true
 *
 * The environment is read once, by testhook_init() at start-up, before
 * any thread exists; afterwards the hooks only read that snapshot.
 */
#ifndef LANHTTPD_TESTHOOK_H
#define LANHTTPD_TESTHOOK_H

#include <stdbool.h>

#ifdef LANHTTPD_TEST_HOOKS
void	testhook_init(void);
void	testhook_pause(const char *point);
bool	testhook_fail(const char *point);
#define TESTHOOKS_BUILT	true
#else
#define testhook_init()		((void)0)
#define testhook_pause(point)	((void)0)
#define testhook_fail(point)	false
#define TESTHOOKS_BUILT	false
#endif

#endif /* LANHTTPD_TESTHOOK_H */
