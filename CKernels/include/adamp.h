/*
 * adamp.h: C kernels for the AdamP and SGDP optimizers (Heo et al., ICLR 2021),
 * exact to the official implementation (clovaai/AdamP, PyPI adamp 0.3.0), and
 * for the baselines they are compared against, Adam, AdamW and SGD, exact to
 * torch.optim (single-tensor path), on the same kernels and threads.
 *
 * Usable from C with no Swift: include this header, link the CAdamP library
 * (and libm). Every entry point validates all of its input before it writes
 * anything: a call that returns an error status has changed nothing.
 *
 * What the library checks: every pointer it needs is non-NULL, every enum
 * and hyperparameter is in range, every size is small enough
 * that no byte count, sum or offset it computes can overflow (see
 * ADAMP_E_INVALID_SIZE), the stats buffer is long enough, the config is in
 * range. What the caller guarantees, which no C library can check: each
 * non-NULL buffer really holds rows * cols elements (stats: stats_len
 * doubles) and stays valid for the call; the buffers of different tensors,
 * and a tensor's own buffers, do not overlap (the same memory in two
 * descriptors of one call is a data race); and no two calls run at once on
 * the same buffers, descriptors or stats (the library holds no global state,
 * so calls on disjoint data may run concurrently from different threads).
 *
 * Non-finite values are not checked (that would cost a pass over memory): a
 * NaN or Inf gradient element makes that element's parameter and state NaN
 * or Inf from then on, exactly as in PyTorch, and in AdamP and SGDP a NaN in
 * a row's statistics fails the cosine test, so that row's tensor is not
 * projected in that step (NaN never passes a threshold).
 *
 * ---------------------------------------------------------------------------
 * The algorithm, per parameter tensor p with gradient g (official order):
 *
 *   AdamP:  t += 1
 *           m  = beta1 * m + (1 - beta1) * g
 *           v  = beta2 * v + (1 - beta2) * g * g
 *           denom   = sqrt(v) / sqrt(1 - beta2^t) + eps
 *           perturb = m / denom                       (nesterov: (beta1*m + (1-beta1)*g) / denom)
 *           step    = lr / (1 - beta1^t)
 *   SGDP:   buf = momentum * buf + (1 - dampening) * g
 *           perturb = buf                             (nesterov: g + momentum * buf)
 *           step    = lr
 *
 *   Projection, only when p has more than one dimension: for the channel view
 *   (p as [shape[0], numel/shape[0]]) and then the layer view (p as [1, numel]),
 *   with PyTorch's cosine_similarity eps rule
 *           cos_r = |g_r . p_r| / (max(|g_r|, eps) * max(|p_r|, eps))
 *   the first view where every row has cos_r < delta / sqrt(view width) is
 *   scale-invariant; there, row by row,
 *           p_n = p_r / (|p_r| + eps)
 *           perturb_r -= p_n * (p_n . perturb_r)
 *   and the weight decay is scaled by wd_ratio (ratio = wd_ratio, else 1).
 *   For SGDP without nesterov, perturb IS the momentum buffer, so the
 *   projection is written back into buf (the official code's in-place effect).
 *
 *   Then:   p *= 1 - lr * weight_decay * ratio        (SGDP: divided by 1 - momentum)
 *           p -= step * perturb
 *
 * The baselines, as torch.optim computes them (no projection, no statistics):
 *
 *   all:    g = -g if maximize
 *   Adam:   g += weight_decay * p                     (coupled L2)
 *   AdamW:  p *= 1 - lr * weight_decay                (decoupled)
 *   Adam, AdamW:
 *           t += 1
 *           m  = lerp(m, g, 1 - beta1)
 *           v  = beta2 * v + (1 - beta2) * g * g
 *           amsgrad: vmax = max(vmax, v) (NaN wins, as torch.maximum); v_used = vmax
 *           p += (-lr / (1 - beta1^t)) * m / (sqrt(v_used) / (1 - beta2^t)^0.5 + eps)
 *   SGD:    g += weight_decay * p
 *           momentum != 0: buf = g on the tensor's first step (step == 0 on entry),
 *                          else buf = momentum * buf + (1 - dampening) * g;
 *                          g = nesterov ? g + momentum * buf : buf
 *           p -= lr * g
 *
 * Rounding: every tensor op is rounded to the element type as PyTorch rounds
 * it on x86-64, including the fused multiply-adds its CPU kernels use (add
 * with alpha, lerp, addcmul), so element-wise results are those of PyTorch.
 * Sums are not: the statistics and the projection's p_n . perturb_r (as
 * (p_r . perturb_r) / (|p_r| + eps)) take their products and sums in double,
 * where torch rounds each product and its running sum to the element type.
 * A tensor whose grad is NULL is skipped: its parameter, state and step count
 * are left exactly as they were.
 *
 * ---------------------------------------------------------------------------
 * Phases. adamp_step() runs three phases, which are public so that a sharded
 * optimizer can all-reduce the statistics between the first and the last.
 * Every phase takes a config (NULL: defaults) choosing the ISA and threads.
 *
 *   1. adamp_row_stats(): one pass reading p and g, giving for every row of
 *      every tensor of more than one dimension the sums  g.p, g.g, p.p
 *      (accumulated in double). The layer view's sums are the sums over rows,
 *      so this one pass decides both views. Sums, so they all-reduce by addition.
 *   2. adamp_decide(): the scale-invariance test, from the statistics only;
 *      writes each tensor's `projection` (no memory traffic over tensors).
 *   3. adamp_apply(): the moment update, the projection, the weight decay
 *      and the update; or adamp_apply_layer_begin() and _end(), the same
 *      split at the layer view's one sum over rows, for shards holding part
 *      of a tensor's rows. adamp_mpi.h (Distributed/CAdamPMPI) is such a
 *      sharded optimizer, over MPI, bitwise this library's step.
 *
 * Bytes moved per f32 parameter (4 per element read or written), counting a
 * channel-view row as re-read from cache in phase 3:
 *   AdamP, ndim <= 1 ..................... 28  (read p g m v, write p m v)
 *   AdamP, not projected / channel view .. 36  (+ phase 1: read p g)
 *   AdamP, layer view .................... 48  (phase 3 in two sweeps over the
 *                                              tensor: +read p m v, +write m v,
 *                                              nesterov +4 for g)
 *   SGDP,  ndim <= 1 ..................... 20  (read p g buf, write p buf)
 *   SGDP,  not projected / channel view .. 28
 *   SGDP,  layer view .................... 40  (sweep 2 re-reads buf and p, and
 *                                              writes p and buf; nesterov reads g
 *                                              instead of writing buf)
 *   Adam, AdamW .......................... 28  (amsgrad: 36, read and write vmax)
 *   SGD .................................. 20  (momentum 0: 12; first step: 16)
 * Double parameters move twice these numbers. bfloat16 and float16
 * parameters (ADAMP_DTYPES) move 2 bytes per element of each buffer stored
 * so (the parameter, the gradient, and without a master the state), 4 per
 * element of each float32 one (a master, float32 state, float32 gradients);
 * a split master's trail 2; with a master the parameter is only written.
 * Without a master, AdamP's layer view reads g and writes m and v in its
 * second sweep (+4), so as never to read a moment rounded to its storage.
 * In adamp_step(), a tensor
 * whose group's rule decides it (hparams.projection NEVER or CHANNEL: the
 * test then needs no statistics) takes its statistics in its update, one
 * sweep per row, and moves what an unprojected one of ndim <= 1 does (AdamP
 * 28, SGDP 20), if it has more than 16,384 elements and rows of at least
 * 256 bytes. Its results, statistics included, are the same bits. With the
 * paper's test (AUTO) the decision needs every row's statistics before any
 * row is updated, so AdamP reads p and g twice.
 */
#ifndef ADAMP_H
#define ADAMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the public entry points: the shared library is built with hidden
 *  visibility (-fvisibility=hidden), so that these are all it exports. */
#if defined(__GNUC__) || defined(__clang__)
#define ADAMP_API __attribute__((visibility("default")))
#else
#define ADAMP_API
#endif

/** The version of this header (semantic versioning: see CHANGELOG.md). */
#define ADAMP_VERSION_MAJOR 2
#define ADAMP_VERSION_MINOR 1
#define ADAMP_VERSION_PATCH 0

/** The version of the library linked at run time, "MAJOR.MINOR.PATCH": it
 *  may differ from the header's ADAMP_VERSION_* when a program is run against
 *  another build of the library. */
ADAMP_API const char *adamp_version(void);

/** Status codes. Every entry point returns one; anything but ADAMP_OK means
 *  nothing was written. */
typedef enum adamp_status {
    ADAMP_OK = 0,
    /** A required pointer is NULL: the tensor array, a tensor's param, its
     *  state buffer(s) (when it has a gradient), its hparams, or the stats. */
    ADAMP_E_NULL_POINTER = 1,
    /** One of a tensor's buffers would take
     *  more than PTRDIFF_MAX bytes (the largest C object); the statistics of
     *  the call's tensors with ndim > 1 would (3 doubles per row); the
     *  tensors with a gradient hold more than PTRDIFF_MAX bytes together;
     *  or, in a call that counts steps (the update), a step count is
     *  negative or INT64_MAX. Tensors without a gradient are checked too. */
    ADAMP_E_INVALID_SIZE = 2,
    /** The stats buffer is shorter than adamp_stats_len() says (or the
     *  workspace than adamp_grad_norms_len()). */
    ADAMP_E_STATS_TOO_SMALL = 3,
    /** A hyperparameter is out of range: see adamp_hparams_check(). */
    ADAMP_E_INVALID_HPARAM = 4,
    /** The dtype or algorithm argument is not one of the enums below. */
    ADAMP_E_INVALID_ENUM = 5,
    /** The config asks for an ISA that this CPU (or this build) does not have. */
    ADAMP_E_UNSUPPORTED_ISA = 6,
    /** The config's threads is negative or above ADAMP_MAX_THREADS, or its
     *  block is negative. */
    ADAMP_E_INVALID_CONFIG = 7,
    /** A state value no step writes (adamp_state_check()): not finite, or a
     *  negative second moment. */
    ADAMP_E_INVALID_STATE = 8,
} adamp_status;

/** Instruction sets the kernels are written for, chosen at run time. */
typedef enum adamp_isa {
    ADAMP_ISA_AUTO = 0,   /**< $ADAMP_ISA (scalar|avx2|avx512|avx512bf16) if set to one this CPU has,
                               else the best this CPU has; an unknown or unsupported
                               name is reported once on stderr and ignored */
    ADAMP_ISA_SCALAR = 1, /**< portable C: the reference the others are tested against */
    ADAMP_ISA_AVX2 = 2,   /**< x86-64 AVX2 + FMA */
    ADAMP_ISA_AVX512 = 3, /**< x86-64 AVX-512F */
    ADAMP_ISA_AVX512_BF16 = 4, /**< x86-64 AVX-512 with BF16 (Zen 4, Sapphire Rapids): AVX-512F's
                                    kernels, bfloat16 rounded by VCVTNEPS2BF16 (since 2.1.0) */
} adamp_isa;

/** How a call runs. Pass NULL for the defaults (all fields 0). Results are
 *  bitwise identical for any `threads` and `block`; `isa` changes only the
 *  rounding of sums (element-wise maths is the same in every variant). */
typedef struct adamp_config {
    adamp_isa isa;   /**< which kernels; ADAMP_ISA_AUTO (0) as described above */
    int32_t threads; /**< threads of the OpenMP runtime, 0 to ADAMP_MAX_THREADS;
                          0: its default (OMP_NUM_THREADS, else the cores, at most
                          ADAMP_MAX_THREADS); 1: the calling thread only. A call
                          uses no more than one thread per 16384 elements it
                          updates (and one below 131072, where a parallel
                          region costs more than it saves) */
    int64_t block;   /**< tensors are processed in blocks of about this many
                          elements: in adamp_step, statistics then update per
                          block, so that the update re-reads p and g from cache
                          (a tensor of at most 16384 elements is stepped whole,
                          statistics to update, by one thread);
                          in every call, a block's serial work (the decision,
                          step counting) overlaps other blocks' updates. Results
                          do not depend on it. 0: ADAMP_DEFAULT_BLOCK; negative:
                          ADAMP_E_INVALID_CONFIG */
} adamp_config;

#define ADAMP_DEFAULT_BLOCK (1 << 20)
/** The most threads a config may ask for. */
#define ADAMP_MAX_THREADS 1024

/** 1 if this CPU and this build have `isa` (ADAMP_ISA_AUTO: always 1). */
ADAMP_API int adamp_isa_supported(adamp_isa isa);
/** What `isa` resolves to: itself, or for ADAMP_ISA_AUTO the choice described above. */
ADAMP_API adamp_isa adamp_isa_selected(adamp_isa isa);
/** "auto", "scalar", "avx2", "avx512". */
ADAMP_API const char *adamp_isa_name(adamp_isa isa);
/** The number of threads a config with threads == 0 uses (at most
 *  ADAMP_MAX_THREADS). */
ADAMP_API int adamp_default_threads(void);

/* ---------------------------------------------------------------------------
 * The lists. Each fact below is written once, here, as an X-macro list, and
 * expanded into the enums and structs of this header, into the library's
 * tables (names, checks, the MPI layer's agreement) and, through
 * adamp_enum_entry() and adamp_field_describe(), into every binding's view:
 * adding an entry needs no edit anywhere else but its meaning. A list
 * X(...) is expanded by passing a macro X of as many arguments. */

/** Element types: X(SUFFIX, value, name, bytes) gives ADAMP_<SUFFIX>, named
 *  as PyTorch and NumPy name the type. A step's arithmetic is float64's for
 *  float64 parameters and float32's for the others: bfloat16 and float16
 *  are only how values are stored (loaded exactly, stored rounded to
 *  nearest, ties to even, a NaN kept a NaN). */
#define ADAMP_DTYPES(X)         \
    X(F32, 1, "float32", 4)     \
    X(F64, 2, "float64", 8)     \
    X(BF16, 3, "bfloat16", 2)   \
    X(F16, 4, "float16", 2)

/** How a bfloat16 or float16 parameter keeps its exact value, ADAMP_MASTER_<SUFFIX>:
 *  X(SUFFIX, value, name, buffer, element, dtypes): `buffer` names the state
 *  entry bindings keep the master's memory under, `element` its element type,
 *  `dtypes` the parameter dtypes that may keep it (a bit per adamp_dtype).
 *    OFF:     none: the parameter and its state are stored in its dtype, and
 *             each step is the float32 step of their widened values, each
 *             stored value rounded once (torch's fused Adam and AdamW on
 *             bfloat16 and float16 parameters compute exactly this);
 *    FLOAT32: a float32 master copy, which the step reads and writes, its
 *             state in float32; the parameter is written in the same pass
 *             as the master rounded. The master's trajectory is bitwise the
 *             float32 optimizer's given the same gradients;
 *    SPLIT:   (bfloat16 only) the float32 master is the parameter (its upper
 *             half) and a 16-bit trail (its lower half, uint16) the step
 *             keeps: the master's trajectory is the FLOAT32 one, bitwise, in
 *             2 bytes more per parameter, not 4, and the model sees the
 *             master truncated, not rounded. */
#define ADAMP_MASTERS(X)                                                                  \
    X(OFF, 0, "off", NULL, NULL, ~0u)                                                     \
    X(FLOAT32, 1, "float32", "master_param", "float32", (1u << ADAMP_BF16) | (1u << ADAMP_F16)) \
    X(SPLIT, 2, "split", "master_trail", "uint16", 1u << ADAMP_BF16)

/** What the projection did to a tensor in the last call, ADAMP_PROJ_<SUFFIX>
 *  (codes as recorded in the reference fixtures): X(SUFFIX, value, name).
 *    SKIPPED: no gradient: the tensor was left untouched;
 *    NONE:    not scale-invariant (or ndim <= 1, no elements, or an
 *             algorithm without projection);
 *    CHANNEL: projected per output channel;
 *    LAYER:   projected over the whole tensor. */
#define ADAMP_PROJECTIONS(X)        \
    X(SKIPPED, -1, "skipped")       \
    X(NONE, 0, "none")              \
    X(CHANNEL, 1, "channel")        \
    X(LAYER, 2, "layer")

/** Which projection a group's tensors (of more than one dimension) get,
 *  ADAMP_PROJECT_<SUFFIX>: X(SUFFIX, value, name).
 *    AUTO:    the scale-invariance test decides (the default);
 *    NEVER:   never projected (e.g. biases, norm gains, embeddings);
 *    CHANNEL: always the channel view (weights behind a normalisation, which
 *             the test would project every step: their step then takes one
 *             sweep, not two; see "Bytes moved");
 *    LAYER:   always the layer view. */
#define ADAMP_PROJECTION_RULES(X)   \
    X(AUTO, 0, "auto")              \
    X(NEVER, 1, "never")            \
    X(CHANNEL, 2, "channel")        \
    X(LAYER, 3, "layer")

/** The hyperparameters of a group, adamp_hparams' members in this order:
 *  X(FIELD, type, member, name, own, rule, torch_rule).
 *    FIELD:  its adamp_field, ADAMP_FIELD_<FIELD> (numbered from 1 in order);
 *    type:   double, or int32_t for a flag (0 or 1) or a choice (an enum);
 *    member: its adamp_hparams member;
 *    name:   as the official code and torch.optim spell it in a group
 *            ("betas[0]": the first of the pair `betas`);
 *    own:    1 for this library's own fields, which PyTorch's groups do not
 *            have (a group without one takes 0, its default);
 *    rule, torch_rule: the values it takes in the official AdamP and SGDP
 *            (which divide by 1 - momentum), and in torch.optim's Adam,
 *            AdamW and SGD (adamp_hparams_check()): NONNEG (finite, >= 0),
 *            UNIT_OPEN (finite, in [0, 1)), UNIT_CLOSED ([0, 1]), FINITE,
 *            BOOL (0 or 1), PROJECTION_RULE (an adamp_projection_rule).
 *  Which algorithms read each field is adamp_field_used(). The doubles come
 *  first, so that the struct has no padding; a new field goes at the end of
 *  its type's run, and is an ABI change (CHANGELOG). lr is in parameter
 *  units per unit of update; every other field is dimensionless. */
#define ADAMP_HPARAMS(X)                                                                          \
    X(LR, double, lr, "lr", 0, NONNEG, NONNEG)                       /* learning rate */           \
    X(BETA1, double, beta1, "betas[0]", 0, UNIT_OPEN, UNIT_OPEN)     /* first-moment decay */      \
    X(BETA2, double, beta2, "betas[1]", 0, UNIT_OPEN, UNIT_OPEN)     /* second-moment decay */     \
    X(MOMENTUM, double, momentum, "momentum", 0, UNIT_OPEN, NONNEG)  /* SGD: 0, no buffer */        \
    X(DAMPENING, double, dampening, "dampening", 0, UNIT_OPEN, FINITE)                             \
    X(EPS, double, eps, "eps", 0, NONNEG, NONNEG)                    /* Adam's denominator; the    \
                                                                        cosine's and p_n's eps */  \
    X(WEIGHT_DECAY, double, weight_decay, "weight_decay", 0, NONNEG, NONNEG) /* AdamP, SGDP, AdamW: \
                                                                        decoupled; Adam, SGD: L2 */ \
    X(DELTA, double, delta, "delta", 0, NONNEG, NONNEG)              /* scale-invariance threshold */ \
    X(WD_RATIO, double, wd_ratio, "wd_ratio", 0, UNIT_CLOSED, UNIT_CLOSED) /* weight-decay factor  \
                                                                        of projected tensors */    \
    X(NESTEROV, int32_t, nesterov, "nesterov", 0, BOOL, BOOL)        /* SGD: needs momentum > 0    \
                                                                        and dampening == 0 */      \
    X(AMSGRAD, int32_t, amsgrad, "amsgrad", 0, BOOL, BOOL)           /* needs the tensor's state2 */ \
    X(MAXIMIZE, int32_t, maximize, "maximize", 0, BOOL, BOOL)        /* ascend the gradient */     \
    X(PROJECTION, int32_t, projection, "projection", 1, PROJECTION_RULE, PROJECTION_RULE) /* 0:    \
                                                                        AUTO, the paper's test */

/* The expansions this header makes of the lists. */
#define ADAMP_DTYPE_VALUE_(suffix, value, ...) ADAMP_##suffix = value,
#define ADAMP_PROJECTION_VALUE_(suffix, value, ...) ADAMP_PROJ_##suffix = value,
#define ADAMP_PROJECTION_RULE_VALUE_(suffix, value, ...) ADAMP_PROJECT_##suffix = value,
#define ADAMP_MASTER_VALUE_(suffix, value, ...) ADAMP_MASTER_##suffix = value,
#define ADAMP_FIELD_VALUE_(field, ...) ADAMP_FIELD_##field,
#define ADAMP_HPARAM_MEMBER_(field, type, member, ...) type member;

/** Element type of every buffer of the tensors passed to one call. */
typedef enum adamp_dtype { ADAMP_DTYPES(ADAMP_DTYPE_VALUE_) } adamp_dtype;

/** Which update rule a call applies. */
typedef enum adamp_algorithm {
    ADAMP_ALGO_ADAMP = 1, /**< official AdamP: projects, needs stats */
    ADAMP_ALGO_SGDP = 2,  /**< official SGDP: projects, needs stats */
    ADAMP_ALGO_ADAM = 3,  /**< torch.optim.Adam: L2 weight decay, amsgrad, maximize */
    ADAMP_ALGO_ADAMW = 4, /**< torch.optim.AdamW: decoupled weight decay, amsgrad, maximize */
    ADAMP_ALGO_SGD = 5,   /**< torch.optim.SGD: momentum, dampening, L2, nesterov, maximize */
} adamp_algorithm;

/** ADAMP_PROJECTIONS. */
typedef enum adamp_projection { ADAMP_PROJECTIONS(ADAMP_PROJECTION_VALUE_) } adamp_projection;

/** Hyperparameters of one parameter group (ADAMP_HPARAMS). One struct serves
 *  every algorithm; each reads only its own fields (adamp_field_used(): the
 *  others are ignored and not checked). */
typedef struct adamp_hparams { ADAMP_HPARAMS(ADAMP_HPARAM_MEMBER_) } adamp_hparams;

/** ADAMP_PROJECTION_RULES. */
typedef enum adamp_projection_rule { ADAMP_PROJECTION_RULES(ADAMP_PROJECTION_RULE_VALUE_) } adamp_projection_rule;

/** ADAMP_MASTERS. */
typedef enum adamp_master { ADAMP_MASTERS(ADAMP_MASTER_VALUE_) } adamp_master;

/** One parameter tensor and its optimizer state. The buffers hold
 *  rows * cols elements of the call's dtype, contiguous, row-major.
 *  `rows` is shape[0] and `cols` the product of the other dimensions; a
 *  tensor of 0 or 1 dimensions may use rows = 1, cols = numel. A tensor may
 *  have no elements (rows or cols 0, as a shape with a dimension of 0
 *  gives): none of its buffers is read or written, so param and the states
 *  may be NULL, and grad says only whether it has a gradient (any non-NULL
 *  address: then its step is counted and its projection is NONE). */
typedef struct adamp_tensor {
    void *param;               /**< in/out: the parameter */
    const void *grad;          /**< in: gradient, or NULL to skip this tensor */
    void *state0;              /**< in/out: AdamP, Adam, AdamW exp_avg; SGDP, SGD
                                    momentum buffer (SGD with momentum 0: neither
                                    read nor written, may be NULL, as torch keeps
                                    none). Zero-filled before the first step. */
    void *state1;              /**< in/out: AdamP, Adam, AdamW exp_avg_sq;
                                    otherwise unused, may be NULL. Zero-filled. */
    void *state2;              /**< in/out: Adam, AdamW with amsgrad: max_exp_avg_sq;
                                    otherwise unused, may be NULL. Zero-filled. */
    const adamp_hparams *hparams; /**< the tensor's group hyperparameters */
    size_t rows;               /**< channel-view rows (shape[0]) */
    size_t cols;               /**< channel-view width (numel / shape[0]) */
    int32_t ndim;              /**< number of dimensions; projection needs > 1 */
    int32_t projection;        /**< out: an adamp_projection code */
    int64_t step;              /**< in/out: steps taken with a gradient, >= 0;
                                    incremented for each tensor that has one. SGD
                                    starts its buffer from the gradient when it is 0. */
} adamp_tensor;

/** The state buffers of a tensor (adamp_tensor's state0, state1, state2), by
 *  what they hold; adamp_state_count() says how many a step uses and
 *  adamp_state_name() how PyTorch's state dict names them. */
enum {
    ADAMP_MAX_STATES = 3,
    ADAMP_STATE_EXP_AVG = 0,        /**< AdamP, Adam, AdamW: first moment (state0) */
    ADAMP_STATE_EXP_AVG_SQ = 1,     /**< AdamP, Adam, AdamW: second moment (state1) */
    ADAMP_STATE_MAX_EXP_AVG_SQ = 2, /**< Adam, AdamW with amsgrad: running max of the second moment (state2) */
    ADAMP_STATE_MOMENTUM = 0,       /**< SGDP, SGD: momentum buffer (state0) */
};

/** "adamp", "sgdp", "adam", "adamw", "sgd"; "unknown" for any other value. */
ADAMP_API const char *adamp_algorithm_name(adamp_algorithm algorithm);

/** 1 if `algorithm` projects (AdamP, SGDP: it needs the stats buffer and
 *  fills it), 0 if not or unknown. */
ADAMP_API int adamp_algorithm_projects(adamp_algorithm algorithm);

/** How many state buffers a step of `algorithm` under `h` reads and writes:
 *  always the first ones, state0 up to state[n-1] (AdamP 2; SGDP 1; Adam and
 *  AdamW 2, 3 with amsgrad; SGD 1, 0 with momentum 0). The tensors of a call
 *  need exactly these (the others may be NULL and are never touched).
 *  -1 if the algorithm is not valid or h is NULL. */
ADAMP_API int adamp_state_count(adamp_algorithm algorithm, const adamp_hparams *h);

/** The name PyTorch's state dict gives state buffer `slot` (0 to
 *  ADAMP_MAX_STATES - 1) of `algorithm` ("exp_avg", "momentum_buffer", ...),
 *  or NULL where it has none. */
ADAMP_API const char *adamp_state_name(adamp_algorithm algorithm, int slot);

/** Checks `count` values of state buffer `slot` (as adamp_state_name()
 *  numbers them) of `algorithm`, e.g. read from a checkpoint, for what no
 *  step from finite gradients writes: a value that is not finite, or a
 *  negative one in a second moment (exp_avg_sq, max_exp_avg_sq; -0 is
 *  not negative). Returns ADAMP_OK, or ADAMP_E_INVALID_STATE with *index (if
 *  index is not NULL) the first such value; ADAMP_E_INVALID_ENUM for an
 *  unknown algorithm, dtype or slot; ADAMP_E_NULL_POINTER if values is NULL
 *  and count > 0. Reads only the values. */
ADAMP_API adamp_status adamp_state_check(adamp_algorithm algorithm, int slot, adamp_dtype dtype, const void *values,
                                         size_t count, size_t *index);

/** A hyperparameter (ADAMP_HPARAMS), e.g. the one adamp_hparams_check()
 *  found out of range; ADAMP_FIELD_END is one past the last. */
typedef enum adamp_field { ADAMP_FIELD_NONE = 0, ADAMP_HPARAMS(ADAMP_FIELD_VALUE_) ADAMP_FIELD_END } adamp_field;

/** Checks the fields `algorithm` uses (ranges as torch.optim checks them for
 *  Adam, AdamW and SGD, and finite). Returns ADAMP_OK, or
 *  ADAMP_E_INVALID_HPARAM with *field (if field is not NULL) naming the first
 *  bad one and *rule (if rule is not NULL) a static text such as
 *  "must be finite and in [0, 1)". ADAMP_E_NULL_POINTER if h is NULL. */
ADAMP_API adamp_status adamp_hparams_check(adamp_algorithm algorithm, const adamp_hparams *h,
                                 adamp_field *field, const char **rule);

/** 1 if a step of `algorithm` reads `field` (the others are ignored, and
 *  not checked), 0 if not or either is unknown. E.g. for comparing two
 *  groups by what the algorithm does with them (adamp_mpi.h does). */
ADAMP_API int adamp_field_used(adamp_algorithm algorithm, adamp_field field);

/** The name of a field as the official Python code spells it ("lr", "betas[0]", ...). */
ADAMP_API const char *adamp_field_name(adamp_field field);

/** How a field is held (adamp_field_describe()). */
typedef enum adamp_field_kind {
    ADAMP_FIELD_REAL = 1,   /**< a double */
    ADAMP_FIELD_FLAG = 2,   /**< an int32_t, 0 or 1 */
    ADAMP_FIELD_CHOICE = 3, /**< an int32_t holding an enum's value (projection: an adamp_projection_rule) */
} adamp_field_kind;

/** A field as ADAMP_HPARAMS lists it, for bindings that build their view of
 *  adamp_hparams from it rather than restate it. */
typedef struct adamp_field_info {
    adamp_field field;
    const char *member; /**< its adamp_hparams member, e.g. "beta1" */
    const char *name;   /**< adamp_field_name(), e.g. "betas[0]" */
    size_t offset;      /**< offsetof(adamp_hparams, member) */
    int32_t kind;       /**< an adamp_field_kind */
    int32_t own;        /**< 1: this library's own, not in PyTorch's groups (default 0) */
} adamp_field_info;

/** The description of `field` (static), or NULL if it is not one: fields
 *  are 1 to ADAMP_FIELD_END - 1. */
ADAMP_API const adamp_field_info *adamp_field_describe(adamp_field field);

/** Field `field` of *h as a double (a flag or a choice exactly); NaN if h
 *  is NULL or field is not one. */
ADAMP_API double adamp_hparams_get(const adamp_hparams *h, adamp_field field);

/** Sets field `field` of *h to `value`, checking no rule (that is
 *  adamp_hparams_check()'s). ADAMP_E_NULL_POINTER if h is NULL;
 *  ADAMP_E_INVALID_ENUM if field is not one; ADAMP_E_INVALID_HPARAM, *h
 *  unchanged, if the field is an int32_t and value is not a whole number
 *  an int32_t holds. */
ADAMP_API adamp_status adamp_hparams_set(adamp_hparams *h, adamp_field field, double value);

/** "float32", "float64", "bfloat16", "float16" (ADAMP_DTYPES); "unknown" for any other value. */
ADAMP_API const char *adamp_dtype_name(adamp_dtype dtype);
/** Bytes of one element of `dtype`; 0 if it is not one. */
ADAMP_API size_t adamp_dtype_size(adamp_dtype dtype);
/** "skipped", "none", "channel", "layer" (ADAMP_PROJECTIONS); "unknown" otherwise. */
ADAMP_API const char *adamp_projection_name(adamp_projection projection);
/** "auto", "never", "channel", "layer" (ADAMP_PROJECTION_RULES); "unknown" otherwise. */
ADAMP_API const char *adamp_projection_rule_name(adamp_projection_rule rule);
/** "off", "float32", "split" (ADAMP_MASTERS); "unknown" otherwise. */
ADAMP_API const char *adamp_master_name(adamp_master master);
/** A master's buffer, as ADAMP_MASTERS lists it: *name its state entry
 *  ("master_param", "master_trail") and *element its element type
 *  ("float32", "uint16"), each NULL for OFF or a value that is not one (either
 *  pointer may be NULL). Since 2.1. */
ADAMP_API void adamp_master_buffer(adamp_master master, const char **name, const char **element);
/** 1 if parameters of `dtype` may keep `master` (OFF: every dtype; FLOAT32:
 *  bfloat16 and float16; SPLIT: bfloat16), else 0. Since 2.1. */
ADAMP_API int adamp_master_takes(adamp_master master, adamp_dtype dtype);
/** The dtype of a step's state buffers for parameters of `dtype` keeping
 *  `master`: float32 with a master, else `dtype`; 0 if the pair is not one
 *  adamp_master_takes(). Since 2.1. */
ADAMP_API adamp_dtype adamp_state_dtype(adamp_dtype dtype, adamp_master master);

/** The enums adamp_enum_entry() lists. */
typedef enum adamp_enum {
    ADAMP_ENUM_ALGORITHM = 1,
    ADAMP_ENUM_DTYPE = 2,
    ADAMP_ENUM_ISA = 3,
    ADAMP_ENUM_PROJECTION = 4,
    ADAMP_ENUM_PROJECTION_RULE = 5,
    ADAMP_ENUM_FIELD = 6,
    ADAMP_ENUM_MASTER = 7,
} adamp_enum;

/** Entry `index` (from 0) of enum `e`: *value and *name (as that enum's
 *  *_name() function gives it; either pointer may be NULL). Returns 1, or 0
 *  past the last entry or for an unknown enum, writing nothing. Bindings
 *  build their tables from it rather than restate the values. */
ADAMP_API int adamp_enum_entry(adamp_enum e, size_t index, int32_t *value, const char **name);

/** A static English description of a status code. */
ADAMP_API const char *adamp_status_string(adamp_status status);

/** The stats buffer's layout, per channel-view row (adamp_stats_len()). */
enum {
    ADAMP_STAT_GP = 0,           /**< a row's statistics: g.p, */
    ADAMP_STAT_GG = 1,           /**< g.g */
    ADAMP_STAT_PP = 2,           /**< and p.p */
    ADAMP_STATS_PER_ROW = 3,     /**< doubles of statistics per row, in the buffer's first half */
    ADAMP_STATS_LEN_PER_ROW = 6, /**< doubles of buffer per row: statistics and the update's scratch */
};

/** Number of doubles the stats buffer needs: 6 per channel-view row of every
 *  tensor with ndim > 1 and any elements (whether or not it has a gradient
 *  this step). The
 *  first half holds the statistics, in tensor order, [g.p, g.g, p.p] per row
 *  (3 * R doubles for R rows in all: what a sharded optimizer all-reduces);
 *  the second half is the update's own scratch. 0 if tensors is NULL.
 *  SIZE_MAX if they would take more than PTRDIFF_MAX bytes, which no buffer
 *  can hold (a step over such tensors returns ADAMP_E_INVALID_SIZE): the
 *  result never wraps to a short length. */
ADAMP_API size_t adamp_stats_len(const adamp_tensor *tensors, size_t count);

/** Phase 1 (AdamP, SGDP only): fills the stats of every tensor with ndim > 1
 *  and a gradient (rows of tensors without one are left as they were). The
 *  other algorithms need no statistics: pass stats = NULL, stats_len = 0. */
ADAMP_API adamp_status adamp_row_stats(const adamp_config *config, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                             double *stats, size_t stats_len);

/** Phase 2: sets each tensor's `projection` from the stats: SKIPPED for a
 *  NULL grad, NONE for ndim <= 1, no elements or an algorithm without
 *  projection (which reads no stats), else the first view that passes the
 *  test. Reads no buffer of the tensors (their state may be NULL).
 *  `dtype` is the tensors' element type: the cosine and the threshold are
 *  rounded to it before they are compared, as PyTorch compares them. */
ADAMP_API adamp_status adamp_decide(adamp_algorithm algorithm, adamp_dtype dtype, adamp_tensor *tensors,
                          size_t count, const double *stats, size_t stats_len);

/** Phase 3: the update, using each tensor's `projection` and the statistics
 *  (which give the row norms of p). Increments `step` of each tensor with a
 *  gradient. Reads the statistics and leaves them as they were (it writes
 *  only the stats buffer's scratch half). Algorithms without projection ignore the incoming
 *  `projection`, set it as adamp_decide() would, and read no stats. */
ADAMP_API adamp_status adamp_apply(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                         adamp_tensor *tensors, size_t count, double *stats, size_t stats_len);

/** One optimizer step over `count` tensors: the three phases above, fused
 *  into one parallel region that works through cache-sized blocks of tensors.
 *  `stats` is caller-owned, at least adamp_stats_len() doubles (it may be
 *  NULL when that is 0); afterwards its first half holds the step's
 *  statistics (as adamp_row_stats() gives them; rows of tensors without a
 *  gradient are left as they were, and with adamp_step_ex()'s drop_stats
 *  those of small tensors), e.g. for diagnostics. count == 0 is a no-op
 *  returning ADAMP_OK. */
ADAMP_API adamp_status adamp_step(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                        adamp_tensor *tensors, size_t count, double *stats, size_t stats_len);

/** Per-call options of adamp_step_ex(). Set `size` to sizeof(adamp_step_options):
 *  a field beyond the caller's `size` bytes takes its default, so that
 *  programs built against this header keep working when fields are added. */
typedef struct adamp_step_options {
    size_t size;     /**< sizeof(adamp_step_options) */
    double grad_mul; /**< every gradient element is multiplied by this, rounded to
                          the dtype, before anything reads it (the statistics too),
                          as an in-place `g.mul_()` would leave it, but without a
                          pass over memory: e.g. 1 / loss scale times a clipping
                          coefficient. Finite, >= 0; default 1 (exactly as is). */
    int32_t drop_stats; /**< 0 (default): afterwards the stats buffer's first half
                          holds the step's statistics, e.g. for adamp_diagnose().
                          1: the statistics of the tensors the step takes whole
                          (at most 16,384 elements and 256 rows each), and of
                          the tensors whose group's rule decides their
                          projection (hparams `projection` NEVER or CHANNEL),
                          may be left out of it, their rows holding what they
                          held; nothing else changes, bitwise. For callers that
                          do not read them: a [64, 8] weight's statistics are
                          1,536 bytes written beside the 14,336 its step must
                          move, and a rule-decided weight needs at most |p| of
                          each row, not the products with g.
                          adamp_step_ex() only; 0 or 1. */
    int32_t grad_dtype; /**< the gradients' adamp_dtype, 0 (default): the call's
                          dtype. float64 parameters take float64 gradients; the
                          others take float32, bfloat16 or float16 ones (e.g.
                          float32 parameters, bfloat16 gradients, as offloaded
                          training receives them). Since 2.1. */
    int32_t master;     /**< an adamp_master (default ADAMP_MASTER_OFF): FLOAT32
                          for bfloat16 and float16 parameters, SPLIT for bfloat16
                          ones. With a master, the state buffers are float32.
                          Since 2.1. */
    void *const *masters; /**< with a master: per tensor of the call (index as
                          `tensors`), its float32 master (FLOAT32) or its uint16
                          trail (SPLIT), rows * cols elements, the tensor's own
                          memory as its state is; NULL where a tensor has no
                          gradient or no elements. Since 2.1. */
} adamp_step_options;

/** The options a call takes from `options` (NULL: none given) into *out:
 *  each field the caller's struct holds (by its `size`), the others at their
 *  defaults; out->size = sizeof(adamp_step_options). ADAMP_E_INVALID_CONFIG
 *  if one is out of range, as adamp_step_ex() checks them (*out is then
 *  written but not valid); ADAMP_E_NULL_POINTER if out is NULL. */
ADAMP_API adamp_status adamp_step_options_resolve(const adamp_step_options *options, adamp_step_options *out);

/** adamp_step() with options (NULL: the defaults, which is adamp_step()).
 *  ADAMP_E_INVALID_CONFIG if an option is out of range. */
ADAMP_API adamp_status adamp_step_ex(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                           adamp_tensor *tensors, size_t count, double *stats, size_t stats_len,
                           const adamp_step_options *options);

/** Every check adamp_step_ex() makes on the same arguments, and nothing
 *  else: it reads them and writes nothing. ADAMP_OK exactly when that step
 *  would run, and then it cannot fail. A caller stepping several batches
 *  (e.g. float32 and float64 tensors, one call each) validates them all
 *  first, so that a step is all or nothing across the batches. */
ADAMP_API adamp_status adamp_validate(const adamp_config *config, adamp_algorithm algorithm, adamp_dtype dtype,
                                      const adamp_tensor *tensors, size_t count, const double *stats,
                                      size_t stats_len, const adamp_step_options *options);

/** adamp_row_stats() with options: the statistics of the gradients as
 *  multiplied by options->grad_mul, as adamp_step_ex() computes them. */
ADAMP_API adamp_status adamp_row_stats_ex(const adamp_config *config, adamp_dtype dtype, const adamp_tensor *tensors,
                                          size_t count, double *stats, size_t stats_len,
                                          const adamp_step_options *options);

/** Phase 3 in two halves, for a sharded optimizer whose tensors are slices of
 *  whole rows of larger tensors (adamp_mpi.h builds on these). A tensor
 *  projected in the layer view needs two sums over ALL the rows of the tensor
 *  it is a slice of: its p.p (from the statistics) and the projection
 *  coefficient s, a sum of one part per row that exists only after the
 *  moment update. A sharded caller combines them across shards between the
 *  halves; for tensors of any other projection the first half does the whole
 *  update, and the second does nothing.
 *
 *  adamp_apply_layer_begin(): as adamp_apply() (with options->grad_mul as in
 *  adamp_step_ex()), except that for each tensor i with a gradient and
 *  projection ADAMP_PROJ_LAYER it takes the layer's p.p from layer_pp[i]
 *  instead of summing the tensor's own rows, computes the moments, and writes
 *  each row's part of s to row_s[k] (k: the row's index among the stats rows
 *  of the call, as in the stats buffer; adamp_stats_len() / 6 doubles),
 *  without changing the parameter. Counts the step of every tensor with a
 *  gradient.
 *
 *  adamp_apply_layer_end(): with the same tensors, stats, options and
 *  layer_pp, and layer_s[i] = s of each layer-projected tensor, finishes their
 *  update (the moments stored by one half or the other); counts nothing.
 *
 *  For a tensor that is whole, layer_pp[i] = the sum of its rows' p.p in row
 *  order and layer_s[i] = the sum of its row_s in row order give bitwise the
 *  result of adamp_apply(). layer_pp (and row_s, layer_s) may be NULL when no
 *  tensor is projected in the layer view (ADAMP_E_NULL_POINTER otherwise). */
ADAMP_API adamp_status adamp_apply_layer_begin(const adamp_config *config, adamp_algorithm algorithm,
                                               adamp_dtype dtype, adamp_tensor *tensors, size_t count,
                                               double *stats, size_t stats_len, const adamp_step_options *options,
                                               const double *layer_pp, double *row_s);
ADAMP_API adamp_status adamp_apply_layer_end(const adamp_config *config, adamp_algorithm algorithm,
                                             adamp_dtype dtype, adamp_tensor *tensors, size_t count, double *stats,
                                             size_t stats_len, const adamp_step_options *options,
                                             const double *layer_pp, const double *layer_s);

/** Doubles of workspace adamp_grad_norms() needs: 2 per 16,384 elements of
 *  every tensor (with a gradient or not). 0 if tensors is NULL; SIZE_MAX if
 *  a size overflows. */
ADAMP_API size_t adamp_grad_norms_len(const adamp_tensor *tensors, size_t count);

/** One threaded pass over the gradients: for each tensor with one,
 *  sumsq[i] = the sum of its elements' squares (accumulated in double, in an
 *  order that does not depend on the number of threads) and maxabs[i] = the
 *  largest |g|, which is NaN if the gradient holds a NaN and +Inf if it holds
 *  an infinity (so !isfinite(maxabs[i]) is PyTorch's found_inf); 0 and 0 for
 *  a tensor without one. The global 2-norm is sqrt(sum of sumsq), the
 *  infinity-norm the max of maxabs. Reads only the gradients; writes only
 *  sumsq, maxabs (count each) and work (at least adamp_grad_norms_len()
 *  doubles). Clipping then costs no second pass: pass the coefficient as
 *  adamp_step_options.grad_mul. */
ADAMP_API adamp_status adamp_grad_norms(const adamp_config *config, adamp_dtype dtype, const adamp_tensor *tensors,
                              size_t count, double *sumsq, double *maxabs, double *work, size_t work_len);

/** What AdamP's and SGDP's scale-invariance test saw for one tensor in the
 *  last step, read from the statistics the step computed (no pass over the
 *  tensors). The test projects the channel view if channel_cosine <
 *  channel_threshold, else the layer view if layer_cosine < layer_threshold.
 *  Cosines and thresholds are as compared (PyTorch's cosine_similarity eps
 *  rule, rounded to the dtype); NaN where there is nothing to say (ndim <= 1,
 *  no gradient, or an algorithm without projection). */
typedef struct adamp_diagnostics {
    int32_t projection;       /**< the tensor's `projection` after the step */
    double channel_cosine;    /**< the largest |cos(g_r, p_r)| over its rows */
    double channel_threshold; /**< delta / sqrt(cols) */
    double layer_cosine;      /**< |cos(g, p)| over the whole tensor */
    double layer_threshold;   /**< delta / sqrt(rows * cols) */
    double weight_norm;       /**< |p| before the step */
    double grad_norm;         /**< |g| as the step used it (after grad_mul) */
} adamp_diagnostics;

/** Fills out[i] for each tensor from the stats of the last adamp_step() (or
 *  adamp_row_stats() and adamp_decide()) over the same tensors and stats:
 *  the first half of the stats buffer holds them after a step (one without
 *  adamp_step_options.drop_stats). */
ADAMP_API adamp_status adamp_diagnose(adamp_algorithm algorithm, adamp_dtype dtype, const adamp_tensor *tensors, size_t count,
                            const double *stats, size_t stats_len, adamp_diagnostics *out);

#ifdef __cplusplus
}
#endif

#endif /* ADAMP_H */
