// fused_swiglu: fused SwiGLU activation silu(gate)*up, D=4096
// Exported by discover on 2026-11-29T01:09:23Z from session 02e873f5afd28fa5 (node gen4_5c5eccde11ea, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=4096; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=4096
// Entry swiglu(gate, up, out, n_rows).
// Launch: local 1024x1x1, global (B*D/2+1)/2 (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 0.960x:
//   B=1      0.776x  (1.50 us vs 1.17 us)
//   B=4      0.797x  (1.49 us vs 1.19 us)
//   B=16     0.782x  (1.62 us vs 1.27 us)
//   B=4096   1.756x  (47.35 us vs 83.12 us)
// Manifest (arguments, shapes, launch rule): fused_swiglu-gen4_5c5eccde11ea.cu.json

#ifndef D
#define D 4096
#endif

// tuner swiglu: tpb=1024 vec=2 ipt=2 hint=none fast=1
// 1024 work-items per group, each 2 x float2
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 1024
#define VEC 2
#define IPT 2
#define LOADV(d, p, i) do { const float2 v_ = ((const float2*)(p))[i]; (d)[0] = v_.x; (d)[1] = v_.y; } while (0)
#define STOREV(p, i, s) (((float2*)(p))[i] = make_float2((s)[0], (s)[1]))
#define LOADV_S LOADV
#define STOREV_S STOREV

extern "C" __global__ void __launch_bounds__(TPB) swiglu(const float* __restrict__ gate,
        const float* __restrict__ up,
        float* __restrict__ out,
        const uint n_rows)
{
    const u64 n = (u64)n_rows * (D / VEC); /* vectors in the output */
    const u64 base = (u64)blockIdx.x * (TPB * IPT) + threadIdx.x;
    float g[IPT][VEC], u[IPT][VEC];
#pragma unroll
    for (uint k = 0; k < IPT; ++k) {
        const u64 i = base + k * TPB;
        if (i < n) {
            LOADV_S(g[k], gate, i);
            LOADV_S(u[k], up, i);
        }
    }
#pragma unroll
    for (uint k = 0; k < IPT; ++k) {
        const u64 i = base + k * TPB;
        if (i < n) {
            float o[VEC];
#pragma unroll
            for (uint c = 0; c < VEC; ++c) o[c] = g[k][c] / (1.0f + __expf(-g[k][c])) * u[k][c];
            STOREV_S(out, i, o);
        }
    }
}
