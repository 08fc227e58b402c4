/*
 * confine.c - the sandbox spec of a configuration, and applying it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confine.h"
#include "config.h"
#include "log.h"
#include "sandbox.h"

#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)

/* Paths of one kind, canonical, owned. */
#define CONFINE_MAX	64
struct paths {
	char		*p[CONFINE_MAX];
	size_t		 n;
};

/* Adds the canonical form of path (skipped when it does not exist). */
static void
add(struct paths *ps, const char *path)
{
	char *real;

	if (path == NULL || path[0] == '\0' || ps->n == CONFINE_MAX ||
	    (real = realpath(path, NULL)) == NULL)
		return;
	ps->p[ps->n++] = real;
}

/* Adds the folder that holds path. */
static void
add_dir_of(struct paths *ps, const char *path)
{
	char dir[PATH_MAX];
	const char *slash;

	if (path == NULL || (slash = strrchr(path, '/')) == NULL)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	add(ps, slash == path ? "/" : dir);
}

/* A log destination that is a file (not stderr, not off). */
static void
add_log(struct paths *ps, const char *dest)
{
	if (dest != NULL && strcmp(dest, "stderr") != 0 &&
	    strcmp(dest, "off") != 0)
		add(ps, dest);
}

static void
release(struct paths *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->p[i]);
	ps->n = 0;
}

/* The read-write and extra read-only roots of cfg. */
static void
roots(const struct config *cfg, struct paths *rw, struct paths *extra)
{
	char path[PATH_MAX], *list, *save = NULL;

	for (size_t i = 0; i < cfg->nupload_rel; i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->root_real,
		    cfg->upload_rel[i]);
		add(rw, path);
	}
	/* Revoking a link or logging out writes the revoked list. */
	add(rw, cfg->auth_state_dir);
	if (cfg->sandbox_allow == NULL ||
	    (list = strdup(cfg->sandbox_allow)) == NULL)
		return;
	for (char *t = strtok_r(list, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save))
		add(extra, t);
	free(list);
}

/* What a reload reads again, and what the C library reads. */
static void
files(const struct config *cfg, const char *config_path, struct paths *ro)
{
	static const char *const sys[] = {
		"/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
		"/etc/localtime",
	};

	add(ro, config_path);
	add_dir_of(ro, config_path);
	add(ro, cfg->types_file);
	add(ro, cfg->auth_users);
	/* lanhttpd passwd replaces the users file by a rename. */
	add_dir_of(ro, cfg->auth_users);
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		add(ro, sys[i]);
}

/* Both NULL, or the same text. */
static bool
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

const char *
confine_blocks_reload(const struct config *old, const struct config *nc)
{
	if (!same(old->root_real, nc->root_real))
		return "[server] root";
	if (old->nupload_rel != nc->nupload_rel)
		return "[upload] paths";
	for (size_t i = 0; i < old->nupload_rel; i++)
		if (!same(old->upload_rel[i], nc->upload_rel[i]))
			return "[upload] paths";
	if (!same(old->sandbox_allow, nc->sandbox_allow))
		return "[server] sandbox_allow";
	if (!same(old->access_log, nc->access_log) ||
	    !same(old->error_log, nc->error_log))
		return "[log] files";
	if (!same(old->auth_state_dir, nc->auth_state_dir))
		return "[auth] state_dir";
	if (old->sandbox != nc->sandbox)
		return "[server] sandbox";
	return NULL;
}

int
confine(const struct config *cfg, const char *config_path, char *status,
    size_t cap)
{
	struct paths rw = { .n = 0 }, extra = { .n = 0 }, logs = { .n = 0 },
	    ro = { .n = 0 };
	struct sandbox_report rep;
	struct sandbox_spec spec;
	int r;

	roots(cfg, &rw, &extra);
	add_log(&logs, cfg->access_log);
	add_log(&logs, cfg->error_log);
	files(cfg, config_path, &ro);
	spec = (struct sandbox_spec){
		.root = cfg->root_real,
		.rw = (const char *const *)rw.p, .nrw = rw.n,
		.extra_ro = (const char *const *)extra.p, .nextra = extra.n,
		.append = (const char *const *)logs.p, .nappend = logs.n,
		.ro_files = (const char *const *)ro.p, .nro_files = ro.n,
	};
	/*
	 * Best effort, as the kernel (or a tool such as valgrind, which
	 * knows neither Landlock nor seccomp) allows: what could not be
	 * applied is said, and the daemon serves without it.
	 */
	if ((r = sandbox_apply(&spec, &rep)) == 0)
		log_info("%s", rep.detail);
	else
		log_warn("%s; serving without the rest of the sandbox",
		    rep.detail);
	if (rep.landlock)
		snprintf(status, cap, "sandbox: Landlock ABI %d%s",
		    rep.landlock_abi, rep.seccomp ? ", seccomp" : "");
	else
		snprintf(status, cap, "sandbox: %s", rep.seccomp ?
		    "seccomp (no Landlock)" : "off");
	release(&rw);
	release(&extra);
	release(&logs);
	release(&ro);
	return rep.landlock ? 1 : 0;
}
