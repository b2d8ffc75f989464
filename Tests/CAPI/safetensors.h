/* The C tests' reader of .safetensors files (the fixtures' format: an 8-byte
 * little-endian header length, a JSON header with `__metadata__`, then the
 * tensors): a small JSON parser (objects, arrays, strings, numbers, true,
 * false, null) over the header and over the metadata's JSON strings, and
 * the tensors by name. Test code: malformed input aborts with a message. */
#ifndef ADAMP_TEST_SAFETENSORS_H
#define ADAMP_TEST_SAFETENSORS_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jv {
    enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } t;
    double num;          /* J_NUM, J_BOOL */
    char *str;           /* J_STR */
    size_t n;            /* J_ARR, J_OBJ: entries */
    struct jv *items;    /* their values */
    char **keys;         /* J_OBJ: their keys */
} jv;

static void json_fail(const char *what, const char *at) {
    fprintf(stderr, "json: %s at \"%.20s\"\n", what, at);
    abort();
}

static const char *json_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

static const char *json_string(const char *p, char **out) {
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    for (p++; *p != '"'; p++) {
        if (!*p) json_fail("unterminated string", p);
        char c = *p;
        if (c == '\\') {
            c = *++p;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'u' ? (json_fail("\\u escape", p), 0) : c;
        }
        if (n + 2 > cap) s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    s[n] = 0;
    *out = s;
    return p + 1;
}

static const char *json_value(const char *p, jv *v) {
    p = json_ws(p);
    memset(v, 0, sizeof *v);
    if (*p == '"') return v->t = J_STR, json_string(p, &v->str);
    if (*p == '{' || *p == '[') {
        const int obj = *p == '{';
        v->t = obj ? J_OBJ : J_ARR;
        p = json_ws(p + 1);
        size_t cap = 0;
        while (*p != (obj ? '}' : ']')) {
            if (v->n == cap) {
                cap = cap ? 2 * cap : 8;
                v->items = realloc(v->items, cap * sizeof *v->items);
                if (obj) v->keys = realloc(v->keys, cap * sizeof *v->keys);
            }
            if (obj) {
                if (*p != '"') json_fail("expected a key", p);
                p = json_ws(json_string(p, &v->keys[v->n]));
                if (*p++ != ':') json_fail("expected ':'", p - 1);
            }
            p = json_ws(json_value(p, &v->items[v->n++]));
            if (*p == ',') p = json_ws(p + 1);
            else if (*p != (obj ? '}' : ']')) json_fail("expected ',' or the end", p);
        }
        return p + 1;
    }
    if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5)) return v->t = J_BOOL, v->num = *p == 't', p + (*p == 't' ? 4 : 5);
    if (!strncmp(p, "null", 4)) return p + 4;
    char *end;
    v->t = J_NUM, v->num = strtod(p, &end);
    if (end == p) json_fail("unexpected character", p);
    return end;
}

static jv json_parse(const char *text) {
    jv v;
    if (*json_ws(json_value(text, &v))) json_fail("trailing text", text);
    return v;
}

static void json_free(jv *v) {
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items), free(v->keys);
}

/* obj[key], or NULL. */
static const jv *json_get(const jv *obj, const char *key) {
    for (size_t i = 0; obj && obj->t == J_OBJ && i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}

/* A .safetensors file: its header and its data. */
typedef struct {
    jv header;
    const jv *meta;
    unsigned char *bytes;
    size_t data; /* where the tensors begin */
} safetensors;

static int safetensors_open(safetensors *f, const char *path) {
    FILE *in = fopen(path, "rb");
    if (!in) return 0;
    fseek(in, 0, SEEK_END);
    const long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    f->bytes = malloc((size_t)size + 1);
    if (fread(f->bytes, 1, (size_t)size, in) != (size_t)size) abort();
    fclose(in);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | f->bytes[i];
    char *text = malloc(n + 1);
    memcpy(text, f->bytes + 8, n);
    text[n] = 0;
    f->header = json_parse(text);
    free(text);
    f->data = 8 + n;
    f->meta = json_get(&f->header, "__metadata__");
    return 1;
}

static void safetensors_close(safetensors *f) {
    json_free(&f->header);
    free(f->bytes);
}

/* The metadata's `key` (a string), or NULL. */
static const char *safetensors_meta(const safetensors *f, const char *key) {
    const jv *v = json_get(f->meta, key);
    return v && v->t == J_STR ? v->str : NULL;
}

/* Tensor `name`: its data, dtype ("F32", "BF16", ...), shape and element
 * count; NULL if the file has none. */
static const void *safetensors_tensor(const safetensors *f, const char *name, const char **dtype, size_t shape[8],
                                      size_t *ndim, size_t *count) {
    const jv *t = json_get(&f->header, name);
    if (!t) return NULL;
    const jv *d = json_get(t, "dtype"), *s = json_get(t, "shape"), *o = json_get(t, "data_offsets");
    if (dtype) *dtype = d->str;
    size_t c = 1;
    for (size_t i = 0; i < s->n && i < 8; i++) {
        if (shape) shape[i] = (size_t)s->items[i].num;
        c *= (size_t)s->items[i].num;
    }
    if (ndim) *ndim = s->n;
    if (count) *count = c;
    return f->bytes + f->data + (size_t)o->items[0].num;
}
#endif
