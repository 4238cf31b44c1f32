# pitwall - one Makefile for the whole tree.
#   make [all]        build every program into build/bin
#   make test         build and run the full test suite (ends with "N passed, N failed")
#   make check        source checks: layering, formatting, banned calls (tests/check/)
#   make sanitize     unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz         libFuzzer targets (clang), a longer run than the test suite's
#   make bench        benchmarks; figures printed and written to build/bench.txt
#   make www          the dashboard's files into build/www (also part of all)
#   make install      PREFIX=/usr/local DESTDIR=
#   make clean
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?=

PKG_CFLAGS := $(shell pkg-config --cflags libzmq jansson libzstd zlib 2>/dev/null) \
              $(shell pkg-config --cflags civetweb 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libzmq jansson libzstd zlib 2>/dev/null || echo -lzmq -ljansson -lzstd -lz) \
              $(shell pkg-config --libs civetweb 2>/dev/null || echo -lcivetweb)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
EXTRA_CFLAGS ?=
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -MMD -MP
ifneq ($(SAN),)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined
endif
LDLIBS   := -lm -lpthread -lrt

COMMON_SRC  := $(wildcard common/*.c)
DEC_SRC     := capture/decoder.c capture/rawsplit.c $(wildcard capture/dec_*.c)
CAPTURE_SRC := $(filter-out $(DEC_SRC),$(wildcard capture/*.c))
ENC_SRC     := capture/sim/encoder.c $(wildcard capture/sim/enc_*.c)
SIM_MAIN    := capture/sim/sim.c
SIMLIB_SRC  := $(filter-out $(ENC_SRC) $(SIM_MAIN),$(wildcard capture/sim/*.c))
REPLAY_SRC  := $(wildcard capture/replay/*.c)
PWCTL_SRC   := $(wildcard api/pwctl/*.c)
API_MAIN    := api/api.c
APILIB_SRC  := $(filter-out $(API_MAIN),$(wildcard api/*.c))
ANALYZE_MAIN := analyze/analyze.c
ANALYZELIB_SRC := $(filter-out $(ANALYZE_MAIN),$(wildcard analyze/*.c))
STORE_MAIN  := store/store.c
STORELIB_SRC := $(filter-out $(STORE_MAIN),$(wildcard store/*.c))
TEST_SRC    := $(wildcard tests/unit/test_*.c)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC   := $(wildcard tests/bench/bench_*.c)
TOOL_SRC    := $(wildcard tests/tools/*.c)
# the JSON Schemas, compiled into pw-api (GET /api/schemas); the folders are
# prerequisites too, so that a schema added or removed regenerates the table
SCHEMA_JSON := $(sort $(wildcard docs/schemas/*/*.json))
SCHEMA_DIRS := docs/schemas $(sort $(wildcard docs/schemas/*/))
SCHEMA_GEN  := $(BUILD)/gen/schemas.c
SCHEMA_OBJ  := $(BUILD)/obj/gen/schemas.o

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# The dashboard (docs/dashboard.md): api/www's own files as they are, uPlot from
# api/www/node_modules (npm ci, scripts/install-deps.sh), each text file also gzipped
# for pw-api to send to browsers that accept it.
WWW_SRC    := $(shell find api/www -path api/www/node_modules -prune -o -type f \
                \( -name '*.html' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \) -print)
WWW_VENDOR := uPlot.esm.js uPlot.min.css
WWW_OUT    := $(patsubst api/www/%,$(BUILD)/www/%,$(WWW_SRC)) \
              $(addprefix $(BUILD)/www/vendor/,$(WWW_VENDOR))
WWW_GZ     := $(addsuffix .gz,$(WWW_OUT))

LIB_COMMON := $(BUILD)/lib/libpwcommon.a
LIB_DEC    := $(BUILD)/lib/libpwdecode.a
LIB_ENC    := $(BUILD)/lib/libpwencode.a
LIB_SIM    := $(BUILD)/lib/libpwsim.a
LIB_STORE  := $(BUILD)/lib/libpwstore.a
LIB_ANALYZE := $(BUILD)/lib/libpwanalyze.a
LIB_API    := $(BUILD)/lib/libpwapi.a
LIBS_ALL   := $(LIB_API) $(LIB_ANALYZE) $(LIB_STORE) $(LIB_SIM) $(LIB_ENC) $(LIB_DEC) $(LIB_COMMON)

PROGS := $(BUILD)/bin/pw-capture $(BUILD)/bin/pw-sim $(BUILD)/bin/pw-replay $(BUILD)/bin/pwctl \
         $(BUILD)/bin/pw-store $(BUILD)/bin/pw-analyze $(BUILD)/bin/pw-api
TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
FUZZ  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
BENCH := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

.PHONY: all test check unit-tests sanitize fuzz bench soak install clean deps www
.SECONDARY:
all: $(PROGS) $(TESTS) $(FUZZ) $(BENCH) $(TOOLS) www

www: $(WWW_OUT) $(WWW_GZ)
$(BUILD)/www/vendor/%: api/www/node_modules/uplot/dist/%
	install -D -m 0644 $< $@
$(BUILD)/www/%: api/www/%
	install -D -m 0644 $< $@
$(BUILD)/www/%.gz: $(BUILD)/www/%
	gzip -9 -n -c $< >$@
$(addprefix api/www/node_modules/uplot/dist/,$(WWW_VENDOR)):
	@echo "make: $@ is missing: run scripts/install-deps.sh (npm ci in api/www)" >&2; exit 1

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The frame codec's encoder is pw-store's main cost per frame: its column loops
# vectorize under gcc's "cheap" cost model, which -O2 does not use (gcc 12:
# "very-cheap"). The same bytes out, 16 % fewer ns a frame on a Forza run
# (2026-12-07). Compilers without the option (clang) build it as the rest.
VECT_CFLAGS := $(shell $(CC) -Werror -fvect-cost-model=cheap -x c -c /dev/null -o /dev/null 2>/dev/null && echo -fvect-cost-model=cheap)
$(call obj,common/blockcodec.c): ALL_CFLAGS += $(VECT_CFLAGS)

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
$(LIB_DEC):    $(call obj,$(DEC_SRC))
$(LIB_ENC):    $(call obj,$(ENC_SRC))
$(LIB_SIM):    $(call obj,$(SIMLIB_SRC))
$(LIB_STORE):  $(call obj,$(STORELIB_SRC))
$(LIB_ANALYZE): $(call obj,$(ANALYZELIB_SRC))
$(LIB_API):    $(call obj,$(APILIB_SRC)) $(SCHEMA_OBJ)
$(SCHEMA_GEN): $(SCHEMA_JSON) $(SCHEMA_DIRS) scripts/embed_schemas.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_schemas.sh $@ $(SCHEMA_JSON)
$(SCHEMA_OBJ): $(SCHEMA_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/pw-capture: $(call obj,$(CAPTURE_SRC)) $(LIB_DEC) $(LIB_COMMON)
$(BUILD)/bin/pw-sim:     $(call obj,$(SIM_MAIN)) $(LIB_SIM) $(LIB_ENC) $(LIB_DEC) $(LIB_COMMON)
$(BUILD)/bin/pw-replay:  $(call obj,$(REPLAY_SRC)) $(LIB_DEC) $(LIB_COMMON)
$(BUILD)/bin/pwctl:      $(call obj,$(PWCTL_SRC)) $(LIB_COMMON)
$(BUILD)/bin/pw-store:   $(call obj,$(STORE_MAIN)) $(LIB_STORE) $(LIB_COMMON)
$(BUILD)/bin/pw-api:     $(call obj,$(API_MAIN)) $(LIB_API) $(LIB_COMMON)
$(BUILD)/bin/pw-analyze: $(call obj,$(ANALYZE_MAIN)) $(LIB_ANALYZE) $(LIB_COMMON)
$(BUILD)/bin/%:
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ -Wl,--start-group $^ -Wl,--end-group $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ -Wl,--start-group $^ -Wl,--end-group $(PKG_LIBS) $(LDLIBS)

# Fuzz targets built with a deterministic mutation driver (runs in the test suite).
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/driver.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ -Wl,--start-group $^ -Wl,--end-group $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ -Wl,--start-group $^ -Wl,--end-group $(PKG_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ -Wl,--start-group $^ -Wl,--end-group $(PKG_LIBS) $(LDLIBS)

test: all
	tests/run.sh

check:
	tests/check/run.sh

unit-tests: $(TESTS) $(FUZZ)

sanitize:
	$(MAKE) BUILD=build/san SAN=1 OPT=-O1 unit-tests
	PW_BUILD=build/san tests/run.sh --unit

# Coverage-guided fuzzing with clang's libFuzzer, FUZZ_SECONDS per decoder target.
FUZZ_SECONDS ?= 60
LF := build/libfuzzer
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz: clang is not installed"; exit 1; }
	$(MAKE) BUILD=$(LF) CC=clang SAN=1 OPT=-O1 EXTRA_CFLAGS=-fsanitize=fuzzer-no-link \
	    $(patsubst $(BUILD)/%,$(LF)/%,$(LIBS_ALL)) \
	    $(patsubst tests/fuzz/%.c,$(LF)/obj/tests/fuzz/%.o,$(FUZZ_SRC))
	@set -e; for src in $(FUZZ_SRC); do n=$$(basename $$src .c); \
	  clang -fsanitize=fuzzer,address,undefined -o $(LF)/$$n $(LF)/obj/tests/fuzz/$$n.o \
	    $(patsubst $(BUILD)/%,$(LF)/%,$(LIBS_ALL)) $(PKG_LIBS) $(LDLIBS); \
	  mkdir -p $(LF)/corpus/$${n#fuzz_}; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  $(LF)/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(LF)/corpus/$${n#fuzz_} tests/fuzz/corpus/$${n#fuzz_}; \
	done

bench: all
	tests/bench/run.sh

# The whole stack under load for SOAK_SECONDS (default 3600; not in the test command).
soak: all
	tests/soak/soak.sh

install: $(PROGS) www
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/pitwall/www
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	cp -R $(BUILD)/www/. $(DESTDIR)$(PREFIX)/share/pitwall/www/

deps:
	scripts/install-deps.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
