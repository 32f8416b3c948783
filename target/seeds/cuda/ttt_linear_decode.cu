// TTT-Linear one-token decode step seed. Per row r (batch*head), head dim F,
// W is [F(in)][F(out)] row-major:
//   1. z = xk @ W + b            2. target = xv - xk
//   3. s = sqrt(var(z) + 1e-6); zh = (z - mean(z)) / s; y = ln_w*zh + ln_b
//   4. g = y - target            5. gh = g * ln_w
//   6. dz = (F*gh - sum(gh) - zh*sum(gh*zh)) / (s*F)      7. d = lr * dz
//   8. W_grad' = W_grad + xk^T d;  b_grad' = b_grad + d
//   9. W' = W - token_idx * W_grad';  b' = b - token_idx * b_grad'
//  10. z2 = xq @ W' + b'         11. out = xq + LN(z2)
// One block per row; thread lid owns columns j = lid, lid+blockDim.x, ...
// Any block size up to TTT_LOCAL_MAX works.
// Defines: F (head dim).
// Launch: global R*LOCAL, local 64 (grid = R blocks of 64 threads).
#define TTT_LOCAL_MAX 256
#define TTT_EPS 1e-6f

// Sum of v over the block (every thread gets the result).
static __device__ float group_sum(float v, float* red, unsigned int lid, unsigned int nl)
{
    red[lid] = v;
    __syncthreads();
    unsigned int p2 = 1; /* smallest power of two >= nl */
    while (p2 < nl) p2 <<= 1;
    for (unsigned int s = p2 / 2; s > 0; s >>= 1) {
        if (lid < s && lid + s < nl) red[lid] += red[lid + s];
        __syncthreads();
    }
    const float r = red[0];
    __syncthreads(); /* red is reused by the next call */
    return r;
}

extern "C" __global__ void ttt_linear_decode(const float* __restrict__ xq,
                                             const float* __restrict__ xk,
                                             const float* __restrict__ xv,
                                             const float* __restrict__ lr,
                                             const float* __restrict__ token_idx,
                                             const float* __restrict__ W,
                                             const float* __restrict__ b,
                                             const float* __restrict__ W_grad,
                                             const float* __restrict__ b_grad,
                                             const float* __restrict__ ln_w,
                                             const float* __restrict__ ln_b,
                                             float* __restrict__ out,
                                             float* __restrict__ W_out,
                                             float* __restrict__ b_out,
                                             float* __restrict__ W_grad_out,
                                             float* __restrict__ b_grad_out,
                                             unsigned int n_rows)
{
    __shared__ float red[TTT_LOCAL_MAX];
    __shared__ float sxk[F], sxq[F];       /* shared by all columns */
    __shared__ float sz[F], szh[F], sgh[F]; /* per column, owned by one thread */
    const unsigned int row = blockIdx.x;
    if (row >= n_rows) return; /* uniform across the block */
    const unsigned int lid = threadIdx.x;
    const unsigned int nl = blockDim.x;
    const unsigned long long v = (unsigned long long)row * F;     /* offset of [row, :] */
    const unsigned long long m = (unsigned long long)row * F * F; /* offset of [row, :, :] */

    for (unsigned int j = lid; j < F; j += nl) {
        sxk[j] = xk[v + j];
        sxq[j] = xq[v + j];
    }
    __syncthreads();

    /* 1. z = xk @ W + b */
    float p = 0.0f;
    for (unsigned int j = lid; j < F; j += nl) {
        float acc = b[v + j];
        for (unsigned int i = 0; i < F; ++i) acc += sxk[i] * W[m + (unsigned long long)i * F + j];
        sz[j] = acc;
        p += acc;
    }
    /* 3. LayerNorm forward (two-pass variance) */
    const float mu = group_sum(p, red, lid, nl) / (float)F;
    p = 0.0f;
    for (unsigned int j = lid; j < F; j += nl) {
        const float c = sz[j] - mu;
        p += c * c;
    }
    const float s = sqrtf(group_sum(p, red, lid, nl) / (float)F + TTT_EPS);
    float p1 = 0.0f, p2 = 0.0f;
    for (unsigned int j = lid; j < F; j += nl) {
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
    for (unsigned int j = lid; j < F; j += nl) {
        const float dz = ((float)F * sgh[j] - sum_gh - szh[j] * sum_ghzh) / (s * (float)F);
        const float d = lr_r * dz;
        const float bg = b_grad[v + j] + d;
        const float bn = b[v + j] - tok * bg;
        b_grad_out[v + j] = bg;
        b_out[v + j] = bn;
        float acc = bn;
        for (unsigned int i = 0; i < F; ++i) {
            const unsigned long long o = m + (unsigned long long)i * F + j;
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
    for (unsigned int j = lid; j < F; j += nl) {
        const float c = sz[j] - mu2;
        p += c * c;
    }
    const float s2 = sqrtf(group_sum(p, red, lid, nl) / (float)F + TTT_EPS);
    for (unsigned int j = lid; j < F; j += nl) {
        out[v + j] = sxq[j] + ln_w[v + j] * (sz[j] - mu2) / s2 + ln_b[v + j];
    }
}
