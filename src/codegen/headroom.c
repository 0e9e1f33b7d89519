/* Memory for LLVM before any LLVM work. LLVM cannot return from running out of memory: a
 * failed allocation inside it throws std::bad_alloc or reports "LLVM ERROR: out of memory",
 * and either ends the process. Lucid's own allocations fail with a status instead, so a
 * compile first checks that LLVM will have room, and fails cleanly when it would not.
 *
 * Measured under `ulimit -v` (Linux x86-64, LLVM 19): a compile grows the process by under
 * 5 MB, the demo model's forward+backward included; LC_CODEGEN_HEADROOM leaves several times
 * that. The check maps that much address space and gives it back: RLIMIT_AS counts every
 * mapping, whatever its protection, and nothing is touched, so it costs two system calls. A
 * compile that needs more than the headroom (a far larger program than any module builds)
 * can still end inside LLVM; docs/environment.md says what remains. */
#include <sys/mman.h>

#include "codegen/codegen.h"
#include "support/error.h"

lc_status lc_codegen_headroom(void) {
    void *p = mmap(NULL, LC_CODEGEN_HEADROOM, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return lc_fail(LC_ERR_NOMEM, "codegen: out of memory: a compile needs %d MiB free for LLVM, which "
                       "cannot fail cleanly short of it", (int)(LC_CODEGEN_HEADROOM >> 20));
    munmap(p, LC_CODEGEN_HEADROOM);
    return LC_OK;
}
