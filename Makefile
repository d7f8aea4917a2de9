# spoold — top-level build.
#
#   make            build the three programs into build/
#   make check      install missing packages (scripts/deps.sh), build with
#                   -Werror, run unit tests, integration tests, the daemon
#                   under valgrind, the same tests again under ASan+UBSan,
#                   and a 10-second fuzz smoke run of every fuzz target
#   make demo       set up everything and run two nodes on built-in samples
#   make bench      benchmarks (never part of check)
#   make install    programs, man pages, systemd units, examples (PREFIX,
#                   DESTDIR; see scripts/install.sh for the layout);
#                   make uninstall removes them again
#
# Sources are found by wildcard: every filters/*.c except the program mains
# goes into build/libfilters.a, every spoold/*.c except the mains into
# build/libspool.a; every tests/unit/test_*.c becomes one cmocka binary.
# A sanitizer build lives in its own directory: make SAN=1 (build-san/).

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/spoold
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
SAN     ?=
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ifeq ($(SAN),1)
BUILD   ?= build-san
OPT     ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SANLD   := -fsanitize=address,undefined
else
BUILD   ?= build
OPT     ?= -O2 -g
SANLD   :=
endif

# The programs need libtiff, libconfig and libpng (and libsystemd when
# present); Leptonica is linked only into the measuring tools under
# tests/tools/ that compare our filters with it.
PKGS     := libtiff-4 libconfig libpng
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LEPT_CFLAGS := $(shell pkg-config --cflags lept 2>/dev/null)
LEPT_LIBS   := $(shell pkg-config --libs lept 2>/dev/null)
HAVE_SYSTEMD := $(shell pkg-config --exists libsystemd 2>/dev/null && echo 1)
ifeq ($(HAVE_SYSTEMD),1)
PKG_CFLAGS += -DHAVE_LIBSYSTEMD $(shell pkg-config --cflags libsystemd)
PKG_LIBS   += $(shell pkg-config --libs libsystemd)
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wformat=2 -Wvla -Wno-format-truncation
CFLAGS  ?= $(OPT)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DSPOOLD_VERSION='"$(VERSION)"' \
              -Ifilters -Ispoold $(WARN) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS  := $(PKG_LIBS) -lpthread -lm

FILTER_MAINS := filters/spoolfilter.c
SPOOL_MAINS  := spoold/spoold.c spoold/spoolctl.c
FILTER_SRCS  := $(filter-out $(FILTER_MAINS),$(wildcard filters/*.c))
SPOOL_SRCS   := $(filter-out $(SPOOL_MAINS),$(wildcard spoold/*.c))
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
TOOL_SRCS    := $(wildcard tests/tools/*.c)

OBJ         := $(BUILD)/obj
FILTER_OBJS := $(FILTER_SRCS:%.c=$(OBJ)/%.o)
SPOOL_OBJS  := $(SPOOL_SRCS:%.c=$(OBJ)/%.o)
LIBFILTERS  := $(BUILD)/libfilters.a
LIBSPOOL    := $(BUILD)/libspool.a
PROGS       := $(foreach m,$(wildcard $(FILTER_MAINS) $(SPOOL_MAINS)),$(BUILD)/$(basename $(notdir $(m))))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check check-unit check-integration check-san check-static check-valgrind \
        check-fuzz deps demo \
        bench bench-filters fuzz install uninstall clean tools
.DEFAULT_GOAL := all
.SECONDARY:

all: $(PROGS) $(TOOL_BINS)
tools: $(TOOL_BINS)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJ)/tests/tools/%.o: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LEPT_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBFILTERS): $(FILTER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSPOOL): $(SPOOL_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/spoolfilter: $(OBJ)/filters/spoolfilter.o $(LIBFILTERS)
	$(CC) $(SANLD) -o $@ $^ $(LDLIBS)

$(BUILD)/spoold $(BUILD)/spoolctl: $(BUILD)/%: $(OBJ)/spoold/%.o $(LIBSPOOL) $(LIBFILTERS)
	$(CC) $(SANLD) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIBSPOOL) $(LIBFILTERS)
	@mkdir -p $(dir $@)
	$(CC) $(SANLD) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/tools/%: $(OBJ)/tests/tools/%.o $(LIBSPOOL) $(LIBFILTERS)
	@mkdir -p $(dir $@)
	$(CC) $(SANLD) -o $@ $^ $(LDLIBS) $(LEPT_LIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- tests

deps:
	scripts/deps.sh

check: deps
	$(MAKE) check-unit check-integration check-static check-valgrind
	$(MAKE) SAN=1 check-unit check-integration
	$(MAKE) check-fuzz

check-unit: $(UNIT_BINS)
	tests/run-unit.sh $(UNIT_BINS)

check-integration: all
	BUILD=$(BUILD) tests/run-integration.sh

check-static:
	scripts/check-static.sh

# the daemon under valgrind memcheck through two integration tests (the
# plain build: valgrind and ASan do not mix)
check-valgrind: all
	tests/check-valgrind.sh $(BUILD)

# a fuzz smoke run: every tests/fuzz/fuzz_*.c target for FUZZ_SECONDS
# (default here 10 s; make fuzz runs them for 60 s each)
check-fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-10} scripts/fuzz.sh

# ---------------------------------------------------------------- the rest

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: all
	scripts/bench.sh

bench-filters: all
	scripts/bench-filters.sh

fuzz:
	scripts/fuzz.sh

INSTALL_ENV = DESTDIR='$(DESTDIR)' BUILD='$(BUILD)' BINDIR='$(BINDIR)' \
              SBINDIR='$(SBINDIR)' MANDIR='$(MANDIR)' DOCDIR='$(DOCDIR)' \
              UNITDIR='$(UNITDIR)' SYSCONFDIR='$(SYSCONFDIR)'

install: all
	$(INSTALL_ENV) scripts/install.sh install

uninstall:
	$(INSTALL_ENV) scripts/install.sh uninstall

clean:
	rm -rf build build-san build-fuzz
