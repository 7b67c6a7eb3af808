/*
 * fb_verifier.c: checks an untrusted FlatBuffer before anything reads it.
 *
 * The generated FBS_*_verify_root() functions walk the schema and call the
 * helpers below for every field.  Positions are uint32 below 2^31 (the
 * buffer limit); sums that involve values read from the buffer are done in
 * 64 bits, so nothing can wrap.  What is checked:
 *   - tables: 4-aligned, soffset leads to a 2-aligned vtable inside the
 *     buffer whose size is even and >= 4; the table's inline size (>= 4)
 *     lies inside the buffer;
 *   - fields: offset >= 4 (past the soffset), bytes inside the table's
 *     inline size, aligned to their size;
 *   - strings: 4-aligned length, bytes and terminating NUL inside the buffer;
 *   - vectors: 4-aligned length, len * elem_size inside the buffer, every
 *     string/table element verified;
 *   - unions: type NONE with a value, a type without a value, or an unknown
 *     type are rejected;
 *   - required fields present; nesting depth <= FB_MAX_DEPTH;
 *   - total work: tables plus string/table vector elements visited are capped
 *     at the buffer length, so offsets shared many times (a DAG) cannot make
 *     verification slower than linear.
 */
#include "fb.h"

int fb__vfy_root(const uint8_t *buf, size_t len, fb__verify_fn fn)
{
	fb__verifier_t v;

	if (buf == NULL)
		return FB_EINVAL;
	if (len > FB_MAX_BUFFER_SIZE)
		return FB_ETOOBIG;
	if (len < 4)
		return FB_ETRUNC;
	v.buf = buf;
	v.len = (uint32_t)len;
	v.depth = 0;
	v.budget = (uint32_t)len;
	return fn(&v, fb__ld_u32(buf));
}

int fb__vfy_enter(fb__verifier_t *v, uint32_t pos, fb__vtab_t *t)
{
	int64_t vt;
	uint16_t vsize, tsize;

	if (v->depth >= FB_MAX_DEPTH)
		return FB_EDEPTH;
	if (v->budget == 0)
		return FB_EBUDGET;
	v->budget--;
	if ((uint64_t)pos + 4 > v->len)
		return FB_ETRUNC;
	if ((pos & 3) != 0)
		return FB_EALIGN;
	vt = (int64_t)pos - (int64_t)fb__ld_i32(v->buf + pos);
	if (vt < 0 || vt + 4 > (int64_t)v->len)
		return FB_ETRUNC;
	if ((vt & 1) != 0)
		return FB_EALIGN;
	vsize = fb__ld_u16(v->buf + vt);
	tsize = fb__ld_u16(v->buf + vt + 2);
	if (vsize < 4 || (vsize & 1) != 0 || tsize < 4)
		return FB_EVTABLE;
	if (vt + vsize > (int64_t)v->len || (uint64_t)pos + tsize > v->len)
		return FB_ETRUNC;
	t->pos = pos;
	t->vt = (uint32_t)vt;
	t->vsize = vsize;
	t->tsize = tsize;
	v->depth++;
	return 0;
}

int fb__vfy_leave(fb__verifier_t *v)
{
	v->depth--;
	return 0;
}

/* Position of field `id` after checking its `size` bytes, 0 when absent. */
static int fb__vfy_field(const fb__verifier_t *v, const fb__vtab_t *t, uint16_t id,
			 uint32_t size, uint32_t *fpos)
{
	uint32_t vo = 4 + 2 * (uint32_t)id, fo;

	*fpos = 0;
	if (vo + 2 > t->vsize)
		return 0;
	fo = fb__ld_u16(v->buf + t->vt + vo);
	if (fo == 0)
		return 0;
	if (fo < 4)
		return FB_EVTABLE; /* would overlap the soffset */
	if (fo + size > t->tsize)
		return FB_ETRUNC;
	/* 8-byte scalars only need 4-byte alignment here: Node writes its
	 * messages size-prefixed (finishSizePrefixed), so the buffer is aligned
	 * as a whole with the 4-byte prefix and the FlatBuffer after it may
	 * place a uint64 at 4 mod 8. Reads are byte-wise anyway. */
	if (((t->pos + fo) & ((size > 4 ? 4 : size) - 1)) != 0)
		return FB_EALIGN;
	*fpos = t->pos + fo;
	return 0;
}

int fb__vfy_scalar(const fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, uint32_t size)
{
	uint32_t p;

	return fb__vfy_field(v, t, id, size, &p);
}

/* Target of an offset field, 0 when absent. */
static int fb__vfy_offset(const fb__verifier_t *v, const fb__vtab_t *t, uint16_t id,
			  bool required, uint32_t *target)
{
	uint32_t p;
	uint64_t tgt;
	int r;

	*target = 0;
	r = fb__vfy_field(v, t, id, 4, &p);
	if (r != 0)
		return r;
	if (p == 0)
		return required ? FB_EREQUIRED : 0;
	tgt = (uint64_t)p + fb__ld_u32(v->buf + p);
	if (tgt >= v->len)
		return FB_ETRUNC;
	*target = (uint32_t)tgt; /* >= p > 0 */
	return 0;
}

static int fb__vfy_string_at(const fb__verifier_t *v, uint32_t s)
{
	uint64_t nul;

	if ((uint64_t)s + 4 > v->len)
		return FB_ETRUNC;
	if ((s & 3) != 0)
		return FB_EALIGN;
	nul = (uint64_t)s + 4 + fb__ld_u32(v->buf + s);
	if (nul >= v->len)
		return FB_ETRUNC;
	if (v->buf[nul] != 0)
		return FB_ESTRING;
	return 0;
}

/* Checks a vector header and body; *n receives the element count. */
static int fb__vfy_vector_at(const fb__verifier_t *v, uint32_t p, uint32_t elem_size,
			     uint32_t *n)
{
	*n = 0;
	if ((uint64_t)p + 4 > v->len)
		return FB_ETRUNC;
	if ((p & 3) != 0)
		return FB_EALIGN;
	*n = fb__ld_u32(v->buf + p);
	if ((uint64_t)p + 4 + (uint64_t)*n * elem_size > v->len)
		return FB_ETRUNC;
	return 0;
}

/* Charges n element visits to the budget. */
static int fb__vfy_charge(fb__verifier_t *v, uint32_t n)
{
	if (n > v->budget)
		return FB_EBUDGET;
	v->budget -= n;
	return 0;
}

/* Target of the i-th offset element of the vector at p (elements checked). */
static int fb__vfy_elem(const fb__verifier_t *v, uint32_t p, uint32_t i, uint32_t *target)
{
	uint32_t e = p + 4 + 4 * i;
	uint64_t tgt = (uint64_t)e + fb__ld_u32(v->buf + e);

	if (tgt >= v->len)
		return FB_ETRUNC;
	*target = (uint32_t)tgt;
	return 0;
}

int fb__vfy_string(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required)
{
	uint32_t s;
	int r = fb__vfy_offset(v, t, id, required, &s);

	if (r != 0 || s == 0)
		return r;
	return fb__vfy_string_at(v, s);
}

int fb__vfy_table(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required,
		  fb__verify_fn fn)
{
	uint32_t p;
	int r = fb__vfy_offset(v, t, id, required, &p);

	if (r != 0 || p == 0)
		return r;
	return fn(v, p);
}

int fb__vfy_vec_scalar(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required,
		       uint32_t elem_size)
{
	uint32_t p, n;
	int r = fb__vfy_offset(v, t, id, required, &p);

	if (r != 0 || p == 0)
		return r;
	return fb__vfy_vector_at(v, p, elem_size, &n);
}

int fb__vfy_vec_string(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required)
{
	uint32_t p, n, i, s;
	int r = fb__vfy_offset(v, t, id, required, &p);

	if (r != 0 || p == 0)
		return r;
	if ((r = fb__vfy_vector_at(v, p, 4, &n)) != 0 || (r = fb__vfy_charge(v, n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = fb__vfy_elem(v, p, i, &s)) != 0 || (r = fb__vfy_string_at(v, s)) != 0)
			return r;
	}
	return 0;
}

int fb__vfy_vec_table(fb__verifier_t *v, const fb__vtab_t *t, uint16_t id, bool required,
		      fb__verify_fn fn)
{
	uint32_t p, n, i, e;
	int r = fb__vfy_offset(v, t, id, required, &p);

	if (r != 0 || p == 0)
		return r;
	if ((r = fb__vfy_vector_at(v, p, 4, &n)) != 0 || (r = fb__vfy_charge(v, n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = fb__vfy_elem(v, p, i, &e)) != 0 || (r = fn(v, e)) != 0)
			return r;
	}
	return 0;
}

int fb__vfy_union(fb__verifier_t *v, const fb__vtab_t *t, uint16_t type_id, uint16_t value_id,
		  bool required, fb__verify_union_fn fn)
{
	uint32_t tp, p;
	uint8_t type = 0;
	int r = fb__vfy_field(v, t, type_id, 1, &tp);

	if (r != 0)
		return r;
	if (tp != 0)
		type = v->buf[tp];
	r = fb__vfy_offset(v, t, value_id, required, &p);
	if (r != 0)
		return r;
	if (type == 0 || p == 0)
		return type == 0 && p == 0 ? 0 : FB_EUNION;
	return fn(v, type, p);
}
