# Trace - top-level build.  Plain make, no generated makefiles.
#
#   make            build trace-server and trace-agent (installs missing packages)
#   make run        start a private redis-server and trace-server with a demo
#   make test       everything CI runs: unit tests (plain and ASan+UBSan), the
#                   end-to-end suites (plain and ASan+UBSan), valgrind, fuzz
#   make test-san   the end-to-end suites against the ASan+UBSan build
#   make test-valgrind  the integration suite with trace-server under memcheck
#   make bench      benchmarks (bench/)
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS each (default 30)
#   make clean

CC       ?= cc
BUILD    ?= build
PKGS     := hiredis yajl libgcrypt gpg-error libqrencode libpng libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcivetweb -lpthread -lm

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wwrite-strings -Wformat=2
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
              $(CFLAGS) -I. $(PKG_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer

LIB_SRC    := $(sort $(wildcard libtrace/*.c))
SERVER_SRC := $(sort $(wildcard trace-server/*.c))
AGENT_SRC  := $(sort $(wildcard trace-agent/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HEADERS    := $(wildcard libtrace/*.h trace-server/*.h trace-agent/*.h tests/unit/*.h)

# $(call objs,VARIANT-DIR,SOURCES)
objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

# Keep intermediate objects (test objects made by chained rules).
.SECONDARY:

.PHONY: all deps test-deps run test test-san test-valgrind unit unit-san integration \
        bench fuzz clean

all: deps $(BUILD)/trace-server $(BUILD)/trace-agent

deps:
	@deploy/install-deps.sh

test-deps:
	@deploy/install-deps.sh --test

# ---- normal build -------------------------------------------------------

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libtrace.a: $(call objs,$(BUILD),$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^

# store.lua is compiled into the server as a C string.
$(BUILD)/gen/store_lua.c: trace-server/store.lua
	@mkdir -p $(dir $@)
	{ echo 'const char store_lua[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/obj/gen/store_lua.o: $(BUILD)/gen/store_lua.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# web/ (CSS, the browser-side verifier, the message catalog) is compiled in
# the same way, one string per file named web_<file name with . as _>, so
# the server has no runtime file dependency.  '?' is escaped: no trigraphs.
WEB_SRC := $(sort $(wildcard web/*.css web/*.js web/*.tsv))

$(BUILD)/gen/web_assets.c: $(WEB_SRC)
	@mkdir -p $(dir $@)
	{ echo '#include <stddef.h>'; \
	  for f in $(WEB_SRC); do \
	    n=$$(basename $$f | tr '.-' '__'); \
	    echo "const char web_$$n[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	        -e 's/^/"/' -e 's/$$/\\n"/' $$f; \
	    echo ';'; \
	    echo "const size_t web_$${n}_len = sizeof(web_$$n) - 1;"; \
	  done; } > $@

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/trace-server: $(call objs,$(BUILD),$(SERVER_SRC)) $(BUILD)/obj/gen/store_lua.o \
    $(BUILD)/obj/gen/web_assets.o $(BUILD)/libtrace.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/trace-agent: $(call objs,$(BUILD),$(AGENT_SRC)) $(BUILD)/libtrace.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libtrace.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# ---- sanitizer build (same sources, separate objects) ------------------

SAN := $(BUILD)/san

$(SAN)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(SAN)/libtrace.a: $(call objs,$(SAN),$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^

$(SAN)/tests/%: $(SAN)/obj/tests/unit/%.o $(SAN)/libtrace.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(SAN)/trace-server: $(call objs,$(SAN),$(SERVER_SRC)) $(BUILD)/obj/gen/store_lua.o \
    $(BUILD)/obj/gen/web_assets.o $(SAN)/libtrace.a
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(SAN)/trace-agent: $(call objs,$(SAN),$(AGENT_SRC)) $(SAN)/libtrace.a
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

SAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(SAN)/tests/%,$(UNIT_SRC))

# ---- tests ---------------------------------------------------------------

unit: $(UNIT_BINS)
	@tests/run-unit.sh "unit" $(UNIT_BINS)

unit-san: $(SAN_UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 tests/run-unit.sh "unit (ASan+UBSan)" $(SAN_UNIT_BINS)

# test_log uses test_bundle --verify as its libtrace bundle verifier.
integration: $(BUILD)/trace-server $(BUILD)/trace-agent $(BUILD)/tests/test_bundle
	@tests/integration/run.sh $(BUILD)

# Suites that drive the built binaries end to end; each prints its own
# "N passed, N failed" and exits non-zero on a failure.  make test runs
# them all against the -O2 build, then all again against the ASan+UBSan
# build (any sanitizer report fails), then the integration suite with
# trace-server under valgrind memcheck, then every fuzz harness.
SUITES := tests/integration/run.sh tests/hostile/run.sh tests/faults/run.sh \
          tests/browser/run.sh tests/epcis/run.sh tests/deploy/run.sh
TEST_FUZZ_SECONDS ?= 10

test: test-deps
	@$(MAKE) --no-print-directory all unit unit-san $(BUILD)/tests/test_bundle \
	  $(SAN)/trace-server $(SAN)/trace-agent $(SAN)/tests/test_bundle
	@failed=; \
	  tests/run-suites.sh $(BUILD) $(SUITES) || failed="$$failed suites"; \
	  tests/run-suites.sh $(SAN) $(SUITES) || failed="$$failed suites-san"; \
	  echo "== tests/faults/valgrind.sh ($(BUILD))"; \
	  tests/faults/valgrind.sh $(BUILD) || failed="$$failed valgrind"; \
	  if [ -n "$$failed" ]; then echo "failed:$$failed"; exit 1; fi
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

# The end-to-end suites against the ASan+UBSan build alone.
test-san: deps $(SAN)/trace-server $(SAN)/trace-agent $(SAN)/tests/test_bundle
	@tests/run-suites.sh $(SAN) $(SUITES)

# The integration suite with trace-server under valgrind memcheck alone.
test-valgrind: all $(BUILD)/tests/test_bundle
	@tests/faults/valgrind.sh $(BUILD)

# ---- run, bench, fuzz ---------------------------------------------------

run: all
	@deploy/run-demo.sh $(BUILD)

bench: all
	@deploy/install-deps.sh --bench
	@bench/run.sh $(BUILD)

FUZZ_SECONDS ?= 30
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -O1 -g \
	  -fsanitize=fuzzer,address,undefined -I. $(PKG_CFLAGS) \
	  -o $@ $< $(LIB_SRC) $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

clean:
	rm -rf $(BUILD)
