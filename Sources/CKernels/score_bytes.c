#include "CKernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define SR_X86 1
#include <immintrin.h>
#endif

// Rows are laid out as `sr_byte_offset` (CKernels.h) says.

static float quantize_row_portable(const float *source, size_t stride, uint8_t *rows, size_t row, float *l1) {
    float largest = 0;
    for (size_t i = 0; i < stride; i++) {
        if (!isfinite(source[i])) largest = NAN;  // and stays NaN: NaN > x is false
        else if (fabsf(source[i]) > largest) largest = fabsf(source[i]);
    }
    if (isnan(largest) || largest == 0) {
        for (size_t i = 0; i < stride; i++) rows[sr_byte_offset(row, stride, i)] = 128;
        *l1 = largest;
        return largest;
    }
    // In double: 127 / largest stays finite for the smallest subnormal
    // rows, and x * inverse is within 2^-46 of x / scale, so |q| <= 127.
    float scale = largest / 127;
    double inverse = 127.0 / largest, sum = 0;
    for (size_t i = 0; i < stride; i++) {
        // Round to nearest even by the 1.5 * 2^52 trick: no libm call, and
        // it vectorizes on the baseline target, which has no roundpd.
        double q = (source[i] * inverse + 6755399441055744.0) - 6755399441055744.0;
        q = q > 127 ? 127 : (q < -127 ? -127 : q);
        sum += fabs(q);
        rows[sr_byte_offset(row, stride, i)] = (uint8_t)(int)(q + 128);
    }
    *l1 = (float)(scale * sum);
    return scale;
}

// One row in plain C: the integer dot product of its biased bytes with the
// user's bytes, less the correction for the bias of 128.
static inline int32_t byte_dot(const int8_t *user, int32_t correction, const uint8_t *rows, size_t stride, size_t row) {
    int32_t sum = 0;
    for (size_t i = 0; i < stride; i++) sum += (int32_t)rows[sr_byte_offset(row, stride, i)] * user[i];
    return sum - correction;
}

static float score_byte_rows_portable(const int8_t *user, int32_t correction, float user_scale, const uint8_t *rows,
                                      size_t stride, const float *scales, const float *bias, size_t count,
                                      float *scores) {
    float best = -INFINITY;
    for (size_t r = 0; r < count; r++) {
        scores[r] = bias[r] + (float)byte_dot(user, correction, rows, stride, r) * (user_scale * scales[r]);
        best = scores[r] > best ? scores[r] : best;
    }
    return best;
}

#ifdef SR_X86
#define SR_AVX2 __attribute__((target("avx2,fma")))

// Eight rows a step: per quad one load, one vpmaddubsw (unsigned row bytes
// times signed user bytes, pairs added into 16 bits: at most 2 * 255 * 63,
// so no saturation) and one vpmaddwd by ones (into 32 bits). Two
// accumulators keep two dependency chains in flight. `stride` is a
// parameter of an inline function, so the k = 32 call below is unrolled.
SR_AVX2 static inline float score_byte_rows_avx2_body(const int8_t *user, int32_t correction, float user_scale,
                                                      const uint8_t *rows, size_t stride, const float *scales,
                                                      const float *bias, size_t count, float *scores) {
    const __m256i ones = _mm256_set1_epi16(1), shift = _mm256_set1_epi32(correction);
    const __m256 us = _mm256_set1_ps(user_scale);
    __m256 most = _mm256_set1_ps(-INFINITY);
    size_t r = 0;
    for (; r + 8 <= count; r += 8) {
        const uint8_t *block = rows + r * stride;
        __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
        size_t d = 0;
        for (; d + 8 <= stride; d += 8) {
            int32_t u0, u1;
            memcpy(&u0, user + d, 4);
            memcpy(&u1, user + d + 4, 4);
            __m256i x0 = _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(block + d * 8)), _mm256_set1_epi32(u0));
            __m256i x1 = _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(block + d * 8 + 32)), _mm256_set1_epi32(u1));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, ones));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x1, ones));
        }
        for (; d < stride; d += 4) {
            int32_t u0;
            memcpy(&u0, user + d, 4);
            __m256i x0 = _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(block + d * 8)), _mm256_set1_epi32(u0));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, ones));
        }
        __m256 dots = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_add_epi32(a0, a1), shift));
        __m256 scored = _mm256_fmadd_ps(dots, _mm256_mul_ps(us, _mm256_loadu_ps(scales + r)), _mm256_loadu_ps(bias + r));
        _mm256_storeu_ps(scores + r, scored);
        most = _mm256_max_ps(scored, most);  // a NaN score leaves `most` as it was
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(most), _mm256_extractf128_ps(most, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    float best = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
    if (r < count) {
        float rest = score_byte_rows_portable(user, correction, user_scale, rows + r * stride, stride, scales + r,
                                              bias + r, count - r, scores + r);
        best = rest > best ? rest : best;
    }
    return best;
}

// Eight floats a step: the largest magnitude and a test for NaN and
// infinities first, then multiply, round to nearest even (vroundps, the
// portable path's rounding), clamp, and pack to eight bytes, which are two
// quads' worth (four dimensions each) of this row's lane in its block. A
// row that is not finite, is zero or is tiny enough that 127 / max would
// overflow a float takes the portable path. In float, x * (127 / max) is
// within 2.3e-5 of x / s, which ByteQuery's 2^-10 margin covers.
SR_AVX2 static float quantize_row_avx2(const float *source, size_t stride, uint8_t *rows, size_t row, float *l1) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), infinity = _mm256_set1_ps(INFINITY);
    __m256 most = _mm256_setzero_ps(), unfit = _mm256_setzero_ps();
    for (size_t i = 0; i < stride; i += 8) {
        __m256 a = _mm256_and_ps(_mm256_loadu_ps(source + i), magnitude);
        unfit = _mm256_or_ps(unfit, _mm256_cmp_ps(a, infinity, _CMP_NLT_UQ));  // infinite or NaN
        most = _mm256_max_ps(most, a);
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(most), _mm256_extractf128_ps(most, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    float largest = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
    if (_mm256_movemask_ps(unfit) != 0 || !(largest >= 1e-30f)) return quantize_row_portable(source, stride, rows, row, l1);
    const __m256 inverse = _mm256_set1_ps(127 / largest), low = _mm256_set1_ps(-127), high = _mm256_set1_ps(127);
    const __m256 bias = _mm256_set1_ps(128);
    __m256 sum = _mm256_setzero_ps();
    uint8_t *lane = rows + sr_byte_offset(row, stride, 0);
    for (size_t i = 0; i < stride; i += 8) {
        __m256 q = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(source + i), inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q = _mm256_min_ps(_mm256_max_ps(q, low), high);
        sum = _mm256_add_ps(sum, _mm256_and_ps(q, magnitude));  // whole numbers: exact
        __m256i b = _mm256_cvtps_epi32(_mm256_add_ps(q, bias));
        __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        uint64_t eight = (uint64_t)_mm_cvtsi128_si64(_mm_packus_epi16(words, words));
        uint32_t first = (uint32_t)eight, second = (uint32_t)(eight >> 32);
        memcpy(lane + (i / 4) * 32, &first, 4);
        memcpy(lane + (i / 4 + 1) * 32, &second, 4);
    }
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    float scale = largest / 127;
    *l1 = scale * _mm_cvtss_f32(_mm_add_ss(s4, _mm_movehdup_ps(s4)));
    return scale;
}

SR_AVX2 static float score_byte_rows_avx2(const int8_t *user, int32_t correction, float user_scale, const uint8_t *rows,
                                          size_t stride, const float *scales, const float *bias, size_t count,
                                          float *scores) {
    if (stride == 32) return score_byte_rows_avx2_body(user, correction, user_scale, rows, 32, scales, bias, count, scores);
    return score_byte_rows_avx2_body(user, correction, user_scale, rows, stride, scales, bias, count, scores);
}
#endif

float sr_quantize_row_on(sr_score_path path, const float *source, size_t stride, uint8_t *rows, size_t row, float *l1) {
#ifdef SR_X86
    if (path == SR_SCORE_AVX2_FMA && stride % 8 == 0) return quantize_row_avx2(source, stride, rows, row, l1);
#endif
    (void)path;
    return quantize_row_portable(source, stride, rows, row, l1);
}

float sr_score_byte_rows_on(sr_score_path path, const int8_t *user, int32_t correction, float user_scale,
                            const uint8_t *rows, size_t stride, const float *scales, const float *bias, size_t count,
                            float *scores) {
#ifdef SR_X86
    if (path == SR_SCORE_AVX2_FMA) return score_byte_rows_avx2(user, correction, user_scale, rows, stride, scales, bias, count, scores);
#endif
    (void)path;
    return score_byte_rows_portable(user, correction, user_scale, rows, stride, scales, bias, count, scores);
}
