// The same from C++: adamp.h is extern "C". Build against the installed library:
//   c++ step.cpp $(pkg-config --cflags --libs cadamp) -o step
#include <adamp.h>
#include <cstdio>
#include <vector>

int main() {
    std::vector<double> w(64, 0.5), g(64, 0.01), buf(64, 0.0);
    adamp_hparams h{};
    h.lr = 0.1; h.momentum = 0.9; h.eps = 1e-8; h.delta = 0.1; h.wd_ratio = 0.1; h.nesterov = 1;
    adamp_tensor t{};
    t.param = w.data(); t.grad = g.data(); t.state0 = buf.data(); t.hparams = &h;
    t.rows = 8; t.cols = 8; t.ndim = 2;
    std::vector<double> stats(adamp_stats_len(&t, 1));
    adamp_status s = adamp_step(nullptr, ADAMP_ALGO_SGDP, ADAMP_F64, &t, 1, stats.data(), stats.size());
    if (s != ADAMP_OK) { std::fprintf(stderr, "adamp_step: %s\n", adamp_status_string(s)); return 1; }
    std::printf("cadamp %s from C++: w[0] %.6f\n", adamp_version(), w[0]);
    return w[0] < 0.5 ? 0 : 1;
}
