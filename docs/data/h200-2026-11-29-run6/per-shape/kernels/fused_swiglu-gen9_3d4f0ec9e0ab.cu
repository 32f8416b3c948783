// fused_swiglu: fused SwiGLU activation silu(gate)*up, D=4096
// Exported by discover on 2026-11-29T01:09:23Z from session 02e873f5afd28fa5 (node gen9_3d4f0ec9e0ab, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=4096; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=4096
// Entry swiglu(gate, up, out, n_rows).
// Launch: local 128x1x1, global B*D/1 (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 1.079x:
//   B=1      1.118x  (1.04 us vs 1.16 us)
//   B=4      1.098x  (1.11 us vs 1.22 us)
//   B=16     1.070x  (1.19 us vs 1.28 us)
//   B=4096   1.031x  (80.90 us vs 83.39 us)
// Manifest (arguments, shapes, launch rule): fused_swiglu-gen9_3d4f0ec9e0ab.cu.json

#ifndef D
#define D 4096
#endif

// tuner swiglu: tpb=128 vec=1 ipt=1 hint=none fast=1
// 128 work-items per group, each 1 x float
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 128
#define VEC 1
#define IPT 1
#define LOADV(d, p, i) do { const float v_ = ((const float*)(p))[i]; (d)[0] = v_; } while (0)
#define STOREV(p, i, s) (((float*)(p))[i] = ((s)[0]))
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
