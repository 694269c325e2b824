"""The 14 explanation methods, written from their papers in PyTorch (float64, autograd), for
tools/peer_maps.py. An independent reference: nothing here is ported from Lumen's TypeScript;
where Lumen documents a convention that the paper leaves open or does otherwise, the code follows
Lumen's documented convention (explainers/*.ts doc comments) and says so.

Every function returns the map BEFORE the shared ReLU and max-scaling (lib/heatmap.ts), i.e.
what Lumen's `Explainer.explain()` returns, as a float64 tensor of shape (H, W) (row-major
in Lumen).
Layer maps are (K, H, W) tensors A (activations) and G = d(class logit)/dA; the class logit is
pre-softmax (pytorch-grad-cam's ClassifierOutputTarget on the logits).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------
# CAMs: one weight per channel (pytorch-grad-cam's get_cam_weights) or per activation.

def activation(a, g):
    """Σ_k A_k: the class-agnostic activation map."""
    return a.sum(0)


def gradcam(a, g):
    """Selvaraju et al. 2017, eq. 1-2: α_k = (1/Z) Σ_ij ∂y/∂A_ij^k, map = Σ_k α_k A^k."""
    return (g.mean(dim=(1, 2))[:, None, None] * a).sum(0)


def gradcam_pp(a, g):
    """Chattopadhay et al. 2018, eq. 19 with the exponential output (so the 2nd and 3rd
    derivatives are the gradient's powers): α_ij^k = g² / (2g² + Σ_ab A_ab^k · g³);
    w_k = Σ_ij α_ij^k ReLU(g_ij^k). The 1e-6 in the denominator and α = 0 where g = 0 are
    pytorch-grad-cam's (and Lumen's) guards against 0/0."""
    s = a.sum(dim=(1, 2))[:, None, None]
    g2, g3 = g ** 2, g ** 3
    alpha = torch.where(g != 0, g2 / (2 * g2 + s * g3 + 1e-6), torch.zeros_like(g))
    w = (alpha * torch.relu(g)).sum(dim=(1, 2))
    return (w[:, None, None] * a).sum(0)


def hirescam(a, g):
    """Draelos & Carin 2020: map = Σ_k ∂y/∂A^k ⊙ A^k (no spatial averaging)."""
    return (g * a).sum(0)


def xgradcam(a, g):
    """Fu et al. 2020, eq. 9: w_k = Σ_ij (A_ij^k / Σ_ab A_ab^k) ∂y/∂A_ij^k. The 1e-7 added to
    the denominator is pytorch-grad-cam's and Lumen's (a channel that is all zero)."""
    w = (g * a).sum(dim=(1, 2)) / (a.sum(dim=(1, 2)) + 1e-7)
    return (w[:, None, None] * a).sum(0)


def layercam(a, g):
    """Jiang et al. 2021, eq. 6-7: map = Σ_k ReLU(∂y/∂A^k) ⊙ A^k."""
    return (torch.relu(g) * a).sum(0)


def first_component(m):
    """Muhammad & Yeasin 2020: the (HW × K) matrix of a (K, H, W) map, each channel centred over
    the positions (as pytorch-grad-cam's get_2d_projection), projected on its first right
    singular vector. An SVD's sign is arbitrary; Lumen documents its choice (the projection
    correlates positively with the uncentred channel sum Σ_k m_k), followed here. Also returns
    σ2/σ1, which says how well the component is determined."""
    k, h, w = m.shape
    x = m.reshape(k, h * w).T
    x = x - x.mean(0)
    _, s, vt = torch.linalg.svd(x, full_matrices=False)
    projection = x @ vt[0]
    if float((projection * m.sum(0).reshape(-1)).sum()) < 0:
        projection = -projection
    return projection.reshape(h, w), float(s[1] / s[0])


def eigencam(a, g):
    return first_component(a)[0]


def eigengradcam(a, g):
    """EigenCAM on G ⊙ A (pytorch-grad-cam's EigenGradCAM); sign as Lumen: correlating with
    Σ_k G_k ⊙ A_k."""
    return first_component(g * a)[0]


def strongest(a, n):
    """Faster Score-CAM's selection, in Lumen's documented order: the n channels with the
    highest mean activation, highest first, ties to the lower index."""
    means = a.mean(dim=(1, 2)).tolist()
    order = sorted(range(len(means)), key=lambda k: (-means[k], k))
    return order[:n], order


def scorecam(a, x, c, n, logits):
    """Wang et al. 2020, eq. 4-8: the mask H^k = s(Up(A^k)) (bilinear upsampling to the input,
    s = min-max scaling), the score C(A^k) = f_c(X ∘ H^k), weights softmax_k C(A^k) over the
    chosen channels, map = Σ_k w_k A^k. As pytorch-grad-cam, the class score is the pre-softmax
    logit and the mask multiplies the preprocessed input; the 1e-8 in s's denominator is
    Lumen's. `logits(batch)` is the network."""
    chosen, _ = strongest(a, n)
    size = x.shape[2:]
    up = F.interpolate(a[chosen][:, None], size=size, mode="bilinear", align_corners=False)
    lo = up.amin(dim=(2, 3), keepdim=True)
    hi = up.amax(dim=(2, 3), keepdim=True)
    masks = (up - lo) / (hi - lo + 1e-8)
    scores = logits(x * masks)[:, c]
    w = torch.zeros(a.shape[0], dtype=a.dtype)
    w[chosen] = torch.softmax(scores, 0)
    return (w[:, None, None] * a).sum(0)


def ablationcam(a, y, c, n, logits_without):
    """Desai & Ramaswamy 2020, eq. 2: w_k = (y_c − y_c^k) / y_c, y_c^k the class logit with
    channel k of the layer set to zero; only the n strongest channels (Lumen's `topChannels`),
    the others weigh 0. `logits_without(channels)` runs the network with one channel zeroed per
    item."""
    chosen, _ = strongest(a, n)
    ablated = logits_without(chosen)[:, c]
    w = torch.zeros(a.shape[0], dtype=a.dtype)
    w[chosen] = (y - ablated) / y
    return (w[:, None, None] * a).sum(0)


# ---------------------------------------------------------------------------------------------
# Input attributions: at the model input's resolution, in the preprocessed input space.

def input_gradients(model, points, c):
    """d(logit c)/d(input) of each point (N, 3, H, W), float64: one backward for the batch
    (samples are independent, BatchNorm is in inference mode)."""
    x = points.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    model(x)[:, c].sum().backward()
    return x.grad


def saliency(model, x, c):
    """Simonyan et al. 2014, sec. 3.1: M_ij = max_c |w_h(i,j,c)|, w = ∂S_c/∂I."""
    return input_gradients(model, x, c)[0].abs().amax(0)


def gaussian_source(seed):
    """Lumen's seeded normal generator (lib/random.ts), rebuilt from its documented algorithm so
    that SmoothGrad's noise is the same here: xorshift32 (Marsaglia 2003, shifts 13, 17, 5) from
    the state (seed · 0x9e3779b1 mod 2³²) xor 0x6d2b79f5 (1 if that is 0), uniforms
    (state + ½) / 2³², Box–Muller pairs r·cos θ first, then r·sin θ."""
    mask = 0xFFFFFFFF
    state = ((seed * 0x9E3779B1) & mask) ^ 0x6D2B79F5 or 1

    def uniform():
        nonlocal state
        state ^= (state << 13) & mask
        state ^= state >> 17
        state ^= (state << 5) & mask
        return (state + 0.5) / 4294967296

    def normals(n):
        # Lumen keeps the second of a pair for its next call; an even n never leaves one over.
        assert n % 2 == 0, n
        out = np.empty(n)
        for i in range(0, n, 2):
            r = math.sqrt(-2 * math.log(uniform()))
            t = 2 * math.pi * uniform()
            out[i], out[i + 1] = r * math.cos(t), r * math.sin(t)
        return out

    return normals


def hwc(x):
    """A (3, H, W) tensor as Lumen's HWC values, and back: noise and paths are made in Lumen's
    value order and rounded to float32 as Lumen's inputs are, so both feed the network the
    same numbers."""
    return x.permute(1, 2, 0).reshape(-1).numpy()


def from_hwc(values, shape):
    _, h, w = shape
    return torch.from_numpy(values.astype(np.float32).astype(np.float64)).reshape(h, w, 3) \
        .permute(2, 0, 1)


def smoothgrad(model, x, c, samples, seed):
    """Smilkov et al. 2017, eq. 3: M̂(x) = (1/n) Σ_s M(x + N(0, σ²)), M the saliency above. σ is
    Lumen's default, 15 % of the input's range (the paper's 10-20 % noise level); the noise is
    Lumen's generator's (`gaussian_source`), drawn value by value in Lumen's HWC order, sample
    after sample."""
    values = hwc(x[0])
    sigma = 0.15 * float(values.max() - values.min())
    normals = gaussian_source(seed)
    points = torch.stack([from_hwc(values + sigma * normals(values.size), x.shape[1:])
                          for _ in range(samples)])
    return input_gradients(model, points, c).abs().amax(1).mean(0)


def integrated_gradients(model, x, baseline, c, steps):
    """Sundararajan et al. 2017, eq. 3 (Riemann sum): IG_i = (x_i − x′_i) · (1/m) Σ_k
    ∂F(x′ + α_k (x − x′))/∂x_i. Lumen's conventions: the baseline x′ is the preprocessed black
    image, α_k = (k + ½)/m (midpoint rule), and the map is the signed sum over the colours.
    Also returns Σ IG and F(x) − F(x′) (completeness, the paper's Proposition 1)."""
    v, b = hwc(x[0]), hwc(baseline[0])
    points = torch.stack([from_hwc(b + (k + 0.5) / steps * (v - b), x.shape[1:])
                          for k in range(steps)])
    grads = input_gradients(model, points, c).mean(0)
    attributions = ((x[0] - baseline[0]) * grads).sum(0)
    with torch.no_grad():
        y = model(torch.cat([x, baseline]))[:, c]
    return attributions, float(attributions.sum()), float(y[0] - y[1])


def occlusion(model, x, c, size, stride):
    """Zeiler & Fergus 2014, sec. 4.2: a grey square slid over the input, the class probability
    recorded per position. Lumen's map is the drop p(x) − p(x occluded), positions i·stride
    while the square fits, filled with 0 in the preprocessed space (the mean colour)."""
    _, _, h, w = x.shape
    rows, columns = (h - size) // stride + 1, (w - size) // stride + 1
    batch = x.repeat(rows * columns, 1, 1, 1)
    for r in range(rows):
        for q in range(columns):
            batch[r * columns + q, :, r * stride:r * stride + size,
                  q * stride:q * stride + size] = 0
    with torch.no_grad():
        p = torch.softmax(model(torch.cat([x, batch])), 1)[:, c]
    return (p[0] - p[1:]).reshape(rows, columns)
