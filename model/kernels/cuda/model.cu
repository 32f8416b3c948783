// The decode loop's own kernels (the discovered classes, rmsnorm, swiglu,
// topk_gating and moe_combine, come from the targets' seeds or a pack).
// Same arithmetic as ../opencl/model.cl: explicit fma, the same reduction
// trees, so both dialects round alike.

// MV_LANES threads (a warp) share one row of a matrix-vector product.
#define MV_LANES 32
// The largest block any kernel here is launched with.
#define LOCAL_MAX 1024

// hash32 is a 32-bit integer mixer (Chris Wellons' lowbias32).
__device__ __forceinline__ unsigned int hash32(unsigned int x) {
    x ^= x >> 16; x *= 0x7feb352dU;
    x ^= x >> 15; x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

// init_weights fills w[i] = (int(h >> 9) + bias) * step, h a hash of
// (seed, tensor, i): an integer below 2^24 times one float, so a single
// rounding and the same value on every device and in Go.
extern "C" __global__ void init_weights(float* __restrict__ w, unsigned int n, unsigned int seed,
                                        unsigned int tensor, int bias, float step)
{
    const unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const unsigned int h = hash32(i ^ hash32(seed ^ hash32(tensor)));
    w[i] = __fmul_rn((float)((int)(h >> 9) + bias), step);
}

// embed copies row tok[0] of table [V, d] into out [d].
extern "C" __global__ void embed(const unsigned int* __restrict__ tok, const float* __restrict__ table,
                                 float* __restrict__ out, unsigned int d)
{
    const unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < d) out[i] = table[(unsigned long long)tok[0] * d + i];
}

// add: x += y over d elements (the residual stream).
extern "C" __global__ void add(float* __restrict__ x, const float* __restrict__ y, unsigned int d)
{
    const unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < d) x[i] += y[i];
}

// row_dot is one lane's share of dot(w[0:k], x[0:k]): float4 loads when
// rows are 16-byte aligned (k % 4 == 0), several in flight per lane.
__device__ __forceinline__ float row_dot(const float* __restrict__ w, const float* __restrict__ x,
                                         unsigned int k, unsigned int lane)
{
    float acc = 0.0f;
    if ((k & 3u) == 0) {
        const float4* w4 = reinterpret_cast<const float4*>(w);
        const float4* x4 = reinterpret_cast<const float4*>(x);
#pragma unroll 4
        for (unsigned int j = lane; j < k / 4; j += MV_LANES) {
            const float4 a = __ldg(&w4[j]), b = __ldg(&x4[j]);
            acc = fmaf(a.x, b.x, acc);
            acc = fmaf(a.y, b.y, acc);
            acc = fmaf(a.z, b.z, acc);
            acc = fmaf(a.w, b.w, acc);
        }
    } else {
        for (unsigned int j = lane; j < k; j += MV_LANES) acc = fmaf(w[j], x[j], acc);
    }
    return acc;
}

// matvec_rows computes y[r] = dot(w[r, :], x) for the block's rows, a warp
// per row, reduced by halving (lane l adds lane l+s).
__device__ __forceinline__ void matvec_rows(const float* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, unsigned int n, unsigned int k)
{
    const unsigned int lane = threadIdx.x % MV_LANES;
    const unsigned int row = blockIdx.x * (blockDim.x / MV_LANES) + threadIdx.x / MV_LANES;
    float acc = row < n ? row_dot(w + (unsigned long long)row * k, x, k, lane) : 0.0f;
    for (unsigned int s = MV_LANES / 2; s > 0; s >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, s);
    if (lane == 0 && row < n) y[row] = acc;
}

// matvec: y [n] = w [n, k] x [k], w row-major.
extern "C" __global__ void matvec(const float* __restrict__ w, const float* __restrict__ x,
                                  float* __restrict__ y, unsigned int n, unsigned int k)
{
    matvec_rows(w, x, y, n, k);
}

// expert_matvec: for the e-th selected expert (grid dimension y),
// y[e] [n] = w[idx[e]] [n, k] x[e] [k], with x[e] = x + e * x_stride (0:
// every expert reads the same x).
extern "C" __global__ void expert_matvec(const float* __restrict__ w, const float* __restrict__ x,
                                         const unsigned int* __restrict__ idx, float* __restrict__ y,
                                         unsigned int n, unsigned int k, unsigned int x_stride)
{
    const unsigned int e = blockIdx.y;
    matvec_rows(w + (unsigned long long)idx[e] * n * k, x + (unsigned long long)e * x_stride,
                y + (unsigned long long)e * n, n, k);
}

// argmax writes the index of the largest of v[0:n] to tok[0], the lowest
// index among equals. One block.
extern "C" __global__ void argmax(const float* __restrict__ v, unsigned int* __restrict__ tok, unsigned int n)
{
    __shared__ float best[LOCAL_MAX];
    __shared__ unsigned int at[LOCAL_MAX];
    const unsigned int lid = threadIdx.x;
    const unsigned int nl = blockDim.x;
    float b = __int_as_float(0xff800000u); /* -inf: NVRTC has no <cmath> */
    unsigned int bi = 0;
    for (unsigned int i = lid; i < n; i += nl) {
        const float u = v[i];
        if (u > b) { b = u; bi = i; }
    }
    best[lid] = b;
    at[lid] = bi;
    __syncthreads();
    for (unsigned int s = nl / 2; s > 0; s >>= 1) {
        if (lid < s) {
            const float o = best[lid + s];
            const unsigned int oi = at[lid + s];
            if (o > best[lid] || (o == best[lid] && oi < at[lid])) { best[lid] = o; at[lid] = oi; }
        }
        __syncthreads();
    }
    if (lid == 0) tok[0] = at[0];
}
