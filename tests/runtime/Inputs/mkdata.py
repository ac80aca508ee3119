"""mkdata.py DIR: writes the synthetic data sets the runtime's lit tests train on.

A small stand-in for Fashion-MNIST for fake-softmax-train (image : u8[4, 4], label :
class[3]): class 0 lights the top two rows, class 1 the left two columns, class 2 the
diagonal, over seeded noise. Written as IDX (gzip and plain), NPY and CSV, plus damaged
variants for the error tests. Standard library only (no numpy)."""
import gzip, os, struct, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

state = 12345
def rnd(n):
    global state
    state = (state * 1103515245 + 12345) % (1 << 31)
    return state % n

def sample(c):
    img = [rnd(60) for _ in range(16)]
    for r in range(4):
        for k in range(4):
            if (c == 0 and r < 2) or (c == 1 and k < 2) or (c == 2 and r == k):
                img[r * 4 + k] = 180 + rnd(76)
    return img

def make(n):
    labels = [rnd(3) for _ in range(n)]
    return [sample(c) for c in labels], labels

def idx_images(imgs):
    return struct.pack(">BBBBIII", 0, 0, 8, 3, len(imgs), 4, 4) + bytes(v for im in imgs for v in im)

def idx_labels(labels):
    return struct.pack(">BBBBI", 0, 0, 8, 1, len(labels)) + bytes(labels)

def npy(descr, shape, payload, major=1):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % s for s in shape).rstrip(" "))
    pre = 10 if major == 1 else 12
    pad = (64 - (pre + len(d) + 1) % 64) % 64
    d = d + " " * pad + "\n"
    head = b"\x93NUMPY" + bytes([major, 0]) + (
        struct.pack("<H", len(d)) if major == 1 else struct.pack("<I", len(d)))
    return head + d.encode() + payload

def write(name, data, gz=False):
    with open(os.path.join(out, name), "wb") as f:
        f.write(gzip.compress(data, mtime=0) if gz else data)

train, tlab = make(300)
test, vlab = make(100)
write("train-images.gz", idx_images(train), gz=True)
write("train-labels.gz", idx_labels(tlab), gz=True)
write("test-images", idx_images(test))          # plain IDX, no extension
write("test-labels.idx", idx_labels(vlab))
write("train-images.npy", npy("|u1", (300, 4, 4), bytes(v for im in train for v in im), major=2))
write("train-labels.npy", npy("<i8", (300,), struct.pack("<300q", *tlab)))
write("train-images-f32.npy", npy("<f4", (300, 16), struct.pack("<4800f", *[v for im in train for v in im])))
with open(os.path.join(out, "train.csv"), "w") as f:
    f.write(",".join("p%d" % i for i in range(16)) + ",label\n")
    for im, c in zip(train, tlab):
        f.write(",".join(map(str, im)) + ",%d\n" % c)
with open(os.path.join(out, "test-features.csv"), "w") as f:
    f.write(",".join("p%d" % i for i in range(16)) + "\n")
    for im in test[:5]:
        f.write(",".join(map(str, im)) + "\n")

# Damaged variants.
imgs = idx_images(train)
write("truncated-images", imgs[:1000])                                  # cut inside the data
write("truncated-images.gz", gzip.compress(imgs, mtime=0)[:2000])       # cut inside the gzip stream
write("short-labels.gz", idx_labels(tlab[:299]), gz=True)               # 299 labels for 300 images
bad = list(tlab); bad[41] = 7
write("bad-labels", idx_labels(bad))                                    # a label outside class[3]
write("wide-images", struct.pack(">BBBBIII", 0, 0, 8, 3, 300, 4, 5) + bytes(300 * 20))
write("not-idx", b"\x00\x01\x08\x03" + imgs[4:])
with open(os.path.join(out, "bad-value.csv"), "w") as f:
    f.write("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,label\n")
    f.write(",".join(["1"] * 16) + ",0\n")
    f.write(",".join(["1"] * 15) + ",300,1\n")
