/* Whether a float32 quotient by a count c, taken as codegen's emit_fdiv takes it (Markstein's
 * correction: q = a·RN(1/c), r = fma(-q, c, a), fma(r, RN(1/c), q)), has the bits of the
 * division a / c for every positive float32 a: zero, the subnormals and the normals, 2^31 -
 * 2^23 patterns. The negative ones are their mirror under round-to-nearest, but for -0 (its
 * remainder is +0), which emit_fdiv gives the dividend's sign, as it selects infinities apart.
 * A stand-alone check, not built with Lucid (bench/README.md, "A count's division without the
 * divider"), about 17 s a count on one core.
 * Build: cc -O2 -march=native -ffp-contract=off count_division_exhaustive.c -lm
 * Run:   ./a.out 3 5 7 9 ...; prints, per count, how many patterns differ and the first. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        float c = strtof(argv[i], NULL), inv = 1.0f / c;
        uint64_t bad = 0, first = 0;
        for (uint64_t u = 0; u < 0x7f800000u; u++) {
            uint32_t bits = (uint32_t)u;
            float a, q, want;
            memcpy(&a, &bits, sizeof a);
            float q0 = a * inv, r = fmaf(-q0, c, a);
            q = fmaf(r, inv, q0);
            want = a / c;
            if (memcmp(&q, &want, sizeof q) != 0 && bad++ == 0) first = u;
        }
        printf("c=%g differ=%llu first=0x%llx\n", c, (unsigned long long)bad, (unsigned long long)first);
    }
    return 0;
}
