/* atomicio.c - see atomicio.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicio.h"

static int dir_of(const char *path, char *out, size_t cap)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	if ((size_t)snprintf(out, cap, "%s", dirname(tmp)) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

int atomicio_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int atomicio_write(const char *path, const void *data, size_t len)
{
	char tmp[4200], dir[4096];
	int fd, rc;

	if ((rc = dir_of(path, dir, sizeof dir)) < 0)
		return rc;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= sizeof tmp)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp); /* the old file, if any, is untouched */
		return rc;
	}
	return atomicio_fsync_dir(dir);
}

int atomicio_mkdirs(const char *path)
{
	char buf[4096], parent[4096];
	size_t n = strlen(path);
	struct stat st;

	if (n == 0 || n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, 0755) == 0) {
			if (dir_of(buf, parent, sizeof parent) == 0)
				atomicio_fsync_dir(parent);
		} else if (errno != EEXIST) {
			return -errno;
		} else if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
			return -ENOTDIR; /* a file in the way is not a directory that exists */
		}
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

int atomicio_unlink(const char *path)
{
	char dir[4096];

	if (unlink(path) < 0)
		return -errno;
	return dir_of(path, dir, sizeof dir) == 0 ? atomicio_fsync_dir(dir) : 0;
}

static int rmtree_at(int dfd, const char *name, int depth)
{
	struct stat st;
	int fd, rc = 0;
	DIR *d;
	struct dirent *e;

	if (depth > 16)
		return -ELOOP;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((rc = rmtree_at(dirfd(d), e->d_name, depth + 1)) < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		rc = -errno;
	return rc;
}

int atomicio_rmtree(const char *path)
{
	char dir[4096];
	int rc = rmtree_at(AT_FDCWD, path, 0);

	if (rc == 0 && dir_of(path, dir, sizeof dir) == 0)
		atomicio_fsync_dir(dir);
	return rc;
}

int atomicio_read(const char *path, size_t max, char **out, size_t *len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore it) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

int atomicio_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	const char *b = buf;

	while (n) {
		ssize_t k = pwrite(fd, b, n, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		b += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

int atomicio_pread(int fd, void *buf, size_t n, off_t off)
{
	char *b = buf;

	while (n) {
		ssize_t k = pread(fd, b, n, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		b += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}
