/*
 * server.h - the running daemon: the live configuration, the queue, the
 * event thread and the worker pool, and the counters they share.
 *
 * main.c builds a struct server, starts it, reloads it and stops it.  The
 * struct outlives every thread it starts.
 *
 * The live configuration is reference-counted.  A reload swaps the
 * pointer under cfg_lock and bumps cfg_gen; each thread keeps its own
 * reference in a struct cfg_cache and trades it for the new one the next
 * time it looks (one atomic load per job when nothing changed).  The old
 * configuration is freed when its last holder lets go, so a request in
 * progress finishes with the settings it started with.
 */
#ifndef LANHTTPD_SERVER_H
#define LANHTTPD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct dirwatch;
struct event;
struct listing_cache;
struct queue;
struct syncer;
struct auth_state;
struct session_state;
struct worker;

struct server {
	pthread_mutex_t	 cfg_lock;
	struct config	*cfg;		/* the live one; under cfg_lock */
	atomic_uint	 cfg_gen;

	struct queue	*queue;
	struct event	*ev;
	struct worker	**workers;	/* main thread only */
	size_t		 nworkers;
	struct listing_cache *listings;	/* rendered listings (thread-safe) */
	struct dirwatch	*dirwatch;	/* what the caches learn changes from */
	struct syncer	*syncer;	/* uploads' fsyncs, off the workers */
	struct syncer	*auth_syncer;	/* password checks, off the workers */
	struct auth_state *auth;	/* checked credentials, held sources */
	/* Log-ins and share links (session.h); NULL without accounts. */
	struct session_state *sessions;

	/* Set once a drain begins: finish responses, keep nothing alive. */
	atomic_bool	 draining;
	/* Set when the drain ends: workers close whatever they hold. */
	atomic_bool	 stopping;

	atomic_ulong	 requests;	/* responses started */
};

/* A thread's own reference to the live configuration. */
struct cfg_cache {
	struct config	*cfg;
	unsigned	 gen;
};

/* Initialises srv with cfg as the live configuration (takes the reference). */
void	server_init(struct server *srv, struct config *cfg);

/* Releases what server_init() set up (the live configuration). */
void	server_release(struct server *srv);

/* Makes cfg live (takes the reference); the old one goes when unused. */
void	server_set_config(struct server *srv, struct config *cfg);

/* A new reference to the live configuration (release with config_unref()). */
struct config	*server_config(struct server *srv);

/*
 * The configuration cc holds, refreshed first if a reload happened.  The
 * pointer stays valid until the next call with cc or cfg_cache_release().
 */
const struct config	*cfg_cache_get(struct server *srv, struct cfg_cache *cc);

void	cfg_cache_release(struct cfg_cache *cc);

#endif /* LANHTTPD_SERVER_H */
