/* SHA-256 (FIPS 180-4), for AdamPKit's checkpoint integrity check. */
#ifndef SWIFT_ADAMP_SHA256_H
#define SWIFT_ADAMP_SHA256_H
#include <stddef.h>
#include <stdint.h>

/* The digest of `count` bytes at `data` into `digest`. With the x86 SHA
 * extensions where the CPU has them (every AMD Zen; Intel since Ice Lake),
 * else in portable C: the same digest either way. `force_portable` takes the
 * portable path (for tests). */
void swift_adamp_sha256(const void *data, size_t count, uint8_t digest[32], int force_portable);

#endif
