// RMSNorm seed: out[b,j] = x[b,j] / sqrt(mean(x[b,:]^2) + 1e-6) * weight[j].
// One block per row, of any size up to RMS_LOCAL_MAX. Defines: D (row width).
// Launch: global B*LOCAL, local 256 (grid = B blocks of 256 threads).
#define RMS_LOCAL_MAX 256

extern "C" __global__ void rmsnorm(const float* __restrict__ x,
                                   const float* __restrict__ weight,
                                   float* __restrict__ out,
                                   unsigned int n_rows)
{
    __shared__ float partial[RMS_LOCAL_MAX];
    const unsigned int row = blockIdx.x;
    if (row >= n_rows) return; /* uniform across the block */
    const unsigned int lid = threadIdx.x;
    const unsigned int nl = blockDim.x;
    const float* xr = x + (unsigned long long)row * D;
    float* outr = out + (unsigned long long)row * D;

    float acc = 0.0f;
    for (unsigned int j = lid; j < D; j += nl) {
        const float v = xr[j];
        acc += v * v;
    }
    partial[lid] = acc;
    __syncthreads();
    unsigned int p2 = 1; /* smallest power of two >= nl */
    while (p2 < nl) p2 <<= 1;
    for (unsigned int s = p2 / 2; s > 0; s >>= 1) {
        if (lid < s && lid + s < nl) partial[lid] += partial[lid + s];
        __syncthreads();
    }
    const float inv = rsqrtf(partial[0] / (float)D + 1e-6f);

    for (unsigned int j = lid; j < D; j += nl) {
        outr[j] = xr[j] * inv * weight[j];
    }
}
