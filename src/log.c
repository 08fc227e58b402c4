/*
 * log.c - error log and buffered access log; see log.h.
 *
 * Reopening keeps file descriptor numbers stable: a new file is dup2()ed
 * over the old descriptor, so a thread writing at that moment writes to
 * either the old or the new file, never to a closed or reused descriptor.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct log_target {
	_Atomic int fd;		/* 2: stderr; else a file we own */
	char	*path;		/* file path, NULL unless a file */
};

static struct log_target err_log = { .fd = STDERR_FILENO };
static struct log_target acc_log = { .fd = STDERR_FILENO };
static _Atomic int level = LOG_LVL_INFO;
static _Atomic bool access_on = true;
static _Atomic bool journal;	/* stderr is the journal */

static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

static int
open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	return fd < 0 ? -errno : fd;
}

/*
 * Points t at path ("stderr", "off" or a file), keeping t->fd's number
 * when t already owns a file.
 */
static int
target_set(struct log_target *t, const char *path, bool allow_off)
{
	char *copy = NULL;
	int fd;

	if (path == NULL || strcmp(path, "stderr") == 0) {
		if (t->fd > STDERR_FILENO)
			dup2(STDERR_FILENO, t->fd);
		else
			t->fd = STDERR_FILENO;
		free(t->path);
		t->path = NULL;
		return 0;
	}
	if (strcmp(path, "off") == 0) {
		if (!allow_off)
			return -EINVAL;
		free(t->path);
		t->path = NULL;
		return 0;
	}
	if ((copy = strdup(path)) == NULL)
		return -ENOMEM;
	if ((fd = open_append(path)) < 0) {
		free(copy);
		return fd;
	}
	if (t->fd > STDERR_FILENO) {
		if (dup2(fd, t->fd) < 0) {
			int err = -errno;

			close(fd);
			free(copy);
			return err;
		}
		close(fd);
	} else {
		t->fd = fd;
	}
	free(t->path);
	t->path = copy;
	return 0;
}

int
log_open_error(const char *path)
{
	journal = stderr_is_journal();
	return target_set(&err_log, path, false);
}

int
log_open_access(const char *path)
{
	bool on = !(path != NULL && strcmp(path, "off") == 0);
	int r = target_set(&acc_log, path, true);

	if (r == 0)
		atomic_store(&access_on, on);
	return r;
}

static int
target_reopen(struct log_target *t)
{
	int fd;

	if (t->path == NULL || t->fd <= STDERR_FILENO)
		return 0;
	if ((fd = open_append(t->path)) < 0)
		return fd;
	if (dup2(fd, t->fd) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

int
log_reopen(void)
{
	int a = target_reopen(&err_log), b = target_reopen(&acc_log);

	return a != 0 ? a : b;
}

int
log_give_files(uid_t uid, gid_t gid)
{
	struct log_target *ts[] = { &err_log, &acc_log };
	int r = 0;

	for (size_t i = 0; i < 2; i++) {
		struct stat st;

		if (ts[i]->path == NULL || ts[i]->fd <= STDERR_FILENO ||
		    fstat(ts[i]->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != 0)
			continue;
		if (fchown(ts[i]->fd, uid, gid) != 0) {
			log_errno(LOG_LVL_WARN, errno, "cannot give log file "
			    "'%s' to the user the server runs as", ts[i]->path);
			if (r == 0)
				r = -errno;
		}
	}
	return r;
}

void
log_check_folders(const char *user)
{
	struct log_target *ts[] = { &err_log, &acc_log };

	for (size_t i = 0; i < 2; i++) {
		char dir[4096];
		const char *slash;
		size_t n;

		if (ts[i]->path == NULL || ts[i]->fd <= STDERR_FILENO)
			continue;
		slash = strrchr(ts[i]->path, '/');
		n = slash == NULL ? 1 : slash == ts[i]->path ? 1 :
		    (size_t)(slash - ts[i]->path);
		if (n >= sizeof(dir))
			continue;
		memcpy(dir, slash == NULL ? "." : ts[i]->path, n);
		dir[n] = '\0';
		if (access(dir, W_OK | X_OK) != 0)
			log_warn("log folder '%s' is not writable by '%s': after "
			    "a rotation the log can be reopened only if the new "
			    "file is made for it (logrotate's 'create')", dir,
			    user);
	}
}

void
log_close(void)
{
	struct log_target *ts[] = { &err_log, &acc_log };

	for (size_t i = 0; i < 2; i++) {
		if (ts[i]->fd > STDERR_FILENO)
			close(ts[i]->fd);
		ts[i]->fd = STDERR_FILENO;
		free(ts[i]->path);
		ts[i]->path = NULL;
	}
}

void
log_set_level(enum log_level lvl)
{
	atomic_store(&level, (int)lvl);
}

bool
log_enabled(enum log_level lvl)
{
	return (int)lvl <= atomic_load_explicit(&level, memory_order_relaxed);
}

bool
log_access_enabled(void)
{
	return atomic_load_explicit(&access_on, memory_order_relaxed);
}

static void
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;		/* nowhere left to report this */
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
log_vmsg(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	static const char *const names[8] = {
		[LOG_LVL_ERR] = "error", [LOG_LVL_WARN] = "warning",
		[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
	};
	char line[2048];
	size_t n = 0;
	int r;

	if (!log_enabled(lvl))
		return;
	if (journal && err_log.fd == STDERR_FILENO) {
		r = snprintf(line, sizeof(line), "<%d>", (int)lvl);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];

		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		r = snprintf(line, sizeof(line), "%s [%s] ", ts, names[lvl]);
	}
	n = r > 0 ? (size_t)r : 0;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (err != 0 && n < sizeof(line) - 1) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
		if (r > 0)
			n += (size_t)r < sizeof(line) - n ?
			    (size_t)r : sizeof(line) - n - 1;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	write_all(err_log.fd, line, n);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, 0, fmt, ap);
	va_end(ap);
}

void
log_errno(enum log_level lvl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, err, fmt, ap);
	va_end(ap);
}

/* Appends \xNN for each of p[0..n); returns false when out of room. */
static bool
put_hex(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (*o + 4 * n > cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		out[(*o)++] = '\\';
		out[(*o)++] = 'x';
		out[(*o)++] = hex[c >> 4];
		out[(*o)++] = hex[c & 15];
	}
	return true;
}

/*
 * Whether the well-formed UTF-8 sequence p[0..n) is escaped: a C0 control,
 * DEL, '"', '\\', or a C1 control (U+0080-U+009F, C2 80 to C2 9F).
 */
static bool
needs_escape(const char *p, size_t n)
{
	unsigned char c = (unsigned char)p[0];

	if (n == 1)
		return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
	return n == 2 && c == 0xc2 && (unsigned char)p[1] < 0xa0;
}

/*
 * Appends s escaped for a quoted CLF field; returns false when out of
 * room.  A terminal showing the log acts on the C0 controls and DEL, on
 * the C1 controls U+0080-U+009F (U+009B is CSI, like ESC [) and, in many
 * cases, on a raw byte 0x80-0x9F, so a client must not be able to put
 * any of them there.  The field is walked as UTF-8: a well-formed
 * sequence is copied, so names in any script stay readable, except the
 * C1 controls, whose two bytes are escaped; every byte that does not
 * belong to a well-formed sequence (overlong, surrogate, above U+10FFFF,
 * cut short) is escaped on its own.  '"' and '\\' are escaped too, so
 * the field cannot end early and an escape cannot be forged.
 */
static bool
put_escaped(char *out, size_t cap, size_t *o, struct span s)
{
	size_t n;

	for (size_t i = 0; i < s.len; i += n) {
		n = utf8_seq_len(s.p + i, s.len - i);
		if (n == 0) {
			/* Not UTF-8: this byte alone, then resynchronise. */
			n = 1;
			if (!put_hex(out, cap, o, s.p + i, 1))
				return false;
		} else if (needs_escape(s.p + i, n)) {
			if (!put_hex(out, cap, o, s.p + i, n))
				return false;
		} else {
			if (*o + n > cap)
				return false;
			memcpy(out + *o, s.p + i, n);
			*o += n;
		}
	}
	return true;
}

static bool
put_raw(char *out, size_t cap, size_t *o, const char *s, size_t len)
{
	if (*o + len > cap)
		return false;
	memcpy(out + *o, s, len);
	*o += len;
	return true;
}

/* The CLF timestamp of the current second, cached per thread. */
static const char *
clf_date(time_t when)
{
	static _Thread_local time_t cached = -1;
	static _Thread_local char buf[40];

	if (when != cached) {
		struct tm tm;

		localtime_r(&when, &tm);
		strftime(buf, sizeof(buf), "%d/%b/%Y:%H:%M:%S %z", &tm);
		cached = when;
	}
	return buf;
}

/* A quoted field of the log: '-' when empty, else escaped. */
static bool
put_field(char *out, size_t cap, size_t *o, struct span v)
{
	if (v.len == 0)
		return put_raw(out, cap, o, "-", 1);
	return put_escaped(out, cap, o, v);
}

/*
 * A request target or a Referer, with the value of every t= parameter
 * of its query (a read token or a share link, which works for days)
 * written as "-": a log readable by others must not hand out access.
 */
static bool
put_url_field(char *out, size_t cap, size_t *o, struct span v)
{
	const char *q;
	size_t i = 0;

	if (v.len == 0 || (q = memchr(v.p, '?', v.len)) == NULL)
		return put_field(out, cap, o, v);
	for (size_t j = (size_t)(q - v.p); j + 2 < v.len; j++) {
		if (strchr("?&;", v.p[j]) == NULL || v.p[j + 1] != 't' ||
		    v.p[j + 2] != '=')
			continue;
		if (!put_escaped(out, cap, o, span_make(v.p + i, j + 3 - i)) ||
		    !put_raw(out, cap, o, "-", 1))
			return false;
		for (i = j + 3; i < v.len && strchr("&; #", v.p[i]) == NULL; i++)
			;
		j = i - 1;
	}
	return put_escaped(out, cap, o, span_make(v.p + i, v.len - i));
}

/* " in=N" for a request whose body was received (an upload). */
static bool
put_received(char *out, size_t cap, size_t *o, const struct access_entry *e)
{
	char num[32];
	int n;

	if (!e->has_received)
		return true;
	n = snprintf(num, sizeof(num), " in=%llu",
	    (unsigned long long)e->received);
	return n > 0 && put_raw(out, cap, o, num, (size_t)n);
}

size_t
log_format_access(char *out, size_t cap, const struct access_entry *e,
    size_t *split)
{
	char num[32];
	const char *date = clf_date(e->when);
	size_t o = 0;
	int n = snprintf(num, sizeof(num), "\" %d ", e->status);

	if (n < 0 || !put_raw(out, cap, &o, e->peer, strlen(e->peer)) ||
	    !put_raw(out, cap, &o, " - - [", 6) ||
	    !put_raw(out, cap, &o, date, strlen(date)) ||
	    !put_raw(out, cap, &o, "] \"", 3) ||
	    !put_url_field(out, cap, &o, e->request_line) ||
	    !put_raw(out, cap, &o, num, (size_t)n))
		return 0;
	*split = o;
	if (!put_raw(out, cap, &o, " \"", 2) ||
	    !put_url_field(out, cap, &o, e->referer) ||
	    !put_raw(out, cap, &o, "\" \"", 3) ||
	    !put_field(out, cap, &o, e->user_agent) ||
	    !put_raw(out, cap, &o, "\"", 1) || !put_received(out, cap, &o, e) ||
	    !put_raw(out, cap, &o, "\n", 1))
		return 0;
	return o;
}

void
log_flush(struct log_buf *lb)
{
	if (lb->len == 0)
		return;
	if (log_access_enabled())
		write_all(acc_log.fd, lb->buf, lb->len);
	lb->len = 0;
}

void
log_access_split(struct log_buf *lb, const char *line, size_t len,
    size_t split, uint64_t bytes)
{
	char num[24];
	size_t nlen = 0, need;

	if (!log_access_enabled() || split > len)
		return;
	do {
		num[sizeof(num) - 1 - nlen++] = (char)('0' + bytes % 10);
		bytes /= 10;
	} while (bytes != 0);
	need = len + nlen;
	if (need > sizeof(lb->buf) - lb->len)
		log_flush(lb);
	if (need > sizeof(lb->buf))
		return;		/* cannot happen: lines are capped far below */
	memcpy(lb->buf + lb->len, line, split);
	memcpy(lb->buf + lb->len + split, num + sizeof(num) - nlen, nlen);
	memcpy(lb->buf + lb->len + split + nlen, line + split, len - split);
	lb->len += need;
}
