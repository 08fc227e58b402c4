/*
 * send.c - sending a response's segments; see send.h.
 */
#include "send.h"

#include <errno.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

/*
 * Gathers the memory segments from segs[cur] (skipping done bytes of it)
 * into one sendmsg().  Returns what sendmsg() returned.
 */
static ssize_t
send_mem_run(int sock, const struct out_seg *segs, size_t n, size_t cur,
    uint64_t done)
{
	struct iovec iov[8];
	struct msghdr mh;
	size_t k = 0, i;

	for (i = cur; i < n && segs[i].mem != NULL && k < 8; i++) {
		uint64_t skip = i == cur ? done : 0;

		iov[k].iov_base = (void *)(uintptr_t)(segs[i].mem + skip);
		iov[k].iov_len = (size_t)(segs[i].len - skip);
		k++;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = k;
	return sendmsg(sock, &mh, MSG_NOSIGNAL | (i < n ? MSG_MORE : 0));
}

/* Moves the position (*cur, *done) on by sent bytes, across segments. */
static void
advance(const struct out_seg *segs, size_t *cur, uint64_t *done,
    uint64_t sent)
{
	while (sent > 0) {
		uint64_t rem = segs[*cur].len - *done;

		if (sent < rem) {
			*done += sent;
			return;
		}
		sent -= rem;
		(*cur)++;
		*done = 0;
	}
}

/* One sendfile() of the file range s from done, at most budget bytes. */
static ssize_t
send_file_part(int sock, int file_fd, const struct out_seg *s, uint64_t done,
    uint64_t budget)
{
	off_t off = s->off + (off_t)done;
	uint64_t want = s->len - done;

	if (want > budget)
		want = budget;
	if (want > (1u << 30))
		want = 1u << 30;
	return sendfile(sock, file_fd, &off, (size_t)want);
}

enum send_rc
send_segs(int sock, int file_fd, const struct out_seg *segs, size_t n,
    size_t *cur, uint64_t *done, uint64_t *sent, uint64_t budget)
{
	uint64_t start = *sent;

	while (*cur < n) {
		const struct out_seg *s = &segs[*cur];
		ssize_t r;

		if (*sent - start >= budget)
			return SEND_YIELD;
		if (s->len == *done) {
			(*cur)++;
			*done = 0;
			continue;
		}
		r = s->mem != NULL ? send_mem_run(sock, segs, n, *cur, *done) :
		    send_file_part(sock, file_fd, s, *done,
		    budget - (*sent - start));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? SEND_AGAIN : SEND_ERROR;
		if (r == 0 && s->mem == NULL)
			return SEND_SHORT;	/* the file shrank */
		*sent += (uint64_t)r;
		advance(segs, cur, done, (uint64_t)r);
	}
	return SEND_DONE;
}

enum send_rc
send_parked(int sock, struct conn_resp *r, uint64_t budget)
{
	struct conn_out *o = &r->out;
	size_t cur = o->cur;
	uint64_t done = o->done;
	enum send_rc rc;

	rc = send_segs(sock, r->file_fd, o->segs, o->nsegs, &cur, &done,
	    &r->sent, budget);
	o->cur = (uint8_t)cur;
	o->done = done;
	return rc;
}
