#!/usr/bin/env python3
"""Writes the binary seed corpora of the runtime harnesses (tests/fuzz/corpus/{csv,idx,npy,
checkpoint}): small valid files of every kind each reader accepts, plain and gzip, so the
fuzzer starts from inputs that get past the magic. The frontend corpus is copied model
files (see README.md). Deterministic: rerun it and git shows no change.

usage: make_seeds.py [CORPUS_DIR]   (default: corpus/ beside this script)
"""
import gzip
import os
import struct
import sys
import zlib

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(kind, name, data):
    d = os.path.join(root, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# ---- CSV: the first byte is fuzz_csv's settings (model, features-only, delimiter, columns).
XOR = b"x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n"
write("csv", "xor.csv", b"\x00" + XOR)
write("csv", "xor-gz.csv", b"\x00" + gz(XOR))
write("csv", "xor-crlf-noheader.csv", b"\x00" + b"0, 0, 0\r\n0 ,1,1\r\n\r\n1,\t0,1\r\n")
write("csv", "xor-features-only.csv", b"\x04" + b"0,0\n1,1\n")
write("csv", "image.csv", b"\x01" + b"p1,p2,p3,p4,label\n0,255,3,4,2\n1,2,3,4,0\n")
write("csv", "one-semicolon.csv", b"\x0a" + b"v\n1.5\n-2e3\n0x1p3\n")
write("csv", "one-tab.csv", b"\x12" + b"1\n  2.25\t\n")
write("csv", "mixed-columns.csv", b"\x23" + b"2-4,u,1\n" + b"c,a1,a2,a3,u\n1,0.5,0.25,2,7\n0,1,2,3,255\n")
write("csv", "mixed-space.csv", b"\x1b" + b"1 2 3 4 1\n5 6 7 8 0\n")


# ---- IDX: 00 00 type rank, big-endian u32 dims, big-endian data (fuzz_idx binds each file
# to four one-input models in turn: f32[4], u8[2, 2], class[3], f32).
def idx(code, dims, fmt, values):
    return bytes([0, 0, code, len(dims)]) + struct.pack(">%dI" % len(dims), *dims) + \
        struct.pack(">%d%s" % (len(values), fmt), *values)


write("idx", "u8-images.idx", idx(0x08, [3, 2, 2], "B", list(range(0, 240, 20))))
write("idx", "u8-labels.idx", idx(0x08, [5], "B", [0, 1, 2, 1, 0]))
write("idx", "i8-labels.idx", idx(0x09, [3], "b", [2, 0, 1]))
write("idx", "i16.idx", idx(0x0B, [2, 4], "h", [1, -2, 3, -4, 5, 6, 7, 8]))
write("idx", "i32-labels.idx", idx(0x0C, [2], "i", [1, 2]))
write("idx", "f32.idx", idx(0x0D, [2, 2, 2], "f", [0.5, -1, 2, 3, 4, 5, 6, 7]))
write("idx", "f64.idx", idx(0x0E, [3, 1], "d", [0.25, 1e30, -3]))
write("idx", "f32-scalars.idx", idx(0x0D, [6], "f", [1, 2, 3, 4, 5, 6]))
write("idx", "u8-images.idx.gz", gz(idx(0x08, [2, 4], "B", [1, 2, 3, 4, 5, 6, 7, 8])))
write("idx", "f32.idx.gz", gz(idx(0x0D, [1, 4], "f", [1, 2, 3, 4])))
write("idx", "two-members.idx.gz", gz(idx(0x08, [3], "B", [0, 1, 2])[:10]) + gz(b"\x02"))


# ---- NPY: magic, version, header length, a dict literal padded to 64, little-endian data.
def npy(descr, shape, fmt, values, major=1):
    shape_s = "(%s)" % ", ".join(map(str, shape)) if len(shape) != 1 else "(%d,)" % shape[0]
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_s)
    pre = 10 if major == 1 else 12
    pad = (64 - (pre + len(h) + 1) % 64) % 64
    h = (h + " " * pad + "\n").encode()
    hl = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + hl + h + struct.pack("<%d%s" % (len(values), fmt), *values)


write("npy", "u1-images.npy", npy("|u1", [3, 2, 2], "B", list(range(12))))
write("npy", "u1-labels.npy", npy("|u1", [4], "B", [0, 2, 1, 2]))
write("npy", "i1.npy", npy("|i1", [3], "b", [0, 1, 2]))
write("npy", "i2.npy", npy("<i2", [2, 4], "h", [1, 2, 3, 4, 5, 6, 7, 8]))
write("npy", "i4.npy", npy("<i4", [2], "i", [2, 1]))
write("npy", "i8.npy", npy("<i8", [3], "q", [0, 1, 2]))
write("npy", "f4.npy", npy("<f4", [2, 4], "f", [0.5, 1, 2, 3, 4, 5, 6, 7]))
write("npy", "f8.npy", npy("<f8", [5], "d", [1, 2, 3, 4, 5]))
write("npy", "f4-v2.npy", npy("<f4", [1, 2, 2], "f", [1, 2, 3, 4], major=2))
write("npy", "f4-v3.npy", npy("<f4", [2, 1], "f", [1, 2], major=3))
write("npy", "f4.npy.gz", gz(npy("<f4", [3, 4], "f", list(range(12)))))


# ---- checkpoint: for fuzz_checkpoint's fixed model fuzzck (params h.W f32[2, 3] and h.b
# f32[3], buffer h.mean f32[3], one metric; rules sgd and adam); checkpoint.c's format 2.
def ckpt(rule, states, options, perm, order=(0, 1, 2), version=2):
    def s(x):
        x = x.encode()
        return struct.pack("<I", len(x)) + x
    slots = [("h.W", 1, [2, 3]), ("h.b", 1, [3]), ("h.mean", 2, [3])]
    b = b"NNRTCKPT" + struct.pack("<IIq", version, 4 if version == 2 else 3, 0) + s("fuzzck") + s(rule)
    b += struct.pack("<qqq", 1, min(2, len(perm)), 5) + struct.pack("<4Q", 1, 2, 3, 4)
    b += struct.pack("<dqq", 0.75, 2, 1) + struct.pack("<I", 1) + struct.pack("<d", 0.5)
    b += struct.pack("<dqq", 0.25, 1, 0) + struct.pack("<I", len(options))
    for k, v in options:
        b += s(k) + s(v)
    b += struct.pack("<q", len(perm)) + struct.pack("<%dq" % len(perm), *perm)
    b += struct.pack("<I", len(states)) + b"".join(s(x) for x in states)
    b += struct.pack("<I", len(slots))
    for i in order:
        name, kind, dims = slots[i]
        size = 1
        for d in dims:
            size *= d
        b += s(name) + struct.pack("<II", kind, len(dims)) + struct.pack("<%dq" % len(dims), *dims)
        b += struct.pack("<q", size)
        for k in range(1 + (len(states) if kind == 1 else 0)):
            b += struct.pack("<%df" % size, *[0.125 * (j + k) for j in range(size)])
    b = b[:16] + struct.pack("<q", len(b) + 4) + b[24:]
    return b + struct.pack("<I", zlib.crc32(b))


ADAM = ["exp_avg", "exp_avg_sq"]
write("checkpoint", "adam.ckpt", ckpt("adam", ADAM, [("optimizer", "adam"), ("lr", "0.001"), ("batch", "4"),
                                                     ("epochs", "3"), ("seed", "7"), ("schedule", "cosine"),
                                                     ("amsgrad", "true")],
                                     [2, 0, 3, 1]))
write("checkpoint", "sgd-reordered.ckpt", ckpt("sgd", [], [("optimizer", "sgd"), ("lr", "0.1")], [], order=(2, 1, 0)))
write("checkpoint", "adam-multistep.ckpt",
      ckpt("adam", ADAM, [("optimizer", "adam"), ("schedule", "multistep"), ("milestones", "2,4"),
                          ("gamma", "0.5"), ("batch", "all"), ("beta1", "0.8")], [0, 1, 2]))
write("checkpoint", "adam.ckpt.gz", gz(ckpt("adam", ADAM, [("optimizer", "adam")], [1, 0])))
write("checkpoint", "format1.ckpt", ckpt("sgd", [], [], [], version=1))
