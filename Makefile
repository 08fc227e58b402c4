# lanhttpd - a multithreaded HTTP/1.1 file-sharing daemon.
#
#   make run      build and serve conf/www on port 8080
#   make check    build and run every test (installs what it needs)
#   make          build ./lanhttpd and ./lanhttpd-ping

VERSION   = 0.1.0
CC       ?= gcc
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DLANHTTPD_VERSION='"$(VERSION)"' -Iinclude -MMD -MP
CSTD      = -std=c17
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wwrite-strings -Wvla -Wundef
HARDEN   ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDFLAGS  += -pie -Wl,-z,relro,-z,now
INIH_LIBS  = $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
ZLIB_LIBS  = $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
EXPAT_LIBS = $(shell pkg-config --libs expat 2>/dev/null || echo -lexpat)
CRYPT_LIBS = $(shell pkg-config --libs libxcrypt 2>/dev/null || echo -lcrypt)
SECCOMP_LIBS = $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
AVAHI_LIBS = $(shell pkg-config --libs avahi-client 2>/dev/null || \
               echo -lavahi-client -lavahi-common)
QRENCODE_LIBS = $(shell pkg-config --libs libqrencode 2>/dev/null || echo -lqrencode)
LDLIBS   += -pthread $(INIH_LIBS) $(ZLIB_LIBS) $(EXPAT_LIBS) $(CRYPT_LIBS) \
            $(SECCOMP_LIBS) $(AVAHI_LIBS) $(QRENCODE_LIBS)

# Packages the build and the tests need (Debian/Ubuntu names).
BUILD_DEPS = gcc make pkg-config libinih-dev zlib1g-dev libexpat1-dev \
             libcrypt-dev libseccomp-dev libavahi-client-dev libqrencode-dev
# wget, aria2, rclone and chromium are the real clients of
# tests/integration/test_clients.py; bindfs (a FUSE root) and strace (no
# stat on a cache hit) are test_freshness.py's; wrk drives
# test_fairness.py's 50 clients; litmus, cadaver, davfs2 and lighttpd's
# mod_webdav (for comparison) are test_webdav.py's; avahi-daemon,
# avahi-utils and dbus test_mdns.py's; zbar-tools (zbarimg reads the QR
# codes) test_qr.py's; mpv (plays ?m3u) test_media.py's; haproxy
# test_replicas.py's.
TEST_DEPS  = check python3 curl procps systemd man-db groff-base \
             slowhttptest valgrind wget aria2 rclone chromium bindfs strace \
             wrk litmus cadaver davfs2 lighttpd lighttpd-mod-webdav apache2-utils \
             avahi-daemon avahi-utils dbus zbar-tools mpv haproxy

BUILD    ?= build
SRCS      = $(wildcard src/*.c)
OBJS      = $(SRCS:src/%.c=$(BUILD)/%.o)
LIB_OBJS  = $(filter-out $(BUILD)/main.o,$(OBJS))
# The ping client is a program of its own: none of the daemon but lab.c.
PING_OBJS = $(BUILD)/ping_client.o $(BUILD)/lab.o $(BUILD)/span.o
DAEMON_OBJS = $(filter-out $(BUILD)/ping_client.o,$(OBJS))
ALL_CFLAGS = $(CSTD) $(WARN) $(HARDEN) $(CFLAGS) $(EXTRA_CFLAGS)

UNIT_SRCS  = $(wildcard tests/unit/check_*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: FORCE soak all run check deps-js check-plain check-asan check-tsan check-valgrind unit integration \
        deps deps-test deps-fuzz fuzz fuzz-build bench bench-instructions bench-upload bench-propfind bench-login bench-archive \
        deps-systemd check-systemd check-systemd-auto check-systemd-require \
        install uninstall clean

all: lanhttpd lanhttpd-ping

lanhttpd: $(BUILD)/lanhttpd
	cp $< $@

lanhttpd-ping: $(BUILD)/lanhttpd-ping
	cp $< $@

$(BUILD)/lanhttpd: $(DAEMON_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lanhttpd-ping: $(PING_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

# Objects are rebuilt when the flags change (a test build with hooks, a
# sanitizer): the flags of the last build are kept in $(BUILD)/.cflags.
CFLAGS_STAMP = $(BUILD)/.cflags
$(CFLAGS_STAMP): FORCE | $(BUILD)
	@echo '$(ALL_CFLAGS) $(CPPFLAGS)' | cmp -s - $@ || \
	    echo '$(ALL_CFLAGS) $(CPPFLAGS)' > $@

FORCE:

$(BUILD)/%.o: src/%.c $(CFLAGS_STAMP) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/tests/%.o: tests/unit/%.c $(CFLAGS_STAMP) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -Itests/unit -c -o $@ $<

# Each unit test links only the modules it tests (plus span): a test that
# needs half the daemon to link means a module boundary has leaked.
MODS_span       = span
MODS_http_parse = http_parse span
MODS_chunked    = chunked
MODS_multipart  = multipart
MODS_nfc        = nfc
MODS_upname     = upname nfc
MODS_path       = path span
MODS_mime       = mime span
MODS_config     = config access htpasswd session sharelink sha256 base64 \
		  fcache dirwatch log mime path span testhook
MODS_queue      = queue
MODS_syncer     = syncer log span
MODS_dirwatch   = dirwatch log span testhook
MODS_conn       = conn fcache dirwatch log span path testhook
MODS_log        = log span
MODS_http_response = http_response path span
MODS_lab        = lab span
MODS_tus_hdr    = tus_hdr base64 span
MODS_base64     = base64
MODS_auth_hdr   = auth_hdr base64 span
MODS_htpasswd   = htpasswd span
MODS_access     = access path span
MODS_sharelink  = sharelink sha256 base64 span
MODS_session    = session sharelink sha256 base64 span
MODS_sandbox    = sandbox log span
MODS_dav_if     = dav_if span
MODS_dav_lock   = dav_lock span
MODS_dav_xml    = dav_xml http_response path span
MODS_file       = file http_parse http_response path span
MODS_negotiate  = negotiate http_parse span
MODS_listing    = listing upload_ui http_response http_parse path span
MODS_upload_ui  = upload_ui http_response path span
MODS_qr         = qr http_response path span
MODS_listing_cache = listing_cache listing upload_ui dirwatch log testhook \
                  http_response http_parse path span
MODS_playlist   = playlist listing upload_ui mime http_response http_parse \
		  path span
MODS_search     = search listing upload_ui http_response http_parse path span
MODS_crc32      = crc32
MODS_archive    = archive crc32 listing upload_ui http_response http_parse path \
		  span log

.SECONDEXPANSION:
$(BUILD)/tests/check_%: $(BUILD)/tests/check_%.o $(BUILD)/tests/testutil.o \
		$$(addprefix $(BUILD)/,$$(addsuffix .o,$$(MODS_$$*)))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

deps:
	@sh .ci/deps $(BUILD_DEPS)

deps-test: deps deps-js
	@sh .ci/deps $(TEST_DEPS)

# The JavaScript clients of the tests (tus-js-client, puppeteer-core), from
# the committed lockfile; Node and npm from Debian unless already there.
deps-js:
	@command -v npm >/dev/null 2>&1 || sh .ci/deps nodejs npm
	@[ tests/js/node_modules/.package-lock.json -nt tests/js/package-lock.json ] || \
	    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

# systemd-nspawn at the version of the installed systemd, so that apt does
# not upgrade the host's systemd along with it; debootstrap for the tree.
deps-systemd: deps-test
	@sh .ci/deps "systemd-container=$$(dpkg-query -W -f='$${Version}' systemd)" \
	    debootstrap

# As root the daemon refuses to serve unless told whom to become.
RUN_AS = $(if $(filter 0,$(shell id -u)),-s user=nobody)

run: deps
	$(MAKE) all
	./lanhttpd -p 8080 $(RUN_AS) conf/www

# Installation.  DESTDIR stages a tree for packaging; PREFIX is where the
# files will live.  An existing httpd.ini is never overwritten.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR      = $(PREFIX)/bin
DATADIR     = $(PREFIX)/share/lanhttpd
MANDIR      = $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CONFDIR     = $(SYSCONFDIR)/lanhttpd
INSTALLED_INI = $(DESTDIR)$(CONFDIR)/httpd.ini
# The shipped httpd.ini, pointed at the installed sample folder.
INI_SED = 's|^;root = \.$$|root = $(DATADIR)/www|'
UNIT_SED = 's|/usr/local/bin/|$(BINDIR)/|; s|/etc/lanhttpd/|$(CONFDIR)/|'

# The binary comes from $(BUILD), not from the ./lanhttpd copy, which is
# whatever build last refreshed it (after make check, a sanitizer one).
install: $(BUILD)/lanhttpd $(BUILD)/lanhttpd-ping
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DATADIR)/www $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 755 $(BUILD)/lanhttpd $(DESTDIR)$(BINDIR)/lanhttpd
	install -m 755 $(BUILD)/lanhttpd-ping $(DESTDIR)$(BINDIR)/lanhttpd-ping
	sed $(INI_SED) conf/httpd.ini > $(DESTDIR)$(CONFDIR)/httpd.ini.dist
	@if [ -e $(INSTALLED_INI) ]; then \
	    echo "keeping $(INSTALLED_INI); the shipped one is httpd.ini.dist"; \
	else \
	    cp $(DESTDIR)$(CONFDIR)/httpd.ini.dist $(INSTALLED_INI); \
	fi
	chmod 644 $(DESTDIR)$(CONFDIR)/httpd.ini.dist $(INSTALLED_INI)
	sed $(UNIT_SED) systemd/lanhttpd.service > $(DESTDIR)$(UNITDIR)/lanhttpd.service
	install -m 644 systemd/lanhttpd.socket $(DESTDIR)$(UNITDIR)/lanhttpd.socket
	chmod 644 $(DESTDIR)$(UNITDIR)/lanhttpd.service
	install -m 644 docs/lanhttpd.8 $(DESTDIR)$(MANDIR)/man8/lanhttpd.8
	install -m 644 docs/lanhttpd-ping.1 $(DESTDIR)$(MANDIR)/man1/lanhttpd-ping.1
	install -m 644 docs/httpd.ini.5 $(DESTDIR)$(MANDIR)/man5/httpd.ini.5
	cp -R conf/www/. $(DESTDIR)$(DATADIR)/www/
	chmod -R a+rX $(DESTDIR)$(DATADIR)
	install -m 644 conf/logrotate.d/lanhttpd $(DESTDIR)$(SYSCONFDIR)/logrotate.d/lanhttpd

# Removes what install put there; an httpd.ini that was edited stays.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/lanhttpd $(DESTDIR)$(BINDIR)/lanhttpd-ping \
	    $(DESTDIR)$(MANDIR)/man1/lanhttpd-ping.1 \
	    $(DESTDIR)$(UNITDIR)/lanhttpd.service \
	    $(DESTDIR)$(UNITDIR)/lanhttpd.socket $(DESTDIR)$(MANDIR)/man8/lanhttpd.8 \
	    $(DESTDIR)$(MANDIR)/man5/httpd.ini.5 \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/lanhttpd
	rm -rf $(DESTDIR)$(DATADIR)
	@if [ -e $(INSTALLED_INI) ] && cmp -s $(INSTALLED_INI) $(DESTDIR)$(CONFDIR)/httpd.ini.dist; then \
	    rm -f $(INSTALLED_INI); \
	elif [ -e $(INSTALLED_INI) ]; then \
	    echo "keeping the edited $(INSTALLED_INI)"; \
	fi
	rm -f $(DESTDIR)$(CONFDIR)/httpd.ini.dist
	-rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null

# Sanitizer builds live in their own object directories.
ASAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
TSAN_CFLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
SAN_ENV     = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
              UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
              TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

# The tests run with warnings as errors; packagers building with `make`
# are not stopped by a new compiler's new warning.
check: deps-test
	$(MAKE) check-plain
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) check-valgrind
	$(MAKE) check-systemd-$(SYSTEMD_CHECK)

# The units under a real systemd booted in a container (tests/systemd/).
# make check runs them when the machine can (root, nspawn works) and says
# why not otherwise; CI sets SYSTEMD_CHECK=require so it never skips.
SYSTEMD_CHECK ?= auto
check-systemd: deps-systemd
	$(MAKE) all
	python3 tests/systemd/check.py

check-systemd-require: check-systemd

check-systemd-auto:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) -s deps-systemd; fi
	$(MAKE) all
	python3 tests/systemd/check.py --if-possible

# The test builds compile in the hooks that let a regression test widen a
# race window or make a call fail (include/testhook.h); the plain one has
# its own object directory, so `make` never ships them.
TEST_CFLAGS = -Werror -DLANHTTPD_TEST_HOOKS

# The plain run soaks for 20 s and runs each slowhttptest attack for 10
# s, so that CI stays under 25 minutes; `make soak` runs the soak for 300
# s, and LANHTTPD_ATTACK_SECONDS=30 the attacks for longer.
check-plain:
	LANHTTPD_SOAK_SECONDS=$(or $(LANHTTPD_SOAK_SECONDS),20) \
	    LANHTTPD_ATTACK_SECONDS=$(or $(LANHTTPD_ATTACK_SECONDS),10) \
	    $(MAKE) BUILD=build-test EXTRA_CFLAGS="$(TEST_CFLAGS)" unit integration

# The long soak: 300 s of mixed load, then nothing may have leaked (make
# check runs the same test for 30 s).
soak: deps-test
	$(MAKE) BUILD=build-test EXTRA_CFLAGS="$(TEST_CFLAGS)" \
	    build-test/lanhttpd
	cd tests/integration && LANHTTPD_BIN=$(CURDIR)/build-test/lanhttpd \
	    LANHTTPD_SOAK_SECONDS=300 python3 -m unittest -v test_soak

# Instrumented runs skip the soak, shorten the slow-client attacks and
# leave half a second between the reload storm's 50 reloads (1 s plain);
# the plain run does the soak and the attacks in full.
SAN_TEST_ENV = LANHTTPD_SOAK_SECONDS=0 LANHTTPD_ATTACK_SECONDS=10 \
               LANHTTPD_STORM_GAP=0.5

# Check runs each unit test in the one process (CK_FORK=no): ASan makes
# every fork slow (check_http_parse: 25 s forked, 0.2 s not), and
# LeakSanitizer then checks the whole binary at its exit.
check-asan: deps-test
	$(SAN_ENV) $(SAN_TEST_ENV) CK_FORK=no LANHTTPD_SKIP_FIGURES=1 $(MAKE) BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" \
	    HARDEN=-fPIE EXTRA_CFLAGS="$(TEST_CFLAGS)" LANHTTPD_SLOW=3 unit integration

# The queue, syncer and lock-table unit tests and the integration suite
# (pool, hand-overs, reloads, shutdown) under ThreadSanitizer; the tests
# whose point is a memory or latency figure under load run plain only
# (under ASan too they would cost CI a minute and a half), and the WebDAV
# clients' runs (litmus stays) plain and under ASan.
check-tsan: deps-test
	$(SAN_ENV) $(SAN_TEST_ENV) LANHTTPD_SKIP_LOAD=1 $(MAKE) BUILD=build-tsan CFLAGS="$(TSAN_CFLAGS)" \
	    HARDEN=-fPIE EXTRA_CFLAGS="$(TEST_CFLAGS)" LANHTTPD_SLOW=4 \
	    UNIT_BINS="build-tsan/tests/check_queue build-tsan/tests/check_syncer \
	        build-tsan/tests/check_dav_lock" \
	    unit integration

# The core integration tests, and the listing cache's (its memfds,
# inotify and reference counts), with the server under valgrind memcheck:
# no invalid access, and nothing definitely or indirectly lost at exit.
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full \
           --show-leak-kinds=definite,indirect \
           --errors-for-leak-kinds=definite,indirect
check-valgrind: deps-test $(BUILD)/lanhttpd
	cd tests/integration && LANHTTPD_BIN=$(CURDIR)/$(BUILD)/lanhttpd \
	    LANHTTPD_WRAPPER="$(VALGRIND)" LANHTTPD_SLOW=10 \
	    python3 -m unittest -v test_core test_listing_cache.Invalidation \
	    test_listing_cache.GzipAndValidators test_listing_cache.Bounds

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: $(BUILD)/lanhttpd $(BUILD)/lanhttpd-ping
	LANHTTPD_BIN=$(CURDIR)/$(BUILD)/lanhttpd \
	    LANHTTPD_PING_BIN=$(CURDIR)/$(BUILD)/lanhttpd-ping \
	    LANHTTPD_SLOW=$(or $(LANHTTPD_SLOW),1) \
	    python3 -m unittest discover -s tests/integration -p 'test_*.py' -v

# Fuzzing (libFuzzer, clang).  Each harness links only the modules it
# exercises.  New inputs go to fuzz/corpus-run/ (not committed); the seeds
# in fuzz/corpus/ are read-only to the run.
FUZZ_SECONDS ?= 60
FUZZERS       = http_parse path config semantics listing chunked tus_hdr multipart upname \
                dav_if dav_xml dav_dest auth_hdr htpasswd sharelink access playlist
FUZZ_CFLAGS   = -std=c17 -g -O1 -D_GNU_SOURCE -Iinclude \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_MODS_http_parse = http_parse span
FUZZ_MODS_chunked    = chunked
FUZZ_MODS_multipart  = multipart
FUZZ_MODS_upname     = upname nfc
FUZZ_MODS_tus_hdr    = tus_hdr base64 span
FUZZ_MODS_auth_hdr   = auth_hdr base64 span
FUZZ_MODS_htpasswd   = htpasswd span
FUZZ_MODS_sharelink  = sharelink sha256 base64 span
MODS_session    = session sharelink sha256 base64 span
FUZZ_MODS_access     = access path span
FUZZ_MODS_dav_if     = dav_if span
FUZZ_MODS_dav_xml    = dav_xml http_response path span
FUZZ_MODS_dav_dest   = dav_dest path span
FUZZ_MODS_path       = path span
FUZZ_MODS_config     = config access htpasswd session sharelink sha256 base64 \
		  fcache dirwatch log mime path span testhook
FUZZ_MODS_semantics  = file negotiate listing upload_ui http_parse http_response \
                       path span
FUZZ_MODS_listing    = listing upload_ui http_response http_parse path span
FUZZ_MODS_playlist   = playlist listing upload_ui mime http_response http_parse \
                       path span

fuzz/build/fuzz_%: fuzz/fuzz_%.c \
		$$(addprefix src/,$$(addsuffix .c,$$(FUZZ_MODS_$$*))) \
		$$(wildcard include/*.h)
	@mkdir -p fuzz/build
	clang $(FUZZ_CFLAGS) -o $@ $< \
	    $(addprefix src/,$(addsuffix .c,$(FUZZ_MODS_$*))) $(INIH_LIBS) $(EXPAT_LIBS) \
	    $(ZLIB_LIBS) $(CRYPT_LIBS)

fuzz-build: $(FUZZERS:%=fuzz/build/fuzz_%)

fuzz: deps-fuzz
	$(MAKE) fuzz-build
	@set -e; mkdir -p fuzz/artifacts; for f in $(FUZZERS); do \
	    mkdir -p fuzz/corpus-run/$$f; \
	    echo "== fuzz_$$f for $(FUZZ_SECONDS) s"; \
	    ./fuzz/build/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=fuzz/artifacts/$$f- \
	        fuzz/corpus-run/$$f fuzz/corpus/$$f 2>&1 | \
	        grep -E '^(#[0-9]+[[:space:]]+DONE|Done|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|SUMMARY|INFO: Seed)' || true; \
	    if ls fuzz/artifacts/$$f-* >/dev/null 2>&1; then \
	        echo "fuzz_$$f found a failure: see fuzz/artifacts/"; exit 1; fi; \
	done

deps-fuzz:
	@sh .ci/deps clang libclang-rt-14-dev

# Benchmarks are not tests: figures only mean something as ratios within one
# run on a quiet machine.  See docs/performance.md.
bench: deps
	@sh .ci/deps wrk valgrind gnuplot-nox
	@mkdir -p $(BUILD)
	bench/run --out $(BUILD)/bench.tsv
	bench/plot $(BUILD)/bench.tsv $(BUILD)/bench.png

bench-instructions: $(BUILD)/lanhttpd
	@sh .ci/deps valgrind
	bench/instructions --kind A
	bench/instructions --kind G

# PUT uploads beside nginx (dav) and lighttpd (mod_webdav): one 1 GiB body,
# then 50 concurrent 1 MiB bodies, on /var/tmp.  BENCH_UPLOAD_ARGS=--quick.
bench-upload: $(BUILD)/lanhttpd
	@sh .ci/deps curl nginx-light lighttpd lighttpd-mod-webdav
	LANHTTPD_BIN=$(BUILD)/lanhttpd bench/upload $(BENCH_UPLOAD_ARGS)

# PROPFIND Depth 1 of a 10,000-file folder beside lighttpd's mod_webdav,
# with lanhttpd's cache on (the default) and off.  BENCH_PROPFIND_ARGS.
bench-propfind: $(BUILD)/lanhttpd
	@sh .ci/deps wrk lighttpd lighttpd-mod-webdav
	LANHTTPD_BIN=$(BUILD)/lanhttpd bench/propfind $(BENCH_PROPFIND_ARGS)

bench-archive: $(BUILD)/lanhttpd
	LANHTTPD_BIN=$(BUILD)/lanhttpd bench/archive $(BENCH_ARCHIVE_ARGS)

bench-login: $(BUILD)/lanhttpd
	@sh .ci/deps wrk
	LANHTTPD_BIN=$(BUILD)/lanhttpd bench/login $(BENCH_LOGIN_ARGS)

clean:
	rm -rf build build-test build-asan build-tsan lanhttpd lanhttpd-ping fuzz/build

-include $(OBJS:.o=.d)
