/* Independent CPUID probe for the x86 tier matrix: prints the tier and SHA-256
 * kernel smbsign's detection must pick on this (possibly emulated) CPU, from the
 * raw CPUID/XGETBV bits rather than from smbsign's own code. */
#include <cpuid.h>
#include <stdio.h>

static unsigned long long xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

int main(void) {
    unsigned int a, b, c, d, b7 = 0, c7 = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    int sse2 = (d >> 26) & 1, ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    int pclmul = (c >> 1) & 1, aes = (c >> 25) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (__get_cpuid_count(7, 0, &a, &b7, &c7, &d)) {
    }
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_os = (xcr0 & 0x6) == 0x6, zmm_os = (xcr0 & 0xe6) == 0xe6;
    int avx2 = avx && ymm_os && ((b7 >> 5) & 1);
    int sha = (b7 >> 29) & 1, vpclmul = (c7 >> 10) & 1;
    int vbmi = (c7 >> 1) & 1;
    int avx512 = zmm_os && ((b7 >> 16) & 1) && ((b7 >> 30) & 1) && ((b7 >> 31) & 1) && vbmi;
    const char *tier = "portable";
    if (aes && pclmul && sse2 && ssse3) {
        tier = "aesni";
        if (avx2 && vpclmul) tier = avx512 ? "avx512" : "avx2"; /* F, BW, VL, VBMI + VPCLMULQDQ */
    }
    const char *sha_kernel = (sha && sse2 && ssse3 && sse41 && aes && pclmul) ? "x86_64/sha-ni" : "portable";
    printf("%s %s%s\n", tier, sha_kernel, avx512 && vpclmul ? " avx512-capable" : "");
    return 0;
}
