// SwiGLU seed: out = silu(gate) * up, silu(x) = x / (1 + exp(-x)).
// One work-item per element. Defines: D (row width).
// Launch: global B*D, local 256.
__kernel void swiglu(__global const float* gate,
                     __global const float* up,
                     __global float* out,
                     const uint n_rows)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)n_rows * D) return;
    const float g = gate[i];
    out[i] = g / (1.0f + exp(-g)) * up[i];
}
