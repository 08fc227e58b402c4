/*
 * mdns.c - DNS-SD announcements through avahi-daemon; see mdns.h.
 *
 * DESIGN: a struct mdns owns an Avahi threaded poll, the client on it and
 * one entry group that holds every service.  Every field is guarded by the
 * poll's lock: Avahi's thread holds it while it runs our callbacks (it
 * lets go only inside poll()), mdns_update() takes it with
 * avahi_threaded_poll_lock(), and mdns_stop() touches the fields only
 * once the thread is joined.  The main thread makes no D-Bus call while
 * the thread runs: it stores what it wants and arms the one timer, whose
 * callback, tick(), connects, reconnects and announces on Avahi's thread.
 * Avahi runs the client and group callbacks before avahi_client_new() and
 * avahi_entry_group_new() return, so they use the object they are handed,
 * not the one stored in the struct.
 */
#include "mdns.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>

#include "config.h"
#include "listen.h"
#include "log.h"

/* A missing system bus is tried again after 1 s, 2 s, 4 s ... 60 s. */
#define MDNS_RETRY_MIN_MS	1000
#define MDNS_RETRY_MAX_MS	60000
/* Alternative names tried when another service here has ours. */
#define MDNS_MAX_RENAMES	16
/* Services of each port (RFC 6763 §6: "path" is the resource). */
#define MDNS_HTTP		"_http._tcp"
#define MDNS_WEBDAV		"_webdav._tcp"
#define MDNS_TXT_PATH		"path=/"

/* What to announce: nports > 0 while a struct mdns exists. */
struct mdns_want {
	char		 name[AVAHI_LABEL_MAX];	/* the first port's */
	uint16_t	 ports[CONFIG_MAX_LISTEN];
	size_t		 nports;
	bool		 webdav;
};

struct mdns {
	AvahiThreadedPoll *poll;
	AvahiTimeout	*timer;		/* tick(): connect, retry, announce */
	AvahiClient	*client;	/* NULL: not connected */
	AvahiEntryGroup	*group;		/* NULL: none made on client yet */
	struct mdns_want want;		/* as configured */
	char		 cur[AVAHI_LABEL_MAX];	/* want.name after collisions */
	struct mdns_want live;		/* as last committed, with cur */
	unsigned	 retry_ms;	/* the next wait for a missing bus */
	bool		 dirty;		/* want is not what was committed */
	bool		 broken;	/* the client failed: free, reconnect */
	bool		 said_absent;	/* "not running" is logged */
	bool		 announced;	/* a group was established */
	bool		 running;	/* the thread started */
};

static void	announce(struct mdns *m, AvahiClient *c);

/*
 * Copies src[0..len) into out[0..cap), cut short enough for the NUL
 * without splitting a UTF-8 sequence.
 */
static void
cut_copy(char *out, size_t cap, const char *src, size_t len)
{
	if (len > cap - 1) {
		len = cap - 1;
		/* Back off to the first byte of the character cut in two. */
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, src, len);
	out[len] = '\0';
}

/*
 * [mdns] name with each "%h" replaced by the host name (any other '%'
 * stays), cut to a DNS label, into out[AVAHI_LABEL_MAX].
 */
static void
expand_name(const char *fmt, char *out)
{
	char host[HOST_NAME_MAX + 1], buf[4 * AVAHI_LABEL_MAX];
	size_t n = 0, hl;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (const char *p = fmt; *p != '\0' && n < sizeof(buf); p++) {
		if (p[0] == '%' && p[1] == 'h') {
			hl = strnlen(host, sizeof(buf) - n);
			memcpy(buf + n, host, hl);
			n += hl;
			p++;
		} else
			buf[n++] = *p;
	}
	cut_copy(out, AVAHI_LABEL_MAX, buf, n);
}

/*
 * The instance name of the i-th port: base for the first, "base (port N)"
 * for the others (one name has one SRV record per type), cut to a label.
 */
static void
service_name(const char *base, size_t i, uint16_t port, char *out)
{
	char suffix[24];
	int n;

	if (i == 0) {
		cut_copy(out, AVAHI_LABEL_MAX, base, strlen(base));
		return;
	}
	n = snprintf(suffix, sizeof(suffix), " (port %u)", (unsigned)port);
	cut_copy(out, AVAHI_LABEL_MAX - (size_t)n, base, strlen(base));
	strcat(out, suffix);
}

/*
 * Whether l is an HTTP listener others can reach: not 127.0.0.0/8, ::1
 * or ::ffff:127.0.0.0/104 (a wildcard one is reachable).
 */
static bool
reachable(const struct listener *l)
{
	const struct sockaddr_in *a4 = (const void *)&l->addr;
	const struct sockaddr_in6 *a6 = (const void *)&l->addr;

	if (l->proto != PROTO_HTTP)
		return false;
	if (l->addr.ss_family == AF_INET)
		return (ntohl(a4->sin_addr.s_addr) >> 24) != 127;
	if (l->addr.ss_family != AF_INET6 ||
	    IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
		return false;
	return !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) ||
	    a6->sin6_addr.s6_addr[12] != 127;
}

/* What cfg and ls[0..n) call for, each port once, in listener order. */
static void
want_build(const struct config *cfg, const struct listener *ls, size_t n,
    struct mdns_want *w)
{
	memset(w, 0, sizeof(*w));
	expand_name(cfg->mdns_name, w->name);
	w->webdav = cfg->webdav_enable;
	for (size_t i = 0; i < n && w->nports < CONFIG_MAX_LISTEN; i++) {
		const struct sockaddr_in *a = (const void *)&ls[i].addr;
		uint16_t port;
		size_t j;

		/* sin_port and sin6_port sit at the same offset. */
		if (!reachable(&ls[i]) || (port = ntohs(a->sin_port)) == 0)
			continue;
		for (j = 0; j < w->nports && w->ports[j] != port; j++)
			;
		if (j == w->nports)
			w->ports[w->nports++] = port;
	}
}

static bool
want_equal(const struct mdns_want *a, const struct mdns_want *b)
{
	return strcmp(a->name, b->name) == 0 && a->nports == b->nports &&
	    a->webdav == b->webdav && memcmp(a->ports, b->ports,
	    a->nports * sizeof(a->ports[0])) == 0;
}

/* Runs tick() after ms milliseconds (0: at once).  Under the lock. */
static void
arm(struct mdns *m, unsigned ms)
{
	const AvahiPoll *api = avahi_threaded_poll_get(m->poll);
	struct timeval tv = { 0, 0 };

	/* A zero time is Avahi's "due now", which skips the clock. */
	if (ms > 0)
		avahi_elapse_time(&tv, ms, 0);
	api->timeout_update(m->timer, &tv);
}

/* Arms tick() for the next try at a missing bus, and backs off. */
static void
arm_retry(struct mdns *m)
{
	arm(m, m->retry_ms);
	m->retry_ms = m->retry_ms >= MDNS_RETRY_MAX_MS / 2 ?
	    MDNS_RETRY_MAX_MS : m->retry_ms * 2;
}

/* Says once, until the next success, that nothing is announced. */
static void
say_absent(struct mdns *m, const char *why)
{
	if (m->said_absent)
		return;
	m->said_absent = true;
	log_info("mdns: avahi-daemon is not running; not announced (%s)",
	    why);
}

static void
log_announced(const struct mdns_want *w)
{
	char name[AVAHI_LABEL_MAX];

	for (size_t i = 0; i < w->nports; i++) {
		service_name(w->name, i, w->ports[i], name);
		log_info("mdns: announced \"%s\" (" MDNS_HTTP " port %u%s)",
		    name, (unsigned)w->ports[i], w->webdav ?
		    ", " MDNS_WEBDAV : "");
	}
}

/* Takes Avahi's alternative to the name in use ("NAME #2"). */
static void
rename_service(struct mdns *m)
{
	char *alt = avahi_alternative_service_name(m->cur);

	/* Out of memory: the same name again, a bounded number of times. */
	if (alt == NULL)
		return;
	log_info("mdns: \"%s\" is taken; trying \"%s\"", m->cur, alt);
	cut_copy(m->cur, sizeof(m->cur), alt, strlen(alt));
	avahi_free(alt);
}

static void
group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *arg)
{
	struct mdns *m = arg;
	AvahiClient *c = avahi_entry_group_get_client(g);

	switch (state) {
	case AVAHI_ENTRY_GROUP_ESTABLISHED:
		m->announced = true;
		log_announced(&m->live);
		break;
	case AVAHI_ENTRY_GROUP_COLLISION:
		/* Another host has the name. */
		rename_service(m);
		announce(m, c);
		break;
	case AVAHI_ENTRY_GROUP_FAILURE:
		log_warn("mdns: cannot announce \"%s\": %s", m->cur,
		    avahi_strerror(avahi_client_errno(c)));
		break;
	case AVAHI_ENTRY_GROUP_UNCOMMITED:
	case AVAHI_ENTRY_GROUP_REGISTERING:
		break;
	}
}

static int
add_service(AvahiEntryGroup *g, const char *name, const char *type,
    uint16_t port)
{
	return avahi_entry_group_add_service(g, AVAHI_IF_UNSPEC,
	    AVAHI_PROTO_UNSPEC, 0, name, type, NULL, NULL, port,
	    MDNS_TXT_PATH, NULL);
}

/* Adds every service of m->want to the group.  0 or an Avahi error. */
static int
add_services(struct mdns *m)
{
	char name[AVAHI_LABEL_MAX];
	int r;

	for (size_t i = 0; i < m->want.nports; i++) {
		uint16_t port = m->want.ports[i];

		service_name(m->cur, i, port, name);
		if ((r = add_service(m->group, name, MDNS_HTTP, port)) < 0)
			return r;
		if (m->want.webdav &&
		    (r = add_service(m->group, name, MDNS_WEBDAV, port)) < 0)
			return r;
	}
	return 0;
}

/*
 * Replaces what the group holds by m->want and commits it; the group's
 * callback says when it is established.  On the thread, c running.
 */
static void
announce(struct mdns *m, AvahiClient *c)
{
	int r = 0;

	m->dirty = false;
	if (m->group == NULL &&
	    (m->group = avahi_entry_group_new(c, group_cb, m)) == NULL) {
		log_warn("mdns: cannot make an entry group: %s",
		    avahi_strerror(avahi_client_errno(c)));
		return;
	}
	for (int i = 0; i < MDNS_MAX_RENAMES; i++) {
		if ((r = avahi_entry_group_reset(m->group)) < 0)
			break;
		/* A collision here is with a service of this host. */
		if ((r = add_services(m)) != AVAHI_ERR_COLLISION)
			break;
		rename_service(m);
	}
	if (r == 0 && (r = avahi_entry_group_commit(m->group)) == 0) {
		m->live = m->want;
		memcpy(m->live.name, m->cur, sizeof(m->live.name));
		return;
	}
	log_warn("mdns: cannot announce \"%s\": %s", m->cur,
	    avahi_strerror(r));
}

/* The client's connection to avahi-daemon or to the bus broke. */
static void
client_failed(struct mdns *m, AvahiClient *c)
{
	int err = avahi_client_errno(c);

	/* Freed by tick(): not from inside its own callback. */
	m->broken = true;
	if (err == AVAHI_ERR_DISCONNECTED) {
		if (!m->said_absent)
			log_info("mdns: avahi-daemon went away; announcing "
			    "again when it is back");
		m->said_absent = true;
		arm(m, 0);
		return;
	}
	log_warn("mdns: avahi client failed: %s; trying again",
	    avahi_strerror(err));
	arm_retry(m);
}

static void
client_cb(AvahiClient *c, AvahiClientState state, void *arg)
{
	struct mdns *m = arg;
	int r;

	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		m->said_absent = false;
		m->retry_ms = MDNS_RETRY_MIN_MS;
		announce(m, c);
		break;
	case AVAHI_CLIENT_S_COLLISION:
	case AVAHI_CLIENT_S_REGISTERING:
		/* The host name changes: ours come back once it runs. */
		if (m->group != NULL &&
		    (r = avahi_entry_group_reset(m->group)) < 0)
			log_debug("mdns: reset: %s", avahi_strerror(r));
		break;
	case AVAHI_CLIENT_CONNECTING:
		/* On the bus, but the daemon is not: Avahi waits for it. */
		say_absent(m, "not on the D-Bus system bus");
		break;
	case AVAHI_CLIENT_FAILURE:
		client_failed(m, c);
		break;
	}
}

/* Connects to avahi-daemon; a missing bus is tried again later. */
static void
client_connect(struct mdns *m)
{
	int err = 0;

	m->client = avahi_client_new(avahi_threaded_poll_get(m->poll),
	    AVAHI_CLIENT_NO_FAIL, client_cb, m, &err);
	if (m->client != NULL)
		return;
	/* A group its callbacks made went with the client. */
	m->group = NULL;
	say_absent(m, err == AVAHI_ERR_NO_DAEMON ? "no D-Bus system bus" :
	    avahi_strerror(err));
	arm_retry(m);
}

/* The timer's callback, on Avahi's thread with the lock held. */
static void
tick(AvahiTimeout *t, void *arg)
{
	struct mdns *m = arg;

	(void)t;
	if (m->broken) {
		/* Its group goes with it. */
		avahi_client_free(m->client);
		m->client = NULL;
		m->group = NULL;
		m->broken = false;
	}
	if (m->client == NULL)
		client_connect(m);
	else if (m->dirty &&
	    avahi_client_get_state(m->client) == AVAHI_CLIENT_S_RUNNING)
		announce(m, m->client);
}

static struct mdns *
mdns_new(const struct mdns_want *w)
{
	struct timeval now = { 0, 0 };
	const AvahiPoll *api;
	struct mdns *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto fail;
	m->want = *w;
	memcpy(m->cur, w->name, sizeof(m->cur));
	m->retry_ms = MDNS_RETRY_MIN_MS;
	m->dirty = true;
	if ((m->poll = avahi_threaded_poll_new()) == NULL)
		goto fail;
	/* The first tick connects, on the thread: start-up never waits. */
	api = avahi_threaded_poll_get(m->poll);
	if ((m->timer = api->timeout_new(api, &now, tick, m)) == NULL)
		goto fail;
	if (avahi_threaded_poll_start(m->poll) < 0)
		goto fail;
	m->running = true;
	return m;
fail:
	log_warn("mdns: cannot start the Avahi thread; not announced");
	mdns_stop(m);
	return NULL;
}

struct mdns *
mdns_start(const struct config *cfg, const struct listener *ls, size_t n)
{
	return mdns_update(NULL, cfg, ls, n);
}

struct mdns *
mdns_update(struct mdns *m, const struct config *cfg,
    const struct listener *ls, size_t n)
{
	struct mdns_want w;

	want_build(cfg, ls, n, &w);
	if (!cfg->mdns_enable || w.nports == 0) {
		if (cfg->mdns_enable)
			log_debug("mdns: no HTTP listener beyond loopback; "
			    "nothing to announce");
		mdns_stop(m);
		return NULL;
	}
	if (m == NULL)
		return mdns_new(&w);
	avahi_threaded_poll_lock(m->poll);
	if (!want_equal(&m->want, &w)) {
		/* A new name starts again from the configured one. */
		if (strcmp(m->want.name, w.name) != 0)
			memcpy(m->cur, w.name, sizeof(m->cur));
		m->want = w;
		m->dirty = true;
		arm(m, 0);
	}
	avahi_threaded_poll_unlock(m->poll);
	return m;
}

void
mdns_stop(struct mdns *m)
{
	int r;

	if (m == NULL)
		return;
	if (m->running && (r = avahi_threaded_poll_stop(m->poll)) < 0)
		log_debug("mdns: the Avahi thread ended with %d", r);
	/* The thread is gone: nothing else touches m. */
	if (m->group != NULL && !m->broken) {
		if ((r = avahi_entry_group_reset(m->group)) < 0 ||
		    (r = avahi_entry_group_free(m->group)) < 0)
			log_debug("mdns: withdraw: %s", avahi_strerror(r));
		else if (m->announced)
			log_info("mdns: withdrawn");
	}
	/* With whatever group is left. */
	if (m->client != NULL)
		avahi_client_free(m->client);
	if (m->timer != NULL)
		avahi_threaded_poll_get(m->poll)->timeout_free(m->timer);
	if (m->poll != NULL)
		avahi_threaded_poll_free(m->poll);
	free(m);
}
