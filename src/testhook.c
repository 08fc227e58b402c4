/*
 * testhook.c - race windows and injected failures for test builds; see
 * testhook.h.  Empty unless built with -DLANHTTPD_TEST_HOOKS.
 */
#include "testhook.h"

#ifdef LANHTTPD_TEST_HOOKS

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HOOKS	16

static struct hook {
	char	 point[48];
	long	 ms;		/* pause; -1: fail */
} hooks[MAX_HOOKS];
static size_t nhooks;

void
testhook_init(void)
{
	extern char **environ;
	static const char prefix[] = "LANHTTPD_HOOK_";

	for (char **e = environ; *e != NULL && nhooks < MAX_HOOKS; e++) {
		const char *name, *eq;
		struct hook *h;
		size_t len;

		if (strncmp(*e, prefix, sizeof(prefix) - 1) != 0)
			continue;
		name = *e + sizeof(prefix) - 1;
		if ((eq = strchr(name, '=')) == NULL ||
		    (len = (size_t)(eq - name)) >= sizeof(hooks[0].point))
			continue;
		h = &hooks[nhooks++];
		memcpy(h->point, name, len);
		h->point[len] = '\0';
		h->ms = strcmp(eq + 1, "fail") == 0 ? -1 : atol(eq + 1);
		fprintf(stderr, "lanhttpd: test hook %s=%s\n", h->point,
		    eq + 1);
	}
}

static const struct hook *
find(const char *point)
{
	for (size_t i = 0; i < nhooks; i++)
		if (strcmp(hooks[i].point, point) == 0)
			return &hooks[i];
	return NULL;
}

void
testhook_pause(const char *point)
{
	const struct hook *h = find(point);
	struct timespec ts;

	if (h == NULL || h->ms <= 0)
		return;
	ts.tv_sec = h->ms / 1000;
	ts.tv_nsec = (h->ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

bool
testhook_fail(const char *point)
{
	const struct hook *h = find(point);

	return h != NULL && h->ms == -1;
}

#else

/* ISO C wants at least one declaration in a translation unit. */
typedef int testhook_unused;

#endif /* LANHTTPD_TEST_HOOKS */
