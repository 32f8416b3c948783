// glm_rmsnorm: RMSNorm (eps 1e-6) with a learned weight, D=2048
// Exported by discover on 2026-11-29T01:09:24Z from session 83b495055539d216 (node gen6_a07d139cfc8b, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=2048; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=2048
// Entry rmsnorm(x, weight, out, n_rows).
// Launch: local 256x1x1, global B*LOCAL (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 2.389x:
//   B=1      2.581x  (1.54 us vs 3.98 us)
//   B=4      2.636x  (1.53 us vs 4.04 us)
//   B=16     2.573x  (1.61 us vs 4.14 us)
//   B=4096   1.859x  (16.85 us vs 31.34 us)
// Manifest (arguments, shapes, launch rule): glm_rmsnorm-gen6_a07d139cfc8b.cu.json

#ifndef D
#define D 2048
#endif

// tuner rmsnorm: tpr=256 rpb=1 vec=4 cache=regs unroll=1 reduce=tree hint=stream
// 256 work-items per row x 1 rows per group, float4 loads, row kept in registers, tree reduction, evict-first loads and stores of data used once
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 256
#define TPR 256
#define RPB 1
#define VEC 4
#define RED 256
#define NVEC 2
#define LOADV(d, p, i) do { const float4 v_ = ((const float4*)(p))[i]; (d)[0] = v_.x; (d)[1] = v_.y; (d)[2] = v_.z; (d)[3] = v_.w; } while (0)
#define STOREV(p, i, s) (((float4*)(p))[i] = make_float4((s)[0], (s)[1], (s)[2], (s)[3]))
#define LOADV_S(d, p, i) do { const float4 v_ = __ldcs((const float4*)(p) + (i)); (d)[0] = v_.x; (d)[1] = v_.y; (d)[2] = v_.z; (d)[3] = v_.w; } while (0)
#define STOREV_S(p, i, s) __stcs((float4*)(p) + (i), make_float4((s)[0], (s)[1], (s)[2], (s)[3]))

// Tree in local memory; every work-item reads the segment's total.
static __device__ __forceinline__ float seg_sum(float v, float* red, uint lid)
{
    red[lid] = v;
    __syncthreads();
    for (uint s = TPR / 2; s > 0; s >>= 1) {
        if (lid % TPR < s) red[lid] += red[lid + s];
        __syncthreads();
    }
    v = red[lid - lid % TPR];
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
