// SwiGLU seed: out = silu(gate) * up, silu(x) = x / (1 + exp(-x)).
// One thread per element. Defines: D (row width).
// Launch: global B*D, local 256 (grid = B*D/256 blocks of 256 threads).
extern "C" __global__ void swiglu(const float* __restrict__ gate,
                                  const float* __restrict__ up,
                                  float* __restrict__ out,
                                  unsigned int n_rows)
{
    const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (unsigned long long)n_rows * D) return;
    const float g = gate[i];
    out[i] = g / (1.0f + expf(-g)) * up[i];
}
