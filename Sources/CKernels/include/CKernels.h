// Block scoring for top-N scans: scores[r] = bias[r] + dot(p, rows + r * stride).
//
// Two builds of each loop: one for AVX2 with FMA (chosen at run time when
// the CPU has both), one portable (plain C the compiler vectorizes for the
// baseline target). The Swift build targets baseline x86-64, so this is the
// one place the scan can use wider registers, fused multiply-adds and byte
// multiply-adds. Rows come as floats or as the scan's 8-bit mirror
// (`ByteRows`, score_bytes.c).
#ifndef STREAMREC_CKERNELS_H
#define STREAMREC_CKERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <sys/prctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Fixes glibc's mmap threshold at `bytes` (mallopt, which Swift's Glibc
/// module does not export): see ProcessMemory.swift. Returns 1 on success.
static inline int sr_fix_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

/// Names the calling thread (prctl PR_SET_NAME, which Swift cannot call: it is
/// variadic, and Swift's Glibc module leaves out pthread_setname_np). The
/// kernel keeps the first 15 bytes. Returns 0 on success. See NamedThread.swift.
static inline int sr_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0UL, 0UL, 0UL); }

/// Asks the CPU to fetch the cache line holding `address` for writing, without
/// waiting for it (a hint: it never faults). The neighbour head issues one per
/// table it is about to update, so those cache misses overlap instead of
/// queueing one behind the other. Swift has no prefetch of its own.
static inline void sr_prefetch(const void *address) { __builtin_prefetch(address, 1, 3); }

/// destination[i] = source[i] for i < count (the ranges must not overlap),
/// with vector loads and stores, never `rep movsb`: see copy_floats.c.
void sr_copy_floats(float *destination, const float *source, size_t count);

/// Which implementation the kernels below run.
typedef enum {
    SR_SCORE_PORTABLE = 0,
    SR_SCORE_AVX2_FMA = 1,
} sr_score_path;

/// scores[r] = bias[r] + sum_{i < stride} p[i] * rows[r * stride + i] for r < count,
/// with the implementation chosen once for this CPU; returns the largest
/// score (-infinity when count is 0, NaN scores ignored), so a scan can skip
/// a block that cannot beat its admission score. `stride` is a multiple of 8;
/// no alignment is required of any pointer.
float sr_score_rows(const float *p, const float *rows, size_t stride, const float *bias,
                   size_t count, float *scores);

/// The path `sr_score_rows` runs on this CPU (decided on first use).
sr_score_path sr_score_rows_path(void);

/// Whether `path` can run on this CPU.
int sr_score_path_available(sr_score_path path);

/// The same computation on a given path (for tests and benchmarks); the
/// caller must check `sr_score_path_available` first.
float sr_score_rows_on(sr_score_path path, const float *p, const float *rows, size_t stride,
                      const float *bias, size_t count, float *scores);

/// Rows per block of the byte mirror (`ByteRows`): its bytes are laid out
/// in blocks of this many rows, see `sr_byte_offset`.
#define SR_BYTE_BLOCK_ROWS 8

/// Where dimension `dim` of row `row` sits in a byte mirror of rows
/// `stride` bytes wide: the one statement of the layout, which the
/// kernels, the quantizers and `ByteRows` all use.
///
/// Rows come in blocks of SR_BYTE_BLOCK_ROWS; a block holds stride / 4
/// quads, and quad d is 32 bytes, the four bytes of dimensions 4d ..< 4d + 4
/// of each of the block's eight rows in turn. So one 32-byte load holds
/// four dimensions of eight rows, one vpmaddubsw multiplies them by the
/// user's four, and the sums of eight rows build up in the eight lanes of
/// one register: no horizontal sum per row. (Row-major bytes needed a
/// transpose by hadd per eight rows, which cost more than the multiplies:
/// 1.1 against 0.6 ns a row.)
static inline size_t sr_byte_offset(size_t row, size_t stride, size_t dim) {
    return (row / SR_BYTE_BLOCK_ROWS) * SR_BYTE_BLOCK_ROWS * stride + (dim / 4) * 32
        + (row % SR_BYTE_BLOCK_ROWS) * 4 + dim % 4;
}

/// Quantizes `stride` floats (a multiple of 4) into row `row` of a byte
/// mirror: q_i = round(source_i / s) with s = max |source_i| / 127, stored
/// as q_i + 128. Returns s and sets *l1 = s * sum |q_i|; an all-zero row
/// gets s = 0, a row holding NaN or an infinity s = NaN (its byte scores
/// are NaN, so `Model.scan` scores in floats while such a row exists).
/// The AVX2 path takes strides that are a multiple of 8 and hands rows
/// that are not finite, zero or tiny to the portable one.
float sr_quantize_row_on(sr_score_path path, const float *source, size_t stride, uint8_t *rows, size_t row, float *l1);

/// scores[r] = bias[r] + user_scale * scales[r] * (sum_i rowbyte(r, i) * user[i] - correction)
/// for r < count, over byte-mirror rows starting at a block boundary
/// (`rows` points at the block of row 0); returns the largest score
/// (-infinity when count is 0, NaN scores ignored). `user` holds `stride`
/// values in -63...63, `correction` is 128 * their sum (the bytes carry
/// q + 128), so the integer sum is exact and is converted to float exactly
/// for `stride` <= 2048.
float sr_score_byte_rows_on(sr_score_path path, const int8_t *user, int32_t correction, float user_scale,
                            const uint8_t *rows, size_t stride, const float *scales, const float *bias, size_t count,
                            float *scores);

/// cosines[r] = (q · row_r) / max(q_norm * |row_r|, FLT_MIN) for r < count,
/// both dot products from one pass over the rows (`stride` floats each, a
/// multiple of 8); returns the largest (-infinity when count is 0). What
/// `similar` ranks by; `q_norm` is |q|, computed once by the caller.
float sr_cosines_on(sr_score_path path, const float *q, float q_norm, const float *rows, size_t stride,
                    size_t count, float *cosines);

/// Bit r set when base + scores[r] > threshold, computed in float (NaN
/// never passes), for r < count (at most 64): the rows of a scored block
/// that a scan must offer to its selection.
uint64_t sr_rows_above_on(sr_score_path path, const float *scores, size_t count, float base, float threshold);

#ifdef __cplusplus
}
#endif

#endif
