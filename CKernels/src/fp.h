/* Internal: included first by every file that computes. Results must not
 * depend on the compiler's defaults or flags (SwiftPM's, setup.py's, the
 * Makefile's): clang contracts a*b+c into a fused multiply-add within an
 * expression unless told not to, gcc in ISO C mode (-std=c11) never does.
 * The fused operations the maths wants are explicit fma() calls. */
#ifndef ADAMP_FP_H
#define ADAMP_FP_H
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#endif
