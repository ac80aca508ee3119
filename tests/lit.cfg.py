# lit configuration for nnc: one behaviour per test file (RUN + CHECK lines).
# The build-specific paths come from lit.site.cfg.py, which CMake configures.
import os
import lit.formats

config.name = "nnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".nn", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "corpus"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nnc_obj_root, "tests")

# nnc and the test drivers first, then LLVM's FileCheck and not.
path = os.pathsep.join([config.nnc_bin_dir, config.nnc_test_bin_dir,
                        config.llvm_bin_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
for var in ("CC", "HOME", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
# Tests are deterministic in their thread count.
config.environment["OPENBLAS_NUM_THREADS"] = "1"
config.environment["OMP_NUM_THREADS"] = "1"

config.substitutions.append(("%build_dir", config.nnc_obj_root))
config.substitutions.append(("%examples", config.nnc_examples_dir))
config.substitutions.append(("%stdlib", config.nnc_stdlib_dir))
# `%cc OBJ %gradcheck_libs` links an object from `nnc --emit=obj` with the
# finite-difference checker instead of the runtime.
config.substitutions.append(("%cc", "%s %s" % (os.environ.get("CC", "cc"), config.nnc_link_extra)))
config.substitutions.append(("%gradcheck_libs", "%s/libnnc-gradcheck.a -lopenblas -lm" %
                             config.nnc_test_lib_dir))
config.substitutions.append(("%sqrtcheck_libs", "%s/libnnc-sqrtcheck.a -lopenblas -lm" %
                             config.nnc_test_lib_dir))
config.substitutions.append(("%python", config.python_executable))

# Tests that train on Debian's Fashion-MNIST need its files.
if os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    config.available_features.add("fashion-mnist")

# The host's AVX-512 (nnc targets the host's CPU by default).
try:
    with open("/proc/cpuinfo") as f:
        if " avx512f" in f.read():
            config.available_features.add("avx512f")
except OSError:
    pass

if config.nnc_sanitize:
    config.available_features.add("asan")

# A fuzz build (-DNNC_FUZZ=ON) has the libFuzzer harnesses in %fuzz_bin; .ci/test runs its
# tests/fuzz tests only (lit --filter fuzz/).
if getattr(config, "nnc_fuzz", False):
    config.available_features.add("fuzz")
    config.substitutions.append(("%fuzz_bin", config.nnc_fuzz_bin_dir))
