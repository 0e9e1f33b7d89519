/* LC_API marks the functions of Lucid's public API. The shared library is built with hidden
 * visibility (-fvisibility=hidden), so only what carries LC_API is exported from liblucid.so;
 * everything else stays internal to the library. Thread-safety: declares nothing callable. */
#ifndef LUCID_EXPORT_H
#define LUCID_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define LC_API __attribute__((visibility("default")))
#else
#define LC_API
#endif

#endif
