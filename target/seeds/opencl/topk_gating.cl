// Top-K gating seed: the K largest of E logits per row, in descending
// order, and a softmax over those K values.
// One work-group per row; work-item lid ranks logits lid, lid+LOCAL, ...:
// rank(i) = #{j : x[j] > x[i]} (ties, which the inputs never have, broken
// by lower index first); a logit of rank < K is selected at that position.
// Defines: E (experts), K (selected per row).
// Launch: global B*LOCAL, local 64 (any work-group size works).
__kernel void topk_gating(__global const float* logits,
                          __global float* weights,
                          __global uint* indices,
                          const uint n_rows)
{
    __local float sel[K];
    const uint row = get_group_id(0);
    if (row >= n_rows) return; /* uniform across the work-group */
    const uint lid = get_local_id(0);
    const uint nl = get_local_size(0);
    __global const float* x = logits + (size_t)row * E;

    for (uint i = lid; i < E; i += nl) {
        const float v = x[i];
        uint rank = 0;
        for (uint j = 0; j < E; ++j) {
            const float u = x[j];
            if (u > v || (u == v && j < i)) rank++;
        }
        if (rank < K) {
            sel[rank] = v;
            indices[(size_t)row * K + rank] = i;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    for (uint k = lid; k < K; k += nl) {
        const float top = sel[0];
        float sum = 0.0f;
        for (uint j = 0; j < K; ++j) sum += exp(sel[j] - top);
        weights[(size_t)row * K + k] = exp(sel[k] - top) / sum;
    }
}
