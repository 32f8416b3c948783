#!/usr/bin/env python3
"""Writes hand-made rmsnorm (D=4096) variants as a replay file for
`discover search rmsnorm --llm replay`: the tuner's best row-reload kernel
with different cache hints on its loads and stores (PTX eviction priorities
and L2 cache policies), and a few block widths. Experiment for issue #5:
which memory instructions close the gap to torch.compile at B=4096."""
import sys

HELPERS = r'''
static __device__ __forceinline__ float4 ld_plain(const float4* p) { return *p; }
static __device__ __forceinline__ float4 ld_cs(const float4* p) { return __ldcs(p); }
static __device__ __forceinline__ float4 ld_cg(const float4* p) { return __ldcg(p); }
static __device__ __forceinline__ float4 ld_l1last(const float4* p) {
    float4 v; asm("ld.global.L1::evict_last.v4.f32 {%0,%1,%2,%3}, [%4];" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p)); return v; }
static __device__ __forceinline__ float4 ld_l1first(const float4* p) {
    float4 v; asm("ld.global.L1::evict_first.v4.f32 {%0,%1,%2,%3}, [%4];" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p)); return v; }
static __device__ __forceinline__ u64 pol_last() { u64 p; asm("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;" : "=l"(p)); return p; }
static __device__ __forceinline__ u64 pol_first() { u64 p; asm("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(p)); return p; }
static __device__ __forceinline__ float4 ld_l2last(const float4* p) {
    float4 v; asm("ld.global.L2::cache_hint.v4.f32 {%0,%1,%2,%3}, [%4], %5;" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p), "l"(pol_last())); return v; }
static __device__ __forceinline__ float4 ld_l2first(const float4* p) {
    float4 v; asm("ld.global.L2::cache_hint.v4.f32 {%0,%1,%2,%3}, [%4], %5;" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p), "l"(pol_first())); return v; }
static __device__ __forceinline__ float4 ld_tlast(const float4* p) {
    float4 v; asm("ld.global.L1::evict_last.L2::cache_hint.v4.f32 {%0,%1,%2,%3}, [%4], %5;" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p), "l"(pol_last())); return v; }
static __device__ __forceinline__ float4 ld_tfirst(const float4* p) {
    float4 v; asm("ld.global.L1::evict_first.L2::cache_hint.v4.f32 {%0,%1,%2,%3}, [%4], %5;" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p), "l"(pol_first())); return v; }
static __device__ __forceinline__ void st_plain(float4* p, float4 v) { *p = v; }
static __device__ __forceinline__ void st_cs(float4* p, float4 v) { __stcs(p, v); }
static __device__ __forceinline__ void st_l2first(float4* p, float4 v) {
    asm volatile("st.global.L2::cache_hint.v4.f32 [%0], {%1,%2,%3,%4}, %5;" :: "l"(p), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w), "l"(pol_first()) : "memory"); }
'''

SEG_SUM = r'''
static __device__ __forceinline__ float seg_sum(float v, float* red, uint lid)
{
#pragma unroll
    for (uint o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lid % 32 == 0) red[lid / 32] = v;
    __syncthreads();
    v = red[0];
#pragma unroll
    for (uint w = 1; w < TPR / 32; ++w) v += red[w];
    return v;
}
'''

RELOAD = r'''
extern "C" __global__ void __launch_bounds__(TPR) rmsnorm(const float* __restrict__ x,
        const float* __restrict__ weight, float* __restrict__ out, const uint n_rows)
{
    __shared__ float red[TPR / 32];
    const uint t = threadIdx.x, row = blockIdx.x;
    if (row >= n_rows) return; /* one row per block: the whole block leaves */
    const float4* xr = (const float4*)(x + (u64)row * D);
    const float4* w4 = (const float4*)weight;
    float4* outr = (float4*)(out + (u64)row * D);
    float acc = 0.0f;
#pragma unroll UNROLL
    for (uint j = t; j < D / 4; j += TPR) {
        const float4 v = LD1(xr + j);
        acc += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
    const float inv = rsqrtf(seg_sum(acc, red, t) / (float)D + 1e-6f);
#pragma unroll UNROLL
    for (uint j = t; j < D / 4; j += TPR) {
        const float4 v = LD2(xr + j), w = LDW(w4 + j);
        ST(outr + j, make_float4(v.x * inv * w.x, v.y * inv * w.y, v.z * inv * w.z, v.w * inv * w.w));
    }
}
'''

REGS = r'''
extern "C" __global__ void __launch_bounds__(TPR) rmsnorm(const float* __restrict__ x,
        const float* __restrict__ weight, float* __restrict__ out, const uint n_rows)
{
    __shared__ float red[TPR / 32];
    const uint t = threadIdx.x, row = blockIdx.x;
    if (row >= n_rows) return;
    const float4* xr = (const float4*)(x + (u64)row * D);
    const float4* w4 = (const float4*)weight;
    float4* outr = (float4*)(out + (u64)row * D);
    float4 v[D / 4 / TPR];
    float acc = 0.0f;
#pragma unroll
    for (uint k = 0; k < D / 4 / TPR; ++k) v[k] = LD1(xr + t + k * TPR);
#pragma unroll
    for (uint k = 0; k < D / 4 / TPR; ++k) acc += v[k].x * v[k].x + v[k].y * v[k].y + v[k].z * v[k].z + v[k].w * v[k].w;
    const float inv = rsqrtf(seg_sum(acc, red, t) / (float)D + 1e-6f);
#pragma unroll
    for (uint k = 0; k < D / 4 / TPR; ++k) {
        const float4 w = LDW(w4 + t + k * TPR);
        ST(outr + t + k * TPR, make_float4(v[k].x * inv * w.x, v[k].y * inv * w.y, v[k].z * inv * w.z, v[k].w * inv * w.w));
    }
}
'''

# name, body, TPR, unroll, first load, second load, weight load, store
VARIANTS = [
    ("reload512 plain", RELOAD, 512, 2, "plain", "plain", "plain", "plain"),
    ("reload512 as Inductor: L1+L2 evict_last first read and weight, evict_first last read", RELOAD, 512, 2, "tlast", "tfirst", "tlast", "plain"),
    ("reload512 plain first read, L1+L2 evict_first last read, evict_last weight", RELOAD, 512, 2, "plain", "tfirst", "tlast", "plain"),
    ("reload512 L2 policies only", RELOAD, 512, 2, "l2last", "l2first", "l2last", "plain"),
    ("reload512 L1 priorities only", RELOAD, 512, 2, "l1last", "l1first", "l1last", "plain"),
    ("reload512 plain/cs", RELOAD, 512, 2, "plain", "cs", "plain", "plain"),
    ("reload256 as Inductor", RELOAD, 256, 4, "tlast", "tfirst", "tlast", "plain"),
    ("regs512 evict_first row, evict_last weight (L1+L2)", REGS, 512, 1, "tfirst", "-", "tlast", "plain"),
    ("regs256 evict_first row, evict_last weight (L1+L2)", REGS, 256, 1, "tfirst", "-", "tlast", "plain"),
    ("regs512 plain row, evict_last weight (L1+L2)", REGS, 512, 1, "plain", "-", "tlast", "plain"),
    ("regs512 plain", REGS, 512, 1, "plain", "-", "plain", "plain"),
]


def render(name, body, tpr, unroll, l1, l2, lw, st):
    defs = f"#define TPR {tpr}\n#define UNROLL {unroll}\n#define LD1 ld_{l1}\n#define LDW ld_{lw}\n#define ST st_{st}\n"
    if l2 != "-":
        defs += f"#define LD2 ld_{l2}\n"
    src = f"// hand rmsnorm: {name}\ntypedef unsigned int uint;\ntypedef unsigned long long u64;\n" + defs + HELPERS + SEG_SUM + body
    return f"REASONING: {name}\nTHREADGROUP: {tpr}, 1, 1\nGRID: B*LOCAL\nSOURCE:\n```cuda\n{src}```\n"


if __name__ == "__main__":
    sys.stdout.write("---VARIANT---\n".join(render(*v) for v in VARIANTS))
