// glm_fused_swiglu: fused SwiGLU activation silu(gate)*up, D=1536
// Exported by discover on 2026-11-29T01:09:23Z from session 49d342f2132ea857 (node gen7_871a7a879d1a, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=1536; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=1536
// Entry swiglu(gate, up, out, n_rows).
// Launch: local 256x1x1, global B*D/1 (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 1.187x:
//   B=1      1.150x  (0.99 us vs 1.14 us)
//   B=4      1.145x  (1.01 us vs 1.15 us)
//   B=16     1.144x  (1.08 us vs 1.24 us)
//   B=4096   1.319x  (24.53 us vs 32.35 us)
// Manifest (arguments, shapes, launch rule): glm_fused_swiglu-gen7_871a7a879d1a.cu.json

#ifndef D
#define D 1536
#endif

// tuner swiglu: tpb=256 vec=1 ipt=1 hint=none fast=1
// 256 work-items per group, each 1 x float
typedef unsigned int uint;
typedef unsigned long long u64;

#define TPB 256
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
