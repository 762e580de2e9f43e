#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#define SR_X86 1
#include <immintrin.h>
#endif

// Portable path: eight partial sums per row, as Swift's SIMD8 kernel keeps,
// which the compiler turns into SSE on the baseline x86-64 target.
static float score_rows_portable(const float *p, const float *rows, size_t stride, const float *bias,
                                 size_t count, float *scores) {
    float best = -INFINITY;
    for (size_t r = 0; r < count; r++) {
        const float *q = rows + r * stride;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < stride; i += 8) {
            for (int l = 0; l < 8; l++) acc[l] += p[i + l] * q[i + l];
        }
        float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        scores[r] = bias[r] + sum;
        best = scores[r] > best ? scores[r] : best;
    }
    return best;
}

#ifdef SR_X86
#define SR_AVX2 __attribute__((target("avx2,fma")))

// The eight lanes of `v` added up.
SR_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Eight rows at a time: one accumulator per row, then a transpose-by-hadd
// turns the eight accumulators into one vector of eight sums, so the
// horizontal reduction costs about one instruction per row, not five.
// `stride` is a parameter of an inline function: the k = 32 call below is
// specialized with the four chunks of p kept in registers.
SR_AVX2 static inline float score_rows_avx2_body(const float *p, const float *rows, size_t stride,
                                                 const float *bias, size_t count, float *scores) {
    __m256 most = _mm256_set1_ps(-INFINITY);
    size_t r = 0;
    for (; r + 8 <= count; r += 8) {
        const float *q = rows + r * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps(), a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
        for (size_t i = 0; i < stride; i += 8) {
            __m256 pv = _mm256_loadu_ps(p + i);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 0 * stride + i), pv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 1 * stride + i), pv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 2 * stride + i), pv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 3 * stride + i), pv, a3);
            a4 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 4 * stride + i), pv, a4);
            a5 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 5 * stride + i), pv, a5);
            a6 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 6 * stride + i), pv, a6);
            a7 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 7 * stride + i), pv, a7);
        }
        // hadd pairs within 128-bit halves; after three rounds lane l of each
        // half holds partial sums of row l, and the two halves add up.
        __m256 h01 = _mm256_hadd_ps(a0, a1), h23 = _mm256_hadd_ps(a2, a3);
        __m256 h45 = _mm256_hadd_ps(a4, a5), h67 = _mm256_hadd_ps(a6, a7);
        __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
        // h0123 = [r0 r1 r2 r3 | r0 r1 r2 r3] (low-half and high-half partials), same for h4567.
        __m256 lo = _mm256_permute2f128_ps(h0123, h4567, 0x20);  // low halves: r0..r3, r4..r7
        __m256 hi = _mm256_permute2f128_ps(h0123, h4567, 0x31);  // high halves
        __m256 sums = _mm256_add_ps(lo, hi);
        __m256 scored = _mm256_add_ps(_mm256_loadu_ps(bias + r), sums);
        _mm256_storeu_ps(scores + r, scored);
        most = _mm256_max_ps(scored, most);  // a NaN score leaves `most` as it was
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(most), _mm256_extractf128_ps(most, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    float best = _mm_cvtss_f32(m);
    for (; r < count; r++) {
        const float *q = rows + r * stride;
        __m256 acc = _mm256_setzero_ps();
        for (size_t i = 0; i < stride; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(p + i), acc);
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
