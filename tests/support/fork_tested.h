/* FORK_TESTED: 1 where a test may fork a process that runs threads, 0 under ThreadSanitizer,
 * which does not follow a multi-threaded process's fork (its child can hang or report
 * nonsense). Tests that fork skip themselves when it is 0. */
#ifndef LUCID_TESTS_FORK_TESTED_H
#define LUCID_TESTS_FORK_TESTED_H

#if defined(__SANITIZE_THREAD__)
#define FORK_TESTED 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FORK_TESTED 0
#endif
#endif
#ifndef FORK_TESTED
#define FORK_TESTED 1
#endif

#endif
