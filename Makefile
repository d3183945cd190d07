# firma — build, run, test.
#   make            build build/release/firma
#   make run        install deps, build, run the example company (on SQLite)
#   make test       install deps, build release and ASan+UBSan, run the whole suite
#   make bench      print the benchmark figures: store, runtime, 10^6 idle agents,
#                   2,000 model calls in flight (about 1.5 minutes; docs/runtime.md)
# Objects go to build/<mode>/; MODE=release (default) or MODE=asan.

MODE    ?= release
B       := build/$(MODE)
CC      ?= cc
PKGS    := jansson libfyaml libsodium sqlite3 libuv libcurl libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wstrict-prototypes -Wvla -Wshadow -Wno-unused-parameter -Werror
CFLAGS_release := -O2 -g
CFLAGS_asan    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_asan   := -fsanitize=address,undefined
FM_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS_$(MODE)) -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
FM_LDFLAGS := $(LDFLAGS_$(MODE))

LIB_SRC := $(sort $(wildcard src/base/*.c src/core/*.c src/core/store/*.c src/core/files/*.c \
             src/governance/*.c src/runtime/*.c src/llm/*.c src/tools/*.c src/http/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEMPLATES := examples/solo-startup templates/minimal
TEMPLATE_FILES := $(shell find $(TEMPLATES) -type f 2>/dev/null)
GEN_SRC := $(B)/gen/templates.c $(B)/gen/web.c
# The dashboard (docs/dashboard.md): plain files served from the binary.
WEB_FILES := $(shell find dashboard -type f 2>/dev/null)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/templates.o $(B)/gen/web.o
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps deps-test deps-bench units run test bench clean fuzzers fuzz
all: $(B)/firma

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FM_CFLAGS) -c $< -o $@

build/%/gen/templates.c: scripts/embed.sh $(TEMPLATE_FILES)
	@mkdir -p $(dir $@)
	scripts/embed.sh solo-startup=examples/solo-startup minimal=templates/minimal > $@

build/%/gen/web.c: scripts/embed.sh $(WEB_FILES)
	@mkdir -p $(dir $@)
	scripts/embed.sh --symbol fm__web_files dashboard=dashboard > $@

$(GEN_SRC:.c=.o): $(B)/gen/%.o: $(B)/gen/%.c
	$(CC) -std=c17 -O1 -c $< -o $@

$(B)/libfirma.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/firma: $(CLI_OBJ) $(B)/libfirma.a
	$(CC) $(FM_LDFLAGS) $^ -o $@ $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libfirma.a
	@mkdir -p $(dir $@)
	$(CC) $(FM_CFLAGS) $(FM_LDFLAGS) -Itests $< $(B)/libfirma.a -o $@ $(PKG_LIBS) -lcmocka

units: $(UNIT_BIN)

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c, each linked against the
# library compiled once for fuzzing (build/fuzz/libfirma.a: coverage hooks,
# ASan and UBSan). `make test` builds them and replays a short run; `make
# fuzz` fuzzes for real.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
               -Iinclude -Isrc $(PKG_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/templates.o build/fuzz/obj/gen/web.o
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/obj/gen/%.o: build/release/gen/%.c
	@mkdir -p $(dir $@)
	clang -std=c17 -O1 -c $< -o $@
build/fuzz/libfirma.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libfirma.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< build/fuzz/libfirma.a -o $@ $(PKG_LIBS)
fuzzers: $(FUZZ_BIN)
fuzz: fuzzers
	@for f in $(FUZZ_BIN); do echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    mkdir -p build/fuzz/corpus-$$(basename $$f); \
	    $$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-$$(basename $$f) || exit 1; done

# The example company: a fresh database under run/, imported and shown.
run: deps
	@$(MAKE) --no-print-directory MODE=release build/release/firma
	@scripts/run-example.sh build/release/firma

test: deps-test
	@$(MAKE) --no-print-directory MODE=release build/release/firma units
	@$(MAKE) --no-print-directory MODE=asan build/asan/firma units
	@$(MAKE) --no-print-directory fuzzers
	@tests/run.sh

bench: deps-bench
	@$(MAKE) --no-print-directory MODE=release build/release/firma
	build/release/firma bench store
	build/release/firma bench runtime
	build/release/firma bench idle --agents 1000000
	build/release/firma bench inflight --requests 2000
	bench/api_load.sh 10

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) $(UNIT_BIN:=.d)
