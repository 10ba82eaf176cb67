"""Helper of test/export/project.test.ts: runs exported projects' model.py and data.py in plain Python.

    python3 project_check.py JOBS.json

JOBS.json is a list of jobs; prints one JSON list of results, in order:
- {"kind": "forward", "dir", "class", "params": P.json, "batch": B.json}: imports DIR/model.py, checks that
  CLASS()(x) runs in float32 (as a user would call it), then in float64 at the given weights returns
  {"plain": [shape], "output": flat, "losses": flat, "loss": mean, "grads": {name: flat}}.
- {"kind": "data", "dir", "expected": .npz}: imports DIR/data.py, loads and splits the data set and returns
  the largest absolute difference from the expected arrays (train_x, train_y, val_x, val_y) and the sizes.
"""
import importlib.util
import json
import sys

import numpy as np
import torch


def module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def forward(job, i):
    m = module(f"{job['dir']}/model.py", f"exported_model_{i}")
    cls = getattr(m, job["class"])
    with open(job["batch"]) as f:
        batch = json.load(f)
    inputs = list(cls.INPUTS)
    targets = list(cls.TARGETS)
    # as a user calls it: float32, the file's own initializers
    net = cls()
    plain = net(*[torch.tensor(batch[k], dtype=torch.float32) for k in inputs])
    # float64 at the given weights
    net = cls().double()
    m.load_weights(net, job["params"])
    xs = [torch.tensor(batch[k], dtype=torch.float64) for k in inputs]
    ts = [torch.tensor(batch[k], dtype=torch.float64) for k in targets]
    y = net(*xs)
    y2, C = net(*xs, *ts)
    assert torch.equal(y, y2)
    loss = C.mean()
    loss.backward()
    grads = {name: getattr(net, attr).grad.flatten().tolist() for name, attr in cls.PARAMS}
    return {"plain": list(plain.shape), "output": y.detach().flatten().tolist(), "losses": C.detach().tolist(),
            "loss": loss.item(), "grads": grads}


def data(job, i):
    d = module(f"{job['dir']}/data.py", f"exported_data_{i}")
    train, val = d.split(d.load(dtype=torch.float64))
    with np.load(job["expected"]) as e:
        want = {k: e[k] for k in e.files}
    got = {"train_x": train.x.numpy(), "train_y": train.y.numpy()}
    if val is not None:
        got["val_x"], got["val_y"] = val.x.numpy(), val.y.numpy()
    diff = 0.0
    for k, w in want.items():
        if k not in got or got[k].shape != w.shape:
            return {"error": f"{k}: got {None if k not in got else got[k].shape}, expected {w.shape}"}
        diff = max(diff, float(np.abs(got[k] - w).max()) if w.size else 0.0)
    return {"diff": diff, "train": len(train), "validation": 0 if val is None else len(val)}


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    out = []
    for i, job in enumerate(jobs):
        out.append(forward(job, i) if job["kind"] == "forward" else data(job, i))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
