/* The one monotonic clock behind every stage time the library reports (the driver's hook,
 * codegen's steps, the pass timings) and the command line's: milliseconds from an arbitrary
 * origin, never going back when the wall clock is set. */
#ifndef LUCID_SUPPORT_CLOCK_H
#define LUCID_SUPPORT_CLOCK_H

double lc_now_ms(void);

#endif
