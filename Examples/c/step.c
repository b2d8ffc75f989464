/* One AdamP step over two tensors, from C alone. Build against the installed
 * library:  cc step.c $(pkg-config --cflags --libs cadamp) -o step */
#include <adamp.h>
#include <stdio.h>

int main(void) {
    float w[6] = {1, 2, 3, 4, 5, 6}, g[6] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f}, m[6] = {0}, v[6] = {0};
    float b[3] = {0}, gb[3] = {1, 1, 1}, mb[3] = {0}, vb[3] = {0};
    adamp_hparams h = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .delta = 0.1, .wd_ratio = 0.1};
    adamp_tensor t[2] = {
        {.param = w, .grad = g, .state0 = m, .state1 = v, .hparams = &h, .rows = 2, .cols = 3, .ndim = 2},
        {.param = b, .grad = gb, .state0 = mb, .state1 = vb, .hparams = &h, .rows = 1, .cols = 3, .ndim = 1},
    };
    double stats[12];   /* adamp_stats_len(t, 2) */
    adamp_status s = adamp_step(NULL, ADAMP_ALGO_ADAMP, ADAMP_F32, t, 2, stats, adamp_stats_len(t, 2));
    if (s != ADAMP_OK) {
        fprintf(stderr, "adamp_step: %s\n", adamp_status_string(s));
        return 1;
    }
    printf("cadamp %s (%s): w[0] %.6f, b[0] %.6f, steps %lld\n", adamp_version(),
           adamp_isa_name(adamp_isa_selected(ADAMP_ISA_AUTO)), w[0], b[0], (long long)t[0].step);
    return w[0] < 1 && b[0] < 0 && t[0].step == 1 ? 0 : 1;
}
