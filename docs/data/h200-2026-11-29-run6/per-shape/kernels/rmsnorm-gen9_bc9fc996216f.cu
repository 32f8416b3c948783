// rmsnorm: RMSNorm (eps 1e-6) with a learned weight, D=4096
// Exported by discover on 2026-11-29T01:09:24Z from session 94236afe8034269d (node gen9_bc9fc996216f, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=4096; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=4096
// Entry rmsnorm(x, weight, out, n_rows).
// Launch: local 512x1x1, global B*LOCAL (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 2.910x:
//   B=1      3.494x  (1.92 us vs 6.69 us)
//   B=4      3.500x  (1.91 us vs 6.68 us)
//   B=16     3.440x  (1.99 us vs 6.86 us)
//   B=4096   1.705x  (34.49 us vs 58.79 us)
// Manifest (arguments, shapes, launch rule): rmsnorm-gen9_bc9fc996216f.cu.json

#ifndef D
#define D 4096
#endif

// tuner rmsnorm: tpr=512 rpb=1 vec=4 cache=regs unroll=1 reduce=tree hint=none
// 512 work-items per row x 1 rows per group, float4 loads, row kept in registers, tree reduction
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 512
#define TPR 512
#define RPB 1
#define VEC 4
#define RED 512
#define NVEC 2
#define LOADV(d, p, i) do { const float4 v_ = ((const float4*)(p))[i]; (d)[0] = v_.x; (d)[1] = v_.y; (d)[2] = v_.z; (d)[3] = v_.w; } while (0)
#define STOREV(p, i, s) (((float4*)(p))[i] = make_float4((s)[0], (s)[1], (s)[2], (s)[3]))
#define LOADV_S LOADV
#define STOREV_S STOREV

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
