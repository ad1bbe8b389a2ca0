# iwm: IceWarp server migration toolkit.
# make [all] | check [SAN=1] | bench | demo | lint | install | deps | clean
#      | fuzz [FUZZ_SECONDS=N] [FUZZERS="manifest tool ..."]

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS     = libcurl openssl sqlite3 libmicrohttpd libxml-2.0 libb2 libxxhash
SHELL    = /bin/sh

CFLAGS  ?= -O2 -g
CWARN    = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wno-unused-parameter
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILDTAG = san
else
BUILDTAG = plain
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libmariadb 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) libmariadb 2>/dev/null)
ALL_CFLAGS  = $(CWARN) $(CFLAGS) $(PKG_CFLAGS) $(LIB_INC) \
	      -DIWM_VERSION='"$(VERSION)"' -DIWM_DATADIR='"$(PREFIX)/share/iwm"'
LIBS        = lib/libiwm.a -lrsync $(PKG_LIBS) -lpthread

VERSION  = 0.1.0
LIB_DIRS = lib/core lib/manifest lib/icewarp lib/transfer lib/db lib/control
LIB_INC  = $(addprefix -I,$(LIB_DIRS))
LIB_SRC := $(sort $(wildcard $(addsuffix /*.c,$(LIB_DIRS))))
LIB_OBJ := $(LIB_SRC:.c=.o)
PROG_SRC:= $(sort $(wildcard bin/iwm-*.c))
PROGS   := $(PROG_SRC:.c=) bin/iwm-scan-target
UNIT_SRC:= $(sort $(wildcard tests/unit/*.c))
UNITS   := $(UNIT_SRC:.c=)
SIM_SRC := $(sort $(wildcard tests/iwsim/*.c))
SIM_HDR := $(wildcard tests/iwsim/*.h)
HDRS    := $(wildcard $(addsuffix /*.h,$(LIB_DIRS)))
SHELLS   = $(wildcard bin/iwm libexec/iwm/* scripts/* tests/iwsim/iwsim-db) \
	   $(wildcard tests/*.sh tests/t/*.t examples/*.sh) .ci/run
MANS    := $(wildcard man/man*/*.[0-9])

all: progs tests/iwsim/iwsim $(UNITS)

progs: .build-$(BUILDTAG) lib/libiwm.a $(PROGS)

# Rebuild everything when switching between plain and sanitizer builds.
.build-$(BUILDTAG):
	rm -f .build-* lib/*/*.o lib/libiwm.a $(PROGS) $(UNITS) tests/iwsim/iwsim
	touch $@

lib/%.o: lib/%.c $(HDRS) .build-$(BUILDTAG)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib/libiwm.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

bin/iwm-%: bin/iwm-%.c lib/libiwm.a $(HDRS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS)

# iwm-scan links neither libcurl nor OpenSSL, whose 30-odd libraries
# take longer to load than a small server takes to list: --target runs
# iwm-scan-target beside it, the same program with the agent's client.
bin/iwm-scan: bin/iwm-scan.c lib/libiwm.a $(HDRS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< lib/libiwm.a -lxxhash -lpthread

bin/iwm-scan-target: bin/iwm-scan.c lib/libiwm.a $(HDRS)
	$(CC) $(ALL_CFLAGS) -DIWM_SCAN_TARGET $(LDFLAGS) -o $@ $< $(LIBS)

tests/unit/%: tests/unit/%.c lib/libiwm.a $(HDRS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS)

tests/iwsim/iwsim: $(SIM_SRC) $(SIM_HDR) .build-$(BUILDTAG)
	$(CC) $(CWARN) $(CFLAGS) $(shell pkg-config --cflags libmariadb) $(LDFLAGS) -o $@ $(SIM_SRC) -lsqlite3 \
		$(shell pkg-config --libs libmariadb)

deps:
	scripts/install-deps

check: deps
	$(MAKE) all
	tests/run

bench: deps
	$(MAKE) all
	scripts/bench

# What the demo does comes first, before the package check and the build.
demo:
	@echo "iwm demo: a whole IceWarp migration on this machine, through the driver:"
	@echo "  a simulated source (Linux, SQLite) moves to a pre-configured simulated"
	@echo "  target (MariaDB) through an iwm-serve agent over TLS on 127.0.0.1:"
	@echo "  init, connect, deps, copy, sync, finalize, start-target, verify."
	@scripts/install-deps
	@echo "building quietly (log: $${TMPDIR:-/tmp}/iwm-demo-build.log)"
	@$(MAKE) -s all >"$${TMPDIR:-/tmp}/iwm-demo-build.log" 2>&1 || \
		{ tail -n 30 "$${TMPDIR:-/tmp}/iwm-demo-build.log"; exit 1; }
	@scripts/demo

lint:
	shellcheck -s sh $(SHELLS)
	mandoc -Tlint -Wwarning $(MANS)
	! grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\(' \
		lib/*/*.[ch] bin/*.c tests/unit/*.c tests/iwsim/*.[ch]

install: progs
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/iwm \
		$(DESTDIR)$(PREFIX)/share/iwm $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin
	if [ -f bin/iwm ]; then install -m 755 bin/iwm $(DESTDIR)$(PREFIX)/bin; fi
	for f in libexec/iwm/*; do [ -f "$$f" ] && \
		install -m 755 "$$f" $(DESTDIR)$(PREFIX)/libexec/iwm; done; true
	for f in lib/data/*; do [ -f "$$f" ] && \
		install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/iwm; done; true
	for s in 1 5 7; do for f in man/man$$s/*.$$s; do [ -f "$$f" ] && \
		install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/man/man$$s; \
		done; done; true

# libFuzzer harnesses (tests/fuzz/fuzz-*.c), built by clang with ASan
# and UBSan against a library of their own; each runs FUZZ_SECONDS on
# its corpus tests/fuzz/corpus/NAME, read only: new inputs go to
# tests/fuzz/build/new-NAME (merge them in with -merge=1 when worth keeping).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR      = tests/fuzz
FUZZ_BUILD    = $(FUZZ_DIR)/build
FUZZERS      ?= $(patsubst $(FUZZ_DIR)/fuzz-%.c,%,$(wildcard $(FUZZ_DIR)/fuzz-*.c))
FUZZ_CFLAGS   = $(CWARN) -g -O1 -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined \
		$(PKG_CFLAGS) $(LIB_INC) -I$(FUZZ_DIR) \
		-DIWM_VERSION='"$(VERSION)"' -DIWM_DATADIR='"$(PREFIX)/share/iwm"'
FUZZ_OBJ     := $(patsubst lib/%.c,$(FUZZ_BUILD)/%.o,$(LIB_SRC))

$(FUZZ_BUILD)/%.o: lib/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libiwm.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

$(FUZZ_BUILD)/fuzz-%: $(FUZZ_DIR)/fuzz-%.c $(FUZZ_DIR)/fuzz.h \
    $(FUZZ_BUILD)/libiwm.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_BUILD)/libiwm.a -lrsync $(PKG_LIBS) -lpthread

fuzz-build: $(addprefix $(FUZZ_BUILD)/fuzz-,$(FUZZERS))

fuzz: deps fuzz-build
	@for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$f $(FUZZ_BUILD)/crash-$$f \
		    $(FUZZ_BUILD)/new-$$f; \
		echo "fuzz-$$f: $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) \
		    -print_final_stats=1 -max_len=65536 -timeout=20 \
		    -artifact_prefix=$(FUZZ_BUILD)/crash-$$f/ \
		    $(FUZZ_BUILD)/new-$$f $(FUZZ_DIR)/corpus/$$f \
		    2>$(FUZZ_BUILD)/fuzz-$$f.log; \
		rc=$$?; \
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' \
		    $(FUZZ_BUILD)/fuzz-$$f.log | sed "s/^/fuzz-$$f: /"; \
		if [ $$rc -ne 0 ]; then \
			tail -n 40 $(FUZZ_BUILD)/fuzz-$$f.log; \
			echo "fuzz-$$f: FAILED (artifact in $(FUZZ_BUILD)/crash-$$f/)"; \
			exit 1; \
		fi; \
	done

clean:
	rm -f .build-* lib/*/*.o lib/libiwm.a $(PROGS) $(UNITS) tests/iwsim/iwsim
	rm -rf $(FUZZ_BUILD)

.PHONY: all progs deps check bench demo lint install clean fuzz fuzz-build
