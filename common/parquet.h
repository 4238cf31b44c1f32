/*
 * parquet.h - a small streaming Apache Parquet writer: flat tables of typed
 * columns, written row by row and flushed a row group at a time, for the run
 * export (export.h). No Parquet library is packaged for Debian; this writes the
 * subset below, which pandas (pyarrow, fastparquet), DuckDB, Spark and
 * hyparquet read (docs/export.md, "Parquet").
 *
 * File:  "PAR1" | row group | row group | ... | FileMetaData | u32 LE length | "PAR1"
 *   - one row group per parquet_opts.group_bytes of values (default
 *     PARQUET_GROUP_BYTES): each column chunk of a group is one v1 data page
 *     (PageHeader type DATA_PAGE), PLAIN encoding (BOOLEAN bit-packed, INT32 /
 *     INT64 / FLOAT / DOUBLE little-endian, BYTE_ARRAY u32 length + bytes);
 *   - OPTIONAL columns: definition levels (bit width 1) as RLE runs of the
 *     RLE/bit-packing hybrid, u32 length first; nulls store no value;
 *     REQUIRED columns: values only; no repetition levels (flat schema);
 *   - pages uncompressed or compressed with zstd (codec ZSTD); no dictionary,
 *     no statistics, no page index, no CRC;
 *   - the footer (Thrift compact protocol): version 1, the schema (a root and
 *     one leaf per column with type, repetition, name, converted type and
 *     logical type), num_rows, the row groups with each chunk's
 *     ColumnMetaData, optional key/value metadata, created_by.
 * Memory: the current row group's values (about group_bytes), one page
 * buffer, the zstd output buffer, and 48 bytes per column chunk written so far
 * for the footer. Output goes through the caller's write callback in order,
 * never seeking, so a file can stream into an HTTP response.
 *
 * Usage: parquet_new, then per row one parquet_put_* (or parquet_put_null for
 * an OPTIONAL column) for every column in any order and parquet_end_row; or
 * for up to parquet_room rows at once, parquet_put_many for each column (a
 * strided batch, the fast way) and parquet_end_rows. parquet_close writes the
 * last group and the footer.
 *
 * Who may call: one thread per writer. Errors are 0 or a negative errno;
 * after an error the writer only frees itself in parquet_close.
 */
#ifndef PW_PARQUET_H
#define PW_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#define PARQUET_GROUP_BYTES (16u << 20) /* values per row group, default */
#define PARQUET_GROUP_ROWS_MAX (1u << 20)

/* Physical types: the values are parquet.thrift's Type. */
enum parquet_type {
	PARQUET_BOOLEAN = 0,
	PARQUET_INT32 = 1,
	PARQUET_INT64 = 2,
	PARQUET_FLOAT = 4,
	PARQUET_DOUBLE = 5,
	PARQUET_BYTE_ARRAY = 6,
};

/* Annotations (converted type and logical type in the schema). */
enum parquet_logical {
	PARQUET_L_NONE = 0,
	PARQUET_L_STRING,       /* BYTE_ARRAY: UTF-8 */
	PARQUET_L_INT8,         /* INT32 */
	PARQUET_L_UINT8,        /* INT32 */
	PARQUET_L_INT16,        /* INT32 */
	PARQUET_L_UINT16,       /* INT32 */
	PARQUET_L_UINT64,       /* INT64 */
	PARQUET_L_TIMESTAMP_NS, /* INT64: ns since the epoch, UTC */
};

enum parquet_codec {
	PARQUET_UNCOMPRESSED = 0,
	PARQUET_ZSTD = 6, /* parquet.thrift's CompressionCodec */
};

struct parquet_column {
	const char *name; /* borrowed until parquet_close */
	uint8_t type;     /* enum parquet_type */
	uint8_t logical;  /* enum parquet_logical */
	uint8_t optional; /* 1: OPTIONAL (nulls allowed), 0: REQUIRED */
};

/* Hand len bytes of the file (borrowed for the call) on; 0 or a negative errno. */
typedef int parquet_write_fn(void *ctx, const void *buf, size_t len);

struct parquet_opts {
	parquet_write_fn *write; /* required */
	void *ctx;
	int codec;              /* enum parquet_codec */
	int zstd_level;         /* 0: zstd's default */
	size_t group_bytes;     /* 0: PARQUET_GROUP_BYTES */
	const char *const *kv;  /* key, value, key, value, ..., NULL: the file's metadata */
	const char *created_by; /* NULL: "pitwall" */
};

struct parquet_writer;

/* Lifecycle */
/*
 * A writer for ncols (1..PARQUET_COLUMNS_MAX) columns; writes the leading
 * "PAR1". cols, names and o's strings are borrowed until parquet_close.
 * -EINVAL for bad arguments, -ENOMEM, or the write callback's error. On
 * success *out is owned by the caller, who ends it with parquet_close.
 */
#define PARQUET_COLUMNS_MAX 4096
int parquet_new(struct parquet_writer **out, const struct parquet_column *cols, size_t ncols,
		const struct parquet_opts *o);
/* Write the pending rows as a last group, then the footer; frees w (always).
 * Returns 0 when the whole file was handed to the write callback. NULL: 0. */
int parquet_close(struct parquet_writer *w);
/* Free w without writing anything more (an export that failed). NULL is a no-op. */
void parquet_abort(struct parquet_writer *w);

/* Operations: the value of column col in the current row. A value of the
 * wrong kind for the column, or a second value for a column in one row,
 * makes parquet_end_row fail with -EINVAL (and the row is dropped). */
void parquet_put_null(struct parquet_writer *w, size_t col);
void parquet_put_bool(struct parquet_writer *w, size_t col, int v);
void parquet_put_i32(struct parquet_writer *w, size_t col, int32_t v);
void parquet_put_i64(struct parquet_writer *w, size_t col, int64_t v);
void parquet_put_f32(struct parquet_writer *w, size_t col, float v);
void parquet_put_f64(struct parquet_writer *w, size_t col, double v);
void parquet_put_bytes(struct parquet_writer *w, size_t col, const void *v, size_t len);
/* End the row: every column must have had one value. Flushes a full group.
 * 0, -EINVAL (a column missing or given twice), -ENOMEM, or a write error. */
int parquet_end_row(struct parquet_writer *w);

/* The C type of the values parquet_put_many reads. */
enum parquet_src {
	PARQUET_SRC_F32, /* to FLOAT or DOUBLE */
	PARQUET_SRC_F64, /* to DOUBLE */
	PARQUET_SRC_I8,  /* these four to INT32 */
	PARQUET_SRC_U8,
	PARQUET_SRC_U16,
	PARQUET_SRC_I32,
	PARQUET_SRC_I64, /* these two to INT64 */
	PARQUET_SRC_U64,
	PARQUET_SRC_BOOL8, /* a byte, 0 or not: to BOOLEAN */
};
/* Rows the current group takes before it is written (a batch's most). */
uint32_t parquet_room(const struct parquet_writer *w);
/*
 * The values of column col for the next n rows: value k is the src at
 * base + k * stride (borrowed for the call), converted to the column's type;
 * valid (NULL: every value) has 1 for a value and 0 for a null (OPTIONAL
 * columns only). A src that does not convert to the column's type, or more
 * rows than parquet_room, makes parquet_end_rows fail with -EINVAL.
 */
void parquet_put_many(struct parquet_writer *w, size_t col, enum parquet_src src, const void *base,
		      size_t stride, const uint8_t *valid, size_t n);
/* End n rows at once (1..parquet_room): every column must have n new values,
 * put one by one or in a batch. As parquet_end_row otherwise. */
int parquet_end_rows(struct parquet_writer *w, size_t n);

/* Accessors */
/* Rows ended so far, and bytes handed to the write callback so far. */
uint64_t parquet_rows(const struct parquet_writer *w);
uint64_t parquet_bytes(const struct parquet_writer *w);

#endif
