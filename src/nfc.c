/*
 * nfc.c - Unicode Normalization Form C (UAX #15), see nfc.h.
 *
 * DESIGN: the input is decoded one code point at a time and decomposed
 * canonically (the table's one-level mappings applied recursively, Hangul
 * syllables by arithmetic) into a segment buffer.  Before a code point
 * that is a starter (combining class 0) and never composes with what
 * precedes it, nothing before can reorder or compose with anything after,
 * so the buffer is flushed there: its non-starters are put in canonical
 * order, it is composed, and it is encoded to the sink.  The sink either
 * writes the output or, for nfc_is_nfc(), compares it with the input.
 * Memory is the segment buffer on the stack; nothing is allocated.
 */
#include "nfc.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "nfc_table.h"

/* Hangul syllable arithmetic: The Unicode Standard §3.12. */
#define HANGUL_S_BASE	0xAC00
#define HANGUL_L_BASE	0x1100
#define HANGUL_V_BASE	0x1161
#define HANGUL_T_BASE	0x11A7	/* one before the first T jamo */
#define HANGUL_L_COUNT	19
#define HANGUL_V_COUNT	21
#define HANGUL_T_COUNT	28
#define HANGUL_N_COUNT	(HANGUL_V_COUNT * HANGUL_T_COUNT)
#define HANGUL_S_COUNT	(HANGUL_L_COUNT * HANGUL_N_COUNT)

#define CP_MASK		((UINT64_C(1) << NFC_CP_BITS) - 1)
#define PAIR_MASK	((UINT64_C(1) << (2 * NFC_CP_BITS)) - 1)

static_assert(sizeof(nfc_decomp) / sizeof(nfc_decomp[0]) <= UINT16_MAX,
    "nfc_comp holds nfc_decomp indices in 16 bits");

/* Where normalised bytes go. */
struct sink {
	char		*out;	/* out[0..cap), or NULL to compare instead */
	const char	*cmp;	/* with cmp[0..cap) */
	size_t		 cap;
	size_t		 len;	/* bytes written or matched so far */
};

/* A segment being normalised, and where it goes. */
struct norm {
	uint32_t	 cp[NFC_MAX_SEGMENT];
	uint8_t		 ccc[NFC_MAX_SEGMENT];
	size_t		 n;
	struct sink	 sink;
};

/* The property class (an nfc_class index) of cp. */
static unsigned
class_of(uint32_t cp)
{
	if (cp >= NFC_PROP_LIMIT)
		return 0;
	return nfc_stage2[nfc_stage1[cp >> NFC_PROP_SHIFT]]
	    [cp & ((1u << NFC_PROP_SHIFT) - 1)];
}

/* The length a UTF-8 lead byte announces, or 0 when it cannot lead. */
static size_t
utf8_len(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if (lead < 0xC0)
		return 0;	/* a continuation byte */
	if (lead < 0xE0)
		return 2;
	if (lead < 0xF0)
		return 3;
	return lead < 0xF8 ? 4 : 0;
}

/*
 * Decodes one code point from p[0..len), len > 0.  Returns its length, or
 * -1 when p does not start with a well-formed one (The Unicode Standard
 * §3.9, table 3-7): never reads past what the lead byte announces.
 */
static int
utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n = utf8_len(p[0]);
	uint32_t c;

	if (n == 0 || n > len)
		return -1;
	/* The payload bits of the lead byte: 7, 5, 4 or 3 of them. */
	c = p[0] & (n == 1 ? 0x7Fu : 0x7Fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3Fu);
	}
	/* Overlong forms, surrogates and what lies past U+10FFFF. */
	if (c < min[n] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return -1;
	*cp = c;
	return (int)n;
}

/* Encodes the scalar value cp into b; returns its length. */
static size_t
utf8_encode(uint32_t cp, unsigned char b[4])
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Finds the nfc_decomp entry of cp into *d.  Every code point with
 * NFC_F_DECOMP has one; were the tables out of step, cp would be kept
 * as it is.
 */
static bool
decomp_find(uint32_t cp, uint64_t *d)
{
	size_t lo = 0, hi = sizeof(nfc_decomp) / sizeof(nfc_decomp[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t key = nfc_decomp[mid] >> (2 * NFC_CP_BITS);

		if (key == cp) {
			*d = nfc_decomp[mid];
			return true;
		}
		if (key < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * The primary composite of starter a and b into *c: Hangul LV and LVT by
 * arithmetic, anything else from nfc_comp, which lists no composition
 * exclusion.  Returns false when the pair does not compose.
 */
static bool
compose_pair(uint32_t a, uint32_t b, uint32_t *c)
{
	uint64_t pair = (uint64_t)a << NFC_CP_BITS | b;
	size_t lo = 0, hi = sizeof(nfc_comp) / sizeof(nfc_comp[0]);

	/* Unsigned wrap-around makes each range test one comparison. */
	if (a - HANGUL_L_BASE < HANGUL_L_COUNT &&
	    b - HANGUL_V_BASE < HANGUL_V_COUNT) {
		*c = HANGUL_S_BASE + ((a - HANGUL_L_BASE) * HANGUL_V_COUNT +
		    (b - HANGUL_V_BASE)) * HANGUL_T_COUNT;
		return true;
	}
	if (a - HANGUL_S_BASE < HANGUL_S_COUNT &&
	    (a - HANGUL_S_BASE) % HANGUL_T_COUNT == 0 &&
	    b - HANGUL_T_BASE - 1 < HANGUL_T_COUNT - 1) {
		*c = a + (b - HANGUL_T_BASE);
		return true;
	}
	if ((nfc_class[class_of(b)].flags & NFC_F_BACK) == 0)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t d = nfc_decomp[nfc_comp[mid]];

		if ((d & PAIR_MASK) == pair) {
			*c = (uint32_t)(d >> (2 * NFC_CP_BITS));
			return true;
		}
		if ((d & PAIR_MASK) < pair)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Sends cp, UTF-8 encoded, to the sink; -1 when it has no room or differs. */
static int
emit(struct sink *s, uint32_t cp)
{
	unsigned char b[4];
	size_t n = utf8_encode(cp, b);

	if (n > s->cap - s->len)
		return -1;
	if (s->out != NULL)
		memcpy(s->out + s->len, b, n);
	else if (memcmp(s->cmp + s->len, b, n) != 0)
		return -1;
	s->len += n;
	return 0;
}

/*
 * Canonical ordering (The Unicode Standard §3.11, D109): a stable
 * insertion sort of each run of non-starters by combining class.  A
 * starter (class 0) stops the backward scan, so runs never mix.
 */
static void
reorder(struct norm *nm)
{
	for (size_t i = 1; i < nm->n; i++) {
		uint32_t cp = nm->cp[i];
		uint8_t cc = nm->ccc[i];
		size_t j = i;

		if (cc == 0)
			continue;
		for (; j > 0 && nm->ccc[j - 1] > cc; j--) {
			nm->cp[j] = nm->cp[j - 1];
			nm->ccc[j] = nm->ccc[j - 1];
		}
		nm->cp[j] = cp;
		nm->ccc[j] = cc;
	}
}

/*
 * Canonical composition, in place: each code point composes with the last
 * starter unless blocked, that is, unless something between has class 0
 * or a class not below its own.  The kept code points after the starter
 * are in canonical order, so the last kept one has the highest class of
 * them, and comparing with it alone suffices.
 */
static void
compose(struct norm *nm)
{
	size_t starter = SIZE_MAX, n = 0;
	uint8_t last = 0;	/* the class of the last code point kept */

	for (size_t i = 0; i < nm->n; i++) {
		uint32_t cp = nm->cp[i], c;
		uint8_t cc = nm->ccc[i];

		if (starter != SIZE_MAX &&
		    (n == starter + 1 || (last != 0 && last < cc)) &&
		    compose_pair(nm->cp[starter], cp, &c)) {
			nm->cp[starter] = c;
			continue;
		}
		if (cc == 0)
			starter = n;
		nm->cp[n] = cp;
		nm->ccc[n] = cc;
		n++;
		last = cc;
	}
	nm->n = n;
}

/* Normalises the segment and sends it to the sink, emptying it. */
static int
flush(struct norm *nm)
{
	reorder(nm);
	compose(nm);
	for (size_t i = 0; i < nm->n; i++)
		if (emit(&nm->sink, nm->cp[i]) < 0)
			return -1;
	nm->n = 0;
	return 0;
}

/*
 * Appends the decomposed code point cp to the segment, flushing first
 * when cp starts a new one: a starter that composes with nothing before
 * it.
 */
static int
push(struct norm *nm, uint32_t cp)
{
	unsigned k = class_of(cp);

	if (nfc_class[k].ccc == 0 && (nfc_class[k].flags & NFC_F_BACK) == 0 &&
	    nm->n > 0 && flush(nm) < 0)
		return -1;
	if (nm->n == NFC_MAX_SEGMENT)
		return -1;
	nm->cp[nm->n] = cp;
	nm->ccc[nm->n] = nfc_class[k].ccc;
	nm->n++;
	return 0;
}

/*
 * Appends the full canonical decomposition of cp.  The recursion is at
 * most three deep (src/nfc_table.py checks it).
 */
static int
decompose(struct norm *nm, uint32_t cp)
{
	uint32_t s = cp - HANGUL_S_BASE;
	uint64_t d;

	if (s < HANGUL_S_COUNT) {
		if (push(nm, HANGUL_L_BASE + s / HANGUL_N_COUNT) < 0 ||
		    push(nm, HANGUL_V_BASE + s % HANGUL_N_COUNT /
		    HANGUL_T_COUNT) < 0)
			return -1;
		if (s % HANGUL_T_COUNT == 0)
			return 0;
		return push(nm, HANGUL_T_BASE + s % HANGUL_T_COUNT);
	}
	if ((nfc_class[class_of(cp)].flags & NFC_F_DECOMP) == 0 ||
	    !decomp_find(cp, &d))
		return push(nm, cp);
	if (decompose(nm, (uint32_t)(d >> NFC_CP_BITS & CP_MASK)) < 0)
		return -1;
	if ((d & CP_MASK) == 0)
		return 0;
	return decompose(nm, (uint32_t)(d & CP_MASK));
}

/* Normalises in[0..len) into nm->sink, which the caller set up. */
static int
run(const char *in, size_t len, struct norm *nm)
{
	size_t off = 0;

	nm->n = 0;
	while (off < len) {
		uint32_t cp;
		int n = utf8_decode((const unsigned char *)in + off,
		    len - off, &cp);

		if (n < 0 || decompose(nm, cp) < 0)
			return -1;
		off += (size_t)n;
	}
	return nm->n > 0 ? flush(nm) : 0;
}

ssize_t
nfc_normalize(const char *in, size_t len, char *out, size_t cap)
{
	struct norm nm;

	nm.sink.out = out;
	nm.sink.cmp = NULL;
	nm.sink.cap = cap;
	nm.sink.len = 0;
	if (run(in, len, &nm) < 0)
		return -1;
	return (ssize_t)nm.sink.len;
}

bool
nfc_is_nfc(const char *in, size_t len)
{
	struct norm nm;
	size_t i = 0;

	while (i < len && (unsigned char)in[i] < 0x80)
		i++;
	if (i == len)
		return true;
	/* The output may not pass len bytes, and must match in as it goes. */
	nm.sink.out = NULL;
	nm.sink.cmp = in;
	nm.sink.cap = len;
	nm.sink.len = 0;
	return run(in, len, &nm) == 0 && nm.sink.len == len;
}

bool
nfc_utf8_valid(const char *in, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint32_t cp;
		int n = utf8_decode((const unsigned char *)in + off,
		    len - off, &cp);

		if (n < 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

const char *
nfc_unicode_version(void)
{
	return NFC_UNICODE_VERSION;
}

bool
nfc_in_place(char *s, size_t cap)
{
	char nfc[PATH_MAX];
	size_t len = strlen(s);
	ssize_t n;

	if (nfc_is_nfc(s, len))
		return false;
	n = nfc_normalize(s, len, nfc, sizeof(nfc));
	if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof(nfc))
		return false;
	memcpy(s, nfc, (size_t)n);
	s[n] = '\0';
	return true;
}
