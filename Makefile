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
LDLIBS   += -pthread $(INIH_LIBS)

# Packages the build and the tests need (Debian/Ubuntu names).
BUILD_DEPS = gcc make pkg-config libinih-dev
TEST_DEPS  = check python3 curl procps systemd man-db groff-base

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

.PHONY: all run check check-plain check-asan check-tsan unit integration deps deps-test \
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

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/tests/%.o: tests/unit/%.c | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -Itests/unit -c -o $@ $<

# Each unit test links only the modules it tests (plus span): a test that
# needs half the daemon to link means a module boundary has leaked.
MODS_span       = span
MODS_http_parse = http_parse span
MODS_path       = path span
MODS_mime       = mime span
MODS_config     = config mime path span
MODS_queue      = queue
MODS_log        = log span
MODS_http_response = http_response span
MODS_lab        = lab span

.SECONDEXPANSION:
$(BUILD)/tests/check_%: $(BUILD)/tests/check_%.o $(BUILD)/tests/testutil.o \
		$$(addprefix $(BUILD)/,$$(addsuffix .o,$$(MODS_$$*)))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

deps:
	@sh .ci/deps $(BUILD_DEPS)

deps-test: deps
	@sh .ci/deps $(TEST_DEPS)

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

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DATADIR)/www $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 755 lanhttpd $(DESTDIR)$(BINDIR)/lanhttpd
	install -m 755 lanhttpd-ping $(DESTDIR)$(BINDIR)/lanhttpd-ping
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

check-plain:
	$(MAKE) EXTRA_CFLAGS=-Werror unit integration

check-asan: deps-test
	$(SAN_ENV) $(MAKE) BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" HARDEN=-fPIE \
	    EXTRA_CFLAGS=-Werror LANHTTPD_SLOW=3 unit integration

# The queue unit test and the whole integration suite (pool, event
# hand-off, shutdown) under ThreadSanitizer.
check-tsan: deps-test
	$(SAN_ENV) $(MAKE) BUILD=build-tsan CFLAGS="$(TSAN_CFLAGS)" HARDEN=-fPIE \
	    EXTRA_CFLAGS=-Werror LANHTTPD_SLOW=4 \
	    UNIT_BINS=build-tsan/tests/check_queue unit integration

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: $(BUILD)/lanhttpd $(BUILD)/lanhttpd-ping
	LANHTTPD_BIN=$(CURDIR)/$(BUILD)/lanhttpd \
	    LANHTTPD_PING_BIN=$(CURDIR)/$(BUILD)/lanhttpd-ping \
	    LANHTTPD_SLOW=$(or $(LANHTTPD_SLOW),1) \
	    python3 -m unittest discover -s tests/integration -p 'test_*.py' -v

clean:
	rm -rf build build-asan build-tsan lanhttpd lanhttpd-ping

-include $(OBJS:.o=.d)
