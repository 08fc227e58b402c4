/*
 * check_htpasswd.c - unit tests for the accounts file.
 *
 * The hashes below were made on the development machine: the bcrypt
 * "$2y$" ones by Apache's `htpasswd -nbB` (apache2-utils), the others by
 * libxcrypt's crypt_gensalt_rn() and crypt_rn() (what `mkpasswd -m
 * yescrypt` and `mkpasswd -m sha-512` call).  Every text the parser sees
 * goes through tu_guarded(), so a read past the end crashes the test.
 * Written files are checked with crypt_rn() directly, not with
 * `htpasswd -v`, which knows no yescrypt.
 */
#include <check.h>
#include <crypt.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "htpasswd.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* `htpasswd -nbB alice 'open sesame'` */
#define H_2Y	"$2y$05$xdTfbl0rS9EhzTTfSiGsG.ysmYW0PEb3wmzjSTW.gOlAncWjKM.h2"
/* `htpasswd -nbB -C 4 bob x` */
#define H_2Y4	"$2y$04$z/IxXw1xIfFGmgXK/rpG7.Q8Np5KYhldSh66bdKzSb44QOdH2LtCu"
#define H_2B	"$2b$05$DyPfJEk6HR2InNrcAcS03O18oiw3RWOvRbv/MyNkdA1bR3YaP0iZK"
#define H_2A	"$2a$05$qxxaLDIpwJ5kArIsvNTvLulPC1sjax9d.P0h9Ujma3IqY.wXW7h9S"
/* yescrypt of "correct horse" at the default cost */
#define H_Y	"$y$j9T$1N/tS/XWdPl2JXjmR.bfV/$" \
		"Ap7wuEl2Bj//pJguhZCk6oFrUy9536CNj7/eg7/2o/A"
/* SHA-512-crypt of "s3cret/\u00fc" (UTF-8) */
#define H_6	"$6$Apmsrdrn0VPHACNE$PPq4cUXW7M5B6p9KHm/BMU8na703WC7CsuOBPz" \
		"4Re42FAMUg8Vc2BSl0y9hI3WFbXLdkJfdVvNzbb65SFDSTQ0"
/* SHA-512-crypt of "rounds" with rounds=10000 */
#define H_6R	"$6$rounds=10000$146E3QmYjyh6lZTi$YfVJ20fF.b9tdo1f8Bx/5Hdy" \
		"huK8LH81A7eegtZcCasBAcqk6aw4I85E/915ks9PMVX7OGbsTerzuuJBUjD" \
		"ic/"

/*
 * Helpers
 */

/* Parses the NUL-terminated text from a guarded copy. */
static struct htpasswd *
parse_str(const char *text, char *err, size_t errcap)
{
	size_t len = strlen(text);
	char *g = tu_guarded(text, len);
	struct htpasswd *h = htpasswd_parse(g, len, err, errcap);

	tu_guard_free(g);
	return h;
}

/* True when user (a C string) is in h. */
static bool
has(const struct htpasswd *h, const char *user)
{
	return htpasswd_has(h, user, strlen(user));
}

/* htpasswd_verify() with C strings, the password from a guarded copy. */
static bool
verify(const struct htpasswd *h, const char *user, const char *pass)
{
	size_t plen = strlen(pass);
	char *g = tu_guarded(pass, plen);
	bool ok = htpasswd_verify(h, user, strlen(user), g, plen);

	tu_guard_free(g);
	return ok;
}

/* Seconds of one htpasswd_verify(). */
static double
time_verify(const struct htpasswd *h, const char *user, const char *pass)
{
	struct timespec a, b;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &a), 0);
	ck_assert(!verify(h, user, pass));
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &b), 0);
	return (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

/* Reads the whole file at path into a new NUL-terminated buffer. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	ck_assert(!ferror(f));
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* dir/name into out (PATH_MAX bytes). */
static char *
join(char *out, const char *dir, const char *name)
{
	ck_assert_int_lt(snprintf(out, 4096, "%s/%s", dir, name), 4096);
	return out;
}

/* True when crypt_rn(pass, hash) gives hash back. */
static bool
crypt_matches(const char *pass, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	bool ok;

	ck_assert_ptr_nonnull(cd);
	out = crypt_rn(pass, hash, cd, sizeof(*cd));
	ok = out != NULL && strcmp(out, hash) == 0;
	free(cd);
	return ok;
}

/*
 * The hash user has in the file text, copied into out (cap bytes), or
 * false when the user has no line.
 */
static bool
hash_of(const char *text, const char *user, char *out, size_t cap)
{
	size_t ulen = strlen(user);

	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (n > ulen && memcmp(p, user, ulen) == 0 && p[ulen] == ':') {
			n -= ulen + 1;
			if (n > 0 && p[ulen + 1 + n - 1] == '\r')
				n--;
			ck_assert_uint_lt(n, cap);
			memcpy(out, p + ulen + 1, n);
			out[n] = '\0';
			return true;
		}
		p += n + (nl != NULL);
	}
	return false;
}

/* The number of entries of dir (without "." and ".."). */
static size_t
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/*
 * Parsing what is accepted
 */

static const char good_file[] =
    "# lanhttpd accounts\n"
    "\n"
    "alice:" H_2Y "\n"
    "   \t\n"
    "  # an indented comment\n"
    "bob:" H_2Y4 "\r\n"
    "carol:" H_2B "\n"
    "dave:" H_2A "  \t\n"
    "erin:" H_Y "\n"
    "j\xc3\xbcrgen:" H_6 "\n"
    "rounds:" H_6R;

START_TEST(parse_accepts_each_hash_kind_comments_and_blank_lines)
{
	char err[128] = "";
	struct htpasswd *h = parse_str(good_file, err, sizeof(err));

	ck_assert_msg(h != NULL, "refused: %s", err);
	ck_assert_uint_eq(htpasswd_count(h), 7);
	ck_assert(has(h, "alice") && has(h, "bob") && has(h, "carol"));
	ck_assert(has(h, "dave") && has(h, "erin") && has(h, "rounds"));
	ck_assert(has(h, "j\xc3\xbcrgen"));
	ck_assert(!has(h, "Alice") && !has(h, "alic") && !has(h, "alicee"));
	ck_assert(!has(h, "# lanhttpd accounts") && !has(h, ""));
	ck_assert(!htpasswd_has(h, NULL, 0));
	htpasswd_free(h);
}
END_TEST

struct verify_case {
	const char	*user;
	const char	*pass;
};

static const struct verify_case verify_cases[] = {
	{ "alice", "open sesame" },		/* $2y$, Apache htpasswd */
	{ "bob", "x" },				/* $2y$ cost 4, CRLF line */
	{ "carol", "bcrypt-b" },		/* $2b$ */
	{ "dave", "bcrypt-a" },			/* $2a$, trailing blanks */
	{ "erin", "correct horse" },		/* yescrypt */
	{ "j\xc3\xbcrgen", "s3cret/\xc3\xbc" },	/* SHA-512-crypt */
	{ "rounds", "rounds" },			/* SHA-512-crypt, rounds= */
};

START_TEST(verify_true_only_for_the_right_password)
{
	const struct verify_case *c = &verify_cases[_i];
	struct htpasswd *h = parse_str(good_file, NULL, 0);
	char wrong[64];

	ck_assert_ptr_nonnull(h);
	ck_assert_msg(verify(h, c->user, c->pass), "%s: right password "
	    "refused", c->user);
	ck_assert_int_lt(snprintf(wrong, sizeof(wrong), "%sx", c->pass),
	    (int)sizeof(wrong));
	ck_assert_msg(!verify(h, c->user, wrong), "%s: wrong password "
	    "accepted", c->user);
	ck_assert(!verify(h, c->user, ""));
	/* Another user's password is not this user's. */
	ck_assert(!verify(h, c->user, verify_cases[(_i + 1) %
	    NELEM(verify_cases)].pass));
	htpasswd_free(h);
}
END_TEST

START_TEST(parse_accepts_an_empty_file)
{
	struct htpasswd *h = htpasswd_parse(NULL, 0, NULL, 0);

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(htpasswd_count(h), 0);
	ck_assert(!has(h, "alice"));
	ck_assert(!verify(h, "alice", "x"));
	htpasswd_free(h);
	h = parse_str("# nobody yet\n\n", NULL, 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(htpasswd_count(h), 0);
	htpasswd_free(h);
	htpasswd_free(NULL);
	ck_assert_uint_eq(htpasswd_count(NULL), 0);
	ck_assert(!htpasswd_has(NULL, "a", 1));
	ck_assert(!htpasswd_verify(NULL, "a", 1, "b", 1));
}
END_TEST

START_TEST(parse_accepts_crlf_everywhere)
{
	struct htpasswd *h = parse_str("# c\r\n\r\n \t\r\nerin:" H_Y "\r\n"
	    "alice:" H_2Y "\r\n", NULL, 0);

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(htpasswd_count(h), 2);
	ck_assert(verify(h, "erin", "correct horse"));
	ck_assert(verify(h, "alice", "open sesame"));
	htpasswd_free(h);
}
END_TEST

/*
 * Parsing what is refused
 */

struct bad_case {
	const char	*name;
	const char	*text;
	const char	*err;		/* the message it must start with */
};

static const struct bad_case bad_cases[] = {
	{ "apr1 md5", "# x\ncarol:$apr1$D7rVL19G$ILKupM4z4SVDja5eYZ15h1\n",
	    "line 2: MD5 ($apr1$) hash refused" },
	{ "sha1", "dave:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=",
	    "line 1: SHA-1 ({SHA}) hash refused" },
	{ "des crypt", "erin:B6AfgpOzRTAmc", "line 1: not a crypt hash" },
	{ "plain text", "bob:secret\n", "line 1: not a crypt hash" },
	{ "empty hash", "bob:\n", "line 1: not a crypt hash" },
	{ "md5 crypt", "bob:$1$abcdefgh$abcdefghijklmnopqrstuv\n",
	    "line 1: unsupported hash method" },
	{ "sha256 crypt", "bob:$5$abc$def\n",
	    "line 1: unsupported hash method" },
	{ "capital Y", "bob:$Y$j9T$1N/tS/XWdPl2JXjmR.bfV/$"
	    "Ap7wuEl2Bj//pJguhZCk6oFrUy9536CNj7/eg7/2o/A",
	    "line 1: unsupported hash method" },
	{ "yescrypt setting only", "bob:$y$j9T$1N/tS/XWdPl2JXjmR.bfV/\n",
	    "line 1: malformed hash" },
	{ "yescrypt cut short", "bob:" H_2Y "\nerin:$y$j9T$1N/tS/XWdPl2JXjmR"
	    ".bfV/$Ap7wuEl2Bj//pJguhZCk6oFrUy9536CNj7/eg7/2o/\n",
	    "line 2: malformed hash" },
	{ "yescrypt without params", "bob:$y$$1N/tS/XWdPl2JXjmR.bfV/$"
	    "Ap7wuEl2Bj//pJguhZCk6oFrUy9536CNj7/eg7/2o/A",
	    "line 1: malformed hash" },
	{ "bcrypt cut short", "bob:$2y$05$xdTfbl0rS9EhzTTfSiGsG.ysmYW0PEb3wm\n",
	    "line 1: malformed hash" },
	{ "bcrypt bad cost", "bob:$2y$x5$xdTfbl0rS9EhzTTfSiGsG.ysmYW0PEb3wmz"
	    "jSTW.gOlAncWjKM.h2", "line 1: malformed hash" },
	{ "sha512 setting only", "bob:$6$Apmsrdrn0VPHACNE\n",
	    "line 1: malformed hash" },
	{ "blank inside hash", "bob:$2y$05$xdTfbl0rS9EhzTTfSiGsG.ysmYW0 "
	    "b3wmzjSTW.gOlAncWjKM.h2", "line 1: malformed hash" },
	{ "bare CR", "alice:" H_2Y "\rX\n", "line 1: malformed hash" },
	{ "no colon", "alice\n", "line 1: no ':' between user and hash" },
	{ "duplicate", "alice:" H_2Y "\nbob:" H_2Y4 "\nalice:" H_Y "\n",
	    "line 3: user already on line 1" },
	{ "two duplicates", "b:" H_2Y "\na:" H_2Y "\na:" H_2Y "\nb:" H_2Y,
	    "line 3: user already on line 2" },
	{ "three times", "a:" H_2Y "\nb:" H_2Y "\na:" H_2Y "\nc:" H_2Y
	    "\na:" H_2Y "\nb:" H_2Y, "line 3: user already on line 1" },
	{ "empty user", ":" H_2Y, "line 1: empty user name" },
	{ "group name", "@staff:" H_2Y,
	    "line 1: user name starts with '@' or '#'" },
	{ "space in user", "al ice:" H_2Y,
	    "line 1: user name holds a control character" },
	{ "leading space", " alice:" H_2Y,
	    "line 1: user name holds a control character" },
	{ "tab in user", "al\tice:" H_2Y,
	    "line 1: user name holds a control character" },
	{ "control in user", "al\x01ice:" H_2Y,
	    "line 1: user name holds a control character" },
	{ "DEL in user", "al\x7fice:" H_2Y,
	    "line 1: user name holds a control character" },
	{ "C1 control in user", "al\xc2\x85ice:" H_2Y,
	    "line 1: user name holds a control character" },
	{ "latin-1 user", "j\xfcrgen:" H_2Y, "line 1: user name is not UTF-8" },
	{ "overlong utf-8", "a\xc0\xaf" "b:" H_2Y,
	    "line 1: user name is not UTF-8" },
	{ "65-byte user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaa:" H_2Y,
	    "line 1: user name longer than 64 bytes" },
};

START_TEST(parse_refuses_with_the_line_and_reason)
{
	const struct bad_case *c = &bad_cases[_i];
	char err[160];
	struct htpasswd *h;

	memset(err, 'x', sizeof(err));
	h = parse_str(c->text, err, sizeof(err));
	ck_assert_msg(h == NULL, "%s: accepted", c->name);
	ck_assert_msg(memchr(err, '\0', sizeof(err)) != NULL, "%s: no NUL",
	    c->name);
	ck_assert_msg(strncmp(err, c->err, strlen(c->err)) == 0,
	    "%s: got \"%s\", want \"%s...\"", c->name, err, c->err);
}
END_TEST

START_TEST(parse_refuses_a_nul_byte)
{
	static const char text[] = "alice:" H_2Y "\nbob\0:" H_2Y4 "\n";
	char err[128] = "";
	char *g = tu_guarded(text, sizeof(text) - 1);

	ck_assert_ptr_null(htpasswd_parse(g, sizeof(text) - 1, err,
	    sizeof(err)));
	ck_assert_str_eq(err, "line 2: user name holds a control character, "
	    "space or ':'");
	tu_guard_free(g);
}
END_TEST

START_TEST(parse_accepts_a_64_byte_user_and_a_1024_byte_line)
{
	char text[2048], err[128] = "";
	struct htpasswd *h;
	int n;

	n = snprintf(text, sizeof(text), "%.64s:" H_2Y "\n#%01023d\n",
	    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	    "ffff", 0);
	ck_assert_int_lt(n, (int)sizeof(text));
	/* The comment line is '#' and 1023 digits: 1024 bytes. */
	h = parse_str(text, err, sizeof(err));
	ck_assert_msg(h != NULL, "refused: %s", err);
	ck_assert_uint_eq(htpasswd_count(h), 1);
	htpasswd_free(h);
}
END_TEST

START_TEST(parse_refuses_a_1025_byte_line)
{
	char text[2048], err[128] = "";

	ck_assert_int_lt(snprintf(text, sizeof(text), "alice:" H_2Y
	    "\r\n#%01024d\r\n", 0), (int)sizeof(text));
	ck_assert_ptr_null(parse_str(text, err, sizeof(err)));
	ck_assert_str_eq(err, "line 2: line longer than 1024 bytes");
}
END_TEST

/* A file of n users u0, u1, ... each with the same bcrypt hash. */
static char *
many_users(size_t n, size_t *len)
{
	size_t cap = n * (16 + sizeof(H_2Y)) + 1, o = 0;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(text + o, cap - o, "u%zu:%s\n", i, H_2Y);

		ck_assert(w > 0 && (size_t)w < cap - o);
		o += (size_t)w;
	}
	*len = o;
	return text;
}

START_TEST(parse_bounds_the_number_of_users)
{
	char err[128] = "";
	size_t len;
	char *text = many_users(HTPASSWD_MAX_USERS, &len);
	char *g = tu_guarded(text, len);
	struct htpasswd *h = htpasswd_parse(g, len, err, sizeof(err));

	ck_assert_msg(h != NULL, "refused: %s", err);
	ck_assert_uint_eq(htpasswd_count(h), HTPASSWD_MAX_USERS);
	ck_assert(has(h, "u0") && has(h, "u9999") && !has(h, "u10000"));
	htpasswd_free(h);
	tu_guard_free(g);
	free(text);

	text = many_users(HTPASSWD_MAX_USERS + 1, &len);
	g = tu_guarded(text, len);
	ck_assert_ptr_null(htpasswd_parse(g, len, err, sizeof(err)));
	ck_assert_str_eq(err, "line 10001: more than 10000 users");
	tu_guard_free(g);
	free(text);
}
END_TEST

START_TEST(parse_refuses_text_over_the_file_limit)
{
	size_t len = HTPASSWD_FILE_MAX + 1;
	char *text = malloc(len), err[128] = "";

	ck_assert_ptr_nonnull(text);
	memset(text, '\n', len);
	ck_assert_ptr_null(htpasswd_parse(text, len, err, sizeof(err)));
	ck_assert_str_eq(err, "file larger than 10485760 bytes");
	free(text);
}
END_TEST

START_TEST(parse_cuts_the_message_to_errcap)
{
	char err[8];

	memset(err, 'x', sizeof(err));
	ck_assert_ptr_null(parse_str("bob:secret", err, sizeof(err)));
	ck_assert_str_eq(err, "line 1:");
	ck_assert_ptr_null(parse_str("bob:secret", NULL, 0));
}
END_TEST

/*
 * Names
 */

START_TEST(user_valid_follows_the_name_rules)
{
	ck_assert(htpasswd_user_valid("alice", 5));
	ck_assert(htpasswd_user_valid("j\xc3\xbcrgen", 7));
	ck_assert(htpasswd_user_valid("a@b.example", 11));
	ck_assert(htpasswd_user_valid("\xe5\xb1\xb1\xe7\x94\xb0", 6));
	ck_assert(!htpasswd_user_valid("", 0));
	ck_assert(!htpasswd_user_valid(NULL, 0));
	ck_assert(!htpasswd_user_valid("@g", 2));
	ck_assert(!htpasswd_user_valid("#c", 2));
	ck_assert(!htpasswd_user_valid("a:b", 3));
	ck_assert(!htpasswd_user_valid("a b", 3));
	ck_assert(!htpasswd_user_valid("a\nb", 3));
	ck_assert(!htpasswd_user_valid("a\0b", 3));
	ck_assert(!htpasswd_user_valid("\xed\xa0\x80", 3));
	ck_assert(!htpasswd_user_valid("\xc3", 1));
}
END_TEST

/*
 * Verifying
 */

START_TEST(verify_refuses_nul_and_overlong_passwords)
{
	struct htpasswd *h = parse_str(good_file, NULL, 0);
	char *big = malloc(HTPASSWD_PASS_MAX + 1);

	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_nonnull(big);
	/* bcrypt reads up to the NUL: "open sesame\0junk" must not pass. */
	ck_assert(!htpasswd_verify(h, "alice", 5, "open sesame\0junk", 16));
	ck_assert(htpasswd_verify(h, "alice", 5, "open sesame", 11));
	memset(big, 'a', HTPASSWD_PASS_MAX + 1);
	ck_assert(!htpasswd_verify(h, "alice", 5, big, HTPASSWD_PASS_MAX + 1));
	ck_assert(!htpasswd_verify(h, "alice", 5, NULL, 3));
	/* The user name is bytes too: no prefix match, no NUL trick. */
	ck_assert(!htpasswd_verify(h, "alice\0", 6, "open sesame", 11));
	ck_assert(!htpasswd_verify(h, "alic", 4, "open sesame", 11));
	free(big);
	htpasswd_free(h);
}
END_TEST

START_TEST(verify_unknown_user_costs_like_a_wrong_password)
{
	struct htpasswd *h = parse_str(good_file, NULL, 0);
	double wrong = 1e9, unknown = 1e9;

	ck_assert_ptr_nonnull(h);
	/* The first call makes the dummy setting: leave it out. */
	(void)time_verify(h, "nobody", "x");
	for (int i = 0; i < 3; i++) {
		double w = time_verify(h, "erin", "wrong horse");
		double u = time_verify(h, "nobody", "wrong horse");

		wrong = w < wrong ? w : wrong;
		unknown = u < unknown ? u : unknown;
	}
	fprintf(stderr, "yescrypt verify: wrong password %.1f ms, "
	    "unknown user %.1f ms\n", wrong * 1e3, unknown * 1e3);
	ck_assert_msg(unknown >= wrong / 2, "unknown user %.1f ms, wrong "
	    "password %.1f ms", unknown * 1e3, wrong * 1e3);
	htpasswd_free(h);
}
END_TEST

/* One thread's share of verify_is_thread_safe. */
static void *
verify_thread(void *arg)
{
	const struct htpasswd *h = arg;
	bool ok = true;

	for (size_t i = 0; i < NELEM(verify_cases); i++) {
		const struct verify_case *c = &verify_cases[i];

		ok = ok && htpasswd_verify(h, c->user, strlen(c->user), c->pass,
		    strlen(c->pass));
		ok = ok && !htpasswd_verify(h, c->user, strlen(c->user), "no",
		    2);
	}
	ok = ok && !htpasswd_verify(h, "nobody", 6, "no", 2);
	return ok ? arg : NULL;
}

START_TEST(verify_is_thread_safe)
{
	struct htpasswd *h = parse_str(good_file, NULL, 0);
	pthread_t t[4];

	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < NELEM(t); i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, verify_thread, h),
		    0);
	for (size_t i = 0; i < NELEM(t); i++) {
		void *r = NULL;

		ck_assert_int_eq(pthread_join(t[i], &r), 0);
		ck_assert_ptr_eq(r, h);
	}
	htpasswd_free(h);
}
END_TEST

/*
 * Hashing
 */

START_TEST(hash_makes_a_yescrypt_hash_that_verifies)
{
	char out[HTPASSWD_HASH_CAP], out2[HTPASSWD_HASH_CAP], text[256];
	struct htpasswd *h;

	ck_assert_int_eq(htpasswd_hash("p\xc3\xa4ss word", 10, out,
	    sizeof(out)), 0);
	ck_assert_int_eq(strncmp(out, "$y$", 3), 0);
	ck_assert(crypt_matches("p\xc3\xa4ss word", out));
	ck_assert(!crypt_matches("p\xc3\xa4ss wore", out));
	/* A fresh salt each time. */
	ck_assert_int_eq(htpasswd_hash("p\xc3\xa4ss word", 10, out2,
	    sizeof(out2)), 0);
	ck_assert_str_ne(out, out2);
	/* The parser takes what the hasher makes. */
	ck_assert_int_lt(snprintf(text, sizeof(text), "me:%s\n", out),
	    (int)sizeof(text));
	h = parse_str(text, NULL, 0);
	ck_assert_ptr_nonnull(h);
	ck_assert(verify(h, "me", "p\xc3\xa4ss word"));
	htpasswd_free(h);
}
END_TEST

START_TEST(hash_refuses_bad_passwords_and_small_buffers)
{
	char out[HTPASSWD_HASH_CAP];

	ck_assert_int_eq(htpasswd_hash("", 0, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(htpasswd_hash("a\0b", 3, out, sizeof(out)), -1);
	ck_assert_int_eq(htpasswd_hash(NULL, 3, out, sizeof(out)), -1);
	ck_assert_int_eq(htpasswd_hash("abc", 3, out, 20), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(htpasswd_hash("abc", 3, NULL, 0), -1);
}
END_TEST

/*
 * Loading
 */

START_TEST(load_reads_a_private_file)
{
	char *dir = tu_mkdtemp(), path[4096], err[4200] = "";
	struct htpasswd *h;

	tu_write_file(dir, "users", good_file, sizeof(good_file) - 1);
	join(path, dir, "users");
	ck_assert_int_eq(chmod(path, 0640), 0);
	h = htpasswd_load(path, err, sizeof(err));
	ck_assert_msg(h != NULL, "refused: %s", err);
	ck_assert_uint_eq(htpasswd_count(h), 7);
	ck_assert(verify(h, "alice", "open sesame"));
	htpasswd_free(h);
	tu_rmtree(dir);
}
END_TEST

START_TEST(load_refuses_unsafe_or_broken_files)
{
	char *dir = tu_mkdtemp(), path[4096], want[4200], err[4200];

	tu_write_file(dir, "users", good_file, sizeof(good_file) - 1);
	join(path, dir, "users");
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_ptr_null(htpasswd_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s' is world-writable: chmod o-w it",
	    path);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_null(htpasswd_load(dir, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s' is not a regular file", dir);
	ck_assert_str_eq(err, want);

	join(path, dir, "fifo");
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_ptr_null(htpasswd_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s' is not a regular file", path);
	ck_assert_str_eq(err, want);

	join(path, dir, "missing");
	ck_assert_ptr_null(htpasswd_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "cannot open '%s': No such file or "
	    "directory", path);
	ck_assert_str_eq(err, want);

	tu_write_file(dir, "old", "x:y\n", 4);
	join(path, dir, "old");
	ck_assert_ptr_null(htpasswd_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s': line 1: not a crypt hash", path);
	ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
	tu_rmtree(dir);
}
END_TEST

START_TEST(load_refuses_a_file_over_the_limit)
{
	char *dir = tu_mkdtemp(), path[4096], want[4200], err[4200];
	int fd;

	join(path, dir, "big");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, HTPASSWD_FILE_MAX + 1), 0);
	close(fd);
	ck_assert_ptr_null(htpasswd_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s' is larger than 10485760 bytes",
	    path);
	ck_assert_str_eq(err, want);
	tu_rmtree(dir);
}
END_TEST

/*
 * Writing
 */

START_TEST(set_user_creates_a_private_file)
{
	char *dir = tu_mkdtemp(), path[4096], hash[256];
	struct stat st;
	char *text;

	join(path, dir, "users");
	ck_assert_int_eq(htpasswd_set_user(path, "alice", "tr0ub4dor", 9), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	text = slurp(path);
	ck_assert(hash_of(text, "alice", hash, sizeof(hash)));
	ck_assert_int_eq(strncmp(hash, "$y$", 3), 0);
	ck_assert(crypt_matches("tr0ub4dor", hash));
	ck_assert_uint_eq(strlen(text), 6 + strlen(hash) + 1);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	free(text);
	/* No temporary file left behind. */
	ck_assert_uint_eq(dir_entries(dir), 1);

	/* A bare file name lives in the working directory. */
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(htpasswd_set_user("users", "bob", "pw", 2), 0);
	text = slurp("users");
	ck_assert(hash_of(text, "bob", hash, sizeof(hash)));
	ck_assert(crypt_matches("pw", hash));
	ck_assert(hash_of(text, "alice", hash, sizeof(hash)));
	free(text);
	ck_assert_uint_eq(dir_entries("."), 1);
	ck_assert_int_eq(chdir("/"), 0);
	tu_rmtree(dir);
}
END_TEST

static const char kept_file[] =
    "# accounts for the family\r\n"
    "alice:" H_2Y "\r\n"
    "\r\n"
    "bob:" H_2Y4 "\r\n"
    "  # keep me too\n"
    "carol:" H_2B;

START_TEST(set_user_changes_one_line_and_keeps_the_rest)
{
	char *dir = tu_mkdtemp(), path[4096], hash[256], want[4096];
	struct stat st;
	char *text;
	struct htpasswd *h;

	tu_write_file(dir, "users", kept_file, sizeof(kept_file) - 1);
	join(path, dir, "users");
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(htpasswd_set_user(path, "bob", "new pass", 8), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	text = slurp(path);
	ck_assert(hash_of(text, "bob", hash, sizeof(hash)));
	ck_assert(crypt_matches("new pass", hash));
	snprintf(want, sizeof(want), "# accounts for the family\r\n"
	    "alice:" H_2Y "\r\n\r\nbob:%s\r\n  # keep me too\ncarol:" H_2B,
	    hash);
	ck_assert_str_eq(text, want);
	free(text);

	/* A new user goes at the end, after a LF the last line lacked. */
	ck_assert_int_eq(htpasswd_set_user(path, "d\xc3\xa1ve", "pw", 2), 0);
	text = slurp(path);
	ck_assert(hash_of(text, "d\xc3\xa1ve", hash, sizeof(hash)));
	ck_assert(crypt_matches("pw", hash));
	ck_assert_ptr_nonnull(strstr(text, "carol:" H_2B "\nd\xc3\xa1ve:"));
	h = htpasswd_load(path, NULL, 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(htpasswd_count(h), 4);
	ck_assert(verify(h, "d\xc3\xa1ve", "pw"));
	ck_assert(verify(h, "bob", "new pass"));
	ck_assert(verify(h, "alice", "open sesame"));
	htpasswd_free(h);
	free(text);
	ck_assert_uint_eq(dir_entries(dir), 1);
	tu_rmtree(dir);
}
END_TEST

START_TEST(set_user_replaces_a_refused_hash_and_drops_duplicates)
{
	static const char old[] = "bob:$apr1$D7rVL19G$ILKupM4z4SVDja5eYZ15h1\n"
	    "alice:" H_2Y "\nbob:plain\n";
	char *dir = tu_mkdtemp(), path[4096], hash[256], want[4096];
	char *text;

	tu_write_file(dir, "users", old, sizeof(old) - 1);
	join(path, dir, "users");
	ck_assert_int_eq(htpasswd_set_user(path, "bob", "better", 6), 0);
	text = slurp(path);
	ck_assert(hash_of(text, "bob", hash, sizeof(hash)));
	snprintf(want, sizeof(want), "bob:%s\nalice:" H_2Y "\n", hash);
	ck_assert_str_eq(text, want);
	free(text);
	tu_rmtree(dir);
}
END_TEST

START_TEST(set_user_refuses_bad_names_links_and_passwords)
{
	char *dir = tu_mkdtemp(), path[4096], link[4096];
	char *text;

	tu_write_file(dir, "users", kept_file, sizeof(kept_file) - 1);
	join(path, dir, "users");
	join(link, dir, "link");
	ck_assert_int_eq(symlink("users", link), 0);
	ck_assert_int_eq(htpasswd_set_user(link, "bob", "x", 1), -1);
	ck_assert_int_eq(htpasswd_set_user(path, "@bob", "x", 1), -1);
	ck_assert_int_eq(htpasswd_set_user(path, "b:ob", "x", 1), -1);
	ck_assert_int_eq(htpasswd_set_user(path, "bob", "", 0), -1);
	ck_assert_int_eq(htpasswd_set_user(path, "bob", "a\0b", 3), -1);
	ck_assert_int_eq(htpasswd_set_user(dir, "bob", "x", 1), -1);
	text = slurp(path);
	ck_assert_str_eq(text, kept_file);
	free(text);
	ck_assert_uint_eq(dir_entries(dir), 2);
	tu_rmtree(dir);
}
END_TEST

/*
 * Runs htpasswd_passwd_main(file, user) in a child with input as its
 * stdin (a pipe, not a terminal); returns its exit status.
 */
static int
run_passwd_main(const char *file, const char *user, const char *input)
{
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[1]);
		if (dup2(fds[0], STDIN_FILENO) == -1)
			_exit(99);
		close(fds[0]);
		_exit(htpasswd_passwd_main(file, user));
	}
	close(fds[0]);
	ck_assert_int_eq(write(fds[1], input, strlen(input)),
	    (ssize_t)strlen(input));
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(passwd_main_reads_one_line_from_a_pipe)
{
	char *dir = tu_mkdtemp(), path[4096], hash[256];
	char *text;

	join(path, dir, "users");
	ck_assert_int_eq(run_passwd_main(path, "alice", "first one\nsecond\n"),
	    0);
	text = slurp(path);
	ck_assert(hash_of(text, "alice", hash, sizeof(hash)));
	ck_assert(crypt_matches("first one", hash));
	free(text);

	/* CRLF input loses both; no newline at all is fine. */
	ck_assert_int_eq(run_passwd_main(path, "bob", "crlf pass\r\n"), 0);
	ck_assert_int_eq(run_passwd_main(path, "carol", "no newline"), 0);
	text = slurp(path);
	ck_assert(hash_of(text, "bob", hash, sizeof(hash)));
	ck_assert(crypt_matches("crlf pass", hash));
	ck_assert(hash_of(text, "carol", hash, sizeof(hash)));
	ck_assert(crypt_matches("no newline", hash));
	ck_assert(hash_of(text, "alice", hash, sizeof(hash)));
	ck_assert(crypt_matches("first one", hash));
	free(text);

	ck_assert_int_eq(run_passwd_main(path, "dave", "\n"), 1);
	ck_assert_int_eq(run_passwd_main(path, "dave", ""), 1);
	ck_assert_int_eq(run_passwd_main(path, "da ve", "pw\n"), 1);
	text = slurp(path);
	ck_assert_ptr_null(strstr(text, "dave"));
	free(text);
	tu_rmtree(dir);
}
END_TEST

START_TEST(passwd_main_refuses_an_overlong_password)
{
	char *dir = tu_mkdtemp(), path[4096];
	char *pw = malloc(HTPASSWD_PASS_MAX + 3);

	ck_assert_ptr_nonnull(pw);
	join(path, dir, "users");
	memset(pw, 'p', HTPASSWD_PASS_MAX);
	strcpy(pw + HTPASSWD_PASS_MAX, "\n");
	ck_assert_int_eq(run_passwd_main(path, "max", pw), 0);
	memset(pw, 'p', HTPASSWD_PASS_MAX + 1);
	strcpy(pw + HTPASSWD_PASS_MAX + 1, "\n");
	ck_assert_int_eq(run_passwd_main(path, "over", pw), 1);
	free(pw);
	tu_rmtree(dir);
}
END_TEST

/*
 * Reads from the pty master fd, appending to out (cap bytes, kept
 * NUL-terminated at *len), until out holds want or 10 s pass.  Returns
 * true when it does.
 */
static bool
pty_wait_for(int fd, char *out, size_t cap, size_t *len, const char *want)
{
	for (int tries = 0; tries < 100 && strstr(out, want) == NULL; tries++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, out + *len, cap - 1 - *len);
		if (n <= 0)
			return false;
		*len += (size_t)n;
		out[*len] = '\0';
	}
	return strstr(out, want) != NULL;
}

/*
 * Runs htpasswd_passwd_main(file, user) in a child whose stdin and
 * stderr are a new pseudo-terminal, answers the two prompts with first
 * and second, and returns the exit status with what the terminal showed
 * in shown (cap bytes).
 */
static int
run_passwd_tty(const char *file, const char *user, const char *first,
    const char *second, char *shown, size_t cap)
{
	size_t len = 0;
	int m, status;
	pid_t pid;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int s;

		if (setsid() == -1 || (s = open(ptsname(m), O_RDWR)) == -1 ||
		    dup2(s, STDIN_FILENO) == -1 || dup2(s, STDERR_FILENO) == -1)
			_exit(99);
		_exit(htpasswd_passwd_main(file, user));
	}
	shown[0] = '\0';
	/* Answer only once asked: TCSAFLUSH drops what came before. */
	ck_assert(pty_wait_for(m, shown, cap, &len, "New password: "));
	ck_assert_int_eq(write(m, first, strlen(first)),
	    (ssize_t)strlen(first));
	ck_assert(pty_wait_for(m, shown, cap, &len, "Retype new password: "));
	ck_assert_int_eq(write(m, second, strlen(second)),
	    (ssize_t)strlen(second));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	(void)pty_wait_for(m, shown, cap, &len, "\001never");
	close(m);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(passwd_main_asks_twice_on_a_terminal_without_echo)
{
	char *dir = tu_mkdtemp(), path[4096], hash[256], shown[4096];
	char *text;

	join(path, dir, "users");
	ck_assert_int_eq(run_passwd_tty(path, "alice", "tty secret\n",
	    "tty secret\n", shown, sizeof(shown)), 0);
	ck_assert_msg(strstr(shown, "tty secret") == NULL, "echoed: %s",
	    shown);
	text = slurp(path);
	ck_assert(hash_of(text, "alice", hash, sizeof(hash)));
	ck_assert(crypt_matches("tty secret", hash));
	free(text);

	ck_assert_int_eq(run_passwd_tty(path, "bob", "one\n", "two\n", shown,
	    sizeof(shown)), 1);
	ck_assert_ptr_nonnull(strstr(shown, "the passwords do not match"));
	ck_assert(strstr(shown, "one") == NULL && strstr(shown, "two") == NULL);
	text = slurp(path);
	ck_assert_ptr_null(strstr(text, "bob"));
	free(text);
	tu_rmtree(dir);
}
END_TEST

static Suite *
htpasswd_suite(void)
{
	Suite *s = suite_create("htpasswd");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc,
	    parse_accepts_each_hash_kind_comments_and_blank_lines);
	tcase_add_test(tc, parse_accepts_an_empty_file);
	tcase_add_test(tc, parse_accepts_crlf_everywhere);
	tcase_add_loop_test(tc, parse_refuses_with_the_line_and_reason, 0,
	    NELEM(bad_cases));
	tcase_add_test(tc, parse_refuses_a_nul_byte);
	tcase_add_test(tc, parse_accepts_a_64_byte_user_and_a_1024_byte_line);
	tcase_add_test(tc, parse_refuses_a_1025_byte_line);
	tcase_add_test(tc, parse_bounds_the_number_of_users);
	tcase_add_test(tc, parse_refuses_text_over_the_file_limit);
	tcase_add_test(tc, parse_cuts_the_message_to_errcap);
	tcase_add_test(tc, user_valid_follows_the_name_rules);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	/* yescrypt takes tens of ms, more under sanitizers or load. */
	tc = tcase_create("verify");
	tcase_add_loop_test(tc, verify_true_only_for_the_right_password, 0,
	    NELEM(verify_cases));
	tcase_add_test(tc, verify_refuses_nul_and_overlong_passwords);
	tcase_add_test(tc, verify_unknown_user_costs_like_a_wrong_password);
	tcase_add_test(tc, verify_is_thread_safe);
	tcase_add_test(tc, hash_makes_a_yescrypt_hash_that_verifies);
	tcase_add_test(tc, hash_refuses_bad_passwords_and_small_buffers);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, load_reads_a_private_file);
	tcase_add_test(tc, load_refuses_unsafe_or_broken_files);
	tcase_add_test(tc, load_refuses_a_file_over_the_limit);
	tcase_add_test(tc, set_user_creates_a_private_file);
	tcase_add_test(tc, set_user_changes_one_line_and_keeps_the_rest);
	tcase_add_test(tc,
	    set_user_replaces_a_refused_hash_and_drops_duplicates);
	tcase_add_test(tc, set_user_refuses_bad_names_links_and_passwords);
	tcase_add_test(tc, passwd_main_reads_one_line_from_a_pipe);
	tcase_add_test(tc, passwd_main_refuses_an_overlong_password);
	tcase_add_test(tc, passwd_main_asks_twice_on_a_terminal_without_echo);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(htpasswd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
