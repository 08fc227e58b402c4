/*
 * check_config.c - unit tests for config.h: defaults, ini files and their
 * error messages, listen addresses, command-line settings and the checks
 * of config_finish().
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"
#include "testutil.h"

/*
 * Every test gets a fresh config, an empty error list and a temporary
 * directory that holds its httpd.ini.
 */
static char			*g_dir;
static char			 g_ini[PATH_MAX];
static struct config		*g_c;
static struct config_errors	 g_errs;

static void
cfg_setup(void)
{
	g_dir = tu_mkdtemp();
	ck_assert_int_lt(snprintf(g_ini, sizeof(g_ini), "%s/httpd.ini", g_dir),
	    (int)sizeof(g_ini));
	g_c = config_new();
	ck_assert_ptr_nonnull(g_c);
	memset(&g_errs, 0, sizeof(g_errs));
}

static void
cfg_teardown(void)
{
	config_free(g_c);
	g_c = NULL;
	config_errors_release(&g_errs);
	tu_rmtree(g_dir);
	g_dir = NULL;
}

static const char *
errs_text(void)
{
	return g_errs.text != NULL ? g_errs.text : "";
}

/* Writes text as httpd.ini and loads it into g_c. */
static unsigned
load(const char *text)
{
	tu_write_file(g_dir, "httpd.ini", text, strlen(text));
	return config_load_file(g_c, g_ini, &g_errs);
}

/* Asserts that the collected errors contain "<ini>:<line>: <what>". */
static void
expect_line_error(int line, const char *what)
{
	char want[PATH_MAX + 256];

	snprintf(want, sizeof(want), "%s:%d: %s", g_ini, line, what);
	ck_assert_msg(strstr(errs_text(), want) != NULL,
	    "expected an error \"%s\", got:\n%s", want, errs_text());
}

static void
expect_error(const char *what)
{
	ck_assert_msg(strstr(errs_text(), what) != NULL,
	    "expected an error containing \"%s\", got:\n%s", what, errs_text());
}

static void
expect_no_errors(unsigned n)
{
	ck_assert_msg(n == 0 && g_errs.count == 0,
	    "expected no errors, got %u:\n%s", n, errs_text());
}

/*
 * Defaults and plain loading.
 */

START_TEST(defaults_match_documentation)
{
	ck_assert_uint_eq(g_c->port, 8080);
	ck_assert_uint_eq(g_c->threads, 0);
	ck_assert_uint_eq(g_c->queue_size, 1024);
	ck_assert_uint_eq(g_c->max_connections, 10000);
	ck_assert_uint_eq(g_c->header_timeout_ms, 10000);
	ck_assert_uint_eq(g_c->keepalive_timeout_ms, 15000);
	ck_assert_uint_eq(g_c->send_timeout_ms, 60000);
	ck_assert_uint_eq(g_c->shutdown_timeout_ms, 10000);
	ck_assert_str_eq(g_c->index, "index.html");
	ck_assert(!g_c->allow_hidden);
	ck_assert_int_eq(g_c->symlinks, SYMLINKS_INSIDE);
	ck_assert_uint_eq(g_c->max_header_size, 16384);
	ck_assert_int_eq(g_c->log_level, LOG_LVL_INFO);
	ck_assert_uint_eq(g_c->nlisten, 0);
	ck_assert_int_eq(g_c->root_fd, -1);
	ck_assert_ptr_null(g_c->root_real);
	ck_assert_ptr_null(g_c->mime);
	ck_assert_ptr_null(g_c->path);
}
END_TEST

START_TEST(empty_file_is_valid)
{
	expect_no_errors(load(""));
	ck_assert_str_eq(g_c->path, g_ini);
	ck_assert_uint_eq(g_c->port, 8080);
}
END_TEST

START_TEST(comments_only_file_is_valid)
{
	expect_no_errors(load("; semicolon comment\n# hash comment\n\n"
	    "[server]\n  ; indented comment\n# another\n"));
}
END_TEST

START_TEST(every_key_parses)
{
	static const char text[] =
	    "[server]\n"
	    "port = 9000\n"
	    "root = /srv/share\n"
	    "threads = 3\n"
	    "listen = 127.0.0.1:8081, [::1]:8082\n"
	    "queue_size = 64\n"
	    "max_connections = 500\n"
	    "header_timeout = 5s\n"
	    "keepalive_timeout = 500ms\n"
	    "send_timeout = 2m\n"
	    "shutdown_timeout = 0\n"
	    "index = home.htm\n"
	    "hidden_files = allow\n"
	    "follow_symlinks = none\n"
	    "max_header_size = 16K\n"
	    "[log]\n"
	    "access_log = off\n"
	    "error_log = /var/log/lanhttpd.log\n"
	    "level = debug\n"
	    "[mime]\n"
	    "types_file = /etc/mime.types\n"
	    "foo = text/x-foo\n";

	expect_no_errors(load(text));
	ck_assert_uint_eq(g_c->port, 9000);
	ck_assert_str_eq(g_c->root, "/srv/share");
	ck_assert_uint_eq(g_c->threads, 3);
	ck_assert_uint_eq(g_c->nlisten, 2);
	ck_assert_int_eq(g_c->listen[0].addr.ss_family, AF_INET);
	ck_assert_uint_eq(g_c->listen[0].port, 8081);
	ck_assert_int_eq(g_c->listen[1].addr.ss_family, AF_INET6);
	ck_assert_uint_eq(g_c->listen[1].port, 8082);
	ck_assert_uint_eq(g_c->queue_size, 64);
	ck_assert_uint_eq(g_c->max_connections, 500);
	ck_assert_uint_eq(g_c->header_timeout_ms, 5000);
	ck_assert_uint_eq(g_c->keepalive_timeout_ms, 500);
	ck_assert_uint_eq(g_c->send_timeout_ms, 120000);
	ck_assert_uint_eq(g_c->shutdown_timeout_ms, 0);
	ck_assert_str_eq(g_c->index, "home.htm");
	ck_assert(g_c->allow_hidden);
	ck_assert_int_eq(g_c->symlinks, SYMLINKS_NONE);
	ck_assert_uint_eq(g_c->max_header_size, 16384);
	ck_assert_str_eq(g_c->access_log, "off");
	ck_assert_str_eq(g_c->error_log, "/var/log/lanhttpd.log");
	ck_assert_int_eq(g_c->log_level, LOG_LVL_DEBUG);
	ck_assert_str_eq(g_c->types_file, "/etc/mime.types");
	ck_assert_uint_eq(g_c->nmime_pairs, 1);
	ck_assert_str_eq(g_c->mime_pairs[0].ext, "foo");
	ck_assert_str_eq(g_c->mime_pairs[0].type, "text/x-foo");
}
END_TEST

START_TEST(keys_and_sections_ignore_case)
{
	expect_no_errors(load("[Server]\nPORT = 81\nFollow_Symlinks = ALL\n"
	    "[LOG]\nlevel = Warn\n"));
	ck_assert_uint_eq(g_c->port, 81);
	ck_assert_int_eq(g_c->symlinks, SYMLINKS_ALL);
	ck_assert_int_eq(g_c->log_level, LOG_LVL_WARN);
}
END_TEST

START_TEST(durations_in_file)
{
	expect_no_errors(load("[server]\nheader_timeout = 10\n"
	    "keepalive_timeout = 10s\nsend_timeout = 2m\n"
	    "shutdown_timeout = 500ms\n"));
	ck_assert_uint_eq(g_c->header_timeout_ms, 10000);
	ck_assert_uint_eq(g_c->keepalive_timeout_ms, 10000);
	ck_assert_uint_eq(g_c->send_timeout_ms, 120000);
	ck_assert_uint_eq(g_c->shutdown_timeout_ms, 500);
}
END_TEST

/*
 * Value parsers, through config_set() (the file goes through the same
 * function, see durations_in_file).
 */

struct value_case {
	const char	*name;
	const char	*value;
	unsigned	 expected;	/* when reason is NULL */
	const char	*reason;	/* expected error text, or NULL */
};

static const struct value_case duration_cases[] = {
	{ "bare_number_is_seconds", "10", 10000, NULL },
	{ "seconds_suffix", "10s", 10000, NULL },
	{ "seconds_suffix_uppercase", "10S", 10000, NULL },
	{ "milliseconds_suffix", "500ms", 500, NULL },
	{ "minutes_suffix", "2m", 120000, NULL },
	{ "hours_suffix", "1h", 3600000, NULL },
	{ "minimum_100ms", "100ms", 100, NULL },
	{ "below_minimum", "99ms", 0, "out of range" },
	{ "zero_below_minimum", "0", 0, "out of range" },
	{ "above_one_hour", "2h", 0, "out of range" },
	{ "huge_number", "99999999999999999999999", 0, "number too large" },
	{ "negative", "-1", 0, "expected a non-negative number" },
	{ "plus_sign", "+5", 0, "expected a non-negative number" },
	{ "empty", "", 0, "expected a non-negative number" },
	{ "unit_only", "s", 0, "expected a non-negative number" },
	{ "space_before_unit", "10 s", 0, "unexpected characters" },
	{ "unknown_unit", "10x", 0, "unexpected characters" },
	{ "fraction", "1.5s", 0, "unexpected characters" },
};

static const struct value_case size_cases[] = {
	{ "bare_bytes", "8192", 8192, NULL },
	{ "lowercase_k", "8k", 8192, NULL },
	{ "uppercase_k", "16K", 16384, NULL },
	{ "kb_suffix", "8kb", 8192, NULL },
	{ "kib_suffix", "8KiB", 8192, NULL },
	{ "maximum_64k", "64k", 65536, NULL },
	{ "minimum_1024", "1024", 1024, NULL },
	/* The unit is understood; the result exceeds the key's bound. */
	{ "one_megabyte_out_of_range", "1M", 0, "out of range" },
	{ "one_gigabyte_out_of_range", "1g", 0, "out of range" },
	{ "below_minimum", "1023", 0, "out of range" },
	{ "above_maximum", "65537", 0, "out of range" },
	{ "unknown_unit", "8q", 0, "unexpected characters" },
	{ "negative", "-8k", 0, "expected a non-negative number" },
};

static void
run_value_case(const struct value_case *tc, const char *key, unsigned *field)
{
	unsigned n = config_set(g_c, "server", key, tc->value, "--test",
	    &g_errs);

	if (tc->reason == NULL) {
		ck_assert_msg(n == 0, "%s: %s = \"%s\": expected %u, got "
		    "error:\n%s", tc->name, key, tc->value, tc->expected,
		    errs_text());
		ck_assert_msg(*field == tc->expected,
		    "%s: %s = \"%s\": expected %u, got %u", tc->name, key,
		    tc->value, tc->expected, *field);
		return;
	}
	ck_assert_msg(n == 1 && strstr(errs_text(), tc->reason) != NULL,
	    "%s: %s = \"%s\": expected error \"%s\", got %u errors:\n%s",
	    tc->name, key, tc->value, tc->reason, n, errs_text());
}

START_TEST(duration_values)
{
	run_value_case(&duration_cases[_i], "header_timeout",
	    &g_c->header_timeout_ms);
}
END_TEST

START_TEST(size_values)
{
	run_value_case(&size_cases[_i], "max_header_size",
	    &g_c->max_header_size);
}
END_TEST

/*
 * Error messages: "path:line: [section] key: reason".
 */

START_TEST(bad_value_error_has_exact_format)
{
	char want[PATH_MAX + 128];
	unsigned n = load("; a comment\n[server]\nthreads = many\n");

	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(g_errs.count, 1);
	snprintf(want, sizeof(want), "%s:3: [server] threads: expected a "
	    "non-negative number (got 'many')\n", g_ini);
	ck_assert_str_eq(errs_text(), want);
}
END_TEST

START_TEST(several_errors_each_with_own_line)
{
	static const char text[] =
	    "[server]\n"			/* 1 */
	    "port = 99999\n"			/* 2 */
	    "threads = 2\n"			/* 3 */
	    "threads = -1\n"			/* 4 */
	    "nosuchkey = 1\n"			/* 5 */
	    "[bogus]\n"				/* 6 */
	    "key = 1\n"				/* 7 */
	    "[server]\n"			/* 8 */
	    "queue_size = 0\n"			/* 9 */
	    "no equals sign\n"			/* 10 */
	    "[log]\n"				/* 11 */
	    "level = loud\n";			/* 12 */
	unsigned n = load(text);

	ck_assert_msg(n == 7 && g_errs.count == 7,
	    "expected 7 errors, got %u:\n%s", n, errs_text());
	expect_line_error(2, "[server] port: bad port");
	expect_line_error(4, "[server] threads: expected a non-negative");
	expect_line_error(5, "[server] nosuchkey: unknown key");
	expect_line_error(7, "[bogus] key: unknown section");
	expect_line_error(9, "[server] queue_size: out of range");
	expect_line_error(10, "syntax error");
	expect_line_error(12, "[log] level: expected one of: error warning "
	    "warn info debug");
	/* The good line in between still applies. */
	ck_assert_uint_eq(g_c->threads, 2);
}
END_TEST

START_TEST(unknown_key_names_line)
{
	ck_assert_uint_eq(load("[server]\n\nprot = 80\n"), 1);
	expect_line_error(3, "[server] prot: unknown key");
}
END_TEST

START_TEST(unknown_section_names_line)
{
	ck_assert_uint_eq(load("[server]\nport = 80\n[sever]\nport = 81\n"), 1);
	expect_line_error(4, "[sever] port: unknown section");
	ck_assert_uint_eq(g_c->port, 80);
}
END_TEST

START_TEST(syntax_error_names_line)
{
	ck_assert_uint_eq(load("[server]\nport = 80\nthis line is not ini\n"),
	    1);
	expect_line_error(3, "syntax error");
}
END_TEST

START_TEST(unclosed_section_is_syntax_error)
{
	unsigned n = load("[server\n");

	ck_assert_uint_eq(n, 1);
	expect_line_error(1, "syntax error");
}
END_TEST

START_TEST(syntax_error_after_value_error_is_reported)
{
	/* Both lines are wrong; neither may hide the other. */
	unsigned n = load("[server]\nport = x\nno equals sign here\n");

	ck_assert_msg(n == 2 && g_errs.count == 2,
	    "expected 2 errors, got %u:\n%s", n, errs_text());
	expect_line_error(2, "[server] port: bad port");
	expect_line_error(3, "syntax error");
}
END_TEST

START_TEST(syntax_error_before_value_error_is_reported)
{
	unsigned n = load("[server]\nno equals sign here\nport = x\n");

	ck_assert_msg(n == 2 && g_errs.count == 2,
	    "expected 2 errors, got %u:\n%s", n, errs_text());
	expect_line_error(2, "syntax error");
	expect_line_error(3, "[server] port: bad port");
}
END_TEST

/* "[server]\n" + "index = " + pad x's + "\n" + tail. */
static char *
long_line_file(size_t pad, const char *tail)
{
	size_t len = 9 + 8 + pad + 1 + strlen(tail);
	char *text = malloc(len + 1);

	ck_assert_ptr_nonnull(text);
	memcpy(text, "[server]\nindex = ", 17);
	memset(text + 17, 'x', pad);
	text[17 + pad] = '\n';
	memcpy(text + 18 + pad, tail, strlen(tail) + 1);
	return text;
}

START_TEST(line_too_long_names_line)
{
	char *text = long_line_file(300, "threads = bad\n");
	unsigned n = load(text);

	ck_assert_msg(n == 2, "expected 2 errors, got %u:\n%s", n, errs_text());
	expect_line_error(2, "line too long");
	/* Line numbers after the long line stay right. */
	expect_line_error(3, "[server] threads:");
	/* The long value is not applied, not even in part. */
	ck_assert_str_eq(g_c->index, "index.html");
	free(text);
}
END_TEST

START_TEST(huge_line_reported_once)
{
	char *text = long_line_file(10000, "port = 81\nthreads = bad\n");
	unsigned n = load(text);

	ck_assert_msg(n == 2 && g_errs.count == 2,
	    "expected 2 errors, got %u:\n%s", n, errs_text());
	expect_line_error(2, "line too long");
	expect_line_error(4, "[server] threads:");
	ck_assert_uint_eq(g_c->port, 81);
	free(text);
}
END_TEST

START_TEST(line_within_limit_accepted)
{
	/* 197 characters, the limit the message names. */
	char *text = long_line_file(197 - 8, "");

	expect_no_errors(load(text));
	ck_assert_uint_eq(strlen(g_c->index), 197 - 8);
	free(text);
}
END_TEST

START_TEST(inline_comment_removed)
{
	expect_no_errors(load("[server]\nport = 81 ; the port\n"
	    "index = a;b.html\n"));
	ck_assert_uint_eq(g_c->port, 81);
	/* A ';' not preceded by whitespace belongs to the value. */
	ck_assert_str_eq(g_c->index, "a;b.html");
}
END_TEST

START_TEST(quoted_values_lose_quotes)
{
	char want[PATH_MAX + 32];

	expect_no_errors(load("[server]\nindex = \"my index.html\"\n"
	    "root = \"/srv/my share\"\n[log]\naccess_log = \"logs/a.log\"\n"));
	ck_assert_str_eq(g_c->index, "my index.html");
	ck_assert_str_eq(g_c->root, "/srv/my share");
	snprintf(want, sizeof(want), "%s/logs/a.log", g_dir);
	ck_assert_str_eq(g_c->access_log, want);
}
END_TEST

START_TEST(relative_root_resolved_against_file_dir)
{
	char want[PATH_MAX + 32];

	expect_no_errors(load("[server]\nroot = www\n[log]\n"
	    "error_log = stderr\naccess_log = off\n"));
	snprintf(want, sizeof(want), "%s/www", g_dir);
	ck_assert_str_eq(g_c->root, want);
	/* The special log targets are not paths. */
	ck_assert_str_eq(g_c->error_log, "stderr");
	ck_assert_str_eq(g_c->access_log, "off");
}
END_TEST

START_TEST(absolute_root_kept)
{
	expect_no_errors(load("[server]\nroot = /srv/share\n"));
	ck_assert_str_eq(g_c->root, "/srv/share");
}
END_TEST

START_TEST(enum_error_lists_choices)
{
	ck_assert_uint_eq(load("[server]\nhidden_files = maybe\n"), 1);
	expect_line_error(2, "[server] hidden_files: expected one of: deny "
	    "allow");
}
END_TEST

START_TEST(missing_file_is_error)
{
	char want[PATH_MAX + 64];
	unsigned n;

	snprintf(want, sizeof(want), "cannot open '%s/none.ini': No such "
	    "file or directory", g_dir);
	snprintf(g_ini, sizeof(g_ini), "%s/none.ini", g_dir);
	n = config_load_file(g_c, g_ini, &g_errs);
	ck_assert_uint_eq(n, 1);
	expect_error(want);
}
END_TEST

/*
 * Listen addresses.
 */

struct listen_case {
	const char	*name;
	const char	*in;
	const char	*reason;	/* expected error substring, or NULL */
	int		 family;	/* AF_INET, AF_INET6; AF_UNSPEC: any */
	const char	*addr;		/* inet_ntop form */
	bool		 has_port;
	uint16_t	 port;
};

static const struct listen_case listen_cases[] = {
	{ "ipv4_with_port", "127.0.0.1:8080", NULL, AF_INET, "127.0.0.1",
	    true, 8080 },
	{ "ipv6_with_port", "[::1]:9000", NULL, AF_INET6, "::1", true, 9000 },
	{ "ipv6_any_without_port", "[::]", NULL, AF_INET6, "::", false, 0 },
	{ "ipv4_mapped_ipv6", "[::ffff:10.0.0.1]:8443", NULL, AF_INET6,
	    "::ffff:10.0.0.1", true, 8443 },
	{ "star_with_port_is_wildcard", "*:80", NULL, AF_UNSPEC, NULL, true,
	    80 },
	{ "star_alone_is_wildcard", "*", NULL, AF_UNSPEC, NULL, false, 0 },
	{ "colon_port_is_wildcard", ":81", NULL, AF_UNSPEC, NULL, true, 81 },
	{ "bare_number_is_port", "8082", NULL, AF_UNSPEC, NULL, true, 8082 },
	{ "ipv4_any_without_port", "0.0.0.0", NULL, AF_INET, "0.0.0.0",
	    false, 0 },
	{ "port_zero_allowed", "127.0.0.1:0", NULL, AF_INET, "127.0.0.1",
	    true, 0 },
	{ "highest_port", "10.1.2.3:65535", NULL, AF_INET, "10.1.2.3", true,
	    65535 },

	{ "ipv6_needs_brackets", "::1:80", "brackets", 0, NULL, false, 0 },
	{ "bare_ipv6_needs_brackets", "::1", "brackets", 0, NULL, false, 0 },
	{ "missing_close_bracket", "[::1", "missing ']'", 0, NULL, false, 0 },
	{ "port_too_large", "1.2.3.4:99999", "bad port", 0, NULL, false, 0 },
	{ "bare_port_too_large", "65536", "bad port", 0, NULL, false, 0 },
	{ "empty_port", "1.2.3.4:", "bad port", 0, NULL, false, 0 },
	{ "empty_ipv6_port", "[::1]:", "bad port", 0, NULL, false, 0 },
	{ "negative_port", "1.2.3.4:-1", "bad port", 0, NULL, false, 0 },
	{ "space_in_port", "1.2.3.4: 80", "bad port", 0, NULL, false, 0 },
	{ "host_name_not_resolved", "host.name:80", "names are not resolved",
	    0, NULL, false, 0 },
	{ "localhost_not_resolved", "localhost", "names are not resolved", 0,
	    NULL, false, 0 },
	{ "three_part_ipv4", "1.2.3:80", "bad IPv4", 0, NULL, false, 0 },
	{ "ipv4_octet_too_large", "1.2.3.256:80", "bad IPv4", 0, NULL, false,
	    0 },
	{ "ipv4_in_brackets", "[1.2.3.4]:80", "bad IPv6", 0, NULL, false, 0 },
	{ "empty_brackets", "[]:80", "bad IPv6", 0, NULL, false, 0 },
	{ "junk_after_bracket", "[::1]x", "after ']'", 0, NULL, false, 0 },
};

START_TEST(listen_table)
{
	const struct listen_case *tc = &listen_cases[_i];
	struct listen_spec ls;
	const char *why = config_parse_listen(tc->in, &ls);
	char got[INET6_ADDRSTRLEN] = "";

	if (tc->reason != NULL) {
		ck_assert_msg(why != NULL && strstr(why, tc->reason) != NULL,
		    "%s: config_parse_listen(\"%s\"): expected reason with "
		    "\"%s\", got \"%s\"", tc->name, tc->in, tc->reason,
		    why != NULL ? why : "(accepted)");
		return;
	}
	ck_assert_msg(why == NULL, "%s: config_parse_listen(\"%s\"): expected "
	    "success, got \"%s\"", tc->name, tc->in, why);
	ck_assert_msg(ls.wildcard == (tc->family == AF_UNSPEC),
	    "%s: \"%s\": wildcard expected %d, got %d", tc->name, tc->in,
	    tc->family == AF_UNSPEC, ls.wildcard);
	ck_assert_msg(ls.addr.ss_family == tc->family,
	    "%s: \"%s\": family expected %d, got %d", tc->name, tc->in,
	    tc->family, ls.addr.ss_family);
	ck_assert_msg(ls.has_port == tc->has_port && ls.port == tc->port,
	    "%s: \"%s\": port expected %d/%u, got %d/%u", tc->name, tc->in,
	    tc->has_port, tc->port, ls.has_port, ls.port);
	if (tc->family == AF_INET) {
		const struct sockaddr_in *a4 = (const void *)&ls.addr;

		ck_assert_uint_eq(ls.addrlen, sizeof(*a4));
		inet_ntop(AF_INET, &a4->sin_addr, got, sizeof(got));
	} else if (tc->family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)&ls.addr;

		ck_assert_uint_eq(ls.addrlen, sizeof(*a6));
		inet_ntop(AF_INET6, &a6->sin6_addr, got, sizeof(got));
	}
	if (tc->addr != NULL)
		ck_assert_msg(strcmp(got, tc->addr) == 0,
		    "%s: \"%s\": address expected %s, got %s", tc->name,
		    tc->in, tc->addr, got);
}
END_TEST

START_TEST(listen_in_file_accumulates)
{
	expect_no_errors(load("[server]\nlisten = 127.0.0.1:8081, [::1]:8082\n"
	    "listen = :8083\n"));
	ck_assert_uint_eq(g_c->nlisten, 3);
	ck_assert_uint_eq(g_c->listen[2].port, 8083);
	ck_assert(g_c->listen[2].wildcard);
}
END_TEST

START_TEST(bad_listen_in_file_names_line)
{
	ck_assert_uint_eq(load("[server]\nport = 80\nlisten = ::1:80\n"), 1);
	expect_line_error(3, "[server] listen: IPv6 addresses go in brackets");
}
END_TEST

START_TEST(too_many_listen_addresses_is_error)
{
	/* Two lines, to stay under inih's line length limit. */
	char text[1024] = "[server]\nlisten =";

	for (int i = 0; i <= CONFIG_MAX_LISTEN; i++) {
		char one[32];

		snprintf(one, sizeof(one), "%s :%d",
		    i == CONFIG_MAX_LISTEN / 2 ? "\nlisten =" : "", 8000 + i);
		strcat(text, one);
	}
	strcat(text, "\n");
	ck_assert_uint_eq(load(text), 1);
	expect_line_error(3, "[server] listen: too many listen addresses");
}
END_TEST

/*
 * Command-line settings.
 */

START_TEST(set_from_command_line_applies)
{
	ck_assert_uint_eq(config_set(g_c, "server", "port", "9000", "-p",
	    &g_errs), 0);
	ck_assert_uint_eq(g_c->port, 9000);
	ck_assert_uint_eq(config_set(g_c, "server", "threads", "4", "-t",
	    &g_errs), 0);
	ck_assert_uint_eq(g_c->threads, 4);
	ck_assert_uint_eq(g_errs.count, 0);
}
END_TEST

START_TEST(set_error_names_origin)
{
	ck_assert_uint_eq(config_set(g_c, "server", "port", "http", "-p",
	    &g_errs), 1);
	ck_assert_str_eq(errs_text(),
	    "-p: [server] port: bad port (expected 0-65535) (got 'http')\n");
	ck_assert_uint_eq(g_c->port, 8080);
}
END_TEST

START_TEST(set_unknown_key_names_origin)
{
	ck_assert_uint_eq(config_set(g_c, "server", "nope", "1", "-s",
	    &g_errs), 1);
	ck_assert_str_eq(errs_text(), "-s: [server] nope: unknown key\n");
}
END_TEST

START_TEST(set_relative_path_kept_relative)
{
	/* On the command line a path is relative to the working directory. */
	ck_assert_uint_eq(config_set(g_c, "server", "root", "www", "-r",
	    &g_errs), 0);
	ck_assert_str_eq(g_c->root, "www");
}
END_TEST

START_TEST(override_port_replaces_listen_ports)
{
	char buf[64];

	expect_no_errors(load("[server]\nport = 81\n"
	    "listen = 127.0.0.1:8081 [::1] :8083\n"));
	config_override_port(g_c, 9999);
	ck_assert_uint_eq(g_c->port, 9999);
	for (size_t i = 0; i < g_c->nlisten; i++) {
		ck_assert(g_c->listen[i].has_port);
		ck_assert_uint_eq(g_c->listen[i].port, 9999);
	}
	ck_assert_uint_eq(config_set(g_c, "server", "root", g_dir, "-r",
	    &g_errs), 0);
	expect_no_errors(config_finish(g_c, &g_errs));
	config_format_addr(&g_c->listen[0].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1:9999");
	config_format_addr(&g_c->listen[1].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[::1]:9999");
}
END_TEST

START_TEST(clear_listen_drops_file_entries)
{
	expect_no_errors(load("[server]\nlisten = 127.0.0.1:8081\n"));
	config_clear_listen(g_c);
	ck_assert_uint_eq(g_c->nlisten, 0);
}
END_TEST

/*
 * config_finish().
 */

static void
set_root(const char *root)
{
	ck_assert_uint_eq(config_set(g_c, "server", "root", root, "-r",
	    &g_errs), 0);
}

START_TEST(finish_missing_root_names_it)
{
	char root[PATH_MAX + 16], want[PATH_MAX + 64];

	snprintf(root, sizeof(root), "%s/nope", g_dir);
	set_root(root);
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	snprintf(want, sizeof(want), "root '%s': No such file or directory",
	    root);
	expect_error(want);
}
END_TEST

START_TEST(finish_root_that_is_file_is_error)
{
	char root[PATH_MAX + 16], want[PATH_MAX + 64];

	tu_write_file(g_dir, "plain", "x", 1);
	snprintf(root, sizeof(root), "%s/plain", g_dir);
	set_root(root);
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	snprintf(want, sizeof(want), "root '%s': Not a directory", root);
	expect_error(want);
}
END_TEST

START_TEST(finish_empty_root_is_error)
{
	set_root("");
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	expect_error("root: must not be empty");
}
END_TEST

START_TEST(finish_valid_root_opens_it)
{
	char *real = realpath(g_dir, NULL);
	struct stat st;

	ck_assert_ptr_nonnull(real);
	set_root(g_dir);
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_int_ge(g_c->root_fd, 0);
	ck_assert_int_eq(fstat(g_c->root_fd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_str_eq(g_c->root_real, real);
	ck_assert_uint_ge(g_c->threads, 1);
	ck_assert_ptr_nonnull(g_c->mime);
	/* No listen entry: one wildcard on the default port. */
	ck_assert_uint_eq(g_c->nlisten, 1);
	ck_assert(g_c->listen[0].wildcard);
	ck_assert_uint_eq(g_c->listen[0].port, 8080);
	free(real);
}
END_TEST

START_TEST(finish_relative_root_from_file)
{
	char www[PATH_MAX + 16];
	char *real;

	snprintf(www, sizeof(www), "%s/www", g_dir);
	ck_assert_int_eq(mkdir(www, 0755), 0);
	real = realpath(www, NULL);
	ck_assert_ptr_nonnull(real);
	expect_no_errors(load("[server]\nroot = www\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_str_eq(g_c->root_real, real);
	free(real);
}
END_TEST

START_TEST(finish_keeps_explicit_threads)
{
	set_root(g_dir);
	ck_assert_uint_eq(config_set(g_c, "server", "threads", "3", "-t",
	    &g_errs), 0);
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_uint_eq(g_c->threads, 3);
}
END_TEST

START_TEST(finish_gives_listen_entries_the_port)
{
	char buf[64];

	set_root(g_dir);
	expect_no_errors(load("[server]\nport = 9001\n"
	    "listen = 127.0.0.1, [::1], 10.0.0.1:80\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	config_format_addr(&g_c->listen[0].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1:9001");
	config_format_addr(&g_c->listen[1].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[::1]:9001");
	config_format_addr(&g_c->listen[2].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.0.1:80");
}
END_TEST

struct dup_case {
	const char	*name;
	const char	*listen;
	bool		 duplicate;
};

static const struct dup_case dup_cases[] = {
	{ "same_ipv4_twice", "127.0.0.1:80, 127.0.0.1:80", true },
	{ "same_ipv6_twice", "[::1]:80 [::1]:80", true },
	{ "same_wildcard_twice", ":80 *:80", true },
	{ "default_port_makes_twin", "127.0.0.1 127.0.0.1:8080", true },
	{ "bare_port_and_colon_port", "8081 :8081", true },
	{ "different_ipv4", "127.0.0.1:80 127.0.0.2:80", false },
	{ "different_port", "127.0.0.1:80 127.0.0.1:81", false },
	{ "ipv4_and_ipv6", "127.0.0.1:80 [::1]:80", false },
	{ "ephemeral_port_twice", "127.0.0.1:0 127.0.0.1:0", false },
};

START_TEST(finish_duplicate_listen)
{
	const struct dup_case *tc = &dup_cases[_i];
	unsigned n;

	set_root(g_dir);
	ck_assert_uint_eq(config_set(g_c, "server", "listen", tc->listen, "-l",
	    &g_errs), 0);
	n = config_finish(g_c, &g_errs);
	if (tc->duplicate)
		ck_assert_msg(n == 1 && strstr(errs_text(), "given twice"),
		    "%s: listen \"%s\": expected a duplicate error, got "
		    "%u:\n%s", tc->name, tc->listen, n, errs_text());
	else
		ck_assert_msg(n == 0, "%s: listen \"%s\": expected no error, "
		    "got %u:\n%s", tc->name, tc->listen, n, errs_text());
}
END_TEST

START_TEST(finish_applies_mime_overrides)
{
	set_root(g_dir);
	expect_no_errors(load("[mime]\nfoo = text/x-foo\n"
	    ".bar = application/x-bar\npng = image/x-png\n"
	    "qux = \"application/x-quoted\"\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_str_eq(mime_lookup(g_c->mime, "x.foo", 5),
	    "text/x-foo; charset=utf-8");
	ck_assert_str_eq(mime_lookup(g_c->mime, "x.bar", 5),
	    "application/x-bar");
	ck_assert_str_eq(mime_lookup(g_c->mime, "x.png", 5), "image/x-png");
	ck_assert_str_eq(mime_lookup(g_c->mime, "x.qux", 5),
	    "application/x-quoted");
	ck_assert_str_eq(mime_lookup(g_c->mime, "x.pdf", 5),
	    "application/pdf");
}
END_TEST

START_TEST(bad_mime_override_names_line)
{
	ck_assert_uint_eq(load("[mime]\nfoo = text/x-foo\nbar = notatype\n"),
	    1);
	expect_line_error(3, "[mime] bar: expected 'extension = "
	    "type/subtype'");
	ck_assert_uint_eq(g_c->nmime_pairs, 1);
}
END_TEST

START_TEST(finish_missing_types_file_is_error)
{
	set_root(g_dir);
	expect_no_errors(load("[mime]\ntypes_file = "
	    "/nonexistent/lanhttpd/mime.types\n"));
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	expect_error("[mime] types_file '/nonexistent/lanhttpd/mime.types': "
	    "No such file or directory");
}
END_TEST

START_TEST(finish_loads_relative_types_file)
{
	static const char types[] =
	    "text/x-zed zed\napplication/x-qux qux\n";

	tu_write_file(g_dir, "mime.types", types, sizeof(types) - 1);
	set_root(g_dir);
	/* The ini entry beats the types file. */
	expect_no_errors(load("[mime]\ntypes_file = mime.types\n"
	    "zed = text/x-ini\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_str_eq(mime_lookup(g_c->mime, "a.zed", 5),
	    "text/x-ini; charset=utf-8");
	ck_assert_str_eq(mime_lookup(g_c->mime, "a.qux", 5),
	    "application/x-qux");
}
END_TEST

START_TEST(free_null_and_release_empty)
{
	struct config_errors e = { 0 };

	config_free(NULL);
	config_errors_release(&e);
	config_error(&e, "one %d", 1);
	config_error(&e, "two");
	ck_assert_uint_eq(e.count, 2);
	ck_assert_str_eq(e.text, "one 1\ntwo\n");
	ck_assert_uint_eq(e.len, strlen(e.text));
	config_errors_release(&e);
	ck_assert_ptr_null(e.text);
	ck_assert_uint_eq(e.len, 0);
	ck_assert_uint_eq(e.count, 0);
}
END_TEST

/* ---- the lab's services: [ping], [daytime], [transfer] ---- */

/* The entries of proto after finish, counted; the first in *first. */
static size_t
listen_of(enum listen_proto proto, const struct listen_spec **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < g_c->nlisten; i++) {
		if (g_c->listen[i].proto != proto)
			continue;
		if (n++ == 0)
			*first = &g_c->listen[i];
	}
	return n;
}

START_TEST(lab_services_are_off_by_default)
{
	const struct listen_spec *ls;

	ck_assert(!g_c->ping_enable && !g_c->daytime_enable &&
	    !g_c->transfer_enable);
	ck_assert_uint_eq(g_c->ping_rate_source, 50);
	ck_assert_uint_eq(g_c->ping_rate_total, 1000);
	ck_assert_uint_eq(g_c->transfer_max_size, 256u << 20);
	set_root(g_dir);
	/* Addresses of a service that is off are dropped. */
	expect_no_errors(load("[ping]\nlisten = 127.0.0.1:7\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_uint_eq(listen_of(PROTO_PING, &ls), 0);
	ck_assert_uint_eq(listen_of(PROTO_HTTP, &ls), 1);
}
END_TEST

START_TEST(lab_services_get_the_lab_ports)
{
	const struct listen_spec *ls;

	set_root(g_dir);
	tu_write_file(g_dir, "guido.jpg", "x", 1);
	expect_no_errors(load("[ping]\nenable = on\n[daytime]\nenable = yes\n"
	    "[transfer]\nenable = on\nfile = guido.jpg\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_uint_eq(listen_of(PROTO_PING, &ls), 1);
	ck_assert(ls->wildcard);
	ck_assert_uint_eq(ls->port, 12000);
	ck_assert_uint_eq(listen_of(PROTO_DAYTIME, &ls), 1);
	ck_assert_uint_eq(ls->port, 9999);
	ck_assert_uint_eq(listen_of(PROTO_TRANSFER, &ls), 1);
	ck_assert_uint_eq(ls->port, 5566);
	ck_assert_uint_eq(listen_of(PROTO_HTTP, &ls), 1);
	ck_assert_uint_eq(ls->port, 8080);
	ck_assert_str_eq(g_c->transfer_rel, "guido.jpg");
}
END_TEST

START_TEST(lab_listen_belongs_to_its_section)
{
	const struct listen_spec *ls;
	char buf[64];

	set_root(g_dir);
	expect_no_errors(load("[server]\nport = 9000\n"
	    "[ping]\nenable = on\nlisten = 127.0.0.1 [::1]:12001\n"
	    "rate_per_source = 5\nrate_total = 7\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_uint_eq(g_c->ping_rate_source, 5);
	ck_assert_uint_eq(g_c->ping_rate_total, 7);
	ck_assert_uint_eq(listen_of(PROTO_PING, &ls), 2);
	/* A ping address without a port takes the ping port, not 9000. */
	config_format_addr(&ls[0].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1:12000");
	ck_assert_uint_eq(ls[1].proto, PROTO_PING);
	ck_assert_uint_eq(ls[1].port, 12001);
	/* The HTTP default is still there, on its own port. */
	ck_assert_uint_eq(listen_of(PROTO_HTTP, &ls), 1);
	ck_assert_uint_eq(ls->port, 9000);
}
END_TEST

START_TEST(lab_udp_and_tcp_may_share_a_port)
{
	set_root(g_dir);
	expect_no_errors(load("[server]\nlisten = 127.0.0.1:7000\n"
	    "[ping]\nenable = on\nlisten = 127.0.0.1:7000\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
}
END_TEST

START_TEST(lab_two_tcp_services_on_one_port_is_error)
{
	set_root(g_dir);
	expect_no_errors(load("[server]\nlisten = 127.0.0.1:7000\n"
	    "[daytime]\nenable = on\nlisten = 127.0.0.1:7000\n"));
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	expect_error("[daytime] listen: address given twice (port 7000)");
}
END_TEST

START_TEST(lab_command_line_port_and_listen_are_http_only)
{
	const struct listen_spec *ls;

	set_root(g_dir);
	expect_no_errors(load("[server]\nlisten = 127.0.0.1:8081\n"
	    "[daytime]\nenable = on\nlisten = 127.0.0.1:13\n"));
	config_override_port(g_c, 9999);
	config_clear_listen(g_c);
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_uint_eq(listen_of(PROTO_DAYTIME, &ls), 1);
	ck_assert_uint_eq(ls->port, 13);
	ck_assert_uint_eq(listen_of(PROTO_HTTP, &ls), 1);
	ck_assert(ls->wildcard);
	ck_assert_uint_eq(ls->port, 9999);
}
END_TEST

static const struct lab_bad_case {
	const char	*ini;
	int		 line;
	const char	*error;
} lab_bad_cases[] = {
	{ "[ping]\nenable = maybe\n", 2, "[ping] enable: expected on or off" },
	{ "[ping]\nrate_per_source = 0\n", 2,
	    "[ping] rate_per_source: out of range" },
	{ "[ping]\nrate_total = 1000001\n", 2,
	    "[ping] rate_total: out of range" },
	{ "[ping]\nlisten = ::1\n", 2, "[ping] listen: IPv6 addresses go in" },
	{ "[daytime]\nport = 13\n", 2, "[daytime] port: unknown key" },
	{ "[transfer]\nmax_size = 5G\n", 2,
	    "[transfer] max_size: out of range" },
	{ "[transfer]\nmax_size = lots\n", 2, "[transfer] max_size: expected" },
	{ "[transfer]\n\nfile = ../etc/passwd\n", 3,
	    "[transfer] file: leads out of the root" },
	{ "[transfer]\nfile = a/../../b\n", 2,
	    "[transfer] file: leads out of the root" },
	{ "[transfer]\nfile = /\n", 2,
	    "[transfer] file: must name a file under the root" },
	{ "[transfer]\nfile = pics/\n", 2,
	    "[transfer] file: must name a file under the root" },
};

START_TEST(lab_bad_values_name_their_line)
{
	const struct lab_bad_case *t = &lab_bad_cases[_i];

	ck_assert_uint_eq(load(t->ini), 1);
	expect_line_error(t->line, t->error);
}
END_TEST

START_TEST(lab_transfer_needs_a_file)
{
	set_root(g_dir);
	expect_no_errors(load("[transfer]\nenable = on\n"));
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	expect_error("[transfer] file: required when enable = on");
}
END_TEST

START_TEST(lab_transfer_file_follows_the_dotfile_policy)
{
	set_root(g_dir);
	expect_no_errors(load("[transfer]\nenable = on\nfile = .secret\n"));
	ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
	expect_error("[transfer] file: '.secret': a hidden name");

	cfg_teardown();
	cfg_setup();
	set_root(g_dir);
	expect_no_errors(load("[server]\nhidden_files = allow\n"
	    "[transfer]\nenable = on\nfile = .secret\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_str_eq(g_c->transfer_rel, ".secret");
}
END_TEST

START_TEST(lab_transfer_file_is_taken_literally)
{
	set_root(g_dir);
	/* No percent-decoding: '%41' is three characters of a name. */
	expect_no_errors(load("[transfer]\nenable = on\n"
	    "file = /pics/./a%41 \"b\".jpg\n"));
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_str_eq(g_c->transfer_rel, "pics/a%41 \"b\".jpg");
}
END_TEST

START_TEST(lab_protocol_names)
{
	static const char *const names[] = {
		"http", "ping", "daytime", "transfer",
	};
	enum listen_proto p;

	for (unsigned i = 0; i < PROTO_COUNT; i++) {
		ck_assert_str_eq(config_proto_name((enum listen_proto)i),
		    names[i]);
		ck_assert(config_proto_by_name(names[i], &p));
		ck_assert_uint_eq(p, i);
		ck_assert(config_proto_dgram(p) == (p == PROTO_PING));
	}
	ck_assert(!config_proto_by_name("lanhttpd.socket", &p));
	ck_assert(!config_proto_by_name("", &p));
	ck_assert(!config_proto_by_name("HTTP", &p));
}
END_TEST

/*
 * [upload]
 */

START_TEST(upload_defaults_keep_writes_off)
{
	ck_assert(!g_c->upload_enable);
	ck_assert_str_eq(g_c->upload_paths, "/");
	ck_assert_uint_eq(g_c->upload_max_size, 0);
	ck_assert(!g_c->upload_overwrite);
	ck_assert_uint_eq(g_c->upload_max_active, 64);
	ck_assert_uint_eq(g_c->upload_body_timeout_ms, 30000);
	ck_assert(g_c->upload_splice);
}
END_TEST

START_TEST(upload_keys_parse)
{
	expect_no_errors(load("[upload]\nenable = on\npaths = /up  /drop/x/\n"
	    "max_size = 10G\noverwrite = on\nreserve = 1M\nmax_active = 5\n"
	    "body_timeout = 2s\nsplice = off\ntus_expire = 1h\n"));
	ck_assert(g_c->upload_enable);
	ck_assert_uint_eq(g_c->upload_max_size, 10ull << 30);
	ck_assert(g_c->upload_overwrite);
	ck_assert_uint_eq(g_c->upload_reserve, 1u << 20);
	ck_assert_uint_eq(g_c->upload_max_active, 5);
	ck_assert_uint_eq(g_c->upload_body_timeout_ms, 2000);
	ck_assert(!g_c->upload_splice);
	ck_assert_uint_eq(g_c->upload_tus_expire_ms, 3600000);
	set_root(g_dir);
	expect_no_errors(config_finish(g_c, &g_errs));
	ck_assert_uint_eq(g_c->nupload_rel, 2);
	ck_assert_str_eq(g_c->upload_rel[0], "up");
	ck_assert_str_eq(g_c->upload_rel[1], "drop/x");
}
END_TEST

START_TEST(upload_paths_are_url_paths_under_the_root)
{
	static const char *const bad[][2] = {
		{ "up", "each path must start with '/'" },
		{ "/../etc", "not a path under the root" },
		{ "/.hidden", "a hidden name" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_free(g_c);
		config_errors_release(&g_errs);
		ck_assert_ptr_nonnull(g_c = config_new());
		ck_assert_uint_eq(config_set(g_c, "upload", "paths", bad[i][0],
		    "-s", &g_errs), 0);
		set_root(g_dir);
		ck_assert_uint_eq(config_finish(g_c, &g_errs), 1);
		expect_error(bad[i][1]);
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, defaults_match_documentation);
	tcase_add_test(tc, empty_file_is_valid);
	tcase_add_test(tc, comments_only_file_is_valid);
	tcase_add_test(tc, every_key_parses);
	tcase_add_test(tc, keys_and_sections_ignore_case);
	tcase_add_test(tc, durations_in_file);
	tcase_add_loop_test(tc, duration_values, 0,
	    (int)(sizeof(duration_cases) / sizeof(duration_cases[0])));
	tcase_add_loop_test(tc, size_values, 0,
	    (int)(sizeof(size_cases) / sizeof(size_cases[0])));
	tcase_add_test(tc, inline_comment_removed);
	tcase_add_test(tc, quoted_values_lose_quotes);
	tcase_add_test(tc, relative_root_resolved_against_file_dir);
	tcase_add_test(tc, absolute_root_kept);
	tcase_add_test(tc, missing_file_is_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, bad_value_error_has_exact_format);
	tcase_add_test(tc, several_errors_each_with_own_line);
	tcase_add_test(tc, unknown_key_names_line);
	tcase_add_test(tc, unknown_section_names_line);
	tcase_add_test(tc, syntax_error_names_line);
	tcase_add_test(tc, unclosed_section_is_syntax_error);
	tcase_add_test(tc, syntax_error_after_value_error_is_reported);
	tcase_add_test(tc, syntax_error_before_value_error_is_reported);
	tcase_add_test(tc, line_too_long_names_line);
	tcase_add_test(tc, huge_line_reported_once);
	tcase_add_test(tc, line_within_limit_accepted);
	tcase_add_test(tc, enum_error_lists_choices);
	tcase_add_test(tc, bad_mime_override_names_line);
	tcase_add_test(tc, free_null_and_release_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_loop_test(tc, listen_table, 0,
	    (int)(sizeof(listen_cases) / sizeof(listen_cases[0])));
	tcase_add_test(tc, listen_in_file_accumulates);
	tcase_add_test(tc, bad_listen_in_file_names_line);
	tcase_add_test(tc, too_many_listen_addresses_is_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("command_line");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, set_from_command_line_applies);
	tcase_add_test(tc, set_error_names_origin);
	tcase_add_test(tc, set_unknown_key_names_origin);
	tcase_add_test(tc, set_relative_path_kept_relative);
	tcase_add_test(tc, override_port_replaces_listen_ports);
	tcase_add_test(tc, clear_listen_drops_file_entries);
	suite_add_tcase(s, tc);

	tc = tcase_create("finish");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, finish_missing_root_names_it);
	tcase_add_test(tc, finish_root_that_is_file_is_error);
	tcase_add_test(tc, finish_empty_root_is_error);
	tcase_add_test(tc, finish_valid_root_opens_it);
	tcase_add_test(tc, finish_relative_root_from_file);
	tcase_add_test(tc, finish_keeps_explicit_threads);
	tcase_add_test(tc, finish_gives_listen_entries_the_port);
	tcase_add_loop_test(tc, finish_duplicate_listen, 0,
	    (int)(sizeof(dup_cases) / sizeof(dup_cases[0])));
	tcase_add_test(tc, finish_applies_mime_overrides);
	tcase_add_test(tc, finish_missing_types_file_is_error);
	tcase_add_test(tc, finish_loads_relative_types_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("upload");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, upload_defaults_keep_writes_off);
	tcase_add_test(tc, upload_keys_parse);
	tcase_add_test(tc, upload_paths_are_url_paths_under_the_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("lab");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, lab_services_are_off_by_default);
	tcase_add_test(tc, lab_services_get_the_lab_ports);
	tcase_add_test(tc, lab_listen_belongs_to_its_section);
	tcase_add_test(tc, lab_udp_and_tcp_may_share_a_port);
	tcase_add_test(tc, lab_two_tcp_services_on_one_port_is_error);
	tcase_add_test(tc, lab_command_line_port_and_listen_are_http_only);
	tcase_add_loop_test(tc, lab_bad_values_name_their_line, 0,
	    (int)(sizeof(lab_bad_cases) / sizeof(lab_bad_cases[0])));
	tcase_add_test(tc, lab_transfer_needs_a_file);
	tcase_add_test(tc, lab_transfer_file_follows_the_dotfile_policy);
	tcase_add_test(tc, lab_transfer_file_is_taken_literally);
	tcase_add_test(tc, lab_protocol_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
