/* parquet.c - see parquet.h. Field ids and enum values are parquet.thrift's. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/parquet.h"

#define MAGIC "PAR1"

/* Thrift compact protocol type nibbles. */
enum {
	TC_TRUE = 1,
	TC_FALSE = 2,
	TC_BYTE = 3,
	TC_I32 = 5,
	TC_I64 = 6,
	TC_BINARY = 8,
	TC_LIST = 9,
	TC_STRUCT = 12,
};

/* parquet.thrift enums used below */
enum { PAGE_DATA = 0 };
enum { ENC_PLAIN = 0, ENC_RLE = 3 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum {
	CT_UTF8 = 0,
	CT_UINT_8 = 11,
	CT_UINT_16 = 12,
	CT_UINT_64 = 14,
	CT_INT_8 = 15,
	CT_INT_16 = 16
};
enum { LT_STRING = 1, LT_TIMESTAMP = 8, LT_INTEGER = 10 };
enum { TU_NANOS = 3 };

#define TC_DEPTH 8

/* A growable buffer that Thrift and pages are built in; err sticks. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

struct tc {
	struct buf *b;
	int16_t last[TC_DEPTH]; /* last field id per nesting level */
	int depth;
};

struct pq_col {
	struct parquet_column def;
	uint8_t size;  /* bytes per value in vals; 0: BYTE_ARRAY */
	uint8_t *vals; /* values of the group (BOOLEAN: one byte each) */
	size_t vlen, vcap;
	uint8_t *defs; /* OPTIONAL: 1 present / 0 null, one per row */
	uint32_t nput; /* values (and nulls) put in this group */
	size_t mark;   /* vlen when the rows being made began */
};

/* Where each written column chunk is, for the footer. */
struct pq_chunk {
	uint64_t offset;    /* of its page header */
	uint64_t unc, comp; /* bytes, page header included */
};

struct pq_group {
	uint64_t rows, bytes;
};

struct parquet_writer {
	struct parquet_opts o;
	struct pq_col *cols;
	size_t ncols;
	uint32_t group_rows; /* rows per group */
	uint32_t grows;      /* rows ended in this group */
	int bad;             /* a put of the wrong kind or past the group's room */
	int err;             /* sticky write or memory error */
	uint64_t rows, pos;
	struct pq_chunk *chunks; /* ngroups * ncols */
	struct pq_group *groups;
	size_t ngroups, gcap;
	struct buf page, z, hdr;
	ZSTD_CCtx *zc;
};

/* --- buffers and the Thrift compact encoder --- */

static int buf_reserve(struct buf *b, size_t n)
{
	size_t cap;
	uint8_t *np;

	if (b->err)
		return b->err;
	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	if (!(np = realloc(b->p, cap)))
		return b->err = -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == 0) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

static void buf_byte(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

static void buf_varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	do {
		t[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	buf_put(b, t, n);
}

static void buf_u32le(struct buf *b, uint32_t v)
{
	uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	buf_put(b, t, 4);
}

static void tc_init(struct tc *t, struct buf *b)
{
	memset(t, 0, sizeof *t);
	t->b = b;
}

static void tc_field(struct tc *t, int16_t id, uint8_t type)
{
	int delta = id - t->last[t->depth];

	if (delta > 0 && delta <= 15) {
		buf_byte(t->b, (uint8_t)(delta << 4 | type));
	} else {
		buf_byte(t->b, type);
		buf_varint(t->b, (uint64_t)(((uint32_t)id << 1) ^ (uint32_t)(id >> 15)));
	}
	t->last[t->depth] = id;
}

static void tc_i32(struct tc *t, int16_t id, int32_t v)
{
	tc_field(t, id, TC_I32);
	buf_varint(t->b, (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)));
}

static void tc_i64(struct tc *t, int16_t id, int64_t v)
{
	tc_field(t, id, TC_I64);
	buf_varint(t->b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void tc_bool(struct tc *t, int16_t id, bool v)
{
	tc_field(t, id, v ? TC_TRUE : TC_FALSE);
}

static void tc_byte(struct tc *t, int16_t id, int8_t v)
{
	tc_field(t, id, TC_BYTE);
	buf_byte(t->b, (uint8_t)v);
}

static void tc_str_value(struct tc *t, const char *s)
{
	size_t n = strlen(s);

	buf_varint(t->b, n);
	buf_put(t->b, s, n);
}

static void tc_str(struct tc *t, int16_t id, const char *s)
{
	tc_field(t, id, TC_BINARY);
	tc_str_value(t, s);
}

static void tc_list(struct tc *t, int16_t id, uint8_t elem, size_t n)
{
	if (id)
		tc_field(t, id, TC_LIST);
	if (n < 15) {
		buf_byte(t->b, (uint8_t)(n << 4 | elem));
	} else {
		buf_byte(t->b, 0xf0 | elem);
		buf_varint(t->b, n);
	}
}

/* A struct: as field id (0: a list element, no field header), then its fields. */
static void tc_begin(struct tc *t, int16_t id)
{
	if (id)
		tc_field(t, id, TC_STRUCT);
	if (t->depth + 1 >= TC_DEPTH) {
		t->b->err = -EOVERFLOW;
		return;
	}
	t->last[++t->depth] = 0;
}

static void tc_end(struct tc *t)
{
	buf_byte(t->b, 0);
	if (t->depth > 0)
		t->depth--;
}

/* --- writing --- */

static int emit(struct parquet_writer *w, const void *p, size_t n)
{
	int rc;

	if (w->err)
		return w->err;
	if (n && (rc = w->o.write(w->o.ctx, p, n)) < 0)
		return w->err = rc;
	w->pos += n;
	return 0;
}

static uint8_t value_size(uint8_t type)
{
	switch (type) {
	case PARQUET_BOOLEAN:
		return 1;
	case PARQUET_INT32:
		return 4;
	case PARQUET_INT64:
		return 8;
	case PARQUET_FLOAT:
		return 4;
	case PARQUET_DOUBLE:
		return 8;
	default:
		return 0;
	}
}

static int type_ok(const struct parquet_column *c)
{
	switch (c->logical) {
	case PARQUET_L_NONE:
		return value_size(c->type) || c->type == PARQUET_BYTE_ARRAY;
	case PARQUET_L_STRING:
		return c->type == PARQUET_BYTE_ARRAY;
	case PARQUET_L_INT8:
	case PARQUET_L_UINT8:
	case PARQUET_L_INT16:
	case PARQUET_L_UINT16:
		return c->type == PARQUET_INT32;
	case PARQUET_L_UINT64:
	case PARQUET_L_TIMESTAMP_NS:
		return c->type == PARQUET_INT64;
	default:
		return 0;
	}
}

int parquet_new(struct parquet_writer **out, const struct parquet_column *cols, size_t ncols,
		const struct parquet_opts *o)
{
	struct parquet_writer *w = NULL;
	size_t row_bytes = 0, group_bytes;
	int rc = -EINVAL;

	*out = NULL;
	if (!o || !o->write || !cols || ncols == 0 || ncols > PARQUET_COLUMNS_MAX ||
	    (o->codec != PARQUET_UNCOMPRESSED && o->codec != PARQUET_ZSTD))
		return -EINVAL;
	for (size_t i = 0; i < ncols; i++)
		if (!cols[i].name || !cols[i].name[0] || !type_ok(&cols[i]))
			return -EINVAL;
	if (!(w = calloc(1, sizeof *w)) || !(w->cols = calloc(ncols, sizeof *w->cols))) {
		rc = -ENOMEM;
		goto out;
	}
	w->o = *o;
	w->ncols = ncols;
	for (size_t i = 0; i < ncols; i++) {
		w->cols[i].def = cols[i];
		w->cols[i].size = value_size(cols[i].type);
		row_bytes += (w->cols[i].size ? w->cols[i].size : 16) + cols[i].optional;
	}
	group_bytes = o->group_bytes ? o->group_bytes : PARQUET_GROUP_BYTES;
	w->group_rows = (uint32_t)(group_bytes / row_bytes);
	if (w->group_rows < 1)
		w->group_rows = 1;
	if (w->group_rows > PARQUET_GROUP_ROWS_MAX)
		w->group_rows = PARQUET_GROUP_ROWS_MAX;
	for (size_t i = 0; i < ncols; i++) {
		struct pq_col *c = &w->cols[i];

		c->vcap = (size_t)w->group_rows * (c->size ? c->size : 16);
		if (!(c->vals = malloc(c->vcap)) ||
		    (c->def.optional && !(c->defs = malloc(w->group_rows)))) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (o->codec == PARQUET_ZSTD && !(w->zc = ZSTD_createCCtx())) {
		rc = -ENOMEM;
		goto out;
	}
	rc = emit(w, MAGIC, 4);
out:
	if (rc < 0) {
		parquet_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

void parquet_abort(struct parquet_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		free(w->cols[i].vals);
		free(w->cols[i].defs);
	}
	free(w->cols);
	free(w->chunks);
	free(w->groups);
	free(w->page.p);
	free(w->z.p);
	free(w->hdr.p);
	ZSTD_freeCCtx(w->zc);
	free(w);
}

/* Column col, if it takes n more values of type now (else the rows are marked bad). */
static struct pq_col *slot(struct parquet_writer *w, size_t col, uint8_t type, size_t n)
{
	struct pq_col *c;

	if (col >= w->ncols) {
		w->bad = 1;
		return NULL;
	}
	c = &w->cols[col];
	if ((type != 0xff && c->def.type != type) || c->nput + n > w->group_rows) {
		w->bad = 1;
		return NULL;
	}
	if (c->nput == w->grows)
		c->mark = c->vlen;
	return c;
}

void parquet_put_null(struct parquet_writer *w, size_t col)
{
	struct pq_col *c = slot(w, col, 0xff, 1);

	if (!c)
		return;
	if (!c->def.optional) {
		w->bad = 1;
		return;
	}
	c->defs[c->nput++] = 0;
}

static void put_one(struct parquet_writer *w, size_t col, uint8_t type, const void *v)
{
	struct pq_col *c = slot(w, col, type, 1);

	if (!c)
		return;
	if (c->def.optional)
		c->defs[c->nput] = 1;
	c->nput++;
	memcpy(c->vals + c->vlen, v, c->size);
	c->vlen += c->size;
}

void parquet_put_bool(struct parquet_writer *w, size_t col, int v)
{
	uint8_t b = v != 0;

	put_one(w, col, PARQUET_BOOLEAN, &b);
}

void parquet_put_i32(struct parquet_writer *w, size_t col, int32_t v)
{
	put_one(w, col, PARQUET_INT32, &v);
}

void parquet_put_i64(struct parquet_writer *w, size_t col, int64_t v)
{
	put_one(w, col, PARQUET_INT64, &v);
}

void parquet_put_f32(struct parquet_writer *w, size_t col, float v)
{
	put_one(w, col, PARQUET_FLOAT, &v);
}

void parquet_put_f64(struct parquet_writer *w, size_t col, double v)
{
	put_one(w, col, PARQUET_DOUBLE, &v);
}

/* Value k of a batch, converted to the column's C type. */
#define MANY(ctype, stype)                                             \
	for (size_t k = 0; k < n; k++) {                               \
		const uint8_t *p = (const uint8_t *)base + k * stride; \
		stype sv;                                              \
		ctype cv;                                              \
		if (valid && !valid[k])                                \
			continue;                                      \
		memcpy(&sv, p, sizeof sv);                             \
		cv = (ctype)sv;                                        \
		memcpy(out, &cv, sizeof cv);                           \
		out += sizeof cv;                                      \
	}

void parquet_put_many(struct parquet_writer *w, size_t col, enum parquet_src src, const void *base,
		      size_t stride, const uint8_t *valid, size_t n)
{
	struct pq_col *c = slot(w, col, 0xff, n);
	uint8_t *out;
	int t;

	if (!c)
		return;
	if (valid && !c->def.optional) {
		for (size_t k = 0; k < n; k++)
			if (!valid[k]) {
				w->bad = 1;
				return;
			}
		valid = NULL;
	}
	out = c->vals + c->vlen;
	t = c->def.type;
	if (t == PARQUET_FLOAT && src == PARQUET_SRC_F32) {
		MANY(float, float)
	} else if (t == PARQUET_DOUBLE && src == PARQUET_SRC_F64) {
		MANY(double, double)
	} else if (t == PARQUET_DOUBLE && src == PARQUET_SRC_F32) {
		MANY(double, float)
	} else if (t == PARQUET_INT32 && src == PARQUET_SRC_I8) {
		MANY(int32_t, int8_t)
	} else if (t == PARQUET_INT32 && src == PARQUET_SRC_U8) {
		MANY(int32_t, uint8_t)
	} else if (t == PARQUET_INT32 && src == PARQUET_SRC_U16) {
		MANY(int32_t, uint16_t)
	} else if (t == PARQUET_INT32 && src == PARQUET_SRC_I32) {
		MANY(int32_t, int32_t)
	} else if (t == PARQUET_INT64 && src == PARQUET_SRC_I64) {
		MANY(int64_t, int64_t)
	} else if (t == PARQUET_INT64 && src == PARQUET_SRC_U64) {
		MANY(int64_t, uint64_t)
	} else if (t == PARQUET_BOOLEAN && src == PARQUET_SRC_BOOL8) {
		for (size_t k = 0; k < n; k++)
			if (!valid || valid[k])
				*out++ = *((const uint8_t *)base + k * stride) != 0;
	} else {
		w->bad = 1;
		return;
	}
	if (c->def.optional) {
		if (valid)
			memcpy(c->defs + c->nput, valid, n);
		else
			memset(c->defs + c->nput, 1, n);
	}
	c->vlen = (size_t)(out - c->vals);
	c->nput += (uint32_t)n;
}
#undef MANY

void parquet_put_bytes(struct parquet_writer *w, size_t col, const void *v, size_t len)
{
	struct pq_col *c = slot(w, col, PARQUET_BYTE_ARRAY, 1);
	uint8_t *np;
	uint32_t n = (uint32_t)len;

	if (!c)
		return;
	if (c->def.optional)
		c->defs[c->nput] = 1;
	c->nput++;
	if (len > UINT32_MAX) {
		w->bad = 1;
		return;
	}
	if (c->vlen + 4 + len > c->vcap) {
		size_t cap = c->vcap * 2 + 4 + len;

		if (!(np = realloc(c->vals, cap))) {
			w->err = -ENOMEM;
			return;
		}
		c->vals = np;
		c->vcap = cap;
	}
	memcpy(c->vals + c->vlen, &n, 4); /* PLAIN BYTE_ARRAY: u32 LE length, then the bytes */
	memcpy(c->vals + c->vlen + 4, v, len);
	c->vlen += 4 + len;
}

/* Definition levels of n rows as RLE runs (bit width 1), u32 length first. */
static void rle_defs(struct buf *b, const uint8_t *defs, uint32_t n)
{
	size_t at = b->len;

	buf_u32le(b, 0);
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i + 1;

		while (j < n && defs[j] == defs[i])
			j++;
		buf_varint(b, (uint64_t)(j - i) << 1); /* low bit 0: an RLE run */
		buf_byte(b, defs[i]);
		i = j;
	}
	if (!b->err) {
		uint32_t len = (uint32_t)(b->len - at - 4);

		memcpy(b->p + at, &len, 4);
	}
}

static int grow_chunks(struct parquet_writer *w)
{
	struct pq_chunk *nc;
	struct pq_group *ng;
	size_t cap;

	if (w->ngroups < w->gcap)
		return 0;
	cap = w->gcap ? w->gcap * 2 : 16;
	if (!(nc = realloc(w->chunks, cap * w->ncols * sizeof *nc)))
		return -ENOMEM;
	w->chunks = nc;
	if (!(ng = realloc(w->groups, cap * sizeof *ng)))
		return -ENOMEM;
	w->groups = ng;
	w->gcap = cap;
	return 0;
}

/* One column chunk of the group: a page header and one data page. */
static int flush_column(struct parquet_writer *w, struct pq_col *c, struct pq_chunk *ch)
{
	uint32_t n = w->grows;
	size_t values = c->vlen, unc;
	const uint8_t *data;
	size_t data_len;
	struct tc t;

	/* the page body: definition levels, then values */
	w->page.len = 0;
	if (c->def.optional)
		rle_defs(&w->page, c->defs, n);
	if (c->def.type == PARQUET_BOOLEAN) {
		size_t bytes = (c->vlen + 7) / 8, at = w->page.len;

		if (buf_reserve(&w->page, bytes) == 0) {
			memset(w->page.p + at, 0, bytes);
			for (size_t i = 0; i < c->vlen; i++)
				w->page.p[at + i / 8] |= (uint8_t)(c->vals[i] << (i % 8));
			w->page.len += bytes;
		}
		values = bytes;
	} else if (w->zc) {
		buf_put(&w->page, c->vals, c->vlen);
	}
	if (w->page.err)
		return w->err = w->page.err;
	unc = c->def.type == PARQUET_BOOLEAN || w->zc ? w->page.len : w->page.len + values;
	if (unc > INT32_MAX)
		return w->err = -EFBIG;
	data = w->page.p;
	data_len = w->page.len;
	if (w->zc) {
		size_t bound = ZSTD_compressBound(unc), zn;

		w->z.len = 0;
		if (buf_reserve(&w->z, bound) < 0)
			return w->err = -ENOMEM;
		zn = ZSTD_compressCCtx(w->zc, w->z.p, bound, w->page.p, w->page.len,
				       w->o.zstd_level ? w->o.zstd_level : ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(zn))
			return w->err = -EIO;
		data = w->z.p;
		data_len = zn;
	}

	w->hdr.len = 0;
	tc_init(&t, &w->hdr);
	tc_i32(&t, 1, PAGE_DATA);
	tc_i32(&t, 2, (int32_t)unc);
	tc_i32(&t, 3, (int32_t)(w->zc ? data_len : unc));
	tc_begin(&t, 5); /* DataPageHeader */
	tc_i32(&t, 1, (int32_t)n);
	tc_i32(&t, 2, ENC_PLAIN);
	tc_i32(&t, 3, ENC_RLE);
	tc_i32(&t, 4, ENC_RLE);
	tc_end(&t);
	buf_byte(&w->hdr, 0); /* end of PageHeader */
	if (w->hdr.err)
		return w->err = w->hdr.err;

	ch->offset = w->pos;
	ch->unc = w->hdr.len + unc;
	ch->comp = w->hdr.len + (w->zc ? data_len : unc);
	if (emit(w, w->hdr.p, w->hdr.len) < 0 || emit(w, data, data_len) < 0)
		return w->err;
	/* uncompressed fixed-width values go out from the column's own buffer */
	if (!w->zc && c->def.type != PARQUET_BOOLEAN && emit(w, c->vals, values) < 0)
		return w->err;
	return 0;
}

static int flush_group(struct parquet_writer *w)
{
	struct pq_chunk *chunks;
	uint64_t bytes = 0;
	int rc;

	if (w->grows == 0)
		return 0;
	if ((rc = grow_chunks(w)) < 0)
		return w->err = rc;
	chunks = w->chunks + w->ngroups * w->ncols;
	for (size_t i = 0; i < w->ncols; i++) {
		if ((rc = flush_column(w, &w->cols[i], &chunks[i])) < 0)
			return rc;
		bytes += chunks[i].unc;
		w->cols[i].vlen = 0;
		w->cols[i].nput = 0;
	}
	w->groups[w->ngroups].rows = w->grows;
	w->groups[w->ngroups].bytes = bytes;
	w->ngroups++;
	w->grows = 0;
	return 0;
}

uint32_t parquet_room(const struct parquet_writer *w)
{
	return w->group_rows - w->grows;
}

int parquet_end_rows(struct parquet_writer *w, size_t n)
{
	int ok = !w->bad && n >= 1 && n <= w->group_rows - w->grows;

	for (size_t i = 0; ok && i < w->ncols; i++)
		ok = w->cols[i].nput == w->grows + n;
	if (w->err)
		return w->err;
	if (!ok) {
		/* undo the rows being made so the group stays consistent */
		for (size_t i = 0; i < w->ncols; i++) {
			struct pq_col *c = &w->cols[i];

			if (c->nput > w->grows) {
				c->vlen = c->mark;
				c->nput = w->grows;
			}
		}
		w->bad = 0;
		return -EINVAL;
	}
	w->grows += (uint32_t)n;
	w->rows += n;
	if (w->grows == w->group_rows)
		return flush_group(w);
	return 0;
}

int parquet_end_row(struct parquet_writer *w)
{
	return parquet_end_rows(w, 1);
}

static void schema_leaf(struct tc *t, const struct parquet_column *c)
{
	static const int8_t converted[] = {
		[PARQUET_L_STRING] = CT_UTF8,    [PARQUET_L_INT8] = CT_INT_8,
		[PARQUET_L_UINT8] = CT_UINT_8,   [PARQUET_L_INT16] = CT_INT_16,
		[PARQUET_L_UINT16] = CT_UINT_16, [PARQUET_L_UINT64] = CT_UINT_64,
	};
	static const int8_t bits[] = {
		[PARQUET_L_INT8] = 8,    [PARQUET_L_UINT8] = 8,   [PARQUET_L_INT16] = 16,
		[PARQUET_L_UINT16] = 16, [PARQUET_L_UINT64] = 64,
	};

	tc_begin(t, 0);
	tc_i32(t, 1, c->type);
	tc_i32(t, 3, c->optional ? REP_OPTIONAL : REP_REQUIRED);
	tc_str(t, 4, c->name);
	if (c->logical != PARQUET_L_NONE && c->logical != PARQUET_L_TIMESTAMP_NS)
		tc_i32(t, 6, converted[c->logical]);
	if (c->logical == PARQUET_L_STRING) {
		tc_begin(t, 10);
		tc_begin(t, LT_STRING);
		tc_end(t);
		tc_end(t);
	} else if (c->logical == PARQUET_L_TIMESTAMP_NS) {
		tc_begin(t, 10);
		tc_begin(t, LT_TIMESTAMP);
		tc_bool(t, 1, true); /* isAdjustedToUTC */
		tc_begin(t, 2);      /* unit */
		tc_begin(t, TU_NANOS);
		tc_end(t);
		tc_end(t);
		tc_end(t);
		tc_end(t);
	} else if (c->logical != PARQUET_L_NONE) {
		tc_begin(t, 10);
		tc_begin(t, LT_INTEGER);
		tc_byte(t, 1, bits[c->logical]);
		tc_bool(t, 2, c->logical == PARQUET_L_INT8 || c->logical == PARQUET_L_INT16);
		tc_end(t);
		tc_end(t);
	}
	tc_end(t);
}

static void footer(struct parquet_writer *w, struct buf *b)
{
	struct tc t;
	size_t nkv = 0;

	while (w->o.kv && w->o.kv[2 * nkv] && w->o.kv[2 * nkv + 1])
		nkv++;
	tc_init(&t, b);
	tc_i32(&t, 1, 1); /* version */
	tc_list(&t, 2, TC_STRUCT, w->ncols + 1);
	tc_begin(&t, 0); /* the root */
	tc_str(&t, 4, "schema");
	tc_i32(&t, 5, (int32_t)w->ncols);
	tc_end(&t);
	for (size_t i = 0; i < w->ncols; i++)
		schema_leaf(&t, &w->cols[i].def);
	tc_i64(&t, 3, (int64_t)w->rows);
	tc_list(&t, 4, TC_STRUCT, w->ngroups);
	for (size_t g = 0; g < w->ngroups; g++) {
		const struct pq_chunk *ch = w->chunks + g * w->ncols;

		tc_begin(&t, 0); /* RowGroup */
		tc_list(&t, 1, TC_STRUCT, w->ncols);
		for (size_t i = 0; i < w->ncols; i++) {
			const struct parquet_column *c = &w->cols[i].def;

			tc_begin(&t, 0); /* ColumnChunk */
			tc_i64(&t, 2, (int64_t)ch[i].offset);
			tc_begin(&t, 3); /* ColumnMetaData */
			tc_i32(&t, 1, c->type);
			tc_list(&t, 2, TC_I32, c->optional ? 2 : 1);
			buf_varint(b, ENC_PLAIN << 1); /* zigzag of a list's i32 element */
			if (c->optional)
				buf_varint(b, ENC_RLE << 1);
			tc_list(&t, 3, TC_BINARY, 1);
			tc_str_value(&t, c->name);
			tc_i32(&t, 4, w->o.codec);
			tc_i64(&t, 5, (int64_t)w->groups[g].rows);
			tc_i64(&t, 6, (int64_t)ch[i].unc);
			tc_i64(&t, 7, (int64_t)ch[i].comp);
			tc_i64(&t, 9, (int64_t)ch[i].offset);
			tc_end(&t);
			tc_end(&t);
		}
		tc_i64(&t, 2, (int64_t)w->groups[g].bytes);
		tc_i64(&t, 3, (int64_t)w->groups[g].rows);
		tc_end(&t);
	}
	if (nkv) {
		tc_list(&t, 5, TC_STRUCT, nkv);
		for (size_t i = 0; i < nkv; i++) {
			tc_begin(&t, 0);
			tc_str(&t, 1, w->o.kv[2 * i]);
			tc_str(&t, 2, w->o.kv[2 * i + 1]);
			tc_end(&t);
		}
	}
	tc_str(&t, 6, w->o.created_by ? w->o.created_by : "pitwall");
	buf_byte(b, 0); /* end of FileMetaData */
}

int parquet_close(struct parquet_writer *w)
{
	struct buf b = { 0 };
	int rc;

	if (!w)
		return 0;
	if ((rc = w->err) < 0 || (rc = flush_group(w)) < 0)
		goto out;
	footer(w, &b);
	if ((rc = b.err) < 0)
		goto out;
	if (b.len > UINT32_MAX) {
		rc = -EFBIG;
		goto out;
	}
	buf_u32le(&b, (uint32_t)b.len);
	buf_put(&b, MAGIC, 4);
	if ((rc = b.err) == 0)
		rc = emit(w, b.p, b.len);
out:
	free(b.p);
	parquet_abort(w);
	return rc;
}

uint64_t parquet_rows(const struct parquet_writer *w)
{
	return w->rows;
}

uint64_t parquet_bytes(const struct parquet_writer *w)
{
	return w->pos;
}
