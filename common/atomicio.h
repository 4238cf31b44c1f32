/*
 * atomicio.h - durable file operations for metadata (docs/architecture.md §5): a file is
 * replaced atomically (temp file in the same directory, write, fsync,
 * rename, fsync the directory) so a reader - or the store after a crash -
 * sees either the old or the new content, never a mix. Nothing reports
 * success before its bytes are durable. All return 0 or -errno.
 */
#ifndef PW_ATOMICIO_H
#define PW_ATOMICIO_H

#include <stddef.h>
#include <sys/types.h>

int atomicio_write(const char *path, const void *data, size_t len);
/* mkdir -p with mode 0755, fsyncing each parent it creates an entry in. */
int atomicio_mkdirs(const char *path);
int atomicio_fsync_dir(const char *dir);
/* Remove a file and fsync its directory. */
int atomicio_unlink(const char *path);
/* Remove a directory tree (only regular files and directories; never
 * follows symlinks, removes them as entries). */
int atomicio_rmtree(const char *path);
/* Read a whole file (at most max bytes) into a malloc'd, NUL-terminated
 * buffer the caller frees; -EFBIG when larger than max. */
int atomicio_read(const char *path, size_t max, char **out, size_t *len);
/* All n bytes at offset off of fd, retrying short and interrupted calls
 * (no sync: for scratch files). pread: -EIO when the file ends first. */
int atomicio_pwrite(int fd, const void *buf, size_t n, off_t off);
int atomicio_pread(int fd, void *buf, size_t n, off_t off);

#endif
