/*
 * upload_form.c - uploads from a browser's form: POST multipart/form-data
 * to a folder (RFC 7578).  The body streams through the multipart parser
 * into one unnamed file per part; each file gets its name when its part
 * ends, the first free one ("image (1).jpg") when a file has it, since a
 * phone names every photo the same and a browser upload must never
 * replace a file silently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "multipart.h"
#include "path.h"
#include "upload_impl.h"
#include "upname.h"

/* ---- form uploads (multipart/form-data) ---- */

/*
 * The file name of a part, cleaned into u->name.  Browsers write a '"'
 * in filename="..." as %22 (the HTML standard's form encoding), which is
 * turned back; 0 or the failure.
 */
static int
part_file_name(struct upload *u, const struct mp_part *part)
{
	char raw[MP_MAX_NAME + 1];
	const char *why;
	size_t o = 0;

	if (part->filename_too_long)
		return up_failed(u, 400, "name longer than 255 bytes");
	for (size_t i = 0; i < part->filename_len; i++) {
		if (part->filename_len - i >= 3 &&
		    memcmp(part->filename + i, "%22", 3) == 0) {
			raw[o++] = '"';
			i += 2;
		} else {
			raw[o++] = part->filename[i];
		}
	}
	if (up_clean_name(u->allow_hidden, raw, o, u->name, &why) < 0)
		return up_failed(u, 400, why);
	return 0;
}

static int
part_begin(void *arg, const struct mp_part *part)
{
	struct upload *u = arg;
	char stamp[64];
	struct tm tm;
	time_t now;

	u->part = PART_SKIP;
	if (part->has_filename) {
		if (part->filename_len == 0)
			return 0;	/* a file input left empty */
		if (part_file_name(u, part) != 0)
			return u->status;
	} else if (part->name_len == 5 && memcmp(part->name, "mtime", 5) == 0) {
		u->part = PART_MTIME;
		u->field_len = 0;
		return 0;
	} else if (part->name_len == 4 && memcmp(part->name, "text", 4) == 0) {
		/* The page's "paste text" box: a note, named by its time. */
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "note %Y-%m-%d %H.%M.%S.txt", &tm);
		memcpy(u->name, stamp, strlen(stamp) + 1);
	} else {
		return 0;
	}
	u->part = PART_FILE;
	u->file_len = u->flushed = 0;
	if ((u->fd = up_open_hidden(u)) < 0)
		return up_fail_errno(u, errno, "cannot create a file");
	return 0;
}

static int
part_data(void *arg, const char *p, size_t n)
{
	struct upload *u = arg;

	if (u->part == PART_FILE)
		return up_write(u, p, n);
	if (u->part == PART_MTIME) {
		if (u->field_len + n > sizeof(u->field))
			return up_failed(u, 400, "malformed mtime field");
		memcpy(u->field + u->field_len, p, n);
		u->field_len += n;
	}
	return 0;
}

/* Links the finished part under its name, or the first free "name (N)". */
int
up_link_free_name(struct upload *u)
{
	char cand[NAME_MAX + 1];
	size_t len = strlen(u->name);

	if (up_link_new(u, u->name) == 0)
		return 0;
	for (unsigned n = 1; errno == EEXIST && n <= FREE_NAME_TRIES; n++) {
		upname_numbered(u->name, len, n, cand);
		if (up_link_new(u, cand) == 0) {
			memcpy(u->name, cand, strlen(cand) + 1);
			return 0;
		}
	}
	if (errno == EEXIST)
		return up_failed(u, 409, "no free name left for the file");
	return up_fail_errno(u, errno, "link");
}

static int
part_end(void *arg)
{
	struct upload *u = arg;
	int code;

	if (u->part == PART_MTIME) {
		u->has_mtime = up_parse_time(span_make(u->field, u->field_len),
		    true, &u->mtime);
		return 0;
	}
	if (u->part != PART_FILE)
		return 0;
	if ((code = up_seal(u)) != 0 || (code = up_link_free_name(u)) != 0)
		return code;
	up_drop_file(u);
	up_sync_dir(u);
	u->nstored++;
	if (u->stored.len < STORED_MAX) {
		hb_str(&u->stored, u->name);
		hb_str(&u->stored, "\n");
	}
	log_info("upload: stored '%s' (%llu bytes)", u->name,
	    (unsigned long long)u->file_len);
	u->part = PART_SKIP;
	return 0;
}

static const struct multipart_cb form_cb = {
	.part_begin = part_begin,
	.part_data = part_data,
	.part_end = part_end,
};

/* True when the request comes from a browser page: answer it with 303. */
bool
up_wants_html(const struct http_request *req)
{
	struct span a = req->hdr[HDR_ACCEPT];

	for (size_t i = 0; i + 9 <= a.len; i++)
		if (strncasecmp(a.p + i, "text/html", 9) == 0)
			return true;
	return false;
}

/*
 * The URL of the folder rel (normalised) for Location: built from what
 * the daemon decoded, not from the request's text, so it is always one
 * path on this host ("//host/" would send a browser elsewhere).
 */
static char *
folder_url(const char *rel)
{
	size_t len = strlen(rel), cap = 3 * len + 3;
	char *url = malloc(cap);

	if (url == NULL)
		return NULL;
	url[0] = '/';
	len = path_encode(rel, len, url + 1, cap - 1);
	if (len > 0 && len + 2 < cap) {
		url[len + 1] = '/';
		url[len + 2] = '\0';
	}
	return url;
}

/* POST multipart/form-data to the folder dfd. */
enum up_plan
up_plan_form(const struct serve_ctx *x, const struct http_request *req, int dfd,
    struct response *res, struct upload **up)
{
	char boundary[MP_MAX_BOUNDARY + 1];
	struct span ct = http_header_value(req, "Content-Type");
	const char *why = NULL;
	struct upload *u;
	int blen = multipart_boundary(ct.p, ct.len, boundary), code;

	if (blen <= 0) {
		close(dfd);
		up_refuse(res, blen == 0 ? 415 : 400, blen == 0 ?
		    "a form upload is multipart/form-data" :
		    "the form has no valid boundary", NULL);
		return UP_ANSWERED;
	}
	if ((u = up_new(UP_KIND_FORM, dfd, x->cfg, req)) == NULL ||
	    (u->mp = malloc(sizeof(*u->mp))) == NULL ||
	    (u->location = folder_url(x->path)) == NULL) {
		if (u == NULL)
			close(dfd);
		upload_free(u);
		up_refuse(res, 503, "out of memory", "Retry-After: 2\r\n");
		return UP_ANSWERED;
	}
	up_attach_work(u, x->cfg, x->path);	/* x->path: the folder */
	/* max_size is per file; the whole form may hold many. */
	if ((code = up_room(x->cfg, dfd, u->length, false, &why)) != 0) {
		up_refuse(res, code, why, code == 503 ? "Retry-After: 2\r\n" :
		    NULL);
		upload_free(u);
		return UP_ANSWERED;
	}
	multipart_init(u->mp, boundary, (size_t)blen, FORM_MAX_PARTS);
	hb_init_heap(&u->stored);
	u->html = up_wants_html(req);
	up_count(u);
	*up = u;
	return UP_BODY;
}


/* The answer to a complete form: 303 back to the folder for a browser. */
int
up_form_finish(struct upload *u, struct response *res)
{
	char loc[PATH_MAX + 16];

	if (multipart_finish(u->mp) != 0)
		return up_failed(u, 400, u->mp->why);
	if (u->html) {
		snprintf(loc, sizeof(loc), "Location: %s\r\n", u->location);
		up_answer(res, 303, loc, "", 0);
		return 303;
	}
	if (u->nstored == 0) {
		up_answer(res, 204, NULL, "", 0);
		return 204;
	}
	up_answer(res, 201, NULL, u->stored.p, u->stored.len);
	return 201;
}

int
up_form_feed(struct upload *u, const char *p, size_t n)
{
	if (multipart_feed(u->mp, p, n, &form_cb, u) == MP_ERROR)
		return up_failed(u, u->mp->status, u->mp->why);
	return 0;
}
