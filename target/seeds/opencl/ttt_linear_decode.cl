// TTT-Linear one-token decode step seed. Per row r (batch*head), head dim F,
// W is [F(in)][F(out)] row-major:
//   1. z = xk @ W + b            2. target = xv - xk
//   3. s = sqrt(var(z) + 1e-6); zh = (z - mean(z)) / s; y = ln_w*zh + ln_b
//   4. g = y - target            5. gh = g * ln_w
//   6. dz = (F*gh - sum(gh) - zh*sum(gh*zh)) / (s*F)      7. d = lr * dz
//   8. W_grad' = W_grad + xk^T d;  b_grad' = b_grad + d
//   9. W' = W - token_idx * W_grad';  b' = b - token_idx * b_grad'
//  10. z2 = xq @ W' + b'         11. out = xq + LN(z2)
// One work-group per row; work-item lid owns columns j = lid, lid+LOCAL, ...
// Any work-group size up to TTT_LOCAL_MAX works.
// Defines: F (head dim).
// Launch: global R*LOCAL, local 64.
#define TTT_LOCAL_MAX 256
#define TTT_EPS 1e-6f

// Sum of v over the work-group (every work-item gets the result).
float group_sum(float v, __local float* red, uint lid, uint nl)
{
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint p2 = 1; /* smallest power of two >= nl */
    while (p2 < nl) p2 <<= 1;
    for (uint s = p2 / 2; s > 0; s >>= 1) {
        if (lid < s && lid + s < nl) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* red is reused by the next call */
    return r;
}

__kernel void ttt_linear_decode(__global const float* xq,
                                __global const float* xk,
                                __global const float* xv,
                                __global const float* lr,
                                __global const float* token_idx,
                                __global const float* W,
                                __global const float* b,
                                __global const float* W_grad,
                                __global const float* b_grad,
                                __global const float* ln_w,
                                __global const float* ln_b,
                                __global float* out,
                                __global float* W_out,
                                __global float* b_out,
                                __global float* W_grad_out,
                                __global float* b_grad_out,
                                const uint n_rows)
{
    __local float red[TTT_LOCAL_MAX];
    __local float sxk[F], sxq[F];       /* shared by all columns */
    __local float sz[F], szh[F], sgh[F]; /* per column, owned by one work-item */
    const uint row = get_group_id(0);
    if (row >= n_rows) return; /* uniform across the work-group */
    const uint lid = get_local_id(0);
    const uint nl = get_local_size(0);
    const size_t v = (size_t)row * F;     /* offset of [row, :] */
    const size_t m = (size_t)row * F * F; /* offset of [row, :, :] */

    for (uint j = lid; j < F; j += nl) {
        sxk[j] = xk[v + j];
        sxq[j] = xq[v + j];
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    /* 1. z = xk @ W + b */
    float p = 0.0f;
    for (uint j = lid; j < F; j += nl) {
        float acc = b[v + j];
        for (uint i = 0; i < F; ++i) acc += sxk[i] * W[m + (size_t)i * F + j];
        sz[j] = acc;
        p += acc;
    }
    /* 3. LayerNorm forward (two-pass variance) */
    const float mu = group_sum(p, red, lid, nl) / (float)F;
    p = 0.0f;
    for (uint j = lid; j < F; j += nl) {
        const float c = sz[j] - mu;
        p += c * c;
    }
    const float s = sqrt(group_sum(p, red, lid, nl) / (float)F + TTT_EPS);
    float p1 = 0.0f, p2 = 0.0f;
    for (uint j = lid; j < F; j += nl) {
        const float zh = (sz[j] - mu) / s;
        const float y = ln_w[v + j] * zh + ln_b[v + j];
        const float target = xv[v + j] - sxk[j]; /* 2. */
        const float g = y - target;              /* 4. */
        const float gh = g * ln_w[v + j];        /* 5. */
        szh[j] = zh;
        sgh[j] = gh;
        p1 += gh;
        p2 += gh * zh;
    }
    const float sum_gh = group_sum(p1, red, lid, nl);
    const float sum_ghzh = group_sum(p2, red, lid, nl);

    /* 6-10, column by column */
    const float lr_r = lr[row];
    const float tok = token_idx[0];
    p = 0.0f;
    for (uint j = lid; j < F; j += nl) {
        const float dz = ((float)F * sgh[j] - sum_gh - szh[j] * sum_ghzh) / (s * (float)F);
        const float d = lr_r * dz;
        const float bg = b_grad[v + j] + d;
        const float bn = b[v + j] - tok * bg;
        b_grad_out[v + j] = bg;
        b_out[v + j] = bn;
        float acc = bn;
        for (uint i = 0; i < F; ++i) {
            const size_t o = m + (size_t)i * F + j;
            const float wg = W_grad[o] + sxk[i] * d;
            const float wn = W[o] - tok * wg;
            W_grad_out[o] = wg;
            W_out[o] = wn;
            acc += sxq[i] * wn;
        }
        sz[j] = acc; /* z2 */
        p += acc;
    }
    /* 11. out = xq + LN(z2) */
    const float mu2 = group_sum(p, red, lid, nl) / (float)F;
    p = 0.0f;
    for (uint j = lid; j < F; j += nl) {
        const float c = sz[j] - mu2;
        p += c * c;
    }
    const float s2 = sqrt(group_sum(p, red, lid, nl) / (float)F + TTT_EPS);
    for (uint j = lid; j < F; j += nl) {
        out[v + j] = sxq[j] + ln_w[v + j] * (sz[j] - mu2) / s2 + ln_b[v + j];
    }
}
