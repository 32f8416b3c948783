// MoE combine seed: out[b,d] = sum_k weights[b,k] * expert_outputs[b,k,d].
// One thread per output element. Defines: D (row width), K (experts per row).
// Launch: global B*D, local 256 (grid = B*D/256 blocks of 256 threads).
extern "C" __global__ void moe_combine(const float* __restrict__ expert_outputs,
                                       const float* __restrict__ weights,
                                       float* __restrict__ out,
                                       unsigned int n_rows)
{
    const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (unsigned long long)n_rows * D) return;
    const unsigned long long b = i / D;
    const unsigned long long d = i % D;
    float acc = 0.0f;
    for (unsigned int k = 0; k < K; ++k) {
        acc += weights[b * K + k] * expert_outputs[(b * K + k) * D + d];
    }
    out[i] = acc;
}
