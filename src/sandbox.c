/*
 * sandbox.c - Landlock and seccomp for the daemon itself; see sandbox.h.
 *
 * Landlock is called through syscall(2) (glibc has no wrappers) with our
 * own copy of the ruleset attributes, since Debian 12's <linux/landlock.h>
 * stops at ABI 2.  The attribute size handed to the kernel grows with the
 * ABI, so that an older kernel never sees a field it does not know.
 */
#include "sandbox.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Newer than Debian 12's header. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif

/* Newer than libseccomp 2.5.4: the *xattrat calls of Linux 6.13. */
#if defined(__x86_64__) || defined(__aarch64__)
#define SB_NR_GETXATTRAT	464
#define SB_NR_LISTXATTRAT	465
#endif

/* struct landlock_ruleset_attr as of ABI 6. */
struct sb_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;
	uint64_t	scoped;
};

/* The ABI 1 rights: every one of them is handled, so refused by default. */
#define FS_ABI1 \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)
/* The rights a rule on a file (not a folder) may carry. */
#define FS_FILE_RIGHTS \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
	LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_RO	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* No device nodes, sockets, fifos or symlinks, no execution. */
#define FS_RW \
	(FS_RO | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_APPEND	LANDLOCK_ACCESS_FS_WRITE_FILE
/* A log's folder: the new file after a rotation, nothing read or removed. */
#define FS_LOG_DIR \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SB_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SB_SANITIZED	1
#endif
#endif
#ifndef SB_SANITIZED
#define SB_SANITIZED	0
#endif

bool
sandbox_seccomp_skipped(void)
{
	return SB_SANITIZED;
}

/* Replaces rep->detail with a formatted line. */
static void __attribute__((format(printf, 2, 3)))
note(struct sandbox_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
	va_end(ap);
}

/*
 * The kernel's Landlock ABI: > 0, 0 when the kernel has none (not built,
 * or not enabled at boot), or a negative errno.
 */
static int
landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 0)
		return (int)abi;
	/*
	 * Not built in, not enabled at boot, or refused by a seccomp
	 * filter around us (a service manager's SystemCallFilter=).
	 */
	if (errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)
		return 0;
	return -errno;
}

/*
 * The ruleset attributes for abi (capped at what we know); *size is what
 * to hand the kernel.
 */
static void
landlock_attr(int abi, struct sb_ruleset_attr *attr, size_t *size)
{
	memset(attr, 0, sizeof(*attr));
	attr->handled_access_fs = FS_ABI1;
	*size = sizeof(attr->handled_access_fs);
	if (abi >= 2)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 4) {
		/* No rule grants it: no outgoing TCP at all. */
		attr->handled_access_net = LANDLOCK_ACCESS_NET_CONNECT_TCP;
		*size = offsetof(struct sb_ruleset_attr, scoped);
	}
	if (abi >= 5)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6) {
		attr->scoped = LANDLOCK_SCOPE_SIGNAL;
		*size = sizeof(*attr);
	}
}

/*
 * Grants rights (those of them the ruleset handles) beneath path; a file
 * gets only the rights a file can have.  A path that does not exist is
 * skipped when missing_ok.  Returns 0, or -1 with rep->detail set.
 */
static int
landlock_allow(int rfd, uint64_t handled, const char *path, uint64_t rights,
    bool missing_ok, struct sandbox_report *rep)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int err;

	memset(&pb, 0, sizeof(pb));
	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
		err = errno;
		if (missing_ok && err == ENOENT)
			return 0;
		note(rep, "sandbox: cannot open '%s': %s", path, strerror(err));
		return -1;
	}
	if (fstat(pb.parent_fd, &st) != 0) {
		err = errno;
		close(pb.parent_fd);
		note(rep, "sandbox: cannot stat '%s': %s", path, strerror(err));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		rights &= FS_FILE_RIGHTS;
	pb.allowed_access = rights & handled;
	if (pb.allowed_access != 0 && syscall(SYS_landlock_add_rule, rfd,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
		err = errno;
		close(pb.parent_fd);
		note(rep, "sandbox: landlock rule for '%s': %s", path,
		    strerror(err));
		return -1;
	}
	close(pb.parent_fd);
	return 0;
}

/* landlock_allow() for each of paths[0..n). */
static int
landlock_allow_all(int rfd, uint64_t handled, const char *const *paths,
    size_t n, uint64_t rights, bool missing_ok, struct sandbox_report *rep)
{
	for (size_t i = 0; i < n; i++)
		if (landlock_allow(rfd, handled, paths[i], rights, missing_ok,
		    rep) != 0)
			return -1;
	return 0;
}

/* Files glibc reads at run time, readable whatever the spec. */
static const char *const sys_files[] = {
	"/sys/devices/system/cpu/online",
	"/proc/sys/vm/overcommit_memory",
};

/*
 * The rules for the log files paths[0..n): each file, and its folder for
 * the file that replaces it after a rotation (logrotate's "create", or
 * the daemon's own O_CREAT on SIGUSR1).  A log directly in / gets no
 * folder rule.  Returns 0, or -1 with rep->detail set.
 */
static int
landlock_allow_logs(int rfd, uint64_t handled, const char *const *paths,
    size_t n, struct sandbox_report *rep)
{
	char dir[PATH_MAX];
	char *slash;

	for (size_t i = 0; i < n; i++) {
		if (landlock_allow(rfd, handled, paths[i], FS_APPEND, true,
		    rep) != 0)
			return -1;
		if ((size_t)snprintf(dir, sizeof(dir), "%s", paths[i]) >=
		    sizeof(dir) || (slash = strrchr(dir, '/')) == NULL ||
		    slash == dir)
			continue;
		*slash = '\0';
		if (landlock_allow(rfd, handled, dir, FS_LOG_DIR, true,
		    rep) != 0)
			return -1;
	}
	return 0;
}

/* Adds the rules of spec to the ruleset rfd.  Returns 0, or -1 (detail). */
static int
landlock_rules(int rfd, uint64_t handled, const struct sandbox_spec *spec,
    struct sandbox_report *rep)
{
	if (spec->root == NULL) {
		note(rep, "sandbox: no root");
		return -1;
	}
	if (landlock_allow(rfd, handled, spec->root, FS_RO, false, rep) != 0 ||
	    landlock_allow_all(rfd, handled, spec->rw, spec->nrw, FS_RW,
	    false, rep) != 0 ||
	    landlock_allow_all(rfd, handled, spec->extra_ro, spec->nextra,
	    FS_RO, false, rep) != 0 ||
	    landlock_allow_logs(rfd, handled, spec->append, spec->nappend,
	    rep) != 0 ||
	    landlock_allow_all(rfd, handled, spec->ro_files, spec->nro_files,
	    FS_RO, true, rep) != 0)
		return -1;
	if (spec->state_dir != NULL &&
	    landlock_allow(rfd, handled, spec->state_dir, FS_RW, false,
	    rep) != 0)
		return -1;
	/*
	 * glibc reads these now and then (get_nprocs() for sysconf() and
	 * malloc's arenas, malloc's heap trimming); it has fallbacks, but
	 * the answers are better.
	 */
	if (landlock_allow_all(rfd, handled, sys_files, sizeof(sys_files) /
	    sizeof(sys_files[0]), FS_RO, true, rep) != 0)
		return -1;
	/* The sanitizers read /proc/self/maps for their reports. */
	if (SB_SANITIZED &&
	    landlock_allow(rfd, handled, "/proc", FS_RO, true, rep) != 0)
		return -1;
	return 0;
}

/*
 * Builds and enforces the ruleset for abi (> 0) on the calling thread.
 * Returns 0, or -1 with rep->detail set.
 */
static int
landlock_enforce(const struct sandbox_spec *spec, int abi,
    struct sandbox_report *rep)
{
	struct sb_ruleset_attr attr;
	size_t size;
	int rfd, err;

	landlock_attr(abi, &attr, &size);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rfd < 0) {
		note(rep, "sandbox: landlock_create_ruleset: %s",
		    strerror(errno));
		return -1;
	}
	if (landlock_rules(rfd, attr.handled_access_fs, spec, rep) != 0) {
		close(rfd);
		return -1;
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) != 0) {
		err = errno;
		close(rfd);
		note(rep, "sandbox: landlock_restrict_self: %s", strerror(err));
		return -1;
	}
	close(rfd);
	rep->landlock = true;
	return 0;
}

/*
 * Landlock, as far as the kernel goes.  Returns 0 (applied, or nothing to
 * apply: rep->landlock says which), or -1 with rep->detail set.
 */
static int
landlock_apply(const struct sandbox_spec *spec, struct sandbox_report *rep)
{
	int abi = landlock_abi();

	if (abi < 0) {
		note(rep, "sandbox: landlock version: %s", strerror(-abi));
		return -1;
	}
	rep->landlock_abi = abi;
	if (abi == 0)
		return 0;
	/* ABI 1 refuses every rename and link across folders: no uploads. */
	if (abi == 1 && (spec->nrw > 0 || spec->state_dir != NULL))
		return 0;
	if (abi > SANDBOX_LANDLOCK_ABI_MAX)
		abi = SANDBOX_LANDLOCK_ABI_MAX;
	return landlock_enforce(spec, abi, rep);
}

/*
 * The system calls the daemon makes once serving.  How the list was made:
 * the integration suite (test_core, test_upload, test_webdav,
 * test_listing_cache, test_lab, test_semantics, test_reload_storm, then
 * test_cache, test_freshness, test_strict, test_hostile, test_review,
 * test_review_small, test_webdav_rules, test_service) ran with the server
 * under "strace -D -f -ff" and the sandbox call replaced by a marker;
 * the names in the main thread's trace after the marker and in every
 * other thread's trace make up the first group.  The second group is
 * what the suite did not reach: reload-only paths, glibc's fallbacks and
 * error paths (abort, a failing malloc, a signal interrupting a call).
 * Names this libseccomp does not know, or that this architecture lacks,
 * are skipped.  socket, clone, clone3, tgkill, ioctl and prctl come with
 * argument checks in seccomp_special().
 */
static const char *const seccomp_allowed[] = {
	/* Seen in the strace runs. */
	"accept4", "bind", "brk", "clock_nanosleep", "close", "copy_file_range",
	"dup2", "epoll_create1", "epoll_ctl", "epoll_wait", "eventfd2", "exit",
	"exit_group", "fcntl", "fgetxattr", "flistxattr", "flock",
	"fremovexattr", "fsetxattr", "fstatfs", "fsync", "futex", "getdents64",
	"geteuid", "getpid", "getrandom", "getsockname", "inotify_add_watch",
	"inotify_rm_watch", "linkat", "listen", "lseek", "madvise",
	"memfd_create", "mkdirat", "mmap", "mprotect", "mremap", "munmap",
	"newfstatat", "openat", "openat2", "pipe2", "pread64", "read",
	"readlink", "recvfrom", "recvmsg", "renameat", "renameat2", "rseq",
	"rt_sigaction", "rt_sigprocmask", "rt_sigtimedwait", "sendfile",
	"sendmsg", "sendto", "set_robust_list", "setsockopt", "shutdown",
	"splice", "statx", "sync_file_range", "unlinkat", "utimensat", "write",
	/*
	 * Not reached by the suite, but on the daemon's paths.  connect: a
	 * reload checks the user with getpwnam(), and nss-systemd or nscd
	 * talk over a unix socket (TCP is Landlock's to refuse) after
	 * walking paths with readlinkat().
	 */
	"connect", "readlinkat", "getsockopt", "statfs", "fdatasync",
	"ftruncate", "fchmod", "umask", "dup", "dup3", "faccessat",
	"faccessat2", "access", "getxattr", "listxattr", "setxattr",
	"removexattr", "lgetxattr", "llistxattr", "inotify_init1", "prlimit64",
	"getrlimit", "sysinfo", "sched_getaffinity", "getuid", "getgid",
	"getegid", "gettid", "writev", "readv", "pwrite64", "epoll_pwait",
	"poll", "ppoll", "mkdir", "unlink", "rename", "link", "stat", "lstat",
	"fstat", "open", "clock_gettime", "clock_getres", "gettimeofday",
	"time", "nanosleep", "sched_yield", "restart_syscall", "rt_sigreturn",
	"sigaltstack", "membarrier",
	/*
	 * The mDNS thread (mdns.c), seen under strace in test_mdns: uname
	 * for gethostname() ([mdns] name "%h", also on a reload), and
	 * libdbus's setuid check before it reads DBUS_SYSTEM_BUS_ADDRESS.
	 * The D-Bus socket needs socket(AF_UNIX) and connect, above.
	 */
	"uname", "getresuid", "getresgid",
};

/* Adds action for syscall name; unknown names are skipped.  0 or -errno. */
static int
seccomp_add_name(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr < 0)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/*
 * Argument n equals v, compared on the low 32 bits: an int argument's
 * upper half of the register is not guaranteed to be zero.
 */
#define ARG_EQ32(n, v) \
	SCMP_CMP((n), SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)(v))

/* The calls allowed with conditions on their arguments.  0 or -errno. */
static int
seccomp_special(scmp_filter_ctx ctx)
{
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX };
	static const scmp_datum_t ioctls[] = {
		SIOCOUTQ, SIOCINQ, FIONBIO, FIOCLEX, FIONCLEX,
	};
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(families) /
	    sizeof(families[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    ARG_EQ32(0, families[i]));
	/* Threads only: no fork, no new process. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	/* Its flags sit in memory a filter cannot read: glibc falls back. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	/* pthread_cancel(), pthread_kill(), raise() and abort(). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    ARG_EQ32(0, getpid()));
	/*
	 * worker.c asks a socket how much it has not sent yet; the rest
	 * only touch descriptor flags.  Device ioctls are Landlock's (ABI 5).
	 */
	for (size_t i = 0; r == 0 && i < sizeof(ioctls) / sizeof(ioctls[0]);
	    i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    ARG_EQ32(1, ioctls[i]));
	/* Thread names only. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    ARG_EQ32(0, PR_SET_NAME));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    ARG_EQ32(0, PR_GET_NAME));
#ifdef SB_NR_GETXATTRAT
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SB_NR_GETXATTRAT, 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SB_NR_LISTXATTRAT, 0);
#endif
	return r;
}

/* Builds and loads the filter.  Returns 0, or -1 with rep->detail set. */
static int
seccomp_apply(struct sandbox_report *rep)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	const char *step = "seccomp_init";
	int r = -ENOMEM;

	if (ctx == NULL)
		goto fail;
	/* Any thread already running gets the filter too. */
	step = "seccomp_attr_set";
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0)
		goto fail;
	step = "seccomp_rule_add";
	for (size_t i = 0; i < sizeof(seccomp_allowed) /
	    sizeof(seccomp_allowed[0]); i++)
		if ((r = seccomp_add_name(ctx, seccomp_allowed[i])) != 0) {
			step = seccomp_allowed[i];
			goto fail;
		}
	if ((r = seccomp_special(ctx)) != 0)
		goto fail;
	step = "seccomp_load";
	if ((r = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	rep->seccomp = true;
	return 0;
fail:
	note(rep, "sandbox: seccomp: %s: %s", step, strerror(-r));
	seccomp_release(ctx);
	return -1;
}

/*
 * What glibc would open on first use, which the sandbox would then
 * refuse: the time zone (localtime_r() before the first log line) and
 * libgcc_s, which pthread_cancel() and thread exit load for unwinding
 * and abort without.  Loaded here, later lookups find them in memory.
 */
static void
preload(void)
{
	tzset();
	(void)dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE);
}

/* The line for the log once everything is on. */
static void
summary(struct sandbox_report *rep)
{
	const char *ll, *sc;
	char abi[128];

	if (rep->landlock) {
		snprintf(abi, sizeof(abi), "landlock ABI %d%s%s%s%s%s",
		    rep->landlock_abi,
		    rep->landlock_abi >= 2 ? ", refer" : "",
		    rep->landlock_abi >= 3 ? ", truncate" : "",
		    rep->landlock_abi >= 4 ? ", no TCP connect" : "",
		    rep->landlock_abi >= 5 ? ", no device ioctl" : "",
		    rep->landlock_abi >= 6 ? ", signal scope" : "");
		ll = abi;
	} else if (rep->landlock_abi == 1)
		ll = "landlock off (ABI 1 would break uploads)";
	else
		ll = "landlock off (not in this kernel)";
	if (rep->seccomp)
		sc = "seccomp filter on";
	else
		sc = "seccomp skipped (sanitizer build)";
	note(rep, "sandbox: %s; %s", ll, sc);
}

int
sandbox_apply(const struct sandbox_spec *spec, struct sandbox_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	preload();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		note(rep, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (landlock_apply(spec, rep) != 0)
		return -1;
	if (!sandbox_seccomp_skipped() && seccomp_apply(rep) != 0)
		return -1;
	summary(rep);
	return 0;
}
