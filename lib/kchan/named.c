/* SPDX-License-Identifier: MIT */
/*
 * named.c - named channels: open by name (making it first if asked), unlink, and the
 * listing of a namespace's names that read(2) on the device gives; one ioctl or one
 * listing per call, as the rest of the thin layer (kchan.c).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gochan/kchan.h>

#include "../internal.h"

/*
 * Named channels: GOCHAN_IOC_OPEN and GOCHAN_IOC_UNLINK go to the device,
 * opened for the one call, as GOCHAN_IOC_CREATE does.
 */
static int kchan_dev_ioctl(unsigned long cmd, void *arg)
{
	int dev, ret;

	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	ret = ioctl(dev, cmd, arg);
	if (ret < 0)
		ret = -errno;
	close(dev);
	return ret;
}

GOCHAN_API int gochan_open_id(const char *name, unsigned flags, mode_t mode,
			      size_t elem_size, unsigned capacity, uint64_t *id)
{
	struct gochan_open op = {
		.size		= sizeof(op),
		.flags		= flags,
		.name		= (uintptr_t)name,
		.mode		= (__u32)mode,
		.elem_size	= (__u32)elem_size,
		.capacity	= capacity,
	};
	int saved = errno;
	int ret;

	/* The uapi field is 32 bits: do not let a huge size wrap to a small one. */
	if (elem_size > UINT32_MAX)
		return -EINVAL;
	ret = kchan_dev_ioctl(GOCHAN_IOC_OPEN, &op);
	if (ret >= 0 && id)
		*id = op.id;
	errno = saved;
	return ret;
}

GOCHAN_API int gochan_open(const char *name, unsigned flags, mode_t mode,
			   size_t elem_size, unsigned capacity)
{
	return gochan_open_id(name, flags, mode, elem_size, capacity, NULL);
}

GOCHAN_API int gochan_unlink(const char *name)
{
	struct gochan_unlink ul = {
		.size	= sizeof(ul),
		.name	= (uintptr_t)name,
	};
	int saved = errno;
	int ret;

	ret = kchan_dev_ioctl(GOCHAN_IOC_UNLINK, &ul);
	errno = saved;
	return ret < 0 ? ret : 0;
}

/*
 * The listing: "NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE UID GID" lines
 * after '#' header lines.  Parsed by hand (no strtoul, no sscanf: nothing
 * that may allocate or touch errno or the locale).
 */

/* One field of decimal (base 10) or octal (base 8) digits and the space or
 * end of line after it; false on anything else or on overflow. */
static bool list_number(const char **p, unsigned base, uint64_t max,
			uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s >= (char)('0' + base))
		return false;
	for (; *s >= '0' && *s < (char)('0' + base); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	if (*s == ' ')
		s++;
	else if (*s)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* Parse one NUL-terminated line (without its newline) into @info. */
static bool list_parse(const char *line, struct gochan_name_info *info)
{
	const char *p = line;
	uint64_t v[8];
	size_t len = 0;

	while (*p && *p != ' ') {
		if (len >= sizeof(info->name) - 1)
			return false;
		info->name[len++] = *p++;
	}
	if (!len || *p != ' ')
		return false;
	info->name[len] = '\0';
	p++;
	if (!list_number(&p, 10, UINT64_MAX, &v[0]) ||
	    !list_number(&p, 10, UINT32_MAX, &v[1]) ||
	    !list_number(&p, 10, UINT32_MAX, &v[2]) ||
	    !list_number(&p, 10, UINT32_MAX, &v[3]) ||
	    !list_number(&p, 10, 1, &v[4]) ||
	    !list_number(&p, 8, 0777, &v[5]) ||
	    !list_number(&p, 10, UINT32_MAX, &v[6]) ||
	    !list_number(&p, 10, UINT32_MAX, &v[7]) || *p)
		return false;
	info->id = v[0];
	info->elem_size = (uint32_t)v[1];
	info->capacity = (uint32_t)v[2];
	info->len = (uint32_t)v[3];
	info->closed = v[4] != 0;
	info->mode = (mode_t)v[5];
	info->uid = (uid_t)v[6];
	info->gid = (gid_t)v[7];
	return true;
}

/* A line is at most a name and eight numbers: far below this. */
#define LIST_BUF	4096

GOCHAN_API int gochan_list(int (*fn)(const struct gochan_name_info *, void *),
			   void *arg)
{
	char buf[LIST_BUF + 1];
	struct gochan_name_info info;
	size_t have = 0;
	int saved = errno;
	int dev, ret = 0;
	bool eof = false;

	dev = open(GOCHAN_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		goto out;
	}
	while (!ret) {
		char *line, *nl;
		ssize_t n;

		if (!eof) {
			do {
				n = read(dev, buf + have, LIST_BUF - have);
			} while (n < 0 && errno == EINTR);
			if (n < 0) {
				ret = -errno;
				break;
			}
			eof = n == 0;
			have += (size_t)n;
		}
		buf[have] = '\0';
		line = buf;
		while (!ret && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			if (*line != '#') {
				if (!list_parse(line, &info)) {
					ret = -EBADMSG;
					break;
				}
				errno = saved;
				ret = fn(&info, arg);
			}
			line = nl + 1;
		}
		if (ret)
			break;
		/* Keep the partial line for the next read. */
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (eof) {
			/* A last line without its newline, or one too long. */
			if (have)
				ret = -EBADMSG;
			break;
		}
		if (have == LIST_BUF) {
			ret = -EBADMSG;
			break;
		}
	}
	close(dev);
out:
	errno = saved;
	return ret;
}
