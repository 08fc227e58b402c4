/*
 * archive.c - a folder as one stored ZIP or pax tar; see archive.h.
 *
 * The plan is an array of entries in archive order (depth-first, names
 * sorted byte-wise within each folder, so a folder always gives the same
 * layout) with each entry's offset, and for ZIP its central header's
 * offset.  The archive is then a sequence of regions: per entry a header
 * (memory), the file's bytes (a file range) and a tail (memory: ZIP's
 * data descriptor, tar's padding); for ZIP the central headers; last the
 * end records.  A cursor finds the region a byte lies in and renders
 * memory regions whole into its buffer, pointing segments at the slice
 * it needs, so a header cut by a range is still exact.  One call hands
 * out the file ranges of one file at most (there is one *fd), so a call
 * ends where the next file's data begins.
 *
 * Paths are kept from the archived folder; on disk each file is reopened
 * by its path from the root with path_open(), the same rules and the same
 * kernel check a plain GET of it meets, and it must still be the file the
 * plan saw (device, inode, size, modification time) or the cursor fails.
 * The plan keeps its own copies of the tree's descriptor and strings, so
 * it does not depend on the configuration it was made under.
 *
 * ZIP dates: the DOS date and time fields are in UTC (a server has no
 * idea of the client's zone); the extended timestamp field (0x5455)
 * carries the exact Unix time, which unzip, 7-Zip and libarchive prefer.
 * Every entry, folders too, has bit 3 and a data descriptor.
 *
 * CRC-32: a process-wide table remembers, by device, inode, size and
 * modification time, the CRC of a file's first len bytes (the whole file
 * once it was read to the end), so a resumed download goes on from where
 * the cut one stopped reading.  The table is direct-mapped: a new key
 * simply takes its slot.
 */
#include "archive.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "crc32.h"
#include "log.h"
#include "path.h"
#include "span.h"

/* Folders nested deeper than this are refused (-ELOOP). */
#define ARC_DEPTH_MAX		64
/* The cursor's memory for headers; holds any one region (see below). */
#define ARC_BUF			(64u << 10)
/* The cursor's scratch for reading files for their CRC. */
#define ARC_RBUF		(64u << 10)
/*
 * File bytes one call reads for CRCs beyond what it sends, when it can
 * (a range that starts inside a file reads the file's beginning this
 * fast; a CRC that blocks the next byte is read whole).
 */
#define ARC_CRC_STEP		(4u << 20)
/*
 * The layout's version, part of every ETag: a change to the bytes made
 * for the same folder must change it, or a resumed download would mix.
 */
#define ARC_FORMAT		1ull
/* Entries of the process-wide CRC table (a power of two). */
#define ARC_CACHE_SLOTS		65536u

/* The largest region: a header or central header of a PATH_MAX name. */
static_assert(ARC_BUF >= 2 * (PATH_MAX + 1024), "ARC_BUF too small");

#define ZIP_LFH_SIG		0x04034b50u
#define ZIP_DD_SIG		0x08074b50u
#define ZIP_CDH_SIG		0x02014b50u
#define ZIP_EOCD_SIG		0x06054b50u
#define ZIP64_EOCD_SIG		0x06064b50u
#define ZIP64_LOC_SIG		0x07064b50u
#define ZIP_FLAGS		0x0808u	/* bit 3: descriptor, bit 11: UTF-8 */
#define ZIP_MADE_BY		(3u << 8 | 63u)	/* Unix, APPNOTE 6.3 */
#define ZIP_UT_LEN		9u	/* extended timestamp: mtime only */
#define ZIP64_LOCAL_LEN		20u	/* ZIP64 extra: both sizes */
#define ZIP64_CENTRAL_LEN	28u	/* ZIP64 extra: sizes and offset */
#define ZIP64_END_LEN		(56u + 20u)	/* EOCD64 and its locator */
#define ZIP_EOCD_LEN		22u
#define ZIP_MAX32		0xffffffffu

#define TAR_BLOCK		512u
#define TAR_SIZE_MAX		077777777777ull	/* 11 octal digits */
#define TAR_PAX_NAME		"././@PaxHeader"

enum arc_part {
	PART_HDR,		/* local header, or pax and ustar headers */
	PART_DATA,		/* the file's bytes */
	PART_TAIL,		/* data descriptor, or padding */
	PART_CD,		/* central directory header (ZIP) */
	PART_END,		/* end records, or tar's two zero blocks */
};

struct arc_entry {
	uint64_t	 off;		/* the entry's first byte */
	uint64_t	 cd_off;	/* its central header (ZIP) */
	uint64_t	 size;		/* 0 for a folder */
	uint64_t	 dev, ino;
	int64_t		 mtime;
	uint32_t	 mtime_ns;
	uint32_t	 hdr_len;	/* bytes before the data */
	size_t		 path_off;	/* into archive.paths, NUL-terminated */
	uint32_t	 path_len;
	uint32_t	 crc;
	bool		 is_dir;
	bool		 crc_known;
};

struct archive {
	enum archive_kind kind;
	bool		 zip64;
	struct arc_entry *ents;
	size_t		 n, cap;
	char		*paths;
	size_t		 paths_len, paths_cap;
	uint64_t	 cd_off;	/* where the entries end */
	uint64_t	 end_off;	/* where the end records begin */
	uint64_t	 size;
	int		 dirfd;		/* the archived folder (a duplicate) */
	struct path_root tree;		/* our copy: own fd and real path */
	char		*rel;		/* the folder, from the root */
	char		 etag[48];
};

struct archive_cursor {
	struct archive	*a;
	uint64_t	 pos;		/* the next byte to hand out */
	uint64_t	 end;		/* the last one */
	enum arc_part	 part;		/* the region pos lies in */
	size_t		 idx;		/* and its entry */
	bool		 failed;
	unsigned char	*buf;		/* ARC_BUF, then ARC_RBUF */
	size_t		 buf_used;	/* in this call */
	int		 fd;		/* the open file, of entry fd_idx */
	size_t		 fd_idx;
	bool		 crc_busy;	/* crc covers [0, crc_pos) of crc_idx */
	size_t		 crc_idx;
	uint32_t	 crc;
	uint64_t	 crc_pos;
	/* This call's progress. */
	bool		 file_sent;	/* a range of fd was handed out */
	uint64_t	 file_bytes;
	uint64_t	 crc_read;
};

/* A region of the archive: [start, start + len). */
struct region {
	uint64_t	 start;
	uint64_t	 len;
	bool		 file;
};

/* ---- the CRC table ---- */

struct crc_slot {
	uint64_t	 dev, ino, size;
	int64_t		 mtime;
	uint32_t	 mtime_ns;
	uint32_t	 crc;		/* of the first len bytes */
	uint64_t	 len;		/* 0: the slot is empty */
};

static pthread_mutex_t crc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct crc_slot crc_table[ARC_CACHE_SLOTS];

static struct crc_slot *
crc_slot_of(const struct arc_entry *e)
{
	uint64_t h = span_mix64(e->ino ^ span_mix64(e->dev ^
	    span_mix64(e->size ^ span_mix64((uint64_t)e->mtime ^
	    e->mtime_ns))));

	return &crc_table[h & (ARC_CACHE_SLOTS - 1)];
}

static bool
crc_slot_is(const struct crc_slot *s, const struct arc_entry *e)
{
	return s->len != 0 && s->dev == e->dev && s->ino == e->ino &&
	    s->size == e->size && s->mtime == e->mtime &&
	    s->mtime_ns == e->mtime_ns;
}

/* What the table knows of e: the CRC of its first *len bytes. */
static bool
crc_lookup(const struct arc_entry *e, uint32_t *crc, uint64_t *len)
{
	struct crc_slot *s = crc_slot_of(e);
	bool hit;

	if (pthread_mutex_lock(&crc_lock) != 0)
		return false;
	if ((hit = crc_slot_is(s, e))) {
		*crc = s->crc;
		*len = s->len;
	}
	pthread_mutex_unlock(&crc_lock);
	return hit;
}

/* Remembers the CRC of e's first len bytes, unless more is known. */
static void
crc_store(const struct arc_entry *e, uint32_t crc, uint64_t len)
{
	struct crc_slot *s = crc_slot_of(e);

	if (len == 0 || pthread_mutex_lock(&crc_lock) != 0)
		return;
	if (!crc_slot_is(s, e) || s->len < len)
		*s = (struct crc_slot){ .dev = e->dev, .ino = e->ino,
		    .size = e->size, .mtime = e->mtime,
		    .mtime_ns = e->mtime_ns, .crc = crc, .len = len };
	pthread_mutex_unlock(&crc_lock);
}

/* ---- little helpers ---- */

static unsigned char *
put16(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	return p + 2;
}

static unsigned char *
put32(unsigned char *p, uint32_t v)
{
	return put16(put16(p, v & 0xffff), v >> 16);
}

static unsigned char *
put64(unsigned char *p, uint64_t v)
{
	return put32(put32(p, (uint32_t)v), (uint32_t)(v >> 32));
}

static unsigned char *
putmem(unsigned char *p, const void *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/* Grows *p (of *cap elements of size sz) to hold need elements. */
static int
grow(void *pp, size_t *cap, size_t need, size_t sz, size_t first)
{
	void **p = pp;
	size_t ncap = *cap == 0 ? first : *cap;
	void *np;

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sz)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap == *cap)
		return 0;
	if ((np = realloc(*p, ncap * sz)) == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static const char *
path_of(const struct archive *a, const struct arc_entry *e)
{
	return a->paths + e->path_off;
}

/* The entry's name in the archive: its path, and '/' for a folder. */
static uint32_t
name_len(const struct arc_entry *e)
{
	return e->path_len + (e->is_dir ? 1 : 0);
}

static unsigned char *
put_name(unsigned char *p, const struct archive *a, const struct arc_entry *e)
{
	p = putmem(p, path_of(a, e), e->path_len);
	if (e->is_dir)
		*p++ = '/';
	return p;
}

static uint64_t
pad512(uint64_t n)
{
	return (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
}

/* ---- ZIP ---- */

static uint32_t
zip_local_len(const struct arc_entry *e, bool z64)
{
	return 30 + name_len(e) + ZIP_UT_LEN + (z64 ? ZIP64_LOCAL_LEN : 0);
}

static uint32_t
zip_central_len(const struct arc_entry *e, bool z64)
{
	return 46 + name_len(e) + ZIP_UT_LEN + (z64 ? ZIP64_CENTRAL_LEN : 0);
}

static uint32_t
zip_desc_len(bool z64)
{
	return z64 ? 24 : 16;
}

/*
 * The DOS time and date of t, in UTC, clamped to what they can hold
 * (1980-01-01 to 2107-12-31).
 */
static void
dos_time(int64_t t, uint32_t *dtime, uint32_t *ddate)
{
	struct tm tm;
	time_t tt = (time_t)t;

	*dtime = 0;
	*ddate = 1 << 5 | 1;
	if (t < 315532800 || gmtime_r(&tt, &tm) == NULL)
		return;
	if (tm.tm_year > 207) {
		*dtime = 23 << 11 | 59 << 5 | 29;
		*ddate = 127 << 9 | 12 << 5 | 31;
		return;
	}
	*dtime = (uint32_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
	*ddate = (uint32_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 |
	    tm.tm_mday);
}

/* The extended timestamp field: flags 1 (mtime), 32-bit Unix time. */
static unsigned char *
put_ut(unsigned char *p, int64_t t)
{
	if (t > INT32_MAX)
		t = INT32_MAX;
	if (t < INT32_MIN)
		t = INT32_MIN;
	p = put16(p, 0x5455);
	p = put16(p, 5);
	*p++ = 1;
	return put32(p, (uint32_t)(int32_t)t);
}

/* Version needed, flags, method, time and date: common to both headers. */
static unsigned char *
put_zip_common(unsigned char *p, const struct archive *a,
    const struct arc_entry *e)
{
	uint32_t dtime, ddate;

	dos_time(e->mtime, &dtime, &ddate);
	p = put16(p, a->zip64 ? 45 : 20);
	p = put16(p, ZIP_FLAGS);
	p = put16(p, 0);
	p = put16(p, dtime);
	return put16(p, ddate);
}

static size_t
zip_local(const struct archive *a, const struct arc_entry *e,
    unsigned char *buf)
{
	unsigned char *p = buf;
	uint32_t size32 = a->zip64 ? ZIP_MAX32 : (uint32_t)e->size;

	p = put32(p, ZIP_LFH_SIG);
	p = put_zip_common(p, a, e);
	p = put32(p, 0);		/* CRC-32: in the descriptor */
	p = put32(p, size32);
	p = put32(p, size32);
	p = put16(p, name_len(e));
	p = put16(p, ZIP_UT_LEN + (a->zip64 ? ZIP64_LOCAL_LEN : 0));
	p = put_name(p, a, e);
	p = put_ut(p, e->mtime);
	if (a->zip64) {
		p = put16(p, 0x0001);
		p = put16(p, 16);
		p = put64(p, e->size);
		p = put64(p, e->size);
	}
	return (size_t)(p - buf);
}

static size_t
zip_desc(const struct archive *a, const struct arc_entry *e,
    unsigned char *buf)
{
	unsigned char *p = buf;

	p = put32(p, ZIP_DD_SIG);
	p = put32(p, e->crc);
	if (a->zip64) {
		p = put64(p, e->size);
		p = put64(p, e->size);
	} else {
		p = put32(p, (uint32_t)e->size);
		p = put32(p, (uint32_t)e->size);
	}
	return (size_t)(p - buf);
}

static size_t
zip_central(const struct archive *a, const struct arc_entry *e,
    unsigned char *buf)
{
	unsigned char *p = buf;
	uint32_t mode = e->is_dir ? 040755 : 0100644;

	p = put32(p, ZIP_CDH_SIG);
	p = put16(p, ZIP_MADE_BY);
	p = put_zip_common(p, a, e);
	p = put32(p, e->crc);
	p = put32(p, a->zip64 ? ZIP_MAX32 : (uint32_t)e->size);
	p = put32(p, a->zip64 ? ZIP_MAX32 : (uint32_t)e->size);
	p = put16(p, name_len(e));
	p = put16(p, ZIP_UT_LEN + (a->zip64 ? ZIP64_CENTRAL_LEN : 0));
	p = put16(p, 0);		/* comment */
	p = put16(p, 0);		/* disk */
	p = put16(p, 0);		/* internal attributes */
	p = put32(p, mode << 16 | (e->is_dir ? 0x10 : 0));
	p = put32(p, a->zip64 ? ZIP_MAX32 : (uint32_t)e->off);
	p = put_name(p, a, e);
	p = put_ut(p, e->mtime);
	if (a->zip64) {
		p = put16(p, 0x0001);
		p = put16(p, 24);
		p = put64(p, e->size);
		p = put64(p, e->size);
		p = put64(p, e->off);
	}
	return (size_t)(p - buf);
}

/* The end records: ZIP64's when needed, then the classic one. */
static size_t
zip_end(const struct archive *a, unsigned char *buf)
{
	uint64_t cd_len = a->end_off - a->cd_off;
	unsigned char *p = buf;
	bool z = a->zip64;

	if (z) {
		p = put32(p, ZIP64_EOCD_SIG);
		p = put64(p, 44);
		p = put16(p, ZIP_MADE_BY);
		p = put16(p, 45);
		p = put32(p, 0);
		p = put32(p, 0);
		p = put64(p, a->n);
		p = put64(p, a->n);
		p = put64(p, cd_len);
		p = put64(p, a->cd_off);
		p = put32(p, ZIP64_LOC_SIG);
		p = put32(p, 0);
		p = put64(p, a->end_off);
		p = put32(p, 1);
	}
	p = put32(p, ZIP_EOCD_SIG);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, z ? 0xffff : (uint32_t)a->n);
	p = put16(p, z ? 0xffff : (uint32_t)a->n);
	p = put32(p, z ? ZIP_MAX32 : (uint32_t)cd_len);
	p = put32(p, z ? ZIP_MAX32 : (uint32_t)a->cd_off);
	p = put16(p, 0);
	return (size_t)(p - buf);
}

/*
 * Lays the ZIP out with or without ZIP64 fields.  False when it needs
 * them but z64 is off.
 */
static bool
zip_layout(struct archive *a, bool z64)
{
	uint64_t off = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct arc_entry *e = &a->ents[i];

		if (!z64 && (off >= ZIP_MAX32 || e->size >= ZIP_MAX32))
			return false;
		e->off = off;
		e->hdr_len = zip_local_len(e, z64);
		off += e->hdr_len + e->size + zip_desc_len(z64);
	}
	a->cd_off = off;
	for (size_t i = 0; i < a->n; i++) {
		a->ents[i].cd_off = off;
		off += zip_central_len(&a->ents[i], z64);
	}
	a->end_off = off;
	if (!z64 && (a->n >= 0xffff || a->cd_off >= ZIP_MAX32 ||
	    off - a->cd_off >= ZIP_MAX32))
		return false;
	a->zip64 = z64;
	a->size = off + (z64 ? ZIP64_END_LEN : 0) + ZIP_EOCD_LEN;
	return true;
}

/* ---- tar ---- */

static size_t
dec_digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The length of the pax record "LEN key=value\n" (LEN counts itself). */
static size_t
pax_rec_len(size_t klen, size_t vlen)
{
	size_t body = 1 + klen + 1 + vlen + 1, d = 1;

	while (dec_digits(body + d) > d)
		d++;
	return body + d;
}

/*
 * Where the name of len bytes (a folder's with its '/' after them) splits
 * into ustar's prefix and name fields: the prefix's length (0: none), or
 * -1 when it cannot.
 */
static int
ustar_split(const char *s, size_t len, bool is_dir)
{
	size_t total = len + (is_dir ? 1 : 0), p;

	if (total <= 100)
		return 0;
	for (p = total - 101; p <= 155 && p + 1 < total && p < len; p++)
		if (s[p] == '/')
			return (int)p;
	return -1;
}

static bool
is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static bool
tar_mtime_fits(int64_t t)
{
	return t >= 0 && (uint64_t)t <= TAR_SIZE_MAX;
}

/* What needs a pax record: flags of path, size, mtime. */
struct pax_need {
	bool	 path, size, mtime;
};

static struct pax_need
pax_need_of(const struct archive *a, const struct arc_entry *e)
{
	const char *s = path_of(a, e);

	return (struct pax_need){
	    .path = !is_ascii(s, e->path_len) ||
		ustar_split(s, e->path_len, e->is_dir) < 0,
	    .size = e->size > TAR_SIZE_MAX,
	    .mtime = !tar_mtime_fits(e->mtime) };
}

/* The length of the decimal form of v, with its sign. */
static size_t
i64_len(int64_t v)
{
	if (v < 0)
		return 1 + dec_digits(0 - (uint64_t)v);
	return dec_digits((uint64_t)v);
}

static size_t
pax_records_len(const struct arc_entry *e, struct pax_need pn)
{
	size_t len = 0;

	if (pn.path)
		len += pax_rec_len(4, name_len(e));
	if (pn.size)
		len += pax_rec_len(4, dec_digits(e->size));
	if (pn.mtime)
		len += pax_rec_len(5, i64_len(e->mtime));
	return len;
}

/* Appends the record "LEN key=val\n". */
static unsigned char *
put_pax(unsigned char *p, const char *key, const char *val, size_t vlen)
{
	size_t klen = strlen(key), rlen = pax_rec_len(klen, vlen);
	char num[24];
	int n;

	n = snprintf(num, sizeof(num), "%zu", rlen);
	assert(n > 0 && (size_t)n < sizeof(num));
	p = putmem(p, num, (size_t)n);
	*p++ = ' ';
	p = putmem(p, key, klen);
	*p++ = '=';
	p = putmem(p, val, vlen);
	*p++ = '\n';
	return p;
}

static unsigned char *
put_pax_records(unsigned char *p, const char *name, size_t nlen,
    const struct arc_entry *e, struct pax_need pn)
{
	char num[24];
	int n;

	if (pn.path)
		p = put_pax(p, "path", name, nlen);
	if (pn.size) {
		n = snprintf(num, sizeof(num), "%" PRIu64, e->size);
		assert(n > 0 && (size_t)n < sizeof(num));
		p = put_pax(p, "size", num, (size_t)n);
	}
	if (pn.mtime) {
		n = snprintf(num, sizeof(num), "%" PRId64, e->mtime);
		assert(n > 0 && (size_t)n < sizeof(num));
		p = put_pax(p, "mtime", num, (size_t)n);
	}
	return p;
}

/* Writes v in octal into p[0..w), zero-filled, NUL last. */
static void
octal(unsigned char *p, size_t w, uint64_t v)
{
	p[w - 1] = '\0';
	for (size_t i = w - 1; i > 0; i--) {
		p[i - 1] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

/* One ustar header block. */
struct ustar {
	const char	*name;
	size_t		 len;
	int		 split;		/* of ustar_split(); -1: cut short */
	uint64_t	 size;
	uint64_t	 mtime;
	char		 type;
	uint32_t	 mode;
};

static void
ustar_block(unsigned char *h, const struct ustar *u)
{
	unsigned sum = 0;

	memset(h, 0, TAR_BLOCK);
	if (u->split > 0) {
		memcpy(h + 345, u->name, (size_t)u->split);
		memcpy(h, u->name + u->split + 1, u->len - u->split - 1);
	} else
		memcpy(h, u->name, u->len < 100 ? u->len : 100);
	octal(h + 100, 8, u->mode);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, u->size);
	octal(h + 136, 12, u->mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)u->type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	octal(h + 329, 8, 0);
	octal(h + 337, 8, 0);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	octal(h + 148, 7, sum);
	h[155] = ' ';
}

/* The entry's headers: a pax header when it needs one, then ustar's. */
static size_t
tar_headers(const struct archive *a, const struct arc_entry *e,
    unsigned char *buf)
{
	struct pax_need pn = pax_need_of(a, e);
	struct ustar u = { .len = name_len(e), .type = e->is_dir ? '5' : '0',
	    .mode = e->is_dir ? 0755 : 0644,
	    .mtime = tar_mtime_fits(e->mtime) ? (uint64_t)e->mtime : 0,
	    .size = pn.size ? 0 : e->size };
	char name[PATH_MAX + 2];
	unsigned char *p = buf;

	memcpy(name, path_of(a, e), e->path_len);
	if (e->is_dir)
		name[e->path_len] = '/';
	u.name = name;
	if (pn.path || pn.size || pn.mtime) {
		size_t rlen = pax_records_len(e, pn);
		struct ustar x = { .name = TAR_PAX_NAME,
		    .len = sizeof(TAR_PAX_NAME) - 1, .split = 0, .size = rlen,
		    .mtime = u.mtime, .type = 'x', .mode = 0644 };

		ustar_block(p, &x);
		p += TAR_BLOCK;
		memset(p, 0, pad512(rlen));
		put_pax_records(p, name, u.len, e, pn);
		p += pad512(rlen);
	}
	u.split = pn.path ? -1 : ustar_split(name, e->path_len, e->is_dir);
	ustar_block(p, &u);
	return (size_t)(p + TAR_BLOCK - buf);
}

static void
tar_layout(struct archive *a)
{
	uint64_t off = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct arc_entry *e = &a->ents[i];
		struct pax_need pn = pax_need_of(a, e);

		e->off = off;
		e->hdr_len = TAR_BLOCK;
		if (pn.path || pn.size || pn.mtime)
			e->hdr_len += TAR_BLOCK +
			    (uint32_t)pad512(pax_records_len(e, pn));
		off += e->hdr_len + pad512(e->size);
	}
	a->cd_off = a->end_off = off;
	a->size = off + 2 * TAR_BLOCK;
}

/* ---- the plan ---- */

struct dir_key {
	uint64_t	 dev, ino;
	bool		 used;
};

/* Folders read, by device and inode: open addressing, half full. */
struct dir_set {
	struct dir_key	*keys;
	size_t		 n, cap;
};

static size_t
dir_slot(const struct dir_key *keys, size_t cap, uint64_t dev, uint64_t ino)
{
	size_t i = (size_t)span_mix64(ino ^ span_mix64(dev)) & (cap - 1);

	while (keys[i].used && (keys[i].dev != dev || keys[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return i;
}

/* Adds a folder: 1 when it is new, 0 when it was read before, -ENOMEM. */
static int
dir_set_add(struct dir_set *s, uint64_t dev, uint64_t ino)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap == 0 ? 64 : s->cap * 2;
		struct dir_key *nk;

		if ((nk = calloc(ncap, sizeof(*nk))) == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < s->cap; j++)
			if (s->keys[j].used)
				nk[dir_slot(nk, ncap, s->keys[j].dev,
				    s->keys[j].ino)] = s->keys[j];
		free(s->keys);
		s->keys = nk;
		s->cap = ncap;
	}
	i = dir_slot(s->keys, s->cap, dev, ino);
	if (s->keys[i].used)
		return 0;
	s->keys[i] = (struct dir_key){ .dev = dev, .ino = ino, .used = true };
	s->n++;
	return 1;
}

struct walk {
	struct archive	*a;
	const struct listing_src *src;
	const struct archive_filter *filter;
	struct dir_set	 dirs;
	size_t		 base;		/* where the archive's paths start */
	char		 path[PATH_MAX];	/* current, from the root */
};

/* What listing_read_each() tells of each entry beyond struct listing. */
struct ent_more {
	uint64_t	 dev, ino;
	uint32_t	 mtime_ns;
	bool		 unreadable;
};

struct dir_read {
	struct listing	*l;
	struct ent_more	*more;
	size_t		 cap;
	int		 err;
};

static void
note_entry(void *arg, int dfd, const char *name, const struct statx *sx)
{
	struct dir_read *dr = arg;
	size_t i = dr->l->n - 1;
	struct ent_more *m;

	if (grow(&dr->more, &dr->cap, i + 1, sizeof(*dr->more), 64) != 0) {
		dr->err = -ENOMEM;
		return;
	}
	m = &dr->more[i];
	m->dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	m->ino = sx->stx_ino;
	m->mtime_ns = sx->stx_mtime.tv_nsec;
	/*
	 * A file the server cannot read would fail every download of the
	 * folder midway: it is left out, like a name that vanished.
	 */
	m->unreadable = S_ISREG(sx->stx_mode) &&
	    faccessat(dfd, name, R_OK, AT_EACCESS) != 0;
}

/* Byte-wise order of names, for a layout that never changes. */
static int
name_cmp(const void *pa, const void *pb, void *arg)
{
	const struct listing *l = arg;
	const struct listing_entry *a = &l->ents[*(const size_t *)pa];
	const struct listing_entry *b = &l->ents[*(const size_t *)pb];
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(l->names + a->name_off, l->names + b->name_off, n);

	if (c != 0)
		return c;
	return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

/* Appends the entry whose path from the root is w->path[0..len). */
static int
add_entry(struct walk *w, size_t len, const struct listing_entry *le,
    const struct ent_more *m)
{
	struct archive *a = w->a;
	size_t plen = len - w->base;
	struct arc_entry *e;

	if (a->n >= ARCHIVE_ENTRIES_MAX)
		return -E2BIG;
	if (grow(&a->ents, &a->cap, a->n + 1, sizeof(*a->ents), 64) != 0 ||
	    grow(&a->paths, &a->paths_cap, a->paths_len + plen + 1, 1,
	    4096) != 0)
		return -ENOMEM;
	e = &a->ents[a->n++];
	*e = (struct arc_entry){ .size = le->is_dir ? 0 : le->size,
	    .dev = m->dev, .ino = m->ino, .mtime = le->mtime,
	    .mtime_ns = m->mtime_ns, .path_off = a->paths_len,
	    .path_len = (uint32_t)plen, .is_dir = le->is_dir };
	memcpy(a->paths + a->paths_len, w->path + w->base, plen);
	a->paths[a->paths_len + plen] = '\0';
	a->paths_len += plen + 1;
	if (e->is_dir || e->size == 0)
		e->crc_known = true;	/* CRC-32 of nothing is 0 */
	else {
		uint64_t got;
		uint32_t crc;

		if (crc_lookup(e, &crc, &got) && got == e->size) {
			e->crc = crc;
			e->crc_known = true;
		}
	}
	return 0;
}

static int	walk_dir(struct walk *, int, size_t, unsigned);

/*
 * Reads the subfolder name of dfd, whose path from the root is
 * w->path[0..len), unless it was read before.  A folder that cannot be
 * opened is archived empty, as a listing shows it and then refuses it.
 */
static int
descend(struct walk *w, int dfd, const char *name, size_t len,
    unsigned depth)
{
	struct stat st;
	int fd, code, r;

	if (depth > ARC_DEPTH_MAX)
		return -ELOOP;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		/* A link the rules let clients follow: where a client gets. */
		if ((code = path_open(&w->src->tree, w->path, &fd)) == 503)
			return -EMFILE;
		if (code != 0)
			return 0;
	} else if (fd < 0)
		return errno == ENOMEM || errno == EMFILE || errno == ENFILE ?
		    -errno : 0;
	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return 0;
	}
	if ((r = dir_set_add(&w->dirs, st.st_dev, st.st_ino)) == 1)
		r = walk_dir(w, fd, len, depth);
	close(fd);
	return r;
}

/* Entry i of l, read from the folder dfd whose path is w->path[0..len). */
static int
walk_entry(struct walk *w, int dfd, const struct dir_read *dr, size_t i,
    size_t len, unsigned depth)
{
	const struct listing_entry *le = &dr->l->ents[i];
	const char *name = dr->l->names + le->name_off;
	size_t plen = len + (len > 0) + le->name_len;
	int r;

	if (dr->more[i].unreadable)
		return 0;
	if (plen >= sizeof(w->path))
		return -ENAMETOOLONG;
	if (len > 0)
		w->path[len] = '/';
	memcpy(w->path + len + (len > 0), name, le->name_len + 1);
	if (w->filter != NULL && w->filter->may_see != NULL &&
	    !w->filter->may_see(w->filter->arg, w->path, le->is_dir))
		return 0;
	if ((r = add_entry(w, plen, le, &dr->more[i])) != 0)
		return r;
	return le->is_dir ? descend(w, dfd, name, plen, depth + 1) : 0;
}

/*
 * Adds the entries of the folder open as dfd (not consumed), whose path
 * from the root is w->path[0..len), and of its subfolders.
 */
static int
walk_dir(struct walk *w, int dfd, size_t len, unsigned depth)
{
	struct listing l;
	struct dir_read dr = { .l = &l };
	struct listing_src here = { .tree = w->src->tree, .rel = w->path };
	size_t *order = NULL;
	int r;

	listing_init(&l);
	w->path[len] = '\0';
	r = listing_read_each(&l, dfd, &here, note_entry, &dr);
	if (r == 0 && dr.err != 0)
		r = dr.err;
	/* A listing cut at LISTING_MAX_ENTRIES would be a silent loss. */
	if (r == 0 && l.truncated)
		r = -E2BIG;
	if (r == 0 && l.n > 0 &&
	    (order = calloc(l.n, sizeof(*order))) == NULL)
		r = -ENOMEM;
	if (r == 0 && l.n > 0) {
		for (size_t i = 0; i < l.n; i++)
			order[i] = i;
		qsort_r(order, l.n, sizeof(*order), name_cmp, &l);
	}
	for (size_t i = 0; r == 0 && i < l.n; i++)
		r = walk_entry(w, dfd, &dr, order[i], len, depth);
	free(order);
	free(dr.more);
	listing_release(&l);
	return r;
}

/* The ETag: a hash of what the archive's bytes depend on. */
static void
make_etag(struct archive *a, bool etag_inode)
{
	uint64_t h1 = span_mix64(ARC_FORMAT << 8 | a->kind);
	uint64_t h2 = span_mix64(h1 ^ 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < a->n; i++) {
		const struct arc_entry *e = &a->ents[i];
		uint64_t x = listing_hash(path_of(a, e), e->path_len);

		x = span_mix64(x ^ e->size) ^ span_mix64((uint64_t)e->mtime) ^
		    span_mix64(((uint64_t)e->mtime_ns << 1 | e->is_dir) + i);
		if (etag_inode)
			x ^= span_mix64(e->dev ^ span_mix64(e->ino));
		h1 = span_mix64(h1 ^ x);
		h2 = span_mix64(h2 + x + (h1 >> 7));
	}
	snprintf(a->etag, sizeof(a->etag), "\"%c-%016" PRIx64 "%016" PRIx64
	    "\"", a->kind == ARCHIVE_ZIP ? 'z' : 't', h1, h2);
}

/* Our own copies of what the plan needs of src and dirfd. */
static int
plan_init(struct archive *a, int dirfd, const struct listing_src *src)
{
	a->dirfd = a->tree.fd = -1;
	if ((a->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    (a->tree.fd = fcntl(src->tree.fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -errno;
	a->tree.symlinks = src->tree.symlinks;
	a->tree.allow_hidden = src->tree.allow_hidden;
	if ((a->tree.real = strdup(src->tree.real)) == NULL ||
	    (a->rel = strdup(src->rel)) == NULL)
		return -ENOMEM;
	return 0;
}

int
archive_plan(int dirfd, const struct listing_src *src,
    enum archive_kind kind, bool etag_inode,
    const struct archive_filter *filter, struct archive **out)
{
	struct archive *a;
	struct walk *w = NULL;
	struct stat st;
	size_t len = strlen(src->rel);
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->kind = kind;
	if ((r = plan_init(a, dirfd, src)) != 0)
		goto fail;
	r = -ENOMEM;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto fail;
	*w = (struct walk){ .a = a, .src = src, .filter = filter,
	    .base = len > 0 ? len + 1 : 0 };
	r = -ENAMETOOLONG;
	if (len >= sizeof(w->path))
		goto fail;
	memcpy(w->path, src->rel, len + 1);
	if (fstat(dirfd, &st) != 0) {
		r = -errno;
		goto fail;
	}
	if ((r = dir_set_add(&w->dirs, st.st_dev, st.st_ino)) < 0 ||
	    (r = walk_dir(w, dirfd, len, 0)) != 0)
		goto fail;
	if (kind == ARCHIVE_TAR)
		tar_layout(a);
	else if (!zip_layout(a, false))
		(void)zip_layout(a, true);
	r = -EFBIG;
	if (a->size > INT64_MAX)
		goto fail;
	make_etag(a, etag_inode);
	free(w->dirs.keys);
	free(w);
	*out = a;
	return 0;
fail:
	if (w != NULL)
		free(w->dirs.keys);
	free(w);
	archive_free(a);
	return r;
}

void
archive_free(struct archive *a)
{
	if (a == NULL)
		return;
	if (a->dirfd >= 0)
		close(a->dirfd);
	if (a->tree.fd >= 0)
		close(a->tree.fd);
	free((char *)a->tree.real);
	free(a->rel);
	free(a->ents);
	free(a->paths);
	free(a);
}

uint64_t
archive_size(const struct archive *a)
{
	return a->size;
}

const char *
archive_etag(const struct archive *a)
{
	return a->etag;
}

size_t
archive_count(const struct archive *a)
{
	return a->n;
}

/* ---- the cursor ---- */

static struct region
region_of(const struct archive *a, enum arc_part part, size_t i)
{
	const struct arc_entry *e = i < a->n ? &a->ents[i] : NULL;

	switch (part) {
	case PART_HDR:
		return (struct region){ e->off, e->hdr_len, false };
	case PART_DATA:
		return (struct region){ e->off + e->hdr_len, e->size, true };
	case PART_TAIL:
		return (struct region){ e->off + e->hdr_len + e->size,
		    a->kind == ARCHIVE_ZIP ? zip_desc_len(a->zip64) :
		    pad512(e->size) - e->size, false };
	case PART_CD:
		return (struct region){ e->cd_off,
		    zip_central_len(e, a->zip64), false };
	case PART_END:
		break;
	}
	return (struct region){ a->end_off, a->size - a->end_off, false };
}

/* Moves the cursor to the region after its current one. */
static void
step(struct archive_cursor *c)
{
	const struct archive *a = c->a;

	switch (c->part) {
	case PART_HDR:
		c->part = PART_DATA;
		return;
	case PART_DATA:
		c->part = PART_TAIL;
		return;
	case PART_TAIL:
		if (++c->idx < a->n)
			c->part = PART_HDR;
		else {
			c->idx = 0;
			c->part = a->kind == ARCHIVE_ZIP && a->n > 0 ?
			    PART_CD : PART_END;
		}
		return;
	case PART_CD:
		if (++c->idx >= a->n)
			c->part = PART_END;
		return;
	case PART_END:
		break;
	}
}

/* The last entry i whose offset (central one when cd) is <= pos. */
static size_t
find_entry(const struct archive *a, uint64_t pos, bool cd)
{
	size_t lo = 0, hi = a->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if ((cd ? a->ents[mid].cd_off : a->ents[mid].off) <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Puts the cursor on the region that holds c->pos. */
static void
seek(struct archive_cursor *c)
{
	const struct archive *a = c->a;
	struct region g;

	if (c->pos >= a->end_off || a->n == 0) {
		c->part = PART_END;
		c->idx = 0;
		return;
	}
	if (c->pos >= a->cd_off) {
		c->part = PART_CD;
		c->idx = find_entry(a, c->pos, true);
		return;
	}
	c->part = PART_HDR;
	c->idx = find_entry(a, c->pos, false);
	for (;;) {
		g = region_of(a, c->part, c->idx);
		if (c->pos < g.start + g.len)
			return;
		step(c);
	}
}

struct archive_cursor *
archive_open(struct archive *a, uint64_t start, uint64_t end)
{
	struct archive_cursor *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(ARC_BUF + ARC_RBUF)) == NULL) {
		free(c);
		archive_free(a);
		return NULL;
	}
	c->a = a;
	c->fd = -1;
	/* Out of the contract's range: clamped, or nothing to send. */
	c->end = end < a->size ? end : a->size - 1;
	c->pos = start;
	if (c->pos <= c->end)
		seek(c);
	return c;
}

/* Leaves what is known of an unfinished CRC to the next download. */
static void
crc_stash(struct archive_cursor *c)
{
	if (c->crc_busy && c->crc_pos > 0)
		crc_store(&c->a->ents[c->crc_idx], c->crc, c->crc_pos);
	c->crc_busy = false;
}

void
archive_close(struct archive_cursor *c)
{
	if (c == NULL)
		return;
	crc_stash(c);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	archive_free(c->a);
	free(c);
}

/* True when st is still the file the plan saw as e. */
static bool
same_file(const struct stat *st, const struct arc_entry *e)
{
	return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == e->dev &&
	    (uint64_t)st->st_ino == e->ino &&
	    (uint64_t)st->st_size == e->size &&
	    (int64_t)st->st_mtim.tv_sec == e->mtime &&
	    (uint32_t)st->st_mtim.tv_nsec == e->mtime_ns;
}

/* The open file, if any, is still what the plan saw: 0 or -1. */
static int
check_open(const struct archive_cursor *c)
{
	const struct arc_entry *e;
	struct stat st;

	if (c->fd < 0)
		return 0;
	e = &c->a->ents[c->fd_idx];
	if (fstat(c->fd, &st) != 0 || !same_file(&st, e)) {
		log_debug("archive: '%s' changed while it was sent",
		    path_of(c->a, e));
		return -1;
	}
	return 0;
}

/*
 * Opens entry i's file as c->fd, through path_open() from the root.
 * Returns 0, 1 when this call already handed out a range of another
 * file (the caller's segments use c->fd: the call must end), or -1 when
 * it is gone, unreadable or not what the plan saw.
 */
static int
file_open(struct archive_cursor *c, size_t i)
{
	const struct archive *a = c->a;
	const struct arc_entry *e = &a->ents[i];
	char path[PATH_MAX];
	int n, code, fd;

	if (c->fd >= 0 && c->fd_idx == i)
		return 0;
	if (c->file_sent)
		return 1;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	n = snprintf(path, sizeof(path), "%s%s%s", a->rel,
	    a->rel[0] != '\0' ? "/" : "", path_of(a, e));
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if ((code = path_open(&a->tree, path, &fd)) != 0) {
		log_debug("archive: cannot open '%s': status %d", path, code);
		return -1;
	}
	c->fd = fd;
	c->fd_idx = i;
	return check_open(c);
}

/* Makes the CRC state describe entry i, from the table if it can. */
static void
crc_begin(struct archive_cursor *c, size_t i)
{
	uint64_t len;
	uint32_t crc;

	if (c->crc_busy && c->crc_idx == i)
		return;
	crc_stash(c);
	c->crc_busy = true;
	c->crc_idx = i;
	c->crc = 0;
	c->crc_pos = 0;
	if (crc_lookup(&c->a->ents[i], &crc, &len) &&
	    len <= c->a->ents[i].size) {
		c->crc = crc;
		c->crc_pos = len;
	}
}

/*
 * Reads the file of the CRC's entry (open as c->fd) on to goal; once at
 * its end the entry's CRC is known and remembered.  0 or -1.
 */
static int
crc_read(struct archive_cursor *c, uint64_t goal)
{
	struct arc_entry *e = &c->a->ents[c->crc_idx];
	unsigned char *rb = c->buf + ARC_BUF;
	ssize_t r;

	while (c->crc_pos < goal) {
		size_t want = goal - c->crc_pos < ARC_RBUF ?
		    (size_t)(goal - c->crc_pos) : ARC_RBUF;

		r = pread(c->fd, rb, want, (off_t)c->crc_pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* Shorter than planned: it changed. */
			log_debug("archive: cannot read '%s'",
			    path_of(c->a, e));
			return -1;
		}
		c->crc = crc32_update(c->crc, rb, (size_t)r);
		c->crc_pos += (uint64_t)r;
		c->crc_read += (uint64_t)r;
	}
	if (c->crc_pos == e->size) {
		e->crc = c->crc;
		e->crc_known = true;
		crc_store(e, c->crc, e->size);
		c->crc_busy = false;
	}
	return 0;
}

/*
 * Entry i's whole CRC, for its descriptor or central header: 0, 1 when
 * the call must end first (another file, or budget spent), or -1.
 */
static int
crc_need(struct archive_cursor *c, size_t i, bool budgeted)
{
	int r;

	if (c->a->ents[i].crc_known)
		return 0;
	if (budgeted && c->crc_read >= ARC_CRC_STEP)
		return 1;
	if ((r = file_open(c, i)) != 0)
		return r;
	crc_begin(c, i);
	return crc_read(c, c->a->ents[i].size);
}

/* Renders the region g of the cursor's place into p: 0, 1 or -1. */
static int
render(struct archive_cursor *c, const struct region *g, unsigned char *p)
{
	const struct archive *a = c->a;
	const struct arc_entry *e = &a->ents[c->idx];
	bool zip = a->kind == ARCHIVE_ZIP;
	size_t len;
	int r;

	switch (c->part) {
	case PART_HDR:
		len = zip ? zip_local(a, e, p) : tar_headers(a, e, p);
		break;
	case PART_TAIL:
		if (zip && (r = crc_need(c, c->idx, false)) != 0)
			return r;
		len = zip ? zip_desc(a, e, p) : (size_t)g->len;
		if (!zip)
			memset(p, 0, len);
		break;
	case PART_CD:
		if ((r = crc_need(c, c->idx, true)) != 0)
			return r;
		len = zip_central(a, e, p);
		break;
	default:
		len = zip ? zip_end(a, p) : (size_t)g->len;
		if (!zip)
			memset(p, 0, len);
		break;
	}
	assert(len == g->len);
	return 0;
}

/* The bytes of g from c->pos that this range wants. */
static uint64_t
wanted(const struct archive_cursor *c, const struct region *g)
{
	uint64_t take = g->start + g->len - c->pos;

	return take < c->end + 1 - c->pos ? take : c->end + 1 - c->pos;
}

/* Hands out (part of) a memory region: 0, 1 (call full) or -1. */
static int
emit_mem(struct archive_cursor *c, const struct region *g,
    struct out_seg *segs, size_t *n)
{
	unsigned char *p = c->buf + c->buf_used;
	uint64_t take = wanted(c, g);
	const char *from;
	int r;

	if (g->len > ARC_BUF - c->buf_used)
		return 1;
	if ((r = render(c, g, p)) != 0)
		return r;
	from = (const char *)p + (c->pos - g->start);
	if (*n > 0 && segs[*n - 1].mem != NULL &&
	    segs[*n - 1].mem + segs[*n - 1].len == from)
		segs[*n - 1].len += take;
	else
		segs[(*n)++] = (struct out_seg){ .mem = from, .len = take };
	c->buf_used += g->len;
	c->pos += take;
	if (c->pos == g->start + g->len)
		step(c);
	return 0;
}

/* Hands out (part of) the current entry's data: 0, 1 or -1. */
static int
emit_file(struct archive_cursor *c, const struct region *g,
    struct out_seg *segs, size_t *n)
{
	const struct arc_entry *e = &c->a->ents[c->idx];
	uint64_t skip = c->pos - g->start, take = wanted(c, g), goal;
	int r;

	if (c->file_bytes >= ARCHIVE_PIECE_MAX)
		return 1;
	if ((r = file_open(c, c->idx)) != 0)
		return r;
	if (take > ARCHIVE_PIECE_MAX - c->file_bytes)
		take = ARCHIVE_PIECE_MAX - c->file_bytes;
	/*
	 * The CRC is read just ahead of what is sent (which then comes
	 * from the page cache); a range that starts inside the file reads
	 * the beginning ARC_CRC_STEP bytes per call alongside.
	 */
	if (c->a->kind == ARCHIVE_ZIP && !e->crc_known) {
		crc_begin(c, c->idx);
		goal = skip + take;
		if (goal > c->crc_pos + ARC_CRC_STEP)
			goal = c->crc_pos + ARC_CRC_STEP;
		if (crc_read(c, goal) != 0)
			return -1;
	}
	segs[(*n)++] = (struct out_seg){ .mem = NULL, .len = take,
	    .off = (off_t)skip };
	c->file_sent = true;
	c->file_bytes += take;
	c->pos += take;
	if (c->pos == g->start + g->len)
		step(c);
	return 0;
}

int
archive_next(struct archive_cursor *c, struct out_seg *segs, size_t cap,
    int *fd)
{
	size_t n = 0;
	int r = 0;

	*fd = -1;
	if (c->failed || check_open(c) != 0)
		goto fail;
	c->buf_used = 0;
	c->file_sent = false;
	c->file_bytes = 0;
	c->crc_read = 0;
	while (r == 0 && n < cap && c->pos <= c->end) {
		struct region g = region_of(c->a, c->part, c->idx);

		if (c->pos >= g.start + g.len)
			step(c);	/* an empty region */
		else if (g.file)
			r = emit_file(c, &g, segs, &n);
		else
			r = emit_mem(c, &g, segs, &n);
	}
	if (r < 0)
		goto fail;
	assert(n > 0 || c->pos > c->end);
	*fd = c->fd;
	return (int)n;
fail:
	c->failed = true;
	return -1;
}
