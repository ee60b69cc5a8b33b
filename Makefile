# Trace - top-level build.  Plain make, no generated makefiles.
#
#   make            build trace-server, trace-agent and trace-witness (installs
#                   missing packages)
#   make run        start a private redis-server, two demo witnesses and
#                   trace-server (quorum of both) with a demo
#   make test       unit tests, the end-to-end suites on the -O2 build and a
#                   short fuzz pass (TEST_FUZZ_SECONDS each, default 3)
#   make check      make test, then the fault-injection suite, unit tests and
#                   every end-to-end suite under ASan+UBSan, the integration
#                   suite under valgrind, and CHECK_FUZZ_SECONDS (default 60)
#                   per fuzz harness: what CI runs
#   make unit | unit-san | integration | suites | faults | test-san |
#   test-valgrind   one tier alone
#   make verifier ROOT_PUB=FILE LOG_VKEY=VKEY [POLICY=FILE] SERVER=URL
#                   the standalone verifier in build/verifier/
#   make bench      benchmarks (bench/)
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS each (default 30)
#   make clean
#
# Every target works as the first command on a fresh Debian 12 machine, with
# or without -j: the packages are installed by deploy/install-deps.sh before
# anything is compiled (every object has the install as an order-only
# prerequisite), and pkg-config is asked only when a recipe first needs its
# answer, after the install (a `:=` here would ask it while the Makefile is
# read, before the packages exist).

CC       ?= cc
BUILD    ?= build
PKGS     := hiredis yajl libgcrypt gpg-error libsodium libqrencode libpng libcurl

# Lazy and asked once: the first expansion runs pkg-config and replaces the
# variable by its answer.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -lcivetweb -lpthread -lm)$(PKG_LIBS)

# -Wmissing-prototypes -Wmissing-declarations: a function another file
# calls is declared in a header, every other one is static (STYLE.md,
# "Boundaries").  The same flags build libtrace, every program, the unit
# tests and (with clang) the fuzz harnesses.
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wmissing-declarations \
            -Wwrite-strings -Wformat=2
CFLAGS   ?= -O2 -g
# -MMD -MP: each object's header dependencies, written beside it as a .d file.
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
             $(CFLAGS) -I. -MMD -MP $(PKG_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer

LIB_SRC    := $(sort $(wildcard libtrace/*.c))
SERVER_SRC := $(sort $(wildcard trace-server/*.c))
AGENT_SRC  := $(sort $(wildcard trace-agent/*.c))
WITNESS_SRC := $(sort $(wildcard trace-witness/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Server modules that unit tests and fuzz harnesses may link besides
# libtrace: those that need neither civetweb nor Redis (parse.c: query
# strings, languages, label runs, --redis).  They go into an archive of
# their own, so a test links only the ones it calls.
UNIT_SERVER_SRC := trace-server/parse.c trace-server/clientaddr.c

# Quiet by default: one line per file built; `make V=1` shows every command.
V ?= 0
ifeq ($(V),0)
say = @printf '  %-6s %s\n' $(1) $(2);
else
say =
endif

# $(call objs,VARIANT-DIR,SOURCES)
objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

# Keep intermediate objects (test objects made by chained rules).
.SECONDARY:


.PHONY: all deps test-deps bench-deps run test check test-san test-valgrind \
        unit unit-san integration suites faults suites-san bench fuzz clean

all: $(BUILD)/trace-server $(BUILD)/trace-agent $(BUILD)/trace-witness

# Installing packages: `deps` what the build and `make run` need, `test-deps`
# also what the tests need.  test-deps runs after deps, never beside it (two
# apt-gets would fight over dpkg's lock under -j).
deps:
	@deploy/install-deps.sh

test-deps: | deps
	@deploy/install-deps.sh --test

bench-deps: | deps
	@deploy/install-deps.sh --bench

# ---- normal build -------------------------------------------------------

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libtrace.a: $(call objs,$(BUILD),$(LIB_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

# store.lua is compiled into the server as a C string.
$(BUILD)/gen/store_lua.c: trace-server/store.lua
	@mkdir -p $(dir $@)
	$(call say,GEN,$@){ echo 'const char store_lua[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

# web/ (CSS, the browser-side verifier, the message catalog) is compiled in
# the same way, one string per file named web_<file name with . as _>, so
# the server has no runtime file dependency.  '?' is escaped: no trigraphs.
WEB_SRC := $(sort $(wildcard web/*.css web/*.js web/*.tsv))

$(BUILD)/gen/web_assets.c: $(WEB_SRC)
	@mkdir -p $(dir $@)
	$(call say,GEN,$@){ echo '#include <stddef.h>'; \
	  for f in $(WEB_SRC); do \
	    n=$$(basename $$f | tr '.-' '__'); \
	    echo "const char web_$$n[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	        -e 's/^/"/' -e 's/$$/\\n"/' $$f; \
	    echo ';'; \
	    echo "const size_t web_$${n}_len = sizeof(web_$$n) - 1;"; \
	  done; } > $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c $< -o $@

GEN_OBJS := $(BUILD)/obj/gen/store_lua.o $(BUILD)/obj/gen/web_assets.o

$(BUILD)/trace-server: $(call objs,$(BUILD),$(SERVER_SRC)) $(GEN_OBJS) $(BUILD)/libtrace.a
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/trace-agent: $(call objs,$(BUILD),$(AGENT_SRC)) $(BUILD)/libtrace.a
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/trace-witness: $(call objs,$(BUILD),$(WITNESS_SRC)) $(BUILD)/libtrace.a
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/libtraceserver.a: $(call objs,$(BUILD),$(UNIT_SERVER_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libtraceserver.a \
    $(BUILD)/libtrace.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# ---- sanitizer build (same sources, separate objects) ------------------

SAN := $(BUILD)/san

$(SAN)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(SAN)/libtrace.a: $(call objs,$(SAN),$(LIB_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(SAN)/libtraceserver.a: $(call objs,$(SAN),$(UNIT_SERVER_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(SAN)/tests/%: $(SAN)/obj/tests/unit/%.o $(SAN)/libtraceserver.a \
    $(SAN)/libtrace.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(SAN)/trace-server: $(call objs,$(SAN),$(SERVER_SRC)) $(GEN_OBJS) $(SAN)/libtrace.a
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(SAN)/trace-agent: $(call objs,$(SAN),$(AGENT_SRC)) $(SAN)/libtrace.a
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(SAN)/trace-witness: $(call objs,$(SAN),$(WITNESS_SRC)) $(SAN)/libtrace.a
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

SAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(SAN)/tests/%,$(UNIT_SRC))

# ---- fuzz build (clang, libFuzzer; libtrace compiled once) -------------

FUZZ := $(BUILD)/fuzz
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -O1 -g \
              -fsanitize=address,undefined -I. -MMD -MP $(PKG_CFLAGS)

$(FUZZ)/obj/%.o: %.c | test-deps
	@mkdir -p $(dir $@)
	$(call say,CLANG,$@)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/libtrace.a: $(call objs,$(FUZZ),$(LIB_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(FUZZ)/libtraceserver.a: $(call objs,$(FUZZ),$(UNIT_SERVER_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(FUZZ)/%: $(FUZZ)/obj/tests/fuzz/%.o $(FUZZ)/libtraceserver.a $(FUZZ)/libtrace.a
	$(call say,LD,$@)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(FUZZ_SRC))

# Header dependencies of every object built so far (-MMD -MP).
-include $(wildcard $(patsubst %.o,%.d,$(call objs,$(BUILD),$(LIB_SRC) $(SERVER_SRC) \
    $(AGENT_SRC) $(UNIT_SRC)) $(call objs,$(SAN),$(LIB_SRC) $(SERVER_SRC) $(AGENT_SRC) \
    $(UNIT_SRC)) $(call objs,$(FUZZ),$(LIB_SRC) $(UNIT_SERVER_SRC) $(FUZZ_SRC)) \
    $(GEN_OBJS)))
-include $(wildcard $(patsubst %.o,%.d,$(call objs,$(BUILD),$(WITNESS_SRC)) \
    $(call objs,$(SAN),$(WITNESS_SRC))))

# ---- tests ---------------------------------------------------------------

# Suites that drive the built binaries end to end; each prints its own
# "N passed, N failed" and exits non-zero on a failure.  The fault-injection
# suite (kill -9 of Redis, of trace-server and of the agent, under load)
# takes the longest and runs in make check only, on both builds, so that
# make test stays the command a contributor runs after every change.
SUITES_FAST := tests/integration/run.sh tests/hostile/run.sh \
               tests/browser/run.sh tests/epcis/run.sh tests/deploy/run.sh \
               tests/witness/run.sh
SUITES_FAULTS := tests/faults/run.sh
SUITES := $(SUITES_FAST) $(SUITES_FAULTS)
TEST_FUZZ_SECONDS ?= 3
CHECK_FUZZ_SECONDS ?= 60

unit: $(UNIT_BINS) | test-deps
	@tests/run-unit.sh "unit" $(UNIT_BINS)

unit-san: $(SAN_UNIT_BINS) | test-deps
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 tests/run-unit.sh "unit (ASan+UBSan)" $(SAN_UNIT_BINS)

# test_log uses test_bundle --verify as its libtrace bundle verifier;
# tests/witness drives trace-witness; tests/browser writes the shared
# corpus of fixture bundles with test_corpus --write.
BIN_FOR_SUITES = $(1)/trace-server $(1)/trace-agent $(1)/tests/test_bundle \
    $(1)/trace-witness $(1)/tests/test_corpus

integration: $(call BIN_FOR_SUITES,$(BUILD)) | test-deps
	@tests/integration/run.sh $(BUILD)

# The end-to-end suites against one build (all run even when one fails).
suites: $(call BIN_FOR_SUITES,$(BUILD)) | test-deps
	@tests/run-suites.sh $(BUILD) $(SUITES_FAST)

faults: $(call BIN_FOR_SUITES,$(BUILD)) | test-deps
	@tests/run-suites.sh $(BUILD) $(SUITES_FAULTS)

suites-san: $(call BIN_FOR_SUITES,$(SAN)) | test-deps
	@tests/run-suites.sh $(SAN) $(SUITES)

test-san: suites-san

# The integration suite with trace-server under valgrind memcheck (the -O2
# build: memcheck and ASan must not share a process).
test-valgrind: $(call BIN_FOR_SUITES,$(BUILD)) | test-deps
	@echo "== tests/faults/valgrind.sh ($(BUILD))"
	@tests/faults/valgrind.sh $(BUILD)

# The README's command: the -O2 build's unit tests, end-to-end suites (but
# the fault injection) and a short fuzz pass.  Every tier runs even when an earlier one failed; the
# closing line names the ones that failed.
test: | test-deps
	@tests/run-tiers.sh "$(MAKE) --no-print-directory" \
	  unit suites "fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)"

# What CI runs: make test's tiers, then the fault injection, the
# sanitizers (every suite), valgrind and a longer fuzz pass.
check: | test-deps
	@tests/run-tiers.sh "$(MAKE) --no-print-directory" \
	  unit suites faults unit-san suites-san test-valgrind \
	  "fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)"

# ---- run, bench, fuzz ---------------------------------------------------

run: all
	@deploy/run-demo.sh $(BUILD)

# The standalone verifier (docs/PROTOCOL.md 10.4): a static folder with the
# keys pinned, for another organisation to host on its own origin.
#   make verifier ROOT_PUB=root.pub LOG_VKEY=VKEY [POLICY=FILE] SERVER=URL
VERIFIER_DIR ?= $(BUILD)/verifier
.PHONY: verifier
verifier:
	@test -n "$(ROOT_PUB)" -a -n "$(LOG_VKEY)" -a -n "$(SERVER)" || \
	  { echo "usage: make verifier ROOT_PUB=FILE LOG_VKEY=VKEY [POLICY=FILE] SERVER=URL" >&2; exit 2; }
	@web/verifier/build.sh $(VERIFIER_DIR) "$(ROOT_PUB)" "$(LOG_VKEY)" \
	  "$(POLICY)" "$(SERVER)" $(MAX_CHECKPOINT_AGE)

bench: all | bench-deps
	@bench/run.sh $(BUILD)

FUZZ_SECONDS ?= 30

fuzz: $(FUZZ_BINS) | test-deps
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

clean:
	rm -rf $(BUILD)
