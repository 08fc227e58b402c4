/*
 * lab.c - the lab services' protocol logic, without I/O; see lab.h.
 */
#include "lab.h"

#include <stdio.h>
#include <string.h>

#define MICRO	1000000u

/* ---- ping ---- */

size_t
lab_ping_format(char *out, size_t cap, uint64_t seq,
    const struct timespec *ts, size_t pad)
{
	int n = snprintf(out, cap, "Ping %llu %lld.%06ld",
	    (unsigned long long)seq, (long long)ts->tv_sec,
	    ts->tv_nsec / 1000);
	size_t len;

	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	if (pad > cap)
		pad = cap;
	if (len < pad) {
		memset(out + len, 'x', pad - len);
		len = pad;
	}
	return len;
}

bool
lab_ping_source_port_ok(unsigned port)
{
	return port >= LAB_PING_MIN_PORT;
}

void
lab_upper(const char *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
}

bool
lab_ping_parse(struct span msg, bool reply, uint64_t *seq)
{
	struct span word = reply ? SPAN_LIT("PING ") : SPAN_LIT("Ping ");
	struct span digits;
	ptrdiff_t sp;

	if (msg.len < word.len || memcmp(msg.p, word.p, word.len) != 0)
		return false;
	digits = span_make(msg.p + word.len, msg.len - word.len);
	if ((sp = span_find(digits, ' ')) >= 0)
		digits.len = (size_t)sp;
	if (digits.len > 20)
		return false;
	return span_to_u64(digits, UINT64_MAX, seq);
}

/* ---- token buckets ---- */

void
lab_bucket_init(struct lab_bucket *b, unsigned rate, uint64_t now_us)
{
	b->credit = (uint64_t)rate * MICRO;
	b->last_us = now_us;
}

bool
lab_bucket_take(struct lab_bucket *b, unsigned rate, uint64_t now_us)
{
	uint64_t cap = (uint64_t)rate * MICRO;

	if (now_us > b->last_us) {
		/* A second refills the bucket completely: cap the product. */
		uint64_t dt = now_us - b->last_us;

		b->credit += (dt < MICRO ? dt : MICRO) * rate;
		b->last_us = now_us;
	}
	if (b->credit > cap)
		b->credit = cap;
	if (b->credit < MICRO)
		return false;
	b->credit -= MICRO;
	return true;
}

static size_t
source_hash(uint64_t seed, const unsigned char *addr)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (size_t)span_mix64(span_mix64(a ^ seed) ^ b);
}

void
lab_limiter_init(struct lab_limiter *l, uint64_t seed, unsigned total,
    uint64_t now_us)
{
	memset(l, 0, sizeof(*l));
	l->seed = seed;
	lab_bucket_init(&l->total, total, now_us);
}

/*
 * The slot of addr: its own, else a free one, else the least recently
 * used of its probe window (idle the longest, so most likely full again
 * anyway).  A source new to the table starts with a full bucket.
 */
static struct lab_source *
find_source(struct lab_limiter *l, const unsigned char *addr,
    unsigned rate, uint64_t now_us)
{
	size_t h = source_hash(l->seed, addr);
	struct lab_source *free_slot = NULL, *lru = NULL, *s;

	for (size_t i = 0; i < LAB_LIMIT_PROBE; i++) {
		s = &l->slot[(h + i) & (LAB_LIMIT_SLOTS - 1)];
		if (!s->used) {
			if (free_slot == NULL)
				free_slot = s;
		} else if (memcmp(s->addr, addr, 16) == 0) {
			return s;
		} else if (lru == NULL || s->b.last_us < lru->b.last_us) {
			lru = s;
		}
	}
	s = free_slot != NULL ? free_slot : lru;
	memcpy(s->addr, addr, 16);
	s->used = true;
	lab_bucket_init(&s->b, rate, now_us);
	return s;
}

bool
lab_limiter_allow(struct lab_limiter *l, const unsigned char *addr,
    unsigned per_source, unsigned total, uint64_t now_us)
{
	struct lab_source *s = find_source(l, addr, per_source, now_us);

	if (!lab_bucket_take(&s->b, per_source, now_us))
		return false;
	return lab_bucket_take(&l->total, total, now_us);
}

/* ---- daytime ---- */

size_t
lab_daytime_format(char *out, size_t cap, const struct tm *tm, long usec)
{
	long off = tm->tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	int n;

	if (off < 0)
		off = -off;
	n = snprintf(out, cap,
	    "%04d-%02d-%02d %02d:%02d:%02d.%06ld %c%02ld%02ld\r\n",
	    tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
	    tm->tm_hour, tm->tm_min, tm->tm_sec, usec, sign, off / 3600,
	    off / 60 % 60);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

/* ---- base64 ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_group(const unsigned char *g, char *out)
{
	out[0] = b64_alphabet[g[0] >> 2];
	out[1] = b64_alphabet[(g[0] & 3) << 4 | g[1] >> 4];
	out[2] = b64_alphabet[(g[1] & 15) << 2 | g[2] >> 6];
	out[3] = b64_alphabet[g[2] & 63];
}

void
lab_b64_init(struct lab_b64 *e)
{
	e->ncarry = 0;
}

size_t
lab_b64_update(struct lab_b64 *e, const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;

	/* Complete the group the last call left open. */
	if (e->ncarry > 0) {
		unsigned char g[3];

		if (e->ncarry + len < 3) {
			memcpy(e->carry + e->ncarry, p, len);
			e->ncarry += (unsigned)len;
			return 0;
		}
		memcpy(g, e->carry, e->ncarry);
		memcpy(g + e->ncarry, p, 3 - e->ncarry);
		p += 3 - e->ncarry;
		len -= 3 - e->ncarry;
		e->ncarry = 0;
		b64_group(g, out);
		o = 4;
	}
	for (; len >= 3; p += 3, len -= 3, o += 4)
		b64_group(p, out + o);
	memcpy(e->carry, p, len);
	e->ncarry = (unsigned)len;
	return o;
}

size_t
lab_b64_final(struct lab_b64 *e, char *out)
{
	unsigned char g[3] = { 0, 0, 0 };

	if (e->ncarry == 0)
		return 0;
	memcpy(g, e->carry, e->ncarry);
	b64_group(g, out);
	/* One byte left over makes two characters, two make three. */
	out[3] = '=';
	if (e->ncarry == 1)
		out[2] = '=';
	e->ncarry = 0;
	return 4;
}

size_t
lab_b64_encode(const void *in, size_t len, char *out)
{
	struct lab_b64 e;
	size_t n;

	lab_b64_init(&e);
	n = lab_b64_update(&e, in, len, out);
	return n + lab_b64_final(&e, out + n);
}

/* ---- JSON ---- */

/* Appends s[0..n) to out when it fits; counts it either way. */
static void
put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + n <= cap)
		memcpy(out + *o, s, n);
	*o += n;
}

size_t
lab_json_escape(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0, used;

	for (size_t i = 0; i < len; i += used) {
		char esc[6];
		size_t n = json_escape_at(in + i, len - i, esc, &used);

		if (n != 0)
			put(out, cap, &o, esc, n);
		else
			put(out, cap, &o, in + i, used);
	}
	return o;
}

/* {"<key>": "<value escaped><close> into out; 0 when it does not fit. */
static size_t
json_member(char *out, size_t cap, const char *key, const char *val,
    size_t len, const char *close)
{
	size_t o = 0, klen = strlen(key), clen = strlen(close);

	put(out, cap, &o, "{\"", 2);
	put(out, cap, &o, key, klen);
	put(out, cap, &o, "\": \"", 4);
	if (o > cap)
		return 0;
	o += lab_json_escape(val, len, out + o, cap - o);
	put(out, cap, &o, close, clen);
	return o <= cap ? o : 0;
}

size_t
lab_transfer_head(char *out, size_t cap, const char *name, size_t len)
{
	return json_member(out, cap, "filename", name, len,
	    "\", \"filedata\": \"");
}

size_t
lab_transfer_error(char *out, size_t cap, const char *reason)
{
	return json_member(out, cap, "error", reason, strlen(reason), "\"}");
}

/* ---- host names ---- */

bool
lab_host_is_localhost(struct span name)
{
	static const struct span lh = SPAN_LIT("localhost");

	/* An absolute name: one final dot, which is not a label. */
	if (name.len > 0 && name.p[name.len - 1] == '.')
		name.len--;
	if (name.len < lh.len || !span_eq_nocase(span_make(name.p +
	    name.len - lh.len, lh.len), lh))
		return false;
	if (name.len == lh.len)
		return true;
	/* Below it: "<labels>.localhost", no label empty. */
	if (name.p[name.len - lh.len - 1] != '.' || name.p[0] == '.')
		return false;
	for (size_t i = 1; i < name.len; i++)
		if (name.p[i] == '.' && name.p[i - 1] == '.')
			return false;
	return true;
}

/* ---- round-trip statistics ---- */

void
lab_rtt_add(struct lab_rtt *r, uint64_t us)
{
	if (r->n == 0 || us < r->min_us)
		r->min_us = us;
	if (r->n == 0 || us > r->max_us)
		r->max_us = us;
	r->n++;
	r->sum_us += (double)us;
	r->sum2_us += (double)us * (double)us;
}

/* Newton's square root, so the client needs no libm. */
static double
sqrt_newton(double v)
{
	double x = v > 1 ? v : 1;

	if (v <= 0)
		return 0;
	for (int i = 0; i < 200; i++) {
		double next = (x + v / x) / 2;

		if (next >= x)
			break;
		x = next;
	}
	return x;
}

void
lab_rtt_result(const struct lab_rtt *r, double *avg_us, double *mdev_us)
{
	double avg, var;

	*avg_us = *mdev_us = 0;
	if (r->n == 0)
		return;
	avg = r->sum_us / (double)r->n;
	var = r->sum2_us / (double)r->n - avg * avg;
	*avg_us = avg;
	*mdev_us = sqrt_newton(var);
}
