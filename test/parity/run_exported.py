#!/usr/bin/env python3
"""Runs scripts written by `nnlens export --to pytorch` in ONE Python process (torch is imported
once), for test/parity/export.test.ts.

Usage: run_exported.py JOBS.json, where each job is
  {"script": PATH, "args": [...]}        calls the script's main(args), capturing its stdout
  {"script": PATH, "rng": {"seed": S, "count": N, "shuffle": K}}
                                         the script's Rng: N next_u32() values, N uniform() values
                                         from a fresh generator, and the first two epochs of an
                                         EpochShuffler over K examples
Prints [{"status": int, "stdout": str} | {"u32": [...], "uniform": [...], "epochs": [[...], [...]]}, ...].
"""
import contextlib
import importlib.util
import io
import json
import sys

modules = {}


def load(path):
    if path not in modules:
        spec = importlib.util.spec_from_file_location(f"exported_{len(modules)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[path] = module
    return modules[path]


def run(job):
    m = load(job["script"])
    if "rng" in job:
        r = job["rng"]
        a, b = m.Rng(r["seed"]), m.Rng(r["seed"])
        s = m.EpochShuffler(r["shuffle"], r["seed"])
        return {
            "u32": [a.next_u32() for _ in range(r["count"])],
            "uniform": [b.uniform() for _ in range(r["count"])],
            "epochs": [list(s.next()), list(s.next())],
        }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = m.main(job["args"])
    return {"status": status, "stdout": out.getvalue()}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    json.dump([run(job) for job in jobs], sys.stdout)
    sys.stdout.write("\n")
