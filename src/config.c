/*
 * config.c - httpd.ini via inih, defaults, validation; see config.h.
 *
 * Every key is a row of keys[] below: section, name, how its value is
 * parsed, where it is stored and its bounds.  The ini handler and the
 * command line both go through config_set_key(), so a key behaves the same
 * wherever it is given.  inih does not pass line numbers to the handler,
 * so the file is fed through a reader that counts lines.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "access.h"
#include "htpasswd.h"
#include "session.h"
#include "lab.h"
#include "fcache.h"
#include "mime.h"

enum key_type {
	K_UINT,		/* plain number */
	K_MS,		/* duration: "10", "10s", "500ms", "2m", "1h"; stored in ms */
	K_SIZE,		/* bytes: "8192", "8k", "1M" */
	K_SIZE64,	/* the same, up to 2^52, into a uint64_t */
	K_PORT,
	K_STR,		/* string, surrounding quotes removed */
	K_PATH,		/* string; relative to the file's directory */
	K_BOOL,
	K_ENUM,
	K_LISTEN,	/* address list, accumulates; the section's protocol */
	K_ROOTFILE,	/* a file under root, as path.c would resolve it */
	K_MAX_AGE,	/* "off" or a duration in seconds ("1h"), as a long */
};

struct enum_val {
	const char	*name;
	int		 value;
};

struct key {
	const char	*section;
	const char	*name;
	enum key_type	 type;
	size_t		 off;
	uint64_t	 min, max;
	const struct enum_val *enums;
};

static const struct enum_val hidden_vals[] = {
	{ "deny", 0 }, { "allow", 1 }, { NULL, 0 },
};
static const struct enum_val mac_vals[] = {
	{ "refuse", 0 }, { "allow", 1 }, { NULL, 0 },
};
static const struct enum_val symlink_vals[] = {
	{ "inside", SYMLINKS_INSIDE }, { "all", SYMLINKS_ALL },
	{ "none", SYMLINKS_NONE }, { NULL, 0 },
};
static const struct enum_val level_vals[] = {
	{ "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARN },
	{ "warn", LOG_LVL_WARN }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG }, { NULL, 0 },
};

#define OFF(f)	offsetof(struct config, f)
#define HOUR_MS	(3600u * 1000u)

static const struct key keys[] = {
	{ "server", "port", K_PORT, OFF(port), 0, 65535, NULL },
	{ "server", "root", K_PATH, OFF(root), 0, 0, NULL },
	{ "server", "threads", K_UINT, OFF(threads), 0, 1024, NULL },
	{ "server", "listen", K_LISTEN, 0, 0, 0, NULL },
	{ "server", "queue_size", K_UINT, OFF(queue_size), 1, 1u << 20, NULL },
	{ "server", "max_connections", K_UINT, OFF(max_connections), 1,
	    1u << 20, NULL },
	{ "server", "header_timeout", K_MS, OFF(header_timeout_ms), 100,
	    HOUR_MS, NULL },
	{ "server", "keepalive_timeout", K_MS, OFF(keepalive_timeout_ms), 100,
	    HOUR_MS, NULL },
	{ "server", "send_timeout", K_MS, OFF(send_timeout_ms), 100, HOUR_MS,
	    NULL },
	{ "server", "shutdown_timeout", K_MS, OFF(shutdown_timeout_ms), 0,
	    HOUR_MS, NULL },
	{ "server", "overload_timeout", K_MS, OFF(overload_timeout_ms), 0,
	    HOUR_MS, NULL },
	{ "server", "index", K_STR, OFF(index), 0, 0, NULL },
	{ "server", "hidden_files", K_ENUM, OFF(allow_hidden), 0, 0,
	    hidden_vals },
	{ "server", "follow_symlinks", K_ENUM, OFF(symlinks), 0, 0,
	    symlink_vals },
	{ "server", "max_header_size", K_SIZE, OFF(max_header_size), 1024,
	    65536, NULL },
	{ "server", "user", K_STR, OFF(user), 0, 0, NULL },
	{ "server", "group", K_STR, OFF(group), 0, 0, NULL },
	{ "server", "allow_root", K_BOOL, OFF(allow_root), 0, 0, NULL },
	{ "server", "sandbox", K_BOOL, OFF(sandbox), 0, 0, NULL },
	{ "server", "sandbox_allow", K_STR, OFF(sandbox_allow), 0, 0, NULL },
	{ "server", "file_cache_entries", K_UINT, OFF(file_cache_entries), 0,
	    1u << 20, NULL },
	{ "server", "file_cache_size", K_SIZE, OFF(file_cache_size), 0,
	    1u << 30, NULL },
	{ "server", "file_cache_valid", K_MS, OFF(file_cache_valid_ms), 0,
	    HOUR_MS, NULL },
	{ "server", "file_cache_max_body", K_SIZE, OFF(file_cache_max_body),
	    0, 1u << 20, NULL },
	{ "server", "etag_inode", K_BOOL, OFF(etag_inode), 0, 0, NULL },
	{ "server", "cache_max_age", K_MAX_AGE, OFF(cache_max_age), 0,
	    10ull * 365 * 24 * 3600, NULL },
	{ "server", "directory_listing", K_BOOL, OFF(directory_listing), 0, 0,
	    NULL },
	{ "server", "precompressed", K_BOOL, OFF(precompressed), 0, 0, NULL },
	{ "server", "error_page_404", K_ROOTFILE, OFF(error_page_404), 0, 0,
	    NULL },
	{ "server", "error_page_403", K_ROOTFILE, OFF(error_page_403), 0, 0,
	    NULL },
	{ "server", "listing_cache_entries", K_UINT,
	    OFF(listing_cache_entries), 0, 1u << 16, NULL },
	{ "server", "listing_cache_size", K_SIZE, OFF(listing_cache_size), 0,
	    1u << 30, NULL },
	{ "server", "max_response_memory", K_SIZE, OFF(max_response_memory),
	    64u << 10, 1u << 30, NULL },
	{ "log", "access_log", K_PATH, OFF(access_log), 0, 0, NULL },
	{ "log", "error_log", K_PATH, OFF(error_log), 0, 0, NULL },
	{ "log", "level", K_ENUM, OFF(log_level), 0, 0, level_vals },
	{ "mime", "types_file", K_PATH, OFF(types_file), 0, 0, NULL },
	{ "ping", "enable", K_BOOL, OFF(ping_enable), 0, 0, NULL },
	{ "ping", "listen", K_LISTEN, 0, 0, 0, NULL },
	{ "ping", "rate_per_source", K_UINT, OFF(ping_rate_source), 1,
	    LAB_RATE_MAX, NULL },
	{ "ping", "rate_total", K_UINT, OFF(ping_rate_total), 1, LAB_RATE_MAX,
	    NULL },
	{ "daytime", "enable", K_BOOL, OFF(daytime_enable), 0, 0, NULL },
	{ "daytime", "listen", K_LISTEN, 0, 0, 0, NULL },
	{ "transfer", "enable", K_BOOL, OFF(transfer_enable), 0, 0, NULL },
	{ "transfer", "listen", K_LISTEN, 0, 0, 0, NULL },
	{ "transfer", "file", K_ROOTFILE, OFF(transfer_file), 0, 0, NULL },
	{ "transfer", "max_size", K_SIZE, OFF(transfer_max_size), 0,
	    UINT32_MAX, NULL },
	{ "upload", "enable", K_BOOL, OFF(upload_enable), 0, 0, NULL },
	{ "upload", "paths", K_STR, OFF(upload_paths), 0, 0, NULL },
	{ "upload", "max_size", K_SIZE64, OFF(upload_max_size), 0, 1ull << 52,
	    NULL },
	{ "upload", "overwrite", K_BOOL, OFF(upload_overwrite), 0, 0, NULL },
	{ "upload", "body_timeout", K_MS, OFF(upload_body_timeout_ms), 100,
	    HOUR_MS, NULL },
	{ "upload", "max_active", K_UINT, OFF(upload_max_active), 1, 100000,
	    NULL },
	{ "upload", "reserve", K_SIZE64, OFF(upload_reserve), 0, 1ull << 52,
	    NULL },
	{ "upload", "splice", K_BOOL, OFF(upload_splice), 0, 0, NULL },
	{ "upload", "fsync", K_BOOL, OFF(upload_fsync), 0, 0, NULL },
	{ "upload", "tus_expire", K_MS, OFF(upload_tus_expire_ms), 1000,
	    30 * 24 * HOUR_MS, NULL },
	{ "auth", "users", K_PATH, OFF(auth_users), 0, 0, NULL },
	{ "auth", "realm", K_STR, OFF(auth_realm), 0, 0, NULL },
	{ "auth", "always_ask", K_BOOL, OFF(auth_always_ask), 0, 0, NULL },
	{ "auth", "backoff", K_MS, OFF(auth_backoff_ms), 1, HOUR_MS, NULL },
	{ "auth", "max_backoff", K_MS, OFF(auth_max_backoff_ms), 1,
	    24 * HOUR_MS, NULL },
	{ "auth", "state_dir", K_PATH, OFF(auth_state_dir), 0, 0, NULL },
	{ "auth", "session", K_MS, OFF(auth_session_ms), 60 * 1000,
	    30 * 24 * HOUR_MS, NULL },
	{ "auth", "share", K_MS, OFF(auth_share_ms), 60 * 1000,
	    30 * 24 * HOUR_MS, NULL },
	{ "mdns", "enable", K_BOOL, OFF(mdns_enable), 0, 0, NULL },
	{ "mdns", "name", K_STR, OFF(mdns_name), 0, 0, NULL },
	{ "server", "lan_address", K_STR, OFF(lan_address), 0, 0, NULL },
	{ "webdav", "enable", K_BOOL, OFF(webdav_enable), 0, 0, NULL },
	{ "webdav", "depth_infinity", K_BOOL, OFF(webdav_depth_infinity), 0, 0,
	    NULL },
	{ "webdav", "mac_files", K_ENUM, OFF(webdav_mac_files), 0, 0,
	    mac_vals },
};

/*
 * Each protocol's name (its section, FileDescriptorName= and log scheme),
 * transport and default port (0: [server] port).
 */
static const struct proto_info {
	const char	*name;
	const char	*section;
	bool		 dgram;
	uint16_t	 port;
} protos[PROTO_COUNT] = {
	[PROTO_HTTP] = { "http", "server", false, 0 },
	[PROTO_PING] = { "ping", "ping", true, 12000 },
	[PROTO_DAYTIME] = { "daytime", "daytime", false, 9999 },
	[PROTO_TRANSFER] = { "transfer", "transfer", false, 5566 },
};

const char *
config_proto_name(enum listen_proto p)
{
	return (unsigned)p < PROTO_COUNT ? protos[p].name : "?";
}

bool
config_proto_dgram(enum listen_proto p)
{
	return (unsigned)p < PROTO_COUNT && protos[p].dgram;
}

bool
config_proto_by_name(const char *name, enum listen_proto *p)
{
	for (unsigned i = 0; i < PROTO_COUNT; i++) {
		if (strcmp(protos[i].name, name) == 0) {
			*p = (enum listen_proto)i;
			return true;
		}
	}
	return false;
}

bool
config_proto_enabled(const struct config *c, enum listen_proto p)
{
	switch (p) {
	case PROTO_HTTP:
		return true;
	case PROTO_PING:
		return c->ping_enable;
	case PROTO_DAYTIME:
		return c->daytime_enable;
	case PROTO_TRANSFER:
		return c->transfer_enable;
	}
	return false;
}

static enum listen_proto
section_proto(const char *section)
{
	for (unsigned i = 0; i < PROTO_COUNT; i++)
		if (strcasecmp(protos[i].section, section) == 0)
			return (enum listen_proto)i;
	return PROTO_HTTP;
}

void
config_error(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	int n;
	char *nt;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	nt = realloc(errs->text, errs->len + (size_t)n + 2);
	if (nt == NULL)
		return;
	errs->text = nt;
	memcpy(errs->text + errs->len, line, (size_t)n);
	errs->len += (size_t)n;
	errs->text[errs->len++] = '\n';
	errs->text[errs->len] = '\0';
	errs->count++;
}

void
config_errors_release(struct config_errors *errs)
{
	free(errs->text);
	errs->text = NULL;
	errs->len = 0;
	errs->count = 0;
}

struct config *
config_new(void)
{
	struct config *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->port = 8080;
	c->threads = 0;
	c->queue_size = 1024;
	c->max_connections = 10000;
	c->header_timeout_ms = 10 * 1000;
	c->keepalive_timeout_ms = 15 * 1000;
	c->send_timeout_ms = 60 * 1000;
	c->shutdown_timeout_ms = 10 * 1000;
	c->overload_timeout_ms = 1000;
	c->allow_hidden = false;
	c->symlinks = SYMLINKS_INSIDE;
	c->max_header_size = 16384;
	c->etag_inode = true;
	c->sandbox = true;
	c->cache_max_age = -1;
	c->directory_listing = true;
	c->listing_cache_entries = 256;
	c->listing_cache_size = 32u << 20;
	c->max_response_memory = 16u << 20;
	c->precompressed = true;
	c->file_cache_entries = 4096;
	c->file_cache_size = 16u << 20;
	c->file_cache_valid_ms = 0;
	c->file_cache_max_body = 16u << 10;
	c->log_level = LOG_LVL_INFO;
	c->root_fd = -1;
	c->ping_rate_source = 50;
	c->ping_rate_total = 1000;
	c->transfer_max_size = 256u << 20;
	c->upload_body_timeout_ms = 30 * 1000;
	c->upload_max_active = 64;
	c->upload_reserve = 64u << 20;
	c->upload_splice = true;
	c->upload_fsync = true;
	c->upload_tus_expire_ms = 24 * HOUR_MS;
	c->auth_backoff_ms = 1000;
	c->auth_max_backoff_ms = 5 * 60 * 1000;
	c->auth_session_ms = 7 * 24 * HOUR_MS;
	c->auth_share_ms = 7 * 24 * HOUR_MS;
	c->auth_realm = strdup("lanhttpd");
	c->mdns_enable = true;
	c->mdns_name = strdup("lanhttpd on %h");
	c->access = access_new();
	atomic_init(&c->refs, 1);
	c->root = strdup(".");
	c->index = strdup("index.html");
	c->access_log = strdup("stderr");
	c->error_log = strdup("stderr");
	c->user = strdup("");
	c->group = strdup("");
	c->transfer_file = strdup("");
	c->upload_paths = strdup("/");
	if (c->transfer_file == NULL || c->upload_paths == NULL ||
	    c->root == NULL || c->index == NULL || c->access_log == NULL ||
	    c->error_log == NULL || c->user == NULL || c->group == NULL ||
	    c->mdns_name == NULL) {
		config_free(c);
		return NULL;
	}
	return c;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->root);
	free(c->user);
	free(c->group);
	free(c->index);
	free(c->access_log);
	free(c->error_log);
	free(c->types_file);
	free(c->transfer_file);
	free(c->transfer_rel);
	free(c->upload_paths);
	for (size_t i = 0; i < c->nupload_rel; i++)
		free(c->upload_rel[i]);
	free(c->upload_rel);
	free(c->error_page_404);
	free(c->error_page_403);
	free(c->error_page_404_rel);
	free(c->error_page_403_rel);
	for (size_t i = 0; i < c->nmime_pairs; i++) {
		free(c->mime_pairs[i].ext);
		free(c->mime_pairs[i].type);
	}
	free(c->mime_pairs);
	free(c->auth_users);
	free(c->auth_realm);
	free(c->auth_state_dir);
	free(c->mdns_name);
	free(c->lan_address);
	free(c->sandbox_allow);
	htpasswd_free(c->users);
	access_free(c->access);
	free(c->root_real);
	if (c->root_fd >= 0)
		close(c->root_fd);
	mime_free(c->mime);
	fcache_free(c->fcache);
	free(c);
}

struct config *
config_ref(struct config *c)
{
	if (c != NULL)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void
config_unref(struct config *c)
{
	/* The last holder frees; acq_rel orders every use before the free. */
	if (c != NULL &&
	    atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		config_free(c);
}

/* Strict unsigned number with an optional unit suffix from units[]. */
struct unit {
	const char	*suffix;
	uint64_t	 mult;
};

static const char *
parse_scaled(const char *v, const struct unit *units, uint64_t min,
    uint64_t max, uint64_t *out)
{
	size_t n = 0;
	uint64_t num, mult = 1;

	while (v[n] >= '0' && v[n] <= '9')
		n++;
	if (n == 0)
		return "expected a non-negative number";
	if (!span_to_u64(span_make(v, n), UINT64_MAX / 4096, &num))
		return "number too large";
	if (v[n] != '\0') {
		const struct unit *u;

		for (u = units; u != NULL && u->suffix != NULL; u++)
			if (strcasecmp(v + n, u->suffix) == 0)
				break;
		if (u == NULL || u->suffix == NULL)
			return "unexpected characters after the number";
		mult = u->mult;
	}
	if (num > UINT64_MAX / mult)
		return "number too large";
	num *= mult;
	if (num < min || num > max)
		return "out of range";
	*out = num;
	return NULL;
}

static const struct unit ms_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", HOUR_MS },
	{ "d", 24 * HOUR_MS }, { NULL, 0 },
};
static const struct unit sec_units[] = {
	{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 24 * 3600 },
	{ NULL, 0 },
};
static const struct unit size_units[] = {
	{ "k", 1024 }, { "kb", 1024 }, { "kib", 1024 },
	{ "m", 1024 * 1024 }, { "mb", 1024 * 1024 }, { "mib", 1024 * 1024 },
	{ "g", 1024 * 1024 * 1024 }, { "gb", 1024 * 1024 * 1024 },
	{ "gib", 1024 * 1024 * 1024 }, { "t", 1ull << 40 }, { "tb", 1ull << 40 },
	{ "tib", 1ull << 40 }, { NULL, 0 },
};

/* Removes one pair of surrounding double quotes. */
static char *
dup_unquoted(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return strndup(v + 1, n - 2);
	return strdup(v);
}

/*
 * A relative path in a file is taken relative to that file's directory;
 * on the command line (base NULL) relative to the working directory.
 */
static char *
dup_path(const char *v, const char *base)
{
	char *p = dup_unquoted(v), *out;
	const char *slash;
	size_t dlen;

	if (p == NULL || base == NULL || p[0] == '/' || p[0] == '\0' ||
	    strcmp(p, "stderr") == 0 || strcmp(p, "off") == 0)
		return p;
	slash = strrchr(base, '/');
	if (slash == NULL)
		return p;
	dlen = (size_t)(slash - base);
	out = malloc(dlen + 1 + strlen(p) + 1);
	if (out != NULL)
		sprintf(out, "%.*s/%s", (int)dlen, base, p);
	free(p);
	return out;
}

static const char *
parse_port_str(const char *s, size_t len, uint16_t *port)
{
	uint64_t v;

	if (!span_to_u64(span_make(s, len), 65535, &v))
		return "bad port (expected 0-65535)";
	*port = (uint16_t)v;
	return NULL;
}

/* "[v6]" or "[v6]:port": the address into ls, the port text into *port. */
static const char *
parse_listen_v6(const char *s, struct listen_spec *ls, const char **port)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ls->addr;
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN + 1];
	size_t hlen;

	if (close == NULL)
		return "missing ']' after an IPv6 address";
	hlen = (size_t)(close - s - 1);
	if (hlen >= sizeof(host))
		return "bad IPv6 address";
	memcpy(host, s + 1, hlen);
	host[hlen] = '\0';
	if (close[1] == ':')
		*port = close + 2;
	else if (close[1] != '\0')
		return "unexpected characters after ']'";
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
		return "bad IPv6 address";
	a6->sin6_family = AF_INET6;
	ls->addrlen = sizeof(*a6);
	return NULL;
}

/* "addr", "addr:port", "*:port", ":port" or a bare port, for IPv4. */
static const char *
parse_listen_v4(const char *s, struct listen_spec *ls, const char **port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ls->addr;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 1];
	size_t hlen;

	if (colon != NULL && strchr(s, ':') != colon)
		return "IPv6 addresses go in brackets: [::1]:8080";
	hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (hlen >= sizeof(host))
		return "bad address";
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*port = colon != NULL ? colon + 1 : NULL;
	/* A bare number is a port on every address. */
	if (colon == NULL && hlen > 0 && strspn(host, "0123456789") == hlen) {
		*port = s;
		hlen = 0;
	}
	if (hlen == 0 || strcmp(host, "*") == 0) {
		ls->wildcard = true;
		return NULL;
	}
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return "bad IPv4 address (names are not resolved)";
	a4->sin_family = AF_INET;
	ls->addrlen = sizeof(*a4);
	return NULL;
}

const char *
config_parse_listen(const char *s, struct listen_spec *ls)
{
	const char *port = NULL, *why;

	memset(ls, 0, sizeof(*ls));
	ls->proto = PROTO_HTTP;
	why = s[0] == '[' ? parse_listen_v6(s, ls, &port) :
	    parse_listen_v4(s, ls, &port);
	if (why != NULL || port == NULL)
		return why;
	if ((why = parse_port_str(port, strlen(port), &ls->port)) != NULL)
		return why;
	ls->has_port = true;
	return NULL;
}

void
config_format_addr(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, ntohs(a6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const void *)ss;

		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, ntohs(a4->sin_port));
	} else {
		snprintf(buf, cap, "(unknown address family)");
	}
}

/* Appends every whitespace- or comma-separated address in v for proto. */
static const char *
add_listen(struct config *c, const char *v, enum listen_proto proto)
{
	char *copy = strdup(v), *save = NULL, *tok;
	const char *why = NULL;

	if (copy == NULL)
		return "out of memory";
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (c->nlisten == CONFIG_MAX_LISTEN) {
			why = "too many listen addresses";
			break;
		}
		if ((why = config_parse_listen(tok, &c->listen[c->nlisten]))
		    != NULL)
			break;
		c->listen[c->nlisten++].proto = proto;
	}
	free(copy);
	return why;
}

static const char *
add_mime_pair(struct config *c, const char *ext, const char *type)
{
	struct mime_pair *np;

	np = realloc(c->mime_pairs, (c->nmime_pairs + 1) * sizeof(*np));
	if (np == NULL)
		return "out of memory";
	c->mime_pairs = np;
	np[c->nmime_pairs].ext = strdup(ext[0] == '.' ? ext + 1 : ext);
	np[c->nmime_pairs].type = dup_unquoted(type);
	if (np[c->nmime_pairs].ext == NULL || np[c->nmime_pairs].type == NULL) {
		free(np[c->nmime_pairs].ext);
		free(np[c->nmime_pairs].type);
		return "out of memory";
	}
	c->nmime_pairs++;
	return NULL;
}

/* Checks an override now, so the error can name its line. */
static const char *
check_mime_pair(const char *ext, const char *type)
{
	struct mime_table *t = mime_new();
	int r;

	if (t == NULL)
		return "out of memory";
	r = mime_add(t, ext[0] == '.' ? ext + 1 : ext, type);
	mime_free(t);
	if (r == -EINVAL)
		return "expected 'extension = type/subtype'";
	return r == 0 ? NULL : "out of memory";
}

static const char *
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return NULL;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return NULL;
		}
	}
	return "expected on or off";
}

/* "off" (or "none"): -1; else a duration in seconds, "1h" and "7d" too. */
static const char *
parse_max_age(const char *value, const struct key *k, long *out)
{
	const char *why;
	uint64_t v;

	if (strcasecmp(value, "off") == 0 || strcasecmp(value, "none") == 0) {
		*out = -1;
		return NULL;
	}
	if ((why = parse_scaled(value, sec_units, k->min, k->max, &v)) != NULL)
		return why;
	*out = (long)v;
	return NULL;
}

/* One of the names in k->enums; the reason lists them all. */
static const char *
set_enum(const struct key *k, const char *value, char *field, char *why_buf,
    size_t why_cap)
{
	size_t o = 0;
	int n;

	for (const struct enum_val *e = k->enums; e->name != NULL; e++) {
		if (strcasecmp(value, e->name) == 0) {
			if (k->enums == hidden_vals || k->enums == mac_vals)
				*(bool *)(void *)field = e->value != 0;
			else
				*(int *)(void *)field = e->value;
			return NULL;
		}
	}
	n = snprintf(why_buf, why_cap, "expected one of:");
	o = n > 0 ? (size_t)n : 0;
	for (const struct enum_val *e = k->enums;
	    e->name != NULL && o < why_cap; e++) {
		n = snprintf(why_buf + o, why_cap - o, " %s", e->name);
		o += n > 0 ? (size_t)n : 0;
	}
	return why_buf;
}

/*
 * Resolves file, a path under root (a leading '/' means the root, as in a
 * URL), by the rules of a request path: percent-encoded first, so that
 * path_normalize() reads every byte literally, then normalised.  Stores
 * the relative path in out.  Returns NULL or the reason it is refused.
 */
static const char *
root_file_rel(const char *file, bool allow_hidden, char *out, size_t cap)
{
	char enc[3 * PATH_MAX + 2];
	struct path_result res;
	size_t n;

	enc[0] = '/';
	n = path_encode(file, strlen(file), enc + 1, sizeof(enc) - 1);
	if (n >= sizeof(enc) - 1)
		return "path too long";
	switch (path_normalize(span_make(enc, n + 1), allow_hidden, out, cap,
	    &res)) {
	case 0:
		break;
	case 404:
		return "a hidden name (set hidden_files = allow to serve it)";
	case 414:
		return "path too long";
	default:
		return "leads out of the root";
	}
	if (res.is_root || res.trailing_slash)
		return "must name a file under the root";
	return NULL;
}

/* Stores value, a file under root, in *field; NULL or the reason not. */
static const char *
set_root_file(char **field, const char *value)
{
	char rel[PATH_MAX], *s = dup_unquoted(value);
	const char *why;

	if (s == NULL)
		return "out of memory";
	/* Hidden names are judged by finish, once hidden_files is known. */
	if ((why = root_file_rel(s, true, rel, sizeof(rel))) != NULL) {
		free(s);
		return why;
	}
	free(*field);
	*field = s;
	return NULL;
}

/*
 * Stores value into the field of k.  base is the config file path (for
 * relative paths) or NULL.  Returns NULL or the reason for refusing it.
 */
static const char *
set_key(struct config *c, const struct key *k, const char *value,
    const char *base, char *why_buf, size_t why_cap)
{
	char *field = (char *)c + k->off;
	const char *why = NULL;
	uint64_t v;

	switch (k->type) {
	case K_UINT:
		if ((why = parse_scaled(value, NULL, k->min, k->max, &v)) != NULL)
			break;
		*(unsigned *)(void *)field = (unsigned)v;
		return NULL;
	case K_MS:
		if ((why = parse_scaled(value, ms_units, 0, UINT64_MAX / 4096,
		    &v)) != NULL)
			break;
		/* A bare number means seconds. */
		if (strspn(value, "0123456789") == strlen(value))
			v *= 1000;
		if (v < k->min || v > k->max) {
			why = "out of range";
			break;
		}
		*(unsigned *)(void *)field = (unsigned)v;
		return NULL;
	case K_SIZE:
		if ((why = parse_scaled(value, size_units, k->min, k->max, &v))
		    != NULL)
			break;
		*(unsigned *)(void *)field = (unsigned)v;
		return NULL;
	case K_SIZE64:
		if ((why = parse_scaled(value, size_units, k->min, k->max, &v))
		    != NULL)
			break;
		*(uint64_t *)(void *)field = v;
		return NULL;
	case K_PORT: {
		uint16_t port;

		if ((why = parse_port_str(value, strlen(value), &port)) != NULL)
			break;
		*(uint16_t *)(void *)field = port;
		return NULL;
	}
	case K_STR:
	case K_PATH: {
		char *s = k->type == K_PATH ? dup_path(value, base) :
		    dup_unquoted(value);

		if (s == NULL)
			return "out of memory";
		free(*(char **)(void *)field);
		*(char **)(void *)field = s;
		return NULL;
	}
	case K_BOOL:
		if ((why = parse_bool(value, (bool *)(void *)field)) != NULL)
			break;
		return NULL;
	case K_ENUM:
		return set_enum(k, value, field, why_buf, why_cap);
	case K_LISTEN:
		return add_listen(c, value, section_proto(k->section));
	case K_ROOTFILE:
		why = set_root_file((char **)(void *)field, value);
		if (why == NULL)
			return NULL;
		break;
	case K_MAX_AGE:
		if ((why = parse_max_age(value, k, (long *)(void *)field))
		    != NULL)
			break;
		return NULL;
	}
	snprintf(why_buf, why_cap, "%s (got '%s')", why, value);
	return why_buf;
}

static const struct key *
find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcasecmp(keys[i].section, section) == 0 &&
		    strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool
known_section(const char *section)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcasecmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/*
 * The one place a key=value is applied.  Returns NULL or the reason.
 */
static const char *
config_set_key(struct config *c, const char *section, const char *name,
    const char *value, const char *base, char *why_buf, size_t why_cap)
{
	const struct key *k = find_key(section, name);

	if (k == NULL && strcasecmp(section, "mime") == 0) {
		const char *why = check_mime_pair(name, value);

		return why != NULL ? why : add_mime_pair(c, name, value);
	}
	if (k == NULL && strcasecmp(section, "access") == 0) {
		if (c->access == NULL)
			return "out of memory";
		return access_add(c->access, name, value, why_buf, why_cap) ==
		    0 ? NULL : why_buf;
	}
	if (k == NULL)
		return known_section(section) ? "unknown key" :
		    "unknown section";
	return set_key(c, k, value, base, why_buf, why_cap);
}

unsigned
config_set(struct config *c, const char *section, const char *key,
    const char *value, const char *origin, struct config_errors *errs)
{
	char why_buf[256];
	const char *why = config_set_key(c, section, key, value, NULL, why_buf,
	    sizeof(why_buf));

	if (why == NULL)
		return 0;
	config_error(errs, "%s: [%s] %s: %s", origin, section, key, why);
	return 1;
}

void
config_override_port(struct config *c, uint16_t port)
{
	c->port = port;
	for (size_t i = 0; i < c->nlisten; i++) {
		if (c->listen[i].proto != PROTO_HTTP)
			continue;
		c->listen[i].port = port;
		c->listen[i].has_port = true;
	}
}

/* Keeps the listen entries keep() approves, in order. */
static void
filter_listen(struct config *c,
    bool (*keep)(const struct config *, const struct listen_spec *))
{
	size_t n = 0;

	for (size_t i = 0; i < c->nlisten; i++)
		if (keep(c, &c->listen[i]))
			c->listen[n++] = c->listen[i];
	c->nlisten = n;
}

static bool
not_http(const struct config *c, const struct listen_spec *ls)
{
	(void)c;
	return ls->proto != PROTO_HTTP;
}

void
config_clear_listen(struct config *c)
{
	filter_listen(c, not_http);
}

struct load_ctx {
	struct config	*c;
	const char	*path;
	FILE		*f;
	int		 lineno;
	unsigned	 nerr;
	struct config_errors *errs;
};

static void
load_error(struct load_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
load_error(struct load_ctx *x, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_error(x->errs, "%s:%d: %s", x->path, x->lineno, msg);
	x->nerr++;
}

/* fgets for inih that counts lines and reports lines inih would split. */
static char *
load_reader(char *str, int num, void *stream)
{
	struct load_ctx *x = stream;
	char line[4096];
	size_t n;

	if (fgets(line, sizeof(line), x->f) == NULL)
		return NULL;
	x->lineno++;
	n = strlen(line);
	if (n + 1 > (size_t)num) {
		load_error(x, "line too long (at most %d characters)", num - 3);
		/* Swallow the rest of an overlong line, give inih a comment. */
		while (n > 0 && line[n - 1] != '\n' &&
		    fgets(line, sizeof(line), x->f) != NULL)
			n = strlen(line);
		snprintf(str, (size_t)num, ";\n");
		return str;
	}
	memcpy(str, line, n + 1);
	return str;
}

static int
load_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct load_ctx *x = user;
	char why_buf[256];
	const char *why;

	why = config_set_key(x->c, section, name, value, x->path, why_buf,
	    sizeof(why_buf));
	if (why != NULL)
		load_error(x, "[%s] %s: %s", section, name, why);
	return 1;	/* keep going: report every error at once */
}

unsigned
config_load_file(struct config *c, const char *path,
    struct config_errors *errs)
{
	struct load_ctx x = {
		.c = c, .path = path, .errs = errs,
	};
	int r;

	if ((x.f = fopen(path, "re")) == NULL) {
		config_error(errs, "cannot open '%s': %s", path,
		    strerror(errno));
		return 1;
	}
	free(c->path);
	c->path = strdup(path);
	r = ini_parse_stream(load_reader, &x, load_handler, &x);
	if (ferror(x.f)) {
		config_error(errs, "cannot read '%s': %s", path,
		    strerror(errno));
		x.nerr++;
	}
	fclose(x.f);
	/*
	 * inih returns the line of its first own error (a line that is
	 * neither a section nor a key) and reports it in no other way.  The
	 * handler always returns 1, so r never names one of its lines: report
	 * r even when a value error came first, which used to hide it.
	 * NEEDSWORK: inih keeps only the first syntax error of a file.
	 */
	if (r > 0) {
		config_error(errs, "%s:%d: syntax error (expected '[section]' "
		    "or 'key = value')", path, r);
		x.nerr++;
	}
	return x.nerr;
}

static unsigned
finish_root(struct config *c, struct config_errors *errs)
{
	char real[PATH_MAX];

	if (c->root == NULL || c->root[0] == '\0') {
		config_error(errs, "root: must not be empty");
		return 1;
	}
	c->root_fd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->root_fd < 0) {
		config_error(errs, "root '%s': %s", c->root, strerror(errno));
		return 1;
	}
	if (realpath(c->root, real) == NULL) {
		config_error(errs, "root '%s': %s", c->root, strerror(errno));
		return 1;
	}
	if ((c->root_real = strdup(real)) == NULL) {
		config_error(errs, "out of memory");
		return 1;
	}
	c->tree = (struct path_root){ .fd = c->root_fd, .real = c->root_real,
	    .symlinks = c->symlinks, .allow_hidden = c->allow_hidden };
	return 0;
}

/*
 * The users file is read now (and again on every reload); [access] rules
 * that name users need one, and a users file without rules protects
 * nothing, which is said.
 */
static unsigned
finish_auth(struct config *c, struct config_errors *errs)
{
	char err[256];

	if (c->access == NULL || c->auth_realm == NULL) {
		config_error(errs, "out of memory");
		return 1;
	}
	if (strpbrk(c->auth_realm, "\"\\\r\n") != NULL) {
		config_error(errs, "[auth] realm: no quote, backslash or line "
		    "break");
		return 1;
	}
	if (c->auth_users != NULL && c->auth_users[0] != '\0' &&
	    (c->users = htpasswd_load(c->auth_users, err, sizeof(err))) ==
	    NULL) {
		config_error(errs, "[auth] users '%s': %s", c->auth_users, err);
		return 1;
	}
	if (c->users != NULL && c->auth_state_dir == NULL) {
		char dir[PATH_MAX];

		if (session_default_dir(dir, sizeof(dir)) != 0) {
			config_error(errs, "[auth] state_dir: not set, and "
			    "neither $STATE_DIRECTORY nor $HOME says where");
			return 1;
		}
		if ((c->auth_state_dir = strdup(dir)) == NULL) {
			config_error(errs, "out of memory");
			return 1;
		}
	}
	if (c->users == NULL && (access_any_users(c->access) ||
	    c->auth_always_ask)) {
		config_error(errs, "[access] names users, but [auth] users "
		    "names no users file");
		return 1;
	}
	return 0;
}

static unsigned
finish_mime(struct config *c, struct config_errors *errs)
{
	int r;

	if ((c->mime = mime_new()) == NULL) {
		config_error(errs, "out of memory");
		return 1;
	}
	if (c->types_file != NULL && c->types_file[0] != '\0' &&
	    (r = mime_load_types_file(c->mime, c->types_file)) != 0) {
		config_error(errs, "[mime] types_file '%s': %s", c->types_file,
		    strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < c->nmime_pairs; i++) {
		if (mime_add(c->mime, c->mime_pairs[i].ext,
		    c->mime_pairs[i].type) != 0) {
			config_error(errs, "[mime] %s: cannot add '%s'",
			    c->mime_pairs[i].ext, c->mime_pairs[i].type);
			return 1;
		}
	}
	mime_finish(c->mime);
	return 0;
}

static bool
service_on(const struct config *c, const struct listen_spec *ls)
{
	return config_proto_enabled(c, ls->proto);
}

/* Each service that is on and has no address gets every address. */
static unsigned
add_default_listen(struct config *c, struct config_errors *errs)
{
	for (unsigned p = 0; p < PROTO_COUNT; p++) {
		bool have = !config_proto_enabled(c, (enum listen_proto)p);
		struct listen_spec *ls;

		for (size_t i = 0; i < c->nlisten && !have; i++)
			have = c->listen[i].proto == (enum listen_proto)p;
		if (have)
			continue;
		if (c->nlisten == CONFIG_MAX_LISTEN) {
			config_error(errs, "[%s] listen: too many listen "
			    "addresses", protos[p].section);
			return 1;
		}
		ls = &c->listen[c->nlisten++];
		memset(ls, 0, sizeof(*ls));
		ls->wildcard = true;
		ls->proto = (enum listen_proto)p;
	}
	return 0;
}

/* An address without a port takes its service's. */
static void
fill_listen_ports(struct config *c)
{
	for (size_t i = 0; i < c->nlisten; i++) {
		struct listen_spec *ls = &c->listen[i];

		if (!ls->has_port) {
			ls->port = protos[ls->proto].port != 0 ?
			    protos[ls->proto].port : c->port;
			ls->has_port = true;
		}
		if (ls->addr.ss_family == AF_INET)
			((struct sockaddr_in *)&ls->addr)->sin_port =
			    htons(ls->port);
		else if (ls->addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ls->addr)->sin6_port =
			    htons(ls->port);
	}
}

/* One address and port for two listeners of one transport is an error. */
static unsigned
check_listen_twice(const struct config *c, struct config_errors *errs)
{
	for (size_t i = 0; i < c->nlisten; i++) {
		for (size_t j = i + 1; j < c->nlisten; j++) {
			const struct listen_spec *a = &c->listen[i],
			    *b = &c->listen[j];

			/* TCP and UDP have separate port spaces. */
			if (a->port != 0 && a->port == b->port &&
			    protos[a->proto].dgram == protos[b->proto].dgram &&
			    a->wildcard == b->wildcard &&
			    a->addrlen == b->addrlen &&
			    memcmp(&a->addr, &b->addr, a->addrlen) == 0) {
				config_error(errs, "[%s] listen: address "
				    "given twice (port %u)",
				    protos[b->proto].section, a->port);
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Drops the addresses of services that are off, gives each service that
 * is on and has none its default (every address), and each address
 * without a port its service's port.
 */
static unsigned
finish_listen(struct config *c, struct config_errors *errs)
{
	filter_listen(c, service_on);
	if (add_default_listen(c, errs) != 0)
		return 1;
	fill_listen_ports(c);
	return check_listen_twice(c, errs);
}

/* The transfer file, normalised under the dotfile policy now known. */
static unsigned
finish_transfer(struct config *c, struct config_errors *errs)
{
	char rel[PATH_MAX];
	const char *why;

	if (!c->transfer_enable)
		return 0;
	if (c->transfer_file[0] == '\0') {
		config_error(errs, "[transfer] file: required when "
		    "enable = on");
		return 1;
	}
	why = root_file_rel(c->transfer_file, c->allow_hidden, rel,
	    sizeof(rel));
	if (why != NULL) {
		config_error(errs, "[transfer] file: '%s': %s",
		    c->transfer_file, why);
		return 1;
	}
	if ((c->transfer_rel = strdup(rel)) == NULL) {
		config_error(errs, "out of memory");
		return 1;
	}
	return 0;
}

/* One URL prefix of [upload] paths, normalised and kept. */
static const char *
add_upload_prefix(struct config *c, const char *p, size_t len)
{
	char rel[PATH_MAX], **v;
	struct path_result res;

	if (p[0] != '/')
		return "each path must start with '/'";
	switch (path_normalize(span_make(p, len), c->allow_hidden, rel,
	    sizeof(rel), &res)) {
	case 0:
		break;
	case 404:
		return "a hidden name";
	default:
		return "not a path under the root";
	}
	v = realloc(c->upload_rel, (c->nupload_rel + 1) * sizeof(*v));
	if (v == NULL)
		return "out of memory";
	c->upload_rel = v;
	if ((v[c->nupload_rel] = strdup(rel)) == NULL)
		return "out of memory";
	c->nupload_rel++;
	return NULL;
}

/* [upload] paths: space-separated URL prefixes where writes are allowed. */
static unsigned
finish_uploads(struct config *c, struct config_errors *errs)
{
	const char *p = c->upload_paths;

	while (*p != '\0') {
		size_t len = strcspn(p, " \t");
		const char *why;

		if (len > 0 && (why = add_upload_prefix(c, p, len)) != NULL) {
			config_error(errs, "[upload] paths: '%.*s': %s",
			    (int)len, p, why);
			return 1;
		}
		p += len;
		p += strspn(p, " \t");
	}
	if (c->upload_enable && c->nupload_rel == 0) {
		config_error(errs, "[upload] paths: no path given");
		return 1;
	}
	return 0;
}

/* The custom error pages, normalised like the transfer file. */
static unsigned
finish_error_pages(struct config *c, struct config_errors *errs)
{
	const char *page[2] = { c->error_page_404, c->error_page_403 };
	char **rel[2] = { &c->error_page_404_rel, &c->error_page_403_rel };
	char buf[PATH_MAX];
	unsigned n = 0;

	for (size_t i = 0; i < 2; i++) {
		const char *why;

		if (page[i] == NULL)
			continue;
		why = root_file_rel(page[i], c->allow_hidden, buf, sizeof(buf));
		if (why != NULL) {
			config_error(errs, "[server] error_page_%d: '%s': %s",
			    i == 0 ? 404 : 403, page[i], why);
			n++;
		} else if ((*rel[i] = strdup(buf)) == NULL) {
			config_error(errs, "out of memory");
			n++;
		}
	}
	return n;
}

/* A user or group that does not exist is a configuration error. */
static unsigned
finish_user(struct config *c, struct config_errors *errs)
{
	if (c->user[0] == '\0') {
		if (c->group[0] != '\0') {
			config_error(errs, "[server] group: needs 'user' as well");
			return 1;
		}
		return 0;
	}
	if (getpwnam(c->user) == NULL) {
		config_error(errs, "[server] user: no user '%s'", c->user);
		return 1;
	}
	if (c->group[0] != '\0' && getgrnam(c->group) == NULL) {
		config_error(errs, "[server] group: no group '%s'", c->group);
		return 1;
	}
	return 0;
}

unsigned
config_finish(struct config *c, struct config_errors *errs)
{
	unsigned n = 0;

	if (c->threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		c->threads = cpus > 0 ? (unsigned)cpus : 1;
		if (c->threads > 1024)
			c->threads = 1024;
	}
	n += finish_root(c, errs);
	n += finish_mime(c, errs);
	n += finish_listen(c, errs);
	n += finish_transfer(c, errs);
	n += finish_error_pages(c, errs);
	n += finish_uploads(c, errs);
	n += finish_auth(c, errs);
	n += finish_user(c, errs);
	if (n == 0 && c->file_cache_entries > 0 &&
	    (c->fcache = fcache_new(c->file_cache_entries, c->file_cache_size,
	    c->file_cache_valid_ms, &c->tree, c->dirwatch)) == NULL) {
		config_error(errs, "out of memory");
		n++;
	}
	return n;
}
