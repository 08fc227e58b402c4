/*
 * http_serve.c - request to response decisions; see http_serve.h.
 */
#include "http_serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "mime.h"
#include "path.h"

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
	hb_str(&res->hb, "\r\n");
	res->hdr_len = res->hb.len;
	res->segs[0] = (struct out_seg){ .mem = res->hb.p, .len = res->hb.len };
	res->nsegs = 1;
}

static void
plan_error(struct response *res, int status, const char *extra)
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
http_serve_error(int status, bool head, struct response *res)
{
	res->keep_alive = false;
	res->head = head;
	res->file_fd = -1;
	plan_error(res, status, NULL);
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
		plan_error(res, 414, NULL);
		return;
	}
	res->status = 301;
	http_begin(&res->hb, 301);
	hb_str(&res->hb, "Location: /");
	hb_add(&res->hb, x->scratch, n);
	hb_add(&res->hb, "/", 1);
	if (req->has_query) {
		hb_add(&res->hb, "?", 1);
		hb_add(&res->hb, req->query.p, req->query.len);
	}
	hb_str(&res->hb, "\r\nContent-Length: 0\r\n");
	add_connection(res);
	finish_headers(res);
}

/*
 * 200 for an open regular file: headers, then the body inline (small
 * files) or as a file segment.  Takes ownership of fd.
 */
static void
plan_file(const struct serve_ctx *x, int fd, const struct stat *st,
    const char *name, struct response *res)
{
	struct file_info fi;
	size_t body_at;

	file_info_from_stat(st, true, &fi);
	res->status = 200;
	http_begin(&res->hb, 200);
	hb_str(&res->hb, "Content-Type: ");
	hb_str(&res->hb, mime_lookup(x->cfg->mime, name, strlen(name)));
	hb_str(&res->hb, "\r\nContent-Length: ");
	hb_u64(&res->hb, fi.size);
	hb_str(&res->hb, "\r\nLast-Modified: ");
	hb_add(&res->hb, fi.last_modified, HTTP_DATE_LEN);
	hb_str(&res->hb, "\r\nETag: ");
	hb_add(&res->hb, fi.etag, fi.etag_len);
	hb_str(&res->hb, "\r\n");
	add_connection(res);
	finish_headers(res);
	if (res->hb.overflow) {
		close(fd);
		plan_error(res, 500, NULL);
		return;
	}

	if (res->head || fi.size == 0) {
		close(fd);
		return;
	}
	body_at = res->hb.len;
	if (fi.size <= SERVE_INLINE_MAX && res->hb.cap - body_at >= fi.size) {
		/* One send for headers and body; saves the sendfile call. */
		ssize_t n = pread(fd, res->hb.p + body_at, (size_t)fi.size, 0);

		if (n == (ssize_t)fi.size) {
			close(fd);
			res->hb.len += (size_t)n;
			res->segs[0].len = res->hb.len;
			return;
		}
		/* The file changed under us; let sendfile find out how. */
	}
	res->segs[1] = (struct out_seg){ .mem = NULL, .off = 0, .len = fi.size };
	res->nsegs = 2;
	res->file_fd = fd;
}

/* A directory: index file, or refuse (listings come later). */
static void
plan_directory(const struct serve_ctx *x, const struct http_request *req,
    int dfd, const struct path_result *pr, struct response *res)
{
	const struct config *cfg = x->cfg;
	size_t plen = pr->len;
	struct stat st;
	int fd, st_code;

	if (!pr->trailing_slash && !pr->is_root) {
		close(dfd);
		plan_redirect(x, req, x->path, res);
		return;
	}
	close(dfd);
	if (cfg->index == NULL || cfg->index[0] == '\0') {
		plan_error(res, 403, NULL);
		return;
	}
	/* rel + "/" + index, within the scratch path buffer. */
	if (plen + 1 + strlen(cfg->index) + 1 > x->path_cap) {
		plan_error(res, 414, NULL);
		return;
	}
	if (plen > 0)
		x->path[plen++] = '/';
	strcpy(x->path + plen, cfg->index);
	st_code = path_open(cfg->root_fd, cfg->root_real, x->path,
	    cfg->symlinks, &fd);
	if (st_code == 404) {
		plan_error(res, 403, NULL);
		return;
	}
	if (st_code != 0) {
		plan_error(res, st_code, NULL);
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		plan_error(res, 403, NULL);
		return;
	}
	plan_file(x, fd, &st, cfg->index, res);
}

void
http_serve(const struct serve_ctx *x, const struct http_request *req,
    struct response *res)
{
	const struct config *cfg = x->cfg;
	struct path_result pr;
	struct stat st;
	int fd, st_code;

	res->status = 0;
	res->file_fd = -1;
	res->nsegs = 0;
	res->head = req->method == HTTP_M_HEAD;
	res->http10 = req->version_minor == 0;
	if (x->draining)
		res->keep_alive = false;

	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		break;
	case HTTP_M_UNKNOWN:
		plan_error(res, 501, NULL);
		return;
	default:
		plan_error(res, 405, "Allow: GET, HEAD\r\n");
		return;
	}

	st_code = path_normalize(req->path, cfg->allow_hidden, x->path,
	    x->path_cap, &pr);
	if (st_code != 0) {
		plan_error(res, st_code, NULL);
		return;
	}
	st_code = path_open(cfg->root_fd, cfg->root_real, x->path,
	    cfg->symlinks, &fd);
	if (st_code != 0) {
		plan_error(res, st_code, NULL);
		return;
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		plan_error(res, 500, NULL);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		plan_directory(x, req, fd, &pr, res);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		/* FIFOs, sockets and devices are not shared. */
		close(fd);
		plan_error(res, 403, NULL);
		return;
	}
	if (pr.trailing_slash) {
		/* "file/" names a directory that does not exist. */
		close(fd);
		plan_error(res, 404, NULL);
		return;
	}
	plan_file(x, fd, &st, x->path, res);
}
