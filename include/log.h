/*
 * log.h - error log and access log.
 *
 * The error log goes to stderr or a file, one write() per line so lines
 * from different threads never interleave.  When stderr is the journal
 * (JOURNAL_STREAM names it), lines carry <N> priority prefixes and no
 * timestamp of their own.  Messages follow git's style: lowercase, no final
 * period, the failing thing first, names in quotes.
 *
 * The access log uses the Combined Log Format.  Each thread appends to its
 * own struct log_buf and the buffer is written out when it fills up or the
 * thread is about to sleep, so logging costs no syscall per request.
 */
#ifndef LANHTTPD_LOG_H
#define LANHTTPD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "span.h"

enum log_level {
	LOG_LVL_ERR = 3,	/* syslog priorities, as the journal wants */
	LOG_LVL_WARN = 4,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

#define LOG_ACCESS_BUF	16384

struct log_buf {
	size_t	len;
	char	buf[LOG_ACCESS_BUF];
};

/* One finished response, for the access log.  Spans may be empty. */
struct access_entry {
	const char	*peer;		/* textual client address */
	struct span	 request_line;	/* "GET /x HTTP/1.1", raw */
	int		 status;
	struct span	 referer;
	struct span	 user_agent;
	time_t		 when;
	/* Request body bytes received, shown as " in=N" after the line. */
	uint64_t	 received;
	bool		 has_received;
};

/*
 * Sets where the error log goes: NULL or "stderr" for stderr, else a file
 * opened for appending.  Returns 0 or a negative errno.  Call before
 * threads start, or from the reload path (the fd number is kept, see
 * log.c).
 */
int	log_open_error(const char *path);

/*
 * Sets the access log: "off", "stderr", or a file path.  Same contract as
 * log_open_error().
 */
int	log_open_access(const char *path);

/* Reopens file logs under their current names (after logrotate). */
int	log_reopen(void);

/*
 * Before a process started as root becomes uid:gid: gives it the log
 * files root opened or created (those root owns), so that a reload and a
 * reopen after rotation, which run as that user, can open them again.
 * Returns 0 or the first negative errno (each failure is logged).
 */
int	log_give_files(uid_t uid, gid_t gid);

/*
 * After the drop: warns once per log file whose folder the process
 * cannot create files in, since a rotation that only moves the file
 * leaves nothing it can reopen (logrotate's 'create' makes the new file
 * with the old one's owner, which works).
 */
void	log_check_folders(const char *user);

/* Closes log files (at exit). */
void	log_close(void);

void	log_set_level(enum log_level lvl);
bool	log_enabled(enum log_level lvl);
bool	log_access_enabled(void);

void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* As log_msg(), with ": strerror(err)" appended; err is a positive errno. */
void	log_errno(enum log_level lvl, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	\
	do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

/*
 * Formats e as one Combined Log Format line (newline included) into
 * out[0..cap), except the byte count, which is not known until the
 * response ends: *split is where it goes.  Untrusted fields are walked
 * as UTF-8 and escaped as \xHH per byte: C0 controls, DEL, quotes,
 * backslashes, the C1 controls U+0080-U+009F, and every byte that is not
 * part of well-formed UTF-8; other well-formed UTF-8 is copied as is.  So
 * nothing a client sends can drive a terminal that shows the log.
 * Returns the length, or 0 if it did not fit.  Pure and thread-safe.
 */
size_t	log_format_access(char *out, size_t cap, const struct access_entry *e,
	    size_t *split);

/*
 * Appends a line from log_format_access() to lb with bytes inserted at
 * split, flushing lb first when it would not fit.
 */
void	log_access_split(struct log_buf *lb, const char *line, size_t len,
	    size_t split, uint64_t bytes);

/* Writes out whatever lb holds. */
void	log_flush(struct log_buf *lb);

#endif /* LANHTTPD_LOG_H */
