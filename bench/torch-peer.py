"""PyTorch on the CPU as a bench peer (npm run bench -- --peers torch): the peer a user without a GPU would pick.

Protocol: bench/torch.ts starts this script and writes one JSON request a line on stdin; each answer is one JSON
line on stdout. The first line out describes the build: {"torch": version, "blas": ..., "threads": n, "coretype": ...}.
A request {"op": ..., args..., "runs": n, "minRunMs": ms, "warmMs": ms} answers {"median", "min", "max", "reps"} in
milliseconds per op, timed as wgrad's timeRepeated does: untimed runs for warmMs, then each of `runs` timed runs
repeats the op until it takes at least minRunMs. {"op": "unknown"} answers {"error": ...}.

For `--interleave`, where the bench times one run of each library in turn, an op is kept between requests:
{"cmd": "open", "op": ..., args...} builds it and runs it once, so that an op this peer cannot run fails here and not
mid-round, and answers {"id": n}; {"cmd": "run", "id": n, "reps": r} runs it r times and answers {} once they are done
(the bench times the request); {"cmd": "close", "id": n} drops it and answers {}.
"""
import json
import math
import os
import sys
import time

import torch

torch.manual_seed(0)
# Debian's torch 1.13 starts with one intra-op thread on these VMs; the bench gives every library the machine's cores
# (OpenBLAS runs its own threads for the matmuls either way). WGRAD_TORCH_THREADS overrides.
torch.set_num_threads(int(os.environ.get("WGRAD_TORCH_THREADS") or len(os.sched_getaffinity(0))))


def blas_info():
    """The BLAS torch was built against, as its build config names it ('generic' for Debian's, which loads
    whichever libblas.so.3 the system's alternatives select: OpenBLAS when libopenblas0 is installed)."""
    config = torch.__config__.show()
    start = config.find("BLAS_INFO=")
    return config[start + len("BLAS_INFO="):].split(",")[0].strip() if start >= 0 else "unknown"


def blas_library():
    """The libblas torch loaded, as a real path: Debian's torch links libblas.so.3, and the alternatives system decides
    whether that is OpenBLAS or the reference BLAS (libblas3, which python3-torch pulls in alone and which runs
    matmuls at a few GFLOP/s)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return None
    return next((os.path.realpath(p) for p in sorted(paths) if p.startswith("/")), None)


def openblas_core(library):
    # OpenBLAS says which kernels it picked; 0.3.21 misdetects these VMs (Prescott) unless OPENBLAS_CORETYPE is set.
    # The library torch loaded is asked first: an OpenBLAS that is installed but not selected says nothing about it.
    try:
        import ctypes
        import ctypes.util

        names = [library] if library else ["libopenblas.so.0", "libopenblasp.so.0", ctypes.util.find_library("openblas")]
        for name in names:
            if not name:
                continue
            try:
                lib = ctypes.CDLL(name)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                lib.openblas_get_config.restype = ctypes.c_char_p
                return lib.openblas_get_corename().decode(), lib.openblas_get_config().decode()
            except (OSError, AttributeError):
                continue
    except ImportError:
        pass
    return None, None


def build(req):
    op = req["op"]
    r = torch.rand
    if op == "matmul":
        m, k, n, tb = req["m"], req["k"], req["n"], req.get("transB", False)
        a, b = r(m, k), r(n, k) if tb else r(k, n)
        return (lambda: a @ b.t()) if tb else (lambda: a @ b)
    if op == "bmm":
        a, b = r(req["b"], req["m"], req["k"]), r(req["b"], req["k"], req["n"])
        return lambda: torch.bmm(a, b)
    if op == "softmax":
        x = r(req["rows"], req["cols"])
        return lambda: torch.softmax(x, -1)
    if op == "permute":
        x = r(*req["shape"])
        return lambda: x.permute(*req["perm"]).contiguous()
    if op == "add":
        a, b = r(req["n"]), r(req["n"])
        return lambda: a + b
    if op == "sum":
        a = r(req["n"])
        return lambda: a.sum()
    if op == "dense":
        x, w, bias = r(req["m"], req["k"]), r(req["k"], req["n"]), r(req["n"])
        return lambda: torch.relu(torch.addmm(bias, x, w))
    if op == "attention":
        b, h, t, d, backward = req["b"], req["h"], req["t"], req["d"], req["backward"]
        q, k, v = (r(b, h, t, d, requires_grad=backward) for _ in range(3))
        scale = 1 / math.sqrt(d)

        def attend():
            out = torch.softmax((q @ k.transpose(-1, -2)) * scale, -1) @ v
            if backward:
                out.sum().backward()
                for x in (q, k, v):
                    x.grad = None
            return out

        return attend if backward else (lambda: _nograd(attend))
    if op == "train_step":
        return train_step(req["batch"], req["tokens"], req["dim"], req["heads"])
    if op == "text_step":
        return text_step(req["batch"], req["tokens"], req["vocab"], req["dim"], req["heads"], req["ids"])
    if op == "dispatch":
        a = torch.ones(req["n"])

        def chain():
            y = a
            for _ in range(req["count"]):
                y = y + a
            return y

        return chain
    raise ValueError(f"unknown op {op!r}")


def _nograd(fn):
    with torch.no_grad():
        return fn()


def adam_steps(model, x, y, loss_fn):
    """A training case's step: loss, backward and an Adam update of model on the fixed batch (x, y)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def train_step(batch, tokens, dim, heads, classes=10):
    """The bench's seed-1 head: MHSA(dim, heads), mean over tokens, Dense 256 relu, Dropout 0.5, Dense 10, Adam."""
    nn = torch.nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
            self.hidden = nn.Linear(dim, 256)
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(256, classes)

        def forward(self, x):
            d = dim // heads
            split = lambda t: t.view(batch, tokens, heads, d).transpose(1, 2)
            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1) @ v
            merged = self.o(att.transpose(1, 2).reshape(batch, tokens, dim))
            return self.out(self.drop(torch.relu(self.hidden(merged.mean(1)))))

    return adam_steps(Head(), torch.rand(batch, tokens, dim), torch.arange(batch) % classes, nn.CrossEntropyLoss())


def text_step(batch, tokens, vocab, dim, heads, ids):
    """The bench's seed-2 model: Embedding, MHSA(dim, heads) with the padding as key mask and dropout 0.1 on its
    weights, the masked mean over tokens, Dropout 0.2, Dense 1, binary cross-entropy on logits, Adam."""
    nn = torch.nn

    class Text(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, dim)
            self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
            self.att_drop = nn.Dropout(0.1)
            self.drop = nn.Dropout(0.2)
            self.out = nn.Linear(dim, 1)

        def forward(self, t):
            d = dim // heads
            keep = t != 0
            x = self.emb(t)
            split = lambda u: u.view(batch, tokens, heads, d).transpose(1, 2)
            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            scores = (q @ k.transpose(-1, -2) / math.sqrt(d)).masked_fill(~keep[:, None, None, :], float("-inf"))
            att = self.att_drop(torch.softmax(scores, -1)) @ v
            merged = self.o(att.transpose(1, 2).reshape(batch, tokens, dim))
            m = keep.unsqueeze(2).float()
            return self.out(self.drop((merged * m).sum(1) / m.sum(1)))

    t = torch.tensor(ids, dtype=torch.long).view(batch, tokens)
    y = (torch.arange(batch) % 2).float().view(batch, 1)
    return adam_steps(Text(), t, y, nn.BCEWithLogitsLoss())


def timed(fn, runs, min_run_ms, warm_ms, max_reps=1000):
    t0 = time.perf_counter()
    fn()
    once = (time.perf_counter() - t0) * 1000
    while (time.perf_counter() - t0) * 1000 < warm_ms:
        fn()
    reps = 1 if once >= min_run_ms else min(max_reps, max(1, math.ceil(min_run_ms / max(once, 1e-3))))
    per = []
    for _ in range(runs):
        s = time.perf_counter()
        for _ in range(reps):
            fn()
        per.append((time.perf_counter() - s) * 1000 / reps)
    per.sort()
    return {"median": per[len(per) // 2], "min": per[0], "max": per[-1], "reps": reps}


def main():
    library = blas_library()
    core, config = openblas_core(library)
    print(json.dumps({
        "torch": torch.__version__,
        "blas": blas_info(),
        "blasLibrary": library,
        "openblasCore": core,
        "openblasConfig": config,
        "coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "threads": torch.get_num_threads(),
    }), flush=True)
    opened = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            answer = serve(req, opened)
        except Exception as err:  # an op this peer cannot run answers an error, never ends the bench
            answer = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(answer), flush=True)


def serve(req, opened):
    cmd = req.get("cmd", "time")
    if cmd == "time":
        return timed(build(req), req.get("runs", 5), req.get("minRunMs", 20), req.get("warmMs", 200))
    if cmd == "open":
        fn = build(req)
        fn()
        key = max(opened, default=0) + 1
        opened[key] = fn
        return {"id": key}
    if cmd == "run":
        fn = opened[req["id"]]
        for _ in range(req["reps"]):
            fn()
        return {}
    if cmd == "close":
        opened.pop(req["id"], None)
        return {}
    raise ValueError(f"unknown cmd {cmd!r}")


if __name__ == "__main__":
    main()
