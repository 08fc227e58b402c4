/*
 * daemon.h - running under a service manager: systemd's notify and
 * socket-activation protocols spoken natively, the watchdog interval, and
 * dropping root privileges.
 *
 * Both systemd protocols are documented stable interfaces (sd_notify(3),
 * sd_listen_fds(3)); speaking them takes a few dozen lines, and keeps
 * libsystemd and its dependencies out of a network daemon's address space.
 */
#ifndef LANHTTPD_DAEMON_H
#define LANHTTPD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DAEMON_MAX_FDS	16

/*
 * Opens the notify socket named by $NOTIFY_SOCKET (a path, or "@name" for
 * the abstract namespace).  Returns 0 (also when the variable is unset:
 * notifications are then dropped) or a negative errno.  Call once at
 * start-up, before threads.
 */
int	daemon_notify_open(void);

/*
 * Sends one notification ("READY=1\nSTATUS=..."), if a notify socket is
 * open.  Returns 0 or a negative errno.  Thread-safe.
 */
int	daemon_notify(const char *msg);

/* printf-style daemon_notify(). */
int	daemon_notifyf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

void	daemon_notify_close(void);

/*
 * The watchdog interval systemd asks for, in microseconds ($WATCHDOG_USEC,
 * honouring $WATCHDOG_PID), or 0 when there is none.
 */
uint64_t	daemon_watchdog_usec(void);

/*
 * Sockets passed by socket activation ($LISTEN_FDS for this $LISTEN_PID,
 * starting at fd 3), with their names from $LISTEN_FDNAMES ("" when
 * unnamed).  Stores up to cap descriptors and name pointers (into the
 * environment string, valid until exit) and returns their number, 0 when
 * none were passed, or a negative errno.  Unsets the variables, so nothing
 * we start inherits them.  Call once, before threads.
 */
int	daemon_listen_fds(int *fds, const char **names, size_t cap);

/*
 * Resolves user (and group, or the user's primary group when NULL or "")
 * to ids.  Returns 0, or -ENOENT when a name is unknown.
 */
int	daemon_lookup_ids(const char *user, const char *group, uid_t *uid,
	    gid_t *gid);

/*
 * Drops root: supplementary groups (to those of user), then the gid, then
 * the uid, and checks that root cannot be regained.  Returns 0 or a
 * negative errno.
 */
int	daemon_drop_privileges(const char *user, uid_t uid, gid_t gid);

#endif /* LANHTTPD_DAEMON_H */
