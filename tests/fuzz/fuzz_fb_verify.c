/*
 * fuzz_fb_verify: libFuzzer target for the FlatBuffers verifier.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iproto -Ibuild/gen \
 *       tests/fuzz/fuzz_fb_verify.c proto/fb_*.c build/gen/fbs_generated.c
 *
 * Verifies the input as FBS.Message.Message; when the verifier accepts it,
 * every field of the message is read (FBS_Message_Message_touch), which must
 * then be memory-safe.  Seeds: `fb_interop_tool seeds DIR` (or `make
 * proto-fuzz`, which also runs it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	uint64_t acc = 0;

	if (size == 0) {
		(void)FBS_Message_Message_verify_root(data, size);
		return 0;
	}
	/* An exact-size copy, so that ASan catches a read one byte past the end
	 * whatever driver runs this (libFuzzer's own buffer is exact-size too). */
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (FBS_Message_Message_verify_root(buf, size) == 0) {
		FBS_Message_Message_touch(FBS_Message_Message_root(buf, size), &acc);
		/* keep the reads from being optimised away */
		if (acc == UINT64_C(0x5eed5eed5eed5eed))
			buf[0] ^= 1;
	}
	free(buf);
	return 0;
}
