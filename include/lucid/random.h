/* The one random stream of the library: what parameter initialisation draws from
 * (docs/semantics.md, "Random numbers"). A seed fixes every value drawn after it, so C code,
 * `lucidc run --seed N` and Python's `lucid_c.random.seed(N)` produce the same parameters.
 *
 * The generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): a 64-bit counter advanced by 0x9E3779B97F4A7C15 per draw, each
 * counter value mixed into a 64-bit output by
 *     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
 *     z ^= z >> 31.
 * Draw k after lc_random_seed(s) (k = 1, 2, ...) mixes s + k * 0x9E3779B97F4A7C15 (mod 2^64).
 * A uniform double in [0, 1) is the output's top 53 bits times 2^-53; U(lo, hi) is
 * lo + (hi - lo) * u, rounded once to the destination dtype.
 *
 * Thread-safety: the counter is one process-wide atomic, so concurrent draws never repeat a
 * value, but which thread gets which value is then up to the scheduler: seed and draw from
 * one thread when the stream must be reproducible. */
#ifndef LUCID_RANDOM_H
#define LUCID_RANDOM_H

#include <stdint.h>

#include "lucid/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Restart the stream at `seed`. Before any call the stream is at seed 0. */
LC_API void lc_random_seed(uint64_t seed);
/* Where the stream is: lc_random_seed(lc_random_state()) later resumes it there, so a caller
 * that builds something which draws (a Linear for a functional call) can leave the stream as
 * it found it. */
LC_API uint64_t lc_random_state(void);
/* The next 64-bit output of the stream. */
LC_API uint64_t lc_random_next_u64(void);
/* The next output as a double uniform in [0, 1): top 53 bits times 2^-53. */
LC_API double lc_random_uniform01(void);
/* lo + (hi - lo) * lc_random_uniform01(). */
LC_API double lc_random_uniform(double lo, double hi);
/* The next `n` values of lc_random_uniform(lo, hi) into out[0..n), in order: the same values
 * n calls would give, drawn as one block (one atomic step), for bindings that fill arrays. */
LC_API void lc_random_fill_uniform(double *out, int64_t n, double lo, double hi);

#ifdef __cplusplus
}
#endif
#endif
