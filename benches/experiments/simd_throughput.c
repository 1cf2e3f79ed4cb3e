/* Instruction throughput of VPCLMULQDQ and (V)AESENC on xmm, ymm and zmm: twelve
 * independent chains each (more than latency x throughput), the minimum over 40
 * short runs (robust on a shared machine), in ns and in cycles of a dependent
 * 1-cycle `add` chain. Gives the GHASH bound docs/benchmarks-log.md quotes
 * ("AVX-512 GMAC (issue 18)", "What the hardware allows"): Karatsuba GHASH needs 3 VPCLMULQDQ per register of blocks.
 * Build: gcc -O2 simd_throughput.c (run by scripts/avx512-selfcheck.sh; an experiment, see README.md here). */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define N 3000000L
#define CHAINS(T, OP, SET)                                                                   \
    T k = SET(0x123456789), a0 = SET(1), a1 = SET(2), a2 = SET(3), a3 = SET(4), a4 = SET(5), \
      a5 = SET(6), a6 = SET(7), a7 = SET(8), a8 = SET(9), a9 = SET(10), a10 = SET(11),        \
      a11 = SET(12);                                                                         \
    double t = now();                                                                        \
    for (long n = 0; n < N / 12; n++) {                                                      \
        a0 = OP(a0, k); a1 = OP(a1, k); a2 = OP(a2, k); a3 = OP(a3, k);                      \
        a4 = OP(a4, k); a5 = OP(a5, k); a6 = OP(a6, k); a7 = OP(a7, k);                      \
        a8 = OP(a8, k); a9 = OP(a9, k); a10 = OP(a10, k); a11 = OP(a11, k);                  \
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5),    \
                         "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));      \
    }                                                                                        \
    return (now() - t) / N * 1e9;

#define CLX(a, k) _mm_clmulepi64_si128(a, k, 0)
#define CLY(a, k) _mm256_clmulepi64_epi128(a, k, 0)
#define CLZ(a, k) _mm512_clmulepi64_epi128(a, k, 0)
#define AEX(a, k) _mm_aesenc_si128(a, k)
#define AEY(a, k) _mm256_aesenc_epi128(a, k)
#define AEZ(a, k) _mm512_aesenc_epi128(a, k)
__attribute__((target("pclmul,avx"))) static double clx(void) { CHAINS(__m128i, CLX, _mm_set1_epi64x) }
__attribute__((target("avx2,vpclmulqdq"))) static double cly(void) { CHAINS(__m256i, CLY, _mm256_set1_epi64x) }
__attribute__((target("avx512f,vpclmulqdq"))) static double clz(void) { CHAINS(__m512i, CLZ, _mm512_set1_epi64) }
__attribute__((target("aes,avx"))) static double aex(void) { CHAINS(__m128i, AEX, _mm_set1_epi64x) }
__attribute__((target("avx2,vaes"))) static double aey(void) { CHAINS(__m256i, AEY, _mm256_set1_epi64x) }
__attribute__((target("avx512f,vaes"))) static double aez(void) { CHAINS(__m512i, AEZ, _mm512_set1_epi64) }

/* Adds of a register, not of an immediate: Intel's Golden Cove and later fold
 * chains of immediate adds at rename (seen as 0.06 ns per add on a 4.1 GHz Xeon). */
static double add_cycle(void) {
    long a = 1, b = 3;
    double t = now();
    for (long n = 0; n < N; n++)
        __asm__ volatile("add %1,%0\n add %1,%0\n add %1,%0\n add %1,%0" : "+r"(a) : "r"(b));
    return (now() - t) / (4.0 * N) * 1e9;
}

static double best(double (*f)(void)) {
    double m = 1e9;
    for (int r = 0; r < 40; r++) {
        double v = f();
        if (v < m) m = v;
    }
    return m;
}

int main(void) {
    double c = best(add_cycle);
    printf("one cycle (dependent add): %.3f ns\n", c);
    double x = best(clx), y = best(cly), z = best(clz);
    printf("VPCLMULQDQ ns/instruction: xmm %.3f ymm %.3f zmm %.3f (cycles %.2f %.2f %.2f)\n", x, y, z,
           x / c, y / c, z / c);
    printf("  GHASH bound, Karatsuba (3 per register): ymm %.1f GB/s, zmm %.1f GB/s\n", 32 / (3 * y),
           64 / (3 * z));
    /* Where zmm shuffles share VPCLMULQDQ's port (Intel), Karatsuba's operand
     * shuffle costs a multiply's slot: four per register either way. */
    printf("  GHASH bound, four per register (schoolbook): zmm %.1f GB/s\n", 64 / (4 * z));
    x = best(aex), y = best(aey), z = best(aez);
    printf("(V)AESENC ns/instruction: xmm %.3f ymm %.3f zmm %.3f (cycles %.2f %.2f %.2f)\n", x, y, z,
           x / c, y / c, z / c);
    printf("  AES-128 over independent lanes (10 rounds a block): xmm %.1f ymm %.1f zmm %.1f GB/s\n",
           16 / (10 * x), 32 / (10 * y), 64 / (10 * z));
    return 0;
}
