"""Is the resume of a killed 2-worker group exact, and where does its distance to a 1-process run
come from? (tests/test_multi_worker.py::test_a_killed_worker_group_resumes_with_the_same_commands)

    TF_ENABLE_ONEDNN_OPTS=1 python benchmarks/multi_worker_resume.py onednn1
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/multi_worker_resume.py onednn0
    TF_ENABLE_ONEDNN_OPTS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \
        python benchmarks/multi_worker_resume.py onednn1_t1

Runs the test's 3 x 20 steps of the tiny VAE (global batch 8) five times, each in processes of its
own: two uninterrupted 2-worker groups (A, A2), a group killed in epoch 2 and restarted with the
same commands (R), and two 1-process runs (S, S2); prints the largest weight differences as JSON.
Results: benchmarks/results/multi-worker-resume-2026-12-01.txt.
"""

import json
import os
import pathlib
import shutil
import signal
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import test_multi_worker as mw  # noqa: E402  (the test's own helpers and options)

OPTIONS = [*mw.MODELS["vae"], "--epochs", "3", "--steps-per-epoch", "20"]


def two_workers(root, kill):
    root.mkdir()
    chief, other = root / "chief", root / "other"
    addresses = mw.free_addresses(2)
    if kill:  # as the test: both killed once the first backup (end of epoch 1) exists
        processes, logs = mw.start_workers(root, addresses, [chief, other], *OPTIONS)
        while not (chief / "backup" / "training_metadata.json").exists():
            time.sleep(0.02)
        for process in reversed(processes):
            process.send_signal(signal.SIGKILL)
        mw.wait_all(processes, logs)
    processes, logs = mw.start_workers(root, addresses, [chief, other], *OPTIONS)
    codes, outputs = mw.wait_all(processes, logs)
    assert codes == [0, 0], outputs
    return mw.weights_and_steps(chief)[0]


def single(root):
    root.mkdir()
    return mw.single_process_run(root, *OPTIONS)[0]


def main(label):
    started = time.time()
    root = pathlib.Path(tempfile.mkdtemp(prefix="resume-"))
    try:
        a, a2, r = two_workers(root / "A", False), two_workers(root / "A2", False), two_workers(root / "R", True)
        s, s2 = single(root / "S"), single(root / "S2")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    d = mw.max_difference
    print(
        json.dumps(
            {
                "label": label,
                "env": {
                    k: os.environ.get(k)
                    for k in ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
                },
                "resumed vs uninterrupted group (R-A)": d(r, a),
                "group run to run (A2-A)": d(a2, a),
                "1-process run to run (S2-S)": d(s2, s),
                "group vs 1 process (A-S)": d(a, s),
                "resumed group vs 1 process (R-S, what the test checked before)": d(r, s),
                "seconds": round(time.time() - started),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run")
