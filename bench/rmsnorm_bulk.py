#!/usr/bin/env python3
"""Writes hand-made rmsnorm (D=4096) variants that load rows with Hopper's
bulk copies (cp.async.bulk into shared memory, completion on an mbarrier;
sm_90, PTX 8.0, so NVRTC 12 or later) as a replay file for `discover search
rmsnorm --llm replay`. Experiment for issue #5: whether one 16 KB copy per
row, and for ROWS > 1 the next row's copy in flight while the current one
is reduced and written, gets closer to the copy bandwidth than register
loads. Each block takes ROWS consecutive rows in turn, with two row
buffers; the weight slice a thread needs is held in registers."""
import sys

KERNEL = r'''
typedef unsigned int uint;
typedef unsigned long long u64;
#define NV (D / 4 / TPB) /* float4 per thread per row */

static __device__ __forceinline__ uint smem(const void* p) { return (uint)__cvta_generic_to_shared(p); }

/* One row into buffer s: the barrier expects its bytes, the copy delivers them. */
static __device__ __forceinline__ void fetch(float4* dst, const float* src, u64* bar)
{
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(smem(bar)), "r"(D * 4) : "memory");
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                 :: "r"(smem(dst)), "l"(src), "r"(D * 4), "r"(smem(bar)) : "memory");
}

static __device__ __forceinline__ void wait(u64* bar, uint parity)
{
    uint done = 0;
    while (!done)
        asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                     : "=r"(done) : "r"(smem(bar)), "r"(parity) : "memory");
}

extern "C" __global__ void __launch_bounds__(TPB) rmsnorm(const float* __restrict__ x,
        const float* __restrict__ weight, float* __restrict__ out, const uint n_rows)
{
    __shared__ __align__(128) float4 buf[2][D / 4];
    __shared__ __align__(8) u64 bar[2];
    __shared__ float red[TPB / 32];
    const uint t = threadIdx.x, first = blockIdx.x * ROWS;
    if (first >= n_rows) return; /* the whole block leaves */
    const uint nr = min((uint)ROWS, n_rows - first);
    if (t == 0) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" :: "r"(smem(&bar[0])) : "memory");
        asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" :: "r"(smem(&bar[1])) : "memory");
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
        fetch(buf[0], x + (u64)first * D, &bar[0]);
    }
    float4 w[NV];
#pragma unroll
    for (uint k = 0; k < NV; ++k) w[k] = ((const float4*)weight)[t + k * TPB];
    __syncthreads(); /* the barriers are initialised before anyone waits */
    for (uint i = 0; i < nr; ++i) {
        const uint s = i & 1;
        /* buffer s^1 was last read in iteration i-1, which ended in a barrier */
        if (t == 0 && i + 1 < nr) fetch(buf[s ^ 1], x + (u64)(first + i + 1) * D, &bar[s ^ 1]);
        wait(&bar[s], (i >> 1) & 1);
        float4 v[NV];
        float acc = 0.0f;
#pragma unroll
        for (uint k = 0; k < NV; ++k) {
            v[k] = buf[s][t + k * TPB];
            acc += v[k].x * v[k].x + v[k].y * v[k].y + v[k].z * v[k].z + v[k].w * v[k].w;
        }
#pragma unroll
        for (uint o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
        if (t % 32 == 0) red[t / 32] = acc;
        __syncthreads();
        acc = red[0];
#pragma unroll
        for (uint j = 1; j < TPB / 32; ++j) acc += red[j];
        const float inv = rsqrtf(acc / (float)D + 1e-6f);
        float4* o = (float4*)(out + (u64)(first + i) * D);
#pragma unroll
        for (uint k = 0; k < NV; ++k)
            o[t + k * TPB] = make_float4(v[k].x * inv * w[k].x, v[k].y * inv * w[k].y, v[k].z * inv * w[k].z, v[k].w * inv * w[k].w);
        __syncthreads(); /* buf[s] and red are free again */
    }
}
'''

# threads per block, rows per block
VARIANTS = [(256, 1), (256, 2), (256, 4), (512, 1), (512, 2), (512, 4), (128, 4), (256, 8)]


def render(tpb, rows):
    name = f"bulk copies, {tpb} threads per block, {rows} rows per block in turn"
    src = f"// hand rmsnorm: {name}\n#define TPB {tpb}\n#define ROWS {rows}\n" + KERNEL
    grid = "B*LOCAL" if rows == 1 else f"(B+{rows - 1})/{rows}*LOCAL"
    return f"REASONING: {name}\nTHREADGROUP: {tpb}, 1, 1\nGRID: {grid}\nSOURCE:\n```cuda\n{src}```\n"


if __name__ == "__main__":
    sys.stdout.write("---VARIANT---\n".join(render(*v) for v in VARIANTS))
