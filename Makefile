# lanhttpd - a multithreaded HTTP/1.1 file-sharing daemon.
#
#   make run      build and serve conf/www on port 8080
#   make check    build and run every test (installs what it needs)
#   make          build ./lanhttpd

VERSION   = 0.1.0
CC       ?= gcc
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DLANHTTPD_VERSION='"$(VERSION)"' -Iinclude -MMD -MP
CSTD      = -std=c17
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wwrite-strings -Wvla -Wundef
HARDEN    = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDFLAGS  += -pie -Wl,-z,relro,-z,now
INIH_LIBS  = $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
LDLIBS   += -pthread $(INIH_LIBS)

# Packages the build and the tests need (Debian/Ubuntu names).
BUILD_DEPS = gcc make pkg-config libinih-dev
TEST_DEPS  = check python3 curl

BUILD    ?= build
SRCS      = $(wildcard src/*.c)
OBJS      = $(SRCS:src/%.c=$(BUILD)/%.o)
LIB_OBJS  = $(filter-out $(BUILD)/main.o,$(OBJS))
ALL_CFLAGS = $(CSTD) $(WARN) $(HARDEN) $(CFLAGS) $(EXTRA_CFLAGS)

UNIT_SRCS  = $(wildcard tests/unit/check_*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run check unit integration deps deps-test clean

all: lanhttpd

lanhttpd: $(BUILD)/lanhttpd
	cp $< $@

$(BUILD)/lanhttpd: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/tests/%.o: tests/unit/%.c | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/tests/check_%: $(BUILD)/tests/check_%.o $(BUILD)/tests/testutil.o $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

deps:
	@sh .ci/deps $(BUILD_DEPS)

deps-test: deps
	@sh .ci/deps $(TEST_DEPS)

run: deps
	$(MAKE) all
	./lanhttpd -p 8080 conf/www

# The tests run with warnings as errors; packagers building with `make`
# are not stopped by a new compiler's new warning.
check: deps-test
	$(MAKE) EXTRA_CFLAGS=-Werror unit integration

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: lanhttpd
	LANHTTPD_BIN=$(CURDIR)/$(BUILD)/lanhttpd python3 -m unittest discover -s tests/integration -p 'test_*.py' -v

clean:
	rm -rf build build-asan build-tsan lanhttpd

-include $(OBJS:.o=.d)
