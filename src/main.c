/*
 * main.c - command line, start-up, signals and the shutdown order.
 *
 * Start-up: read the configuration (file, then flags), open the logs, bind
 * the listeners, block the signals we handle in every thread, start the
 * event thread and the workers, then wait for signals here.  Shutdown runs
 * the other way: the event thread drains and exits, the queue closes, the
 * workers finish, everything is freed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "http_response.h"
#include "listen.h"
#include "log.h"
#include "mime.h"
#include "queue.h"
#include "server.h"
#include "worker.h"

enum {
	EXIT_CONFIG = 1,	/* bad configuration or start-up failure */
	EXIT_USAGE = 2,
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: lanhttpd [options] [DIR]\n"
	    "\n"
	    "Share DIR (default: the current directory) over HTTP.\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE     read settings from FILE (httpd.ini)\n"
	    "  -p, --port PORT       listen on PORT (default 8080; 0 picks a free one)\n"
	    "  -l, --listen ADDR     listen on ADDR[:PORT], e.g. 127.0.0.1 or [::1]:9000;\n"
	    "                        may be repeated (default: all addresses)\n"
	    "  -r, --root DIR        share DIR (same as the DIR argument)\n"
	    "  -t, --threads N       worker threads (0 = one per CPU)\n"
	    "  -s, --set KEY=VALUE   set any httpd.ini key, e.g. -s log.access_log=off\n"
	    "                        or -s server.keepalive_timeout=5s\n"
	    "      --check-config    validate the configuration and exit\n"
	    "  -h, --help            show this help and exit\n"
	    "  -V, --version         show the version and exit\n"
	    "\n"
	    "Command-line settings override the file.  Signals: TERM/INT stop after\n"
	    "in-flight responses finish, HUP and USR1 reopen the log files.\n");
}

struct cli {
	const char	*config_path;
	const char	*root;
	const char	*port;
	const char	*threads;
	const char	*listen[CONFIG_MAX_LISTEN];
	size_t		 nlisten;
	const char	*sets[64];
	size_t		 nsets;
	bool		 check_only;
};

static int
parse_args(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "root", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "set", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:p:l:r:t:s:hV", opts, NULL))
	    != -1) {
		switch (ch) {
		case 'c':
			cli->config_path = optarg;
			break;
		case 'p':
			cli->port = optarg;
			break;
		case 'l':
			if (cli->nlisten == CONFIG_MAX_LISTEN) {
				fprintf(stderr, "lanhttpd: too many -l options\n");
				return -1;
			}
			cli->listen[cli->nlisten++] = optarg;
			break;
		case 'r':
			cli->root = optarg;
			break;
		case 't':
			cli->threads = optarg;
			break;
		case 's':
			if (cli->nsets == sizeof(cli->sets) / sizeof(cli->sets[0])) {
				fprintf(stderr, "lanhttpd: too many -s options\n");
				return -1;
			}
			cli->sets[cli->nsets++] = optarg;
			break;
		case 'C':
			cli->check_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("lanhttpd %s\n", LANHTTPD_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		if (cli->root != NULL || argc - optind > 1) {
			fprintf(stderr, "lanhttpd: one directory to share, please\n");
			usage(stderr);
			return -1;
		}
		cli->root = argv[optind];
	}
	return 0;
}

/* "section.key=value" or "key=value" (section server) from -s. */
static unsigned
apply_set(struct config *c, const char *arg, struct config_errors *errs)
{
	char buf[512], *eq, *dot, *key;
	const char *section = "server";

	if (strlen(arg) >= sizeof(buf) || (eq = strchr(arg, '=')) == NULL) {
		config_error(errs, "-s %s: expected KEY=VALUE", arg);
		return 1;
	}
	strcpy(buf, arg);
	eq = buf + (eq - arg);
	*eq = '\0';
	key = buf;
	if ((dot = strchr(buf, '.')) != NULL) {
		*dot = '\0';
		section = buf;
		key = dot + 1;
	}
	return config_set(c, section, key, eq + 1, "-s", errs);
}

/* Defaults, then the file, then the flags; NULL after printing errors. */
static struct config *
build_config(const struct cli *cli)
{
	struct config_errors errs = { 0 };
	struct config *c = config_new();
	unsigned n = 0;

	if (c == NULL) {
		fprintf(stderr, "lanhttpd: out of memory\n");
		return NULL;
	}
	if (cli->config_path != NULL)
		n += config_load_file(c, cli->config_path, &errs);
	for (size_t i = 0; i < cli->nsets; i++)
		n += apply_set(c, cli->sets[i], &errs);
	if (cli->root != NULL)
		n += config_set(c, "server", "root", cli->root, "-r", &errs);
	if (cli->threads != NULL)
		n += config_set(c, "server", "threads", cli->threads, "-t",
		    &errs);
	if (cli->nlisten > 0) {
		config_clear_listen(c);
		for (size_t i = 0; i < cli->nlisten; i++)
			n += config_set(c, "server", "listen", cli->listen[i],
			    "-l", &errs);
	}
	if (cli->port != NULL) {
		n += config_set(c, "server", "port", cli->port, "-p", &errs);
		if (n == 0)
			config_override_port(c, c->port);
	}
	if (n == 0)
		n += config_finish(c, &errs);
	if (n > 0) {
		fprintf(stderr, "%s", errs.text != NULL ? errs.text : "");
		fprintf(stderr, "lanhttpd: %u error%s in the configuration\n",
		    n, n == 1 ? "" : "s");
		config_errors_release(&errs);
		config_free(c);
		return NULL;
	}
	config_errors_release(&errs);
	return c;
}

static int
open_logs(const struct config *c)
{
	int r;

	log_set_level(c->log_level);
	if ((r = log_open_error(c->error_log)) < 0) {
		fprintf(stderr, "lanhttpd: cannot open error log '%s': %s\n",
		    c->error_log, strerror(-r));
		return r;
	}
	if ((r = log_open_access(c->access_log)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "cannot open access log '%s'",
		    c->access_log);
		return r;
	}
	return 0;
}

/* Waits for signals; returns when a shutdown has been asked for. */
static void
signal_loop(struct server *srv, const sigset_t *set)
{
	for (;;) {
		int sig;

		if (sigwait(set, &sig) != 0)
			continue;
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			event_shutdown(srv->ev);
			return;
		case SIGHUP:
		case SIGUSR1:
			if (log_reopen() != 0)
				log_err("cannot reopen the log files");
			else
				log_info("log files reopened");
			break;
		}
	}
}

/* After the first TERM/INT, a second one ends the drain at once. */
static void *
second_signal(void *arg)
{
	struct server *srv = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) == 0)
		event_shutdown(srv->ev);
	return NULL;
}

static int
run(struct server *srv)
{
	struct listener *ls = NULL;
	size_t nls = 0;
	sigset_t set;
	pthread_t sig2;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	/* Every thread inherits this mask; only sigwait() sees the signals. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((r = listen_open(srv->cfg, &ls, &nls)) < 0)
		return EXIT_CONFIG;
	if ((srv->ev = event_new(srv, ls, nls)) == NULL)
		return EXIT_CONFIG;
	srv->queue = queue_new(srv->cfg->queue_size, event_queue_space,
	    srv->ev);
	if (srv->queue == NULL) {
		log_err("out of memory");
		return EXIT_CONFIG;
	}
	if ((r = worker_pool_start(srv)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "cannot start the workers");
		return EXIT_CONFIG;
	}
	if ((r = event_start(srv->ev)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "cannot start the event thread");
		queue_close(srv->queue);
		worker_pool_join(srv);
		return EXIT_CONFIG;
	}
	listen_print_urls(ls, nls, srv->cfg->root_real);
	log_info("lanhttpd %s started: %u worker%s, %zu listener%s",
	    LANHTTPD_VERSION, srv->cfg->threads,
	    srv->cfg->threads == 1 ? "" : "s", nls, nls == 1 ? "" : "s");

	signal_loop(srv, &set);
	r = pthread_create(&sig2, NULL, second_signal, srv);
	event_join(srv->ev);
	queue_close(srv->queue);
	worker_pool_join(srv);
	if (r == 0) {
		pthread_cancel(sig2);
		pthread_join(sig2, NULL);
	}
	log_info("stopped after %lu request%s", atomic_load(&srv->requests),
	    atomic_load(&srv->requests) == 1 ? "" : "s");
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	struct server srv = { 0 };
	int rc;

	if (parse_args(argc, argv, &cli) < 0)
		return EXIT_USAGE;
	if ((srv.cfg = build_config(&cli)) == NULL)
		return EXIT_CONFIG;
	if (cli.check_only) {
		printf("lanhttpd: configuration OK (root %s, %zu listen "
		    "address%s, %zu MIME types)\n", srv.cfg->root_real,
		    srv.cfg->nlisten, srv.cfg->nlisten == 1 ? "" : "es",
		    mime_count(srv.cfg->mime));
		config_free(srv.cfg);
		return 0;
	}
	if (open_logs(srv.cfg) < 0) {
		config_free(srv.cfg);
		log_close();
		return EXIT_CONFIG;
	}
	rc = run(&srv);
	event_free(srv.ev);
	queue_free(srv.queue);
	config_free(srv.cfg);
	log_close();
	return rc;
}
