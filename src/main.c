/*
 * main.c - command line, start-up, signals, reload and the shutdown order.
 *
 * Start-up: read the configuration (file, then flags), open the logs, bind
 * the listeners, drop root, block the signals we handle in every thread,
 * start the workers and the event thread, tell systemd we are ready, then
 * wait for signals here.  Between signals this thread also updates the
 * STATUS= line and sends watchdog pings when the event loop and the
 * workers prove alive.  Shutdown runs the other way: the event thread
 * drains and exits, the queue closes, the workers finish, everything is
 * freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "confine.h"
#include "conn.h"
#include "dav.h"
#include "daemon.h"
#include "dirwatch.h"
#include "event.h"
#include "fcache.h"
#include "htpasswd.h"
#include "http_response.h"
#include "lab_serve.h"
#include "listen.h"
#include "listing_cache.h"
#include "log.h"
#include "mdns.h"
#include "mime.h"
#include "queue.h"
#include "server.h"
#include "session.h"
#include "upload.h"
#include "testhook.h"
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
	    "       lanhttpd passwd FILE USER\n"
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
	    "passwd adds USER to the users file FILE ([auth] users), or changes\n"
	    "the password, read from the terminal or from stdin.\n"
	    "\n"
	    "Command-line settings override the file.  Signals: TERM/INT stop after\n"
	    "in-flight responses finish, HUP reloads the configuration, USR1 reopens\n"
	    "the log files.\n");
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
			printf("lanhttpd %s%s\n", LANHTTPD_VERSION,
			    TESTHOOKS_BUILT ? " (test hooks)" : "");
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

/*
 * Defaults, then the file, then the flags.  Its file cache learns of
 * changes from dw (NULL: by a stat on each use).  Returns the finished
 * configuration, or NULL with the reasons in errs.
 */
static struct config *
build_config(const struct cli *cli, struct dirwatch *dw,
    struct config_errors *errs)
{
	struct config *c = config_new();
	unsigned n = 0;

	if (c == NULL) {
		config_error(errs, "out of memory");
		return NULL;
	}
	c->dirwatch = dw;
	if (cli->config_path != NULL)
		n += config_load_file(c, cli->config_path, errs);
	for (size_t i = 0; i < cli->nsets; i++)
		n += apply_set(c, cli->sets[i], errs);
	if (cli->root != NULL)
		n += config_set(c, "server", "root", cli->root, "-r", errs);
	if (cli->threads != NULL)
		n += config_set(c, "server", "threads", cli->threads, "-t", errs);
	if (cli->nlisten > 0) {
		config_clear_listen(c);
		for (size_t i = 0; i < cli->nlisten; i++)
			n += config_set(c, "server", "listen", cli->listen[i],
			    "-l", errs);
	}
	if (cli->port != NULL) {
		n += config_set(c, "server", "port", cli->port, "-p", errs);
		if (n == 0)
			config_override_port(c, c->port);
	}
	if (n == 0)
		n += config_finish(c, errs);
	if (n > 0) {
		config_unref(c);
		return NULL;
	}
	return c;
}

/*
 * The transfer file is opened anew for each client, so a missing one is
 * no reason to refuse to start (clients get a JSON error until it is put
 * there): start-up and reload warn, --check-config (as_error) fails.
 * Returns 0 when the file can be sent, -1 after saying why not.
 */
static int
check_transfer_file(const struct config *c, bool as_error)
{
	const char *reason;
	char why[160];
	uint64_t size;
	int fd, status;

	if (!c->transfer_enable)
		return 0;
	status = lab_transfer_open(c, &fd, &size, &reason);
	if (status == 200) {
		close(fd);
		return 0;
	}
	if (status == 413)
		snprintf(why, sizeof(why), "%s (%llu bytes, max_size %u)",
		    reason, (unsigned long long)size, c->transfer_max_size);
	else
		snprintf(why, sizeof(why), "%s", reason);
	if (as_error)
		fprintf(stderr, "lanhttpd: [transfer] file '%s': %s\n",
		    c->transfer_file, why);
	else
		log_warn("[transfer] file '%s': %s; transfer clients get an "
		    "error until it is fixed", c->transfer_file, why);
	return -1;
}

/*
 * Says once, for the root of c, how the caches learn of changes (old is
 * the configuration before a reload, or NULL: nothing is said when the
 * root did not change).
 */
static void
log_freshness(const struct config *c, const struct config *old)
{
	const char *how;
	bool watched;

	if (old != NULL && strcmp(old->root_real, c->root_real) == 0)
		return;
	if (c->fcache == NULL) {
		log_info("root '%s': the file cache is off", c->root_real);
		return;
	}
	how = fcache_mode(c->fcache, &watched);
	if (watched)
		log_info("root '%s': changes are learnt from inotify; a cached "
		    "file costs no stat", c->root_real);
	else
		log_info("root '%s' is on %s, whose changes inotify does not "
		    "see: cached files are checked with a stat on every request",
		    c->root_real, how);
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

/* State of the main thread while serving. */
struct runtime {
	struct server	*srv;
	const struct cli *cli;
	bool		 interactive;	/* a person watches stderr */
	uint64_t	 watchdog_ms;	/* systemd's WatchdogSec, 0 if none */
	uint64_t	 next_ping_ms;
	unsigned long	 last_heartbeat;
	uint64_t	 next_status_ms;
	uint64_t	 next_sweep_ms;
	bool		 confined;	/* the sandbox is applied */
	char		 protections[96];	/* for STATUS=, or "" */
	struct mdns	*mdns;		/* DNS-SD announcements, or NULL */
};

#define STATUS_INTERVAL_MS	5000
/* How often expired resumable uploads are looked for. */
#define SWEEP_INTERVAL_MS	60000

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
notify_status(struct runtime *rt, const char *prefix)
{
	struct server *srv = rt->srv;
	unsigned long reqs = atomic_load(&srv->requests);
	unsigned open = conn_open_count();

	daemon_notifyf("%sSTATUS=Serving: %u connection%s open, %zu queued, "
	    "%lu request%s served%s%s", prefix, open, open == 1 ? "" : "s",
	    queue_len(srv->queue), reqs, reqs == 1 ? "" : "s",
	    rt->protections[0] != '\0' ? "; " : "", rt->protections);
}

/*
 * WATCHDOG=1 only when the event loop has gone round since the last ping
 * and no worker is stuck in one job: a hung daemon stops pinging and
 * systemd restarts it.
 */
static void
watchdog_tick(struct runtime *rt, uint64_t now)
{
	unsigned long hb;

	if (rt->watchdog_ms == 0 || now < rt->next_ping_ms)
		return;
	rt->next_ping_ms = now + rt->watchdog_ms / 2;
	hb = event_heartbeat(rt->srv->ev);
	if (hb == rt->last_heartbeat) {
		log_warn("watchdog: the event loop has not run since the last "
		    "check; not pinging");
		return;
	}
	if (!worker_pool_alive(rt->srv, event_now_ms(), rt->watchdog_ms)) {
		log_warn("watchdog: a worker is stuck in one job; not pinging");
		return;
	}
	rt->last_heartbeat = hb;
	daemon_notify("WATCHDOG=1");
}

/* Opens each file log once to prove it can be, before anything changes. */
static int
check_log_path(const char *path)
{
	int fd;

	if (strcmp(path, "stderr") == 0 || strcmp(path, "off") == 0)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void
log_config_errors(const struct config_errors *errs)
{
	const char *p = errs->text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		log_err("%.*s", len, p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* The parts of a new configuration that a running process cannot take. */
static void
warn_restart_only(const struct config *old, const struct config *nc)
{
	if (old->queue_size != nc->queue_size)
		log_warn("reload: queue_size takes effect after a restart");
	if (old->listing_cache_entries != nc->listing_cache_entries ||
	    old->listing_cache_size != nc->listing_cache_size)
		log_warn("reload: listing_cache_entries and listing_cache_size "
		    "take effect after a restart");
	if (strcmp(old->user, nc->user) != 0 ||
	    strcmp(old->group, nc->group) != 0)
		log_warn("reload: user and group take effect after a restart");
}

/* What of nc the running sandbox cannot take (confine.h), or NULL. */
static const char *
sandbox_blocks(struct server *srv, const struct config *nc)
{
	struct config *old = server_config(srv);
	const char *why = confine_blocks_reload(old, nc);

	config_unref(old);
	return why;
}

/*
 * SIGHUP: build and check a new configuration; only when all of it is good
 * does anything change.  Listeners whose address stays are kept open.
 */
static void
reload(struct runtime *rt)
{
	struct server *srv = rt->srv;
	struct config_errors errs = { 0 };
	struct config *nc, *old;
	struct listener *cur, *nls = NULL;
	size_t ncur = 0, nn = 0;
	const char *why;
	int r;

	daemon_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading "
	    "the configuration", (unsigned long long)monotonic_usec());
	log_info("reloading the configuration");
	if ((nc = build_config(rt->cli, srv->dirwatch, &errs)) == NULL) {
		log_config_errors(&errs);
		log_err("reload failed: keeping the running configuration");
		goto out;
	}
	if ((r = check_log_path(nc->access_log)) < 0 ||
	    (r = check_log_path(nc->error_log)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "reload failed: cannot open a log "
		    "file; keeping the running configuration");
		config_unref(nc);
		goto out;
	}
	if (rt->confined && (why = sandbox_blocks(srv, nc)) != NULL) {
		log_err("reload failed: %s changed, and the sandbox lets this "
		    "process reach only what it was started with; restart to "
		    "take it (keeping the running configuration)", why);
		config_unref(nc);
		goto out;
	}
	if ((cur = event_listeners(srv->ev, &ncur)) == NULL ||
	    listen_reuse(nc, cur, ncur, &nls, &nn) < 0) {
		free(cur);
		log_err("reload failed: keeping the running configuration");
		config_unref(nc);
		goto out;
	}
	free(cur);
	old = server_config(srv);
	warn_restart_only(old, nc);
	if ((r = worker_pool_resize(srv, nc->threads)) < 0)
		log_errno(LOG_LVL_WARN, -r, "reload: cannot start workers");
	log_set_level(nc->log_level);
	if (log_open_error(nc->error_log) < 0 ||
	    log_open_access(nc->access_log) < 0)
		log_err("reload: cannot reopen the logs");
	/* Before the event thread owns nls: mdns reads their ports. */
	rt->mdns = mdns_update(rt->mdns, nc, nls, nn);
	event_replace_listeners(srv->ev, nls, nn);
	server_set_config(srv, nc);
	/* Hidden files, links, the root: what a page shows may differ now. */
	listing_cache_flush(srv->listings);
	log_info("configuration reloaded");
	log_freshness(nc, old);
	config_unref(old);
	check_transfer_file(nc, false);
out:
	config_errors_release(&errs);
	notify_status(rt, "READY=1\n");
}

/* Waits for signals, doing the periodic work; returns on TERM/INT. */
static void
signal_loop(struct runtime *rt, const sigset_t *set)
{
	for (;;) {
		uint64_t now = event_now_ms(), next = rt->next_status_ms;
		struct timespec ts;
		siginfo_t si;
		int sig;

		if (rt->watchdog_ms != 0 && rt->next_ping_ms < next)
			next = rt->next_ping_ms;
		next = next > now ? next - now : 0;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		sig = sigtimedwait(set, &si, &ts);
		now = event_now_ms();
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			return;
		case SIGHUP:
			reload(rt);
			break;
		case SIGUSR1:
			if (log_reopen() != 0)
				log_err("cannot reopen the log files");
			else
				log_info("log files reopened");
			break;
		default:
			break;		/* a timeout: periodic work below */
		}
		watchdog_tick(rt, now);
		if (now >= rt->next_sweep_ms) {
			struct config *cfg = server_config(rt->srv);

			rt->next_sweep_ms = now + SWEEP_INTERVAL_MS;
			upload_sweep(cfg, false);
			config_unref(cfg);
		}
		if (now >= rt->next_status_ms) {
			rt->next_status_ms = now + STATUS_INTERVAL_MS;
			notify_status(rt, "");
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

/*
 * Started as root: become the configured user, or stay root only when
 * allowed.  Runs after the listeners are bound (a low port needs root)
 * and before any thread starts.
 */
static int
settle_privileges(const struct config *cfg)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (geteuid() != 0) {
		if (cfg->user[0] != '\0')
			log_info("not started as root: ignoring user '%s'",
			    cfg->user);
		return 0;
	}
	if (cfg->user[0] == '\0') {
		if (cfg->allow_root) {
			log_warn("serving as root (allow_root = on)");
			return 0;
		}
		log_err("refusing to serve as root: set 'user' in [server] "
		    "(e.g. user = nobody, or -s user=nobody), or allow_root = on");
		return -EPERM;
	}
	if ((r = daemon_lookup_ids(cfg->user, cfg->group, &uid, &gid)) < 0) {
		log_err("unknown user '%s' or group '%s'", cfg->user, cfg->group);
		return r;
	}
	/* Reload and reopen run as the user: the files must be theirs. */
	log_give_files(uid, gid);
	if ((r = daemon_drop_privileges(cfg->user, uid, gid)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "cannot become user '%s'", cfg->user);
		return r;
	}
	log_check_folders(cfg->user);
	log_info("running as user '%s' (uid %u, gid %u)", cfg->user,
	    (unsigned)uid, (unsigned)gid);
	return 0;
}

/*
 * Each connection needs a socket, one whose download is parked may hold a
 * file, and the file cache keeps large files open: raise the soft
 * descriptor limit toward what that may need, as far as the hard limit
 * allows.
 */
static void
raise_fd_limit(const struct config *cfg)
{
	/* A socket and a file per connection, an fd per cached file and
	 * a memfd per cached listing. */
	rlim_t want = 2 * (rlim_t)cfg->max_connections + 64 +
	    cfg->file_cache_entries + cfg->listing_cache_entries;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
		log_warn("the descriptor limit (%llu) is below what "
		    "max_connections = %u may need; accepting pauses when "
		    "descriptors run out", (unsigned long long)rl.rlim_cur,
		    cfg->max_connections);
}

/*
 * Only the main thread takes signals, with sigwait(): the mask is set
 * before any thread starts, so every thread inherits it.
 */
static void
take_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * The event loop on the listeners ls[0..nls), the queue, the listing cache
 * and the threads.  Returns 0, or -1 after saying why.
 */
static int
start_threads(struct server *srv, const struct config *cfg,
    struct listener *ls, size_t nls, uint64_t watchdog_ms)
{
	int r;

	if ((srv->ev = event_new(srv, ls, nls)) == NULL)
		return -1;
	/* The watchdog needs the event loop to come round often enough. */
	if (watchdog_ms > 0)
		event_set_tick(srv->ev, (unsigned)(watchdog_ms / 4 > 1000 ?
		    1000 : watchdog_ms / 4 + 1));
	srv->queue = queue_new(cfg->queue_size, event_queue_space, srv->ev);
	srv->listings = listing_cache_new(cfg->listing_cache_entries,
	    cfg->listing_cache_size, srv->dirwatch);
	if (srv->queue == NULL || srv->listings == NULL) {
		log_err("out of memory");
		return -1;
	}
	if ((r = worker_pool_start(srv, cfg->threads)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "cannot start the workers");
		return -1;
	}
	if ((r = event_start(srv->ev)) < 0) {
		log_errno(LOG_LVL_ERR, -r, "cannot start the event thread");
		queue_close(srv->queue);
		worker_pool_join(srv);
		return -1;
	}
	return 0;
}

/*
 * Stops accepting, lets the responses in flight end, joins every thread;
 * a second signal meanwhile cuts them short (second_signal()).
 */
static void
stop_threads(struct server *srv)
{
	pthread_t sig2;
	int r;

	daemon_notify("STOPPING=1\nSTATUS=Finishing responses in flight");
	event_shutdown(srv->ev);
	r = pthread_create(&sig2, NULL, second_signal, srv);
	event_join(srv->ev);
	queue_close(srv->queue);
	worker_pool_join(srv);
	if (r == 0) {
		pthread_cancel(sig2);
		pthread_join(sig2, NULL);
	}
}

/* Opens [auth] state_dir: the token key and the revoked list. */
static int
open_sessions(struct server *srv, const struct config *cfg)
{
	char why[PATH_MAX + 64];

	if ((srv->sessions = session_open(cfg->auth_state_dir, why,
	    sizeof(why))) == NULL) {
		log_err("[auth] state_dir: %s", why);
		return -1;
	}
	return 0;
}

static int
run(struct server *srv, const struct cli *cli)
{
	struct config *cfg = server_config(srv);
	struct runtime rt = {
		.srv = srv,
		.cli = cli,
		.interactive = isatty(STDERR_FILENO),
		.watchdog_ms = daemon_watchdog_usec() / 1000,
	};
	struct listener *ls = NULL;
	size_t nls = 0;
	sigset_t set;
	int r, rc = EXIT_CONFIG;

	take_signals(&set);
	if ((r = daemon_notify_open()) < 0)
		log_errno(LOG_LVL_WARN, -r, "NOTIFY_SOCKET");
	raise_fd_limit(cfg);
	if (listen_open(cfg, &ls, &nls) < 0)
		goto out;
	if (settle_privileges(cfg) < 0) {
		listen_close_all(ls, nls);
		goto out;
	}
	/* What a crash left in the upload work folders, before anyone writes. */
	upload_sweep(cfg, true);
	/* The WebDAV lock table: always there, as a reload may turn it on. */
	if (dav_init() != 0) {
		log_err("out of memory");
		listen_close_all(ls, nls);
		goto out;
	}
	/* The key of log-ins and share links, owned by who we now are. */
	if (cfg->users != NULL && open_sessions(srv, cfg) != 0) {
		listen_close_all(ls, nls);
		goto out;
	}
	/* Bound and unprivileged, before any thread: the sandbox. */
	if (cfg->sandbox)
		rt.confined = confine(cfg, cli->config_path, rt.protections,
		    sizeof(rt.protections)) == 1;
	if (start_threads(srv, cfg, ls, nls, rt.watchdog_ms) < 0)
		goto out;
	listen_announce(ls, nls, cfg->root_real, rt.interactive);
	/* Its thread connects in the background, confined like the rest. */
	rt.mdns = mdns_start(cfg, ls, nls);
	log_info("lanhttpd %s started: %u worker%s, %zu listener%s",
	    LANHTTPD_VERSION, cfg->threads, cfg->threads == 1 ? "" : "s",
	    nls, nls == 1 ? "" : "s");
	log_freshness(cfg, NULL);
	if (cfg->users != NULL)
		log_warn("accounts are on over plain HTTP: passwords and "
		    "session cookies cross the network readable by anyone on "
		    "it (shared Wi-Fi); see README, \"Accounts\"");
	check_transfer_file(cfg, false);
	/* Every listener is bound and the event loop runs: ready. */
	notify_status(&rt, "READY=1\n");
	rt.next_status_ms = event_now_ms() + STATUS_INTERVAL_MS;
	rt.next_sweep_ms = event_now_ms() + SWEEP_INTERVAL_MS;
	rt.next_ping_ms = event_now_ms() + rt.watchdog_ms / 4;
	config_unref(cfg);
	cfg = NULL;

	signal_loop(&rt, &set);
	/* Withdrawn first: no one is sent here while the rest drains. */
	mdns_stop(rt.mdns);
	rt.mdns = NULL;
	stop_threads(srv);
	log_info("stopped after %lu request%s", atomic_load(&srv->requests),
	    atomic_load(&srv->requests) == 1 ? "" : "s");
	rc = 0;
out:
	dav_shutdown();
	session_close(srv->sessions);
	srv->sessions = NULL;
	config_unref(cfg);
	return rc;
}

/* --check-config: who may do what, as the rules work out ([access]). */
static void
print_access(const struct config *cfg)
{
	size_t need = access_format(cfg->access, NULL, 0);
	char *text;

	if (access_empty(cfg->access)) {
		printf("access: no [access] rules: everyone reads, writes "
		    "follow [upload]\n");
		return;
	}
	if ((text = malloc(need + 1)) == NULL)
		return;
	(void)access_format(cfg->access, text, need + 1);
	printf("access (%zu users in %s):\n%s", cfg->users != NULL ?
	    htpasswd_count(cfg->users) : 0, cfg->auth_users != NULL ?
	    cfg->auth_users : "no users file", text);
	free(text);
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	struct config_errors errs = { 0 };
	struct server srv = { 0 };
	struct config *cfg;
	int rc;

	/* lanhttpd passwd FILE USER: the one command besides serving. */
	if (argc >= 2 && strcmp(argv[1], "passwd") == 0) {
		if (argc != 4) {
			fprintf(stderr, "usage: lanhttpd passwd FILE USER\n");
			return EXIT_USAGE;
		}
		return htpasswd_passwd_main(argv[2], argv[3]);
	}
	if (parse_args(argc, argv, &cli) < 0)
		return EXIT_USAGE;
	testhook_init();
	/* One inotify instance for both caches, for the life of the process. */
	if (!cli.check_only && (srv.dirwatch = dirwatch_new()) == NULL) {
		fprintf(stderr, "lanhttpd: out of memory\n");
		return EXIT_CONFIG;
	}
	if ((cfg = build_config(&cli, srv.dirwatch, &errs)) == NULL) {
		fprintf(stderr, "%s", errs.text != NULL ? errs.text : "");
		fprintf(stderr, "lanhttpd: %u error%s in the configuration\n",
		    errs.count, errs.count == 1 ? "" : "s");
		config_errors_release(&errs);
		dirwatch_free(srv.dirwatch);
		return EXIT_CONFIG;
	}
	if (cli.check_only) {
		if (check_transfer_file(cfg, true) < 0) {
			config_unref(cfg);
			return EXIT_CONFIG;
		}
		printf("lanhttpd: configuration OK (root %s, %zu listen "
		    "address%s, %zu MIME types)\n", cfg->root_real,
		    cfg->nlisten, cfg->nlisten == 1 ? "" : "es",
		    mime_count(cfg->mime));
		print_access(cfg);
		config_unref(cfg);
		return 0;
	}
	if (open_logs(cfg) < 0) {
		config_unref(cfg);
		dirwatch_free(srv.dirwatch);
		log_close();
		return EXIT_CONFIG;
	}
	server_init(&srv, cfg);
	rc = run(&srv, &cli);
	event_free(srv.ev);
	queue_free(srv.queue);
	listing_cache_free(srv.listings);
	server_release(&srv);
	/* After every cache that held watches. */
	dirwatch_free(srv.dirwatch);
	daemon_notify_close();
	log_close();
	return rc;
}
