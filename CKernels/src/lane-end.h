/* Internal: ends a lane's definitions (kernels-impl.h defines a lane,
 * includes formulas.h, then this), so that the next lane starts clean. */
#undef LANE
#undef LF
#undef L_LOAD
#undef L_STORE
#undef L_PLOAD
#undef L_PSTORE
#undef L_GLOAD
#undef L_SLOAD
#undef L_SSTORE
#undef L_SET1
#undef L_ADD
#undef L_SUB
#undef L_MUL
#undef L_DIV
#undef L_SQRT
#undef L_FMA
#undef L_NEG
#undef L_MAXNAN
#undef LDIV
#undef L_DIVISOR
#undef L_SQRT_DIV
