// Top-K gating seed: the K largest of E logits per row, in descending
// order, and a softmax over those K values.
// One block per row; thread lid ranks logits lid, lid+blockDim.x, ...:
// rank(i) = #{j : x[j] > x[i]} (ties, which the inputs never have, broken
// by lower index first); a logit of rank < K is selected at that position.
// Defines: E (experts), K (selected per row).
// Launch: global B*LOCAL, local 64 (grid = B blocks; any block size works).
extern "C" __global__ void topk_gating(const float* __restrict__ logits,
                                       float* __restrict__ weights,
                                       unsigned int* __restrict__ indices,
                                       unsigned int n_rows)
{
    __shared__ float sel[K];
    const unsigned int row = blockIdx.x;
    if (row >= n_rows) return; /* uniform across the block */
    const unsigned int lid = threadIdx.x;
    const unsigned int nl = blockDim.x;
    const float* x = logits + (unsigned long long)row * E;

    for (unsigned int i = lid; i < E; i += nl) {
        const float v = x[i];
        unsigned int rank = 0;
        for (unsigned int j = 0; j < E; ++j) {
            const float u = x[j];
            if (u > v || (u == v && j < i)) rank++;
        }
        if (rank < K) {
            sel[rank] = v;
            indices[(unsigned long long)row * K + rank] = i;
        }
    }
    __syncthreads();

    for (unsigned int k = lid; k < K; k += nl) {
        const float top = sel[0];
        float sum = 0.0f;
        for (unsigned int j = 0; j < K; ++j) sum += expf(sel[j] - top);
        weights[(unsigned long long)row * K + k] = expf(sel[k] - top) / sum;
    }
}
