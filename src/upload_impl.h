/*
 * upload_impl.h - what the parts of the upload code share: the state of
 * one upload and the helpers every kind uses.  Private to upload.c,
 * upload_form.c, tus.c and the WebDAV code (dav.c), which writes by the
 * same rules; the rest of the daemon sees upload.h only.
 */
#ifndef LANHTTPD_UPLOAD_IMPL_H
#define LANHTTPD_UPLOAD_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "file.h"
#include "http_response.h"
#include "upload.h"

struct chunked;
struct multipart;

/* Each [upload] path's work folder, and its temporary names. */
#define UP_WORK_DIR		".lanhttpd-upload"
#define UP_TMP_PREFIX		"tmp-"

/* A form with more parts than this is refused (413). */
#define FORM_MAX_PARTS		1000
/* A browser upload whose name is taken tries "name (1)" up to this. */
#define FREE_NAME_TRIES		1000
/* The names a form upload reports back, at most (bytes). */
#define STORED_MAX		(16 * 1024)

enum up_kind {
	UP_KIND_PUT,
	UP_KIND_FORM,
	UP_KIND_TUS,	/* a tus PATCH (or creation with data): tus.c */
	UP_KIND_DAV,	/* a WebDAV request's XML body, into stored: dav.c */
};

struct dav_op;

/* What the current part of a form is. */
enum part_kind {
	PART_SKIP,	/* a field we do not use */
	PART_FILE,	/* a file, or pasted text: written to a new file */
	PART_MTIME,	/* the modification time of the files after it */
};

struct upload {
	enum up_kind	 kind;
	int		 status;	/* once failed: the answer */
	const char	*why;		/* and its reason */
	int		 dirfd;		/* the target folder */
	int		 fd;		/* the file being written, or -1 */
	int		 workfd;	/* the work folder of its path, or -1 */
	int		 hidefd;	/* where hidden names go: workfd or dirfd */
	char		*part_name;	/* its hidden name in hidefd, or NULL */
	bool		 keep_part;	/* a failure keeps it (tus) */
	char		 name[NAME_MAX + 1];	/* its final name (NFC) */
	bool		 exists;	/* PUT: the name was taken at the start */
	bool		 overwrite;	/* PUT may replace it */
	bool		 if_none_match;	/* PUT: only if the name is free */
	bool		 if_match;	/* and only this version of it: */
	char		 etag[FILE_ETAG_MAX];
	size_t		 etag_len;
	bool		 etag_inode;
	bool		 expect;	/* the client waits for 100 */
	bool		 oc_mtime;	/* X-OC-Mtime was honoured */
	bool		 has_mtime;
	struct timespec	 mtime;
	uint64_t	 length;	/* Content-Length, or UINT64_MAX */
	uint64_t	 max_size;	/* of one file; UINT64_MAX: none */
	uint64_t	 received;	/* body bytes from the socket */
	uint64_t	 file_len;	/* bytes in the current file */
	uint64_t	 flushed;	/* of them, sent to the disk early */
	bool		 complete;	/* the body was read to its end */
	bool		 committed;	/* upload_commit() ran: done_status */
	int		 done_status;	/* its answer when it succeeded */
	bool		 counted;	/* in upload_active() */
	struct chunked	*ck;		/* a chunked body's decoder */
	/* A form upload. */
	struct multipart *mp;
	enum part_kind	 part;
	char		 field[32];	/* a PART_MTIME value */
	size_t		 field_len;
	struct hbuf	 stored;	/* the names stored, one per line */
	unsigned	 nstored;
	bool		 html;		/* answer a browser with 303 */
	bool		 allow_hidden;	/* hidden names may be written */
	bool		 fsync;		/* files and folders are synced */
	char		*location;	/* the folder's URL, for 303 */
	bool		 http10;	/* the request was HTTP/1.0 */
	/* A tus upload (tus.c). */
	char		 tus_id[33];
	uint64_t	 tus_length;	/* Upload-Length */
	bool		 tus_created;	/* this request created it: 201 */
	/* A WebDAV request (UP_KIND_DAV): its body collects in stored. */
	struct dav_op	*dav;
	/* The access log's view of the request: three strings in one. */
	char		*log;
	size_t		 log_len[3];
};

/* A short plain-text answer: status, extra header lines, the body. */
void	up_answer(struct response *res, int status, const char *extra,
	    const char *body, size_t len);
/* An error answer whose body is its reason ("409 Conflict: ..."), logged. */
void	up_refuse(struct response *res, int status, const char *why,
	    const char *extra);
/* Fails u with status and why (the first failure wins); returns status. */
int	up_failed(struct upload *u, int status, const char *why);
/* A failed write: 507 for a full disk, else 500 (logged with what). */
int	up_fail_errno(struct upload *u, int e, const char *what);
/* Writes p[0..n) at the end of u's file, within u->max_size (413). */
int	up_write(struct upload *u, const char *p, size_t n);
/*
 * Seconds since the epoch with an optional fraction, or milliseconds
 * when ms: false when malformed.
 */
bool	up_parse_time(struct span v, bool ms, struct timespec *ts);
/* A new upload of kind into the folder dfd (taken on success). */
struct upload	*up_new(enum up_kind kind, int dfd, const struct config *cfg,
		    const struct http_request *req);
/*
 * Whether a body of length bytes (UINT64_MAX: unknown) may come: 413
 * past max_size (when one_file), 507 without room, 503 when busy.
 */
int	up_room(const struct config *cfg, int dfd, uint64_t length,
	    bool one_file, const char **why);
/* The file is complete: its time, then fsync.  0 or the failure. */
int	up_seal(struct upload *u);
/* fsync of u's folder after a name changed in it. */
void	up_sync_dir(struct upload *u);
/* Closes the file being written; an unnamed one disappears. */
void	up_drop_file(struct upload *u);
/* Names the finished file name in its folder; -1 (EEXIST) when taken. */
int	up_link_new(struct upload *u, const char *name);
/* Names it name, or the first free "name (N)" (409 when none is). */
int	up_link_free_name(struct upload *u);
/* A new file for u that nobody can see (O_TMPFILE, or a hidden name). */
int	up_open_hidden(struct upload *u);
/* The work folder of the [upload] path holding rel (made); -1 if none. */
int	up_work_dir(const struct config *cfg, const char *rel);
/* True when the open folders a and b lie on one file system. */
bool	up_same_disk(int a, int b);
/* Sets u->workfd and u->hidefd for the folder rel (see upload.c). */
void	up_attach_work(struct upload *u, const struct config *cfg,
	    const char *rel);
/* True when the path rel lies in one of the [upload] paths. */
bool	up_writable(const struct config *cfg, const char *rel);
/*
 * A client's name, cleaned (upname_clean()) and allowed to be written:
 * not hidden unless allow_hidden, never the work folder's.  0 or -1, *why.
 */
int	up_clean_name(bool allow_hidden, const char *in, size_t len,
	    char out[NAME_MAX + 1], const char **why);
/* Opens the folder rel beneath the root: 0, or 409 / another status. */
int	up_open_dir(const struct config *cfg, const char *rel, int *dfd);
/* The request comes from a browser page: Accept names text/html. */
bool	up_wants_html(const struct http_request *req);
/* Counts u in upload_active(). */
void	up_count(struct upload *u);

/* True when rel is an [upload] path or a folder holding one. */
bool	up_holds_prefix(const struct config *cfg, const char *rel);
/* True when a segment of rel is a work folder. */
bool	up_in_work_dir(const char *rel);
/*
 * Copies the open regular file sfd (its bytes, user.* extended
 * attributes and modification time) into the folder dfd, the path
 * dir_rel, as name: written unnamed and synced, then linked whole; an
 * existing name is replaced when replace, else EEXIST.  0 or an errno.
 */
int	up_copy_file(const struct config *cfg, const char *dir_rel, int sfd,
	    int dfd, const char *name, bool replace);
/* Copies the user.* extended attributes of sfd to tfd: 0 or an errno. */
int	up_copy_xattrs(int sfd, int tfd);
/* A DAV request with a body: collects it for dav_finish() (op taken). */
struct upload	*up_new_dav(const struct config *cfg,
		    const struct http_request *req, struct dav_op *op);

/* upload_form.c: POST multipart/form-data to the folder dfd (taken). */
enum up_plan	up_plan_form(const struct serve_ctx *x,
		    const struct http_request *req, int dfd,
		    struct response *res, struct upload **up);
/* Decoded body bytes of a form. */
int	up_form_feed(struct upload *u, const char *p, size_t n);
/* The body of a form is in: the answer (201, 204 or 303), or a failure. */
int	up_form_finish(struct upload *u, struct response *res);

/* tus.c: the request speaks tus (it has Tus-Resumable). */
bool	up_is_tus(const struct http_request *req);
/* A tus request on the folder dfd (taken); x->path is the folder. */
enum up_plan	up_plan_tus(const struct serve_ctx *x,
		    const struct http_request *req, int dfd,
		    struct response *res, struct upload **up);
/* The end of a tus PATCH (or creation): 201, 204 or a failure. */
int	up_tus_finish(struct upload *u, const struct config *cfg,
	    struct response *res);

#endif /* LANHTTPD_UPLOAD_IMPL_H */
