/*
 * session.c - tokens under the state directory's key, and the revoked
 * list; see session.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "sha256.h"

struct revoked {
	uint32_t	 id;
	uint64_t	 expires;
};

struct session_state {
	uint8_t		 key[SHARELINK_KEY_LEN];
	char		 dir[PATH_MAX];
	pthread_mutex_t	 mu;
	struct revoked	 list[SESSION_REVOKED_MAX];	/* under mu */
	size_t		 n;				/* under mu */
	/* Bumped on each revocation; nonzero once the list holds any. */
	atomic_uint_fast64_t gen;
};

int
session_default_dir(char *out, size_t cap)
{
	const char *v;
	int n;

	if ((v = getenv("STATE_DIRECTORY")) != NULL && v[0] == '/')
		/* systemd lists several with ':'; ours is the first. */
		n = snprintf(out, cap, "%.*s", (int)strcspn(v, ":"), v);
	else if ((v = getenv("XDG_STATE_HOME")) != NULL && v[0] == '/')
		n = snprintf(out, cap, "%s/lanhttpd", v);
	else if ((v = getenv("HOME")) != NULL && v[0] == '/')
		n = snprintf(out, cap, "%s/.local/state/lanhttpd", v);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* mkdir -p with mode 0700 for what it makes. */
static int
make_dirs(const char *dir)
{
	char p[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(p))
		return -1;
	memcpy(p, dir, len + 1);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return -1;
		*s = c;
		if (c == '\0')
			return 0;
	}
}

/* Reads the revoked list; lines that do not parse are left out. */
static void
load_revoked(struct session_state *s)
{
	char path[PATH_MAX + 16], line[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/revoked", s->dir);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (s->n < SESSION_REVOKED_MAX && fgets(line, sizeof(line), f)) {
		unsigned id;
		uint64_t exp;

		if (sscanf(line, "%8x %" SCNu64, &id, &exp) == 2)
			s->list[s->n++] = (struct revoked){ id, exp };
	}
	fclose(f);
}

struct session_state *
session_open(const char *dir, char *why, size_t whycap)
{
	struct session_state *s;
	char path[PATH_MAX + 16];

	if (make_dirs(dir) != 0) {
		snprintf(why, whycap, "cannot make '%s': %s", dir,
		    strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(why, whycap, "out of memory");
		return NULL;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/key", dir);
	if (sharelink_key_load(path, s->key, why, whycap) != 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	load_revoked(s);
	atomic_init(&s->gen, s->n > 0 ? 1 : 0);
	return s;
}

void
session_close(struct session_state *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->mu);
	explicit_bzero(s->key, sizeof(s->key));
	free(s);
}

size_t
session_make(const struct session_state *s, enum sharelink_kind kind,
    const char *user, const char *subject, uint64_t expires, uint32_t serial,
    char *out, size_t cap)
{
	struct sharelink sl = { .kind = kind, .expires = expires,
	    .serial = serial, .user_len = strlen(user),
	    .subject_len = strlen(subject) };

	/*
	 * Two log-ins (or links) alike in the same second must still be
	 * two tokens, or revoking one would revoke both.
	 */
	if (serial == 0 && getrandom(&sl.serial, sizeof(sl.serial), 0) !=
	    (ssize_t)sizeof(sl.serial))
		return 0;
	if (sl.user_len > SHARELINK_USER_MAX ||
	    sl.subject_len > SHARELINK_SUBJECT_MAX)
		return 0;
	memcpy(sl.user, user, sl.user_len);
	memcpy(sl.subject, subject, sl.subject_len);
	if (sharelink_make(s->key, &sl, out, cap) != 0)
		return 0;
	return strlen(out);
}

uint64_t
session_revoked_gen(const struct session_state *s)
{
	return atomic_load_explicit(&s->gen, memory_order_acquire);
}

uint32_t
session_id(struct span t)
{
	uint8_t h[SHA256_LEN];

	sha256(t.p, t.len, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
}

static bool
is_revoked(struct session_state *s, uint32_t id)
{
	bool hit = false;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n && !hit; i++)
		hit = s->list[i].id == id;
	pthread_mutex_unlock(&s->mu);
	return hit;
}

int
session_check(struct session_state *s, struct span t, uint64_t now_s,
    struct sharelink *out)
{
	if (t.p == NULL || sharelink_verify(s->key, t.p, t.len, out) != 0)
		return -1;
	if (out->expires <= now_s)
		return -1;
	/* Nothing was ever revoked: no list to look at. */
	if (atomic_load_explicit(&s->gen, memory_order_acquire) == 0)
		return 0;
	if (is_revoked(s, session_id(t)) ||
	    (out->kind == SL_FILE && is_revoked(s, out->serial)))
		return -1;
	return 0;
}

/* Writes the list to "revoked", by a rename; under s->mu. */
static int
save_revoked(const struct session_state *s)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	FILE *f;
	int ok, dfd;

	snprintf(tmp, sizeof(tmp), "%s/revoked.new", s->dir);
	snprintf(path, sizeof(path), "%s/revoked", s->dir);
	if ((f = fopen(tmp, "we")) == NULL)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%08" PRIx32 " %" PRIu64 "\n", s->list[i].id,
		    s->list[i].expires);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int
session_revoke(struct session_state *s, struct span t, uint64_t now_s)
{
	struct sharelink sl;
	size_t kept = 0;
	int r;

	if (session_check(s, t, now_s, &sl) != 0)
		return -1;
	pthread_mutex_lock(&s->mu);
	/* What has expired needs no revoking any more. */
	for (size_t i = 0; i < s->n; i++)
		if (s->list[i].expires > now_s)
			s->list[kept++] = s->list[i];
	s->n = kept;
	if (s->n == SESSION_REVOKED_MAX || (sl.kind != SL_SESSION &&
	    s->n >= SESSION_REVOKED_MAX - SESSION_REVOKED_LOGOUTS)) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	s->list[s->n++] = (struct revoked){ session_id(t), sl.expires };
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
	r = save_revoked(s);
	pthread_mutex_unlock(&s->mu);
	return r;
}
