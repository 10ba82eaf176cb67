#!/usr/bin/env python3
"""The PyTorch oracle of the parity suite (test/parity/parity.test.ts).

Each model of test/parity/models/*.nn is written here again BY HAND, in ordinary PyTorch:
float64, batch-first, the loss of a batch the mean over its examples of the per-example losses
(spec section 2). Nothing here is generated from NN Lens's IR; it is the independent source the
engine's gradients are compared with.

Usage:
  torch_models.py grads JOBS.json   JOBS: [{"model": NAME, "params": P.json, "batch": B.json}, ...]
                                    prints [{"loss": number, "grads": {name: nested lists}}, ...]
  torch_models.py inits SPEC.json   see init_stats() below
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def linear(W, x):
    """The lecture's W @ x for a batch of column vectors x: [B, n] -> [B, m]."""
    return x @ W.T


# --- classifier.nn ---------------------------------------------------------------------------
def classifier(p, b):
    x, t = b["x"], b["t"]
    z1 = linear(p["W1"], x) + p["b1"]
    h = torch.tanh(z1)
    z2 = F.linear(h, p["z2.W"], p["z2.b"])
    y = torch.softmax(z2, dim=1)
    penalty = 0.01 * p["W1"].square().mean() + 0.001 * (p["z2.W"] ** 2).sum()
    ce = F.cross_entropy(z2, t, reduction="none")  # probability targets: -sum(t * log_softmax)
    return ce + penalty + 0.05 * y.max(dim=1).values


# --- matrices.nn -----------------------------------------------------------------------------
def matrices(p, b):
    x, t = b["x"], b["t"]  # [B, 3, 4], [B, 2, 4]
    A, Bm, c, u, s = p["A"], p["B"], p["c"], p["u"], p["s"]
    n = x.shape[0]
    m = torch.einsum("ij,bjk->bik", A, x)  # [B, 2, 4]
    r = m @ Bm.T + c
    v = torch.einsum("j,bjk->bk", u, x)  # [B, 4]
    w = torch.einsum("bjk,j->bk", x, u)  # transpose(x) @ u
    q = (v * w).sum(dim=1)  # [B]
    k = (1 + v**2) ** -0.5
    g = (
        r * (k * torch.sigmoid(v))[:, None, :]
        - (s * q / (1 + q * q))[:, None, None]
        + torch.sqrt(1 + m.abs()) ** 1.5
        - m / (1 + c**2)
    )
    sm = torch.softmax(g, dim=-1)
    spread = r.abs().reshape(n, -1).max(dim=1).values + x.reshape(n, -1).mean(dim=1) * A.sum() / 10
    mse = F.mse_loss(g, t, reduction="none").reshape(n, -1).mean(dim=1)
    ls = torch.log_softmax(r - v[:, None, :], dim=-1)
    return mse + 0.01 * spread - 0.1 * (sm * ls).reshape(n, -1).sum(dim=1)


# --- binary.nn -------------------------------------------------------------------------------
def binary(p, b):
    x, t = b["x"], b["t"]
    h1 = torch.relu(F.linear(x, p["h1.W"], p["h1.b"]))
    h2 = F.leaky_relu(linear(p["W2"], h1) + p["b2"], negative_slope=0.1)
    h3 = F.softplus(h2) - math.log(2)
    z = -linear(p["W3"], h3)
    y = torch.sigmoid(z)
    bce = F.binary_cross_entropy_with_logits(z, t, reduction="none").mean(dim=1)
    return bce + 0.1 * y.sum(dim=1)


# --- probabilities.nn ------------------------------------------------------------------------
def probabilities(p, b):
    x, t = b["x"], b["t"]
    W, bias, P, v = p["W"], p["b"], p["P"], p["v"]
    z = linear(W, x) + bias
    e = torch.exp(z / 2) + 0.1
    prob = e / e.sum(dim=1, keepdim=True)
    o = torch.einsum("bi,bj->bij", x, prob)  # outer
    s = (o * P).sum(dim=(1, 2))
    q = 0.5 + 0.45 * torch.tanh(z + s[:, None])
    ls = torch.log_softmax(z * v, dim=1)
    ce = -(t * torch.log(prob)).sum(dim=1)
    bce = F.binary_cross_entropy(q, t, reduction="none").mean(dim=1)
    return ce + bce - 0.1 * (t * ls).sum(dim=1) + 0.05 * torch.log(1 + (prob @ v) ** 2)


# --- functions.nn ----------------------------------------------------------------------------
SCALE = 0.5


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


def huber(e):
    return e**2 / 2


class Gate(torch.autograd.Function):
    """gate(a, b) = a sigmoid(b) + SCALE leaky_relu(b, 0.2): grad a from its line, b automatic."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * torch.sigmoid(b) + SCALE * F.leaky_relu(b, 0.2)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * torch.sigmoid(b)
        with torch.enable_grad():
            bb = b.detach().requires_grad_()
            out = a * torch.sigmoid(bb) + SCALE * F.leaky_relu(bb, 0.2)
            (gb,) = torch.autograd.grad(out, bb, g)
        return ga, gb


def gate(a, b):
    a, b = torch.broadcast_tensors(a, b)
    return Gate.apply(a, b)


def smooth(a):
    return F.softplus(a) - Swish.apply(a) / 4


def functions(p, b):
    x, t = b["x"], b["t"]
    h = Swish.apply(F.linear(x, p["h.W"], p["h.b"]))
    k = gate(h, p["g"]) + smooth((SCALE * x) @ p["h.W"].T)
    y = linear(p["W"], k)
    return huber(y - t).mean(dim=1) + 0.1 * huber(smooth(y)).mean(dim=1)


# --- straight_through.nn ---------------------------------------------------------------------
class STE(torch.autograd.Function):
    """relu forward, identity backward (the grad line `grad z = 1`)."""

    @staticmethod
    def forward(ctx, z):
        return torch.relu(z)

    @staticmethod
    def backward(ctx, g):
        return g


def straight_through(p, b):
    y = STE.apply(linear(p["W"], b["x"]) + p["b"])
    return F.mse_loss(y, b["t"], reduction="none").mean(dim=1)


# --- matmul_forms.nn ------------------------------------------------------------------------
def matmul_forms(p, b):
    x, t = b["x"], b["t"]  # [B, 3], [B, 2]
    M, N, u = p["M"], p["N"], p["u"]
    X = x[:, :, None] * x[:, None, :] / 2 + M  # [B, 3, 3]
    P = torch.outer(u, u)
    Q = u[None, :, None] * x[:, None, :]  # outer(u, x) per example
    R = x[:, :, None] * u[None, None, :]
    Xt = X.transpose(1, 2)
    a1 = torch.mv(M, u)
    a2 = torch.einsum("ij,bj->bi", M, x)
    a3 = torch.einsum("bij,j->bi", X, u)
    a4 = torch.bmm(X, x[:, :, None])[:, :, 0]
    b1 = torch.mm(N, M)
    b2 = torch.einsum("ij,bjk->bik", N, X)
    b3 = torch.einsum("bij,jk->bik", b2, M)
    b4 = torch.bmm(b2, Xt)
    c1 = torch.mv(M.T, u)
    c2 = torch.einsum("j,bjk->bk", u, X)
    c3 = torch.einsum("bj,jk->bk", x, M)
    c4 = torch.bmm(x[:, None, :], X)[:, 0, :]
    d1 = torch.dot(u, u)
    d2 = (u * x).sum(1)
    d3 = (x * u).sum(1)
    d4 = (x * x).sum(1)
    e1, e2, e3, e4 = torch.inner(u, u), torch.inner(x, u), torch.inner(x, u), (x**2).sum(1)
    Qu = torch.einsum("bji,j->bi", Q, u)  # transpose(Q) @ u
    Ru = torch.einsum("bij,j->bi", R, u)
    h = torch.tanh((a1 + a2 + a3 + a4 + c1 + c2 + c3 + c4) / 8 + Qu / 4 + Ru / 8)
    y = torch.einsum("ij,bj->bi", N, h)
    s = (
        (b1 + b2 + b3 + b4).sum(dim=(1, 2)) / 20
        + (d1 + d2 + d3 + d4 + e1 + e2 + e3 + e4) / 16
        + (P * Xt).sum(dim=(1, 2)) / 10
        + (M.T * X).mean(dim=(1, 2))
    )
    return F.mse_loss(y, t, reduction="none").mean(1) + 0.1 * torch.tanh(s)


# --- activations.nn --------------------------------------------------------------------------
class SoftElu(torch.autograd.Function):
    """softelu(z) = 2 elu(z), backpropagated with its grad line 2 (elu(z) - relu(z) + 1)."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 2 * F.elu(z)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * 2 * (F.elu(z) - torch.relu(z) + 1)


def activations(p, b):
    x, t = b["x"], b["t"]
    z = linear(p["W"], x) + p["b"]
    a = F.gelu(z) + 0.25 * SoftElu.apply(z)  # F.gelu: approximate="none", the erf form
    h = F.gelu(F.linear(a, p["h.W"], p["h.b"]))
    m = F.gelu(h) - F.elu(h) / 2  # F.elu: alpha = 1
    k = F.elu(F.linear(m, p["k.W"], p["k.b"]))
    return F.mse_loss(k, t, reduction="none").mean(dim=1) + 0.1 * F.gelu(-2 * z).mean(dim=1)


# --- comparisons.nn -------------------------------------------------------------------------
def as01(c):
    """A comparison's 0/1 as a float64 tensor: no gradient flows through it (derivative 0)."""
    return c.to(torch.float64)


class MyRelu(torch.autograd.Function):
    """myrelu(z) = z (z > 0), backpropagated with its grad line step(z)."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * as01(z > 0)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * as01(z > 0)


def comparisons(p, b):
    x, t = b["x"], b["t"]
    z = linear(p["W"], x) + p["b"]
    a = MyRelu.apply(z) + 0.1 * z * as01(z < -0.5) + as01(z > 0) * torch.tanh(z)
    g = as01(a >= 0.2) * a + 0.5 * as01(a <= 0.2) * a + as01(p["b"] > a) * p["b"]
    y = linear(p["V"], g)
    return F.mse_loss(y, t, reduction="none").mean(dim=1)


MODELS = {
    "Classifier": classifier,
    "Matrices": matrices,
    "Binary": binary,
    "Probabilities": probabilities,
    "Functions": functions,
    "StraightThrough": straight_through,
    "MatmulForms": matmul_forms,
    "Activations": activations,
    "Comparisons": comparisons,
}


def load(path):
    with open(path) as f:
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in json.load(f).items()}


def grads(jobs):
    out = []
    for job in jobs:
        params = {k: v.requires_grad_() for k, v in load(job["params"]).items()}
        batch = load(job["batch"])
        per_example = MODELS[job["model"]](params, batch)
        assert per_example.shape == (batch["x"].shape[0],), per_example.shape
        loss = per_example.mean()
        loss.backward()
        out.append({"loss": loss.item(), "grads": {k: v.grad.tolist() for k, v in params.items()}})
    return out


def init_stats(spec):
    """For each {"init", "shape", "args"}: PyTorch's own definition of the init (torch.nn.init)
    as numbers, and a large sample drawn by torch.nn.init, summarised.

    The bound of xavier_uniform_ and the std of kaiming_normal_ are read from torch's own helpers
    (_calculate_fan_in_and_fan_out, calculate_gain), not re-derived here."""
    torch.manual_seed(0)
    out = []
    for item in spec:
        shape, init, args = item["shape"], item["init"], item.get("args", {})
        w = torch.empty(*shape)
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(w)
        info = {"fanIn": fan_in, "fanOut": fan_out}
        if init == "glorot":
            torch.nn.init.xavier_uniform_(w)
            info["bound"] = torch.nn.init.calculate_gain("linear") * math.sqrt(6.0 / (fan_in + fan_out))
        elif init == "he":
            torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")
            info["definedStd"] = torch.nn.init.calculate_gain("relu") / math.sqrt(fan_in)
        elif init == "normal":
            torch.nn.init.normal_(w, args["mean"], args["std"])
        elif init == "uniform":
            torch.nn.init.uniform_(w, args["lo"], args["hi"])
        elif init == "zeros":
            torch.nn.init.zeros_(w)
        elif init == "ones":
            torch.nn.init.ones_(w)
        elif init == "constant":
            torch.nn.init.constant_(w, args["value"])
        else:
            raise ValueError(init)
        flat = w.flatten()
        info.update(
            n=flat.numel(),
            min=flat.min().item(),
            max=flat.max().item(),
            mean=flat.mean().item(),
            std=flat.std(unbiased=False).item(),
            sample=flat[: item.get("keep", 0)].tolist(),
        )
        out.append(info)
    return out


if __name__ == "__main__":
    cmd, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        spec = json.load(f)
    result = grads(spec) if cmd == "grads" else init_stats(spec)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
