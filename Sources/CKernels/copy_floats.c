#include "CKernels.h"

// A plain loop of 16-byte loads and stores, kept from becoming a memcpy
// call (`no_builtin`: without it the compiler recognizes the loop as one).
//
// Why not memcpy: for a 40 KB copy glibc picks `rep movsb`, which on this
// project's AMD EPYC (family 25) KVM guests runs 16 times slower when the
// destination's address is 4 to 28 bytes past the source's, modulo 64:
// 13.0–13.6 µs against 0.8 µs (a C loop over those offsets, best of 2,000).
// Swift arrays start 16-byte aligned, so one daemon run in four put a
// top-10's copy of the item biases at offset 16, and its top-10 over 10 k
// items spent 11 % of its time in memmove (perf). This loop takes 1.0–1.6
// µs at every offset. (Raising glibc.cpu.x86_rep_movsb_threshold in
// GLIBC_TUNABLES also avoids it, but is the machine owner's setting.)
__attribute__((no_builtin("memcpy", "memmove")))
void sr_copy_floats(float *destination, const float *source, size_t count) {
    for (size_t i = 0; i < count; i++) destination[i] = source[i];
}
