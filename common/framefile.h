/*
 * framefile.h - the on-disk format of a run's frames,
 * data/sessions/<session>/<run_id>.frames (docs/architecture.md §5): an append-only file
 * header followed by self-describing, CRC-checked blocks of compressed
 * struct pw_frame. pw-store appends while the run records and syncs at least
 * once a second; after a crash framefile_open_append() keeps every complete
 * block and cuts the torn tail. pw-api and pwctl export runs through it.
 *
 * The file is a container: this module writes and checks the file and block
 * headers; how a block's frames become its payload is the codec's
 * (blockcodec.h, named once in the file header); the checksum is CRC-32C
 * (crc32c.h).
 *
 * Two formats; writers create format 2, every reader reads both, and a
 * writer reopening a format 1 file (a run that recorded across an upgrade)
 * goes on in format 1. All integers are little-endian.
 *
 *   file header, FRAMEFILE_HEADER_SIZE = 160 bytes, then in format 2 the layout
 *     0  char magic[8]        "PWFRAMES"
 *     8  u16 format_version   1 or 2 (FRAMEFILE_FORMAT_VERSION)
 *    10  u16 header_size      1: 160; 2: 160 + layout_len + 4
 *    12  u16 frame_size       FRAME_SIZE (384)
 *    14  u16 frame_version    FRAME_VERSION of the writer that created the file;
 *                              every frame carries its own version (a file
 *                              reopened by a newer writer holds both) and
 *                              readers bring each up to FRAME_VERSION
 *                              (frame_upgrade; FRAME_VERSION_MIN..FRAME_VERSION
 *                              are read)
 *    16  u32 codec            enum blockcodec_id: 1: RAW or PACK, the same for
 *                              every block; 2: BLOCKCODEC_COLS
 *    20  u32 block_frames     the writer's block size (informational)
 *    24  i64 created_ns       realtime ns since the epoch
 *    32  char feed[32]        NUL-padded
 *    64  char run_id[64]      NUL-padded, no NUL when exactly 64 bytes
 *   128  format 1: u8 reserved[28], zero
 *        format 2: u64 channels (FRAME_P_* bits whose chunks the file carries:
 *                  all ones in a run's file, fewer in an extract), u32 parts
 *                  (BLOCKCODEC_PART_BIT()s it carries), u16 layout_len,
 *                  u8 reserved[10], zero
 *   156  u32 crc32c           of bytes 0..155
 *   160  format 2: the layout (blockcodec_layout_dump), layout_len bytes,
 *        then u32 crc32c of them
 *
 *   format 1 block, repeated to the end of the file
 *     0  u32 magic            "PWFB"
 *     4  u32 payload_len      bytes after this 32-byte header
 *     8  u32 frame_count      1..FRAMEFILE_BLOCK_MAX_FRAMES
 *    12  u32 crc32c           of header bytes 0..11, 16..31, then the payload
 *    16  u64 first_seq        seq of the block's first and last frame;
 *    24  u64 last_seq         seqs increase strictly through the whole file
 *    32  payload              frame_count frames, encoded by the codec
 *                              (blockcodec.h)
 *
 *   format 2 block, repeated to the end of the file: chunks a reader can
 *   read and check on their own (blockcodec.h, BLOCKCODEC_COLS)
 *     0  u32 magic            "PWFC"
 *     4  u32 len              bytes after this 48-byte header
 *     8  u32 frame_count      1..FRAMEFILE_BLOCK_MAX_FRAMES
 *    12  u32 crc32c           of bytes 0..11 and 16 to the end of the directory
 *    16  u64 first_seq        as in format 1
 *    24  u64 last_seq
 *    32  u16 lap_min          the least and greatest lap (laps completed) of the
 *    34  u16 lap_max          block's frames with a lap; 0xffff, 0 when none has one
 *    36  u8 reserved[12]      zero
 *    48  stored               a bit per chunk of the layout, (nchunks + 7) / 8
 *                              bytes: bit k set = chunk k is stored here; a chunk
 *                              not stored is zero in every frame (or, in an
 *                              extract, not carried: see channels and parts)
 *        directory            per stored chunk: u32 length, u32 crc32c of its bytes
 *        chunks               the stored chunks' bytes, in layout order
 *   A block's header and directory are its index: the seq and lap ranges and
 *   where each channel's bytes are. A reader of some channels reads the
 *   header and directory and then only those channels' chunks (one read when
 *   they are near each other), checks their CRCs and decodes them; a walk
 *   over a lap's seq range skips every other block by its header alone.
 *
 * A reader walks the blocks from the end of the header and stops at the first one that
 * is incomplete (a torn tail: the file ends inside it) or invalid (bad magic,
 * lengths, seq order, CRC or payload: a corrupt tail; the zero-filled tail
 * some filesystems leave after a crash is one too). Everything before that
 * point is valid; nothing after it is trusted. A block may not claim more
 * frames than its payload can encode, so a format 1 file decodes to at most
 * 67 times its size in memory. In format 2 the walk checks each block's
 * header and directory; framefile_scan, framefile_load and open_append
 * also check every chunk, a reader of some channels the chunks it reads (a
 * damaged chunk it does not read goes unnoticed, as it does not matter to
 * it). A format 2 block whose chunks are all absent decodes to zero frames
 * of any count, so a format 2 block's frame_count is bounded by the header's
 * seq range and FRAMEFILE_BLOCK_MAX_FRAMES only.
 *
 * Who may call: one framefile_writer per file, used by one thread (pw-store's
 * run writer). create and open_append take an exclusive flock on the file, so
 * a second writer gets -EBUSY. The reader functions (load, scan, and a
 * framefile_reader, which is used by one thread) may run anywhere, also on a
 * file that is being appended to: the block in flight then shows up as a
 * torn tail.
 *
 * Errors are 0 or a negative errno. Nothing here aborts or logs.
 */
#ifndef PW_FRAMEFILE_H
#define PW_FRAMEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/blockcodec.h"
#include "common/frame.h"
#include "common/framecols.h"
#include "common/ids.h"

#define FRAMEFILE_MAGIC "PWFRAMES"
#define FRAMEFILE_FORMAT_VERSION 2
#define FRAMEFILE_HEADER_SIZE 160       /* the fixed part; format 2's layout follows */
#define FRAMEFILE_BLOCK_HEADER_SIZE 32  /* format 1 */
#define FRAMEFILE_BLOCK2_HEADER_SIZE 48 /* format 2, before the stored bits and directory */
#define FRAMEFILE_BLOCK_FRAMES 1024     /* the writer writes a block at this many */
#define FRAMEFILE_BLOCK_MAX_FRAMES 4096 /* readers reject bigger blocks */
#define FRAMEFILE_FEED_MAX IDS_FEED_MAX /* bytes, without the NUL */
#define FRAMEFILE_RUN_ID_MAX 64

enum framefile_tail {
	FRAMEFILE_TAIL_CLEAN = 0, /* the file ends exactly after a valid block */
	FRAMEFILE_TAIL_TORN,      /* the file ends inside a block (a crash mid-write) */
	FRAMEFILE_TAIL_CORRUPT,   /* a block failed its checks; it and all after it dropped */
};

/* The file header. At create, only format_version, codec (format 1),
 * created_ns, feed and run_id are read; the other fields are always written
 * as the current ones. */
struct framefile_hdr {
	uint32_t format_version; /* 0 at create: FRAMEFILE_FORMAT_VERSION; 1 for tests and tools */
	uint32_t header_size;    /* bytes of the whole header */
	uint32_t frame_size;
	uint32_t frame_version;
	uint32_t codec;     /* enum blockcodec_id; BLOCKCODEC_COLS in format 2 */
	int64_t created_ns; /* realtime ns; 0 at create means now */
	uint64_t channels;  /* FRAME_P_* carried: all ones but in an extract */
	uint32_t parts;     /* BLOCKCODEC_PART_BIT()s carried */
	char feed[FRAMEFILE_FEED_MAX + 1];
	char run_id[FRAMEFILE_RUN_ID_MAX + 1];
};

/* What a reader (or open_append) found in a file. */
struct framefile_info {
	struct framefile_hdr hdr;
	uint64_t frames;    /* in valid blocks */
	uint64_t blocks;    /* valid blocks */
	uint64_t first_seq; /* of the first and last valid frame; 0 when frames == 0 */
	uint64_t last_seq;
	uint64_t file_bytes;    /* size of the file (of the buffer) */
	uint64_t valid_bytes;   /* header + valid blocks */
	uint64_t dropped_bytes; /* file_bytes - valid_bytes: the tail that was dropped */
	enum framefile_tail tail;
};

/* The writer's counters (framefile_stats). */
struct framefile_stats {
	uint64_t frames;          /* accepted: written in blocks + pending in memory */
	uint64_t frames_written;  /* in complete blocks handed to the kernel */
	uint64_t frames_synced;   /* durable: covered by the last successful sync */
	uint64_t last_seq;        /* of the last accepted frame; 0 when frames == 0 */
	uint64_t synced_last_seq; /* of the last durable frame; 0 when frames_synced == 0 */
	uint64_t blocks;          /* blocks written */
	uint64_t bytes;           /* file size: header + blocks written */
	uint64_t synced_bytes;    /* durable file size */
};

struct framefile_writer; /* process-local, opaque */
struct framefile_reader; /* process-local, opaque */

/* Lifecycle */
/*
 * Create a new frame file at path (O_CREAT|O_EXCL: -EEXIST if it exists),
 * write the header and fsync the file and its directory, so the file exists
 * durably when this returns 0. feed must be 1..FRAMEFILE_FEED_MAX bytes and
 * run_id 1..FRAMEFILE_RUN_ID_MAX bytes (-EINVAL otherwise). The file is in
 * format 2 with this build's layout (hdr->format_version 0 or 2; codec is
 * not read), or, for tests and tools, format 1 in hdr->codec (RAW or PACK). On
 * failure no file is left behind. On success *out is owned by the caller,
 * who releases it with framefile_close().
 */
int framefile_create(struct framefile_writer **out, const char *path,
		     const struct framefile_hdr *hdr);
/*
 * Reopen an existing file for appending, e.g. after a crash: validate the
 * header (-EPROTO when it is not a frame file of this FRAME_SIZE, a
 * frame version this build reads and a known codec; the file is then left
 * alone), keep every
 * complete valid block, truncate a torn or corrupt tail away, and fsync
 * (also when nothing was cut: what a crashed writer left unsynced in the
 * page cache counts as durable from here on). -EBUSY while another writer
 * has the file. info (may be NULL) reports what was kept (frames, last_seq
 * to resume after) and what was cut (tail, dropped_bytes). *out is owned by
 * the caller (framefile_close).
 */
int framefile_open_append(struct framefile_writer **out, const char *path,
			  struct framefile_info *info);
/*
 * Write the pending frames as a last block, sync, close and free w (always,
 * also on error). Returns the result of that final sync; 0 means every
 * accepted frame is durable. NULL is a no-op.
 */
int framefile_close(struct framefile_writer *w);

/* Operations */
/*
 * Accept n frames (copied; the caller keeps frames). They are buffered and
 * written as a block whenever FRAMEFILE_BLOCK_FRAMES are pending; they are
 * durable only after a later framefile_sync() returns 0. Every frame's seq
 * must be greater than the previous accepted one (-EINVAL, nothing taken).
 *
 * On an I/O error (-ENOSPC, -EIO, -EFBIG, ...) the writer rolls back to its
 * last durable state: the file is truncated to the last successful sync,
 * pending and unsynced frames are forgotten and framefile_stats() shows
 * frames == frames_synced. The caller appends again from synced_last_seq + 1
 * when it wants to retry; the writer stays usable.
 */
int framefile_append(struct framefile_writer *w, const struct pw_frame *frames, size_t n);
/* Write the pending frames as a (partial) block and fdatasync. Only after it
 * returns 0 are all accepted frames durable. Errors roll back as above. */
int framefile_sync(struct framefile_writer *w);

/* Accessors */
/* w must not be NULL. */
void framefile_stats(const struct framefile_writer *w, struct framefile_stats *st);

/* Readers */
/*
 * Load every frame of the valid blocks into a new array: *frames is
 * malloc'd and owned by the caller (free()), NULL when *n == 0. A torn or
 * corrupt tail is not an error: it is reported in info (may be NULL) and its
 * frames are left out. Frames of an older version come out upgraded to
 * FRAME_VERSION (frame_upgrade); a frame of a version this build does not
 * know comes out as it is. -EPROTO for a bad header (also an empty file) or a
 * frame size, frame version or codec this build cannot decode, -ENOMEM,
 * or the errno of open/read. Any file content is handled safely; the header
 * strings are copied as they are (NUL-terminated), so validate them before
 * using them in a path. For more than 64 MB of frames a helper thread faults
 * the array's pages in while this one decodes (joined before returning).
 */
int framefile_load(const char *path, struct pw_frame **frames, size_t *n,
		   struct framefile_info *info);
/* The same from a file image in memory (borrowed, len bytes). */
int framefile_load_buf(const void *buf, size_t len, struct pw_frame **frames, size_t *n,
		       struct framefile_info *info);
/*
 * Validate the file without decoding frames: header, every block's header
 * and CRC; fills info (counts, first/last seq, bytes, tail). -EPROTO for a
 * bad header. Any frame size, frame version or codec is accepted here. Only
 * a forged block (valid CRC, malformed payload) passes scan and stops load.
 */
int framefile_scan(const char *path, struct framefile_info *info);
int framefile_scan_buf(const void *buf, size_t len, struct framefile_info *info);

/* Block reader: a run's frames one block at a time, in constant memory. */
/*
 * Open path for reading block by block. Validates it as framefile_scan does
 * (format 1: reading the whole file once; format 2: walking the block
 * headers and directories, each chunk being checked when it is read) and,
 * like framefile_load, fails with
 * -EPROTO for a bad header or frames this build cannot decode. info (may
 * be NULL) gets the scan's findings: the frames, seqs and tail the reader
 * will deliver. The reader delivers the blocks that scan found valid and no
 * more, also when the file grows meanwhile. On success *out is owned by the
 * caller (framefile_reader_close); it holds one block of frames (1.5 MB).
 */
int framefile_reader_open(struct framefile_reader **out, const char *path,
			  struct framefile_info *info);
/*
 * The next block: 1 with *frames pointing at its *n frames (1..
 * FRAMEFILE_BLOCK_MAX_FRAMES, borrowed from r and valid until the next call
 * or close), 0 at the end (also on every later call), or a negative errno
 * of a read (the same block is tried again on the next call). A block that
 * no longer reads or decodes as the scan found it (a forged block: valid
 * CRC, malformed payload; or a file rewritten under the reader) ends the
 * walk early as a corrupt tail, as it ends framefile_load.
 */
int framefile_reader_next(struct framefile_reader *r, const struct pw_frame **frames, size_t *n);
/* Start r again at its first block: the next framefile_reader_next delivers
 * the same blocks once more (an export that reads a run twice). */
int framefile_reader_rewind(struct framefile_reader *r);
/* What r has delivered so far (frames, blocks, seqs, valid_bytes); once
 * framefile_reader_next returned 0 also why it stopped (tail, dropped_bytes),
 * as framefile_load's info would say. */
void framefile_reader_info(const struct framefile_reader *r, struct framefile_info *info);
/*
 * Open path for reading only the frames with seqs in [first_seq, last_seq]
 * (one lap of a run): the header is validated as framefile_reader_open
 * does, but the file is not scanned first. framefile_reader_next then walks
 * the block headers, skips every block that ends before first_seq without
 * reading its payload, checking its CRC or decoding it, delivers the frames
 * of the blocks that overlap the range (checked and decoded as always, the
 * frames outside the range left out, so a call may deliver fewer frames
 * than its block holds but never 0), and ends at the first block that starts
 * after last_seq, as at a clean end. A skipped block's payload is never
 * read, so damage inside it goes unnoticed; a damaged block in the range
 * ends the walk as a corrupt tail. The walk covers the file as it was at
 * open. info (may be NULL) gets the header; framefile_reader_info counts
 * every block walked, skipped ones too. -EINVAL when first_seq > last_seq.
 * *out is owned by the caller (framefile_reader_close).
 */
int framefile_reader_open_range(struct framefile_reader **out, const char *path, uint64_t first_seq,
				uint64_t last_seq, struct framefile_info *info);
/* Decode only the frame heads and the channels in mask (FRAME_P_* bits)
 * from the next block on (format 1: blockcodec_dec_only; format 2: only
 * those chunks are read); 0 = everything. */
void framefile_reader_only(struct framefile_reader *r, uint64_t channels);

/* Columns: a reader that asks for some channels reads and holds only them. */
/*
 * Load the frames of the valid blocks as columns (framecols.h): the
 * channels in mask (FRAME_P_*) and the head parts in parts (FRAMECOLS_*;
 * seq and the ids are always loaded: frames are checked by their seqs and
 * upgraded by their version). *cols is the caller's (framecols_free), its
 * arrays sized to the frames. A format 2 file is read a block header at a
 * time and only the chunks asked for are read and checked, so the time and
 * memory follow the channels asked for; a format 1 file is decoded whole,
 * a block at a time. Tails, errors and info as framefile_load's; -ENOENT
 * when the file (an extract) does not carry something asked for.
 */
int framefile_load_cols(const char *path, uint64_t channels, unsigned parts, struct framecols *cols,
			struct framefile_info *info);
int framefile_load_cols_buf(const void *buf, size_t len, uint64_t channels, unsigned parts,
			    struct framecols *cols, struct framefile_info *info);
/*
 * More channels into cols, loaded from this file by framefile_load_cols (a
 * first pass over every frame), for frames first .. first + count - 1 only:
 * the blocks that hold them are decoded (a block is about a second of
 * frames), the channels' other frames read as zero and cost no memory until
 * written (framecols_add). Channels cols holds already are left as they are.
 * A second pass of an analysis that reads some channels over a part of a
 * run. 0; -EINVAL (a range past cols->n, or cols without seq); -ESTALE when
 * the file does not hold cols's frames (their count or seqs differ);
 * -ENOENT (an extract without a channel); -ENOMEM; -EBADMSG, -ENODATA or
 * -errno when a block does not read. After an error the channels added hold
 * zeros and partial values: the caller frees cols or fails its analysis.
 */
int framefile_load_cols_range(const char *path, uint64_t channels, size_t first, size_t count,
			      struct framecols *cols);
int framefile_load_cols_range_buf(const void *buf, size_t len, uint64_t channels, size_t first,
				  size_t count, struct framecols *cols);
/*
 * A frame file opened for several column loads (a first pass, then more
 * channels over some frames): its block index is walked once, at open, not
 * at every load. framefile_cols_load and framefile_cols_load_range are
 * framefile_load_cols and framefile_load_cols_range on it, with the same
 * results and errors; the blocks are the ones the open found (a file that
 * changed since gives what its seqs say: -ESTALE to a range load, or the
 * blocks' damage as the error). One load at a time on an f (a load may
 * use two threads of its own). framefile_cols_open: 0, or -errno (the file
 * does not open or read, -EPROTO: not a frame file) with *out NULL.
 */
struct framefile_cols;
int framefile_cols_open(struct framefile_cols **out, const char *path);
int framefile_cols_load(struct framefile_cols *f, uint64_t channels, unsigned parts,
			struct framecols *cols, struct framefile_info *info);
int framefile_cols_load_range(struct framefile_cols *f, uint64_t channels, size_t first,
			      size_t count, struct framecols *cols);
/* Close the file and free f. NULL is a no-op. */
void framefile_cols_close(struct framefile_cols *f);
/*
 * A format 2 image, in memory, of the valid blocks of path with only the
 * chunks of channels (FRAME_P_*) and parts (FRAMECOLS_*; seq and ids always):
 * what an analysis job carries instead of whole frames. A format 2 file's
 * chunks are copied as stored (each checked first); a format 1 file is
 * decoded and encoded. The image's header names what it carries. *img is
 * malloc'd (the caller frees), *len its length; info as framefile_load's.
 */
int framefile_extract(const char *path, uint64_t channels, unsigned parts, void **img, size_t *len,
		      struct framefile_info *info);
/* Close the file and free r. NULL is a no-op. */
void framefile_reader_close(struct framefile_reader *r);

#endif
