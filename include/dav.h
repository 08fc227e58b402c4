/*
 * dav.h - WebDAV (RFC 4918) class 1 and 2, when [webdav] is on.
 *
 * A mounted share: PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, DELETE, LOCK
 * and UNLOCK beside the upload code's PUT, on the same rules: reads as
 * GET reads (dotfiles, links), writes only below an [upload] path, names
 * cleaned and stored in NFC, every new file written unnamed and linked
 * whole.  The XML bodies are parsed by dav_xml.h (expat, no DTD); the If
 * header and the lock table are dav_if.h and dav_lock.h; dead properties
 * live in the files' extended attributes (user.dav:{ns}name), so they
 * move with a rename and need no store of their own.
 *
 * dav_plan() is called from upload_plan() with the head; a request whose
 * body matters (PROPFIND, PROPPATCH, LOCK) is received by the upload code
 * into memory (at most DAV_BODY_MAX) and answered by dav_finish().
 */
#ifndef LANHTTPD_DAV_H
#define LANHTTPD_DAV_H

#include <stdbool.h>
#include <stddef.h>

#include "http_parse.h"
#include "http_serve.h"

struct upload;
struct dav_op;

/* A request body larger than this is refused (413). */
#define DAV_BODY_MAX		(1u << 20)

/* The lock table, shared by every worker: made once, freed at exit. */
int	dav_init(void);
void	dav_shutdown(void);

/* True for the methods dav_plan() takes (PUT and DELETE included). */
bool	dav_method(enum http_method m);

/*
 * Plans req, a WebDAV method or a write that locks may forbid.  UP_PASS
 * lets the upload code go on (a PUT that passed the lock checks);
 * UP_ANSWERED leaves the answer in res; UP_BODY makes *up an upload of
 * kind UP_KIND_DAV that collects the body.  res is set up as
 * upload_plan() sets it.
 */
int	dav_plan(const struct serve_ctx *x, const struct http_request *req,
	    struct response *res, struct upload **up);

/*
 * A write of the upload code's own while WebDAV is on (POST: a form,
 * ?mkdir, ?rename; a tus PATCH): the If header must hold, and no lock may
 * forbid the change (a rename moves a tree; every other kind adds names
 * to a folder).  UP_PASS, or UP_ANSWERED with the refusal in res.
 */
int	dav_guard(const struct serve_ctx *x, const struct http_request *req,
	    struct response *res);

/* The body of a DAV request is in: answers it into res.  The status. */
int	dav_finish(struct dav_op *op, const char *body, size_t len,
	    const struct serve_ctx *x, struct response *res);

/* Frees what dav_plan() kept of a request; NULL is fine. */
void	dav_op_free(struct dav_op *op);

/* The header lines OPTIONS adds when [webdav] is on. */
#define DAV_OPTIONS	"DAV: 1, 2\r\nMS-Author-Via: DAV\r\n"
#define DAV_ALLOW	", PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"

#endif /* LANHTTPD_DAV_H */
