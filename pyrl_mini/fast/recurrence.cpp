// The recurrence of networks.Recurrence (forward and hand-written backward through time),
// as one C++ loop per network: what networks.Recurrence does op by op from Python, with the
// elementwise work of a step fused into a few passes over its rows and the matmuls handed
// to BLAS. Compiled on first use by pyrl_mini.kernel; networks.Recurrence is the same
// computation in Python, and tests/test_kernel.py compares the two.
//
// Layout. Network e's rows (the trials it computes at each step) are stored step after step
// in its own region [e * T * B, e * T * B + total_e) of each (E * T * B, width) buffer.
// counts (E, T): rows of network e at step t (0 once all its trials have ended);
// idx (E, T * B): the trial b of each row; pos (E, T * B): for the rows of step t > 0, the
// position of that trial among step t - 1's rows.
//
// Modes. With a readout (W_out, b_out, read_fn) the output is the logits
// read_fn(x_t) W_out + b_out of every computed row, and the backward takes their gradient;
// without one, the states x_t. With a sampler (cap, uniforms; the policy), after each step
// the actions of the rows are drawn by inverse CDF from the uniforms, and only the trials
// still fixating go on to the next step (this builds counts, idx and pos). Without one (the
// baseline), counts, idx and pos are given.
#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

namespace {

enum Rate { RELU = 0, TANH = 1, SOFTPLUS = 2 };

template <typename T>
inline T rate(T x, int64_t fn) {
  if (fn == RELU) return x > T(0) ? x : T(0);
  if (fn == TANH) return std::tanh(x);
  return x > T(20) ? x : std::log1p(std::exp(x));   // torch's softplus (threshold 20)
}

// r = phi(x) on n values (the switch outside the loops, so that they vectorise)
template <typename T>
void rate_of(const T* __restrict__ x, T* __restrict__ r, int64_t n, int64_t fn) {
  if (fn == RELU) {
    for (int64_t i = 0; i < n; ++i) r[i] = x[i] > T(0) ? x[i] : T(0);
  } else {
    for (int64_t i = 0; i < n; ++i) r[i] = rate(x[i], fn);
  }
}

// d *= phi'(x), given r = phi(x) (x is used by softplus only)
template <typename T>
void times_rate_slope(T* __restrict__ d, const T* __restrict__ x, const T* __restrict__ r,
                      int64_t n, int64_t fn) {
  if (fn == RELU) {
    for (int64_t i = 0; i < n; ++i) d[i] = r[i] > T(0) ? d[i] : T(0);
  } else if (fn == TANH) {
    for (int64_t i = 0; i < n; ++i) d[i] = d[i] * (T(1) - r[i] * r[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = d[i] * (T(1) / (T(1) + std::exp(-x[i])));
  }
}

// The two elementwise loops of a GRU step, as functions: GCC honours __restrict__ on
// function parameters (not on local pointers), and without it these loops stay scalar (the
// vectoriser gives up on the run-time alias checks of seven pointers).
// Forward, one row: az = a z, cmx = c - x, x_t = x + az cmx (c = h W_rec + drive).
template <typename T>
inline void gru_state_update(int64_t n, T a, const T* __restrict__ z, const T* __restrict__ c,
                             const T* __restrict__ x, T* __restrict__ az, T* __restrict__ cmx,
                             T* __restrict__ xo) {
  for (int64_t i = 0; i < n; ++i) {
    az[i] = a * z[i];
    cmx[i] = c[i] - x[i];
    xo[i] = x[i] + az[i] * cmx[i];
  }
}

// Backward, one row: the gradients of the update gate's and the reset gate's pre-activations
// (zg: the row's two gates, z then g) and dr = dh g, the reset path's share of dL/dr.
template <typename T>
inline void gru_gate_grads(int64_t n, T a, const T* __restrict__ zg, const T* __restrict__ cmx,
                           const T* __restrict__ r, const T* __restrict__ dx,
                           const T* __restrict__ dh, T* __restrict__ dz, T* __restrict__ dg,
                           T* __restrict__ dr) {
  for (int64_t i = 0; i < n; ++i) {
    const T zi = zg[i], gi = zg[n + i];
    dz[i] = (dx[i] * cmx[i]) * a * (zi - zi * zi);
    dg[i] = (dh[i] * r[i]) * (gi - gi * gi);
    dr[i] = dh[i] * gi;
  }
}

// BLAS (MKL in torch's x86 wheels), called directly: an at::mm per step costs more in
// tensor views and dispatch than the small product itself. Weak, so that a torch without
// these symbols still loads the module and gemm() falls back to at::mm.
extern "C" {
void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*,
            const float*, const int*, const float*, const int*, const float*, float*,
            const int*) __attribute__((weak));
void dgemm_(const char*, const char*, const int*, const int*, const int*, const double*,
            const double*, const int*, const double*, const int*, const double*, double*,
            const int*) __attribute__((weak));
}

inline void blas(char ta, char tb, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  sgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}
inline void blas(char ta, char tb, int m, int n, int k, double alpha, const double* a,
                 int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}
template <typename T> bool have_blas();
template <> bool have_blas<float>() { return sgemm_ != nullptr; }
template <> bool have_blas<double>() { return dgemm_ != nullptr; }

// Row-major C (m x n, row stride ldc) = beta C + op(A) op(B), op(A) (m x k), op(B) (k x n);
// lda, ldb: the row strides of A and B as stored (ta: A is stored k x m and transposed).
template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  if (have_blas<T>()) {   // column-major BLAS computes C^T = op(B)^T op(A)^T
    blas(tb ? 'T' : 'N', ta ? 'T' : 'N', int(n), int(m), int(k), T(1), B, int(ldb), A,
         int(lda), beta, C, int(ldc));
    return;
  }
  auto opt = at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
  at::Tensor a = at::from_blob(const_cast<T*>(A), {ta ? k : m, ta ? m : k}, {lda, 1}, opt);
  at::Tensor b = at::from_blob(const_cast<T*>(B), {tb ? n : k, tb ? k : n}, {ldb, 1}, opt);
  at::Tensor c = at::from_blob(C, {m, n}, {ldc, 1}, opt);
  if (beta == T(0)) c.zero_(); else c.mul_(beta);
  c.addmm_(ta ? a.t() : a, tb ? b.t() : b);
}

// The matrix of network e of an (E, rows, cols) tensor whose rows are dense: pointer, stride.
template <typename T>
inline const T* mat(const at::Tensor& W, int64_t e) {
  return W.data_ptr<T>() + e * W.stride(0);
}

// rows of C (m x n, ldc) = the vector v (n,), or the rows of V (m x n, ldv)
template <typename T>
inline void fill_rows(T* C, int64_t m, int64_t n, int64_t ldc, const T* V, int64_t ldv) {
  for (int64_t i = 0; i < m; ++i) std::copy(V + i * ldv, V + i * ldv + n, C + i * ldc);
}

// Work buffers, reused from one update to the next: an ensemble's buffers are 100+ MB, which
// the allocator would map fresh (and the kernel fault in page by page) at every call. A
// pooled block is free again once no tensor uses its storage (the autograd graph that held
// it is gone).
std::mutex pool_mutex;
std::vector<at::Tensor> pool;

at::Tensor pooled(int64_t rows, int64_t cols, const at::TensorOptions& opt) {
  const int64_t need = std::max<int64_t>(rows * cols, 1);
  std::lock_guard<std::mutex> lock(pool_mutex);
  at::Tensor* best = nullptr;
  for (auto& t : pool)
    if (t.storage().use_count() == 1 && t.scalar_type() == opt.dtype().toScalarType() &&
        t.numel() >= need && (best == nullptr || t.numel() < best->numel()))
      best = &t;
  if (best == nullptr) {
    if (pool.size() >= 40)   // drop the free blocks (a run of another shape left them)
      pool.erase(std::remove_if(pool.begin(), pool.end(),
                                [](const at::Tensor& t) { return t.storage().use_count() == 1; }),
                 pool.end());
    pool.push_back(at::empty({need}, opt));
    best = &pool.back();
  }
  return best->narrow(0, 0, rows * cols).view({rows, cols});
}

struct Sizes {
  int64_t E, T, B, n_in, N, P;
  bool gru;
};

template <typename T>
void forward_impl(const Sizes& z, const at::Tensor& x0, const at::Tensor& u,
                  const at::Tensor& W_in, const at::Tensor& b_in, const at::Tensor& W_rec,
                  const at::Tensor& W_gates, const at::Tensor& alpha, const at::Tensor& noise,
                  int64_t rate_fn, bool sampling, bool readout, const at::Tensor& W_out,
                  const at::Tensor& b_out, const at::Tensor& cap, const at::Tensor& uniforms,
                  int64_t read_fn, at::Tensor& counts, at::Tensor& idx, at::Tensor& pos,
                  at::Tensor& actions, at::Tensor& out, at::Tensor& rates,
                  std::vector<at::Tensor>& buf) {
  const int64_t E = z.E, Tn = z.T, B = z.B, n_in = z.n_in, N = z.N, P = z.P, TB = Tn * B;
  at::Tensor &U = buf[0], &XO = buf[1], &R = buf[2], &Z = buf[3], &H = buf[4], &AZ = buf[5],
             &CMX = buf[6], &XP = buf[7], &READ = buf[8];
  const bool softplus = rate_fn == SOFTPLUS;
  at::Tensor xcur = at::empty({B, N}, x0.options());
  const int64_t A = readout ? W_out.size(2) : 0;
  at::Tensor logits = readout ? at::empty({B, A}, x0.options()) : at::Tensor();
  std::vector<char> running(B);

  const T* u_p = u.data_ptr<T>();
  const int64_t us0 = u.stride(0), us1 = u.stride(1), us2 = u.stride(2);
  const T* nz_p = noise.defined() ? noise.data_ptr<T>() : nullptr;
  const int64_t ns0 = nz_p ? noise.stride(0) : 0, ns1 = nz_p ? noise.stride(1) : 0,
                ns2 = nz_p ? noise.stride(2) : 0;
  const T* un_p = sampling ? uniforms.data_ptr<T>() : nullptr;
  const int64_t vs0 = sampling ? uniforms.stride(0) : 0, vs1 = sampling ? uniforms.stride(1) : 0,
                vs2 = sampling ? uniforms.stride(2) : 0;
  int64_t* cnt_p = counts.data_ptr<int64_t>();
  int64_t* idx_p = idx.data_ptr<int64_t>();
  int64_t* pos_p = pos.data_ptr<int64_t>();
  int64_t* act_p = sampling ? actions.data_ptr<int64_t>() : nullptr;
  T* out_p = out.data_ptr<T>();
  T* rates_p = rates.defined() && rates.numel() ? rates.data_ptr<T>() : nullptr;
  T* READ_p = readout ? READ.data_ptr<T>() : nullptr;
  T *U_p = U.data_ptr<T>(), *XO_p = XO.data_ptr<T>(), *R_p = R.data_ptr<T>();
  T *Z_p = z.gru ? Z.data_ptr<T>() : nullptr, *H_p = z.gru ? H.data_ptr<T>() : nullptr;
  T *AZ_p = z.gru ? AZ.data_ptr<T>() : nullptr, *CMX_p = z.gru ? CMX.data_ptr<T>() : nullptr;
  T* XP_p = softplus ? XP.data_ptr<T>() : nullptr;
  T* xc = xcur.data_ptr<T>();
  // Input projections u W_in + b_in, written where they are used (no copies): the gates'
  // part (GRU) into the rows of Z, to which the step adds r W_gates; the drive's part into
  // rows of D, to which the step adds the noise and h W_rec (r W_rec without gates). Per step
  // when sampling (the rows are not known ahead; D is then the step's rows only), else for
  // all the rows of a network in two products before its time loop.
  at::Tensor D = sampling ? at::empty({B, N}, x0.options()) : pooled(TB, N, x0.options());
  T* D_p = D.data_ptr<T>();
  at::Tensor LG = (readout && !sampling) ? pooled(TB, A, x0.options()) : at::Tensor();
  const int64_t ldWin = W_in.stride(1), ldWr = W_rec.stride(1);
  const int64_t ldWg = z.gru ? W_gates.stride(1) : 0, ldWo = readout ? W_out.stride(1) : 0;

  for (int64_t e = 0; e < E; ++e) {
    const T a = alpha[e].item<T>();
    const at::Tensor x0_e = x0[e].contiguous();
    const T* x0_p = x0_e.data_ptr<T>();
    T capv = sampling ? cap[e].item<T>() : T(0);
    int64_t* cnt = cnt_p + e * Tn;
    int64_t* ix = idx_p + e * TB;
    int64_t* ps = pos_p + e * TB;
    const at::Tensor b_in_e = b_in[e].contiguous();
    const T* bin_p = b_in_e.data_ptr<T>();
    const at::Tensor b_out_e = readout ? b_out[e].contiguous() : at::Tensor();
    const T* bout_p = readout ? b_out_e.data_ptr<T>() : nullptr;
    // m rows of inputs u (m x n_in): zg (m x 2N, GRU) = b_gates + u W_in_gates and
    // dr (m x N) = b + u W_in (the drive's columns are W_in's last N)
    auto project = [&](int64_t m, const T* u, T* zg, T* dr) {
      if (zg) {
        fill_rows(zg, m, 2 * N, 2 * N, bin_p, 0);
        gemm<T>(false, false, m, 2 * N, n_in, u, n_in, mat<T>(W_in, e), ldWin, T(1), zg, 2 * N);
      }
      fill_rows(dr, m, N, N, bin_p + (P - N), 0);
      gemm<T>(false, false, m, N, n_in, u, n_in, mat<T>(W_in, e) + (P - N), ldWin, T(1), dr, N);
    };
    int64_t M = B, off = 0;
    if (sampling) {
      for (int64_t t = 0; t < Tn; ++t) cnt[t] = 0;
      for (int64_t b = 0; b < B; ++b) ix[b] = b;
    } else {
      M = cnt[0];
    }
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < N; ++i) xc[b * N + i] = x0_p[i];
    // emit(t, o, m, lg): the logits lg (m x A) and rates of rows [o, o + m) of network e's
    // region, step t, into the dense outputs
    auto emit = [&](int64_t t, int64_t o, int64_t m, const T* lgs) {
      const int64_t g = e * TB + o;
      const int64_t* ixt = ix + o;
      if (readout) {
        for (int64_t j = 0; j < m; ++j)
          std::copy(lgs + j * A, lgs + (j + 1) * A, out_p + ((e * Tn + t) * B + ixt[j]) * A);
      } else {
        for (int64_t j = 0; j < m; ++j)
          std::copy(XO_p + (g + j) * N, XO_p + (g + j + 1) * N,
                    out_p + ((e * Tn + t) * B + ixt[j]) * N);
      }
      if (rates_p) {
        const bool same = readout && read_fn == rate_fn;
        for (int64_t j = 0; j < m; ++j) {
          T* dst = rates_p + ((e * Tn + t) * B + ixt[j]) * N;
          if (same) std::copy(READ_p + (g + j) * N, READ_p + (g + j + 1) * N, dst);
          else rate_of(XO_p + (g + j) * N, dst, N, rate_fn);
        }
      }
    };
    int64_t total = 0;
    if (!sampling) {   // the given rows' inputs and their projections, all at once
      for (int64_t t = 0; t < Tn && cnt[t] > 0; ++t) {
        for (int64_t j = 0; j < cnt[t]; ++j) {
          const T* src = u_p + e * us0 + t * us1 + ix[total + j] * us2;
          std::copy(src, src + n_in, U_p + (e * TB + total + j) * n_in);
        }
        total += cnt[t];
      }
      project(total, U_p + e * TB * n_in, Z_p ? Z_p + e * TB * 2 * N : nullptr, D_p);
    }
    for (int64_t t = 0; t < Tn && M > 0; ++t) {
      if (sampling) cnt[t] = M;
      const int64_t g = e * TB + off;          // first global row of this step
      const int64_t* ixt = ix + off;
      // r = phi(x_{t-1}); the inputs of the rows and their projections
      rate_of(xc, R_p + g * N, M * N, rate_fn);
      if (softplus) std::copy(xc, xc + M * N, XP_p + g * N);
      T* c_p = sampling ? D_p : D_p + off * N;   // the step's drives, then c
      if (sampling) {
        for (int64_t j = 0; j < M; ++j) {
          const T* src = u_p + e * us0 + t * us1 + ixt[j] * us2;
          std::copy(src, src + n_in, U_p + (g + j) * n_in);
        }
        project(M, U_p + g * n_in, Z_p ? Z_p + g * 2 * N : nullptr, c_p);
      }
      if (nz_p) {
        for (int64_t j = 0; j < M; ++j) {
          const T* src = nz_p + e * ns0 + t * ns1 + ixt[j] * ns2;
          T* dst = c_p + j * N;
          for (int64_t i = 0; i < N; ++i) dst[i] += src[i];
        }
      }
      if (z.gru) {
        T* zs = Z_p + g * 2 * N;
        gemm<T>(false, false, M, 2 * N, N, R_p + g * N, N, mat<T>(W_gates, e), ldWg, T(1), zs,
                2 * N);
        Z.narrow(0, g, M).sigmoid_();   // ATen's vectorised sigmoid
        for (int64_t j = 0; j < M; ++j) {
          const T* __restrict__ gate = Z_p + (g + j) * 2 * N + N;
          const T* __restrict__ r = R_p + (g + j) * N;
          T* __restrict__ h = H_p + (g + j) * N;
          for (int64_t i = 0; i < N; ++i) h[i] = gate[i] * r[i];
        }
        gemm<T>(false, false, M, N, N, H_p + g * N, N, mat<T>(W_rec, e), ldWr, T(1), c_p, N);
        for (int64_t j = 0; j < M; ++j)   // c = h W_rec + drive; x_t = x + a z (c - x)
          gru_state_update(N, a, Z_p + (g + j) * 2 * N, c_p + j * N, xc + j * N,
                           AZ_p + (g + j) * N, CMX_p + (g + j) * N, XO_p + (g + j) * N);
      } else {
        gemm<T>(false, false, M, N, N, R_p + g * N, N, mat<T>(W_rec, e), ldWr, T(1), c_p, N);
        const int64_t n = M * N;   // x_t = x + a (c - x), c = r W_rec + drive
        const T* __restrict__ c = c_p;
        const T* __restrict__ x = xc;
        T* __restrict__ xo = XO_p + g * N;
        for (int64_t i = 0; i < n; ++i) xo[i] = x[i] + a * (c[i] - x[i]);
      }
      T* lg = readout ? logits.data_ptr<T>() : nullptr;
      if (sampling) {   // logits = read_fn(x) W_out + b_out now: the actions need them
        rate_of(XO_p + g * N, READ_p + g * N, M * N, read_fn);
        fill_rows(lg, M, A, A, bout_p, 0);
        gemm<T>(false, false, M, A, N, READ_p + g * N, N, mat<T>(W_out, e), ldWo, T(1), lg, A);
        emit(t, off, M, lg);
      }
      int64_t next = 0;
      if (sampling) {   // actions of the rows; the trials still fixating go on
        for (int64_t j = 0; j < M; ++j) {
          T* l = lg + j * A;
          if (capv > T(0))
            for (int64_t k = 0; k < A; ++k) l[k] = capv * std::tanh(l[k] / capv);
          T mx = l[0];
          for (int64_t k = 1; k < A; ++k) mx = l[k] > mx ? l[k] : mx;
          T sum = 0;
          for (int64_t k = 0; k < A; ++k) sum += std::exp(l[k] - mx);
          const T shift = mx + std::log(sum);   // log_softmax = l - shift, as ATen
          const T uv = un_p[e * vs0 + t * vs1 + ixt[j] * vs2];
          T cum = 0;
          int64_t act = 0;
          for (int64_t k = 0; k < A; ++k) {
            cum += std::exp(l[k] - shift);
            act += cum < uv ? 1 : 0;
          }
          if (act > A - 1) act = A - 1;
          act_p[(e * Tn + t) * B + ixt[j]] = act;
          running[j] = act == 0;   // FIXATE
          next += running[j];
        }
        if (t + 1 < Tn && next > 0) {
          int64_t k = 0;
          for (int64_t j = 0; j < M; ++j)
            if (running[j]) {
              ix[off + M + k] = ixt[j];
              ps[off + M + k] = j;
              ++k;
            }
        }
      } else if (t + 1 < Tn) {
        next = cnt[t + 1];
      }
      if (t + 1 < Tn && next > 0) {   // x of the next step's rows
        const int64_t* pn = ps + off + M;
        for (int64_t k = 0; k < next; ++k)
          std::copy(XO_p + (g + pn[k]) * N, XO_p + (g + pn[k] + 1) * N, xc + k * N);
      }
      off += M;
      M = next;
    }
    if (!sampling) {   // the outputs of all the given rows at once
      T* lgs = readout ? LG.data_ptr<T>() : nullptr;
      if (readout) {
        rate_of(XO_p + e * TB * N, READ_p + e * TB * N, total * N, read_fn);
        fill_rows(lgs, total, A, A, bout_p, 0);
        gemm<T>(false, false, total, A, N, READ_p + e * TB * N, N, mat<T>(W_out, e), ldWo,
                T(1), lgs, A);
      }
      for (int64_t t = 0, o = 0; t < Tn && cnt[t] > 0; o += cnt[t], ++t)
        emit(t, o, cnt[t], readout ? lgs + o * A : nullptr);
    }
  }
}

template <typename T>
void backward_impl(const Sizes& z, const at::Tensor& d_out, const at::Tensor& W_rec,
                   const at::Tensor& W_gates, const at::Tensor& alpha, const at::Tensor& counts,
                   const at::Tensor& idx, const at::Tensor& pos, int64_t rate_fn,
                   std::vector<at::Tensor>& buf, bool readout, const at::Tensor& W_out,
                   int64_t read_fn, at::Tensor& d_x0, at::Tensor& d_W_in, at::Tensor& d_b,
                   at::Tensor& d_W_rec, at::Tensor& d_W_gates, at::Tensor& d_W_out,
                   at::Tensor& d_b_out) {
  const int64_t E = z.E, Tn = z.T, B = z.B, N = z.N, P = z.P, TB = Tn * B;
  const int64_t steps_all = d_out.size(1);
  at::Tensor &U = buf[0], &XO = buf[1], &R = buf[2], &Z = buf[3], &H = buf[4], &AZ = buf[5],
             &CMX = buf[6], &XP = buf[7], &READ = buf[8];
  const int64_t A = readout ? W_out.size(2) : 0;
  at::Tensor DL = readout ? pooled(E * TB, A, R.options()) : at::Tensor();
  T* DL_p = readout ? DL.data_ptr<T>() : nullptr;
  const T* READ_p = readout ? READ.data_ptr<T>() : nullptr;
  const T* XO_p = XO.data_ptr<T>();
  const int64_t ldWo = readout ? W_out.stride(1) : 0;
  at::Tensor DX = readout ? pooled(TB, N, R.options()) : at::Tensor();
  T* DX_p = readout ? DX.data_ptr<T>() : nullptr;
  at::Tensor dP = pooled(E * TB, P, R.options());
  at::Tensor dx_a = at::empty({B, N}, R.options()), dx_b = at::empty({B, N}, R.options());
  at::Tensor dh = at::empty({B, N}, R.options()), dr = at::empty({B, N}, R.options());
  T *dP_p = dP.data_ptr<T>(), *dh_p = dh.data_ptr<T>(), *dr_p = dr.data_ptr<T>();
  const T* ds_p = d_out.data_ptr<T>();
  const int64_t ds0 = d_out.stride(0), ds1 = d_out.stride(1), ds2 = d_out.stride(2),
                ds3 = d_out.stride(3);
  const T* R_p = R.data_ptr<T>();
  const T *Z_p = z.gru ? Z.data_ptr<T>() : nullptr, *AZ_p = z.gru ? AZ.data_ptr<T>() : nullptr;
  const T* CMX_p = z.gru ? CMX.data_ptr<T>() : nullptr;
  const T* XP_p = rate_fn == SOFTPLUS ? XP.data_ptr<T>() : nullptr;
  const int64_t* cnt_p = counts.data_ptr<int64_t>();
  const int64_t* idx_p = idx.data_ptr<int64_t>();
  const int64_t* pos_p = pos.data_ptr<int64_t>();
  std::vector<int64_t> offs(Tn + 1);
  const int64_t ldWr = W_rec.stride(1), ldWg = z.gru ? W_gates.stride(1) : 0;

  for (int64_t e = 0; e < E; ++e) {
    const T a = alpha[e].item<T>();
    const int64_t* cnt = cnt_p + e * Tn;
    const int64_t* ix = idx_p + e * TB;
    const int64_t* ps = pos_p + e * TB;
    int64_t steps = 0;
    offs[0] = 0;
    for (int64_t t = 0; t < Tn && t < steps_all && cnt[t] > 0; ++t) {
      offs[t + 1] = offs[t] + cnt[t];
      steps = t + 1;
    }
    const int64_t total = offs[steps];
    if (readout) {   // every row's dL/dx_t from its logits: (dL/dlogits W_out^T) read_fn'(x_t)
      T* dl = DL_p + e * TB * A;
      for (int64_t t = 0; t < steps; ++t)
        for (int64_t j = 0; j < cnt[t]; ++j) {
          const T* src = ds_p + e * ds0 + t * ds1 + ix[offs[t] + j] * ds2;
          for (int64_t k = 0; k < A; ++k) dl[(offs[t] + j) * A + k] = src[k * ds3];
        }
      gemm<T>(false, true, total, N, A, dl, A, mat<T>(W_out, e), ldWo, T(0), DX_p, N);
      times_rate_slope(DX_p, XO_p + e * TB * N, READ_p + e * TB * N, total * N, read_fn);
    }
    T* dxn = dx_b.data_ptr<T>();   // dL/dx_{t-1} of step t's rows, from the step after
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t M = cnt[t], g = e * TB + offs[t];
      const int64_t* ixt = ix + offs[t];
      T* dx;             // dL/dx_t of step t's rows
      if (readout) {     // from the logits, computed for all rows before the loop
        dx = DX_p + offs[t] * N;
      } else {           // given
        dx = dx_a.data_ptr<T>();
        for (int64_t j = 0; j < M; ++j) {
          const T* src = ds_p + e * ds0 + t * ds1 + ixt[j] * ds2;
          for (int64_t i = 0; i < N; ++i) dx[j * N + i] = src[i * ds3];
        }
      }
      if (t + 1 < steps) {
        const int64_t* pn = ps + offs[t + 1];
        for (int64_t k = 0; k < cnt[t + 1]; ++k)
          for (int64_t i = 0; i < N; ++i) dx[pn[k] * N + i] += dxn[k * N + i];
      }
      if (z.gru) {
        for (int64_t j = 0; j < M; ++j) {
          const T* az = AZ_p + (g + j) * N;
          T* dc = dP_p + (g + j) * P + 2 * N;
          for (int64_t i = 0; i < N; ++i) dc[i] = dx[j * N + i] * az[i];
        }
        gemm<T>(false, true, M, N, N, dP_p + g * P + 2 * N, P, mat<T>(W_rec, e), ldWr, T(0),
                dh_p, N);
        for (int64_t j = 0; j < M; ++j)
          gru_gate_grads(N, a, Z_p + (g + j) * 2 * N, CMX_p + (g + j) * N, R_p + (g + j) * N,
                         dx + j * N, dh_p + j * N, dP_p + (g + j) * P, dP_p + (g + j) * P + N,
                         dr_p + j * N);
        gemm<T>(false, true, M, N, 2 * N, dP_p + g * P, P, mat<T>(W_gates, e), ldWg, T(1),
                dr_p, N);
        const int64_t n = M * N;
        const T* __restrict__ az = AZ_p + g * N;
        const T* __restrict__ drs = dr_p;
        const T* __restrict__ dxs = dx;
        T* __restrict__ out = dxn;
        if (rate_fn == RELU) {   // dx_{t-1} = dx (1 - a z) + dr relu'(x_{t-1})
          const T* __restrict__ r = R_p + g * N;
          for (int64_t i = 0; i < n; ++i)
            out[i] = dxs[i] * (T(1) - az[i]) + (r[i] > T(0) ? drs[i] : T(0));
        } else {
          times_rate_slope(dr_p, XP_p ? XP_p + g * N : nullptr, R_p + g * N, n, rate_fn);
          for (int64_t i = 0; i < n; ++i) out[i] = dxs[i] * (T(1) - az[i]) + drs[i];
        }
      } else {
        for (int64_t j = 0; j < M; ++j) {
          T* dc = dP_p + (g + j) * P;
          for (int64_t i = 0; i < N; ++i) dc[i] = dx[j * N + i] * a;
        }
        gemm<T>(false, true, M, N, N, dP_p + g * P, P, mat<T>(W_rec, e), ldWr, T(0), dr_p, N);
        times_rate_slope(dr_p, XP_p ? XP_p + g * N : nullptr, R_p + g * N, M * N, rate_fn);
        const int64_t n = M * N;   // P = N: the rows of dP are contiguous
        const T* __restrict__ dc = dP_p + g * P;
        const T* __restrict__ drs = dr_p;
        const T* __restrict__ dxs = dx;
        T* __restrict__ out = dxn;
        for (int64_t i = 0; i < n; ++i) out[i] = (dxs[i] - dc[i]) + drs[i];
      }
    }
    // dxn holds dL/dx_{-1} (the initial state) of step 0's rows: every trial, in order
    at::Tensor d_x0_e = d_x0[e];
    if (steps > 0) {
      at::sum_out(d_x0_e, at::from_blob(dxn, {B, N}, R.options()), {0});
    } else {
      d_x0_e.zero_();
    }
    at::Tensor dW_in_e = d_W_in[e], db_e = d_b[e], dW_rec_e = d_W_rec[e];
    if (total == 0) {
      dW_in_e.zero_(); db_e.zero_(); dW_rec_e.zero_();
      if (z.gru) d_W_gates[e].zero_();
      if (readout) { d_W_out[e].zero_(); d_b_out[e].zero_(); }
      continue;
    }
    if (readout) {
      gemm<T>(true, false, N, A, total, READ_p + e * TB * N, N, DL_p + e * TB * A, A, T(0),
              d_W_out[e].data_ptr<T>(), A);
      at::Tensor db_out_e = d_b_out[e];
      at::sum_out(db_out_e, DL.narrow(0, e * TB, total), {0});
    }
    at::sum_out(db_e, dP.narrow(0, e * TB, total), {0});
    const T* dPe = dP_p + e * TB * P;
    const T* Re = R_p + e * TB * N;
    gemm<T>(true, false, z.n_in, P, total, U.data_ptr<T>() + e * TB * z.n_in, z.n_in, dPe, P,
            T(0), dW_in_e.data_ptr<T>(), P);
    if (z.gru) {
      gemm<T>(true, false, N, N, total, H.data_ptr<T>() + e * TB * N, N, dPe + 2 * N, P, T(0),
              dW_rec_e.data_ptr<T>(), N);
      gemm<T>(true, false, N, 2 * N, total, Re, N, dPe, P, T(0),
              d_W_gates[e].data_ptr<T>(), 2 * N);
    } else {
      gemm<T>(true, false, N, N, total, Re, N, dPe, P, T(0), dW_rec_e.data_ptr<T>(), N);
    }
  }
}

Sizes sizes_of(int64_t T, int64_t B, const at::Tensor& W_in, const at::Tensor& W_rec,
               const c10::optional<at::Tensor>& W_gates) {
  Sizes z;
  z.E = W_rec.size(0); z.T = T; z.B = B; z.n_in = W_in.size(1);
  z.N = W_rec.size(-1); z.P = W_in.size(-1);
  z.gru = W_gates.has_value() && W_gates->defined();
  return z;
}

}  // namespace

// Returns [out, rates, counts, idx, pos, actions, U, XO, R, Z, H, AZ, CMX, XP, READ]:
// out the logits (E, T, B, A) with a readout (W_out, b_out), else the states (E, T, B, N),
// 0 where not computed; rates = rate_fn(x) (E, T, B, N) if want_rates; actions (E, T, B)
// (FIXATE where not computed) when sampling; buffers a mode does not use are empty.
std::vector<at::Tensor> forward(at::Tensor x0, at::Tensor u, at::Tensor W_in, at::Tensor b_in,
                                at::Tensor W_rec, c10::optional<at::Tensor> W_gates,
                                at::Tensor alpha, c10::optional<at::Tensor> noise,
                                int64_t rate_fn, c10::optional<at::Tensor> counts_in,
                                c10::optional<at::Tensor> idx_in,
                                c10::optional<at::Tensor> pos_in,
                                c10::optional<at::Tensor> W_out, c10::optional<at::Tensor> b_out,
                                int64_t read_fn, c10::optional<at::Tensor> cap,
                                c10::optional<at::Tensor> uniforms, bool want_rates) {
  TORCH_CHECK(u.dim() == 4 && u.stride(3) == 1, "u must be (E, T, B, n_in), last dim dense");
  for (const at::Tensor& W : {W_in, W_rec})
    TORCH_CHECK(W.dim() == 3 && W.stride(2) == 1, "weights: (E, n, m) with dense rows");
  const bool sampling = !counts_in.has_value();
  const bool readout = W_out.has_value();
  TORCH_CHECK(!sampling || (readout && cap.has_value() && uniforms.has_value()),
              "sampling needs W_out, b_out, cap and uniforms");
  // given rows may come from a run of more steps than u holds (it stopped early): their
  // layout is that run's T; no row lies beyond u's steps
  const int64_t T = sampling ? u.size(1) : counts_in->size(1);
  TORCH_CHECK(sampling || counts_in->narrow(1, u.size(1), T - u.size(1)).sum().item<int64_t>() == 0,
              "rows beyond the steps of u");
  const Sizes z = sizes_of(T, u.size(2), W_in, W_rec, W_gates);
  auto opt = x0.options();
  auto lopt = opt.dtype(at::kLong);
  const int64_t rows = z.E * z.T * z.B;
  at::Tensor counts, idx, pos, actions;
  if (sampling) {
    counts = at::zeros({z.E, z.T}, lopt);
    idx = at::empty({z.E, z.T * z.B}, lopt);
    pos = at::empty({z.E, z.T * z.B}, lopt);
    actions = at::zeros({z.E, z.T, z.B}, lopt);
  } else {
    counts = counts_in->contiguous();
    idx = idx_in->contiguous();
    pos = pos_in->contiguous();
  }
  at::Tensor nz = noise.has_value() ? *noise : at::Tensor();
  if (nz.defined()) TORCH_CHECK(nz.stride(3) == 1, "noise: last dim must be dense");
  at::Tensor Wo = readout ? *W_out : at::Tensor(), bo = readout ? *b_out : at::Tensor();
  if (readout) TORCH_CHECK(Wo.dim() == 3 && Wo.stride(2) == 1, "W_out: (E, N, A), dense rows");
  at::Tensor out = at::zeros({z.E, z.T, z.B, readout ? Wo.size(2) : z.N}, opt);
  at::Tensor rates = want_rates ? at::zeros({z.E, z.T, z.B, z.N}, opt) : at::empty({0}, opt);
  std::vector<at::Tensor> buf(9);
  buf[0] = pooled(rows, z.n_in, opt);
  buf[1] = pooled(rows, z.N, opt);
  buf[2] = pooled(rows, z.N, opt);
  if (z.gru) {
    buf[3] = pooled(rows, 2 * z.N, opt);
    buf[4] = pooled(rows, z.N, opt);
    buf[5] = pooled(rows, z.N, opt);
    buf[6] = pooled(rows, z.N, opt);
  }
  if (rate_fn == SOFTPLUS) buf[7] = pooled(rows, z.N, opt);
  if (readout) buf[8] = pooled(rows, z.N, opt);
  at::Tensor Wg = z.gru ? *W_gates : at::Tensor();
  at::Tensor cp = sampling ? cap->to(opt.dtype()).contiguous() : at::Tensor();
  at::Tensor un = sampling ? uniforms->to(opt.dtype()) : at::Tensor();
  at::Tensor al = alpha.to(opt.dtype()).contiguous();
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "recurrence_forward", [&] {
    forward_impl<scalar_t>(z, x0, u, W_in, b_in, W_rec, Wg, al, nz, rate_fn, sampling, readout,
                           Wo, bo, cp, un, read_fn, counts, idx, pos, actions, out, rates, buf);
  });
  std::vector<at::Tensor> result = {out, rates, counts, idx, pos,
                                    actions.defined() ? actions : at::empty({0}, lopt)};
  for (auto& b : buf) result.push_back(b.defined() ? b : at::empty({0}, opt));
  return result;
}

// Returns [d_x0, d_W_in, d_b, d_W_rec, d_W_gates, d_W_out, d_b_out] (empty where the network
// has no such parameter or no readout ran).
std::vector<at::Tensor> backward(at::Tensor d_out, int64_t T, int64_t B, at::Tensor W_in,
                                 at::Tensor W_rec, c10::optional<at::Tensor> W_gates,
                                 at::Tensor alpha, at::Tensor counts, at::Tensor idx,
                                 at::Tensor pos, int64_t rate_fn, std::vector<at::Tensor> buf,
                                 c10::optional<at::Tensor> W_out, int64_t read_fn) {
  const Sizes z = sizes_of(T, B, W_in, W_rec, W_gates);
  const bool readout = W_out.has_value();
  auto opt = W_rec.options();
  at::Tensor d_x0 = at::empty({z.E, z.N}, opt);
  at::Tensor d_W_in = at::empty({z.E, z.n_in, z.P}, opt);
  at::Tensor d_b = at::empty({z.E, z.P}, opt);
  at::Tensor d_W_rec = at::empty({z.E, z.N, z.N}, opt);
  at::Tensor d_W_gates = z.gru ? at::empty({z.E, z.N, 2 * z.N}, opt) : at::empty({0}, opt);
  at::Tensor Wo = readout ? *W_out : at::Tensor();
  const int64_t A = readout ? Wo.size(2) : 0;
  at::Tensor d_W_out = readout ? at::empty({z.E, z.N, A}, opt) : at::empty({0}, opt);
  at::Tensor d_b_out = readout ? at::empty({z.E, A}, opt) : at::empty({0}, opt);
  at::Tensor Wg = z.gru ? *W_gates : at::Tensor();
  at::Tensor al = alpha.to(opt.dtype()).contiguous();
  AT_DISPATCH_FLOATING_TYPES(W_rec.scalar_type(), "recurrence_backward", [&] {
    backward_impl<scalar_t>(z, d_out, W_rec, Wg, al, counts, idx, pos, rate_fn, buf, readout,
                            Wo, read_fn, d_x0, d_W_in, d_b, d_W_rec, d_W_gates, d_W_out,
                            d_b_out);
  });
  return {d_x0, d_W_in, d_b, d_W_rec, d_W_gates, d_W_out, d_b_out};
}

// Frees the pooled work buffers no tensor uses any more (train() calls it when it ends).
int64_t release() {
  std::lock_guard<std::mutex> lock(pool_mutex);
  const auto before = pool.size();
  pool.erase(std::remove_if(pool.begin(), pool.end(),
                            [](const at::Tensor& t) { return t.storage().use_count() == 1; }),
             pool.end());
  return static_cast<int64_t>(before - pool.size());
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("release", &release, "free the unused pooled work buffers");
  m.def("pooled_blocks", [] {
    std::lock_guard<std::mutex> lock(pool_mutex);
    return static_cast<int64_t>(pool.size());
  }, "how many work buffers the pool holds");
  m.def("forward", &forward, "recurrence forward (see recurrence.cpp)");
  m.def("backward", &backward, "recurrence backward through time (see recurrence.cpp)");
}
