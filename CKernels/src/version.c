/* The library's version, from the header's macros (the one place it is written). */
#include "adamp.h"

#define ADAMP_STR_(x) #x
#define ADAMP_STR(x) ADAMP_STR_(x)

const char *adamp_version(void) {
    return ADAMP_STR(ADAMP_VERSION_MAJOR) "." ADAMP_STR(ADAMP_VERSION_MINOR) "." ADAMP_STR(ADAMP_VERSION_PATCH);
}
