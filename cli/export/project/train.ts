/**
 * `train.py` of an exported project: the train block's loop over a DataLoader, on a CPU, a GPU,
 * or many processes under torchrun (DistributedDataParallel). The Python is fixed; the model's
 * class, the train block's options and how accuracy is counted are filled in.
 *
 * The same trajectory on K processes as on one: every step takes one global batch of the file's
 * `batch` examples (a seeded permutation per epoch), split across the processes; each process's
 * objective is its share of the global batch's mean loss (sum of its losses × K / global batch
 * size), and DDP averages the gradients over the K processes, which gives exactly the global
 * batch's mean gradient — also for a last, smaller batch, and for a process whose share is empty.
 */
import type { TrainOptions } from '../../../engine/ir';
import type { AccuracyKind } from '../../../engine/train/index';
import { pyFloat, pyString } from '../python';

export interface TrainInput {
  modelName: string;
  className: string;
  options: TrainOptions;
  accuracy: AccuracyKind | null;
  /** Data can be given another path (csv, or a .npz of the same layout). */
  dataKind: string;
}

const TEMPLATE = String.raw`#!/usr/bin/env python3
"""Trains model @MODEL@ as the .nn file's train block says: @DESCRIBE@.

    python3 train.py                          # the GPU when there is one, else the CPU
    python3 train.py --device cpu --epochs 5  # options override the train block
    python3 train.py --device cuda --amp      # one GPU, automatic mixed precision
    torchrun --nproc_per_node 4 train.py      # 4 processes: DistributedDataParallel

Under torchrun (or any launcher that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT)
the processes share each global batch of the train block's size, so K processes take the same
steps as one; rank 0 alone logs the loss of the whole epoch and writes the weights.

Writes @MODEL@.pt (a state_dict, after every epoch) and @MODEL@.weights.json (the P.json format of
nnlens: \`nnlens trace --weights\`, \`nnlens grad --params\` and the editor's nnlens.weightsFile read it).
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from data import load, split
from model import @CLASS@, load_weights, save_weights

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = @MODEL_STR@
# the train block (nnlens trains with the mean loss of each batch)
TRAIN = @TRAIN@
# accuracy as nnlens counts it: "one-hot" (argmax of the output against argmax of the target),
# "binary" (one 0/1 target; the output predicts 1 when >= 0.5), or None (no accuracy)
ACCURACY = @ACCURACY@


class DistributedBatchSampler(torch.utils.data.Sampler):
    """The epoch's global batches of \`batch\` examples, each split across \`world\` processes.

    The order is a permutation drawn from \`seed + epoch\` (the same in every process); global batch k
    is order[k*batch : (k+1)*batch] (the last one may be smaller) and process \`rank\` takes every
    world-th example of it. One process (world 1) takes the whole global batch, so K processes step
    through exactly the batches one process does. torch's DistributedSampler instead splits the whole
    epoch between the processes and pads it with repeated examples, which changes the batches.

    Yields lists of indices: use it as DataLoader(ds, sampler=..., batch_size=None)."""

    def __init__(self, n, batch, rank=0, world=1, seed=0, shuffle=True):
        self.n, self.batch, self.rank, self.world = n, min(batch, n), rank, world
        self.seed, self.shuffle, self.epoch = seed, shuffle, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def global_size(self, k):
        """The size of global batch k."""
        return min(self.batch, self.n - k * self.batch)

    def __iter__(self):
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        for start in range(0, self.n, self.batch):
            yield order[start : start + self.batch][self.rank :: self.world]

    def __len__(self):
        return math.ceil(self.n / self.batch)


def correct(y, t):
    """How many examples of a batch are classified right (ACCURACY)."""
    if ACCURACY == "one-hot":
        return (y.flatten(1).argmax(1) == t.flatten(1).argmax(1)).sum()
    if ACCURACY == "binary":
        return ((y.flatten(1)[:, 0] >= 0.5).to(t.dtype) == t.flatten(1)[:, 0]).sum()
    return torch.zeros((), device=y.device)


def evaluate(model, ds, rank, world, device, dtype):
    """The mean loss and the accuracy over a data set; each process takes every world-th example and
    the sums are all-reduced."""
    idx = list(range(rank, len(ds), world))
    sums = torch.zeros(2, dtype=torch.float64, device=device)
    with torch.no_grad():
        for s in range(0, len(idx), 4096):
            x, t = ds[idx[s : s + 4096]]
            y, C = model(x.to(device, dtype), t.to(device, dtype))
            sums[0] += C.double().sum()
            sums[1] += correct(y, t.to(device, dtype))
    if world > 1:
        dist.all_reduce(sums)
    loss, right = sums.tolist()
    return loss / len(ds), (right / len(ds) if ACCURACY else None)


def make_optimizer(params, lr):
    if TRAIN["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=TRAIN["momentum"])
    return torch.optim.Adam(params, lr=lr, betas=(TRAIN["beta1"], TRAIN["beta2"]), eps=TRAIN["eps"])


def fail(message, code=2):
    print(f"train.py: {message}", file=sys.stderr)
    sys.exit(code)


def choose_device(name, local_rank):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            fail("--device cuda, but torch.cuda.is_available() is False")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def save_checkpoint(model, path):
    tmp = path + ".tmp"
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=f"train model {MODEL} as its train block says")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CUDA when present")
    p.add_argument("--epochs", type=int, default=TRAIN["epochs"], help="default: the train block's")
    p.add_argument("--lr", type=float, default=TRAIN["lr"], help="default: the train block's")
    p.add_argument("--batch", type=int, default=TRAIN["batch"], help="the global batch (over all processes)")
    p.add_argument("--json", action="store_true", help='one JSON object per epoch: {"epoch", "step", "loss", "valLoss", "accuracy"}')
    p.add_argument("--amp", action="store_true", help="automatic mixed precision (CUDA only)")
    p.add_argument("--init", default=os.path.join(HERE, "initial.weights.json"),
                   help="start from these weights (P.json; default: the ones nnlens starts from), or 'torch' for torch's own draw")
    p.add_argument("--seed", type=int, default=TRAIN["seed"], help="the shuffle's seed (and torch's)")
    p.add_argument("--data", help="another data file of the same layout (@DATA_KIND@)")
    p.add_argument("--out", default=HERE, help=f"where to write {MODEL}.pt and {MODEL}.weights.json")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="training precision (nnlens trains in float32)")
    args = p.parse_args(argv)
    if args.epochs < 0 or args.batch < 1 or args.lr <= 0:
        fail("--epochs must be >= 0, --batch >= 1 and --lr > 0")

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = choose_device(args.device, local_rank)
    if args.amp and device.type != "cuda":
        fail("--amp needs a CUDA device (--device cuda)")
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method="env://")
    lead = rank == 0
    torch.manual_seed(args.seed)

    train_set, val_set = split(load(args.data, dtype))
    if len(train_set) == 0:
        fail("no training examples")
    model = @CLASS@()
    if args.init != "torch":
        load_weights(model, args.init)
    model.to(device=device, dtype=dtype)
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model
    optimizer = make_optimizer(net.parameters(), args.lr)
    scaler = torch.cuda.amp.GradScaler(enabled=args.amp)
    sampler = DistributedBatchSampler(len(train_set), args.batch, rank, world, args.seed)
    loader = torch.utils.data.DataLoader(train_set, sampler=sampler, batch_size=None, num_workers=args.workers,
                                         pin_memory=device.type == "cuda")
    if lead and world > args.batch:
        print(f"train.py: {world} processes share global batches of {args.batch}: some processes idle", file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, f"{MODEL}.pt")
    step, status = 0, 0
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        good = {k: v.detach().clone() for k, v in model.state_dict().items()}
        net.train()
        total = torch.zeros((), dtype=torch.float64, device=device)
        for k, (x, t) in enumerate(loader):
            x = x.to(device, dtype, non_blocking=True)
            t = t.to(device, dtype, non_blocking=True)
            with torch.autocast(device_type=device.type, enabled=args.amp):
                _, C = net(x, t)
            # this process's share of the global batch's mean loss; DDP averages over the processes
            objective = C.float().sum() * (world / sampler.global_size(k))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(objective).backward()
            scaler.step(optimizer)
            scaler.update()
            total += C.detach().double().sum()
            step += 1
        if world > 1:
            dist.all_reduce(total)
        line = {"epoch": epoch, "step": step, "loss": total.item() / len(train_set), "valLoss": None, "accuracy": None}
        finite = math.isfinite(line["loss"]) and all(torch.isfinite(v).all() for v in model.state_dict().values())
        if not finite:
            model.load_state_dict(good)
            if lead:
                print(f"loss exploded in epoch {epoch}: the loss is {line['loss']}; kept the weights of the epoch before. "
                      f"Try a lower lr (now {args.lr})", file=sys.stderr)
            status = 1
            break
        net.eval()
        if val_set is not None:
            line["valLoss"], line["accuracy"] = evaluate(model, val_set, rank, world, device, dtype)
        elif ACCURACY:
            line["accuracy"] = evaluate(model, train_set, rank, world, device, dtype)[1]
        if lead:
            if args.json:
                print(json.dumps(line), flush=True)
            else:
                text = f"epoch {epoch:>{len(str(args.epochs))}}/{args.epochs}  loss {line['loss']:.6f}"
                if line["valLoss"] is not None:
                    text += f"  val_loss {line['valLoss']:.6f}"
                if line["accuracy"] is not None:
                    text += f"  accuracy {line['accuracy']:.4f}"
                print(text, flush=True)
            save_checkpoint(model, checkpoint)
    if lead:
        save_checkpoint(model, checkpoint)
        weights = os.path.join(args.out, f"{MODEL}.weights.json")
        save_weights(model, weights)
        print(f"wrote {checkpoint} and {weights}", file=sys.stderr)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return status


if __name__ == "__main__":
    sys.exit(main())
`;

function trainDict(o: TrainOptions): string {
  const opt =
    o.optimizer.kind === 'sgd'
      ? `"optimizer": "sgd", "lr": ${pyFloat(o.optimizer.lr)}, "momentum": ${pyFloat(o.optimizer.momentum)}`
      : `"optimizer": "adam", "lr": ${pyFloat(o.optimizer.lr)}, "beta1": ${pyFloat(o.optimizer.beta1)}, "beta2": ${pyFloat(o.optimizer.beta2)}, "eps": ${pyFloat(o.optimizer.eps)}`;
  return `{${opt}, "batch": ${o.batch}, "epochs": ${o.epochs}, "seed": ${o.seed}}`;
}

export function describeTraining(o: TrainOptions): string {
  const p = o.optimizer;
  const opt =
    p.kind === 'sgd'
      ? `SGD(lr ${pyFloat(p.lr)}${p.momentum ? `, momentum ${pyFloat(p.momentum)}` : ''})`
      : `Adam(lr ${pyFloat(p.lr)}, betas (${pyFloat(p.beta1)}, ${pyFloat(p.beta2)}), eps ${pyFloat(p.eps)})`;
  return `${opt}, batches of ${o.batch}, ${o.epochs} epochs, split ${pyFloat(o.split)}`;
}

export function emitTrain(t: TrainInput): string {
  const fill: Record<string, string> = {
    MODEL: t.modelName,
    MODEL_STR: pyString(t.modelName),
    CLASS: t.className,
    TRAIN: trainDict(t.options),
    ACCURACY: t.accuracy ? pyString(t.accuracy) : 'None',
    DESCRIBE: describeTraining(t.options),
    DATA_KIND: t.dataKind,
  };
  return TEMPLATE.replace(/@([A-Z_]+)@/g, (m, k: string) => fill[k] ?? m).replace(/\\`/g, '`');
}
