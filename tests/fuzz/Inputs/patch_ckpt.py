#!/usr/bin/env python3
"""Rewrites counters of a checkpoint (runtime/checkpoint.c's layout) and fixes its CRC, as a
damaged or crafted file that still passes the checksum would have them.

usage: patch_ckpt.py IN OUT FIELD=VALUE...   FIELD: epoch, batch_pos, t
"""
import struct
import sys
import zlib

src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
b = bytearray(open(src, "rb").read())
pos = 24
for _ in range(2):  # the model name and the update rule
    (n,) = struct.unpack_from("<I", b, pos)
    pos += 4 + n
fields = {"epoch": pos, "batch_pos": pos + 8, "t": pos + 16}
for e in edits:
    k, v = e.split("=")
    struct.pack_into("<q", b, fields[k], int(v))
struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
open(dst, "wb").write(bytes(b))
