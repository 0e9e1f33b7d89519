/* The library's own version, compiled in from the generated lucid/version.h. */
#include "lucid/version.h"

const char *lc_version(void) { return LUCID_VERSION_STRING; }
