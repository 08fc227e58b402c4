/*
 * send.h - sending a response's segments on a non-blocking socket, and
 * picking up where the last call stopped.
 *
 * Memory segments are gathered into one sendmsg() (with MSG_MORE while a
 * file range follows, so headers and body leave in as few packets as
 * possible); file ranges go out with sendfile() from an explicit offset,
 * which never moves a file position shared with other responses.  Used
 * by the HTTP state machine (worker.c) and the lab's transfer
 * (lab_serve.c).  No state of its own; thread-safe.
 */
#ifndef LANHTTPD_SEND_H
#define LANHTTPD_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

enum send_rc {
	SEND_DONE,
	SEND_AGAIN,	/* the socket is full */
	SEND_YIELD,	/* the byte budget is spent */
	SEND_ERROR,
	SEND_SHORT,	/* the file shrank under sendfile(): cut */
};

/*
 * Sends segs[*cur..n) from where *done says, advancing *cur, *done and
 * *sent, until done, the socket is full, or budget bytes went out.
 * file_fd is the file the file ranges are read from.
 */
enum send_rc	send_segs(int sock, int file_fd, const struct out_seg *segs,
		    size_t n, size_t *cur, uint64_t *done, uint64_t *sent,
		    uint64_t budget);

/* Sends what r has parked, from where it stopped last time, on sock. */
enum send_rc	send_parked(int sock, struct conn_resp *r, uint64_t budget);

#endif /* LANHTTPD_SEND_H */
