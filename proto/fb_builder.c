/*
 * fb_builder.c: FlatBuffers builder.
 *
 * The buffer is written back to front, as in the reference implementation:
 * an object's reference (fb_ref_t) is its distance from the end of the
 * buffer, which stays valid when the storage grows.  Every scalar is aligned
 * to its size, offsets and vector lengths to 4, relative to the end of the
 * buffer; fb_builder_finish() pads the front so that the whole buffer is a
 * multiple of the largest alignment used, which makes those alignments hold
 * relative to the start of the finished buffer too.
 */
#include <stdlib.h>

#include "fb.h"

#define FB__DEFAULT_CAPACITY 1024

static int fb__fail(fb_builder_t *b, int err)
{
	if (b->error == 0)
		b->error = err;
	return b->error;
}

static void fb__store(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Ensures room for n more bytes in front of the data. */
static int fb__reserve(fb_builder_t *b, size_t n)
{
	size_t need, cap;
	uint8_t *nbuf;

	if (b->error != 0)
		return b->error;
	if (n > FB_MAX_BUFFER_SIZE - b->size)
		return fb__fail(b, FB_ETOOBIG);
	need = b->size + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : FB__DEFAULT_CAPACITY;
	while (cap < need)
		cap *= 2; /* need < 2^31, so this cannot overflow */
	nbuf = malloc(cap);
	if (nbuf == NULL)
		return fb__fail(b, FB_ENOMEM);
	if (b->size != 0)
		memcpy(nbuf + cap - b->size, b->buf + b->cap - b->size, b->size);
	free(b->buf);
	b->buf = nbuf;
	b->cap = cap;
	return 0;
}

/* Claims n bytes in front of the data; NULL on error. */
static uint8_t *fb__push(fb_builder_t *b, size_t n)
{
	if (fb__reserve(b, n) != 0)
		return NULL;
	b->size += n;
	return b->buf + b->cap - b->size;
}

/* Zero-pads so that after `additional` more bytes the size is a multiple of align. */
static int fb__prep(fb_builder_t *b, size_t align, size_t additional)
{
	size_t pad;
	uint8_t *p;

	if (b->error != 0)
		return b->error;
	if (additional > FB_MAX_BUFFER_SIZE - b->size)
		return fb__fail(b, FB_ETOOBIG);
	if (align > b->minalign)
		b->minalign = align;
	pad = (align - ((b->size + additional) & (align - 1))) & (align - 1);
	if (pad == 0)
		return 0;
	p = fb__push(b, pad);
	if (p == NULL)
		return b->error;
	memset(p, 0, pad);
	return 0;
}

/* Strings and vectors cannot be created while a table is open. */
static int fb__check_outside_table(fb_builder_t *b)
{
	if (b->error != 0)
		return b->error;
	if (b->in_table)
		return fb__fail(b, FB_ENESTED);
	return 0;
}

int fb_builder_init(fb_builder_t *b, size_t initial_capacity)
{
	size_t cap = initial_capacity != 0 ? initial_capacity : FB__DEFAULT_CAPACITY;

	memset(b, 0, sizeof *b);
	b->minalign = 1;
	if (cap > FB_MAX_BUFFER_SIZE)
		cap = FB_MAX_BUFFER_SIZE;
	cap = (cap + 7) & ~(size_t)7; /* keeps the data 8-byte aligned in memory */
	b->buf = malloc(cap);
	if (b->buf == NULL)
		return fb__fail(b, FB_ENOMEM);
	b->cap = cap;
	return 0;
}

void fb_builder_clear(fb_builder_t *b)
{
	b->size = 0;
	b->minalign = 1;
	b->error = 0;
	b->in_table = false;
	b->nfields = 0;
	b->nvtables = 0;
}

void fb_builder_free(fb_builder_t *b)
{
	free(b->buf);
	free(b->fields);
	free(b->vtables);
	memset(b, 0, sizeof *b);
	b->minalign = 1;
}

int fb_builder_error(const fb_builder_t *b)
{
	return b->error;
}

void *fb__clone_alloc(fb_builder_t *b, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	if (size != 0 && n > SIZE_MAX / size) {
		if (b->error == 0)
			b->error = FB_ENOMEM;
		return NULL;
	}
	p = malloc(n * size);
	if (p == NULL && b->error == 0)
		b->error = FB_ENOMEM;
	return p;
}

fb_ref_t fb_create_string(fb_builder_t *b, const char *s, size_t len)
{
	uint8_t *p;

	if (fb__check_outside_table(b) != 0)
		return 0;
	if (s == NULL && len != 0) {
		fb__fail(b, FB_EINVAL);
		return 0;
	}
	if (len >= FB_MAX_BUFFER_SIZE) {
		fb__fail(b, FB_ETOOBIG);
		return 0;
	}
	if (fb__prep(b, 4, len + 1) != 0)
		return 0;
	p = fb__push(b, len + 1);
	if (p == NULL)
		return 0;
	if (len != 0)
		memcpy(p, s, len);
	p[len] = 0;
	p = fb__push(b, 4);
	if (p == NULL)
		return 0;
	fb__store(p, len, 4);
	return (fb_ref_t)b->size;
}

fb_ref_t fb_create_cstring(fb_builder_t *b, const char *s)
{
	if (s == NULL) {
		fb__fail(b, FB_EINVAL);
		return 0;
	}
	return fb_create_string(b, s, strlen(s));
}

/* Reads one host-order element of 1, 2, 4 or 8 bytes. */
static uint64_t fb__host_elem(const uint8_t *src, size_t elem_size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (elem_size) {
	case 1:
		memcpy(&u8, src, 1);
		return u8;
	case 2:
		memcpy(&u16, src, 2);
		return u16;
	case 4:
		memcpy(&u32, src, 4);
		return u32;
	default:
		memcpy(&u64, src, 8);
		return u64;
	}
}

fb_ref_t fb_create_vec_scalars(fb_builder_t *b, const void *host_elems, size_t elem_size,
			       size_t n)
{
	const uint8_t *src = host_elems;
	size_t bytes, i;
	uint8_t *p;

	if (fb__check_outside_table(b) != 0)
		return 0;
	if ((elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8) ||
	    (host_elems == NULL && n != 0)) {
		fb__fail(b, FB_EINVAL);
		return 0;
	}
	if (n > FB_MAX_BUFFER_SIZE / elem_size) {
		fb__fail(b, FB_ETOOBIG);
		return 0;
	}
	bytes = n * elem_size;
	/* The length must be 4-aligned and the elements aligned to their size. */
	if (fb__prep(b, 4, bytes) != 0 || fb__prep(b, elem_size, bytes) != 0)
		return 0;
	p = fb__push(b, bytes);
	if (p == NULL)
		return 0;
	for (i = 0; i < n; i++)
		fb__store(p + i * elem_size, fb__host_elem(src + i * elem_size, elem_size),
			  elem_size);
	p = fb__push(b, 4);
	if (p == NULL)
		return 0;
	fb__store(p, n, 4);
	return (fb_ref_t)b->size;
}

fb_ref_t fb_create_vec_refs(fb_builder_t *b, const fb_ref_t *refs, size_t n)
{
	size_t i, first;
	uint8_t *p;

	if (fb__check_outside_table(b) != 0)
		return 0;
	if (refs == NULL && n != 0) {
		fb__fail(b, FB_EINVAL);
		return 0;
	}
	if (n > FB_MAX_BUFFER_SIZE / 4) {
		fb__fail(b, FB_ETOOBIG);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (refs[i] == 0 || refs[i] > b->size) {
			fb__fail(b, FB_EINVAL);
			return 0;
		}
	}
	if (fb__prep(b, 4, n * 4) != 0)
		return 0;
	p = fb__push(b, n * 4);
	if (p == NULL)
		return 0;
	first = b->size; /* element 0's distance from the end */
	for (i = 0; i < n; i++)
		fb__store(p + 4 * i, (first - 4 * i) - refs[i], 4);
	p = fb__push(b, 4);
	if (p == NULL)
		return 0;
	fb__store(p, n, 4);
	return (fb_ref_t)b->size;
}

void fb__table_start(fb_builder_t *b, uint16_t nfields)
{
	if (fb__check_outside_table(b) != 0)
		return;
	if (nfields > b->fields_cap) {
		uint32_t *f = realloc(b->fields, nfields * sizeof *f);
		if (f == NULL) {
			fb__fail(b, FB_ENOMEM);
			return;
		}
		b->fields = f;
		b->fields_cap = nfields;
	}
	if (nfields != 0)
		memset(b->fields, 0, nfields * sizeof *b->fields);
	b->nfields = nfields;
	b->table_start = (uint32_t)b->size;
	b->in_table = true;
}

/* Checks that a field may be added to the open table. */
static int fb__check_field(fb_builder_t *b, uint16_t id)
{
	if (b->error != 0)
		return b->error;
	if (!b->in_table || id >= b->nfields)
		return fb__fail(b, FB_EINVAL);
	return 0;
}

void fb__add_scalar(fb_builder_t *b, uint16_t id, uint64_t bits, uint32_t size)
{
	uint8_t *p;

	if (fb__check_field(b, id) != 0 || fb__prep(b, size, size) != 0)
		return;
	p = fb__push(b, size);
	if (p == NULL)
		return;
	fb__store(p, bits, size);
	b->fields[id] = (uint32_t)b->size;
}

void fb__add_ref(fb_builder_t *b, uint16_t id, fb_ref_t r)
{
	uint8_t *p;

	if (r == 0 || fb__check_field(b, id) != 0)
		return;
	if (r > b->size) {
		fb__fail(b, FB_EINVAL);
		return;
	}
	if (fb__prep(b, 4, 4) != 0)
		return;
	p = fb__push(b, 4);
	if (p == NULL)
		return;
	fb__store(p, b->size - r, 4);
	b->fields[id] = (uint32_t)b->size;
}

void fb__add_union(fb_builder_t *b, uint16_t type_id, uint16_t value_id, uint8_t type,
		   fb_ref_t r)
{
	if (type == 0 && r == 0)
		return;
	if (type == 0 || r == 0) {
		fb__fail(b, FB_EUNION);
		return;
	}
	fb__add_scalar(b, type_id, type, 1);
	fb__add_ref(b, value_id, r);
}

/* Finds an identical vtable written earlier; returns its ref or 0. */
static uint32_t fb__find_vtable(const fb_builder_t *b, uint32_t obj, uint16_t n, uint16_t vsize,
				uint16_t tsize)
{
	size_t k;
	uint16_t i;

	for (k = 0; k < b->nvtables; k++) {
		const uint8_t *vt = b->buf + b->cap - b->vtables[k];

		if (fb__ld_u16(vt) != vsize || fb__ld_u16(vt + 2) != tsize)
			continue;
		for (i = 0; i < n; i++) {
			uint32_t fo = b->fields[i] != 0 ? obj - b->fields[i] : 0;
			if (fb__ld_u16(vt + 4 + 2 * i) != fo)
				break;
		}
		if (i == n)
			return b->vtables[k];
	}
	return 0;
}

static void fb__remember_vtable(fb_builder_t *b, uint32_t vt)
{
	if (b->nvtables == b->vtables_cap) {
		size_t cap = b->vtables_cap != 0 ? b->vtables_cap * 2 : 16;
		uint32_t *v = realloc(b->vtables, cap * sizeof *v);
		if (v == NULL)
			return; /* deduplication is only an optimisation */
		b->vtables = v;
		b->vtables_cap = cap;
	}
	b->vtables[b->nvtables++] = vt;
}

fb_ref_t fb__table_end(fb_builder_t *b, const uint16_t *required_ids, size_t nrequired)
{
	uint32_t obj, vt, tsize;
	uint16_t n, vsize, i;
	uint8_t *p;
	size_t k;

	if (b->error != 0) {
		b->in_table = false;
		return 0;
	}
	if (!b->in_table) {
		fb__fail(b, FB_EINVAL);
		return 0;
	}
	b->in_table = false;
	for (k = 0; k < nrequired; k++) {
		if (required_ids[k] >= b->nfields || b->fields[required_ids[k]] == 0) {
			fb__fail(b, FB_EREQUIRED);
			return 0;
		}
	}
	/* The soffset to the vtable, filled in below. */
	if (fb__prep(b, 4, 4) != 0 || fb__push(b, 4) == NULL)
		return 0;
	obj = (uint32_t)b->size;
	tsize = obj - b->table_start;
	n = b->nfields;
	while (n > 0 && b->fields[n - 1] == 0)
		n--;
	if (tsize > 0xffff || n > (0xffff - 4) / 2) {
		fb__fail(b, FB_ETOOBIG);
		return 0;
	}
	vsize = (uint16_t)(4 + 2 * n);
	vt = fb__find_vtable(b, obj, n, vsize, (uint16_t)tsize);
	if (vt == 0) {
		p = fb__push(b, vsize); /* size is 4-aligned, vtables need 2 */
		if (p == NULL)
			return 0;
		fb__store(p, vsize, 2);
		fb__store(p + 2, tsize, 2);
		for (i = 0; i < n; i++)
			fb__store(p + 4 + 2 * i, b->fields[i] != 0 ? obj - b->fields[i] : 0, 2);
		vt = (uint32_t)b->size;
		fb__remember_vtable(b, vt);
	}
	/* vtable position = table position - soffset */
	fb__store(b->buf + b->cap - obj, (uint32_t)(vt - obj), 4);
	return obj;
}

int fb_builder_finish(fb_builder_t *b, fb_ref_t root, const uint8_t **out, size_t *out_len)
{
	uint8_t *p;

	*out = NULL;
	*out_len = 0;
	if (fb__check_outside_table(b) != 0)
		return b->error;
	if (root == 0 || root > b->size)
		return fb__fail(b, FB_EINVAL);
	if (fb__prep(b, b->minalign > 4 ? b->minalign : 4, 4) != 0)
		return b->error;
	p = fb__push(b, 4);
	if (p == NULL)
		return b->error;
	fb__store(p, b->size - root, 4);
	*out = p;
	*out_len = b->size;
	return 0;
}
