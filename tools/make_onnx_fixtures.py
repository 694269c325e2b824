"""Writes tests/fixtures/onnx/: small torchvision classifiers with fixed-seed random
weights, exported to ONNX, each with a JSON of PyTorch's logits for a fixed input.

Build time only (the tests never run Python). From the project root:

    /usr/bin/python3 tools/make_onnx_fixtures.py

Needs Debian's python3-torch (1.13) and python3-torchvision (0.14). The weights are
random (the fixtures test structure and numerics, not accuracy); BatchNorm running
statistics are randomised too so that folding them matters.

The input is deterministic and easy to rebuild anywhere: item `n`, flat NCHW index
`i` holds float32(sin(0.01 * i + 0.5 * n) * 2).
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import densenet, efficientnet, mobilenetv2, mobilenetv3, resnet, vgg

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")
CLASSES = 10


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with the stage widths as a parameter (64..512 upstream),
    so a resnet18-shaped network stays small; module names are torchvision's."""

    def __init__(self, layers, widths, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(resnet.BasicBlock, widths[0], layers[0])
        self.layer2 = self._make_layer(resnet.BasicBlock, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(resnet.BasicBlock, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(resnet.BasicBlock, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)


def small_vgg():
    """vgg11's layout ("A") at 1/8 of the channels, a 2x2 adaptive pool and a small
    classifier (upstream's 25088x4096 head would be 400 MB)."""
    cfg = [c // 8 if isinstance(c, int) else c for c in vgg.cfgs["A"]]
    model = vgg.VGG(vgg.make_layers(cfg, batch_norm=False), num_classes=CLASSES, init_weights=True)
    model.avgpool = nn.AdaptiveAvgPool2d((2, 2))
    model.classifier = nn.Sequential(
        nn.Linear(64 * 4, 64), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(64, CLASSES),
    )
    return model


def small_efficientnet():
    setting, last_channel = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    return efficientnet.EfficientNet(setting, 0.2, last_channel=last_channel, num_classes=CLASSES)


def small_mobilenet_v3():
    setting, last_channel = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    return mobilenetv3.MobileNetV3(setting, last_channel, num_classes=CLASSES)


# Modules whose output gradients are stored (aliases the engine derives from
# the exported node names): the default feature map and an inner one.
GRADIENT_MODULES = {
    "resnet18": ["layer4", "layer2"],
    "mobilenet_v2": ["features", "features.9"],
    "mobilenet_v3_small": ["features", "features.4"],
    "efficientnet_b0": ["features", "features.5"],
    "densenet": ["features", "features.transition2"],
    "vgg11": ["features.19", "features.11"],
}

# name, builder, constructor args as written in the provenance, input size,
# opset, dynamic batch
MODELS = [
    ("resnet18", lambda: NarrowResNet([2, 2, 2, 2], [8, 16, 32, 64], CLASSES),
     "NarrowResNet(BasicBlock, layers=[2, 2, 2, 2], widths=[8, 16, 32, 64], num_classes=10)",
     64, 17, True),
    ("mobilenet_v2", lambda: mobilenetv2.mobilenet_v2(width_mult=0.25, num_classes=CLASSES),
     "torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)", 64, 13, True),
    ("mobilenet_v3_small", small_mobilenet_v3,
     "MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.25), num_classes=10)",
     64, 17, True),
    ("efficientnet_b0", small_efficientnet,
     "EfficientNet(_efficientnet_conf('efficientnet_b0', width_mult=0.25, depth_mult=0.5)[0], "
     "dropout=0.2, num_classes=10)", 64, 17, True),
    ("densenet", lambda: densenet.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16,
                                           bn_size=2, num_classes=CLASSES),
     "torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, "
     "bn_size=2, num_classes=10)", 64, 13, True),
    ("vgg11", small_vgg,
     "VGG(make_layers(cfgs['A'] / 8), num_classes=10); avgpool = AdaptiveAvgPool2d((2, 2)); "
     "classifier = Linear(256, 64), ReLU, Dropout, Linear(64, 64), ReLU, Dropout, Linear(64, 10)",
     128, 17, False),
]


def randomise_norms(model, generator):
    """Random BatchNorm statistics and affine parameters (defaults are identity)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=generator) * 0.1)


def fixed_input(batch, size):
    n = np.arange(batch, dtype=np.float64).reshape(batch, 1)
    i = np.arange(3 * size * size, dtype=np.float64).reshape(1, -1)
    x = (np.sin(0.01 * i + 0.5 * n) * 2).astype(np.float32)
    return torch.from_numpy(x.reshape(batch, 3, size, size))


def sample(grad_nchw):
    """A gradient as the engine gives it (channels-last, flat): its norm, and the
    values at the 16 largest magnitudes and at 16 evenly spaced positions."""
    g = grad_nchw[0].permute(1, 2, 0).reshape(-1).double().numpy()
    top = np.argsort(-np.abs(g), kind="stable")[:16]
    even = np.linspace(0, g.size - 1, 16).round().astype(int)
    idx = sorted(set(int(i) for i in np.concatenate([top, even])))
    return {"size": int(g.size), "norm": float(np.linalg.norm(g)), "max": float(np.abs(g).max()),
            "indices": idx, "values": [float(g[i]) for i in idx]}


def gradients(model, x, modules):
    """d(top-1 logit)/d(input) and d(top-1 logit)/d(module output), by autograd."""
    found = {}
    hooks = []
    for name in modules:
        module = model.get_submodule(name)

        def keep(_m, _i, out, name=name):
            out.retain_grad()
            found[name] = out
            # A copy flows on, so functional in-place ops after the module
            # (DenseNet's F.relu(features, inplace=True)) leave `out` alone.
            return out.clone()
        hooks.append(module.register_forward_hook(keep))
    x = x.clone().requires_grad_(True)
    logits = model(x)
    c = int(logits[0].argmax())
    logits[0, c].backward()
    for h in hooks:
        h.remove()
    out = {"class": c, "input": sample(x.grad)}
    for name in modules:
        out[name] = sample(found[name].grad)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    for seed, (name, build, args, size, opset, dynamic) in enumerate(MODELS):
        if only and name not in only:
            continue
        torch.manual_seed(seed)
        model = build()
        with torch.no_grad():
            randomise_norms(model, torch.Generator().manual_seed(1000 + seed))
        model.eval()
        x = fixed_input(1, size)
        path = os.path.join(OUT, f"{name}.onnx")
        torch.onnx.export(
            model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic else None,
            do_constant_folding=True,
        )
        with torch.no_grad():
            logits = model(x)[0].numpy().astype(np.float64)
        # In-place ReLUs would overwrite the outputs whose gradients we keep.
        for m in model.modules():
            if hasattr(m, "inplace"):
                m.inplace = False
        grads = gradients(model, x, GRADIENT_MODULES[name])
        info = {
            "model": name,
            "constructor": args,
            "seed": seed,
            "batchNormSeed": 1000 + seed,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "opset": opset,
            "dynamicBatch": dynamic,
            "input": {"shape": [1, 3, size, size], "formula": "float32(sin(0.01 * i + 0.5 * n) * 2), i flat NCHW"},
            "logits": [float(v) for v in logits],
            "gradients": grads,
            "bytes": os.path.getsize(path),
        }
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(info, f, indent=1)
            f.write("\n")
        print(f"{name}: {info['bytes']} bytes, top-1 {int(np.argmax(logits))}")


if __name__ == "__main__":
    main()
