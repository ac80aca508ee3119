/* file.c: reads a data file whole, inflating it through zlib when it is gzip data.
 *
 * Compression is detected by the gzip magic (1f 8b), never by the file's name, so
 * `images.gz` that is really plain and `images` that is really gzip both work. The
 * inflated size is known up front from the gzip trailer (ISIZE, the size mod 2^32) and
 * used as the first guess of the output buffer, so a 26 MB MNIST file inflates in one
 * pass with no copying; concatenated gzip members are inflated one after another.
 */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnrt_internal.h"

void rt_bytes_free(RtBytes *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static int grow(unsigned char **p, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 1 << 16;
  while (c < need) {
    if (c > SIZE_MAX / 2) return -1;
    c *= 2;
  }
  unsigned char *q = realloc(*p, c);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

int rt_gunzip(const char *name, const unsigned char *src, size_t n, RtBytes *b, char *err,
              size_t errlen) {
  memset(b, 0, sizeof *b);
  size_t cap = 0, len = 0;
  unsigned char *out = NULL;
  size_t guess = 1 << 16;
  if (n >= 18) {
    const unsigned char *t = src + n - 4;
    size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    /* +1: the end of the stream is seen at once. A trailer claiming more than deflate's
     * best ratio (1032:1) is corrupt: believing it would allocate up to 4 GiB up front. */
    if (isize > guess && isize / 1032 <= n) guess = isize + 1;
  }
  if (grow(&out, &cap, guess)) goto oom;
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) goto oom;
  size_t pos = 0;
  int rc = -1;
  for (;;) {
    z.next_in = (unsigned char *)src + pos;
    size_t in_chunk = n - pos > (size_t)UINT32_MAX ? (size_t)UINT32_MAX : n - pos;
    z.avail_in = (uInt)in_chunk;
    if (len == cap && grow(&out, &cap, cap + 1)) goto zoom;
    size_t out_chunk = cap - len > (size_t)UINT32_MAX ? (size_t)UINT32_MAX : cap - len;
    z.next_out = out + len;
    z.avail_out = (uInt)out_chunk;
    int zr = inflate(&z, Z_NO_FLUSH);
    pos += in_chunk - z.avail_in;
    len += out_chunk - z.avail_out;
    if (zr == Z_STREAM_END) {
      /* Another member may follow (what `cat a.gz b.gz` makes); trailing zeros are padding. */
      size_t k = pos;
      while (k < n && src[k] == 0) k++;
      if (k == n) break;
      if (n - pos < 2 || src[pos] != 0x1f || src[pos + 1] != 0x8b) {
        snprintf(err, errlen,
                 "%s: error: %zu bytes of garbage after the gzip data at compressed byte "
                 "offset %zu",
                 name, n - pos, pos);
        goto out;
      }
      inflateReset(&z);
      continue;
    }
    if (zr == Z_OK) continue;
    if (zr == Z_BUF_ERROR && z.avail_out == 0) continue; /* out of room: grow and go on */
    if (zr == Z_BUF_ERROR || (zr == Z_OK && pos == n)) {
      snprintf(err, errlen,
               "%s: error: truncated gzip data: the compressed stream ends at byte offset %zu "
               "(after %zu bytes of output) before its end marker",
               name, n, len);
      goto out;
    }
    if (zr == Z_MEM_ERROR) goto zoom;
    snprintf(err, errlen, "%s: error: corrupt gzip data near compressed byte offset %zu: %s",
             name, pos, z.msg ? z.msg : "invalid data");
    goto out;
  }
  rc = 0;
  b->p = out;
  b->len = len;
  b->gzipped = 1;
  out = NULL;
out:
  inflateEnd(&z);
  free(out);
  return rc;
zoom:
  inflateEnd(&z);
oom:
  free(out);
  snprintf(err, errlen, "%s: error: out of memory inflating the file", name);
  return -1;
}

int rt_file_read(const char *path, RtBytes *b, char *err, size_t errlen) {
  memset(b, 0, sizeof *b);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
    return -1;
  }
  /* The size of a regular file sizes the buffer; anything else (pipes, /dev/stdin) is
   * read in growing chunks. */
  size_t cap = 1 << 16, len = 0;
  struct stat st;
  if (fstat(fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      snprintf(err, errlen, "%s: error: cannot read: %s", path, strerror(EISDIR));
      fclose(f);
      return -1;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX)
      cap = (size_t)st.st_size + 1;
  }
  unsigned char *buf = malloc(cap);
  int rc = -1;
  if (!buf) goto oom;
  for (;;) {
    if (len == cap && grow(&buf, &cap, cap + 1)) goto oom;
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "%s: error: cannot read: %s", path, strerror(errno));
    goto done;
  }
  if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
    rc = rt_gunzip(path, buf, len, b, err, errlen);
    goto done;
  }
  b->p = buf;
  b->len = len;
  buf = NULL;
  rc = 0;
  goto done;
oom:
  snprintf(err, errlen, "%s: error: out of memory reading the file", path);
done:
  free(buf);
  fclose(f);
  return rc;
}
