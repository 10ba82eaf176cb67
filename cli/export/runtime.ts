/**
 * The fixed Python of every exported script: helpers the model code calls, NN Lens's seeded
 * generator (for the same per-epoch shuffles as `nnlens train`), the training loop (as
 * engine/train/trainer.ts runs it), the check mode and the command line. `MODEL_CLASS`,
 * `INITIAL`, `DATA`, `TRAIN`, `SEEDS`, `ACCURACY`, `SOURCE` and `MODEL` come from the generated part.
 */

/** Helpers the generated model code uses; placed before it. */
export const PRELUDE = String.raw`def _unpack(data, shape):
    """float64 values stored exactly: little-endian bytes, zlib-compressed, base64."""
    a = np.frombuffer(zlib.decompress(base64.b64decode(data)), dtype="<f8")
    return torch.from_numpy(a.reshape(shape).copy())


def _tensor(values):
    return torch.tensor(values, dtype=torch.float64)


def softplus(x):
    """log(1 + e^x), exact for any x (F.softplus returns x itself above 20; nnlens does not)."""
    return torch.logaddexp(x, torch.zeros((), dtype=x.dtype))


def _args(*xs):
    """A user function's arguments as tensors of one shape (NumPy broadcasting, like nnlens)."""
    return torch.broadcast_tensors(*[x if torch.is_tensor(x) else torch.tensor(x) for x in xs])
`;

/** Everything after the data: the generator, the training loop, the check, main(). */
export const RUNTIME = String.raw`# ---------------------------------------------------------------------------------------------
# NN Lens's seeded generator (engine/rng.ts): xoshiro128** seeded through splitmix32. Only the
# per-epoch shuffle uses it, so that the batches are the ones 'nnlens train' draws.

_M32 = 0xFFFFFFFF


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & _M32


class Rng:
    def __init__(self, seed):
        x = (int(seed) & _M32) ^ 0x9E3779B9
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & _M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & _M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & _M32
            s.append((z ^ (z >> 16)) & _M32)
        if not any(s):
            s[0] = 1
        self.s = s

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & _M32, 7) * 9) & _M32
        t = (s1 << 9) & _M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        """Uniform in [0, 1), 53 random bits."""
        hi = self.next_u32() >> 5
        lo = self.next_u32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992.0

    def int(self, n):
        return math.floor(self.uniform() * n)


class EpochShuffler:
    """The order of the training examples in each epoch: Fisher-Yates over the previous order."""

    def __init__(self, n, seed):
        self.order = list(range(n))
        self.rng = Rng(seed)

    def next(self):
        a = self.order
        for i in range(len(a) - 1, 0, -1):
            j = self.rng.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a


# ---------------------------------------------------------------------------------------------
# Training, as the train block says

def make_optimizer(params):
    if TRAIN["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=TRAIN["lr"], momentum=TRAIN["momentum"])
    return torch.optim.Adam(params, lr=TRAIN["lr"], betas=(TRAIN["beta1"], TRAIN["beta2"]), eps=TRAIN["eps"])


def evaluate(model, x, y, chunk=4096):
    """Mean loss over a data set and its accuracy (None when ACCURACY is None), without gradients."""
    total, right = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(x), chunk):
            xb, yb = x[s : s + chunk], y[s : s + chunk]
            C, values = model(xb, yb)
            total += C.sum().item()
            right += correct_of(model, values, yb)
    return total / len(x), (right / len(x) if ACCURACY else None)


def correct_of(model, values, yb):
    if ACCURACY == "one-hot":
        return (values[model.OUTPUT].flatten(1).argmax(1) == yb.flatten(1).argmax(1)).sum().item()
    if ACCURACY == "binary":
        return ((values[model.OUTPUT].flatten(1)[:, 0] >= 0.5).to(yb.dtype) == yb.flatten(1)[:, 0]).sum().item()
    return 0


def train_step(model, optimizer, x, t, manual, good):
    """One optimizer step on one batch; returns the batch's loss and how many of its examples the
    output (before the update) classifies right (nothing is updated when the loss is not finite)."""
    optimizer.zero_grad(set_to_none=True)
    autograd = not manual or bool(model.AUTO_PARAMS)
    with torch.set_grad_enabled(autograd):
        C, values = model(x, t)
        loss = C.mean()
    value = loss.item()
    if not math.isfinite(value):
        return value, 0
    with torch.no_grad():
        right = correct_of(model, values, t)
        for g, p in zip(good, model.parameters()):
            g.copy_(p)  # the weights of the last step whose loss was finite
    if autograd:
        loss.backward()
    if manual:
        with torch.no_grad():
            model.manual_gradients(x, t, values)
    optimizer.step()
    return value, right


def train(model, args):
    """The train block's loop, as nnlens runs it: per epoch a seeded shuffle, batches in that order
    (the last one smaller), one optimizer step per batch on the mean loss, then the validation loss
    and accuracy — without a validation split, the running accuracy of the epoch's batches, each at
    the weights of its own step. Returns 0, or 1 when the loss exploded (the last good weights are kept)."""
    x, y = (a.to(torch.get_default_dtype()) for a in DATA["train"])
    val = DATA["validation"]
    if val is not None:
        val = tuple(a.to(torch.get_default_dtype()) for a in val)
    optimizer = make_optimizer(model.parameters())
    manual = TRAIN["gradients"] == "manual"
    shuffler = EpochShuffler(len(x), SEEDS["shuffle"])
    n, batch, step = len(x), min(TRAIN["batch"], len(x)), 0
    good = [p.detach().clone() for p in model.parameters()]
    epoch_good = [p.detach().clone() for p in model.parameters()]
    lr = TRAIN["lr"]
    for epoch in range(1, args.epochs + 1):
        order = torch.tensor(shuffler.next())
        total, right = 0.0, 0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss, ok = train_step(model, optimizer, x[idx], y[idx], manual, good)
            if not math.isfinite(loss):
                print(f"loss exploded at epoch {epoch}, step {step + 1}: the loss is {loss}; kept the weights of the "
                      f"last step with a finite loss. Try a lower lr (now {lr})", file=sys.stderr)
                return 1
            step += 1
            total += loss * len(idx)
            right += ok
        bad = [name for name, attr in model.PARAMS if not torch.isfinite(getattr(model, attr)).all()]
        if bad:
            keep = good if all(torch.isfinite(g).all() for g in good) else epoch_good
            with torch.no_grad():
                for p, g in zip(model.parameters(), keep):
                    p.copy_(g)
            print(f"loss exploded at epoch {epoch}, step {step}: {bad[0]} holds a non-finite number although the "
                  f"loss stayed finite (NaN behind a relu?). Try a lower lr (now {lr})", file=sys.stderr)
            return 1
        with torch.no_grad():
            for g, p in zip(epoch_good, model.parameters()):
                g.copy_(p)
        line = {"epoch": epoch, "step": step, "loss": total / n, "valLoss": None, "accuracy": None}
        if val is not None:
            line["valLoss"], line["accuracy"] = evaluate(model, *val)
        elif ACCURACY:
            line["accuracy"] = right / n
        if args.json:
            print(json.dumps(line), flush=True)
        else:
            text = f"epoch {epoch:>{len(str(args.epochs))}}/{args.epochs}  loss {line['loss']:.6f}"
            if line["valLoss"] is not None:
                text += f"  val_loss {line['valLoss']:.6f}"
            if line["accuracy"] is not None:
                text += f"  accuracy {line['accuracy']:.4f}"
            print(text, flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# Check mode, weights, command line

def check(model, args):
    """The float64 loss and gradients (like 'nnlens grad') on --batch or on the training set."""
    if args.batch:
        with open(args.batch) as f:
            b = json.load(f)
        tensors = [torch.tensor(b[k], dtype=torch.float64) for k in model.INPUTS + model.TARGETS]
    elif DATA is not None:
        tensors = [a.to(torch.float64)[: args.examples] for a in DATA["train"]]
    else:
        print("this model has no train block, hence no data: give --batch B.json", file=sys.stderr)
        return 2
    C, _ = model(*tensors)
    loss = C.mean()
    loss.backward()
    grads = {name: getattr(model, attr).grad.tolist() for name, attr in model.PARAMS}
    print(json.dumps({"loss": loss.item(), "grads": grads, "examples": len(tensors[0])}))
    return 0


def load_weights(path):
    """A P.json file: every param by name, nested lists."""
    with open(path) as f:
        w = json.load(f)
    out = {}
    for name, _ in MODEL_CLASS.PARAMS:
        if name not in w:
            raise SystemExit(f"{path}: missing param {name!r}")
        out[name] = torch.tensor(w[name], dtype=torch.float64)
        if tuple(out[name].shape) != MODEL_CLASS.SHAPES[name]:
            raise SystemExit(f"{path}: {name!r} has shape {list(out[name].shape)}, expected {list(MODEL_CLASS.SHAPES[name])}")
    return out


def save_weights(model, path):
    w = {name: getattr(model, attr).detach().to(torch.float64).tolist() for name, attr in model.PARAMS}
    with open(path, "w") as f:
        json.dump(w, f)


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=f"model {MODEL} from {SOURCE}, exported by NN Lens")
    p.add_argument("--epochs", type=int, default=TRAIN["epochs"], help="default: the train block's")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="training precision (nnlens trains in float32); --check is always float64")
    p.add_argument("--params", help="start from these weights (P.json) instead of the initial ones")
    p.add_argument("--weights", default=os.path.join(here, f"{MODEL}.weights.json"),
                   help="where to write the trained weights (default: next to this script)")
    p.add_argument("--no-weights", action="store_true", help="do not write the trained weights")
    p.add_argument("--json", action="store_true", help="one JSON object per epoch")
    p.add_argument("--check", action="store_true",
                   help="print the float64 loss and gradients at the initial weights (or --params), as JSON")
    p.add_argument("--batch", help="--check: on this batch (B.json) instead of the training set")
    p.add_argument("--examples", type=int, help="--check: only the first N training examples")
    args = p.parse_args(argv)

    dtype = torch.float64 if args.check or args.dtype == "float64" else torch.float32
    torch.set_default_dtype(dtype)
    weights = load_weights(args.params) if args.params else INITIAL
    model = MODEL_CLASS({k: v.to(dtype) for k, v in weights.items()})
    if args.check:
        return check(model, args)
    if DATA is None:
        print(f"model {MODEL} has no train block in {SOURCE}: nothing to train on (--check --batch B.json works)",
              file=sys.stderr)
        return 2
    status = train(model, args)
    if not args.no_weights:
        save_weights(model, args.weights)
        print(f"wrote {args.weights}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
`;
