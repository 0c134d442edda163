"""Command line: render the graph of an example model to a file.

python -m tinygrad_edu.graph neuron --out neuron.svg
python -m tinygrad_edu.graph mnist --out mnist.png
python -m tinygrad_edu.graph neuron --before-backward --out before.svg
python -m tinygrad_edu.graph neuron --frames frames/        # one SVG per backward step
python -m tinygrad_edu.graph regression --out graph.dot     # DOT text: no Graphviz needed
python -m tinygrad_edu.graph --list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import draw
from .frames import backward_frames
from .gallery import EXAMPLES

FORMATS = ("svg", "png", "pdf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_edu.graph",
        description="Render the computation graph of an example model, with its gradients, to a file.",
    )
    parser.add_argument("example", nargs="?", choices=sorted(EXAMPLES), help="which example model to draw")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument("--out", type=Path, help="output file: .svg, .png, .pdf, or .dot for the DOT text")
    parser.add_argument("--before-backward", action="store_true", help="draw before calling backward()")
    parser.add_argument("--frames", type=Path, metavar="DIR", help="write one SVG per backward step into DIR")
    parser.add_argument("--collapse", action="store_true", default=None, help="draw each module as one node")
    parser.add_argument("--expand", dest="collapse", action="store_false", help="draw every operation")
    parser.add_argument("--depth", type=int, help="collapse the modules this many levels below the model")
    parser.add_argument("--numbered", action="store_true", default=None, help="number nodes in backward order")
    parser.add_argument("--statistic", choices=("norm", "mean_abs"), help="how a gradient is summarised")
    parser.add_argument("--rankdir", choices=("TB", "LR", "BT", "RL"), help="direction of data flow")
    args = parser.parse_args(argv)

    if args.list or args.example is None:
        for name, example in EXAMPLES.items():
            print(f"{name:12} {example.description}")
        return 0
    out = args.out or Path(f"{args.example}.svg")
    suffix = out.suffix.lstrip(".").lower()
    if suffix not in ("dot", "gv", *FORMATS):
        parser.error(f"--out must end in .svg, .png, .pdf or .dot, got {out}")
    example = EXAMPLES[args.example]
    overrides = {k: getattr(args, k) for k in ("collapse", "depth", "numbered", "statistic", "rankdir")}
    options: dict[str, Any] = {**example.options, **{k: v for k, v in overrides.items() if v is not None}}
    roots = example.build()

    if args.frames is not None:
        if len(roots) != 1:
            parser.error(f"--frames needs an example with one loss; {args.example} has {len(roots)}")
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
        out.write_text(drawing.source, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
