/*
 * daemon.c - systemd notify and socket activation, watchdog interval,
 * privilege drop; see daemon.h.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SD_LISTEN_FDS_START	3

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

int
daemon_notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    n >= sizeof(notify_addr.sun_path))
		return -EINVAL;
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	/* "@name" is the abstract namespace: a leading NUL, no terminator. */
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/' ? 1 : 0));
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return notify_fd < 0 ? -errno : 0;
}

int
daemon_notify(const char *msg)
{
	if (notify_fd < 0)
		return 0;
	if (sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_addr, notify_len) < 0)
		return -errno;
	return 0;
}

int
daemon_notifyf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return daemon_notify(msg);
}

void
daemon_notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

/* A strict decimal from the environment, or -1. */
static long long
env_number(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -1;
	return v;
}

uint64_t
daemon_watchdog_usec(void)
{
	long long usec = env_number("WATCHDOG_USEC");
	long long pid = env_number("WATCHDOG_PID");

	if (usec <= 0)
		return 0;
	if (pid >= 0 && pid != (long long)getpid())
		return 0;
	return (uint64_t)usec;
}

int
daemon_listen_fds(int *fds, const char **names, size_t cap)
{
	long long pid = env_number("LISTEN_PID");
	long long n = env_number("LISTEN_FDS");
	const char *fdnames = getenv("LISTEN_FDNAMES");
	int r = 0;

	if (pid < 0 || n < 0 || pid != (long long)getpid())
		return 0;
	if (n == 0 || (size_t)n > cap) {
		r = n == 0 ? 0 : -E2BIG;
		goto out;
	}
	for (long long i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + (int)i;

		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			r = -errno;
			goto out;
		}
		fds[i] = fd;
		names[i] = "";
	}
	/* LISTEN_FDNAMES is a colon-separated list, one name per fd. */
	if (fdnames != NULL) {
		static char buf[1024];
		char *save = NULL, *tok;
		long long i = 0;

		snprintf(buf, sizeof(buf), "%s", fdnames);
		for (tok = strtok_r(buf, ":", &save); tok != NULL && i < n;
		    tok = strtok_r(NULL, ":", &save))
			names[i++] = tok;
	}
	r = (int)n;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}

int
daemon_lookup_ids(const char *user, const char *group, uid_t *uid,
    gid_t *gid)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL)
		return -ENOENT;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL && group[0] != '\0') {
		struct group *gr = getgrnam(group);

		if (gr == NULL)
			return -ENOENT;
		*gid = gr->gr_gid;
	}
	return 0;
}

int
daemon_drop_privileges(const char *user, uid_t uid, gid_t gid)
{
	/* Groups first: after setuid() we could no longer change them. */
	if (initgroups(user, gid) < 0)
		return -errno;
	if (setgid(gid) < 0)
		return -errno;
	if (setuid(uid) < 0)
		return -errno;
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	return 0;
}
