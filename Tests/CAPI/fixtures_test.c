/* Every recorded trajectory replayed through the C API alone: the official
 * AdamP/SGDP and torch.optim fixtures of ../shared/fixtures (float32 and
 * float64; $ADAMP_FIXTURES elsewhere) and the 16-bit ones of
 * Tests/Fixtures/precision (record.py there) in every mode, under every ISA
 * this CPU has. Each step's projections as recorded; the parameters after
 * each step and the final state within the Swift replay's tolerances (SGD
 * bitwise); without a master the 16-bit values within 2 ulps in at most
 * 0.5% of the elements; with one the master as a float32 fixture and the
 * parameter its rounding (FLOAT32) or upper half (SPLIT). */
#define _DEFAULT_SOURCE /* dirent's d_name sorting helpers */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../../CKernels/src/convert.h"
#include "adamp.h"
#include "check.h"
#include "safetensors.h"

enum { MAXP = 64 };

/* The value of the entry of enum e named `name` (any case), or -1. */
static int32_t named(adamp_enum e, const char *name) {
    int32_t v;
    const char *n;
    for (size_t i = 0; adamp_enum_entry(e, i, &v, &n); i++)
        if (!strcasecmp(n, name)) return v;
    return -1;
}

/* Element i (of `size` bytes) of a buffer, which in a file need not be
 * aligned. */
static void element(void *out, const void *b, size_t i, size_t size) { memcpy(out, (const char *)b + i * size, size); }

/* Element i of a buffer of safetensors dtype `d`, widened. */
static double widen(const char *d, const void *b, size_t i) {
    double x;
    float y;
    uint16_t h;
    if (!strcmp(d, "F64")) return element(&x, b, i, 8), x;
    if (!strcmp(d, "F32")) return element(&y, b, i, 4), y;
    element(&h, b, i, 2);
    return !strcmp(d, "BF16") ? adamp_bf16_to_f32(h) : adamp_f16_to_f32(h);
}

/* Element i of 16-bit values as an integer in the order of the values: ulps apart. */
static long ordered(const void *b, size_t i) {
    uint16_t h;
    element(&h, b, i, 2);
    return h & 0x8000 ? -(long)(h & 0x7fff) : (long)h;
}

/* How a replay compares: relative error |a - b| / (|b| + 1e-3) within tol;
 * 16-bit values in ulps, counted. */
typedef struct {
    double tol;
    long worst, differ, total;
} compare;

static int close_to(compare *c, const char *d, const void *ours, const void *ref, size_t n) {
    if (!strcmp(d, "BF16") || !strcmp(d, "F16")) {
        for (size_t i = 0; i < n; i++) {
            const long u = labs(ordered(ours, i) - ordered(ref, i));
            c->worst = u > c->worst ? u : c->worst, c->differ += u > 0;
        }
        c->total += (long)n;
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const double a = widen(d, ours, i), b = widen(d, ref, i);
        if (!(fabs(a - b) / (fabs(b) + 1e-3) <= c->tol)) return 0;
    }
    return 1;
}

/* Replays file `path` under isa with master mode m; 0 if it is not a fixture. */
static int replay(const char *path, adamp_isa isa, adamp_master m) {
    safetensors f;
    if (!safetensors_open(&f, path)) return 0;
    const char *dname = safetensors_meta(&f, "dtype"), *opt = safetensors_meta(&f, "optimizer");
    const int32_t algo = named(ADAMP_ENUM_ALGORITHM, opt), dt = named(ADAMP_ENUM_DTYPE, dname);
    jv params = json_parse(safetensors_meta(&f, "params")), hp = json_parse(safetensors_meta(&f, "hparams"));
    jv decisions = json_parse(safetensors_meta(&f, "projection"));
    const int steps = atoi(safetensors_meta(&f, "steps")), narrow = dt == ADAMP_BF16 || dt == ADAMP_F16;
    CHECK(algo > 0 && dt > 0 && params.n <= MAXP);
    adamp_hparams h = {0};
    for (size_t i = 0; i < hp.n; i++) {
        const jv *v = &hp.items[i];
        char key[64];
        for (size_t j = 0; j < (v->t == J_ARR ? v->n : 1); j++) {
            snprintf(key, sizeof key, v->t == J_ARR ? "%s[%zu]" : "%s", hp.keys[i], j);
            const int32_t field = named(ADAMP_ENUM_FIELD, key);
            CHECK(field >= 0 && adamp_hparams_set(&h, (adamp_field)field, (v->t == J_ARR ? v->items[j] : *v).num) == ADAMP_OK);
        }
    }
    const adamp_dtype sd = adamp_state_dtype((adamp_dtype)dt, m);
    const size_t size = adamp_dtype_size((adamp_dtype)dt), ssize = adamp_dtype_size(sd);
    const int nstate = adamp_state_count((adamp_algorithm)algo, &h);
    /* the safetensors dtypes of the parameter and the state */
    const char *pcode = dt == ADAMP_F64 ? "F64" : dt == ADAMP_F32 ? "F32" : dt == ADAMP_BF16 ? "BF16" : "F16";
    const char *sname = sd == ADAMP_F64 ? "F64" : sd == ADAMP_F32 ? "F32" : pcode;
    compare c = {strcmp(opt, "SGD") == 0 ? 0 : dt == ADAMP_F64 ? 1e-9 : 2e-4, 0, 0, 0};
    adamp_tensor t[MAXP];
    void *masters[MAXP], *grads[MAXP];
    const size_t P = params.n;
    for (size_t i = 0; i < P; i++) {
        char key[256];
        size_t shape[8], ndim, n;
        snprintf(key, sizeof key, "%s.init", params.items[i].str);
        const void *init = safetensors_tensor(&f, key, NULL, shape, &ndim, &n);
        t[i] = (adamp_tensor){.param = malloc(n * size + 1), .hparams = &h, .rows = ndim ? shape[0] : 1,
                              .cols = ndim && shape[0] ? n / shape[0] : n, .ndim = (int32_t)ndim};
        memcpy(t[i].param, init, n * size);
        void **s[3] = {&t[i].state0, &t[i].state1, &t[i].state2};
        for (int k = 0; k < nstate; k++) *s[k] = calloc(n + 1, ssize);
        grads[i] = malloc(n * size + 1);
        masters[i] = m == ADAMP_MASTER_OFF ? NULL : calloc(n + 1, master_size(m));
        for (size_t j = 0; m == ADAMP_MASTER_FLOAT32 && j < n; j++) ((float *)masters[i])[j] = (float)widen(pcode, init, j);
    }
    double *stats = malloc((adamp_stats_len(t, P) + 1) * sizeof(double));
    const adamp_config cfg = {isa, 0, 0};
    const adamp_step_options o = {sizeof o, 1, 0, 0, (int32_t)m, masters};
    int ok = 1;
    for (int k = 0; k < steps && ok; k++) {
        for (size_t i = 0; i < P; i++) {
            char key[256];
            size_t n;
            snprintf(key, sizeof key, "%s.grad.%d", params.items[i].str, k);
            const void *g = safetensors_tensor(&f, key, NULL, NULL, NULL, &n);
            if (g) memcpy(grads[i], g, n * size); /* aligned, as the API asks */
            t[i].grad = g ? grads[i] : NULL;
        }
        ok = adamp_step_ex(&cfg, (adamp_algorithm)algo, (adamp_dtype)dt, t, P, stats, adamp_stats_len(t, P), &o) == ADAMP_OK;
        for (size_t i = 0; i < P && ok; i++) {
            const char *name = params.items[i].str;
            const size_t n = t[i].rows * t[i].cols;
            char key[256];
            ok = t[i].projection == (int32_t)json_get(&decisions, name)->items[k].num;
            if (!ok) fprintf(stderr, "%s: %s step %d: projection %d\n", path, name, k, t[i].projection);
            if (m == ADAMP_MASTER_OFF) {
                snprintf(key, sizeof key, "%s.after.%d", name, k);
                const void *after = safetensors_tensor(&f, key, NULL, NULL, NULL, NULL);
                if (after && !close_to(&c, pcode, t[i].param, after, n)) ok = 0, fprintf(stderr, "%s: %s after step %d\n", path, name, k);
                continue;
            }
            snprintf(key, sizeof key, "%s.master.after.%d", name, k);
            float *master = malloc(n * 4 + 1);
            const uint16_t *p16 = t[i].param;
            for (size_t j = 0; j < n; j++)
                master[j] = m == ADAMP_MASTER_SPLIT ? adamp_split_to_f32(p16[j], ((uint16_t *)masters[i])[j]) : ((float *)masters[i])[j];
            if (!close_to(&c, "F32", master, safetensors_tensor(&f, key, NULL, NULL, NULL, NULL), n))
                ok = 0, fprintf(stderr, "%s: %s's master after step %d (%s)\n", path, name, k, adamp_master_name(m));
            for (size_t j = 0; j < n; j++) { /* what the model sees: the master rounded, or its upper half */
                uint16_t hi, lo;
                adamp_f32_to_split(master[j], &hi, &lo);
                const uint16_t want = m == ADAMP_MASTER_SPLIT ? hi : dt == ADAMP_BF16 ? adamp_f32_to_bf16(master[j]) : adamp_f32_to_f16(master[j]);
                if (p16[j] != want) { ok = 0, fprintf(stderr, "%s: %s element %zu after step %d\n", path, name, j, k); break; }
            }
            free(master);
        }
    }
    for (size_t i = 0; i < P && ok; i++) {
        const char *name = params.items[i].str;
        const size_t n = t[i].rows * t[i].cols;
        char key[256];
        void *s[3] = {t[i].state0, t[i].state1, t[i].state2};
        for (int k = 0; k < nstate && ok; k++) {
            snprintf(key, sizeof key, "%s.%s", name, adamp_state_name((adamp_algorithm)algo, k));
            const void *ref = safetensors_tensor(&f, key, NULL, NULL, NULL, NULL);
            if (!ref || !close_to(&c, sname, s[k], ref, n)) ok = 0, fprintf(stderr, "%s: %s\n", path, key);
        }
        snprintf(key, sizeof key, "%s.step", name);
        const void *step = safetensors_tensor(&f, key, NULL, NULL, NULL, NULL);
        int64_t count = 0;
        if (step) element(&count, step, 0, 8);
        if (step && count != t[i].step) ok = 0, fprintf(stderr, "%s: %s's step count\n", path, name);
    }
    if (narrow && m == ADAMP_MASTER_OFF && ok) {
        ok = c.total > 0 && c.worst <= 2 && c.differ <= c.total / 200 && (strcmp(opt, "SGD") || c.differ == 0);
        if (!ok) fprintf(stderr, "%s: %ld of %ld elements differ, by up to %ld ulps\n", path, c.differ, c.total, c.worst);
    }
    CHECK(ok);
    for (size_t i = 0; i < P; i++) free(t[i].param), free(t[i].state0), free(t[i].state1), free(t[i].state2), free(grads[i]), free(masters[i]);
    free(stats);
    json_free(&params), json_free(&hp), json_free(&decisions);
    safetensors_close(&f);
    return 1;
}

/* Every fixture in `dir` under every ISA and in each mode it records. */
static int replay_folder(const char *dir) {
    struct dirent **names;
    const int n = scandir(dir, &names, NULL, alphasort);
    int files = 0;
    for (int i = 0; i < n; i++) {
        const size_t len = strlen(names[i]->d_name);
        if (len > 12 && !strcmp(names[i]->d_name + len - 12, ".safetensors")) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            safetensors f;
            if (!safetensors_open(&f, path)) continue;
            const char *master = safetensors_meta(&f, "master"), *dtype = safetensors_meta(&f, "dtype");
            const int masters = master && !strcmp(master, "float32"), split = masters && !strcmp(dtype, "bfloat16");
            safetensors_close(&f);
            for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++) {
                if (!adamp_isa_supported(isa)) continue;
                replay(path, isa, masters ? ADAMP_MASTER_FLOAT32 : ADAMP_MASTER_OFF);
                if (split) replay(path, isa, ADAMP_MASTER_SPLIT);
            }
            files++;
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
    return files;
}

int main(void) {
    const char *shared = getenv("ADAMP_FIXTURES") ? getenv("ADAMP_FIXTURES") : "../../shared/fixtures";
    const int official = replay_folder(shared), precision = replay_folder("../Tests/Fixtures/precision");
    printf("fixtures: %d official (%s), %d 16-bit; ISAs exercised:", official, shared, precision);
    for (adamp_isa isa = ADAMP_ISA_SCALAR; isa <= isa_last(); isa++)
        if (adamp_isa_supported(isa)) printf(" %s", adamp_isa_name(isa));
    printf("\n");
    CHECK(official >= 16 && precision >= 20); /* not passing by replaying nothing */
    return report();
}
