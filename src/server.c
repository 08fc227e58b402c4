/*
 * server.c - the live configuration and its per-thread caches; see
 * server.h.
 */
#include "server.h"

#include "config.h"

void
server_init(struct server *srv, struct config *cfg)
{
	pthread_mutex_init(&srv->cfg_lock, NULL);
	srv->cfg = cfg;
	atomic_init(&srv->cfg_gen, 1);
}

void
server_release(struct server *srv)
{
	config_unref(srv->cfg);
	srv->cfg = NULL;
	pthread_mutex_destroy(&srv->cfg_lock);
}

void
server_set_config(struct server *srv, struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&srv->cfg_lock);
	old = srv->cfg;
	srv->cfg = cfg;
	atomic_fetch_add_explicit(&srv->cfg_gen, 1, memory_order_release);
	pthread_mutex_unlock(&srv->cfg_lock);
	config_unref(old);
}

struct config *
server_config(struct server *srv)
{
	struct config *c;

	pthread_mutex_lock(&srv->cfg_lock);
	c = config_ref(srv->cfg);
	pthread_mutex_unlock(&srv->cfg_lock);
	return c;
}

const struct config *
cfg_cache_get(struct server *srv, struct cfg_cache *cc)
{
	unsigned gen = atomic_load_explicit(&srv->cfg_gen,
	    memory_order_acquire);

	if (cc->cfg == NULL || gen != cc->gen) {
		struct config *old = cc->cfg;

		pthread_mutex_lock(&srv->cfg_lock);
		cc->cfg = config_ref(srv->cfg);
		cc->gen = atomic_load_explicit(&srv->cfg_gen,
		    memory_order_relaxed);
		pthread_mutex_unlock(&srv->cfg_lock);
		config_unref(old);
	}
	return cc->cfg;
}

void
cfg_cache_release(struct cfg_cache *cc)
{
	config_unref(cc->cfg);
	cc->cfg = NULL;
	cc->gen = 0;
}
