// MoE combine seed: out[b,d] = sum_k weights[b,k] * expert_outputs[b,k,d].
// One work-item per output element. Defines: D (row width), K (experts per row).
// Launch: global B*D, local 256.
__kernel void moe_combine(__global const float* expert_outputs,
                          __global const float* weights,
                          __global float* out,
                          const uint n_rows)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)n_rows * D) return;
    const size_t b = i / D;
    const size_t d = i % D;
    float acc = 0.0f;
    for (uint k = 0; k < K; ++k) {
        acc += weights[b * K + k] * expert_outputs[(b * K + k) * D + d];
    }
    out[i] = acc;
}
