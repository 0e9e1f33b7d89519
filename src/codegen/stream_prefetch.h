/* Software prefetch of a kernel's input streams (lc_schedule.stream_prefetch).
 *
 * A kernel whose inputs do not fit the cache reads each of them as a stream, a vector trip
 * at a time. The hardware prefetchers follow such a stream, but on the host measured
 * (bench/README.md, AMD EPYC Zen 3) they left the loads waiting: a prefetch of each line
 * 2048 bytes ahead took LPPool1d(2, 4)'s forward from 82-91 % of the floor to 102-106 %; on an
 * Intel Sapphire Rapids host 4096 bytes ahead did better than 2048 (passes/kernel.h).
 * Where fuse asks for it, codegen gives the kernel's function LC_STREAM_PREFETCH_ATTR with the
 * distance in bytes; after optimization, when the vectorized loop and its loads exist, each
 * single-block loop gets one prefetch per 64 bytes of each run of adjacent loads a trip makes
 * of a buffer, that many bytes ahead, where the trip reads a line or more of it. A prefetch
 * changes no value, and one past a buffer's end is a hint the processor drops. */
#ifndef LUCID_CODEGEN_STREAM_PREFETCH_H
#define LUCID_CODEGEN_STREAM_PREFETCH_H

#include <llvm-c/Core.h>

/* The string attribute emit_kernel.c gives such a function: its value the distance, bytes. */
#define LC_STREAM_PREFETCH_ATTR "lucid-stream-prefetch"

/* Add the prefetches to the vectorized loops of every function carrying
 * LC_STREAM_PREFETCH_ATTR; returns how many prefetches were added. */
int lc_add_stream_prefetches(LLVMModuleRef mod);

#endif
