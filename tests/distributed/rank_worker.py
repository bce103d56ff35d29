"""One rank of ``test_ranks.py``'s two-process launch: exercises
:mod:`medaug.distributed`, prints what it saw as one JSON line, then runs the ``medaug``
command line with an argument that differs per rank (``--seed RANK``), which must fail.

Run as a script by the test (with torchrun's variables set), never collected by pytest.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from torch import nn

from medaug import distributed
from medaug.cli import main as cli_main
from medaug.errors import MedaugError
from medaug.training.parallel import check_same_weights, shard


def main(order_file: Path, data: str, out: str) -> None:
    seen: dict[str, object] = {}
    with distributed.session() as launch:
        assert launch is not None
        r = distributed.rank()
        seen["world_size"] = distributed.world_size()
        seen["is_main"] = distributed.is_main()
        seen["broadcast"] = distributed.broadcast_object({"sent_by": r})
        seen["gathered"] = distributed.all_gather_object(10 * r)
        seen["seed"] = distributed.rank_seed(7)
        seen["shard"] = shard(torch.arange(5), r, distributed.world_size()).tolist()
        torch.manual_seed(0)
        seen["same_weights"] = check_same_weights(nn.Linear(3, 2))
        torch.manual_seed(r)  # each rank its own weights
        try:
            check_same_weights(nn.Linear(3, 2))
            seen["different_weights"] = None
        except MedaugError as exc:
            seen["different_weights"] = str(exc)
        with distributed.main_first(local=False):
            if r == 0:
                time.sleep(0.5)  # rank 1 would write first if it did not wait
            with order_file.open("a", encoding="utf-8") as fh:
                fh.write(str(r))
        try:
            with distributed.main_first(local=False):
                if r == 0:
                    raise MedaugError("cannot read the data")
                seen["ran_after_a_failure"] = True
        except MedaugError as exc:
            seen["first_failed"] = str(exc)
        print(json.dumps(seen), flush=True)
        args = ["train", data, "--classifier", "simple-cnn", "--out", out, "--seed", str(r)]
        cli_main(args)  # exits: the ranks disagree on the command line


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
    except SystemExit as exc:  # the group is destroyed: leave as docs/scaling.md advises
        distributed.exit_process(exc.code)
