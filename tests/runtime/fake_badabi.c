/* fake_badabi.c: a model object from a future nnc (ABI version 99), which the runtime must
 * refuse before reading anything but the version. Only abi_version is meaningful. */
#include "nnrt.h"

const nnrt_model_desc nnrt_model = {.abi_version = 99};
