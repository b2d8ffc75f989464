/* Internal, included by kernels-impl.h: how one storage reads and writes its
 * buffers, for the scalar lane (S_*, an element) and the vector lane (V_*, W
 * elements), from PK and GK (below). Loads widen exactly to T; stores round
 * to the storage once (convert.h's meaning, element by element). A buffer
 * is given with an element index: the parameter as an adamp_pbuf {a, b},
 * the gradient and a state buffer as an address. storage-end.h undoes it. */

/* How the parameter is kept (PK), and with it the state:
 *   PK_NATIVE:        p.a holds T (float or double); state T.
 *   PK_BF16, PK_F16:  p.a holds the 16-bit values; state the same type.
 *   PK_MASTER_BF16, PK_MASTER_F16: p.a the float master, which the step
 *                     reads and writes; p.b the 16-bit parameter, written
 *                     as the master rounded; state float.
 *   PK_SPLIT:         p.a the bfloat16 parameter (the master's upper half),
 *                     p.b its trail (the lower half); state float.
 * How the gradient is (GK): GK_NATIVE (T), GK_BF16, GK_F16. */
#ifndef ADAMP_STORAGE_KINDS
#define ADAMP_STORAGE_KINDS
#define PK_NATIVE 1
#define PK_BF16 2
#define PK_F16 3
#define PK_MASTER_BF16 4
#define PK_MASTER_F16 5
#define PK_SPLIT 6
#define GK_NATIVE 1
#define GK_BF16 2
#define GK_F16 3
#endif

/* The first n (< W) 16-bit elements from `at`, zeros after, reading nothing
 * past them (kernels-shared.h: through a zeroed copy, once per segment). */
#define V16_FIRST(kind, ptr, at, n) FV(kind##_first)(ptr, at, n)
#define V16_FIRST2(kind, hi, lo, at, n) FV(kind##_first)(hi, lo, at, n)
#define U16(ptr) ((uint16_t *)(ptr))

/* The parameter. */
#if PK == PK_NATIVE || PK == PK_MASTER_BF16 || PK == PK_MASTER_F16
#define S_PLOAD(p, i) (((const T *)(p).a)[i])
#define V_PLOAD(p, i) VLOAD((const T *)(p).a + (i))
#define V_PLOAD_FIRST(p, i, n) VLOAD_FIRST((const T *)(p).a + (i), n)
#define V_ACC_PROD_P(acc, p, i, y) VACC_PROD_AT(acc, (const T *)(p).a + (i), y)
#define V_ACC_SQ_P(acc, p, i) VACC_SQ_AT(acc, (const T *)(p).a + (i))
#elif PK == PK_BF16
#define S_PLOAD(p, i) adamp_bf16_to_f32(U16((p).a)[i])
#define V_PLOAD(p, i) VBF16_LOAD(U16((p).a) + (i))
#define V_PLOAD_FIRST(p, i, n) V16_FIRST(bf16, (p).a, i, n)
#elif PK == PK_F16
#define S_PLOAD(p, i) adamp_f16_to_f32(U16((p).a)[i])
#define V_PLOAD(p, i) VF16_LOAD(U16((p).a) + (i))
#define V_PLOAD_FIRST(p, i, n) V16_FIRST(f16, (p).a, i, n)
#elif PK == PK_SPLIT
#define S_PLOAD(p, i) adamp_split_to_f32(U16((p).a)[i], U16((p).b)[i])
#define V_PLOAD(p, i) VSPLIT_LOAD(U16((p).a) + (i), U16((p).b) + (i))
#define V_PLOAD_FIRST(p, i, n) V16_FIRST2(split, (p).a, (p).b, i, n)
#else
#error "storage.h: PK is not a parameter storage"
#endif
#if !defined(V_ACC_PROD_P) /* widened once, then summed */
#define V_ACC_PROD_P(acc, p, i, y) VACC_PROD(acc, V_PLOAD(p, i), y)
#define V_ACC_SQ_P(acc, p, i)                                                      \
    do {                                                                           \
        const V w_ = V_PLOAD(p, i);                                                \
        VACC_PROD(acc, w_, w_);                                                    \
    } while (0)
#endif

#if PK == PK_NATIVE
#define S_PSTORE(p, i, x) (((T *)(p).a)[i] = (x))
#define V_PSTORE(p, i, x) VSTORE((T *)(p).a + (i), x)
#elif PK == PK_BF16
#define S_PSTORE(p, i, x) (U16((p).a)[i] = adamp_f32_to_bf16(x))
#define V_PSTORE(p, i, x) VBF16_STORE(U16((p).a) + (i), x)
#elif PK == PK_F16
#define S_PSTORE(p, i, x) (U16((p).a)[i] = adamp_f32_to_f16(x))
#define V_PSTORE(p, i, x) VF16_STORE(U16((p).a) + (i), x)
#elif PK == PK_MASTER_BF16 || PK == PK_MASTER_F16
#if PK == PK_MASTER_BF16
#define ADAMP_NARROW_S adamp_f32_to_bf16
#define ADAMP_NARROW_V VBF16_STORE
#else
#define ADAMP_NARROW_S adamp_f32_to_f16
#define ADAMP_NARROW_V VF16_STORE
#endif
#define S_PSTORE(p, i, x)                                                          \
    do {                                                                           \
        const T x_ = (x);                                                          \
        ((T *)(p).a)[i] = x_;                                                      \
        U16((p).b)[i] = ADAMP_NARROW_S(x_);                                        \
    } while (0)
#define V_PSTORE(p, i, x)                                                          \
    do {                                                                           \
        const V x_ = (x);                                                          \
        VSTORE((T *)(p).a + (i), x_);                                              \
        ADAMP_NARROW_V(U16((p).b) + (i), x_);                                      \
    } while (0)
#elif PK == PK_SPLIT
#define S_PSTORE(p, i, x) adamp_f32_to_split(x, U16((p).a) + (i), U16((p).b) + (i))
#define V_PSTORE(p, i, x) VSPLIT_STORE(U16((p).a) + (i), U16((p).b) + (i), x)
#endif

/* The state, kept as the parameter is without a master, else in T
 * (STATE_EXACT: whether a stored state value reads back as computed). */
#if PK == PK_BF16 || PK == PK_F16
#define STATE_EXACT 0
#else
#define STATE_EXACT 1
#endif
#if PK == PK_BF16
#define S_SLOAD(s, i) adamp_bf16_to_f32(U16(s)[i])
#define S_SSTORE(s, i, x) (U16(s)[i] = adamp_f32_to_bf16(x))
#define V_SLOAD(s, i) VBF16_LOAD(U16(s) + (i))
#define V_SSTORE(s, i, x) VBF16_STORE(U16(s) + (i), x)
#elif PK == PK_F16
#define S_SLOAD(s, i) adamp_f16_to_f32(U16(s)[i])
#define S_SSTORE(s, i, x) (U16(s)[i] = adamp_f32_to_f16(x))
#define V_SLOAD(s, i) VF16_LOAD(U16(s) + (i))
#define V_SSTORE(s, i, x) VF16_STORE(U16(s) + (i), x)
#else
#define S_SLOAD(s, i) (((const T *)(s))[i])
#define S_SSTORE(s, i, x) (((T *)(s))[i] = (x))
#define V_SLOAD(s, i) VLOAD((const T *)(s) + (i))
#define V_SSTORE(s, i, x) VSTORE((T *)(s) + (i), x)
#endif

/* The gradient. */
#if GK == GK_NATIVE
#define S_GLOAD(g, i) (((const T *)(g))[i])
#define V_GLOAD(g, i) VLOAD((const T *)(g) + (i))
#define V_GLOAD_FIRST(g, i, n) VLOAD_FIRST((const T *)(g) + (i), n)
#elif GK == GK_BF16
#define S_GLOAD(g, i) adamp_bf16_to_f32(((const uint16_t *)(g))[i])
#define V_GLOAD(g, i) VBF16_LOAD((const uint16_t *)(g) + (i))
#define V_GLOAD_FIRST(g, i, n) V16_FIRST(bf16, g, i, n)
#elif GK == GK_F16
#define S_GLOAD(g, i) adamp_f16_to_f32(((const uint16_t *)(g))[i])
#define V_GLOAD(g, i) VF16_LOAD((const uint16_t *)(g) + (i))
#define V_GLOAD_FIRST(g, i, n) V16_FIRST(f16, g, i, n)
#else
#error "storage.h: GK is not a gradient storage"
#endif
