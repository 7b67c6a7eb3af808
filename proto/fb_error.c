/* fb_error.c: error texts for the FB_E* codes of fb.h. */
#include "fb.h"

const char *fb_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define FB__ERR_CASE(name, code, text) \
	case FB_E##name:               \
		return text;
		FB_ERRNO_MAP(FB__ERR_CASE)
#undef FB__ERR_CASE
	default:
		return "unknown error";
	}
}
