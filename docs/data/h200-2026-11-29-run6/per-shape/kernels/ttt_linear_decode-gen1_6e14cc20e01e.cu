// ttt_linear_decode: TTT-Linear one-token decode step (inner SGD step on W, b, then output), F=64
// Exported by discover on 2026-11-29T01:09:24Z from session e39b3ab7d34ef9ae (node gen1_6e14cc20e01e, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: F=64; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DF=64
// Entry ttt_linear_decode(xq, xk, xv, lr, token_idx, W, b, W_grad, b_grad, ln_w, ln_b, out, W_out, b_out, W_grad_out, b_grad_out, n_rows).
// Launch: local 64x1x1, global R*LOCAL (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 2.478x:
//   R=2      2.510x  (3.51 us vs 8.82 us)
//   R=8      2.473x  (3.58 us vs 8.84 us)
//   R=32     2.453x  (3.69 us vs 9.06 us)
// Manifest (arguments, shapes, launch rule): ttt_linear_decode-gen1_6e14cc20e01e.cu.json

#ifndef F
#define F 64
#endif

// tuner ttt_linear_decode: vec=4 slices=4 cache=regs unroll=1 reduce=shfl
// one group of 64 per row: 16 column groups of float4 x 4 slices of 16 rows of W, W tile regs, shfl reductions
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 64
#define TPR 64
#define VEC 4
#define CG 16
#define SLICES 4
#define SLICE_ROWS 16
#define RED 2
#define LOADV(d, p, i) do { const float4 v_ = ((const float4*)(p))[i]; (d)[0] = v_.x; (d)[1] = v_.y; (d)[2] = v_.z; (d)[3] = v_.w; } while (0)
#define STOREV(p, i, s) (((float4*)(p))[i] = make_float4((s)[0], (s)[1], (s)[2], (s)[3]))
#define LOADV_S LOADV
#define STOREV_S STOREV

// Butterfly shuffles: both partners add the same two values, so every lane
// ends with the same bits. Warps then meet in red.
static __device__ __forceinline__ float seg_sum(float v, float* red, uint lid)
{
#pragma unroll
    for (uint o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lid % 32 == 0) red[lid / 32] = v;
    __syncthreads();
    const uint first = lid / TPR * (TPR / 32);
    v = red[first];
#pragma unroll
    for (uint w = 1; w < TPR / 32; ++w) v += red[first + w];
    __syncthreads(); /* red is reused by the next call */
    return v;
}

extern "C" __global__ void __launch_bounds__(TPB) ttt_linear_decode(const float* __restrict__ xq,
        const float* __restrict__ xk,
        const float* __restrict__ xv,
        const float* __restrict__ lr,
        const float* __restrict__ token_idx,
        const float* __restrict__ W,
        const float* __restrict__ b,
        const float* __restrict__ W_grad,
        const float* __restrict__ b_grad,
        const float* __restrict__ ln_w,
        const float* __restrict__ ln_b,
        float* __restrict__ out,
        float* __restrict__ W_out,
        float* __restrict__ b_out,
        float* __restrict__ W_grad_out,
        float* __restrict__ b_grad_out,
        const uint n_rows)
{
    __shared__ float sxk[F], sxq[F];
    __shared__ float sz[F], szh[F], sgh[F], sd[F], sbn[F];
    __shared__ float part[SLICES * F]; /* per-slice partial sums of a matrix-vector product */
    __shared__ float red[RED];
    const uint lid = threadIdx.x;
    const uint row = blockIdx.x;
    if (row >= n_rows) return; /* uniform across the group */
    const uint c = lid % CG;
    const uint sl = lid / CG;
    const u64 v0 = (u64)row * F;     /* offset of [row, :] */
    const u64 m0 = (u64)row * F * F; /* offset of [row, :, :] */
    const float* Wr = W + m0;
    const float* Wgr = W_grad + m0;
    float* Wo = W_out + m0;
    float* Wgo = W_grad_out + m0;

    for (uint j = lid; j < F; j += TPB) {
        sxk[j] = xk[v0 + j];
        sxq[j] = xq[v0 + j];
    }
    float w[SLICE_ROWS][VEC];
#pragma unroll
    for (uint m = 0; m < SLICE_ROWS; ++m) LOADV(w[m], Wr, (sl * SLICE_ROWS + m) * CG + c);
    __syncthreads();

    /* 1. z = xk @ W + b */
    float acc[VEC];
#pragma unroll
    for (uint q = 0; q < VEC; ++q) acc[q] = 0.0f;
#pragma unroll
    for (uint m = 0; m < SLICE_ROWS; ++m) {
        const float xi = sxk[sl * SLICE_ROWS + m];
#pragma unroll
        for (uint q = 0; q < VEC; ++q) acc[q] += xi * w[m][q];
    }
#pragma unroll
    for (uint q = 0; q < VEC; ++q) part[sl * F + c * VEC + q] = acc[q];
    __syncthreads();
    float p = 0.0f;
    for (uint j = lid; j < F; j += TPB) {
        float z = b[v0 + j];
        for (uint k = 0; k < SLICES; ++k) z += part[k * F + j];
        sz[j] = z;
        p += z;
    }

    /* 3. LayerNorm forward (two-pass variance); 2, 4, 5 on the way */
    const float mu = seg_sum(p, red, lid) / (float)F;
    p = 0.0f;
    for (uint j = lid; j < F; j += TPB) {
        const float dev = sz[j] - mu;
        p += dev * dev;
    }
    const float s = sqrtf(seg_sum(p, red, lid) / (float)F + 1e-6f);
    float p1 = 0.0f, p2 = 0.0f;
    for (uint j = lid; j < F; j += TPB) {
        const float zh = (sz[j] - mu) / s;
        const float y = ln_w[v0 + j] * zh + ln_b[v0 + j];
        const float target = xv[v0 + j] - sxk[j]; /* 2. */
        const float g = y - target;               /* 4. */
        const float gh = g * ln_w[v0 + j];        /* 5. */
        szh[j] = zh;
        sgh[j] = gh;
        p1 += gh;
        p2 += gh * zh;
    }
    const float sum_gh = seg_sum(p1, red, lid);
    const float sum_ghzh = seg_sum(p2, red, lid);

    /* 6-7, and 8-9 for the biases */
    const float lr_r = lr[row];
    const float tok = token_idx[0];
    for (uint j = lid; j < F; j += TPB) {
        const float dz = ((float)F * sgh[j] - sum_gh - szh[j] * sum_ghzh) / (s * (float)F);
        const float d = lr_r * dz;
        const float bg = b_grad[v0 + j] + d;
        const float bn = b[v0 + j] - tok * bg;
        b_grad_out[v0 + j] = bg;
        b_out[v0 + j] = bn;
        sd[j] = d;
        sbn[j] = bn;
    }
    __syncthreads(); /* sd, sbn ready; part free again */

    /* 8-9 on this work-item's tile, and its part of 10. z2 = xq @ W' + b' */
    float dc[VEC];
#pragma unroll
    for (uint q = 0; q < VEC; ++q) {
        dc[q] = sd[c * VEC + q];
        acc[q] = 0.0f;
    }
#pragma unroll
    for (uint m = 0; m < SLICE_ROWS; ++m) {
        const uint i = sl * SLICE_ROWS + m;
        const float xki = sxk[i], xqi = sxq[i];
        float gm[VEC];
        LOADV(gm, Wgr, i * CG + c);
        float gn[VEC], wn[VEC];
#pragma unroll
        for (uint q = 0; q < VEC; ++q) {
            gn[q] = gm[q] + xki * dc[q];
            wn[q] = w[m][q] - tok * gn[q];
            acc[q] += xqi * wn[q];
        }
        STOREV(Wgo, i * CG + c, gn);
        STOREV(Wo, i * CG + c, wn);
    }
#pragma unroll
    for (uint q = 0; q < VEC; ++q) part[sl * F + c * VEC + q] = acc[q];
    __syncthreads();
    p = 0.0f;
    for (uint j = lid; j < F; j += TPB) {
        float z = sbn[j];
        for (uint k = 0; k < SLICES; ++k) z += part[k * F + j];
        sz[j] = z;
        p += z;
    }

    /* 11. out = xq + LN(z2) */
    const float mu2 = seg_sum(p, red, lid) / (float)F;
    p = 0.0f;
    for (uint j = lid; j < F; j += TPB) {
        const float dev = sz[j] - mu2;
        p += dev * dev;
    }
    const float s2 = sqrtf(seg_sum(p, red, lid) / (float)F + 1e-6f);
    for (uint j = lid; j < F; j += TPB) out[v0 + j] = sxq[j] + ln_w[v0 + j] * (sz[j] - mu2) / s2 + ln_b[v0 + j];
}
