/*
 * dav_impl.h - what the parts of the WebDAV code share: one request's
 * state, kept past its head, and the multistatus writer.  Private to
 * dav.c (methods that change things) and dav_props.c (PROPFIND,
 * PROPPATCH, the properties themselves).
 */
#ifndef LANHTTPD_DAV_IMPL_H
#define LANHTTPD_DAV_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "dav.h"
#include "dav_lock.h"
#include "http_response.h"

/* Where the extended attributes of dead properties start. */
#define DAV_XATTR_PREFIX	"user.dav:"
/* Depth: infinity walks at most this deep, and this many resources. */
#define DAV_TREE_LEVELS		32
#define DAV_TREE_MAX		100000

/* What a request needs once its head is gone: copies, not spans. */
struct dav_op {
	enum http_method method;
	int		 depth;		/* 0, 1 or DAV_DEPTH_INF */
	bool		 has_depth;	/* the header was there */
	bool		 trailing_slash;
	bool		 http10;
	unsigned	 timeout_s;	/* LOCK */
	char		*if_hdr;	/* the If header, or NULL */
	size_t		 if_len;
	char		 host[256];	/* the Host header, for tagged lists */
	size_t		 host_len;
	bool		 has_host;
	char		 user[65];	/* who asks ([access]); "": a guest */
	char		 rel[PATH_MAX];	/* the resource, normalised (NFC) */
};

/*
 * Opens rel, below an [upload] path, to change it in place (its
 * properties): links below the upload path are never followed, as for
 * every write.  0 or a status (403, 404, 409).
 */
struct config;
int	dav_open_nofollow(const struct config *cfg, const char *rel, int *fdp);

/* The lock table (dav.c). */
extern struct dav_locks *dav_locks;

/* Milliseconds on the monotonic clock, for lock timeouts. */
uint64_t	dav_now_ms(void);

/*
 * A multistatus body (RFC 4918 §13) written in pieces: up to
 * DAV_MS_CHUNK bytes at a time in memory, the rest in a memfd, so a big
 * folder's answer is never whole in the heap.
 */
#define DAV_MS_CHUNK	(64 * 1024)
struct dav_ms {
	struct hbuf	 hb;		/* the bytes not yet in fd */
	int		 fd;		/* a memfd, or -1 while all is in hb */
	uint64_t	 len;		/* bytes in fd */
	bool		 failed;	/* out of memory, or a write failed */
};

void	dav_ms_begin(struct dav_ms *ms);
/* Moves hb into the memfd once it holds a chunk. */
void	dav_ms_flush(struct dav_ms *ms, bool all);
/* Appends the href of rel (a collection when dir). */
void	dav_ms_href(struct hbuf *hb, const char *rel, size_t len, bool dir);
/* Ends the document; 0, or -1 when it could not be made. */
int	dav_ms_end(struct dav_ms *ms);
void	dav_ms_release(struct dav_ms *ms);
/* Answers with ms (which it takes) as a 207. */
void	dav_ms_answer(struct dav_ms *ms, struct response *res);

/* A response of status with an XML body[0..len) (or none), extra lines. */
void	dav_answer_xml(struct response *res, int status, const char *extra,
	    const char *body, size_t len);
/* An RFC 4918 §16 error: <D:error><D:cond/></D:error>, or text when NULL. */
void	dav_refuse(struct response *res, int status, const char *cond,
	    const char *why);

/* dav_props.c */
int	dav_propfind(const struct serve_ctx *x, struct dav_op *op,
	    const char *body, size_t len, struct response *res);
int	dav_proppatch(const struct serve_ctx *x, struct dav_op *op,
	    const char *body, size_t len, struct response *res);
/* Appends the <D:activelock> of l. */
void	dav_activelock(struct hbuf *hb, const struct dav_lock_info *l);

#endif /* LANHTTPD_DAV_IMPL_H */
