# channel/channel.mk: the worker's pipe channel (frame decoder + libuv pipes).
# Included by the top-level Makefile, which owns the rules: unit tests link
# $(CHANNEL_SRCS) with `pkg-config --libs libuv cmocka`; the fuzzer is built
# with clang -fsanitize=fuzzer,address,undefined.

CHANNEL_SRCS := channel/sfu_frame.c channel/sfu_channel.c
CHANNEL_INCLUDES := -Ichannel
CHANNEL_TESTS := tests/unit/test_frame.c tests/unit/test_channel.c
CHANNEL_FUZZERS := tests/fuzz/fuzz_frame.c

# The fuzzer only needs the pure decoder (no libuv); linking all of
# $(CHANNEL_SRCS) into it works too, given -luv.
CHANNEL_FUZZ_SRCS := channel/sfu_frame.c
# Seed corpus: $(CHANNEL_FUZZ_SEEDS) DIR writes seeds into DIR
# (tests/fuzz/corpus-frame by default; ignored by git).
CHANNEL_FUZZ_SEEDS := tests/fuzz/gen_frame_seeds.sh
