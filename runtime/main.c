/* main.c: the entry point of every train program.
 *
 * It lives alone in its object file so that linking `model.o libnnrt.a` pulls it in (the
 * C start-up code references main) while test programs with their own main, linked
 * against the same archive, never pull it and never need an nnrt_model.
 */
#include "nnrt_internal.h"

int main(int argc, char **argv) { return rt_main(&nnrt_model, argc, argv); }
