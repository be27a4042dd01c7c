"""`bench infer`: latency of attribute transfer through every runtime, measured in one run.

Runtimes: the Keras model called directly (eager), `tf.function` without and with XLA
(`jit_compile=True`), the exported SavedModel, and ONNX Runtime with several session settings and
graph variants. Every runner gets the same inputs; after a warmup the runners are timed in
interleaved rounds (one call of each per round, in a new random order each round), so a load
change on a shared machine hits them all alike and none has a fixed neighbour. Each call takes numpy arrays and
includes getting the result back as a numpy array
(for the NCHW variant the layout transposes are done outside the timing).
"""

import os
import platform
import statistics
import tempfile
import time

import keras
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf

from export.artifacts import export_model
from export.graphs import endpoints
from export.onnx_graphs import compose_transfer, to_onnx
from export.ort_common import session_options

ORT_ALL = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
SHIPPED = "NHWC export, shipped (`--threads auto`, the rule of `ort_common.session_options`)"
DEFAULT = "NHWC export, ORT_ENABLE_ALL, threads default"


def run_infer_bench(
    model, info, batches=(1, 64), repeats=20, warmup=3, untrained=False, command=None, log=print, threads_only=False
):
    """Times `transfer(content, style)` in every runtime; returns a Markdown report.

    Args:
        model: LatentModel. A reference-based model (rbvae, srbvae).
        info: dict. `load_trained`'s info (name, path, fit) or a description of an untrained model.
        batches: sequence of int. Batch sizes. Defaults to `(1, 64)`.
        repeats: int. Timed calls per runner and batch size. Defaults to 20.
        warmup: int. Untimed calls first (XLA compiles, ORT allocates). Defaults to 3.
        untrained: bool. Say in the report that the weights are random. Defaults to False.
        command: str or None. The command line, quoted in the report.
        log: callable. Progress messages. Defaults to `print`.
        threads_only: bool. Time only ONNX Runtime's thread settings on the exported graph (ORT's
            default first, the ratio column relative to it), for more repeats in the same time.
            Defaults to False.

    Returns:
        str: the Markdown report (a header and one table).
    """
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        log("exporting the SavedModel and ONNX graphs ...")
        export_model(model, info, os.path.join(tmp, "export"), onnx=True, verify=False)
        runners = _runners(model, os.path.join(tmp, "export"), tmp, log, threads_only)
        rows = []
        for batch in batches:
            log(f"batch {batch}: warmup {warmup}, then {repeats} interleaved rounds of {len(runners)} runners")
            rows += _measure(model, runners, batch, repeats, warmup)
    header = _header(model, info, batches, repeats, warmup, untrained, command, load_before, os.getloadavg())
    return header + _table(rows, "ORT default" if threads_only else "Keras") + _onnx_summary(rows)


def _runners(model, export_dir, tmp, log, threads_only=False):
    """`[(name, settings, fn(content, style) -> NHWC numpy images)]`; the first is the ratio baseline."""
    exported = os.path.join(export_dir, "onnx", "transfer.onnx")
    threads = [
        (DEFAULT, {}),
        (SHIPPED, "auto"),
        ("NHWC export, intra_op_num_threads=1", {"intra_op_num_threads": 1}),
        ("NHWC export, intra_op_num_threads=2", {"intra_op_num_threads": 2}),
        ("NHWC export, intra_op_num_threads=2, no spin-wait", {"intra_op_num_threads": 2, "spinning": "0"}),
    ]
    if threads_only:
        return [("ONNX Runtime", settings, _ort_runner(exported, options, nchw=False)) for settings, options in threads]
    transfer_fn, signature = endpoints(model)["transfer"]
    plain = tf.function(model.transfer, input_signature=signature)
    xla = tf.function(model.transfer, input_signature=signature, jit_compile=True)
    saved = tf.saved_model.load(os.path.join(export_dir, "saved_model")).signatures["transfer"]
    runners = [
        ("Keras", "direct call `model.transfer`, eager", lambda c, s: keras.ops.convert_to_numpy(model.transfer(c, s))),
        ("tf.function", "jit_compile=False", lambda c, s: plain(c, s).numpy()),
        ("tf.function", "jit_compile=True (XLA)", lambda c, s: xla(c, s).numpy()),
        ("SavedModel", "signature `transfer`", lambda c, s: saved(content=c, style=s)["images"].numpy()),
    ]
    log("converting the ONNX variants (direct NHWC, composed NCHW) ...")
    direct = os.path.join(tmp, "transfer_direct.onnx")
    onnx.save(to_onnx(transfer_fn, signature), direct)
    graphs = endpoints(model)
    nchw = os.path.join(tmp, "transfer_nchw.onnx")
    onnx.save(
        compose_transfer(
            *(to_onnx(*graphs[name], nchw=True) for name in ("encode_common", "encode_target", "generate"))
        ),
        nchw,
    )
    level = ort.GraphOptimizationLevel
    variants = [
        *((exported, settings, options) for settings, options in threads),
        (
            exported,
            "NHWC export, ORT_PARALLEL, inter_op_num_threads=2",
            {"execution_mode": ort.ExecutionMode.ORT_PARALLEL, "inter_op_num_threads": 2},
        ),
        (exported, "NHWC export, ORT_ENABLE_EXTENDED", {"graph_optimization_level": level.ORT_ENABLE_EXTENDED}),
        (exported, "NHWC export, ORT_ENABLE_BASIC", {"graph_optimization_level": level.ORT_ENABLE_BASIC}),
        (exported, "NHWC export, ORT_DISABLE_ALL", {"graph_optimization_level": level.ORT_DISABLE_ALL}),
        (direct, "NHWC, transfer converted in one piece (not composed)", {}),
        (nchw, "NCHW (tf2onnx inputs_as_nchw/outputs_as_nchw), transposes outside timing", {}),
    ]
    for path, settings, options in variants:
        runners.append(("ONNX Runtime", settings, _ort_runner(path, options, nchw=path == nchw)))
    return runners


def _ort_runner(path, options, nchw):
    """A runner of the ONNX graph `path`: `options` is `"auto"` (the scripts' rule, a session per
    batch size), or a dict of settings applied to ORT's defaults (`spinning` sets
    `session.intra_op.allow_spinning`)."""
    if options == "auto":
        return _Shipped(path)
    settings = ort.SessionOptions()
    settings.graph_optimization_level = ORT_ALL
    for key, value in options.items():
        if key == "spinning":
            settings.add_session_config_entry("session.intra_op.allow_spinning", value)
        else:
            setattr(settings, key, value)
    session = ort.InferenceSession(path, sess_options=settings, providers=["CPUExecutionProvider"])
    if not nchw:
        return lambda c, s: session.run(["images"], {"content": c, "style": s})[0]
    return _NCHW(session)


class _Shipped:
    """The ONNX scripts' session: options by `session_options("auto", batch=...)`, made on the first
    (untimed warmup) call of each batch size."""

    def __init__(self, path):
        self.path, self.sessions = path, {}

    def __call__(self, content, style):
        batch = len(content)
        if batch not in self.sessions:
            options = session_options("auto", batch=batch)[0]
            self.sessions[batch] = ort.InferenceSession(
                self.path, sess_options=options, providers=["CPUExecutionProvider"]
            )
        return self.sessions[batch].run(["images"], {"content": content, "style": style})[0]


class _NCHW:
    """An NCHW session: its inputs are transposed once before timing, its output after."""

    def __init__(self, session):
        self.session = session

    def prepare(self, content, style):
        return np.ascontiguousarray(content.transpose(0, 3, 1, 2)), np.ascontiguousarray(style.transpose(0, 3, 1, 2))

    def __call__(self, content, style):
        return self.session.run(["images"], {"content": content, "style": style})[0]

    def finish(self, images):
        return images.transpose(0, 2, 3, 1)


def _measure(model, runners, batch, repeats, warmup):
    rng = np.random.default_rng(batch)
    content = rng.uniform(-1, 1, (batch, model.image_size, model.image_size, 3)).astype(np.float32)
    style = rng.uniform(-1, 1, content.shape).astype(np.float32)
    expected = keras.ops.convert_to_numpy(model.transfer(content, style))
    feeds, diffs = [], []
    for _, _, run in runners:
        inputs = run.prepare(content, style) if isinstance(run, _NCHW) else (content, style)
        feeds.append(inputs)
        for _ in range(warmup):
            out = run(*inputs)
        out = run.finish(out) if isinstance(run, _NCHW) else out
        diffs.append(float(np.max(np.abs(out - expected))))
    times = [[] for _ in runners]
    order = np.arange(len(runners))
    for _ in range(repeats):
        rng.shuffle(order)  # no runner always follows the slow eager call or another's spinning threads
        for k in order:
            started = time.perf_counter()
            runners[k][2](*feeds[k])
            times[k].append(time.perf_counter() - started)
    keras_median = statistics.median(times[0])  # the first runner: Keras, or ORT's default
    rows = []
    for (name, settings, _), seconds, diff in zip(runners, times, diffs):
        median = statistics.median(seconds)
        rows.append(
            {
                "runtime": name,
                "settings": settings,
                "batch": batch,
                "median_ms": 1e3 * median,
                "p95_ms": 1e3 * float(np.percentile(seconds, 95)),
                "min_ms": 1e3 * min(seconds),
                "images_per_s": batch / median,
                "speedup": keras_median / median,
                "max_abs_diff": diff,
            }
        )
    return rows


def _table(rows, baseline="Keras"):
    lines = [
        f"| runtime | settings | batch | median ms | p95 ms | min ms | images/s | vs {baseline} | max abs diff |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['runtime']} | {r['settings']} | {r['batch']} | {r['median_ms']:.2f} | "
            f"{r['p95_ms']:.2f} | {r['min_ms']:.2f} | {r['images_per_s']:.1f} | {r['speedup']:.2f}x | "
            f"{r['max_abs_diff']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def _onnx_summary(rows):
    """Per batch: the scripts' shipped session beside ORT's default, and the fastest ONNX Runtime row."""
    lines = [""]
    for batch in sorted({r["batch"] for r in rows}):
        onnx = [r for r in rows if r["batch"] == batch and r["runtime"] == "ONNX Runtime"]
        shipped = next(r for r in onnx if r["settings"] == SHIPPED)
        default = next(r for r in onnx if r["settings"] == DEFAULT)
        best = min(onnx, key=lambda r: r["median_ms"])
        lines.append(
            f"- batch {batch}: shipped session ({session_options('auto', batch=batch)[1]}) median "
            f"{shipped['median_ms']:.2f} ms vs ORT default {default['median_ms']:.2f} ms "
            f"({default['median_ms'] / shipped['median_ms']:.2f}x); fastest ONNX Runtime row: "
            f"{best['settings']}, {best['median_ms']:.2f} ms"
        )
    return "\n".join(lines) + "\n"


def _header(model, info, batches, repeats, warmup, untrained, command, load_before, load_after):
    params = sum(net.count_params() for net in (model.target_encoder, model.common_encoder, model.generator))
    fit = info.get("fit") or {}
    what = (
        "untrained (random weights; latency does not depend on them)" if untrained else f"trained, {info.get('path')}"
    )
    lines = [
        f"### {fit.get('model') or info.get('name')}: {model.image_size} px, width {model.width}, "
        f"target/common dims {model.target_dim}/{model.common_dim}, {params / 1e6:.2f} M inference parameters, {what}",
        "",
        f"- command: `{command}`" if command else None,
        f"- transfer G(mean z(content), mean e(style)), batches {', '.join(map(str, batches))}: "
        f"{warmup} warmup calls, then {repeats} timed rounds (one call of every runner per round, "
        "shuffled order); images/s = batch / median; "
        "'vs Keras' = Keras median / median, same batch; max abs diff = to `model.transfer`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (shared with other processes)",
        f"- tensorflow {tf.__version__}, keras {keras.__version__}, onnxruntime {ort.__version__}, TF threads: default",
        "",
    ]
    return "\n".join(line for line in lines if line is not None) + "\n"
