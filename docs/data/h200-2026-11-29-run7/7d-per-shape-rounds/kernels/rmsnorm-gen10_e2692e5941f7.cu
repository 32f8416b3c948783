// rmsnorm: RMSNorm (eps 1e-6) with a learned weight, D=4096
// Exported by discover on 2026-11-29T02:04:36Z from session d49a44a2944662e2 (node gen10_e2692e5941f7, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=4096; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=4096
// Entry rmsnorm(x, weight, out, n_rows).
// Launch: local 512x1x1, global B*LOCAL (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 3.280x:
//   B=1      4.166x  (1.61 us vs 6.71 us)
//   B=4      4.154x  (1.61 us vs 6.68 us)
//   B=16     4.085x  (1.68 us vs 6.86 us)
//   B=4096   1.637x  (35.94 us vs 58.83 us)
// Manifest (arguments, shapes, launch rule): rmsnorm-gen10_e2692e5941f7.cu.json

#ifndef D
#define D 4096
#endif

// tuner rmsnorm: tpr=512 rpb=1 vec=2 cache=regs unroll=1 reduce=shfl hint=stream
// 512 work-items per row x 1 rows per group, float2 loads, row kept in registers, shfl reduction, evict-first loads and stores of data used once
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 512
#define TPR 512
#define RPB 1
#define VEC 2
#define RED 16
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
