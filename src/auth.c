/*
 * auth.c - the memory of checked credentials and of failing sources.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"
#include "htpasswd.h"
#include "log.h"
#include "sha256.h"

#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)

/* Slots of the two tables (direct mapped: a newcomer evicts). */
#define CRED_SLOTS	1024
#define SOURCE_SLOTS	4096
/* A source's failures are forgotten after this long without one. */
#define SOURCE_FORGET_MS	(15u * 60 * 1000)

/* A checked set of credentials: only its keyed hash is kept. */
struct cred_slot {
	uint8_t		 mac[16];
	bool		 used;
	bool		 good;
	unsigned	 gen;
	uint64_t	 expires_ms;
};

/* A source address that failed. */
struct source_slot {
	uint8_t		 addr[16];	/* IPv6, or IPv4-mapped */
	bool		 used;
	bool		 logged;	/* its current hold was logged */
	unsigned	 fails;
	uint64_t	 last_ms;	/* its last failure */
	uint64_t	 held_until_ms;
};

struct auth_state {
	pthread_mutex_t	 mu;
	uint8_t		 key[32];
	uint64_t	 backoff_ms, max_backoff_ms;
	struct cred_slot creds[CRED_SLOTS];
	struct source_slot sources[SOURCE_SLOTS];
};

struct auth_state *
auth_new(void)
{
	struct auth_state *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key) ||
	    pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return NULL;
	}
	a->backoff_ms = 1000;
	a->max_backoff_ms = 5u * 60 * 1000;
	return a;
}

void
auth_free(struct auth_state *a)
{
	if (a == NULL)
		return;
	pthread_mutex_destroy(&a->mu);
	explicit_bzero(a->key, sizeof(a->key));
	free(a);
}

void
auth_set_backoff(struct auth_state *a, uint64_t backoff_ms,
    uint64_t max_backoff_ms)
{
	pthread_mutex_lock(&a->mu);
	a->backoff_ms = backoff_ms;
	a->max_backoff_ms = max_backoff_ms;
	pthread_mutex_unlock(&a->mu);
}

/* The keyed hash of cred: user, a NUL, the password. */
static void
cred_mac(const struct auth_state *a, const struct auth_basic *cred,
    uint8_t mac[SHA256_LEN])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, a->key, sizeof(a->key));
	hmac_sha256_update(&h, cred->user, cred->user_len);
	hmac_sha256_update(&h, "", 1);
	hmac_sha256_update(&h, cred->pass, cred->pass_len);
	hmac_sha256_final(&h, mac);
	explicit_bzero(&h, sizeof(h));
}

/* src as 16 bytes (IPv4 mapped into IPv6). */
static void
source_bytes(const union conn_addr *src, uint8_t out[16])
{
	memset(out, 0, 16);
	if (src->sa.sa_family == AF_INET6) {
		memcpy(out, &src->in6.sin6_addr, 16);
	} else if (src->sa.sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &src->in4.sin_addr, 4);
	}
}

static struct source_slot *
source_slot(struct auth_state *a, const uint8_t addr[16], bool make)
{
	uint8_t mac[SHA256_LEN];
	struct source_slot *s;

	hmac_sha256(a->key, sizeof(a->key), addr, 16, mac);
	s = &a->sources[(mac[0] | (unsigned)mac[1] << 8) % SOURCE_SLOTS];
	if (s->used && memcmp(s->addr, addr, 16) == 0)
		return s;
	if (!make)
		return NULL;
	memset(s, 0, sizeof(*s));
	memcpy(s->addr, addr, 16);
	s->used = true;
	return s;
}

/* Held: the seconds to wait, else 0.  Under the mutex. */
static unsigned
held_for(struct auth_state *a, const union conn_addr *src, uint64_t now_ms)
{
	uint8_t addr[16];
	struct source_slot *s;

	source_bytes(src, addr);
	s = source_slot(a, addr, false);
	if (s == NULL || now_ms >= s->held_until_ms)
		return 0;
	return (unsigned)((s->held_until_ms - now_ms + 999) / 1000);
}

enum auth_verdict
auth_lookup(struct auth_state *a, const struct auth_basic *cred,
    const union conn_addr *src, unsigned gen, uint64_t now_ms,
    unsigned *retry_s)
{
	uint8_t mac[SHA256_LEN];
	const struct cred_slot *c;
	enum auth_verdict v = AUTH_CHECK;

	cred_mac(a, cred, mac);
	pthread_mutex_lock(&a->mu);
	c = &a->creds[(mac[0] | (unsigned)mac[1] << 8) % CRED_SLOTS];
	if (c->used && c->gen == gen && now_ms < c->expires_ms &&
	    memcmp(c->mac, mac, sizeof(c->mac)) == 0)
		v = c->good ? AUTH_GOOD : AUTH_BAD;
	else if ((*retry_s = held_for(a, src, now_ms)) > 0)
		v = AUTH_HELD;
	pthread_mutex_unlock(&a->mu);
	return v;
}

/* One more failure from src: it may become held.  Under the mutex. */
static void
count_failure(struct auth_state *a, const union conn_addr *src,
    uint64_t now_ms)
{
	uint8_t addr[16];
	struct source_slot *s;
	uint64_t wait;

	source_bytes(src, addr);
	s = source_slot(a, addr, true);
	if (now_ms - s->last_ms > SOURCE_FORGET_MS)
		s->fails = 0;
	s->last_ms = now_ms;
	if (++s->fails <= AUTH_FREE_FAILS)
		return;
	wait = a->backoff_ms;
	for (unsigned i = AUTH_FREE_FAILS + 1; i < s->fails &&
	    wait < a->max_backoff_ms; i++)
		wait *= 2;
	if (wait > a->max_backoff_ms)
		wait = a->max_backoff_ms;
	s->held_until_ms = now_ms + wait;
	if (!s->logged) {
		char text[64];

		if (inet_ntop(AF_INET6, addr, text, sizeof(text)) == NULL)
			snprintf(text, sizeof(text), "?");
		log_warn("auth: %u failed logins from %s: held back", s->fails,
		    text);
		s->logged = true;
	}
}

bool
auth_verify(struct auth_state *a, const struct htpasswd *users,
    const struct auth_basic *cred, const union conn_addr *src, unsigned gen,
    uint64_t now_ms)
{
	uint8_t mac[SHA256_LEN];
	struct cred_slot *c;
	bool good = users != NULL && htpasswd_verify(users, cred->user,
	    cred->user_len, cred->pass, cred->pass_len);

	cred_mac(a, cred, mac);
	pthread_mutex_lock(&a->mu);
	c = &a->creds[(mac[0] | (unsigned)mac[1] << 8) % CRED_SLOTS];
	memcpy(c->mac, mac, sizeof(c->mac));
	c->used = true;
	c->good = good;
	c->gen = gen;
	c->expires_ms = now_ms + (good ? AUTH_GOOD_MS : AUTH_BAD_MS);
	if (!good)
		count_failure(a, src, now_ms);
	pthread_mutex_unlock(&a->mu);
	return good;
}
