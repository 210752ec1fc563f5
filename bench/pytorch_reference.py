"""The seed's baseline network trained in PyTorch: the reference for `npm run bench` (bench/train-speed.ts).

Same layers as trainer/models/ladder.ts ('valid' convolutions 32 3x3, 64 2x2, 128 2x2, each followed by
2x2 max-pool and dropout 0.1/0.2/0.3; dense 1000, dropout 0.5, dense 1000, dense 30; 16,561,502
parameters), MSE loss, SGD with Nesterov momentum, on random inputs. Prints one JSON line.
Needs Debian's python3-torch (`apt-get install python3-torch`, run with /usr/bin/python3); never a runtime
dependency of the trainer.
"""
import argparse
import json
import time

import torch
from torch import nn


def baseline() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.1),
        nn.Conv2d(32, 64, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2),
        nn.Conv2d(64, 128, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(128 * 11 * 11, 1000), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1000, 1000), nn.ReLU(),
        nn.Linear(1000, 30),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up step")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = baseline()
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    loss_fn = nn.MSELoss()
    x = torch.rand(args.batch, 1, 96, 96)
    y = torch.rand(args.batch, 30) * 2 - 1
    model.train()

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    cpu_start = time.process_time()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - start) / args.steps
    cpu_seconds = (time.process_time() - cpu_start) / args.steps
    print(json.dumps({
        "imagesPerSecond": args.batch / seconds,
        "stepMs": seconds * 1000,
        # CPU time of all threads: steadier than wall time when other work shares the machine.
        "stepCpuMs": cpu_seconds * 1000,
        "threads": args.threads,
        "params": params,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
