/*
 * check_sandbox.c - unit tests for the daemon's own sandbox.
 *
 * Each test builds a tree in a fresh temporary folder, then forks a child
 * that applies sandbox_apply() to it and tries things: what the sandbox
 * allows must work, the rest must fail with EACCES, and a forbidden
 * system call must kill the child with SIGSYS.  The child reports through
 * a pipe; the test process itself is never confined.
 *
 * Without Landlock in the kernel the tests say so and pass.  In sanitizer
 * builds, whose seccomp part is skipped, only the Landlock part is
 * checked.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Helpers
 */

/* The test tree: canonical paths under one temporary folder. */
struct tree {
	char	*tmp;			/* from tu_mkdtemp() */
	char	 top[PATH_MAX];		/* realpath of tmp */
	char	 root[PATH_MAX];	/* the share */
	char	 up[PATH_MAX];		/* root/up: read-write */
	char	 out[PATH_MAX];		/* outside everything */
	char	 extra[PATH_MAX];	/* an extra read-only root */
	char	 state[PATH_MAX];	/* the state folder */
	char	 logf[PATH_MAX];	/* log/access.log: append */
	char	 conf[PATH_MAX];	/* etc/httpd.ini: read-only */
	const char *rw[1], *extra_ro[1], *append[2], *ro_files[2];
	struct sandbox_spec spec;
};

/* Joins top and rel into out (PATH_MAX); aborts the test when too long. */
static void
join(char *out, const char *top, const char *rel)
{
	ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", top, rel), PATH_MAX);
}

static void
make_dir(const char *top, const char *rel)
{
	char p[PATH_MAX];

	join(p, top, rel);
	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
}

/* Builds the tree in a fresh folder and the spec that goes with it. */
static void
tree_make(struct tree *t)
{
	static const char *const dirs[] = {
		"root", "root/up", "root/sub", "out", "extra", "state", "log",
		"etc",
	};

	memset(t, 0, sizeof(*t));
	t->tmp = tu_mkdtemp();
	ck_assert_ptr_nonnull(realpath(t->tmp, t->top));
	for (size_t i = 0; i < NELEM(dirs); i++)
		make_dir(t->top, dirs[i]);
	join(t->root, t->top, "root");
	join(t->up, t->top, "root/up");
	join(t->out, t->top, "out");
	join(t->extra, t->top, "extra");
	join(t->state, t->top, "state");
	join(t->logf, t->top, "log/access.log");
	join(t->conf, t->top, "etc/httpd.ini");
	tu_write_file(t->root, "file.txt", "hello", 5);
	tu_write_file(t->out, "secret", "s3cret", 6);
	tu_write_file(t->extra, "e.txt", "usb", 3);
	tu_write_file(t->top, "log/access.log", "", 0);
	tu_write_file(t->top, "etc/httpd.ini", "[server]\n", 9);
	tu_write_file(t->top, "etc/other", "x", 1);
	t->rw[0] = t->up;
	t->extra_ro[0] = t->extra;
	t->append[0] = t->logf;
	t->append[1] = "/nonexistent/lanhttpd-error.log";	/* skipped */
	t->ro_files[0] = t->conf;
	t->ro_files[1] = "/nonexistent/users";			/* skipped */
	t->spec = (struct sandbox_spec){
		.root = t->root,
		.rw = t->rw, .nrw = 1,
		.extra_ro = t->extra_ro, .nextra = 1,
		.append = t->append, .nappend = 2,
		.ro_files = t->ro_files, .nro_files = 2,
		.state_dir = t->state,
	};
}

static void
tree_free(struct tree *t)
{
	tu_rmtree(t->tmp);
	t->tmp = NULL;
}

/* The kernel's Landlock ABI, or 0 after saying why the test is skipped. */
static int
landlock_or_skip(const char *test)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		printf("check_sandbox: %s skipped: no Landlock in this kernel "
		    "(%s)\n", test, strerror(errno));
		return 0;
	}
	ck_assert_msg(abi > 0, "landlock version: %s", strerror(errno));
	return (int)abi;
}

/* dir/name into out (PATH_MAX); empty when too long. */
static void
path2(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		out[0] = '\0';
}

/* 0 when open(path, flags) works (the file is closed again), or errno. */
static int
try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* 0 when a file can be created at dir/name, or errno. */
static int
try_create(const char *dir, const char *name)
{
	char p[PATH_MAX];
	int fd;

	path2(p, dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		return errno;
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return errno;
	}
	close(fd);
	return 0;
}

/* 0 when the result of a call that returns -1 on failure is not that. */
static int
rc(long r)
{
	return r < 0 ? errno : 0;
}

/* 0 when a TCP connection to 127.0.0.1 may be tried, or errno. */
static int
try_connect(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(9),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return errno;
	r = rc(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	/* Nobody listens on port 9: refused means the sandbox let it go. */
	return r == ECONNREFUSED ? 0 : r;
}

static void *
thread_main(void *arg)
{
	return arg;
}

/* 0 when a thread can be started and joined, or the error. */
static int
try_thread(void)
{
	pthread_t th;
	void *ret = NULL;
	int r;

	if ((r = pthread_create(&th, NULL, thread_main, &r)) != 0)
		return r;
	if ((r = pthread_join(th, &ret)) != 0)
		return r;
	return ret == &r ? 0 : EINVAL;
}

/* The operations tried inside the sandbox, in the order of results. */
enum op {
	OP_READ_ROOT, OP_LIST_ROOT, OP_WRITE_ROOT, OP_CREATE_ROOT,
	OP_UNLINK_ROOT, OP_MKDIR_ROOT, OP_TRUNCATE_ROOT, OP_CREATE_UP,
	OP_RENAME_UP, OP_UNLINK_UP, OP_READ_OUT, OP_READ_ETC_PASSWD,
	OP_READ_EXTRA, OP_APPEND_LOG, OP_CREATE_LOG, OP_READ_LOG,
	OP_CREATE_BESIDE_LOGS, OP_READ_CONF,
	OP_READ_CONF_SIBLING, OP_CREATE_STATE, OP_TCP_CONNECT, OP_THREAD,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"read a file in the root", "list the root", "write in the root",
	"create in the root", "unlink in the root", "mkdir in the root",
	"truncate in the root", "create in the upload folder",
	"rename across upload folders", "unlink in the upload folder",
	"read outside the root", "read /etc/passwd",
	"read in an extra root", "append to the log",
	"create a new log (rotation)", "read the log",
	"create beside the log folder",
	"read the config file", "read beside the config file",
	"create in the state folder", "TCP connect", "start a thread",
};

/* What the child reports through the pipe. */
struct outcome {
	int			 applied;	/* sandbox_apply()'s return */
	struct sandbox_report	 rep;
	int			 err[OP_COUNT];	/* 0 or errno per op */
	char			 status[64];	/* "Seccomp:\t..." line */
	char			 nnp[64];	/* "NoNewPrivs:\t..." line */
};

/* Copies the line of status[0..len) that starts with key into out. */
static void
status_line(const char *status, const char *key, char *out, size_t cap)
{
	const char *p = strstr(status, key);
	size_t n;

	if (p == NULL) {
		snprintf(out, cap, "(no %s)", key);
		return;
	}
	n = strcspn(p, "\n");
	snprintf(out, cap, "%.*s", (int)n, p);
}

/* Runs every op of enum op inside the sandbox (in the child). */
static void
run_ops(const struct tree *t, struct outcome *o)
{
	char p[PATH_MAX], q[PATH_MAX];

	path2(p, t->root, "file.txt");
	o->err[OP_READ_ROOT] = try_open(p, O_RDONLY);
	o->err[OP_LIST_ROOT] = try_open(t->root, O_RDONLY | O_DIRECTORY);
	o->err[OP_WRITE_ROOT] = try_open(p, O_WRONLY);
	o->err[OP_CREATE_ROOT] = try_create(t->root, "new");
	o->err[OP_UNLINK_ROOT] = rc(unlink(p));
	/* O_TRUNC on a read-only open needs the ABI 3 truncate right. */
	o->err[OP_TRUNCATE_ROOT] = try_open(p, O_RDONLY | O_TRUNC);
	path2(q, t->root, "newdir");
	o->err[OP_MKDIR_ROOT] = rc(mkdir(q, 0755));
	o->err[OP_CREATE_UP] = try_create(t->up, "new");
	path2(p, t->up, "new");
	path2(q, t->up, "d");
	o->err[OP_RENAME_UP] = rc(mkdir(q, 0755));
	path2(q, t->up, "d/new");
	if (o->err[OP_RENAME_UP] == 0)
		o->err[OP_RENAME_UP] = rc(rename(p, q));
	o->err[OP_UNLINK_UP] = rc(unlink(q));
	path2(p, t->out, "secret");
	o->err[OP_READ_OUT] = try_open(p, O_RDONLY);
	o->err[OP_READ_ETC_PASSWD] = try_open("/etc/passwd", O_RDONLY);
	path2(p, t->extra, "e.txt");
	o->err[OP_READ_EXTRA] = try_open(p, O_RDONLY);
	o->err[OP_APPEND_LOG] = try_open(t->logf, O_WRONLY | O_APPEND);
	path2(p, t->top, "log");
	o->err[OP_CREATE_LOG] = try_create(p, "error.log");
	o->err[OP_READ_LOG] = try_open(t->logf, O_RDONLY);
	o->err[OP_CREATE_BESIDE_LOGS] = try_create(t->top, "x.log");
	o->err[OP_READ_CONF] = try_open(t->conf, O_RDONLY);
	path2(p, t->top, "etc/other");
	o->err[OP_READ_CONF_SIBLING] = try_open(p, O_RDONLY);
	o->err[OP_CREATE_STATE] = try_create(t->state, "key");
	o->err[OP_TCP_CONNECT] = try_connect();
	o->err[OP_THREAD] = try_thread();
}

/*
 * In a child: applies spec, runs the ops when it worked, and reports
 * through the pipe.  *o is filled in the parent; returns the child's
 * wait status.
 */
static int
run_child(const struct tree *t, const struct sandbox_spec *spec,
    struct outcome *o)
{
	int pfd[2], sfd, status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		close(pfd[0]);
		/* Opened before, read after: the sandbox refuses /proc. */
		sfd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		o->applied = sandbox_apply(spec, &o->rep);
		if (o->applied == 0)
			run_ops(t, o);
		n = sfd >= 0 ? pread(sfd, buf, sizeof(buf) - 1, 0) : -1;
		buf[n > 0 ? n : 0] = '\0';
		status_line(buf, "Seccomp:", o->status, sizeof(o->status));
		status_line(buf, "NoNewPrivs:", o->nnp, sizeof(o->nnp));
		n = write(pfd[1], o, sizeof(*o));
		_exit(n == (ssize_t)sizeof(*o) ? 0 : 3);
	}
	close(pfd[1]);
	n = read(pfd[0], o, sizeof(*o));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the sandboxed child died (status 0x%x)", (unsigned)status);
	ck_assert_int_eq(n, (ssize_t)sizeof(*o));
	return status;
}

/*
 * Tests
 */

START_TEST(apply_confines_the_filesystem)
{
	/* What each op must give: 0 or EACCES (-1: depends on the ABI). */
	static const int want[OP_COUNT] = {
		[OP_READ_ROOT] = 0, [OP_LIST_ROOT] = 0,
		[OP_WRITE_ROOT] = EACCES, [OP_CREATE_ROOT] = EACCES,
		[OP_UNLINK_ROOT] = EACCES, [OP_MKDIR_ROOT] = EACCES,
		[OP_TRUNCATE_ROOT] = -1, [OP_CREATE_UP] = 0,
		[OP_RENAME_UP] = 0, [OP_UNLINK_UP] = 0,
		[OP_READ_OUT] = EACCES, [OP_READ_ETC_PASSWD] = EACCES,
		[OP_READ_EXTRA] = 0, [OP_APPEND_LOG] = 0,
		[OP_CREATE_LOG] = 0, [OP_READ_LOG] = EACCES,
		[OP_CREATE_BESIDE_LOGS] = EACCES, [OP_READ_CONF] = 0,
		[OP_READ_CONF_SIBLING] = EACCES, [OP_CREATE_STATE] = 0,
		[OP_TCP_CONNECT] = -1, [OP_THREAD] = 0,
	};
	struct outcome o;
	struct tree t;
	int abi;

	if ((abi = landlock_or_skip("apply_confines_the_filesystem")) == 0)
		return;
	tree_make(&t);
	run_child(&t, &t.spec, &o);
	ck_assert_msg(o.applied == 0, "sandbox_apply: %s", o.rep.detail);
	ck_assert(o.rep.landlock);
	ck_assert_int_eq(o.rep.landlock_abi, abi);
	for (size_t i = 0; i < OP_COUNT; i++) {
		int w = want[i];

		if (i == OP_TRUNCATE_ROOT)
			w = abi >= 3 ? EACCES : 0;
		if (i == OP_TCP_CONNECT)
			w = abi >= 4 ? EACCES : 0;
		ck_assert_msg(o.err[i] == w, "%s: got %s, want %s (%s)",
		    op_names[i], o.err[i] == 0 ? "success" : strerror(o.err[i]),
		    w == 0 ? "success" : strerror(w), o.rep.detail);
	}
	tree_free(&t);
}
END_TEST

START_TEST(apply_loads_seccomp_and_no_new_privs)
{
	struct outcome o;
	struct tree t;

	if (landlock_or_skip("apply_loads_seccomp_and_no_new_privs") == 0)
		return;
	tree_make(&t);
	run_child(&t, &t.spec, &o);
	ck_assert_msg(o.applied == 0, "sandbox_apply: %s", o.rep.detail);
	ck_assert_str_eq(o.nnp, "NoNewPrivs:\t1");
	if (sandbox_seccomp_skipped()) {
		printf("check_sandbox: seccomp skipped in this build (%s)\n",
		    o.rep.detail);
		ck_assert(!o.rep.seccomp);
		ck_assert_str_eq(o.status, "Seccomp:\t0");
	} else {
		ck_assert(o.rep.seccomp);
		ck_assert_str_eq(o.status, "Seccomp:\t2");
	}
	ck_assert_msg(strstr(o.rep.detail, "landlock ABI") != NULL,
	    "detail: %s", o.rep.detail);
	tree_free(&t);
}
END_TEST

START_TEST(apply_fails_on_a_missing_root)
{
	struct outcome o;
	struct tree t;

	if (landlock_or_skip("apply_fails_on_a_missing_root") == 0)
		return;
	tree_make(&t);
	t.spec.root = "/nonexistent/lanhttpd-root";
	run_child(&t, &t.spec, &o);
	ck_assert_int_eq(o.applied, -1);
	ck_assert(!o.rep.landlock && !o.rep.seccomp);
	ck_assert_msg(strstr(o.rep.detail, "/nonexistent/lanhttpd-root") !=
	    NULL, "detail: %s", o.rep.detail);
	tree_free(&t);
}
END_TEST

START_TEST(apply_with_only_a_root)
{
	struct sandbox_spec spec = { 0 };
	struct outcome o;
	struct tree t;

	if (landlock_or_skip("apply_with_only_a_root") == 0)
		return;
	tree_make(&t);
	spec.root = t.root;
	run_child(&t, &spec, &o);
	ck_assert_msg(o.applied == 0, "sandbox_apply: %s", o.rep.detail);
	ck_assert_int_eq(o.err[OP_READ_ROOT], 0);
	ck_assert_int_eq(o.err[OP_CREATE_UP], EACCES);
	ck_assert_int_eq(o.err[OP_APPEND_LOG], EACCES);
	ck_assert_int_eq(o.err[OP_READ_CONF], EACCES);
	ck_assert_int_eq(o.err[OP_CREATE_STATE], EACCES);
	tree_free(&t);
}
END_TEST

/* System calls the daemon never makes: each must kill the child. */
static void
forbid_execve(void)
{
	char *const argv[] = { (char *)"true", NULL };

	execve("/bin/true", argv, environ);
}

static void
forbid_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
forbid_fork(void)
{
	/* clone() without CLONE_THREAD. */
	if (syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0) == 0)
		_exit(0);
}

static void
forbid_netlink(void)
{
	socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
}

static void
forbid_packet(void)
{
	socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
}

static void
forbid_mount(void)
{
	mount("none", "/tmp", "tmpfs", 0, NULL);
}

/* The test process, read before the sandbox (getppid() is not allowed). */
static pid_t parent_pid;

static void
forbid_tgkill_elsewhere(void)
{
	syscall(SYS_tgkill, parent_pid, parent_pid, 0);
}

static void
forbid_chroot(void)
{
	if (chroot("/") == 0)
		_exit(4);
}

static const struct forbidden {
	const char	*name;
	void		(*call)(void);
} forbidden[] = {
	{ "execve", forbid_execve },
	{ "ptrace", forbid_ptrace },
	{ "clone without CLONE_THREAD", forbid_fork },
	{ "socket(AF_NETLINK)", forbid_netlink },
	{ "socket(AF_PACKET)", forbid_packet },
	{ "mount", forbid_mount },
	{ "tgkill to another process", forbid_tgkill_elsewhere },
	{ "chroot", forbid_chroot },
};

START_TEST(forbidden_call_kills_with_sigsys)
{
	const struct forbidden *f = &forbidden[_i];
	struct sandbox_report rep;
	struct tree t;
	int status;
	pid_t pid;

	if (sandbox_seccomp_skipped()) {
		printf("check_sandbox: %s skipped: no seccomp in sanitizer "
		    "builds\n", f->name);
		return;
	}
	tree_make(&t);
	parent_pid = getpid();
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		if (sandbox_apply(&t.spec, &rep) != 0)
			_exit(2);
		f->call();
		_exit(3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "%s: the child was not killed by SIGSYS (status 0x%x)", f->name,
	    (unsigned)status);
	tree_free(&t);
}
END_TEST

/* gcc says __SANITIZE_*__, clang 14 only __has_feature(). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BUILT_WITH_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define BUILT_WITH_SANITIZER	1
#endif
#endif
#ifndef BUILT_WITH_SANITIZER
#define BUILT_WITH_SANITIZER	0
#endif

START_TEST(seccomp_skipped_only_in_sanitizer_builds)
{
	ck_assert(sandbox_seccomp_skipped() == BUILT_WITH_SANITIZER);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc;

	tc = tcase_create("landlock");
	tcase_add_test(tc, apply_confines_the_filesystem);
	tcase_add_test(tc, apply_loads_seccomp_and_no_new_privs);
	tcase_add_test(tc, apply_fails_on_a_missing_root);
	tcase_add_test(tc, apply_with_only_a_root);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);

	tc = tcase_create("seccomp");
	tcase_add_loop_test(tc, forbidden_call_kills_with_sigsys, 0,
	    NELEM(forbidden));
	tcase_add_test(tc, seccomp_skipped_only_in_sanitizer_builds);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
