// The decode loop's own kernels (the discovered classes, rmsnorm, swiglu,
// topk_gating and moe_combine, come from the targets' seeds or a pack).
// Same arithmetic as ../cuda/model.cu: explicit fma, the same reduction
// trees, so both dialects round alike.

// MV_LANES work-items share one row of a matrix-vector product.
#define MV_LANES 32
// The largest work-group any kernel here is launched with.
#define LOCAL_MAX 1024

// hash32 is a 32-bit integer mixer (Chris Wellons' lowbias32).
inline uint hash32(uint x) {
    x ^= x >> 16; x *= 0x7feb352dU;
    x ^= x >> 15; x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

// init_weights fills w[i] = (int(h >> 9) + bias) * step, h a hash of
// (seed, tensor, i): an integer below 2^24 times one float, so a single
// rounding and the same value on every device and in Go.
__kernel void init_weights(__global float* w, const uint n, const uint seed,
                           const uint tensor, const int bias, const float step)
{
    const uint i = get_global_id(0);
    if (i >= n) return;
    const uint h = hash32(i ^ hash32(seed ^ hash32(tensor)));
    w[i] = (float)((int)(h >> 9) + bias) * step;
}

// embed copies row tok[0] of table [V, d] into out [d].
__kernel void embed(__global const uint* tok, __global const float* table,
                    __global float* out, const uint d)
{
    const uint i = get_global_id(0);
    if (i < d) out[i] = table[(size_t)tok[0] * d + i];
}

// add: x += y over d elements (the residual stream).
__kernel void add(__global float* x, __global const float* y, const uint d)
{
    const uint i = get_global_id(0);
    if (i < d) x[i] += y[i];
}

// row_dot is one lane's share of dot(w[0:k], x[0:k]): float4 loads when
// rows are 16-byte aligned (k % 4 == 0).
inline float row_dot(__global const float* w, __global const float* x, uint k, uint lane)
{
    float acc = 0.0f;
    if ((k & 3u) == 0) {
        __global const float4* w4 = (__global const float4*)w;
        __global const float4* x4 = (__global const float4*)x;
        for (uint j = lane; j < k / 4; j += MV_LANES) {
            const float4 a = w4[j], b = x4[j];
            acc = fma(a.x, b.x, acc);
            acc = fma(a.y, b.y, acc);
            acc = fma(a.z, b.z, acc);
            acc = fma(a.w, b.w, acc);
        }
    } else {
        for (uint j = lane; j < k; j += MV_LANES) acc = fma(w[j], x[j], acc);
    }
    return acc;
}

// matvec_rows computes y[r] = dot(w[r, :], x) for the work-group's rows,
// MV_LANES work-items per row, reduced by halving (lane l adds lane l+s).
inline void matvec_rows(__global const float* w, __global const float* x, __global float* y,
                        uint n, uint k, __local float* partial)
{
    const uint lid = get_local_id(0);
    const uint lane = lid % MV_LANES;
    const uint row = get_group_id(0) * (get_local_size(0) / MV_LANES) + lid / MV_LANES;
    partial[lid] = row < n ? row_dot(w + (size_t)row * k, x, k, lane) : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = MV_LANES / 2; s > 0; s >>= 1) {
        if (lane < s) partial[lid] += partial[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && row < n) y[row] = partial[lid];
}

// matvec: y [n] = w [n, k] x [k], w row-major.
__kernel void matvec(__global const float* w, __global const float* x,
                     __global float* y, const uint n, const uint k)
{
    __local float partial[LOCAL_MAX];
    matvec_rows(w, x, y, n, k, partial);
}

// expert_matvec: for the e-th selected expert (work-group dimension 1),
// y[e] [n] = w[idx[e]] [n, k] x[e] [k], with x[e] = x + e * x_stride (0:
// every expert reads the same x).
__kernel void expert_matvec(__global const float* w, __global const float* x,
                            __global const uint* idx, __global float* y,
                            const uint n, const uint k, const uint x_stride)
{
    __local float partial[LOCAL_MAX];
    const uint e = get_group_id(1);
    matvec_rows(w + (size_t)idx[e] * n * k, x + (size_t)e * x_stride, y + (size_t)e * n, n, k, partial);
}

// argmax writes the index of the largest of v[0:n] to tok[0], the lowest
// index among equals. One work-group.
__kernel void argmax(__global const float* v, __global uint* tok, const uint n)
{
    __local float best[LOCAL_MAX];
    __local uint at[LOCAL_MAX];
    const uint lid = get_local_id(0);
    const uint nl = get_local_size(0);
    float b = -INFINITY;
    uint bi = 0;
    for (uint i = lid; i < n; i += nl) {
        if (v[i] > b) { b = v[i]; bi = i; }
    }
    best[lid] = b;
    at[lid] = bi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = nl / 2; s > 0; s >>= 1) {
        if (lid < s) {
            const float o = best[lid + s];
            const uint oi = at[lid + s];
            if (o > best[lid] || (o == best[lid] && oi < at[lid])) { best[lid] = o; at[lid] = oi; }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) tok[0] = at[0];
}
