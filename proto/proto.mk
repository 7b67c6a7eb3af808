# proto/proto.mk: FlatBuffers runtime and code generated from the mediasoup
# schemas.  Included by the top-level Makefile, which runs from the repository
# root.  Inputs (all have defaults): BUILD, FBS_DIR, NODE, FLATC, CC, CFLAGS.
#
# Provides:
#   PROTO_GEN_H, PROTO_GEN_C  generated reader/builder/verifier code
#   PROTO_SRCS                runtime sources + $(PROTO_GEN_C): link these
#   PROTO_HDRS                headers objects depend on (incl. $(PROTO_GEN_H))
#   PROTO_INCLUDES            -I flags for fb.h and fbs_generated.h
#   PROTO_TESTS               cmocka test sources (link with $(PROTO_SRCS)
#                             $(PROTO_TEST_SRCS) -lcmocka -lm)
#   PROTO_TEST_SRCS           code generated from proto/test/fbtest.fbs (tests
#                             only; written by the same rule as $(PROTO_GEN_H))
#   PROTO_TEST_GEN_H          its header
#   PROTO_FUZZERS             libFuzzer targets (link with $(PROTO_SRCS))
#   PROTO_FUZZ_SEEDS          script: `$(PROTO_FUZZ_SEEDS) DIR` writes seeds
#   proto-gen, proto-test, proto-fuzz   convenience targets (see README)
# Objects that include fbs_generated.h must list $(PROTO_GEN_H) (or
# $(PROTO_HDRS)) as a prerequisite so that generation happens first.

BUILD ?= build
FBS_DIR ?= node-controller/node_modules/mediasoup/worker/fbs
NODE ?= node
FLATC ?= flatc

PROTO_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
PROTO_GEN_DIR := $(BUILD)/gen
PROTO_GEN_H := $(BUILD)/gen/fbs_generated.h
PROTO_GEN_C := $(BUILD)/gen/fbs_generated.c
PROTO_RUNTIME_SRCS := $(PROTO_DIR)/fb_builder.c $(PROTO_DIR)/fb_verifier.c $(PROTO_DIR)/fb_error.c
PROTO_SRCS := $(PROTO_RUNTIME_SRCS) $(PROTO_GEN_C)
PROTO_HDRS := $(PROTO_DIR)/fb.h $(PROTO_GEN_H)
PROTO_INCLUDES := -I$(PROTO_DIR) -I$(BUILD)/gen

# Test-only schema (proto/test/fbtest.fbs), generated next to the real one
# by the same rule so that any test rule depending on $(PROTO_GEN_H) has it.
PROTO_TEST_GEN_H := $(BUILD)/gen/fbtest_generated.h
PROTO_TEST_GEN_C := $(BUILD)/gen/fbtest_generated.c
PROTO_TEST_SRCS := $(PROTO_TEST_GEN_C)

PROTO_TESTS := tests/unit/test_fb.c
PROTO_INTEROP_TOOL_SRC := tests/unit/fb_interop_tool.c
PROTO_INTEROP_TEST := tests/unit/fb_interop.test.mjs
PROTO_GEN_TEST := $(PROTO_DIR)/test/gen.test.mjs
PROTO_FUZZERS := tests/fuzz/fuzz_fb_verify.c
PROTO_FUZZ_SEEDS := tests/fuzz/gen_fb_verify_seeds.sh

# --- generation -------------------------------------------------------------
# gen.mjs rewrites its outputs only when their content changes, so the stamp
# records "generator ran" while the headers keep their old mtime when nothing
# changed and dependent objects are not rebuilt needlessly.

PROTO_GEN_STAMP := $(BUILD)/gen/.fbs_generated.stamp
PROTO_GEN_CMD = $(NODE) $(PROTO_DIR)/gen.mjs --fbs-dir $(FBS_DIR) --out-dir $(PROTO_GEN_DIR) --flatc $(FLATC) && \
	$(NODE) $(PROTO_DIR)/gen.mjs --fbs-dir $(PROTO_DIR)/test --out-dir $(PROTO_GEN_DIR) --flatc $(FLATC) --name fbtest_generated

$(PROTO_GEN_STAMP): $(PROTO_DIR)/gen.mjs $(wildcard $(FBS_DIR)/*.fbs) $(PROTO_DIR)/test/fbtest.fbs
	@mkdir -p $(PROTO_GEN_DIR)
	$(PROTO_GEN_CMD)
	@touch $@

$(PROTO_GEN_H) $(PROTO_GEN_C) $(PROTO_TEST_GEN_H) $(PROTO_TEST_GEN_C): $(PROTO_GEN_STAMP)
	@test -f $@ || { $(PROTO_GEN_CMD); }

.PHONY: proto-gen proto-test proto-node-test proto-fuzz
proto-gen: $(PROTO_GEN_H) $(PROTO_GEN_C)

# --- tests (private outputs under $(BUILD)/proto) ------------------------------

PROTO_OUT := $(BUILD)/proto
PROTO_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PROTO_WARN := -std=c11 -Wall -Wextra -Werror
PROTO_ALL_HDRS := $(PROTO_HDRS) $(PROTO_TEST_GEN_H)
PROTO_FUZZ_CC ?= clang
PROTO_FUZZ_TIME ?= 300
VALGRIND ?= valgrind

$(PROTO_OUT)/test_fb_asan: $(PROTO_TESTS) $(PROTO_SRCS) $(PROTO_TEST_SRCS) $(PROTO_ALL_HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROTO_WARN) -g -O1 $(PROTO_SAN) $(PROTO_INCLUDES) -o $@ \
		$(PROTO_TESTS) $(PROTO_SRCS) $(PROTO_TEST_SRCS) -lcmocka -lm

$(PROTO_OUT)/test_fb: $(PROTO_TESTS) $(PROTO_SRCS) $(PROTO_TEST_SRCS) $(PROTO_ALL_HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROTO_WARN) -g -O1 $(PROTO_INCLUDES) -o $@ \
		$(PROTO_TESTS) $(PROTO_SRCS) $(PROTO_TEST_SRCS) -lcmocka -lm

$(PROTO_OUT)/fb_interop_tool: $(PROTO_INTEROP_TOOL_SRC) $(PROTO_SRCS) $(PROTO_HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROTO_WARN) -g -O1 $(PROTO_SAN) $(PROTO_INCLUDES) -o $@ $(filter %.c,$^)

$(PROTO_OUT)/fuzz_fb_verify: $(PROTO_FUZZERS) $(PROTO_SRCS) $(PROTO_HDRS)
	@mkdir -p $(@D)
	$(PROTO_FUZZ_CC) $(PROTO_WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(PROTO_INCLUDES) -o $@ $(filter %.c,$^)

proto-test: $(PROTO_OUT)/test_fb_asan $(PROTO_OUT)/test_fb $(PROTO_OUT)/fb_interop_tool
	$(PROTO_OUT)/test_fb_asan
	$(VALGRIND) -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
		$(PROTO_OUT)/test_fb
	FB_INTEROP_TOOL=$(abspath $(PROTO_OUT)/fb_interop_tool) $(NODE) --test $(PROTO_INTEROP_TEST)
	FLATC=$(FLATC) $(NODE) --test $(PROTO_GEN_TEST)

# The generator's and the interop tests alone (node:test, spec reporter): the
# README's test command runs these; test_fb itself is one of the unit tests
# the top-level Makefile runs plain, under ASan/UBSan and under valgrind.
proto-node-test: $(PROTO_OUT)/fb_interop_tool $(PROTO_GEN_H)
	FB_INTEROP_TOOL=$(abspath $(PROTO_OUT)/fb_interop_tool) $(NODE) --test --test-reporter=spec $(PROTO_INTEROP_TEST)
	FLATC=$(FLATC) $(NODE) --test --test-reporter=spec $(PROTO_GEN_TEST)

# Runs the verifier fuzzer for $(PROTO_FUZZ_TIME) seconds on a fresh seed corpus.
proto-fuzz: $(PROTO_OUT)/fuzz_fb_verify $(PROTO_OUT)/fb_interop_tool
	@mkdir -p $(PROTO_OUT)/fuzz-corpus $(PROTO_OUT)/fuzz-seeds
	$(PROTO_OUT)/fb_interop_tool seeds $(PROTO_OUT)/fuzz-seeds
	$(PROTO_OUT)/fuzz_fb_verify -max_total_time=$(PROTO_FUZZ_TIME) -print_final_stats=1 \
		-artifact_prefix=$(PROTO_OUT)/ $(PROTO_OUT)/fuzz-corpus $(PROTO_OUT)/fuzz-seeds
