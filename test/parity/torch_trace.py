#!/usr/bin/env python3
"""The PyTorch oracle of the trace parity test (test/parity/trace.test.ts).

For ONE example, each model below is written again BY HAND in ordinary PyTorch (float64, the
lecture's W @ a for one column vector): every named value is kept with retain_grad(), the
per-example loss C is backpropagated with autograd, and the values and gradients of every named
tensor (inputs, params, values, the loss) are printed. Nothing here is generated from NN Lens.

Usage:
  torch_trace.py JOBS.json   JOBS: [{"model": NAME, "params": P.json, "example": {"x": [...], "t": [...]}}, ...]
  prints [{"values": {name: nested}, "grads": {name: nested}}, ...]
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def mse(y, t):
    return ((y - t) ** 2).mean()


def cross_entropy(y, t):
    return -(t * torch.log(y)).sum()


def bce(y, t):
    return -(t * torch.log(y) + (1 - t) * torch.log(1 - y)).mean()


# --- examples/byhand.nn: sigmoid layers, mse, a backward block ------------------------------
def byhand(p, x, t):
    v = {}
    v["z1"] = p["W1"] @ x + p["b1"]
    v["a1"] = torch.sigmoid(v["z1"])
    v["z2"] = p["W2"] @ v["a1"] + p["b2"]
    v["y"] = torch.sigmoid(v["z2"])
    v["C"] = mse(v["y"], t)
    return v


# --- examples/functions.nn: swish with its grad line, huber without -----------------------
class Swish(torch.autograd.Function):
    """swish(z) = z sigmoid(z), backpropagated with its grad line."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * torch.sigmoid(z)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        s = torch.sigmoid(z)
        return g * s * (1 + z * (1 - s))


def ring(p, x, t):
    v = {}
    v["h"] = Swish.apply(p["W1"] @ x + p["b1"])
    v["y"] = torch.sigmoid(p["W2"] @ v["h"] + p["b2"])
    v["C"] = ((v["y"] - t) ** 2 / 2).mean()
    return v


# --- examples/data.nn, Iris: dense layers, softmax, cross-entropy ---------------------------
def iris(p, x, t):
    v = {}
    v["h"] = torch.tanh(F.linear(x, p["h.W"], p["h.b"]))
    v["y"] = torch.softmax(F.linear(v["h"], p["y.W"], p["y.b"]), dim=0)
    v["C"] = cross_entropy(v["y"], t)
    return v


# --- examples/digits.nn: the lecture's 256-30-10 digit classifier ----------------------------
def digits(p, x, t):
    v = {}
    v["z1"] = p["W1"] @ x + p["b1"]
    v["a1"] = torch.sigmoid(v["z1"])
    v["z2"] = p["W2"] @ v["a1"] + p["b2"]
    v["y"] = torch.softmax(v["z2"], dim=0)
    v["C"] = cross_entropy(v["y"], t)
    return v


# --- examples/training.nn: three dense layers, binary cross-entropy --------------------------
def training(p, x, t):
    v = {}
    v["h1"] = torch.tanh(F.linear(x, p["h1.W"], p["h1.b"]))
    v["h2"] = torch.tanh(F.linear(v["h1"], p["h2.W"], p["h2.b"]))
    v["y"] = torch.sigmoid(F.linear(v["h2"], p["y.W"], p["y.b"]))
    v["C"] = bce(v["y"], t)
    return v


MODELS = {"ByHand": byhand, "Ring": ring, "Iris": iris, "Digits": digits, "M": training}


def run(job):
    with open(job["params"]) as f:
        p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in json.load(f).items()}
    x = torch.tensor(job["example"]["x"], dtype=torch.float64, requires_grad=True)
    t = torch.tensor(job["example"]["t"], dtype=torch.float64)
    v = MODELS[job["model"]](p, x, t)
    for k in v:
        v[k].retain_grad()
    v["C"].backward()
    values = {k: a.detach().tolist() for k, a in v.items()}
    grads = {k: a.grad.tolist() for k, a in v.items()}
    for k, a in p.items():
        values[k] = a.detach().tolist()
        grads[k] = a.grad.tolist()
    values["x"], grads["x"] = x.detach().tolist(), x.grad.tolist()
    values["t"] = t.tolist()
    return {"values": values, "grads": grads}


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    json.dump([run(j) for j in jobs], sys.stdout)


if __name__ == "__main__":
    main()
