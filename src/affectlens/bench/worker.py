"""Subprocess entry point: run one registered recognizer over pickled inputs, report time and memory.

``python -m affectlens.bench.worker REQUEST.pkl RESPONSE.pkl`` (started by
``runner.infer_in_subprocess``; not a user command).  A fresh process per model is what
makes ``ru_maxrss`` an honest per-model peak.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    request_path, response_path = Path(argv[0]), Path(argv[1])
    with request_path.open("rb") as handle:  # written by our own runner
        request = pickle.load(handle)
    from affectlens.bench.runner import run_inference
    from affectlens.recognizers.peers import register_peers
    from affectlens.registry import load_recognizer

    register_peers()
    recognizer = load_recognizer(request["model"], **request["params"])
    inference = run_inference(recognizer, request["inputs"], request["batch_size"])
    with response_path.open("wb") as handle:
        pickle.dump(inference, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as err:  # the runner shows the last stderr line: make it the whole story
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
