# sfu: C media worker wire-compatible with mediasoup 3.27.1, plus its tests.
#
#   make                 build the worker (build/sfu-worker)
#   make test            C unit tests (plain, ASan/UBSan, valgrind) + Node black-box tests
#   make conformance     mediasoup 3.27.1's own jest suite against our worker
#   make fuzz            build the libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=300
#   make mediasoup-worker  benchmark baseline only: mediasoup 3.27.1's own C++ worker,
#                        built from its npm tarball into build/mediasoup-worker/
#                        (scripts/build-mediasoup-worker.sh; not part of make test)
#
# Dependencies come from scripts/setup.sh (Debian packages, libsrtp2 built from
# Debian's source package into build/deps, npm packages in node-controller/).

BUILD ?= build
CC ?= cc
CLANG ?= clang
NODE ?= node
FLATC ?= flatc
PKG_CONFIG ?= pkg-config

MEDIASOUP_DIR := node-controller/node_modules/mediasoup
FBS_DIR := $(MEDIASOUP_DIR)/worker/fbs
SRTP_DIR := $(BUILD)/deps/srtp

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -g $(WARN)
CFLAGS ?= -O2
ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

include proto/proto.mk
include channel/channel.mk

UV_CFLAGS := $(shell $(PKG_CONFIG) --cflags libuv 2>/dev/null)
UV_LIBS := $(shell $(PKG_CONFIG) --libs libuv 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
SSL_LIBS := -lssl -lcrypto

WORKER_MAIN := worker/src/main.c
WORKER_LIB_SRCS := $(filter-out $(WORKER_MAIN),$(wildcard worker/src/*.c worker/src/*/*.c))
WORKER_HDRS := $(wildcard worker/src/*.h worker/src/*/*.h channel/*.h proto/*.h)
WORKER_INCLUDES := -Iworker/src $(addprefix -I,$(wildcard worker/src/*/)) $(CHANNEL_INCLUDES) $(PROTO_INCLUDES)
ALL_SRCS := $(WORKER_LIB_SRCS) $(CHANNEL_SRCS) $(PROTO_SRCS)
ALL_INCLUDES := $(WORKER_INCLUDES) $(UV_CFLAGS)
ALL_LIBS := $(UV_LIBS) $(SSL_LIBS) -lusrsctp -lm
# libsrtp2 built with OpenSSL (scripts/build-libsrtp.sh).
ALL_INCLUDES += -I$(SRTP_DIR)/include
ALL_LIBS := $(SRTP_DIR)/lib/libsrtp2.a $(ALL_LIBS)

WORKER_BIN := $(BUILD)/sfu-worker
WORKER_ASAN_BIN := $(BUILD)/sfu-worker-asan

# C unit tests: every tests/unit/test_*.c is one cmocka program linked with the
# worker library (only the objects it uses are pulled in).
UNIT_TEST_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TEST_SRCS))
UNIT_TESTS_ASAN := $(patsubst tests/unit/%.c,$(BUILD)/tests-asan/%,$(UNIT_TEST_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

.PHONY: all worker test unit-tests unit-tests-asan unit-tests-valgrind node-tests conformance \
        conformance-all fuzz fuzz-run bench bench-fanout example clean deps mediasoup-worker loadgen

all: worker
worker: $(WORKER_BIN)

deps:
	bash scripts/setup.sh

$(FBS_DIR)/message.fbs:
	@echo "missing $(FBS_DIR): run scripts/setup.sh (npm install in node-controller/)" >&2; exit 1

# Every source is compiled once per variant into a static library; binaries
# link what they use. Header dependencies come from -MMD.
#   rel: the worker   dbg: unit tests (and valgrind)   asan: ASan/UBSan   fuzz: libFuzzer (clang)
LIB_SRCS := $(ALL_SRCS) $(PROTO_TEST_SRCS)
VARIANT_CC_rel := $(CC)
VARIANT_CC_dbg := $(CC)
VARIANT_CC_asan := $(CC)
VARIANT_CC_fuzz := $(CLANG)
VARIANT_FLAGS_rel := $(CFLAGS_COMMON) $(CFLAGS)
VARIANT_FLAGS_dbg := $(CFLAGS_COMMON) -O1
VARIANT_FLAGS_asan := $(CFLAGS_COMMON) $(ASAN_FLAGS)
VARIANT_FLAGS_fuzz := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined

define sfu_variant
OBJS_$(1) := $$(patsubst %.c,$(BUILD)/obj/$(1)/%.o,$$(LIB_SRCS))
LIB_$(1) := $(BUILD)/obj/$(1)/libsfu.a
$(BUILD)/obj/$(1)/%.o: %.c $$(PROTO_GEN_H) $$(PROTO_TEST_GEN_H)
	@mkdir -p $$(dir $$@)
	$$(VARIANT_CC_$(1)) $$(VARIANT_FLAGS_$(1)) -MMD -MP $$(ALL_INCLUDES) -Itests/unit -c -o $$@ $$<
$$(LIB_$(1)): $$(OBJS_$(1))
	@rm -f $$@
	ar rcs $$@ $$^
-include $$(OBJS_$(1):.o=.d)
endef
$(foreach v,rel dbg asan fuzz,$(eval $(call sfu_variant,$(v))))

$(WORKER_BIN): $(WORKER_MAIN) $(LIB_rel)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_FLAGS_rel) $(ALL_INCLUDES) -o $@ $(WORKER_MAIN) $(LIB_rel) $(ALL_LIBS)

# Capacity benchmark peers (tests/load/): the worker's own STUN, DTLS and SRTP as the client side.
LOADGEN_BIN := $(BUILD)/sfu-loadgen
loadgen: $(LOADGEN_BIN)
$(LOADGEN_BIN): tests/load/sfu_loadgen.c $(LIB_rel)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_FLAGS_rel) $(ALL_INCLUDES) -o $@ $< $(LIB_rel) $(ALL_LIBS)

$(WORKER_ASAN_BIN): $(WORKER_MAIN) $(LIB_asan)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_FLAGS_asan) $(ALL_INCLUDES) -o $@ $(WORKER_MAIN) $(LIB_asan) $(ALL_LIBS)

TEST_HDRS := $(wildcard tests/unit/*.h)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_dbg) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_FLAGS_dbg) $(ALL_INCLUDES) -Itests/unit -o $@ $< $(LIB_dbg) $(ALL_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests-asan/%: tests/unit/%.c $(LIB_asan) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_FLAGS_asan) $(ALL_INCLUDES) -Itests/unit -o $@ $< $(LIB_asan) $(ALL_LIBS) $(CMOCKA_LIBS)

# libFuzzer targets: clang only, sanitizers on; FUZZ_SRCS define LLVMFuzzerTestOneInput.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_fuzz)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(ALL_INCLUDES) -o $@ $< $(LIB_fuzz) $(ALL_LIBS)

unit-tests: $(UNIT_TESTS)
	@bash scripts/run-unit-tests.sh plain $(UNIT_TESTS)

unit-tests-asan: $(UNIT_TESTS_ASAN)
	@bash scripts/run-unit-tests.sh asan $(UNIT_TESTS_ASAN)

unit-tests-valgrind: $(UNIT_TESTS)
	@bash scripts/run-unit-tests.sh valgrind $(UNIT_TESTS)

node-tests: $(WORKER_BIN) $(WORKER_ASAN_BIN) $(LOADGEN_BIN)
	@bash scripts/run-node-tests.sh

test: worker $(WORKER_ASAN_BIN) $(LOADGEN_BIN) $(UNIT_TESTS) $(UNIT_TESTS_ASAN)
	@bash scripts/run-unit-tests.sh plain $(UNIT_TESTS)
	@bash scripts/run-unit-tests.sh asan $(UNIT_TESTS_ASAN)
	@bash scripts/run-unit-tests.sh valgrind $(UNIT_TESTS)
	@bash scripts/run-node-tests.sh

# The conformance files that pass completely today (the README's test command runs these).
CONFORMANCE_FILES ?= test-Worker.js test-Router.js test-mediasoup.js test-ortc.js test-multiopus.js \
  test-WebRtcTransport.js test-WebRtcServer.js test-PlainTransport.js test-Producer.js test-Consumer.js \
  test-AudioLevelObserver.js test-ActiveSpeakerObserver.js test-DataProducer.js test-DataConsumer.js \
  test-DirectTransport.js test-werift-sctp.js test-PipeTransport.js
conformance: $(WORKER_BIN)
	$(NODE) tests/conformance/run.mjs --worker $(abspath $(WORKER_BIN)) $(CONFORMANCE_FILES)

conformance-all: $(WORKER_BIN)
	$(NODE) tests/conformance/run.mjs --worker $(abspath $(WORKER_BIN)) --all

fuzz: $(FUZZERS)

fuzz-run: $(FUZZERS)
	@bash scripts/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZERS)

bench: $(WORKER_BIN)
	$(NODE) scripts/bench-channel.mjs --worker $(abspath $(WORKER_BIN))

bench-fanout: $(WORKER_BIN)
	$(NODE) scripts/bench-fanout.mjs --worker $(abspath $(WORKER_BIN))

# Benchmark baseline: mediasoup's own worker (nothing of mediasoup's is committed;
# the script fetches its npm tarball into build/). Always runs the script, which
# is idempotent (ninja does the rest).
mediasoup-worker:
	bash scripts/build-mediasoup-worker.sh

example: $(WORKER_BIN)
	$(NODE) scripts/example.mjs --worker $(abspath $(WORKER_BIN))

clean:
	rm -rf $(BUILD)/sfu-worker $(BUILD)/sfu-loadgen $(BUILD)/sfu-worker-asan $(BUILD)/tests $(BUILD)/tests-asan $(BUILD)/fuzz $(BUILD)/gen $(BUILD)/obj $(BUILD)/proto $(BUILD)/bench
