"""Draw computation graphs with their gradients: the pictures of docs/graphs.md.

Without a model name, renders every picture into docs/images/:

  (a) neuron.svg      one neuron tanh(w·x + b), every value and gradient printed
      neuron_before_backward.svg   the same graph drawn too early: no gradients yet
      neuron_step_1.svg ...        its backward pass, one frame per step
  (b) regression.svg  the x² regression network, every operation in its module's cluster
  (c) mnist.svg       an MNIST MLP with each module collapsed to one node
  (d) vanishing.svg   a deep sigmoid network next to the same network with ReLU

With a name, renders that one model (from examples/graph_gallery.py) with the options given.

    python examples/draw_graphs.py
    python examples/draw_graphs.py --out-dir /tmp/graphs --format png
    python examples/draw_graphs.py neuron --out neuron.svg           # .svg, .png, .pdf, or .dot
    python examples/draw_graphs.py mnist --no-collapse --out mnist.png
    python examples/draw_graphs.py regression --expand leaky_relu --out r.svg
    python examples/draw_graphs.py neuron --frames frames/           # one SVG per backward step
    python examples/draw_graphs.py --list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from graph_gallery import EXAMPLES, neuron
from graph_gallery import main as list_models

from nn.atomic_files import write_bytes_atomically
from tinygrad_edu import draw
from tinygrad_edu.graph import backward_frames

FORMATS = ("svg", "png", "pdf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("example", nargs="?", choices=sorted(EXAMPLES), help="draw only this model")
    parser.add_argument("--list", action="store_true", help="list the models and exit")
    parser.add_argument("--out-dir", type=Path, default=Path("docs/images"), help="where every picture goes")
    parser.add_argument("--format", choices=FORMATS, default="svg", help="image format of every picture")
    parser.add_argument("--out", type=Path, help="one model's file: .svg, .png, .pdf, or .dot for the DOT text")
    parser.add_argument("--before-backward", action="store_true", help="draw before calling backward()")
    parser.add_argument("--frames", type=Path, metavar="DIR", help="write one SVG per backward step into DIR")
    parser.add_argument("--collapse", action="store_true", default=None, help="draw each module as one node")
    parser.add_argument("--no-collapse", dest="collapse", action="store_false", help="draw every module open")
    parser.add_argument(
        "--expand", action="append", metavar="NAME", help="draw this composite (sigmoid, ...) as primitives; 'all'"
    )
    parser.add_argument("--depth", type=int, help="collapse the modules this many levels below the model")
    parser.add_argument("--numbered", action="store_true", default=None, help="number nodes in backward order")
    parser.add_argument("--statistic", choices=("norm", "mean_abs"), help="how a gradient is summarised")
    parser.add_argument("--rankdir", choices=("TB", "LR", "BT", "RL"), help="direction of data flow")
    args = parser.parse_args(argv)

    if args.list:
        list_models([])
        return 0
    if args.example is None:
        draw_every_picture(args.out_dir, args.format)
        return 0
    out = args.out or Path(f"{args.example}.svg")
    suffix = out.suffix.lstrip(".").lower()
    if suffix not in ("dot", "gv", *FORMATS):
        parser.error(f"--out must end in .svg, .png, .pdf or .dot, got {out}")
    example = EXAMPLES[args.example]
    overrides = {k: getattr(args, k) for k in ("collapse", "depth", "numbered", "statistic", "rankdir")}
    if args.expand:
        overrides["expand"] = True if "all" in args.expand else args.expand
    options: dict[str, Any] = {**example.options, **{k: v for k, v in overrides.items() if v is not None}}
    roots = example.build()

    if args.frames is not None:
        if len(roots) != 1:
            parser.error(f"--frames needs a model with one loss; {args.example} has {len(roots)}")
        args.frames.mkdir(parents=True, exist_ok=True)
        frames = backward_frames(roots[0], **options)
        for number, frame in enumerate(frames, start=1):
            frame.render(outfile=args.frames / f"step_{number:02d}.svg", cleanup=True)
        print(f"wrote {len(frames)} frames to {args.frames}/step_*.svg")
        return 0

    if not args.before_backward:
        for root in roots:
            root.backward()
    drawing = draw(roots, **options)
    if suffix in FORMATS:
        drawing.render(outfile=out, cleanup=True)
    else:
        write_bytes_atomically(out, drawing.source.encode("utf-8"))
    print(f"wrote {out}")
    return 0


def draw_every_picture(out_dir: Path, image_format: str) -> None:
    """The pictures of docs/graphs.md, after backward (gradients and their colours), and the neuron's frames."""
    out_dir.mkdir(parents=True, exist_ok=True)

    def save(drawing: Any, name: str) -> None:
        path = out_dir / f"{name}.{image_format}"
        drawing.render(outfile=path, cleanup=True)
        print(f"wrote {path}")

    for name, example in EXAMPLES.items():
        roots = example.build()
        for root in roots:
            root.backward()
        save(draw(roots, **example.options), name)

    neuron_options = EXAMPLES["neuron"].options
    save(draw(neuron(), **neuron_options), "neuron_before_backward")
    (output,) = neuron()
    for number, frame in enumerate(backward_frames(output, **neuron_options), start=1):
        save(frame, f"neuron_step_{number}")


if __name__ == "__main__":
    sys.exit(main())
