/*
 * http_response.c - status lines, headers, dates, error bodies; see
 * http_response.h.
 */
#include "http_response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

void
hb_release(struct hbuf *hb)
{
	if (hb->grow)
		free(hb->p);
	hb->p = NULL;
	hb->len = hb->cap = 0;
}

bool
hb_reserve(struct hbuf *hb, size_t n)
{
	size_t cap;
	char *p;

	if (hb->overflow)
		return false;
	if (n <= hb->cap - hb->len)
		return true;
	if (!hb->grow || n > SIZE_MAX / 2 - hb->len) {
		hb->overflow = true;
		return false;
	}
	cap = hb->cap < 4096 ? 4096 : hb->cap;
	while (cap - hb->len < n)
		cap *= 2;
	if ((p = realloc(hb->p, cap)) == NULL) {
		hb->overflow = true;
		return false;
	}
	hb->p = p;
	hb->cap = cap;
	return true;
}

void
hb_add_slow(struct hbuf *hb, const char *s, size_t n)
{
	if (n == 0 || !hb_reserve(hb, n))
		return;
	memcpy(hb->p + hb->len, s, n);
	hb->len += n;
}

void
hb_u64(struct hbuf *hb, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	hb_add(hb, tmp + i, sizeof(tmp) - i);
}

void
hb_fmt(struct hbuf *hb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (hb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(hb->p + hb->len, hb->cap - hb->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < hb->cap - hb->len) {
		hb->len += (size_t)n;
		return;
	}
	/* Room for the terminating NUL too, which is not counted. */
	if (n < 0 || !hb_reserve(hb, (size_t)n + 1)) {
		hb->overflow = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(hb->p + hb->len, hb->cap - hb->len, fmt, ap);
	va_end(ap);
	hb->len += (size_t)n;
}

void
hb_content_disposition(struct hbuf *hb, const char *name, size_t len)
{
	size_t i = 0, need;

	hb_str(hb, "attachment; filename=\"");
	while (i < len) {
		unsigned char c = (unsigned char)name[i];
		size_t n = utf8_seq_len(name + i, len - i);
		char out = (char)c;

		/* One '_' per character, so the fallback keeps its shape. */
		if (n == 0)
			n = 1;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%')
			out = '_';
		hb_add(hb, &out, 1);
		i += n;
	}
	hb_str(hb, "\"; filename*=UTF-8''");
	if (!hb_reserve(hb, 1))
		return;
	need = path_encode_set(name, len, PCT_ATTR_CHAR, hb->p + hb->len,
	    hb->cap - hb->len);
	if (need >= hb->cap - hb->len) {
		if (!hb_reserve(hb, need + 1))
			return;
		path_encode_set(name, len, PCT_ATTR_CHAR, hb->p + hb->len,
		    hb->cap - hb->len);
	}
	hb->len += need;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 303: return "See Other";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 423: return "Locked";
	case 424: return "Failed Dependency";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

static const char wdays[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static char *
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

void
http_date(time_t t, char *out)
{
	struct tm tm;
	char *p = out;
	int year;

	gmtime_r(&t, &tm);
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		year = 9999;
	memcpy(p, wdays[tm.tm_wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put2(p, tm.tm_mday);
	*p++ = ' ';
	memcpy(p, months[tm.tm_mon], 3);
	p += 3;
	*p++ = ' ';
	p = put2(p, year / 100);
	p = put2(p, year % 100);
	*p++ = ' ';
	p = put2(p, tm.tm_hour);
	*p++ = ':';
	p = put2(p, tm.tm_min);
	*p++ = ':';
	p = put2(p, tm.tm_sec);
	memcpy(p, " GMT", 5);
}

/* Reads exactly n digits at s->p[*i]. */
static bool
digits(struct span s, size_t *i, size_t n, int *out)
{
	int v = 0;

	if (*i + n > s.len)
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = s.p[*i + k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*out = v;
	return true;
}

static bool
lit(struct span s, size_t *i, const char *l)
{
	size_t n = strlen(l);

	if (*i + n > s.len || memcmp(s.p + *i, l, n) != 0)
		return false;
	*i += n;
	return true;
}

static bool
month(struct span s, size_t *i, int *mon)
{
	for (int m = 0; m < 12; m++) {
		if (*i + 3 <= s.len && memcmp(s.p + *i, months[m], 3) == 0) {
			*i += 3;
			*mon = m;
			return true;
		}
	}
	return false;
}

/* "HH:MM:SS" */
static bool
clock_part(struct span s, size_t *i, struct tm *tm)
{
	return digits(s, i, 2, &tm->tm_hour) && lit(s, i, ":") &&
	    digits(s, i, 2, &tm->tm_min) && lit(s, i, ":") &&
	    digits(s, i, 2, &tm->tm_sec);
}

static bool
skip_weekday(struct span s, size_t *i)
{
	while (*i < s.len && ((s.p[*i] >= 'A' && s.p[*i] <= 'Z') ||
	    (s.p[*i] >= 'a' && s.p[*i] <= 'z')))
		(*i)++;
	return *i > 0;
}

/* IMF-fixdate after "Sun, ": "06 Nov 1994 08:49:37 GMT" */
static bool
imf_fixdate(struct span s, size_t i, struct tm *tm)
{
	if (!(digits(s, &i, 2, &tm->tm_mday) && lit(s, &i, " ") &&
	    month(s, &i, &tm->tm_mon) && lit(s, &i, " ") &&
	    digits(s, &i, 4, &tm->tm_year) && lit(s, &i, " ") &&
	    clock_part(s, &i, tm) && lit(s, &i, " GMT") && i == s.len))
		return false;
	tm->tm_year -= 1900;
	return true;
}

/* RFC 850 after "Sunday, ": "06-Nov-94 08:49:37 GMT" */
static bool
rfc850_date(struct span s, size_t i, struct tm *tm)
{
	if (!(digits(s, &i, 2, &tm->tm_mday) && lit(s, &i, "-") &&
	    month(s, &i, &tm->tm_mon) && lit(s, &i, "-") &&
	    digits(s, &i, 2, &tm->tm_year) && lit(s, &i, " ") &&
	    clock_part(s, &i, tm) && lit(s, &i, " GMT") && i == s.len))
		return false;
	/* §5.6.7: a two-digit year more than 50 years ahead is in the past. */
	if (tm->tm_year < 70)
		tm->tm_year += 100;
	return true;
}

/* asctime after "Sun ": "Nov  6 08:49:37 1994" */
static bool
asctime_date(struct span s, size_t i, struct tm *tm)
{
	if (!(month(s, &i, &tm->tm_mon) && lit(s, &i, " ")))
		return false;
	/* The day is padded with a space, not a zero. */
	if (i < s.len && s.p[i] == ' ') {
		i++;
		if (!digits(s, &i, 1, &tm->tm_mday))
			return false;
	} else if (!digits(s, &i, 2, &tm->tm_mday)) {
		return false;
	}
	if (!(lit(s, &i, " ") && clock_part(s, &i, tm) && lit(s, &i, " ") &&
	    digits(s, &i, 4, &tm->tm_year) && i == s.len))
		return false;
	tm->tm_year -= 1900;
	return true;
}

bool
http_parse_date(struct span s, time_t *out)
{
	struct tm tm;
	size_t i = 0;
	bool ok = false;

	memset(&tm, 0, sizeof(tm));
	if (!skip_weekday(s, &i))
		return false;
	if (lit(s, &i, ", "))
		ok = imf_fixdate(s, i, &tm) ||
		    (memset(&tm, 0, sizeof(tm)), rfc850_date(s, i, &tm));
	else if (lit(s, &i, " "))
		ok = asctime_date(s, i, &tm);
	if (!ok || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

time_t
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* What follows the status line; the date in it changes once a second. */
#define BEGIN_DATE	"\r\nDate: "
#define BEGIN_SERVER	"\r\nServer: " SERVER_HEADER "\r\n"
#define BEGIN_TAIL_LEN	(sizeof(BEGIN_DATE) - 1 + HTTP_DATE_LEN + \
			 sizeof(BEGIN_SERVER) - 1)

void
http_begin(struct hbuf *hb, int status)
{
	static _Thread_local time_t cached = -1;
	static _Thread_local char tail[BEGIN_TAIL_LEN + 1];
	char line[] = "HTTP/1.1 000 ";
	time_t now = http_now();

	if (now != cached) {
		char date[HTTP_DATE_LEN + 1];

		http_date(now, date);
		snprintf(tail, sizeof(tail), "%s%s%s", BEGIN_DATE, date,
		    BEGIN_SERVER);
		cached = now;
	}
	if (status < 100 || status > 999)
		status = 500;
	line[9] = (char)('0' + status / 100);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	hb_add(hb, line, sizeof(line) - 1);
	hb_str(hb, http_reason(status));
	hb_add(hb, tail, BEGIN_TAIL_LEN);
}

/*
 * The small HTML body of an error, from three fixed pieces and the status
 * line twice: assembled with appends, so an error costs no formatting.
 */
#define ERR_HEAD	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" \
			"<title>"
#define ERR_MID		"</title></head>\n<body><h1>"
#define ERR_TAIL	"</h1>\n<hr><address>" SERVER_HEADER \
			"</address></body></html>\n"

size_t
http_error_response(struct hbuf *hb, int status, bool head_only,
    bool keep_alive, bool http10, const char *extra)
{
	const char *reason = http_reason(status);
	size_t rlen = strlen(reason), hdr_len;
	/* "404 Not Found": three digits, a space, the reason. */
	size_t title = 4 + rlen;

	http_begin(hb, status);
	hb_str(hb, "Content-Type: text/html; charset=utf-8\r\nContent-Length: ");
	hb_u64(hb, sizeof(ERR_HEAD) - 1 + sizeof(ERR_MID) - 1 +
	    sizeof(ERR_TAIL) - 1 + 2 * title);
	hb_str(hb, "\r\n");
	if (!keep_alive)
		hb_str(hb, "Connection: close\r\n");
	else if (http10)
		hb_str(hb, "Connection: keep-alive\r\n");
	if (extra != NULL)
		hb_str(hb, extra);
	hb_str(hb, "\r\n");
	hdr_len = hb->len;
	if (!head_only) {
		hb_add(hb, ERR_HEAD, sizeof(ERR_HEAD) - 1);
		for (int k = 0; k < 2; k++) {
			hb_u64(hb, (uint64_t)status);
			hb_add(hb, " ", 1);
			hb_add(hb, reason, rlen);
			if (k == 0)
				hb_add(hb, ERR_MID, sizeof(ERR_MID) - 1);
		}
		hb_add(hb, ERR_TAIL, sizeof(ERR_TAIL) - 1);
	}
	return hdr_len;
}
