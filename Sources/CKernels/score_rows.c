#include "CKernels.h"

#include <float.h>
#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#define SR_X86 1
#include <immintrin.h>
#endif

// Portable path: eight partial sums per row, as Swift's SIMD8 kernel keeps,
// which the compiler turns into SSE on the baseline x86-64 target.
static inline float score_rows_portable(const float *p, const float *rows, size_t stride,
                                        const float *bias, size_t count, float *scores) {
    float best = -INFINITY;
    for (size_t r = 0; r < count; r++) {
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < stride; i += 8) {
            for (int l = 0; l < 8; l++) acc[l] += p[i + l] * rows[r * stride + i + l];
        }
        float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        scores[r] = bias[r] + sum;
        best = scores[r] > best ? scores[r] : best;
    }
    return best;
}

#ifdef SR_X86
#define SR_AVX2 __attribute__((target("avx2,fma")))

// The eight lanes of `v` added up in the order the eight-row block below
// adds them, ((0+1)+(2+3))+((4+5)+(6+7)), so a row scores the same bits
// wherever it falls in a block (the scan's exact rescoring relies on it).
SR_AVX2 static inline float hsum8(__m256 v) {
    __m128 pairs = _mm_hadd_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 quads = _mm_hadd_ps(pairs, pairs);
    return _mm_cvtss_f32(_mm_add_ss(quads, _mm_movehdup_ps(quads)));
}

// The eight accumulators' totals as one vector, lane r = row r: hadd pairs
// within 128-bit halves; after two rounds h0123 = [r0 r1 r2 r3 | r0 r1 r2 r3]
// (low-half and high-half partials), same for h4567, and the halves add up.
SR_AVX2 static inline __m256 sums8(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
                                   __m256 a4, __m256 a5, __m256 a6, __m256 a7) {
    __m256 h0123 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    __m256 h4567 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

// The largest of the eight lanes.
SR_AVX2 static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// Eight rows at a time: one accumulator per row, then a transpose-by-hadd
// turns the eight accumulators into one vector of eight sums, so the
// horizontal reduction costs about one instruction per row, not five.
// `stride` is a parameter of an inline function: the call below is
// specialized (k = 32 keeps the four chunks of p in registers).
SR_AVX2 static inline float score_rows_avx2_body(const float *p, const float *rows, size_t stride,
                                                 const float *bias, size_t count, float *scores) {
    __m256 most = _mm256_set1_ps(-INFINITY);
    size_t r = 0;
    for (; r + 8 <= count; r += 8) {
        size_t q = r * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps(), a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
        for (size_t i = 0; i < stride; i += 8) {
            __m256 pv = _mm256_loadu_ps(p + i);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 0 * stride + i), pv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 1 * stride + i), pv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 2 * stride + i), pv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 3 * stride + i), pv, a3);
            a4 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 4 * stride + i), pv, a4);
            a5 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 5 * stride + i), pv, a5);
            a6 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 6 * stride + i), pv, a6);
            a7 = _mm256_fmadd_ps(_mm256_loadu_ps(rows + q + 7 * stride + i), pv, a7);
        }
        __m256 sums = sums8(a0, a1, a2, a3, a4, a5, a6, a7);
        __m256 scored = _mm256_add_ps(_mm256_loadu_ps(bias + r), sums);
        _mm256_storeu_ps(scores + r, scored);
        most = _mm256_max_ps(scored, most);  // a NaN score leaves `most` as it was
    }
    float best = hmax8(most);
    for (; r < count; r++) {
        __m256 acc = _mm256_setzero_ps();
        for (size_t i = 0; i < stride; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(rows + r * stride + i), _mm256_loadu_ps(p + i), acc);
        scores[r] = bias[r] + hsum8(acc);
        best = scores[r] > best ? scores[r] : best;
    }
    return best;
}

SR_AVX2 static float score_rows_avx2(const float *p, const float *rows, size_t stride, const float *bias,
                                     size_t count, float *scores) {
    if (stride == 32) return score_rows_avx2_body(p, rows, 32, bias, count, scores);
    return score_rows_avx2_body(p, rows, stride, bias, count, scores);
}

// The cosine of q with each row: q·r and r·r accumulate side by side from
// one load of each row chunk, eight rows at a time, and `sums8` reduces
// both sets of accumulators.
SR_AVX2 static float cosines_avx2(const float *q, float q_norm, const float *rows, size_t stride,
                                  size_t count, float *cosines) {
    const __m256 qn = _mm256_set1_ps(q_norm), tiny = _mm256_set1_ps(FLT_MIN);
    __m256 most = _mm256_set1_ps(-INFINITY);
    size_t r = 0;
    for (; r + 8 <= count; r += 8) {
        const float *base = rows + r * stride;
        __m256 d[8], n[8];
        for (int j = 0; j < 8; j++) { d[j] = _mm256_setzero_ps(); n[j] = _mm256_setzero_ps(); }
        for (size_t i = 0; i < stride; i += 8) {
            __m256 qv = _mm256_loadu_ps(q + i);
            for (int j = 0; j < 8; j++) {
                __m256 v = _mm256_loadu_ps(base + j * stride + i);
                d[j] = _mm256_fmadd_ps(v, qv, d[j]);
                n[j] = _mm256_fmadd_ps(v, v, n[j]);
            }
        }
        __m256 dots = sums8(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
        __m256 norms = _mm256_sqrt_ps(sums8(n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]));
        __m256 c = _mm256_div_ps(dots, _mm256_max_ps(_mm256_mul_ps(qn, norms), tiny));
        _mm256_storeu_ps(cosines + r, c);
        most = _mm256_max_ps(c, most);
    }
    float best = hmax8(most);
    for (; r < count; r++) {
        __m256 d = _mm256_setzero_ps(), n = _mm256_setzero_ps();
        for (size_t i = 0; i < stride; i += 8) {
            __m256 v = _mm256_loadu_ps(rows + r * stride + i);
            d = _mm256_fmadd_ps(v, _mm256_loadu_ps(q + i), d);
            n = _mm256_fmadd_ps(v, v, n);
        }
        float norm = q_norm * sqrtf(hsum8(n));
        cosines[r] = hsum8(d) / (norm > FLT_MIN ? norm : FLT_MIN);
        best = cosines[r] > best ? cosines[r] : best;
    }
    return best;
}

static int cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

int sr_score_path_available(sr_score_path path) {
    switch (path) {
    case SR_SCORE_PORTABLE: return 1;
#ifdef SR_X86
    case SR_SCORE_AVX2_FMA: return cpu_has_avx2_fma();
#endif
    default: return 0;
    }
}

// 0: not decided yet; otherwise the path + 1. Threads racing on first use
// all store the same value.
static int chosen_path;

sr_score_path sr_score_rows_path(void) {
    int chosen = __atomic_load_n(&chosen_path, __ATOMIC_RELAXED);
    if (chosen == 0) {
        chosen = (sr_score_path_available(SR_SCORE_AVX2_FMA) ? SR_SCORE_AVX2_FMA : SR_SCORE_PORTABLE) + 1;
        __atomic_store_n(&chosen_path, chosen, __ATOMIC_RELAXED);
    }
    return (sr_score_path)(chosen - 1);
}

float sr_score_rows_on(sr_score_path path, const float *p, const float *rows, size_t stride,
                       const float *bias, size_t count, float *scores) {
#ifdef SR_X86
    if (path == SR_SCORE_AVX2_FMA) return score_rows_avx2(p, rows, stride, bias, count, scores);
#endif
    (void)path;
    return score_rows_portable(p, rows, stride, bias, count, scores);
}

float sr_score_rows(const float *p, const float *rows, size_t stride, const float *bias,
                    size_t count, float *scores) {
    return sr_score_rows_on(sr_score_rows_path(), p, rows, stride, bias, count, scores);
}

// Row by row in plain C for the portable path; AVX2 compares eight rows
// per instruction and movemask packs their bits. Either is a few dozen
// instructions for the 64 rows of one call, where offering every row of
// a passing run of eight to the selection cost ~3 ns a row (perf).
static uint64_t rows_above_portable(const float *scores, size_t count, float base, float threshold) {
    uint64_t rows = 0;
    for (size_t r = 0; r < count; r++) rows |= (uint64_t)((base + scores[r]) > threshold) << r;
    return rows;
}

#ifdef SR_X86
SR_AVX2 static uint64_t rows_above_avx2(const float *scores, size_t count, float base, float threshold) {
    const __m256 b = _mm256_set1_ps(base), t = _mm256_set1_ps(threshold);
    uint64_t rows = 0;
    size_t r = 0;
    for (; r + 8 <= count; r += 8) {
        __m256 above = _mm256_cmp_ps(_mm256_add_ps(b, _mm256_loadu_ps(scores + r)), t, _CMP_GT_OQ);
        rows |= (uint64_t)(unsigned)_mm256_movemask_ps(above) << r;
    }
    if (r < count) rows |= rows_above_portable(scores + r, count - r, base, threshold) << r;  // no shift by 64
    return rows;
}
#endif

static float cosines_portable(const float *q, float q_norm, const float *rows, size_t stride,
                              size_t count, float *cosines) {
    float best = -INFINITY;
    for (size_t r = 0; r < count; r++) {
        // Eight partial sums each, as the portable scorer keeps, so the
        // compiler can vectorize without reordering a single sum.
        float dots[8] = {0, 0, 0, 0, 0, 0, 0, 0}, squares[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < stride; i += 8) {
            for (int l = 0; l < 8; l++) {
                float v = rows[r * stride + i + l];
                dots[l] += v * q[i + l];
                squares[l] += v * v;
            }
        }
        float dot = 0, square = 0;
        for (int l = 0; l < 8; l++) { dot += dots[l]; square += squares[l]; }
        float norm = q_norm * sqrtf(square);
        cosines[r] = dot / (norm > FLT_MIN ? norm : FLT_MIN);
        best = cosines[r] > best ? cosines[r] : best;
    }
    return best;
}

float sr_cosines_on(sr_score_path path, const float *q, float q_norm, const float *rows, size_t stride,
                    size_t count, float *cosines) {
#ifdef SR_X86
    if (path == SR_SCORE_AVX2_FMA) return cosines_avx2(q, q_norm, rows, stride, count, cosines);
#endif
    (void)path;
    return cosines_portable(q, q_norm, rows, stride, count, cosines);
}

uint64_t sr_rows_above_on(sr_score_path path, const float *scores, size_t count, float base, float threshold) {
#ifdef SR_X86
    if (path == SR_SCORE_AVX2_FMA) return rows_above_avx2(scores, count, base, threshold);
#endif
    (void)path;
    return rows_above_portable(scores, count, base, threshold);
}
