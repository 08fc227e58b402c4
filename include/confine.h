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

/*
 * Applies the sandbox for cfg (config_path: the configuration file, or
 * NULL).  Returns 0 (and logs what is in force) or -1 (logged).
 */
int	confine(const struct config *cfg, const char *config_path);

#endif /* LANHTTPD_CONFINE_H */
