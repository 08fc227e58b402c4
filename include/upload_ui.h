/*
 * upload_ui.h - the upload controls of a writable folder's listing page.
 *
 * Without JavaScript the block is two plain forms that POST
 * multipart/form-data to the folder itself: files (name="file") and a
 * pasted text (name="text").  With JavaScript one inline script adds
 * drag and drop of files and whole folders, a row per upload with its
 * progress and a cancel button (three at a time), and rename, delete and
 * "new folder" actions that each send one request (?rename=, DELETE,
 * ?mkdir=) relative to the folder's URL.  The script takes every name
 * from the links the server encoded and shows text only through
 * textContent; its words come from a JSON block in the page's language.
 * Pure: no I/O, nothing shared.
 */
#ifndef LANHTTPD_UPLOAD_UI_H
#define LANHTTPD_UPLOAD_UI_H

#include "http_response.h"
#include "negotiate.h"

/*
 * The Content-Security-Policy a page with the upload block needs in place
 * of the listing's plain one: the listing's rules, plus the one inline
 * script by its hash (the JSON block of words is data, not script) and
 * XMLHttpRequest to the server itself.  The forms need nothing more:
 * form-action does not fall back to default-src.  check_upload_ui
 * recomputes the hash, so a change to the script that forgets it fails.
 */
#define UPLOAD_UI_SCRIPT_HASH \
	"'sha256-JBAY4lsKckILhEWFkRFGIM0BUc2UVfvwsgvviqlLeFI='"
#define UPLOAD_UI_CSP	"default-src 'none'; style-src 'unsafe-inline'; " \
	"img-src 'self' data:; script-src " UPLOAD_UI_SCRIPT_HASH "; " \
	"connect-src 'self'"

/* Appends the rules of the block to the page's style sheet. */
void	upload_ui_style(struct hbuf *out);

/*
 * Appends the upload block in lang: the forms, the list the script fills
 * with uploads, its words and the script.  The forms post to "./", the
 * folder of the page, whatever the page's query.
 */
void	upload_ui_html(struct hbuf *out, enum ui_lang lang);

#endif /* LANHTTPD_UPLOAD_UI_H */
