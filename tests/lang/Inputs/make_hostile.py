#!/usr/bin/env python3
"""Regenerates hostile/: small malformed inputs for hostile.test (run once, output
committed; the seed keeps it reproducible). Usage: make_hostile.py XOR.nn OUTDIR"""
import os
import random
import sys

xor_path, out = sys.argv[1], sys.argv[2]
xor = open(xor_path, "rb").read()
os.makedirs(out, exist_ok=True)
files = {}

# Truncations of a good program, at fixed fractions and inside tokens.
for i, frac in enumerate([0.05, 0.12, 0.2, 0.27, 0.33, 0.41, 0.5, 0.58, 0.66, 0.75, 0.83, 0.9, 0.97]):
    files["trunc-%02d.nn" % i] = xor[: int(len(xor) * frac)]
files["trunc-in-string.nn"] = xor[: xor.index(b"xor.csv")]
files["trunc-in-number.nn"] = xor[: xor.index(b"0.9") + 2]

rng = random.Random(20240611)
for i in range(6):
    files["random-%d.bin" % i] = bytes(rng.randrange(256) for _ in range(rng.randrange(16, 1500)))
# Random bytes drawn from the language's own alphabet reach deeper into the parser.
alphabet = b"model input param output metric train fn return import x y nn . ( ) [ ] { } , : = == < <= -> + - * / ^ @ 1 2.5 \"s\" \n ; #"
words = alphabet.split(b" ") + [b" ", b"\n"]
for i in range(6):
    files["tokens-%d.nn" % i] = b" ".join(rng.choice(words) for _ in range(rng.randrange(20, 300)))[:1900]

files["nul-start.nn"] = b"\0model m { x = 1 }\n"
files["nul-middle.nn"] = b"model m {\n  x = 1\0\n}\n"
files["deep-parens.nn"] = b"model m { x = " + b"(" * 1900 + b"1"
files["deep-parens-closed.nn"] = b"model m { x = " + b"(" * 900 + b"1" + b")" * 900 + b" }\n"
files["deep-minus.nn"] = b"model m { x = " + b"-" * 1500 + b"1 }\n"
files["deep-index.nn"] = b"model m { x = " + b"z[" * 900 + b"0" + b"]" * 90 + b" }\n"
files["deep-calls.nn"] = b"model m { x = " + b"f(" * 600 + b"1" + b")" * 600 + b" }\n"
files["deep-qualified-calls.nn"] = b"model m { x = " + b"nn.f(" * 250 + b"1" + b")" * 250 + b" }\n"
files["deep-braces.nn"] = b"model m " + b"{" * 1500
files["long-sum.nn"] = b"model m { x = " + b"a+" * 900 + b"a }\n"
files["huge-numbers.nn"] = (b"model m {\n  a = 99999999999999999999999999\n  b = 1e999999\n"
                            b"  c = 0.000000000000000000000000000000001e-999999\n"
                            b"  param W : f32[99999999999999999999, 9223372036854775807] = 1e308\n}\n")
files["unterminated-string.nn"] = b'model m { x = "abc\n}\ntrain { data = csv("x.csv\n'
files["unterminated-import.nn"] = b'import "layers/extra.nn\nmodel m { x = 1 }\n'
files["unterminated-fn.nn"] = b"fn f(x: f32[n], y = (1 + {\n  return x\n"
files["unterminated-everything.nn"] = b'fn f( model m { x = [ ( "'
files["only-fn.nn"] = b"fn"
files["only-import.nn"] = b"import"
files["only-model.nn"] = b"model"
files["only-metric.nn"] = b"metric"
files["only-dot.nn"] = b"."
files["only-arrow.nn"] = b"->"
files["only-comparisons.nn"] = b"== != <= >= < >"
files["fn-storm.nn"] = b"".join(b"fn f%d(x%s) = x\n" % (i, b", y = 1" * (i % 3)) for i in range(60))
files["fn-garbage.nn"] = b"fn f(x: u8[28, 28, 1, 1, 1], = ) -> -> { return return }\nfn (\n"
files["import-garbage.nn"] = b"import 1\nimport nn.\nimport \"\"\nimport \"/\"\nimport \"a/b/.nn\"\nimport \"model.nn\"\n"
files["index-garbage.nn"] = b"model m { x = z[][,][1,2,3][ ]][ }\n"
files["chain-garbage.nn"] = b"model m { x = a < b < c == d != e >= f <= g > h }\n"
files["mnist-mangled.nn"] = (b"import nn\nmodel mnist {\n  input image : u8[28, 28]\n  input label : class[10]\n"
                             b"  h = nn.dense(flatten(image) / 255.0, 512, act: relu\n"
                             b"  metric accuracy = argmax(h) == == label\n  return h\n}\n")
files["crlf-bom.nn"] = b"\xef\xbb\xbfmodel m {\r\n  x = 1\r\n}\r\n"
files["bad-utf8.nn"] = b"model m {\n  \xc3\x28 = \xff\xfe\n  x = \"\xe2\x82\"\n}\n"
files["empty.nn"] = b""
files["comment-only.nn"] = b"# nothing here\n#\n"

for name, data in files.items():
    assert len(data) < 2048, name
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(len(files), "files")
