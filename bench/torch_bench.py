"""PyTorch side of `npm run bench` (driven by bench/torch.ts over stdin/stdout, one JSON per line).

Requests:
  {"cmd": "info"}
      -> {"torch": version, "threads": 1, "defaultThreads": n, "blas": "...", "python": version}
  {"cmd": "run", "workload": {...}, "seconds": s, "threads": t}
      -> {"steps": n, "seconds": elapsed}   (runs whole training steps for about s seconds, with
                                             t threads — default 1 — then goes back to one)

A workload is the JSON of bench/workloads.ts: layers [d0, d1, ...], activation, loss ("ce" or
"mse"), batch, lr. The network is nn.Sequential(Linear, act, ..., Linear); one step is
zero_grad, forward, loss, backward, SGD step, float32, on one fixed synthetic batch — the same
work the engine does per step. torch.set_num_threads(1): one core, as the engine, except for the
runs that ask for PyTorch's default thread count (the engine's threaded rows).
"""
import json
import os
import platform
import re
import sys
import time

import torch
from torch import nn

DEFAULT_THREADS = torch.get_num_threads()
torch.set_num_threads(1)
torch.manual_seed(0)

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
_built = {}


def build(w):
    key = json.dumps(w, sort_keys=True)
    if key in _built:
        return _built[key]
    layers = w["layers"]
    mods = []
    for i in range(len(layers) - 1):
        mods.append(nn.Linear(layers[i], layers[i + 1]))
        if i < len(layers) - 2:
            mods.append(ACTIVATIONS[w["activation"]]())
    model = nn.Sequential(*mods)
    batch = w["batch"]
    x = torch.randn(batch, layers[0])
    if w["loss"] == "ce":
        target = torch.randint(0, layers[-1], (batch,))
        loss_fn = nn.CrossEntropyLoss()
    else:
        target = torch.randn(batch, layers[-1])
        loss_fn = nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=w["lr"])

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        opt.step()

    for _ in range(20):  # warm up allocator and caches
        step()
    _built[key] = step
    return step


def run(w, seconds, threads=1):
    torch.set_num_threads(threads)
    try:
        return timed(build(w), seconds)
    finally:
        torch.set_num_threads(1)


def timed(step, seconds):
    step()
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(8):
            step()
        steps += 8
        now = time.perf_counter()
        if now >= deadline:
            return {"steps": steps, "seconds": now - start}


def blas():
    """PyTorch's BLAS setting and the BLAS libraries actually loaded (Debian picks one at run time)."""
    info = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path)
                if "blas" in name or "lapack" in name:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return "%s; loaded: %s" % (info.group(1) if info else "unknown", ", ".join(sorted(libs)) or "none")


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req["cmd"] == "info":
                out = {
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "defaultThreads": DEFAULT_THREADS,
                    "blas": blas(),
                    "python": platform.python_version(),
                }
            elif req["cmd"] == "run":
                out = run(req["workload"], float(req["seconds"]), int(req.get("threads", 1)))
            else:
                out = {"error": "unknown command " + str(req["cmd"])}
        except Exception as e:  # report, keep serving
            out = {"error": repr(e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
