/*
 * http_serve.c - request to response decisions; see http_serve.h.
 */
#include "http_serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fcache.h"
#include "fentry.h"
#include "file.h"
#include "listing.h"
#include "listing_cache.h"
#include "mime.h"
#include "negotiate.h"
#include "nfc.h"
#include "path.h"
#include "access.h"
#include "archive.h"
#include "gate.h"
#include "session.h"
#include "dav.h"
#include "upload.h"
#include "upload_ui.h"
#include "playlist.h"
#include "qr.h"
#include "search.h"

#define ALLOW_METHODS	"GET, HEAD, OPTIONS"

/* Headers, then per part a memory and a file segment, then the end. */
_Static_assert(1 + 2 * RANGE_MAX_PARTS + 1 <= CONN_MAX_SEGS,
    "a multipart response must fit in the segment array");

/* The representation of a file chosen for a response. */
struct rep {
	const struct fentry *e;
	const struct frep *r;
	enum coding	 coding;	/* which of e->rep r is */
	struct file_info fi;	/* r->fi, with a future mtime clamped */
	bool		 stock;	/* r->hdr describes it as it is sent */
};

static void
add_connection(struct response *res)
{
	if (!res->keep_alive)
		hb_str(&res->hb, "Connection: close\r\n");
	else if (res->http10)
		hb_str(&res->hb, "Connection: keep-alive\r\n");
}

/* The header block is complete: it is the first segment. */
static void
finish_headers(struct response *res)
{
	add_connection(res);
	hb_str(&res->hb, "\r\n");
	res->hdr_len = res->hb.len;
	res->segs[0] = (struct out_seg){ .mem = res->hb.p, .len = res->hb.len };
	res->nsegs = 1;
}

/* Starts over on an empty header buffer. */
static void
begin(struct response *res, int status)
{
	res->status = status;
	res->hb.len = 0;
	res->hb.overflow = false;
	res->nsegs = 0;
	http_begin(&res->hb, status);
}

void
http_serve_status(struct response *res, int status, const char *extra)
{
	/* Errors that leave us unsure where the next request starts close. */
	if (status == 400 || status == 414 || status == 431 || status == 505 ||
	    status >= 500)
		res->keep_alive = false;
	res->status = status;
	res->hb.len = 0;
	res->hb.overflow = false;
	res->hdr_len = http_error_response(&res->hb, status, res->head,
	    res->keep_alive, res->http10, extra);
	res->segs[0] = (struct out_seg){ .mem = res->hb.p, .len = res->hb.len };
	res->nsegs = 1;
}

void
http_serve_page(struct response *res, int status, const char *ctype,
    const char *extra, const char *body, size_t len)
{
	begin(res, status);
	if (extra != NULL)
		hb_str(&res->hb, extra);
	hb_str(&res->hb, "Content-Type: ");
	hb_str(&res->hb, ctype);
	hb_str(&res->hb, "\r\nContent-Length: ");
	hb_u64(&res->hb, len);
	hb_str(&res->hb, "\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
	finish_headers(res);
	if (!res->head)
		hb_add(&res->hb, body, len);
	if (res->hb.overflow) {
		http_serve_status(res, 500, NULL);
		return;
	}
	res->segs[0].len = res->hb.len;
}

void
http_serve_busy(struct response *res)
{
	if (res->fentry != NULL)
		fentry_unref(res->fentry);
	else if (res->file_fd >= 0)
		close(res->file_fd);
	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	res->body_heap_len = 0;
	http_serve_status(res, 503, "Retry-After: 2\r\n");
}

void
http_serve_error(int status, bool head, struct response *res)
{
	res->keep_alive = false;
	res->head = head;
	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	http_serve_status(res, status, NULL);
}

/*
 * Adds the body fd[off..off+len) to a response whose headers are
 * finished: nothing for HEAD, the bytes inline when they are few, else a
 * file segment for sendfile().  Takes ownership of fd.
 */
void
http_serve_attach(struct response *res, int fd, uint64_t off, uint64_t len)
{
	size_t body_at = res->hb.len;

	if (res->head || len == 0) {
		close(fd);
		return;
	}
	if (len <= SERVE_INLINE_MAX && res->hb.cap - body_at >= len) {
		/* One send for headers and body; saves the sendfile call. */
		ssize_t n = pread(fd, res->hb.p + body_at, (size_t)len,
		    (off_t)off);

		if (n == (ssize_t)len) {
			close(fd);
			res->hb.len += (size_t)n;
			res->segs[0].len = res->hb.len;
			return;
		}
		/* The file changed under us; let sendfile find out how. */
	}
	res->segs[res->nsegs++] = (struct out_seg){ .mem = NULL,
	    .off = (off_t)off, .len = len };
	res->file_fd = fd;
}

/*
 * The body rp[off..off+len) of a response whose headers are finished:
 * nothing for HEAD, the cached bytes, or a file segment on the entry's
 * descriptor.  The response keeps a reference to the entry until sent.
 */
static void
attach_rep(struct response *res, const struct rep *rp, uint64_t off,
    uint64_t len)
{
	if (res->head || len == 0)
		return;
	res->fentry = fentry_ref((struct fentry *)rp->e);
	if (rp->r->body != NULL) {
		res->segs[res->nsegs++] = (struct out_seg){
		    .mem = rp->r->body + off, .len = len };
		return;
	}
	res->segs[res->nsegs++] = (struct out_seg){ .mem = NULL,
	    .off = (off_t)off, .len = len };
	res->file_fd = rp->r->fd;	/* the entry's; not ours to close */
}

/*
 * The custom page configured for 403 or 404 (a file under the root,
 * normalised when the configuration was loaded), served with that
 * status.  False when there is none or it cannot be opened: then the
 * built-in body is used, so a missing page can never recurse.
 */
static bool
plan_error_page(const struct serve_ctx *x, int status, struct response *res)
{
	const struct config *cfg = x->cfg;
	const char *rel = status == 404 ? cfg->error_page_404_rel :
	    cfg->error_page_403_rel;
	struct stat st;
	int fd;

	if (rel == NULL || path_open(&cfg->tree, rel, &fd) != 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	begin(res, status);
	hb_str(&res->hb, "Content-Type: ");
	hb_str(&res->hb, mime_lookup(cfg->mime, rel, strlen(rel)));
	hb_str(&res->hb, "\r\nContent-Length: ");
	hb_u64(&res->hb, (uint64_t)st.st_size);
	hb_str(&res->hb, "\r\n");
	finish_headers(res);
	if (res->hb.overflow) {
		close(fd);
		return false;
	}
	http_serve_attach(res, fd, 0, (uint64_t)st.st_size);
	return true;
}

/* An error that a custom error page may dress (403 and 404). */
static void
plan_fail(const struct serve_ctx *x, struct response *res, int status)
{
	if ((status == 403 || status == 404) &&
	    plan_error_page(x, status, res))
		return;
	http_serve_status(res, status, NULL);
}

/*
 * 301 to the slash form of a directory, rebuilt from the normalised path
 * (so "//host" can never appear) with the query kept.
 */
static void
plan_redirect(const struct serve_ctx *x, const struct http_request *req,
    const char *rel, struct response *res)
{
	size_t n = path_encode(rel, strlen(rel), x->scratch, x->scratch_cap);

	if (n >= x->scratch_cap) {
		http_serve_status(res, 414, NULL);
		return;
	}
	begin(res, 301);
	hb_str(&res->hb, "Location: /");
	hb_add(&res->hb, x->scratch, n);
	hb_add(&res->hb, "/", 1);
	if (req->has_query) {
		hb_add(&res->hb, "?", 1);
		hb_add(&res->hb, req->query.p, req->query.len);
	}
	hb_str(&res->hb, "\r\nContent-Length: 0\r\n");
	finish_headers(res);
}

/*
 * The representation to send: a precompressed sibling the client accepts,
 * in its order of preference, or the file itself.
 */
static void
choose_rep(const struct serve_ctx *x, const struct http_request *req,
    const struct fentry *e, struct rep *rp)
{
	enum coding want[CODING_MAX];
	size_t n = x->cfg->precompressed ? negotiate_encodings(req, want) : 0;

	rp->e = e;
	rp->r = e->rep[CODING_IDENTITY];
	rp->coding = CODING_IDENTITY;
	for (size_t i = 0; i < n; i++) {
		if (e->rep[want[i]] != NULL) {
			rp->r = e->rep[want[i]];
			rp->coding = want[i];
			break;
		}
	}
	rp->fi = rp->r->fi;
	rp->stock = !file_info_clamp(&rp->fi, http_now());
}

static void
add_validators(const struct serve_ctx *x, const struct rep *rp,
    struct hbuf *hb)
{
	file_validator_lines(hb, &rp->fi, x->cfg->cache_max_age,
	    x->cfg->precompressed);
}

/* Content-Disposition for ?download (RFC 6266), so phones keep the name. */
static void
add_download(const struct http_request *req, const struct rep *rp,
    struct hbuf *hb)
{
	const char *rel = rp->e->rel, *slash, *base;
	size_t len = strlen(rel);
	struct span v;

	if (!req->has_query || !http_query_param(req->query, "download", &v))
		return;
	slash = memrchr(rel, '/', len);
	base = slash != NULL ? slash + 1 : rel;
	hb_str(hb, "Content-Disposition: ");
	hb_content_disposition(hb, base, len - (size_t)(base - rel));
	hb_str(hb, "\r\n");
}

/*
 * A file anyone may have uploaded runs no script of this origin: an HTML
 * page put there could otherwise use a logged-in visitor's cookie (make
 * share links, upload, delete).  Such a page is shown in a sandbox, an
 * origin of its own.
 */
static void
add_sandbox(const struct serve_ctx *x, const struct rep *rp,
    struct hbuf *hb)
{
	if (x->cfg->upload_enable && upload_writable(x->cfg, rp->e->rel))
		hb_str(hb, "Content-Security-Policy: sandbox\r\n");
}

/* The lines of a 200 or 206 after Content-Type, -Length (and -Range). */
static void
add_rep_headers(const struct serve_ctx *x, const struct rep *rp,
    struct hbuf *hb)
{
	static const char *const coding_name[FCACHE_REPS] = {
		[CODING_GZIP] = "gzip", [CODING_BR] = "br",
	};
	if (rp->coding != CODING_IDENTITY) {
		hb_str(hb, "Content-Encoding: ");
		hb_str(hb, coding_name[rp->coding]);
		hb_str(hb, "\r\n");
	}
	add_validators(x, rp, hb);
	hb_str(hb, "Accept-Ranges: bytes\r\n");
}

static void
plan_not_modified(const struct serve_ctx *x, const struct rep *rp,
    struct response *res)
{
	begin(res, 304);
	add_validators(x, rp, &res->hb);
	finish_headers(res);
	if (res->hb.overflow)
		http_serve_status(res, 500, NULL);
}

/*
 * 200 for the whole representation, or 206 for the single range r.  A
 * plain 200 copies the entry's ready-made header lines.
 */
static void
plan_single(const struct serve_ctx *x, const struct http_request *req,
    const struct rep *rp, const struct byte_range *r, struct response *res)
{
	uint64_t off = r != NULL ? r->off : 0;
	uint64_t len = r != NULL ? r->len : rp->fi.size;

	begin(res, r != NULL ? 206 : 200);
	if (r == NULL && rp->stock) {
		hb_add(&res->hb, rp->r->hdr, rp->r->hdr_len);
	} else {
		hb_str(&res->hb, "Content-Type: ");
		hb_str(&res->hb, rp->e->type);
		hb_str(&res->hb, "\r\nContent-Length: ");
		hb_u64(&res->hb, len);
		hb_str(&res->hb, "\r\n");
		if (r != NULL) {
			hb_str(&res->hb, "Content-Range: bytes ");
			hb_u64(&res->hb, off);
			hb_add(&res->hb, "-", 1);
			hb_u64(&res->hb, off + len - 1);
			hb_add(&res->hb, "/", 1);
			hb_u64(&res->hb, rp->fi.size);
			hb_str(&res->hb, "\r\n");
		}
		add_rep_headers(x, rp, &res->hb);
	}
	add_download(req, rp, &res->hb);
	add_sandbox(x, rp, &res->hb);
	finish_headers(res);
	if (res->hb.overflow) {
		http_serve_status(res, 500, NULL);
		return;
	}
	attach_rep(res, rp, off, len);
}

/*
 * Writes the part headers and the closing delimiter of a multipart body
 * into pb; ends[i] is where part i's header ends.  Returns the body's
 * length, or 0 when pb overflowed.
 */
static uint64_t
multipart_parts(const struct rep *rp, const struct range_set *rs,
    const char *boundary, struct hbuf *pb, size_t *ends)
{
	uint64_t total = 0;

	for (size_t i = 0; i < rs->n; i++) {
		const struct byte_range *r = &rs->r[i];

		/* RFC 2046 §5.1.1: CRLF before each delimiter but the first. */
		hb_str(pb, i == 0 ? "--" : "\r\n--");
		hb_str(pb, boundary);
		hb_str(pb, "\r\nContent-Type: ");
		hb_str(pb, rp->e->type);
		hb_fmt(pb, "\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
		    (unsigned long long)r->off,
		    (unsigned long long)(r->off + r->len - 1),
		    (unsigned long long)rp->fi.size);
		ends[i] = pb->len;
		total += r->len;
	}
	hb_str(pb, "\r\n--");
	hb_str(pb, boundary);
	hb_str(pb, "--\r\n");
	return pb->overflow ? 0 : total + pb->len;
}

/*
 * 206 multipart/byteranges (RFC 9110 §14.6) with a random boundary.  The
 * part headers go into the header buffer after the response headers, and
 * each part's bytes are a file segment.  False (nothing planned, rp->fd
 * still ours) when no random boundary can be had or the buffer is full;
 * the caller then sends the whole file.
 */
static bool
plan_multipart(const struct serve_ctx *x, const struct http_request *req,
    const struct rep *rp, const struct range_set *rs, struct response *res)
{
	char parts[RANGE_MAX_PARTS * 256 + 64], boundary[2 * 12 + 1];
	size_t ends[RANGE_MAX_PARTS], at, start;
	unsigned char rnd[12];
	struct hbuf pb;
	uint64_t total;

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		return false;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(boundary + 2 * i, 3, "%02x", rnd[i]);
	hb_init(&pb, parts, sizeof(parts));
	if ((total = multipart_parts(rp, rs, boundary, &pb, ends)) == 0)
		return false;
	begin(res, 206);
	hb_str(&res->hb, "Content-Type: multipart/byteranges; boundary=");
	hb_str(&res->hb, boundary);
	hb_str(&res->hb, "\r\nContent-Length: ");
	hb_u64(&res->hb, total);
	hb_str(&res->hb, "\r\n");
	add_rep_headers(x, rp, &res->hb);
	add_download(req, rp, &res->hb);
	finish_headers(res);
	at = res->hb.len;
	if (!res->head)
		hb_add(&res->hb, parts, pb.len);
	if (res->hb.overflow)
		return false;
	if (res->head)
		return true;
	start = at;
	for (size_t i = 0; i < rs->n; i++) {
		res->segs[res->nsegs++] = (struct out_seg){
		    .mem = res->hb.p + start, .len = at + ends[i] - start };
		res->segs[res->nsegs++] = (struct out_seg){ .mem = NULL,
		    .off = (off_t)rs->r[i].off, .len = rs->r[i].len };
		start = at + ends[i];
	}
	res->segs[res->nsegs++] = (struct out_seg){ .mem = res->hb.p + start,
	    .len = at + pb.len - start };
	/* Parts are file ranges; a small file's bytes are in memory. */
	if (rp->r->body != NULL) {
		for (size_t i = 1; i < res->nsegs; i++)
			if (res->segs[i].mem == NULL)
				res->segs[i].mem = rp->r->body +
				    res->segs[i].off;
	} else {
		res->file_fd = rp->r->fd;
	}
	res->fentry = fentry_ref((struct fentry *)rp->e);
	return true;
}

/* Which ranges of rp the request asks for, after If-Range. */
static enum range_result
select_ranges(const struct http_request *req, const struct rep *rp,
    struct range_set *rs)
{
	rs->n = 0;
	/* A repeated Range or If-Range field is not one we can trust. */
	if (req->hdr_count[HDR_RANGE] != 1 || req->hdr_count[HDR_IF_RANGE] > 1)
		return RANGE_IGNORE;
	if (req->hdr_count[HDR_IF_RANGE] == 1 &&
	    !file_if_range(req->hdr[HDR_IF_RANGE], &rp->fi))
		return RANGE_IGNORE;
	return file_parse_range(req->hdr[HDR_RANGE], rp->fi.size, rs);
}

/*
 * A regular file: choose the representation, check preconditions, then
 * 304, 412, 416, 206 or 200.  Takes the caller's reference to e.
 */
static void	plan_heap(struct response *, const char *, const char *,
		    struct hbuf *);

/*
 * GET /file?play for audio or video: a page that plays it in the
 * browser's own <audio> or <video>, the file's read token (if the link
 * had one) passed on to the player's request.
 */
static bool
plan_play(const struct serve_ctx *x, const struct http_request *req,
    const struct fentry *e, struct response *res)
{
	const char *name = strrchr(e->rel, '/') != NULL ?
	    strrchr(e->rel, '/') + 1 : e->rel;
	bool video = strncmp(e->type, "video/", 6) == 0;
	struct span v, t = SPAN_NULL;
	struct hbuf b;

	if (!req->has_query || !http_query_param(req->query, "play", &v) ||
	    !playlist_is_media(x->cfg->mime, name, strlen(name)))
		return false;
	(void)http_query_param(req->query, "t", &t);
	hb_init_heap(&b);
	hb_str(&b, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n<title>");
	listing_html_escape(&b, name, strlen(name));
	hb_str(&b, "</title>\n<style>body{margin:0;background:#000;color:#ddd;"
	    "font:15px system-ui,sans-serif}h1{font-size:1rem;margin:.75rem;"
	    "overflow-wrap:anywhere}video,audio{display:block;width:100%;"
	    "max-height:85vh}</style>\n</head>\n<body>\n<h1>");
	listing_html_escape(&b, name, strlen(name));
	hb_str(&b, video ? "</h1>\n<video controls autoplay playsinline src=\"" :
	    "</h1>\n<audio controls autoplay src=\"");
	listing_href(&b, name, strlen(name));
	if (t.p != NULL) {
		hb_str(&b, "?t=");
		listing_href(&b, t.p, t.len);
	}
	hb_str(&b, video ? "\"></video>\n" : "\"></audio>\n");
	hb_str(&b, "</body>\n</html>\n");
	if (b.overflow) {
		hb_release(&b);
		http_serve_status(res, 503, NULL);
		return true;
	}
	plan_heap(res, "text/html; charset=utf-8",
	    "Content-Security-Policy: default-src 'none'; media-src 'self'; "
	    "style-src 'unsafe-inline'; img-src data:\r\n"
	    "Referrer-Policy: no-referrer\r\n", &b);
	return true;
}

static void
plan_file(const struct serve_ctx *x, const struct http_request *req,
    struct fentry *e, struct response *res)
{
	struct range_set rs;
	enum range_result rr;
	struct rep rp;
	char extra[64];
	int code;

	if (plan_play(x, req, e, res)) {
		fentry_unref(e);
		return;
	}
	choose_rep(x, req, e, &rp);
	if ((code = file_preconditions(req, &rp.fi)) != 0) {
		if (code == 304)
			plan_not_modified(x, &rp, res);
		else
			http_serve_status(res, code, NULL);
	} else if ((rr = select_ranges(req, &rp, &rs)) == RANGE_UNSATISFIABLE) {
		snprintf(extra, sizeof(extra),
		    "Content-Range: bytes */%llu\r\n",
		    (unsigned long long)rp.fi.size);
		http_serve_status(res, 416, extra);
	} else if (!(rr == RANGE_OK && rs.n > 1 &&
	    plan_multipart(x, req, &rp, &rs, res))) {
		plan_single(x, req, &rp, rr == RANGE_OK && rs.n == 1 ?
		    &rs.r[0] : NULL, res);
	}
	fentry_unref(e);
}

/* How a listing is asked for, and the key of its page in the cache. */
struct listing_req {
	struct listing_view v;
	bool		 json;
	bool		 gzip;		/* the client accepts gzip */
	bool		 per_user;	/* [access] rules below: not cached */
	bool		 drop_only;	/* a drop box link: the form, no names */
	struct listing_key key;		/* the plain page; gzip adds a bit */
	struct listing_src src;
	const struct serve_ctx *x;	/* for file_link_query() */
};

#define VARIANT_GZIP	0x100u
#define VARIANT_WRITABLE	0x200u

bool
serve_may(const struct serve_ctx *x, const char *rel, unsigned right)
{
	const struct access_rules *r = x->cfg->access;

	return access_empty(r) || (gate_rights(x->cfg, x->who, rel) & right) ==
	    right;
}

/*
 * Whether the requester of x may see the path rel in a listing or a
 * search: it may use it, or reach a usable path through it.  A drop box
 * (write only) shows, for its upload form.
 */
static bool
may_see(const struct serve_ctx *x, const char *rel)
{
	return gate_rights(x->cfg, x->who, rel) != ACCESS_NONE ||
	    access_has_below(x->cfg->access, rel, x->user);
}

/*
 * What a search or an archive may show or walk through: a path the
 * requester may read, or a folder on the way to one.  Unlike a listing
 * (which shows a drop box, for its upload form), never what is inside a
 * folder they may only write to.
 */
static bool
search_may_see(void *arg, const char *rel, bool is_dir)
{
	const struct serve_ctx *x = arg;

	return (gate_rights(x->cfg, x->who, rel) & ACCESS_READ) != 0 ||
	    (is_dir && access_has_below(x->cfg->access, rel, x->user));
}

/*
 * Leaves out of l what the requester may not see, when rules below dir
 * make members differ.
 */
static void
listing_filter(const struct serve_ctx *x, const char *dir, struct listing *l)
{
	char rel[PATH_MAX];
	size_t kept = 0;

	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->names + l->ents[i].name_off;
		int n = snprintf(rel, sizeof(rel), "%s%s%s", dir,
		    dir[0] != '\0' ? "/" : "", name);

		if (n > 0 && (size_t)n < sizeof(rel) && may_see(x, rel))
			l->ents[kept++] = l->ents[i];
	}
	l->n = kept;
}

/*
 * A file link's query for who cannot send the browser's cookies (a
 * download manager, a media player): a logged-in user's page gives each
 * file its own read token, tied to the log-in; a share link's page
 * passes its token on.
 */
static void
file_link_query(void *arg, const char *name, size_t len, struct hbuf *out)
{
	const struct listing_req *lr = arg;
	const struct serve_ctx *x = lr->x;
	const struct gate_who *who = x->who;
	const char *dir = lr->src.rel;
	char rel[PATH_MAX], tok[SHARELINK_TOKEN_LONGEST];
	int n;

	if (who->grant.kind == SL_READ) {
		hb_str(out, "?t=");
		hb_add(out, who->token, who->token_len);
		return;
	}
	n = snprintf(rel, sizeof(rel), "%s%s%.*s", dir, dir[0] != '\0' ?
	    "/" : "", (int)len, name);
	if (n < 0 || (size_t)n >= sizeof(rel) ||
	    session_make(x->sessions, SL_FILE, who->user, rel,
	    who->session_expires, who->session_id, tok, sizeof(tok)) == 0)
		return;
	hb_str(out, "?t=");
	hb_str(out, tok);
}

/* Whether a listed name is audio or video (its link opens ?play). */
static bool
listing_is_media(void *arg, const char *name, size_t len)
{
	return playlist_is_media(arg, name, len);
}

/* The page's account parts: log in, who is logged in, file tokens. */
static void
listing_account(const struct serve_ctx *x, struct listing_req *lr)
{
	const struct gate_who *who = x->who;
	bool session, shared;

	lr->x = x;
	if (x->sessions == NULL || x->cfg->users == NULL || who == NULL)
		return;
	session = who->session;
	shared = who->user[0] == '\0' && who->grant.kind != 0;
	lr->v.login_link = !session && !shared;
	lr->v.account = session ? who->user : NULL;
	if (session || who->grant.kind == SL_READ) {
		lr->v.file_query = file_link_query;
		lr->v.file_query_arg = lr;
	}
	lr->drop_only = who->grant.kind == SL_DROP &&
	    !serve_may(x, x->path, ACCESS_READ);
	/* Such a page is this requester's own. */
	lr->per_user |= session || shared;
}

static void
listing_request(const struct serve_ctx *x, const struct http_request *req,
    const struct stat *st, size_t rel_len, struct listing_req *lr)
{
	const struct config *cfg = x->cfg;
	enum coding want[CODING_MAX];
	size_t n = negotiate_encodings(req, want);

	listing_view_from_query(req->query, &lr->v);
	lr->v.lang = negotiate_language(req);
	/* The configuration and the requester's right: the key holds both. */
	lr->v.writable = upload_writable(cfg, x->path) &&
	    serve_may(x, x->path, ACCESS_WRITE);
	lr->per_user = access_splits(cfg->access, x->path);
	lr->v.is_media = listing_is_media;
	lr->v.is_media_arg = (void *)(uintptr_t)cfg->mime;
	lr->drop_only = false;
	listing_account(x, lr);
	lr->json = lr->v.format == LISTING_JSON ||
	    (lr->v.format == LISTING_AUTO && negotiate_wants_json(req));
	if (lr->json)
		lr->v.lang = LANG_EN;	/* JSON has no words to translate */
	lr->gzip = false;
	for (size_t i = 0; i < n; i++)
		lr->gzip |= want[i] == CODING_GZIP;
	lr->key = (struct listing_key){ .rel = x->path, .rel_len = rel_len,
	    .dev = st->st_dev, .ino = st->st_ino, .cfg_gen = x->cfg_gen,
	    .variant = (uint32_t)lr->json | (uint32_t)lr->v.sort << 1 |
	    (uint32_t)lr->v.desc << 3 | (uint32_t)lr->v.lang << 4 |
	    (lr->v.writable ? VARIANT_WRITABLE : 0),
	    .start = lr->v.start };
	lr->src = (struct listing_src){ .tree = cfg->tree, .rel = x->path };
}

/* ETag, Cache-Control and Vary: what a listing's 304 repeats. */
static void
listing_validators(struct hbuf *hb, const char *etag, size_t etag_len)
{
	hb_str(hb, "ETag: ");
	hb_add(hb, etag, etag_len);
	/*
	 * The folder changes under the client: always revalidate, which
	 * costs a 304 when nothing changed.
	 */
	hb_str(hb, "\r\nCache-Control: no-cache\r\n"
	    "Vary: Accept, Accept-Language, Accept-Encoding\r\n");
}

/*
 * The headers of a listing whose body has len bytes and the given ETag,
 * or a 304 or 412 when the request's preconditions say so.  Returns true
 * when the body is to follow.
 */
static bool
listing_headers(const struct http_request *req, const struct listing_req *lr,
    bool gz, const char *etag, size_t etag_len, uint64_t len,
    struct response *res)
{
	struct file_info fi = { .undated = true, .etag_len = etag_len };
	int code;

	memcpy(fi.etag, etag, etag_len);
	if ((code = file_preconditions(req, &fi)) == 412) {
		http_serve_status(res, 412, NULL);
		return false;
	}
	begin(res, code == 304 ? 304 : 200);
	if (code == 304) {
		listing_validators(&res->hb, etag, etag_len);
		finish_headers(res);
		return false;
	}
	hb_str(&res->hb, lr->json ? "Content-Type: application/json\r\n" :
	    "Content-Type: text/html; charset=utf-8\r\n");
	hb_str(&res->hb, "Content-Length: ");
	hb_u64(&res->hb, len);
	hb_str(&res->hb, gz ? "\r\nContent-Encoding: gzip\r\n" : "\r\n");
	listing_validators(&res->hb, etag, etag_len);
	/* Its links may carry read tokens: no Referer takes them along. */
	hb_str(&res->hb, "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n");
	/*
	 * Names are escaped; this makes sure nothing in them could run.  A
	 * writable folder's page runs its one upload script, by its hash.
	 */
	if (!lr->json && lr->v.writable)
		hb_str(&res->hb, "Content-Security-Policy: " UPLOAD_UI_CSP
		    "\r\n");
	else if (!lr->json)
		hb_str(&res->hb, "Content-Security-Policy: default-src 'none'; "
		    "style-src 'unsafe-inline'; img-src 'self' data:\r\n");
	finish_headers(res);
	return true;
}

/* A page from the cache (or just stored there): sent with sendfile(). */
static void
listing_send_page(const struct http_request *req,
    const struct listing_req *lr, bool gz, struct listing_page *pg,
    struct response *res)
{
	if (!listing_headers(req, lr, gz, pg->etag, pg->etag_len, pg->len,
	    res) || res->hb.overflow) {
		close(pg->fd);
		if (res->hb.overflow)
			http_serve_status(res, 500, NULL);
		return;
	}
	http_serve_attach(res, pg->fd, 0, pg->len);
}

/* A page built for this request alone: sent from the heap. */
static void
listing_send_heap(const struct http_request *req,
    const struct listing_req *lr, bool gz, const char *etag,
    size_t etag_len, struct hbuf *body, struct response *res)
{
	if (!listing_headers(req, lr, gz, etag, etag_len, body->len, res) ||
	    res->hb.overflow || res->head || body->len == 0) {
		hb_release(body);
		if (res->hb.overflow)
			http_serve_status(res, 500, NULL);
		return;
	}
	res->body_heap = body->p;
	res->body_heap_len = body->len;
	res->segs[res->nsegs++] = (struct out_seg){ .mem = body->p,
	    .len = body->len };
}

/* The page of lr from l: formatted into body, its ETag into etag. */
static int
listing_render(const struct serve_ctx *x, struct listing_req *lr,
    struct listing *l, struct hbuf *body, char *etag, size_t *etag_len)
{
	int r;

	listing_sort(l, lr->v.sort, lr->v.desc);
	/* "Play all" (?m3u) where the folder holds audio or video. */
	lr->v.play_all = false;
	for (size_t i = 0; i < l->n && !lr->v.play_all; i++)
		lr->v.play_all = !l->ents[i].is_dir && playlist_is_media(
		    x->cfg->mime, l->names + l->ents[i].name_off,
		    l->ents[i].name_len);
	hb_init_heap(body);
	r = lr->json ? listing_json(l, x->path, lr->key.rel_len, &lr->v, body) :
	    listing_html(l, x->path, lr->key.rel_len, &lr->v, body);
	if (r != 0) {
		hb_release(body);
		return r;
	}
	*etag_len = (size_t)snprintf(etag, LISTING_ETAG_MAX, "\"%016llx\"",
	    (unsigned long long)listing_hash(body->p, body->len));
	return 0;
}

/* The gzip form of plain into gz, and its ETag ("...-gz"). */
static int
listing_compress(const struct hbuf *plain, struct hbuf *gz, char *etag,
    size_t *etag_len)
{
	int r;

	hb_init_heap(gz);
	if ((r = listing_gzip(plain->p, plain->len, gz)) != 0) {
		hb_release(gz);
		return r;
	}
	memcpy(etag + *etag_len - 1, "-gz\"", 5);
	*etag_len += 3;
	return 0;
}

/*
 * Stores the page in the cache: the plain one, and the gzip one when
 * there is one.  Returns true with *pg, the page to send.
 */
static bool
listing_store(const struct serve_ctx *x, const struct listing_fill *fill,
    const struct listing_req *lr, const struct listing *l,
    const struct hbuf *plain, const char *etag, size_t etag_len,
    const struct hbuf *gz, const char *gz_etag, size_t gz_etag_len,
    struct listing_page *pg)
{
	struct listing_key k = lr->key;

	if (listing_cache_put(x->listings, fill, &k, plain->p, plain->len,
	    etag, etag_len, l, pg) != 0)
		return false;
	if (gz->p == NULL)
		return true;
	close(pg->fd);
	k.variant |= VARIANT_GZIP;
	return listing_cache_put(x->listings, fill, &k, gz->p, gz->len,
	    gz_etag, gz_etag_len, l, pg) == 0;
}

/*
 * The gzip form of the page plain and its tag (etag with "-gz"); on
 * failure plain is released too.  0 or -errno.
 */
static int
listing_gzip_page(struct hbuf *plain, struct hbuf *gz, const char *etag,
    size_t etag_len, char *gz_etag, size_t *gz_etag_len)
{
	int r;

	memcpy(gz_etag, etag, etag_len);
	*gz_etag_len = etag_len;
	if ((r = listing_compress(plain, gz, gz_etag, gz_etag_len)) != 0)
		hb_release(plain);
	return r;
}

/*
 * Reads the directory open as dfd (taking it) into l, leaving out what
 * this requester may not see when that differs per user.  0 or -errno.
 */
static int
listing_read_for(const struct serve_ctx *x, int dfd,
    const struct listing_req *lr, struct listing *l)
{
	int r;

	listing_init(l);
	r = listing_read(l, dfd, &lr->src);
	close(dfd);
	if (r == 0 && lr->per_user)
		listing_filter(x, lr->src.rel, l);
	if (lr->drop_only)
		l->n = 0;
	return r;
}

/*
 * A page not in the cache: reads the directory open as dfd (taking it),
 * formats, compresses when asked, stores the result when the directory
 * can be watched, and answers.
 */
static void
listing_build(const struct serve_ctx *x, const struct http_request *req,
    int dfd, struct listing_req *lr, struct response *res)
{
	char etag[LISTING_ETAG_MAX], gz_etag[LISTING_ETAG_MAX];
	size_t etag_len = 0, gz_etag_len = 0;
	struct hbuf plain, gz = { 0 };
	struct listing_fill fill = { .w = NULL };
	struct listing_page pg;
	struct listing l;
	bool cache = !lr->per_user &&
	    listing_cache_begin(x->listings, dfd, &fill) == 0;
	int r;

	/*
	 * A page that cannot be cached is built for this request alone and
	 * held until sent: when that memory is all taken, do not even read
	 * the folder.
	 */
	if (!cache && x->memory_short) {
		close(dfd);
		http_serve_status(res, 503, "Retry-After: 2\r\n");
		return;
	}
	r = listing_read_for(x, dfd, lr, &l);
	if (r == 0)
		r = listing_render(x, lr, &l, &plain, etag, &etag_len);
	if (r == 0 && lr->gzip)
		r = listing_gzip_page(&plain, &gz, etag, etag_len, gz_etag,
		    &gz_etag_len);
	if (r != 0) {
		if (cache)
			listing_cache_end(x->listings, &fill);
		listing_release(&l);
		plan_fail(x, res, r == -EACCES ? 403 : r == -ENOMEM ? 503 : 500);
		return;
	}
	if (cache && listing_store(x, &fill, lr, &l, &plain, etag, etag_len,
	    &gz, gz_etag, gz_etag_len, &pg)) {
		hb_release(&plain);
		hb_release(&gz);
		listing_send_page(req, lr, lr->gzip, &pg, res);
	} else if (lr->gzip) {
		hb_release(&plain);
		listing_send_heap(req, lr, true, gz_etag, gz_etag_len, &gz,
		    res);
	} else {
		listing_send_heap(req, lr, false, etag, etag_len, &plain, res);
	}
	if (cache)
		listing_cache_end(x->listings, &fill);
	listing_release(&l);
}

/*
 * The listing of the directory open as dfd, x->path[0..rel_len) from the
 * root: from the cache when it holds the page and the directory has not
 * changed since, else built.  Takes ownership of dfd.
 */
static void
plan_listing(const struct serve_ctx *x, const struct http_request *req,
    int dfd, size_t rel_len, struct response *res)
{
	struct listing_req lr;
	struct listing_page pg;
	struct listing_key k;
	struct stat st;

	/* The directory opened names the page, whatever its path is now. */
	if (fstat(dfd, &st) != 0) {
		close(dfd);
		http_serve_status(res, 500, NULL);
		return;
	}
	listing_request(x, req, &st, rel_len, &lr);
	k = lr.key;
	if (lr.gzip)
		k.variant |= VARIANT_GZIP;
	if (!lr.per_user &&
	    listing_cache_get(x->listings, &k, dfd, &lr.src, &pg)) {
		close(dfd);
		listing_send_page(req, &lr, lr.gzip, &pg, res);
		return;
	}
	if (x->long_job != NULL && st.st_size >= SERVE_LONG_DIR_BYTES)
		x->long_job(x->long_job_arg);
	listing_build(x, req, dfd, &lr, res);
}

static struct fentry_src
entry_src(const struct config *cfg)
{
	return (struct fentry_src){
		.tree = cfg->tree,
		.precompressed = cfg->precompressed,
		.etag_inode = cfg->etag_inode,
		.cache_max_age = cfg->cache_max_age,
		.mime = cfg->mime,
		.max_body = cfg->file_cache_max_body,
	};
}

/*
 * The entry for the regular file open as fd at x->path, asked for as
 * key[0..klen): built, and kept in the cache when there is one.  Takes
 * ownership of fd.  NULL when it cannot be built (the caller answers 500
 * or 503).
 */
static struct fentry *
entry_for(const struct serve_ctx *x, const char *key, size_t klen, int fd,
    const struct stat *st, struct fcache_fill *fill, int *code)
{
	const struct config *cfg = x->cfg;
	struct fentry_src src = entry_src(cfg);
	struct fentry *e;
	int r;

	r = fentry_build_file(&src, key, klen, x->path, fd, st, x->now_ms, &e);
	if (r != 0) {
		*code = r == -ENOMEM ? 503 : 500;
		return NULL;
	}
	fcache_put(cfg->fcache, e, fill);
	return e;
}

/*
 * Opens the index file of the directory x->path[0..plen) by appending
 * its name to x->path, after fcache_begin() for it into *fill (the
 * caller ends it).  Returns 0 with *fdp and *st, 404 when there is no
 * usable index (x->path is restored), or another status.
 */
static int
open_index(const struct serve_ctx *x, size_t plen, int *fdp, struct stat *st,
    struct fcache_fill *fill)
{
	const struct config *cfg = x->cfg;
	size_t ilen = cfg->index != NULL ? strlen(cfg->index) : 0;
	size_t at = plen;
	int code;

	fill->nw = 0;
	if (ilen == 0 || plen + 1 + ilen + 1 > x->path_cap)
		return 404;
	if (at > 0)
		x->path[at++] = '/';
	memcpy(x->path + at, cfg->index, ilen + 1);
	fcache_begin(cfg->fcache, x->path, cfg->precompressed, fill);
	code = path_open(&cfg->tree, x->path, fdp);
	if (code == 0 && (fstat(*fdp, st) != 0 || !S_ISREG(st->st_mode))) {
		close(*fdp);
		code = 404;	/* e.g. a folder called index.html */
	}
	if (code != 0)
		x->path[plen] = '\0';
	return code;
}

/*
 * A generated body for this request alone, sent from the heap (taken):
 * 200, never cached, extra header lines (or NULL) added.
 */
static void
plan_heap(struct response *res, const char *ctype, const char *extra,
    struct hbuf *body)
{
	begin(res, 200);
	hb_str(&res->hb, "Content-Type: ");
	hb_str(&res->hb, ctype);
	hb_str(&res->hb, "\r\nContent-Length: ");
	hb_u64(&res->hb, body->len);
	hb_str(&res->hb, "\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
	if (extra != NULL)
		hb_str(&res->hb, extra);
	finish_headers(res);
	if (res->hb.overflow || res->head || body->len == 0) {
		hb_release(body);
		if (res->hb.overflow)
			http_serve_status(res, 500, NULL);
		return;
	}
	res->body_heap = body->p;
	res->body_heap_len = body->len;
	res->segs[res->nsegs++] = (struct out_seg){ .mem = body->p,
	    .len = body->len };
}

/*
 * What a folder tool (?m3u, ?q=) starts from: the listing request of the
 * folder open as dfd.  Returns 0, or the status to answer (dfd closed).
 */
static int
folder_tool(const struct serve_ctx *x, const struct http_request *req,
    int dfd, size_t rel_len, struct listing_req *lr)
{
	struct stat st;

	if (fstat(dfd, &st) != 0) {
		close(dfd);
		return 500;
	}
	listing_request(x, req, &st, rel_len, lr);
	if (lr->drop_only || x->memory_short) {
		close(dfd);
		return lr->drop_only ? 403 : 503;
	}
	return 0;
}

/*
 * GET /folder/?m3u: an extended M3U8 of the folder's audio and video
 * files, with absolute URLs from Host (and read tokens for a logged-in
 * player, as its listing has).  Takes dfd.
 */
static void
plan_playlist(const struct serve_ctx *x, const struct http_request *req,
    int dfd, size_t rel_len, struct response *res)
{
	struct span host = req->hdr[HDR_HOST];
	char base[PLAYLIST_BASE_MAX + 1];
	struct playlist_opts o;
	struct listing_req lr;
	struct listing l;
	struct hbuf body;
	int r;

	if (!http_host_plain(host) || host.len + 7 > PLAYLIST_BASE_MAX) {
		close(dfd);
		http_serve_status(res, 400, NULL);
		return;
	}
	if ((r = folder_tool(x, req, dfd, rel_len, &lr)) != 0) {
		plan_fail(x, res, r);
		return;
	}
	if ((r = listing_read_for(x, dfd, &lr, &l)) != 0) {
		listing_release(&l);
		plan_fail(x, res, r == -EACCES ? 403 : r == -ENOMEM ? 503 : 500);
		return;
	}
	listing_sort(&l, lr.v.sort, lr.v.desc);
	snprintf(base, sizeof(base), "http://%.*s", (int)host.len, host.p);
	o = (struct playlist_opts){ .mime = x->cfg->mime,
	    .base = span_make(base, strlen(base)),
	    .file_query = lr.v.file_query, .file_query_arg = lr.v.file_query_arg };
	hb_init_heap(&body);
	r = playlist_m3u(&l, x->path, rel_len, &o, &body);
	listing_release(&l);
	if (r < 0) {
		hb_release(&body);
		http_serve_status(res, r == -ENOMEM ? 503 : 500, NULL);
		return;
	}
	plan_heap(res, PLAYLIST_CONTENT_TYPE, NULL, &body);
}

/*
 * GET /folder/?q=TEXT: names below the folder that hold TEXT, bounded
 * (search.h), never cached, as an HTML page or JSON.  Takes dfd.
 */
static void
plan_search(const struct serve_ctx *x, const struct http_request *req,
    int dfd, size_t rel_len, struct span raw, struct response *res)
{
	struct search_filter f = { .may_see = search_may_see,
	    .arg = (void *)(uintptr_t)x };
	char q[SEARCH_QUERY_MAX + 1];
	struct search_result sr;
	struct listing_req lr;
	struct hbuf body;
	size_t qlen;
	int r;

	if (search_query_decode(raw, q, sizeof(q), &qlen) != 0) {
		close(dfd);
		http_serve_status(res, 400, NULL);
		return;
	}
	if ((r = folder_tool(x, req, dfd, rel_len, &lr)) != 0) {
		plan_fail(x, res, r);
		return;
	}
	/* Up to the time bound: let this worker's other clients go. */
	if (x->long_job != NULL && qlen > 0)
		x->long_job(x->long_job_arg);
	search_result_init(&sr);
	r = search_run(dfd, &lr.src, span_make(q, qlen), NULL,
	    lr.per_user ? &f : NULL, &sr);
	close(dfd);
	if (r != 0) {
		plan_fail(x, res, r == -EACCES ? 403 : r == -ENOMEM ||
		    r == -EMFILE ? 503 : 500);
		return;
	}
	hb_init_heap(&body);
	r = lr.json ? search_json(&sr, x->path, rel_len, span_make(q, qlen),
	    &body) : search_html(&sr, x->path, rel_len, span_make(q, qlen),
	    &lr.v, &body);
	search_result_release(&sr);
	if (r != 0) {
		hb_release(&body);
		http_serve_status(res, 503, NULL);
		return;
	}
	plan_heap(res, lr.json ? "application/json" :
	    "text/html; charset=utf-8", lr.json ? NULL :
	    "Content-Security-Policy: default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:\r\n", &body);
}

/* The body generator over an archive cursor (conn.h, archive.h). */
static int
archive_gen_next(void *arg, struct out_seg *segs, size_t cap, int *fd)
{
	return archive_next(arg, segs, cap, fd);
}

static void
archive_gen_done(void *arg)
{
	archive_close(arg);
}

/*
 * The headers of an archive of size bytes named after the folder
 * x->path[0..rel_len), for [first, last] when part (206).
 */
static void
archive_headers(const struct serve_ctx *x, size_t rel_len,
    const struct archive *a, enum archive_kind kind, bool part,
    uint64_t first, uint64_t last, struct response *res)
{
	const char *dir = x->path, *slash = memrchr(dir, '/', rel_len);
	const char *base = slash != NULL ? slash + 1 : dir;
	size_t blen = rel_len - (size_t)(base - dir);
	char name[NAME_MAX + 8];
	int n;

	n = snprintf(name, sizeof(name), "%.*s.%s", (int)(blen > 0 ? blen : 5),
	    blen > 0 ? base : "files", kind == ARCHIVE_ZIP ? "zip" : "tar");
	begin(res, part ? 206 : 200);
	hb_str(&res->hb, kind == ARCHIVE_ZIP ? "Content-Type: application/zip"
	    "\r\n" : "Content-Type: application/x-tar\r\n");
	hb_str(&res->hb, "Content-Length: ");
	hb_u64(&res->hb, last + 1 - first);
	if (part) {
		hb_fmt(&res->hb, "\r\nContent-Range: bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)archive_size(a));
	}
	hb_str(&res->hb, "\r\nETag: ");
	hb_str(&res->hb, archive_etag(a));
	hb_str(&res->hb, "\r\nAccept-Ranges: bytes\r\nCache-Control: no-cache"
	    "\r\nContent-Disposition: ");
	hb_content_disposition(&res->hb, name, n > 0 && (size_t)n < sizeof(name) ?
	    (size_t)n : 0);
	hb_str(&res->hb, "\r\n");
	finish_headers(res);
}

/*
 * Of an archive with validators fi, the bytes [*first, *last] to send:
 * 0 for all or a range (*part), 304, 412 or 416 (extra set).
 */
static int
archive_range(const struct http_request *req, const struct file_info *fi,
    uint64_t *first, uint64_t *last, bool *part)
{
	struct range_set rs;
	enum range_result rr = RANGE_IGNORE;
	int code;

	*first = 0;
	*last = fi->size - 1;
	*part = false;
	if ((code = file_preconditions(req, fi)) != 0)
		return code;
	if (req->hdr_count[HDR_RANGE] == 1 && req->hdr_count[HDR_IF_RANGE] <= 1 &&
	    (req->hdr_count[HDR_IF_RANGE] == 0 ||
	    file_if_range(req->hdr[HDR_IF_RANGE], fi)))
		rr = file_parse_range(req->hdr[HDR_RANGE], fi->size, &rs);
	if (rr == RANGE_UNSATISFIABLE)
		return 416;
	/* One range (what a resuming client asks); several: the whole. */
	if (rr == RANGE_OK && rs.n == 1) {
		*first = rs.r[0].off;
		*last = rs.r[0].off + rs.r[0].len - 1;
		*part = true;
	}
	return 0;
}

/* The answer to an archive's request that gets no body: 304, 412, 416. */
static void
archive_refusal(const struct archive *a, int status, struct response *res)
{
	char extra[64];

	if (status == 304) {
		begin(res, 304);
		hb_str(&res->hb, "ETag: ");
		hb_str(&res->hb, archive_etag(a));
		hb_str(&res->hb, "\r\nCache-Control: no-cache\r\n");
		finish_headers(res);
		return;
	}
	snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
	    (unsigned long long)archive_size(a));
	http_serve_status(res, status, status == 416 ? extra : NULL);
}

/*
 * GET /folder/?zip or ?tar: the folder as one stored ZIP or tar, with a
 * length, an ETag and ranges; the file data goes out piece by piece as
 * it is sent (archive.h).  Takes dfd.
 */
static void
plan_archive(const struct serve_ctx *x, const struct http_request *req,
    int dfd, size_t rel_len, enum archive_kind kind, struct response *res)
{
	struct archive_filter f = { .may_see = search_may_see,
	    .arg = (void *)(uintptr_t)x };
	struct file_info fi = { .undated = true };
	struct archive_cursor *cur;
	struct listing_req lr;
	struct archive *a;
	uint64_t first, last;
	bool part;
	int r;

	if ((r = folder_tool(x, req, dfd, rel_len, &lr)) != 0) {
		plan_fail(x, res, r);
		return;
	}
	if (x->long_job != NULL)
		x->long_job(x->long_job_arg);
	r = archive_plan(dfd, &lr.src, kind, x->cfg->etag_inode,
	    lr.per_user ? &f : NULL, &a);
	close(dfd);
	if (r != 0) {
		plan_fail(x, res, r == -E2BIG ? 413 : r == -EACCES ? 403 :
		    r == -ENOMEM || r == -EMFILE ? 503 : 500);
		return;
	}
	fi.size = archive_size(a);
	fi.etag_len = strlen(archive_etag(a));
	memcpy(fi.etag, archive_etag(a), fi.etag_len);
	r = archive_range(req, &fi, &first, &last, &part);
	if (r == 0)
		archive_headers(x, rel_len, a, kind, part, first, last, res);
	else
		archive_refusal(a, r, res);
	if (r != 0 || res->head || res->hb.overflow) {
		archive_free(a);
		if (res->hb.overflow)
			http_serve_status(res, 500, NULL);
		return;
	}
	if ((cur = archive_open(a, first, last)) == NULL) {
		http_serve_status(res, 503, "Retry-After: 2\r\n");
		return;
	}
	res->gen = (struct body_gen){ .next = archive_gen_next,
	    .done = archive_gen_done, .arg = cur };
}

/*
 * GET /folder/?qr: an SVG of the QR code of the folder's absolute URL,
 * for the listing page, so a phone can pass the link on to another.
 */
static void
plan_folder_qr(const struct serve_ctx *x, const struct http_request *req,
    size_t rel_len, struct response *res)
{
	struct span host = req->hdr[HDR_HOST];
	struct hbuf url, svg;

	if (!http_host_plain(host)) {
		http_serve_status(res, 400, NULL);
		return;
	}
	hb_init_heap(&url);
	hb_str(&url, "http://");
	hb_add(&url, host.p, host.len);
	hb_add(&url, "/", 1);
	if (rel_len > 0) {
		listing_href(&url, x->path, rel_len);
		hb_add(&url, "/", 1);
	}
	hb_add(&url, "", 1);
	hb_init_heap(&svg);
	if (url.overflow || qr_svg(url.p, &svg) != 0)
		http_serve_status(res, url.overflow ? 500 : 414, NULL);
	else
		http_serve_page(res, 200, "image/svg+xml", "Vary: Host\r\n",
		    svg.p, svg.len);
	hb_release(&url);
	hb_release(&svg);
}

/* Whether req asks for one of a folder's tools (folder_query()). */
static bool
folder_tool_asked(const struct http_request *req)
{
	static const char *const tools[] = { "qr", "zip", "tar", "m3u", "q" };
	struct span v;

	if (!req->has_query)
		return false;
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (http_query_param(req->query, tools[i], &v))
			return true;
	return false;
}

/*
 * The folder's tools, asked for by its query: its QR code, and where
 * listings are on, its playlist and a search.  Returns false (dfd kept)
 * when the query asks for none of them.
 */
static bool
folder_query(const struct serve_ctx *x, const struct http_request *req,
    int dfd, size_t rel_len, struct response *res)
{
	struct span v;

	if (http_query_param(req->query, "qr", &v)) {
		close(dfd);
		plan_folder_qr(x, req, rel_len, res);
		return true;
	}
	if (http_query_param(req->query, "zip", &v) ||
	    http_query_param(req->query, "tar", &v)) {
		if (!x->cfg->directory_listing) {
			close(dfd);
			plan_fail(x, res, 403);
		} else {
			plan_archive(x, req, dfd, rel_len,
			    http_query_param(req->query, "zip", &v) ?
			    ARCHIVE_ZIP : ARCHIVE_TAR, res);
		}
		return true;
	}
	if (http_query_param(req->query, "m3u", &v) ||
	    http_query_param(req->query, "q", &v)) {
		if (!x->cfg->directory_listing) {
			close(dfd);
			plan_fail(x, res, 403);
		} else if (http_query_param(req->query, "m3u", &v)) {
			plan_playlist(x, req, dfd, rel_len, res);
		} else {
			plan_search(x, req, dfd, rel_len, v, res);
		}
		return true;
	}
	return false;
}

/*
 * A directory: redirect to the slash form, its index, or its listing.
 * key[0..klen) is how the request named it (for caching its index).
 */
static void
plan_directory(const struct serve_ctx *x, const struct http_request *req,
    int dfd, const struct path_result *pr, const char *key, size_t klen,
    struct response *res)
{
	struct fcache_fill fill;
	struct fentry *e;
	struct stat st;
	int fd, code;

	if (!pr->trailing_slash && !pr->is_root) {
		close(dfd);
		plan_redirect(x, req, x->path, res);
		return;
	}
	if (req->has_query && folder_query(x, req, dfd, pr->len, res))
		return;
	/* A drop box link's page is the upload form, never the index. */
	if (!serve_may(x, x->path, ACCESS_READ)) {
		plan_listing(x, req, dfd, pr->len, res);
		return;
	}
	code = open_index(x, pr->len, &fd, &st, &fill);
	if (code == 0) {
		close(dfd);
		e = entry_for(x, key, klen, fd, &st, &fill, &code);
		fcache_end(x->cfg->fcache, &fill);
		if (e == NULL)
			http_serve_status(res, code, NULL);
		else
			plan_file(x, req, e, res);
		return;
	}
	fcache_end(x->cfg->fcache, &fill);
	if (code != 404 || !x->cfg->directory_listing) {
		close(dfd);
		plan_fail(x, res, code != 404 ? code : 403);
		return;
	}
	plan_listing(x, req, dfd, pr->len, res);
}

/*
 * Decodes the request path into x->path and opens it beneath the root.
 * Returns 0 with *pr and *fdp (the caller owns the fd), or a status.
 */
static int
resolve(const struct serve_ctx *x, const struct http_request *req,
    struct path_result *pr, int *fdp)
{
	const struct config *cfg = x->cfg;
	int code;

	code = path_normalize(req->path, cfg->allow_hidden, x->path,
	    x->path_cap, pr);
	if (code == 0)
		code = path_open(&cfg->tree, x->path, fdp);
	/* Names are stored in NFC; macOS sends them decomposed. */
	if (code == 404 && nfc_in_place(x->path, x->path_cap)) {
		pr->len = strlen(x->path);
		code = path_open(&cfg->tree, x->path, fdp);
	}
	return code;
}

/* OPTIONS (RFC 9110 §9.3.7): what the server, or a resource, allows. */
static void
plan_options(const struct serve_ctx *x, const struct http_request *req,
    struct response *res)
{
	struct path_result pr;
	int fd, code;
	bool writes = false, dav = x->cfg->webdav_enable;

	if (req->path.len != 1 || req->path.p[0] != '*') {
		if ((code = resolve(x, req, &pr, &fd)) != 0) {
			plan_fail(x, res, code);
			return;
		}
		close(fd);
		writes = upload_writable(x->cfg, x->path);
	}
	/*
	 * §15.3.5: a 204 has no Content-Length.  Windows' WebDAV client
	 * wants a 200 (with a length, then) before it mounts.
	 */
	begin(res, dav ? 200 : 204);
	hb_str(&res->hb, "Allow: " ALLOW_METHODS);
	if (dav)
		hb_str(&res->hb, DAV_ALLOW);
	if (writes)
		hb_str(&res->hb, ", PUT, POST, DELETE, PATCH\r\n"
		    UPLOAD_TUS_OPTIONS);
	else
		hb_str(&res->hb, "\r\n");
	if (dav)
		hb_str(&res->hb, DAV_OPTIONS "Content-Length: 0\r\n");
	finish_headers(res);
}

/*
 * The cache key of x->path into x->scratch, its length in *klen: the
 * path, with a '/' when a folder's index is asked.  False when it does
 * not fit.
 */
static bool
cache_key(const struct serve_ctx *x, const struct path_result *pr,
    size_t *klen)
{
	*klen = pr->len + (pr->trailing_slash ? 1 : 0);
	if (*klen + 1 > x->scratch_cap)
		return false;
	memcpy(x->scratch, x->path, pr->len);
	x->scratch[pr->len] = '/';
	x->scratch[*klen] = '\0';
	return true;
}

/* Answers from the cache when it knows x->scratch[0..klen); else false. */
static bool
plan_cached(const struct serve_ctx *x, const struct http_request *req,
    size_t klen, struct response *res)
{
	const struct config *cfg = x->cfg;
	struct fentry *e;

	if (cfg->fcache == NULL || (e = fcache_get(cfg->fcache, x->scratch,
	    klen, x->now_ms)) == NULL)
		return false;
	if (e->status != 0) {
		fentry_unref(e);
		plan_fail(x, res, 404);
	} else {
		plan_file(x, req, e, res);
	}
	return true;
}

/*
 * Opens x->path after fcache_begin() for it into *fill (the caller ends
 * it): the folders on the way are watched before the name is opened.  A
 * name that is not there as sent is looked for in NFC (x->path and
 * pr->len then hold that form).  0 or a status.
 */
static int
open_watched(const struct serve_ctx *x, struct path_result *pr,
    struct fcache_fill *fill, int *fdp)
{
	const struct config *cfg = x->cfg;
	int code;

	fcache_begin(cfg->fcache, x->path, cfg->precompressed, fill);
	code = path_open(&cfg->tree, x->path, fdp);
	if (code == 404 && nfc_in_place(x->path, x->path_cap)) {
		pr->len = strlen(x->path);
		fcache_end(cfg->fcache, fill);
		fcache_begin(cfg->fcache, x->path, cfg->precompressed, fill);
		code = path_open(&cfg->tree, x->path, fdp);
	}
	return code;
}

/*
 * Opens x->path, which the cache does not know, and answers: a file (kept
 * in the cache), a folder, or an error (404s kept in the cache too).
 */
static void
plan_opened(const struct serve_ctx *x, const struct http_request *req,
    struct path_result *pr, size_t klen, struct response *res)
{
	const struct config *cfg = x->cfg;
	struct fcache_fill fill;
	struct fentry *e = NULL;
	struct stat st;
	int fd, code;

	code = open_watched(x, pr, &fill, &fd);
	if (code == 404 && cfg->fcache != NULL &&
	    (e = fentry_build_missing(x->scratch, klen, x->path,
	    x->now_ms)) != NULL) {
		fcache_put(cfg->fcache, e, &fill);
		fentry_unref(e);
		e = NULL;
	}
	if (code == 0 && fstat(fd, &st) != 0) {
		close(fd);
		code = 500;
	}
	/* FIFOs, sockets and devices are not shared; "file/" is no folder. */
	if (code == 0 && !S_ISDIR(st.st_mode)) {
		code = !S_ISREG(st.st_mode) ? 403 : pr->trailing_slash ? 404 : 0;
		if (code != 0)
			close(fd);
		else
			e = entry_for(x, x->scratch, klen, fd, &st, &fill, &code);
	}
	fcache_end(cfg->fcache, &fill);
	if (code != 0)
		plan_fail(x, res, code);
	else if (S_ISDIR(st.st_mode))
		plan_directory(x, req, fd, pr, x->scratch, klen, res);
	else if (e == NULL)
		http_serve_status(res, code, NULL);
	else
		plan_file(x, req, e, res);
}

/*
 * A GET or HEAD of a path: from the cache when it knows the answer,
 * otherwise resolved, opened and (for files and missing names) cached.
 */
static void
plan_get(const struct serve_ctx *x, const struct http_request *req,
    struct response *res)
{
	struct path_result pr;
	size_t klen;
	int code;

	code = path_normalize(req->path, x->cfg->allow_hidden, x->path,
	    x->path_cap, &pr);
	if (code != 0) {
		plan_fail(x, res, code);
		return;
	}
	if (!cache_key(x, &pr, &klen)) {
		http_serve_status(res, 414, NULL);
		return;
	}
	/* A folder's tools, or its page for who may not read it: no index. */
	if (((pr.trailing_slash || pr.is_root) && (folder_tool_asked(req) ||
	    !serve_may(x, x->path, ACCESS_READ))) ||
	    !plan_cached(x, req, klen, res))
		plan_opened(x, req, &pr, klen, res);
}

void
http_serve(const struct serve_ctx *x, const struct http_request *req,
    struct response *res)
{
	res->status = 0;
	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	res->gen.next = NULL;
	res->nsegs = 0;
	res->head = req->method == HTTP_M_HEAD;
	res->http10 = req->version_minor == 0;
	if (x->draining)
		res->keep_alive = false;

	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		plan_get(x, req, res);
		return;
	case HTTP_M_OPTIONS:
		plan_options(x, req, res);
		return;
	case HTTP_M_UNKNOWN:
		http_serve_status(res, 501, NULL);
		return;
	default:
		http_serve_status(res, 405, "Allow: " ALLOW_METHODS "\r\n");
		return;
	}
}
