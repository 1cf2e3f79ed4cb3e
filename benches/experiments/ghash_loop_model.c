/* A C model of the zmm GHASH loop (docs/benchmarks-log.md, "Wide groups for
 * long messages"):
 * 64 KiB from L1/L2, fastest of 300 runs, GB/s. Variants: v0 the 64-block
 * kernel's step (byte swap, pshufd/xor Karatsuba operand, 6 VPCLMULQDQ and 3
 * vpternlogq per 8 blocks), v1/v3 the wide kernel's step (two VBMI vpermt2b
 * byte-reverse and pair the halves of two registers, one xor: 12 instructions
 * per 8 blocks instead of 15), v4 two pshufb instead of pshufd, v5-v8 v1 with
 * the lane fold and reduction once per 64/128/256 blocks (with and without the
 * accumulator chain), v2 the multiplies alone (the VPCLMULQDQ bound).
 * Products are not real GHASH values: this measures cost only.
 * Build: gcc -O2 -mavx512f -mavx512bw -mavx512vbmi -mvpclmulqdq -mpclmul -mavx2 ghash_loop_model.c */
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define LEN 65536
static uint8_t buf[LEN] __attribute__((aligned(64)));
static __m512i H[16], HK[16], P3[96];
#define T __attribute__((target("avx512f,avx512bw,avx512vbmi,vpclmulqdq"),noinline))
__m512i sink;
T double v0(void){ // current
  __m512i bs=_mm512_broadcast_i32x4(_mm_set_epi8(0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15));
  __m512i lo=_mm512_setzero_si512(),hi=lo,mi=lo;
  double t=now();
  for(int g=0; g<LEN; g+=1024){
   for(int j=0;j<16;j+=2){
    __m512i x=_mm512_shuffle_epi8(_mm512_loadu_si512(buf+g+64*j),bs);
    __m512i y=_mm512_shuffle_epi8(_mm512_loadu_si512(buf+g+64*j+64),bs);
    __m512i xk=_mm512_xor_si512(x,_mm512_shuffle_epi32(x,0x4e));
    __m512i yk=_mm512_xor_si512(y,_mm512_shuffle_epi32(y,0x4e));
    lo=_mm512_ternarylogic_epi64(lo,_mm512_clmulepi64_epi128(x,H[j],0),_mm512_clmulepi64_epi128(y,H[j+1],0),0x96);
    hi=_mm512_ternarylogic_epi64(hi,_mm512_clmulepi64_epi128(x,H[j],0x11),_mm512_clmulepi64_epi128(y,H[j+1],0x11),0x96);
    mi=_mm512_ternarylogic_epi64(mi,_mm512_clmulepi64_epi128(xk,HK[j],0),_mm512_clmulepi64_epi128(yk,HK[j+1],0),0x96);
   }
  }
  t=now()-t; sink=_mm512_xor_si512(lo,_mm512_xor_si512(hi,mi)); return t;
}
T double v1(void){ // vpermt2b pairs
  uint8_t il[64], ih[64];
  // lane i of result: qword0 = bswap64(x.hi) (x=a lane i), qword1 = bswap64(y.hi)
  for(int l=0;l<4;l++) for(int b=0;b<8;b++){
    il[16*l+b]=16*l+15-b; il[16*l+8+b]=64+16*l+15-b;
    ih[16*l+b]=16*l+7-b; ih[16*l+8+b]=64+16*l+7-b;}
  __m512i IL=_mm512_loadu_si512(il), IH=_mm512_loadu_si512(ih);
  __m512i lo=_mm512_setzero_si512(),hi=lo,mi=lo;
  double t=now();
  for(int g=0; g<LEN; g+=1024){
   for(int j=0;j<16;j+=2){
    __m512i a=_mm512_loadu_si512(buf+g+64*j), b=_mm512_loadu_si512(buf+g+64*j+64);
    __m512i l=_mm512_permutex2var_epi8(a,IL,b), h=_mm512_permutex2var_epi8(a,IH,b);
    __m512i k=_mm512_xor_si512(l,h);
    int p=3*(j/2);
    lo=_mm512_ternarylogic_epi64(lo,_mm512_clmulepi64_epi128(l,P3[p],0),_mm512_clmulepi64_epi128(l,P3[p],0x11),0x96);
    hi=_mm512_ternarylogic_epi64(hi,_mm512_clmulepi64_epi128(h,P3[p+1],0),_mm512_clmulepi64_epi128(h,P3[p+1],0x11),0x96);
    mi=_mm512_ternarylogic_epi64(mi,_mm512_clmulepi64_epi128(k,P3[p+2],0),_mm512_clmulepi64_epi128(k,P3[p+2],0x11),0x96);
   }
  }
  t=now()-t; sink=_mm512_xor_si512(lo,_mm512_xor_si512(hi,mi)); return t;
}
T double v2(void){ // clmul only, data loaded raw
  __m512i lo=_mm512_setzero_si512(),hi=lo,mi=lo;
  double t=now();
  for(int g=0; g<LEN; g+=1024){
   for(int j=0;j<16;j+=2){
    __m512i x=_mm512_loadu_si512(buf+g+64*j), y=_mm512_loadu_si512(buf+g+64*j+64);
    lo=_mm512_ternarylogic_epi64(lo,_mm512_clmulepi64_epi128(x,H[j],0),_mm512_clmulepi64_epi128(y,H[j+1],0),0x96);
    hi=_mm512_ternarylogic_epi64(hi,_mm512_clmulepi64_epi128(x,H[j],0x11),_mm512_clmulepi64_epi128(y,H[j+1],0x11),0x96);
    mi=_mm512_ternarylogic_epi64(mi,_mm512_clmulepi64_epi128(x,HK[j],0),_mm512_clmulepi64_epi128(y,HK[j+1],0),0x96);
   }
  }
  t=now()-t; sink=_mm512_xor_si512(lo,_mm512_xor_si512(hi,mi)); return t;
}
T double v3(void){ // vpermt2b pairs, 4 regs per step
  uint8_t il[64], ih[64];
  for(int l=0;l<4;l++) for(int b=0;b<8;b++){
    il[16*l+b]=16*l+15-b; il[16*l+8+b]=64+16*l+15-b;
    ih[16*l+b]=16*l+7-b; ih[16*l+8+b]=64+16*l+7-b;}
  __m512i IL=_mm512_loadu_si512(il), IH=_mm512_loadu_si512(ih);
  __m512i lo=_mm512_setzero_si512(),hi=lo,mi=lo,lo2=lo,hi2=lo,mi2=lo;
  double t=now();
  for(int g=0; g<LEN; g+=1024){
   for(int j=0;j<16;j+=4){
    __m512i a=_mm512_loadu_si512(buf+g+64*j), b=_mm512_loadu_si512(buf+g+64*j+64);
    __m512i c=_mm512_loadu_si512(buf+g+64*j+128), d=_mm512_loadu_si512(buf+g+64*j+192);
    __m512i l=_mm512_permutex2var_epi8(a,IL,b), h=_mm512_permutex2var_epi8(a,IH,b);
    __m512i l2=_mm512_permutex2var_epi8(c,IL,d), h2=_mm512_permutex2var_epi8(c,IH,d);
    __m512i k=_mm512_xor_si512(l,h), k2=_mm512_xor_si512(l2,h2);
    int p=3*(j/2);
    lo=_mm512_ternarylogic_epi64(lo,_mm512_clmulepi64_epi128(l,P3[p],0),_mm512_clmulepi64_epi128(l,P3[p],0x11),0x96);
    hi=_mm512_ternarylogic_epi64(hi,_mm512_clmulepi64_epi128(h,P3[p+1],0),_mm512_clmulepi64_epi128(h,P3[p+1],0x11),0x96);
    mi=_mm512_ternarylogic_epi64(mi,_mm512_clmulepi64_epi128(k,P3[p+2],0),_mm512_clmulepi64_epi128(k,P3[p+2],0x11),0x96);
    lo2=_mm512_ternarylogic_epi64(lo2,_mm512_clmulepi64_epi128(l2,P3[p+3],0),_mm512_clmulepi64_epi128(l2,P3[p+3],0x11),0x96);
    hi2=_mm512_ternarylogic_epi64(hi2,_mm512_clmulepi64_epi128(h2,P3[p+4],0),_mm512_clmulepi64_epi128(h2,P3[p+4],0x11),0x96);
    mi2=_mm512_ternarylogic_epi64(mi2,_mm512_clmulepi64_epi128(k2,P3[p+5],0),_mm512_clmulepi64_epi128(k2,P3[p+5],0x11),0x96);
   }
  }
  t=now()-t; sink=_mm512_xor_si512(_mm512_xor_si512(lo,lo2),_mm512_xor_si512(_mm512_xor_si512(hi,hi2),_mm512_xor_si512(mi,mi2))); return t;
}
T double v4(void){ // bswap shufb + shufb-swap + xor (two shufb), no shufd
  __m512i bs=_mm512_broadcast_i32x4(_mm_set_epi8(0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15));
  __m512i bs2=_mm512_broadcast_i32x4(_mm_set_epi8(8,9,10,11,12,13,14,15,0,1,2,3,4,5,6,7));
  __m512i lo=_mm512_setzero_si512(),hi=lo,mi=lo;
  double t=now();
  for(int g=0; g<LEN; g+=1024){
   for(int j=0;j<16;j+=2){
    __m512i ra=_mm512_loadu_si512(buf+g+64*j), rb=_mm512_loadu_si512(buf+g+64*j+64);
    __m512i x=_mm512_shuffle_epi8(ra,bs), y=_mm512_shuffle_epi8(rb,bs);
    __m512i xk=_mm512_xor_si512(x,_mm512_shuffle_epi8(ra,bs2));
    __m512i yk=_mm512_xor_si512(y,_mm512_shuffle_epi8(rb,bs2));
    lo=_mm512_ternarylogic_epi64(lo,_mm512_clmulepi64_epi128(x,H[j],0),_mm512_clmulepi64_epi128(y,H[j+1],0),0x96);
    hi=_mm512_ternarylogic_epi64(hi,_mm512_clmulepi64_epi128(x,H[j],0x11),_mm512_clmulepi64_epi128(y,H[j+1],0x11),0x96);
    mi=_mm512_ternarylogic_epi64(mi,_mm512_clmulepi64_epi128(xk,HK[j],0),_mm512_clmulepi64_epi128(yk,HK[j+1],0),0x96);
   }
  }
  t=now()-t; sink=_mm512_xor_si512(lo,_mm512_xor_si512(hi,mi)); return t;
}

#define TT __attribute__((target("avx512f,avx512bw,avx512vbmi,vpclmulqdq,pclmul,avx2"),always_inline)) static inline
TT __m128i fold4(__m512i v){__m256i y=_mm256_xor_si256(_mm512_castsi512_si256(v),_mm512_extracti64x4_epi64(v,1));return _mm_xor_si128(_mm256_castsi256_si128(y),_mm256_extracti128_si256(y,1));}
TT __m128i red(__m128i l,__m128i m,__m128i h){ // polyval-ish reduce (cost model only)
  __m128i p=_mm_set_epi64x(0xc200000000000000ULL,0);
  l=_mm_xor_si128(l,_mm_slli_si128(m,8)); h=_mm_xor_si128(h,_mm_srli_si128(m,8));
  __m128i t=_mm_clmulepi64_si128(l,p,0x10); l=_mm_xor_si128(_mm_shuffle_epi32(l,0x4e),t);
  t=_mm_clmulepi64_si128(l,p,0x10); l=_mm_xor_si128(_mm_shuffle_epi32(l,0x4e),t);
  return _mm_xor_si128(l,h);}
#define GROUPED(NAME,CHAIN,GROUP) T double NAME(void){ \
  uint8_t il[64], ih[64]; \
  for(int l=0;l<4;l++) for(int b=0;b<8;b++){ il[16*l+b]=16*l+15-b; il[16*l+8+b]=64+16*l+15-b; ih[16*l+b]=16*l+7-b; ih[16*l+8+b]=64+16*l+7-b;} \
  __m512i IL=_mm512_loadu_si512(il), IH=_mm512_loadu_si512(ih); \
  __m128i acc=_mm_setzero_si128(), tot=acc; \
  double t=now(); \
  for(int g=0; g<LEN; g+=GROUP){ \
   __m512i lo=_mm512_setzero_si512(),hi=lo,mi=lo; \
   for(int j=GROUP/64-2;j>=0;j-=2){ \
    __m512i a=_mm512_loadu_si512(buf+g+64*j), b=_mm512_loadu_si512(buf+g+64*j+64); \
    if(j==0 && CHAIN) a=_mm512_xor_si512(a,_mm512_zextsi128_si512(acc)); \
    __m512i l=_mm512_permutex2var_epi8(a,IL,b), h=_mm512_permutex2var_epi8(a,IH,b); \
    __m512i k=_mm512_xor_si512(l,h); int p=3*(j/2); \
    lo=_mm512_ternarylogic_epi64(lo,_mm512_clmulepi64_epi128(l,P3[p],0),_mm512_clmulepi64_epi128(l,P3[p],0x11),0x96); \
    hi=_mm512_ternarylogic_epi64(hi,_mm512_clmulepi64_epi128(h,P3[p+1],0),_mm512_clmulepi64_epi128(h,P3[p+1],0x11),0x96); \
    mi=_mm512_ternarylogic_epi64(mi,_mm512_clmulepi64_epi128(k,P3[p+2],0),_mm512_clmulepi64_epi128(k,P3[p+2],0x11),0x96); \
   } \
   __m128i L=fold4(lo),Hh=fold4(hi),M=_mm_xor_si128(fold4(mi),_mm_xor_si128(L,Hh)); \
   acc=red(L,M,Hh); tot=_mm_xor_si128(tot,acc); \
  } \
  t=now()-t; sink=_mm512_zextsi128_si512(tot); return t; }


GROUPED(v5,1,1024)
GROUPED(v6,0,1024)
GROUPED(v7,1,2048)
GROUPED(v8,1,4096)
static double best(double(*f)(void)){double m=1e9;for(int r=0;r<300;r++){double v=f();if(v<m)m=v;}return m;}
int main(){ for(int i=0;i<LEN;i++)buf[i]=i*7;
 for(int i=0;i<16;i++){H[i]=_mm512_set1_epi64(i*12345+1);HK[i]=_mm512_set1_epi64(i*777+3);}
 for(int i=0;i<96;i++)P3[i]=_mm512_set1_epi64(i*999+5);
 for(int rep=0;rep<2;rep++){
 printf("v0 current      %.2f GB/s\n", LEN/best(v0)/1e9);
 printf("v1 vpermt2b x2  %.2f GB/s\n", LEN/best(v1)/1e9);
 printf("v3 vpermt2b x4  %.2f GB/s\n", LEN/best(v3)/1e9);
 printf("v4 2x shufb     %.2f GB/s\n", LEN/best(v4)/1e9);
 printf("v5 +fold/red chain %.2f GB/s\n", LEN/best(v5)/1e9);
 printf("v6 +fold/red nochain %.2f GB/s\n", LEN/best(v6)/1e9);
 printf("v7 128-block groups chain %.2f GB/s\n", LEN/best(v7)/1e9);
 printf("v8 256-block groups chain %.2f GB/s\n", LEN/best(v8)/1e9);
 printf("v2 clmul only   %.2f GB/s\n", LEN/best(v2)/1e9);}
 printf("%llx\n",(long long)_mm512_cvtsi512_si32(sink));
}
