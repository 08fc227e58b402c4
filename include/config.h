/*
 * config.h - httpd.ini and command-line settings.
 *
 * A struct config is built once (defaults, then the file, then command-line
 * overrides, then config_finish() for cross-key checks and derived state)
 * and is read-only afterwards, so any number of threads may read it.  A
 * reload builds a new one and swaps the pointer; the live one is never
 * changed.  Errors are collected, not fatal one by one, and each names its
 * origin as "path:line: [section] key: reason".
 */
#ifndef LANHTTPD_CONFIG_H
#define LANHTTPD_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"
#include "path.h"

#define CONFIG_MAX_LISTEN	16

/*
 * What a listener speaks.  The protocol decides the transport too (ping is
 * UDP, the others TCP) and the ini section of its settings.
 */
enum listen_proto {
	PROTO_HTTP = 0,
	PROTO_PING,		/* the lab's UDP ping responder */
	PROTO_DAYTIME,		/* one line with the time, then close */
	PROTO_TRANSFER,		/* one file pushed as JSON with base64 */
};

#define PROTO_COUNT	4

struct listen_spec {
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	bool		 wildcard;	/* no address given: all, dual-stack */
	bool		 has_port;
	uint16_t	 port;
	enum listen_proto proto;
};

struct dirwatch;
struct fcache;
struct mime_table;
struct htpasswd;
struct access_rules;

struct config {
	atomic_uint	 refs;		/* see config_ref() */
	char		*path;		/* the file read, or NULL */

	/* [server] */
	char		*root;		/* as configured */
	uint16_t	 port;
	unsigned	 threads;	/* 0 = one per CPU; resolved by finish */
	struct listen_spec listen[CONFIG_MAX_LISTEN];
	size_t		 nlisten;
	unsigned	 queue_size;
	unsigned	 max_connections;
	unsigned	 header_timeout_ms;
	unsigned	 keepalive_timeout_ms;
	unsigned	 send_timeout_ms;
	unsigned	 shutdown_timeout_ms;
	unsigned	 overload_timeout_ms;
	char		*index;
	bool		 allow_hidden;
	enum symlink_policy symlinks;
	unsigned	 max_header_size;
	char		*user;		/* "" = stay who we are */
	char		*group;		/* "" = the user's primary group */
	bool		 allow_root;
	bool		 sandbox;	/* Landlock + seccomp (sandbox.h) */
	char		*sandbox_allow;	/* extra read-only roots, as written */
	/* [server], the cache of resolved files (fcache.h) */
	unsigned	 file_cache_entries;	/* 0: no cache */
	unsigned	 file_cache_size;	/* bytes */
	unsigned	 file_cache_valid_ms;
	unsigned	 file_cache_max_body;	/* files kept in memory up to */
	/* [server], file-sharing semantics */
	bool		 etag_inode;	/* the inode is part of ETags */
	long		 cache_max_age;	/* seconds; -1: no Cache-Control */
	bool		 directory_listing;
	bool		 precompressed;	/* serve file.br / file.gz siblings */
	char		*error_page_404;	/* as configured, or NULL */
	char		*error_page_403;
	unsigned	 listing_cache_entries;	/* pages; 0: no cache */
	unsigned	 listing_cache_size;	/* bytes */
	/* Generated bodies and parked copies held for clients, at most. */
	unsigned	 max_response_memory;	/* bytes */

	/* [ping], [daytime], [transfer]: the lab's services (lab.h). */
	bool		 ping_enable;
	unsigned	 ping_rate_source;	/* replies/s to one address */
	unsigned	 ping_rate_total;	/* replies/s in all */
	bool		 daytime_enable;
	bool		 transfer_enable;
	char		*transfer_file;		/* as configured, under root */
	unsigned	 transfer_max_size;

	/* [upload]: writes (upload.h); off unless enabled */
	bool		 upload_enable;
	char		*upload_paths;	/* URL prefixes, as configured */
	uint64_t	 upload_max_size;	/* bytes; 0: no limit */
	bool		 upload_overwrite;	/* PUT may replace a file */
	unsigned	 upload_body_timeout_ms;	/* without body bytes */
	unsigned	 upload_max_active;	/* bodies being received */
	uint64_t	 upload_reserve;	/* free space always left */
	bool		 upload_splice;	/* socket -> pipe -> file */
	bool		 upload_fsync;	/* a 201 means on the disk */
	unsigned	 upload_tus_expire_ms;	/* unfinished tus uploads */

	/* [webdav]: RFC 4918 class 1 and 2 (dav.h); off unless enabled */
	bool		 webdav_enable;
	bool		 webdav_depth_infinity;	/* PROPFIND Depth: infinity */
	bool		 webdav_mac_files;	/* ._* and .DS_Store may be written */

	/* [mdns]: DNS-SD announcements through avahi-daemon (mdns.h) */
	bool		 mdns_enable;
	char		*mdns_name;	/* instance name; "%h": the host name */
	/*
	 * [server] lan_address: the interface name or address whose URL the
	 * start-up QR code shows; NULL: the best one found (qr.h).
	 */
	char		*lan_address;

	/* [auth] and [access]: who may do what (auth.h, access.h) */
	char		*auth_users;	/* the users file (htpasswd), or NULL */
	char		*auth_realm;
	bool		 auth_always_ask;	/* no guests at all: 401 */
	unsigned	 auth_backoff_ms;	/* a held source's first wait */
	unsigned	 auth_max_backoff_ms;
	/*
	 * Where the token key and the revoked list live (session.h); set
	 * by config_finish() when there is a users file.
	 */
	char		*auth_state_dir;
	unsigned	 auth_session_ms;	/* a login's life */
	unsigned	 auth_share_ms;		/* a share link's life */
	struct htpasswd	*users;		/* loaded by config_finish() */
	struct access_rules *access;	/* [access]; empty: no rules */

	/* [log] */
	char		*access_log;
	char		*error_log;
	enum log_level	 log_level;

	/* [mime] */
	char		*types_file;
	struct mime_pair {
		char	*ext, *type;
	}		*mime_pairs;
	size_t		 nmime_pairs;

	/* Derived by config_finish(). */
	char		*root_real;	/* canonical root path */
	int		 root_fd;	/* O_PATH directory fd, or -1 */
	struct path_root tree;		/* the root with its rules */
	char		*transfer_rel;	/* transfer_file normalised, or NULL */
	char		*error_page_404_rel;	/* normalised, or NULL */
	char		*error_page_403_rel;
	/* upload_paths normalised: relative to the root, "" for all of it */
	char		**upload_rel;
	size_t		 nupload_rel;
	struct mime_table *mime;
	struct fcache	*fcache;	/* NULL when file_cache_entries is 0 */
	/*
	 * Set before config_finish() by whoever owns it (the server): what
	 * the file cache learns changes from; NULL checks every entry.
	 */
	struct dirwatch	*dirwatch;
};

/* Collected error messages, one per line. */
struct config_errors {
	char		*text;
	size_t		 len;
	unsigned	 count;
};

/* A config holding every default; NULL when out of memory. */
struct config	*config_new(void);

/* Frees c and everything it owns, whatever its count; NULL is allowed. */
void	config_free(struct config *c);

/*
 * A configuration shared between threads is reference-counted: config_new()
 * returns one reference, config_ref() adds one (and returns c), and
 * config_unref() drops one, freeing c with the last.  NULL is allowed in
 * both.  Thread-safe.
 */
struct config	*config_ref(struct config *c);
void	config_unref(struct config *c);

/*
 * Reads an ini file into c.  Every problem is appended to errs; returns the
 * number of new errors (0 = fine).  An empty file is valid.
 */
unsigned	config_load_file(struct config *c, const char *path,
		    struct config_errors *errs);

/*
 * Sets one key from the command line, e.g. ("server", "port", "9000").
 * origin describes where it came from for messages ("-p", "--set").
 * Returns the number of new errors (0 or 1).
 */
unsigned	config_set(struct config *c, const char *section,
		    const char *key, const char *value, const char *origin,
		    struct config_errors *errs);

/*
 * Applies a command-line port: it becomes the default port and replaces
 * the port of every HTTP listen entry read from the file.
 */
void	config_override_port(struct config *c, uint16_t port);

/* Drops HTTP listen entries read from the file (before -l adds new ones). */
void	config_clear_listen(struct config *c);

/*
 * The name of protocol p: its ini section ("server" for HTTP aside), the
 * FileDescriptorName= that maps a socket-activated socket to it, and the
 * scheme of its "listening on" log line: "http", "ping", "daytime",
 * "transfer".
 */
const char	*config_proto_name(enum listen_proto p);

/* True when p runs over UDP (datagram sockets), false for TCP. */
bool	config_proto_dgram(enum listen_proto p);

/* The protocol named name; false when no protocol has that name. */
bool	config_proto_by_name(const char *name, enum listen_proto *p);

/* True when the configuration turns p on (HTTP always is). */
bool	config_proto_enabled(const struct config *c, enum listen_proto p);

/*
 * Cross-key checks and derived state: resolves threads, opens the root,
 * builds the MIME table, fills in listen defaults (and drops the entries
 * of services that are off), normalises the transfer file.  Returns the
 * number of new errors.
 */
unsigned	config_finish(struct config *c, struct config_errors *errs);

/* Appends a formatted line to errs. */
void	config_error(struct config_errors *errs, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

void	config_errors_release(struct config_errors *errs);

/*
 * Parses "addr:port", "[v6]:port", "addr", "*:port", ":port" or "port"
 * into *ls.  Returns NULL on success or a static reason.
 */
const char	*config_parse_listen(const char *s, struct listen_spec *ls);

/* Formats a listen address as "host:port" / "[v6]:port" into buf. */
void	config_format_addr(const struct sockaddr_storage *ss, char *buf,
	    size_t cap);

#endif /* LANHTTPD_CONFIG_H */
