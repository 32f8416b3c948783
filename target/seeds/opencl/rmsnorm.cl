// RMSNorm seed: out[b,j] = x[b,j] / sqrt(mean(x[b,:]^2) + 1e-6) * weight[j].
// One work-group per row, of any size up to RMS_LOCAL_MAX. Defines: D (row width).
// Launch: global B*LOCAL, local 256.
#define RMS_LOCAL_MAX 256

__kernel void rmsnorm(__global const float* x,
                      __global const float* weight,
                      __global float* out,
                      const uint n_rows)
{
    __local float partial[RMS_LOCAL_MAX];
    const uint row = get_group_id(0);
    if (row >= n_rows) return; /* uniform across the work-group */
    const uint lid = get_local_id(0);
    const uint nl = get_local_size(0);
    __global const float* xr = x + (size_t)row * D;
    __global float* outr = out + (size_t)row * D;

    float acc = 0.0f;
    for (uint j = lid; j < D; j += nl) {
        const float v = xr[j];
        acc += v * v;
    }
    partial[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint p2 = 1; /* smallest power of two >= nl */
    while (p2 < nl) p2 <<= 1;
    for (uint s = p2 / 2; s > 0; s >>= 1) {
        if (lid < s && lid + s < nl) partial[lid] += partial[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = rsqrt(partial[0] / (float)D + 1e-6f);

    for (uint j = lid; j < D; j += nl) {
        outr[j] = xr[j] * inv * weight[j];
    }
}
