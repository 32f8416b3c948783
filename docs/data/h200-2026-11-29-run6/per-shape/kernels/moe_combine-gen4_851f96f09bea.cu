// moe_combine: MoE combine: routing-weighted sum of 2 expert outputs, D=4096
// Exported by discover on 2026-11-29T01:09:24Z from session 8b9c709f98c53549 (node gen4_851f96f09bea, generator tuner).
// Tuned on: NVIDIA H200 (cuda NVRTC 13.0 (libnvrtc.so) 13.0).
// Dims: D=4096 K=2; dtype float32. Compile with: --std=c++17 -arch=<your GPU, e.g. sm_90> -DD=4096 -DK=2
// Entry moe_combine(expert_outputs, weights, out, n_rows).
// Launch: local 256x1x1, global B*D/1 (rounded up to a multiple of local).
// Speedup over the seed kernel (medians, timed interleaved), geometric mean 1.003x:
//   B=1      1.007x  (0.95 us vs 0.95 us)
//   B=4      1.000x  (0.98 us vs 0.98 us)
//   B=16     1.005x  (1.07 us vs 1.07 us)
//   B=4096   1.000x  (62.43 us vs 62.45 us)
// Manifest (arguments, shapes, launch rule): moe_combine-gen4_851f96f09bea.cu.json

#ifndef D
#define D 4096
#endif
#ifndef K
#define K 2
#endif

// tuner moe_combine: tpb=256 vec=1 ipt=1 hint=none
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

extern "C" __global__ void __launch_bounds__(TPB) moe_combine(const float* __restrict__ expert_outputs,
        const float* __restrict__ weights,
        float* __restrict__ out,
        const uint n_rows)
{
    const u64 n = (u64)n_rows * (D / VEC); /* vectors in the output */
    const u64 base = (u64)blockIdx.x * (TPB * IPT) + threadIdx.x;
    float e[IPT][K][VEC], w[IPT][K];
#pragma unroll
    for (uint k = 0; k < IPT; ++k) {
        const u64 i = base + k * TPB;
        if (i < n) {
            const u64 b = i / (D / VEC), dv = i % (D / VEC); /* row, vector in the row */
#pragma unroll
            for (uint x = 0; x < K; ++x) {
                w[k][x] = weights[b * K + x];
                LOADV_S(e[k][x], expert_outputs, (b * K + x) * (D / VEC) + dv);
            }
        }
    }
#pragma unroll
    for (uint k = 0; k < IPT; ++k) {
        const u64 i = base + k * TPB;
        if (i < n) {
            float o[VEC];
#pragma unroll
            for (uint c = 0; c < VEC; ++c) {
                o[c] = 0.0f;
#pragma unroll
                for (uint x = 0; x < K; ++x) o[c] += w[k][x] * e[k][x][c];
            }
            STOREV_S(out, i, o);
        }
    }
}
