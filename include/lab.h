/*
 * lab.h - the protocol logic of the socket-programming lab's services,
 * without I/O.
 *
 * lanhttpd grew out of the classic lab (a web server, a date/time server,
 * a UDP ping server and client, a file pushed as JSON with base64).  This
 * module holds what those protocols decide: the ping message and its
 * upper-cased reply, the token buckets that keep the ping responder from
 * becoming a flood source, the daytime line, the streaming base64 encoder
 * and the JSON strings of the file transfer, and the round-trip statistics
 * of the ping client.
 *
 * Everything here is pure: the time is an argument, buffers belong to the
 * caller, nothing allocates, nothing keeps hidden state.  So every function
 * is thread-safe on its own arguments and can be unit-tested and fuzzed.
 * The socket and file side is lab_serve.c (the daemon) and ping_client.c
 * (the lanhttpd-ping program).
 */
#ifndef LANHTTPD_LAB_H
#define LANHTTPD_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "span.h"

/* A time as microseconds (for the monotonic clock the buckets run on). */
static inline uint64_t
lab_us(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000u;
}

/* ---- ping ---- */

/* The largest payload answered; larger datagrams are dropped unanswered. */
#define LAB_PING_MAX		1024

/*
 * Formats the lab client's message "Ping <seq> <sec>.<usec>" for the
 * wall-clock time ts into out[0..cap), then pads it with 'x' up to pad
 * bytes when it is shorter.  Returns the length, or 0 when the message does
 * not fit in cap.
 */
size_t	lab_ping_format(char *out, size_t cap, uint64_t seq,
	    const struct timespec *ts, size_t pad);

/*
 * The lowest source port the ping responder answers.  The ports below it
 * are the well-known ones (RFC 6335 §6, the System Ports), where the UDP
 * services that answer whatever they receive live: echo (7), discard
 * (9), daytime (13), qotd (17), chargen (19), and others.  A datagram
 * spoofed "from" one of them would make the responder and the service
 * bounce replies between them until a rate limit stops it, so, as most
 * UDP responders do, those get no reply.  Real clients send from the
 * ephemeral ports above.
 */
#define LAB_PING_MIN_PORT	1024

/*
 * Whether a datagram from source port port (host byte order) may be
 * answered: false for port 0, which no reply can reach, and for every
 * port below LAB_PING_MIN_PORT.
 */
bool	lab_ping_source_port_ok(unsigned port);

/*
 * Copies in[0..len) to out[0..len) with the ASCII letters a-z upper-cased
 * and every other byte as it is, so the result is never longer than the
 * input.  out may be in.
 */
void	lab_upper(const char *in, size_t len, char *out);

/*
 * Reads the sequence number of a ping message: "Ping <seq>" (reply false)
 * or the reply "PING <seq>" (reply true), followed by the end of the
 * message or a space and anything.  seq is 1 to 20 digits that fit in 64
 * bits.  Returns true and stores *seq, or false for anything else.
 */
bool	lab_ping_parse(struct span msg, bool reply, uint64_t *seq);

/*
 * A token bucket that holds at most rate tokens (one second's worth: the
 * largest burst) and refills at rate tokens per second.  Credit is kept in
 * millionths of a token, so rates up to LAB_RATE_MAX never round to zero
 * and never overflow.
 */
#define LAB_RATE_MAX		1000000u

struct lab_bucket {
	uint64_t	credit;		/* millionths of a token */
	uint64_t	last_us;	/* when credit was brought up to date */
};

/* Sets b full, as of now_us. */
void	lab_bucket_init(struct lab_bucket *b, unsigned rate, uint64_t now_us);

/*
 * Refills b for the time since it was last used, then takes one token.
 * Returns false when there was no whole token.  A clock that goes back
 * adds nothing; a rate lowered since the last call caps the credit.
 * rate is 1 to LAB_RATE_MAX.
 */
bool	lab_bucket_take(struct lab_bucket *b, unsigned rate, uint64_t now_us);

/*
 * The ping responder's limits: a bucket per source address and one for
 * all replies together.  The table of sources has a fixed size, so a flood
 * from many (spoofed) addresses cannot grow memory: a source takes one of
 * LAB_LIMIT_PROBE slots chosen by a keyed hash, and when all are taken it
 * replaces the least recently used of them.  A replaced source starts
 * again with a full bucket, which is the price of bounded memory; the
 * total bucket still caps what the responder sends.
 */
#define LAB_LIMIT_SLOTS		1024	/* a power of two */
#define LAB_LIMIT_PROBE		8

struct lab_source {
	unsigned char	 addr[16];	/* IPv6, or IPv4-mapped */
	bool		 used;
	struct lab_bucket b;
};

struct lab_limiter {
	uint64_t	 seed;		/* keys the hash: no aiming at slots */
	struct lab_bucket total;
	struct lab_source slot[LAB_LIMIT_SLOTS];
};

/* An empty table keyed by seed, with a full total bucket. */
void	lab_limiter_init(struct lab_limiter *l, uint64_t seed, unsigned total,
	    uint64_t now_us);

/*
 * Whether a reply to addr (16 bytes: an IPv6 address, IPv4 as ::ffff:a.b.c.d)
 * may go out now.  Takes a token from the source's bucket first and only
 * then from the total one, so a source over its limit cannot use up the
 * replies owed to others.  Rates are per second, 1 to LAB_RATE_MAX.
 */
bool	lab_limiter_allow(struct lab_limiter *l, const unsigned char *addr,
	    unsigned per_source, unsigned total, uint64_t now_us);

/* ---- daytime ---- */

#define LAB_DAYTIME_MAX		64

/*
 * Formats the daytime line "YYYY-MM-DD HH:MM:SS.uuuuuu +hhmm" and CR LF
 * for the broken-down local time tm (tm_gmtoff gives the offset from UTC)
 * and usec microseconds (0-999999).  Returns the length, or 0 when it does
 * not fit in cap (LAB_DAYTIME_MAX always does).
 */
size_t	lab_daytime_format(char *out, size_t cap, const struct tm *tm,
	    long usec);

/* ---- base64 (RFC 4648 §4) ---- */

/* Characters the encoding of n bytes takes, padding included. */
#define LAB_B64_LEN(n)		((((n) + 2) / 3) * 4)

/* A streaming encoder: input may arrive in pieces of any size. */
struct lab_b64 {
	unsigned char	 carry[2];	/* input not yet a whole group */
	unsigned	 ncarry;
};

void	lab_b64_init(struct lab_b64 *e);

/*
 * Encodes in[0..len) after what earlier calls took: writes every complete
 * 4-character group to out and keeps the 0 to 2 bytes left over for the
 * next call.  out must hold LAB_B64_LEN(len) characters.  Returns the
 * number written.  No line breaks.
 */
size_t	lab_b64_update(struct lab_b64 *e, const void *in, size_t len,
	    char *out);

/*
 * Ends the encoding: writes the last group with its '=' padding (4
 * characters) when bytes were left over, nothing otherwise.  Returns the
 * number written.
 */
size_t	lab_b64_final(struct lab_b64 *e, char *out);

/*
 * Encodes in[0..len) completely (update, then final) into out, which must
 * hold LAB_B64_LEN(len) characters.  A long input encoded piece by piece
 * with this function gives the same text as in one go when every piece
 * but the last is a multiple of 3 bytes.  Returns the number written.
 */
size_t	lab_b64_encode(const void *in, size_t len, char *out);

/* ---- JSON (RFC 8259) ---- */

/*
 * Writes in[0..len) as the inside of a JSON string into out[0..cap),
 * escaped by json_escape_at() (span.h): '"' and '\\' are escaped, control
 * characters become \b \f \n \r \t or \u00XX, '<', '>' and '&' become
 * \u003c, \u003e and \u0026, valid UTF-8 is copied as it is (names in
 * any script stay readable), and each byte that does not begin a valid
 * UTF-8 sequence becomes \ufffd, so the result is always valid JSON.  Writes at most cap
 * bytes, no NUL, and returns the length the whole result needs: a return
 * above cap means the output was cut short.
 */
size_t	lab_json_escape(const char *in, size_t len, char *out, size_t cap);

/* What follows the base64 text of a transfer. */
#define LAB_TRANSFER_TAIL	"\"}"

/*
 * The start of a transfer, up to the first base64 character:
 * {"filename": "<name escaped>", "filedata": "
 * Returns the length, or 0 when it does not fit in cap.
 */
size_t	lab_transfer_head(char *out, size_t cap, const char *name,
	    size_t len);

/*
 * The whole answer when the file cannot be sent:
 * {"error": "<reason escaped>"}
 * Returns the length, or 0 when it does not fit in cap.
 */
size_t	lab_transfer_error(char *out, size_t cap, const char *reason);

/* ---- the ping client's host names ---- */

/*
 * Whether the host name is one of the loopback names of RFC 6761 §6.3:
 * "localhost" or any name ending in ".localhost", in any ASCII case, with
 * or without the final dot of an absolute name.  Resolvers should answer
 * these with the loopback addresses without asking anyone, and lanhttpd-ping
 * does so itself, so it works where no /etc/hosts (or no resolver) does.
 * A name with an empty label (".localhost", "a..localhost",
 * "localhost..") is not one.
 */
bool	lab_host_is_localhost(struct span name);

/* ---- round-trip statistics (the ping client) ---- */

struct lab_rtt {
	uint64_t	 n;
	uint64_t	 min_us, max_us;
	double		 sum_us, sum2_us;
};

/* Adds one round-trip time; r starts zeroed. */
void	lab_rtt_add(struct lab_rtt *r, uint64_t us);

/*
 * The mean and the mean deviation as ping(8) prints it (the standard
 * deviation, sqrt(mean(x^2) - mean(x)^2)), in microseconds; both 0 when r
 * is empty.
 */
void	lab_rtt_result(const struct lab_rtt *r, double *avg_us,
	    double *mdev_us);

#endif /* LANHTTPD_LAB_H */
