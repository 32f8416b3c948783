// glm_rmsnorm: RMSNorm (eps 1e-6) with a learned weight, D=2048
// Exported by discover on 2026-11-29T02:04:36Z from session 7a60fd348a83fbb6 (node gen4_d585cd58c27a, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=2048; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=2048
// Entry rmsnorm(x, weight, out, n_rows).
// Launch: local 256x1x1, global B*LOCAL (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 2.695x:
//   B=1      2.983x  (1.34 us vs 3.99 us)
//   B=4      3.083x  (1.31 us vs 4.04 us)
//   B=16     3.002x  (1.38 us vs 4.15 us)
//   B=4096   1.911x  (16.80 us vs 32.09 us)
// Manifest (arguments, shapes, launch rule): glm_rmsnorm-gen4_d585cd58c27a.cu.json

#ifndef D
#define D 2048
#endif

// tuner rmsnorm: tpr=256 rpb=1 vec=2 cache=regs unroll=1 reduce=shfl hint=stream
// 256 work-items per row x 1 rows per group, float2 loads, row kept in registers, shfl reduction, evict-first loads and stores of data used once
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 256
#define TPR 256
#define RPB 1
#define VEC 2
#define RED 8
#define NVEC 4
#define LOADV(d, p, i) do { const float2 v_ = ((const float2*)(p))[i]; (d)[0] = v_.x; (d)[1] = v_.y; } while (0)
#define STOREV(p, i, s) (((float2*)(p))[i] = make_float2((s)[0], (s)[1]))
#define LOADV_S(d, p, i) do { const float2 v_ = __ldcs((const float2*)(p) + (i)); (d)[0] = v_.x; (d)[1] = v_.y; } while (0)
#define STOREV_S(p, i, s) __stcs((float2*)(p) + (i), make_float2((s)[0], (s)[1]))

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

extern "C" __global__ void __launch_bounds__(TPB) rmsnorm(const float* __restrict__ x,
        const float* __restrict__ weight,
        float* __restrict__ out,
        const uint n_rows)
{
    __shared__ float red[RED];
    const uint lid = threadIdx.x;
    const uint t = lid % TPR;
    const uint row = blockIdx.x * RPB + lid / TPR;
    /* Rows past the end still take part in the group's reduction. */
    const bool active = row < n_rows;
    const float* xr = x + (u64)row * D;
    float* outr = out + (u64)row * D;

    float acc = 0.0f;
    float v[NVEC][VEC];
    if (active) {
#pragma unroll
        for (uint k = 0; k < NVEC; ++k) LOADV_S(v[k], xr, t + k * TPR);
#pragma unroll
        for (uint k = 0; k < NVEC; ++k)
#pragma unroll
            for (uint c = 0; c < VEC; ++c) acc += v[k][c] * v[k][c];
    }
    acc = seg_sum(acc, red, lid);
    const float inv = rsqrtf(acc / (float)D + 1e-6f);
    if (!active) return;
#pragma unroll
    for (uint k = 0; k < NVEC; ++k) {
        const uint j = t + k * TPR;
        float w[VEC], o[VEC];
        LOADV(w, weight, j);
#pragma unroll
        for (uint c = 0; c < VEC; ++c) o[c] = v[k][c] * inv * w[c];
        STOREV_S(outr, j, o);
    }
}
