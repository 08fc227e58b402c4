/*
 * confine.h - the daemon's sandbox, from its configuration.
 *
 * confine() turns the configuration into a sandbox_spec (sandbox.h):
 * the root read-only, each [upload] path read-write, [server]
 * sandbox_allow read-only (drives linked into the share), the log files
 * appendable, and the files a reload reads again (the configuration,
 * types, users, the account databases) readable; then applies it.  Called
 * once, after binding and dropping privileges and before any thread.
 */
#ifndef LANHTTPD_CONFINE_H
#define LANHTTPD_CONFINE_H

struct config;

#include <stddef.h>

/*
 * Applies the sandbox for cfg (config_path: the configuration file, or
 * NULL) as far as the kernel allows, logs what is in force and writes a
 * short form of it to status[0..cap) for systemctl status.  Returns 1
 * when Landlock binds the process (so paths outside those it was given
 * stay out of reach), else 0.  What cannot be applied is not fatal.
 */
int	confine(const struct config *cfg, const char *config_path,
	    char *status, size_t cap);

/*
 * Why the running sandbox (made for old) cannot take nc, whose root,
 * upload paths, extra roots, logs or state folder differ: the reload
 * must wait for a restart.  NULL when nothing of that changed.
 */
const char	*confine_blocks_reload(const struct config *old,
		    const struct config *nc);

#endif /* LANHTTPD_CONFINE_H */
