/*
 * fb.h: a small FlatBuffers runtime (reader helpers, builder, verifier) for
 * the code that proto/gen.mjs generates from the mediasoup schemas.
 *
 * Public names use the fb_ prefix, names shared only with generated code use
 * fb__ (do not call them directly), macros use FB_.
 *
 * Reading: every reader below assumes the buffer was accepted by the
 * generated *_verify_root() function for the root type; after that, all
 * readers are memory-safe without further checks.  Multi-byte values are
 * assembled byte by byte (little-endian), so no alignment is needed.
 *
 * Building: fb_builder_t writes a standard FlatBuffer back to front.  Errors
 * are sticky: after the first failure every call is a no-op returning 0, and
 * fb_builder_finish() reports the error.
 */
#ifndef FB_H
#define FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Largest buffer the verifier accepts and the builder produces. */
#define FB_MAX_BUFFER_SIZE ((size_t)0x7fffffff)
/* Deepest table nesting the verifier accepts (root table = depth 1). */
#define FB_MAX_DEPTH 64

/* Error codes: 0 is success, everything else is one of these (negative). */
#define FB_ERRNO_MAP(X)                                                   \
	X(NOMEM, -1, "out of memory")                                     \
	X(TRUNC, -2, "offset or length out of bounds")                    \
	X(DEPTH, -3, "tables nested too deeply")                          \
	X(REQUIRED, -4, "required field missing")                         \
	X(UNION, -5, "invalid union type or value")                       \
	X(STRING, -6, "string not NUL-terminated")                        \
	X(TOOBIG, -7, "buffer too large")                                 \
	X(ALIGN, -8, "misaligned offset or scalar")                       \
	X(VTABLE, -9, "malformed vtable")                                 \
	X(BUDGET, -10, "too many tables or vector elements to verify")    \
	X(NESTED, -11, "builder: object created inside an open table")    \
	X(INVAL, -12, "invalid argument")

enum {
#define FB__ERR_ENUM(name, code, text) FB_E##name = (code),
	FB_ERRNO_MAP(FB__ERR_ENUM)
#undef FB__ERR_ENUM
};

/* Human-readable text for an error code (never NULL). */
const char *fb_strerror(int err);

/* ---------------------------------------------------------------- reader */

typedef struct fb_table {
	const uint8_t *buf;
	uint32_t pos;
} fb_table_t; /* absent: buf == NULL */

typedef struct fb_str {
	const char *ptr;
	uint32_t len;
} fb_str_t; /* absent: ptr == NULL; ptr[len] == '\0' */

typedef struct fb_vec {
	const uint8_t *buf;
	uint32_t pos; /* first element */
	uint32_t len; /* element count */
} fb_vec_t;       /* absent: buf == NULL, len == 0 */

static inline uint16_t fb__ld_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t fb__ld_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t fb__ld_u64(const uint8_t *p)
{
	return (uint64_t)fb__ld_u32(p) | (uint64_t)fb__ld_u32(p + 4) << 32;
}

static inline uint8_t fb__ld_u8(const uint8_t *p) { return p[0]; }
static inline int8_t fb__ld_i8(const uint8_t *p) { return (int8_t)p[0]; }
static inline bool fb__ld_bool(const uint8_t *p) { return p[0] != 0; }
static inline int16_t fb__ld_i16(const uint8_t *p) { return (int16_t)fb__ld_u16(p); }
static inline int32_t fb__ld_i32(const uint8_t *p) { return (int32_t)fb__ld_u32(p); }
static inline int64_t fb__ld_i64(const uint8_t *p) { return (int64_t)fb__ld_u64(p); }

static inline float fb__ld_f32(const uint8_t *p)
{
	uint32_t u = fb__ld_u32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static inline double fb__ld_f64(const uint8_t *p)
{
	uint64_t u = fb__ld_u64(p);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* Absolute position of the field at vtable offset vo, or 0 when absent. */
static inline uint32_t fb__field(fb_table_t t, uint16_t vo)
{
	uint32_t vt, fo;

	if (t.buf == NULL)
		return 0;
	/* The vtable sits at pos - soffset (mod 2^32; the verifier checked it). */
	vt = t.pos - fb__ld_u32(t.buf + t.pos);
	if ((uint32_t)vo >= fb__ld_u16(t.buf + vt))
		return 0;
	fo = fb__ld_u16(t.buf + vt + vo);
	return fo != 0 ? t.pos + fo : 0;
}

/* Target of the uoffset stored at absolute position p. */
static inline uint32_t fb__deref(const uint8_t *buf, uint32_t p)
{
	return p + fb__ld_u32(buf + p);
}

static inline fb_str_t fb__str_at(const uint8_t *buf, uint32_t s)
{
	fb_str_t r;
	r.ptr = (const char *)(buf + s + 4);
	r.len = fb__ld_u32(buf + s);
	return r;
}

static inline fb_str_t fb__str(fb_table_t t, uint16_t vo)
{
	fb_str_t none = { NULL, 0 };
	uint32_t p = fb__field(t, vo);
	return p != 0 ? fb__str_at(t.buf, fb__deref(t.buf, p)) : none;
}

static inline fb_table_t fb__tab(fb_table_t t, uint16_t vo)
{
	fb_table_t r = { NULL, 0 };
	uint32_t p = fb__field(t, vo);
	if (p != 0) {
		r.buf = t.buf;
		r.pos = fb__deref(t.buf, p);
	}
	return r;
}

static inline fb_vec_t fb__vec(fb_table_t t, uint16_t vo)
{
	fb_vec_t r = { NULL, 0, 0 };
	uint32_t p = fb__field(t, vo);
	if (p != 0) {
		uint32_t v = fb__deref(t.buf, p);
		r.buf = t.buf;
		r.pos = v + 4;
		r.len = fb__ld_u32(t.buf + v);
	}
	return r;
}

/* Root table of a verified buffer. */
static inline fb_table_t fb__root(const uint8_t *buf, size_t len)
{
	fb_table_t r = { NULL, 0 };
	if (buf != NULL && len >= 4) {
		r.buf = buf;
		r.pos = fb__ld_u32(buf);
	}
	return r;
}

/* Vector element readers: the caller guarantees i < v.len. */
static inline uint8_t fb_vec_u8(fb_vec_t v, uint32_t i) { return fb__ld_u8(v.buf + v.pos + i); }
static inline int8_t fb_vec_i8(fb_vec_t v, uint32_t i) { return fb__ld_i8(v.buf + v.pos + i); }
static inline bool fb_vec_bool(fb_vec_t v, uint32_t i) { return fb__ld_bool(v.buf + v.pos + i); }
static inline uint16_t fb_vec_u16(fb_vec_t v, uint32_t i) { return fb__ld_u16(v.buf + v.pos + 2 * i); }
static inline int16_t fb_vec_i16(fb_vec_t v, uint32_t i) { return fb__ld_i16(v.buf + v.pos + 2 * i); }
static inline uint32_t fb_vec_u32(fb_vec_t v, uint32_t i) { return fb__ld_u32(v.buf + v.pos + 4 * i); }
static inline int32_t fb_vec_i32(fb_vec_t v, uint32_t i) { return fb__ld_i32(v.buf + v.pos + 4 * i); }
static inline uint64_t fb_vec_u64(fb_vec_t v, uint32_t i) { return fb__ld_u64(v.buf + v.pos + 8 * i); }
static inline int64_t fb_vec_i64(fb_vec_t v, uint32_t i) { return fb__ld_i64(v.buf + v.pos + 8 * i); }
static inline float fb_vec_f32(fb_vec_t v, uint32_t i) { return fb__ld_f32(v.buf + v.pos + 4 * i); }
static inline double fb_vec_f64(fb_vec_t v, uint32_t i) { return fb__ld_f64(v.buf + v.pos + 8 * i); }

static inline fb_str_t fb_vec_str(fb_vec_t v, uint32_t i)
{
	return fb__str_at(v.buf, fb__deref(v.buf, v.pos + 4 * i));
}

static inline fb_table_t fb_vec_table(fb_vec_t v, uint32_t i)
{
	fb_table_t r;
	r.buf = v.buf;
	r.pos = fb__deref(v.buf, v.pos + 4 * i);
	return r;
}

/* Helpers for the generated *_touch() functions (fuzzing aid). */
static inline void fb__fold(uint64_t *acc, uint64_t v)
{
	*acc = (*acc ^ v) * UINT64_C(0x100000001b3) + 1;
}

static inline uint64_t fb__f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static inline uint64_t fb__f64_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static inline void fb__fold_str(uint64_t *acc, fb_str_t s)
{
	uint32_t i;

	if (s.ptr == NULL) {
		fb__fold(acc, 0);
		return;
	}
	for (i = 0; i <= s.len; i++) /* includes the terminating NUL */
		fb__fold(acc, (uint8_t)s.ptr[i]);
}

/* --------------------------------------------------------------- builder */

typedef uint32_t fb_ref_t; /* offset from the buffer's end; 0 = none */

typedef struct fb_builder {
	uint8_t *buf;        /* data lives in [buf + cap - size, buf + cap) */
	size_t cap;
	size_t size;
	size_t minalign;     /* largest alignment written so far */
	int error;           /* sticky first error */
	/* table under construction */
	bool in_table;
	uint32_t table_start; /* size when the table was started */
	uint16_t nfields;     /* field slots in use for this table */
	uint32_t *fields;     /* per field id: offset from end, 0 = absent */
	size_t fields_cap;
	/* vtables written so far (offsets from end), for deduplication */
	uint32_t *vtables;
	size_t nvtables;
	size_t vtables_cap;
} fb_builder_t;

int fb_builder_init(fb_builder_t *b, size_t initial_capacity);
void fb_builder_clear(fb_builder_t *b);
void fb_builder_free(fb_builder_t *b);
int fb_builder_error(const fb_builder_t *b);

fb_ref_t fb_create_string(fb_builder_t *b, const char *s, size_t len);
fb_ref_t fb_create_cstring(fb_builder_t *b, const char *s);
fb_ref_t fb_create_vec_scalars(fb_builder_t *b, const void *host_elems, size_t elem_size,
			       size_t n);
fb_ref_t fb_create_vec_refs(fb_builder_t *b, const fb_ref_t *refs, size_t n);

/* For generated clone functions: n * size bytes (NULL when n == 0); on
 * failure sets the builder's sticky FB_ENOMEM and returns NULL. */
void *fb__clone_alloc(fb_builder_t *b, size_t n, size_t size);

/* Writes the root offset; *out stays valid until the next builder call. */
int fb_builder_finish(fb_builder_t *b, fb_ref_t root, const uint8_t **out, size_t *out_len);

/* Used by generated code. */
void fb__table_start(fb_builder_t *b, uint16_t nfields);
void fb__add_scalar(fb_builder_t *b, uint16_t id, uint64_t bits, uint32_t size);
void fb__add_ref(fb_builder_t *b, uint16_t id, fb_ref_t r);
void fb__add_union(fb_builder_t *b, uint16_t type_id, uint16_t value_id, uint8_t type,
		   fb_ref_t r);
fb_ref_t fb__table_end(fb_builder_t *b, const uint16_t *required_ids, size_t nrequired);

/* -------------------------------------------------------------- verifier */

/* Verification state (used by generated code). */
typedef struct fb__verifier {
	const uint8_t *buf;
	uint32_t len;
	uint32_t depth;
	uint32_t budget; /* tables + offset-vector elements still allowed */
} fb__verifier_t;

/* A table being verified. */
typedef struct fb__vtab {
	uint32_t pos;   /* table start */
	uint32_t vt;    /* vtable start */
	uint16_t vsize; /* vtable size in bytes */
	uint16_t tsize; /* table inline size in bytes */
} fb__vtab_t;

typedef int (*fb__verify_fn)(fb__verifier_t *v, uint32_t pos);
typedef int (*fb__verify_union_fn)(fb__verifier_t *v, uint8_t type, uint32_t pos);

int fb__vfy_root(const uint8_t *buf, size_t len, fb__verify_fn fn);
int fb__vfy_enter(fb__verifier_t *v, uint32_t pos, fb__vtab_t *t);
int fb__vfy_leave(fb__verifier_t *v);
int fb__vfy_scalar(const fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, uint32_t size);
int fb__vfy_string(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required);
int fb__vfy_table(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required,
		  fb__verify_fn fn);
int fb__vfy_vec_scalar(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required,
		       uint32_t elem_size);
int fb__vfy_vec_string(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required);
int fb__vfy_vec_table(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required,
		      fb__verify_fn fn);
int fb__vfy_union(fb__verifier_t *v, const fb__vtab_t *t, uint16_t type_id, uint16_t value_id,
		  bool required, fb__verify_union_fn fn);

#endif /* FB_H */
