"""CPU runtimes: what runs a served version's forward on CPU, chosen once when the version loads
(``REWARDGATE_CPU_RUNTIME``). Each is a ``ForwardStrategy``, so the service, the batcher and the
benchmarks call it as they call the packed strategies:

- ``torch``: the fp32 strategy ``choose`` picks (packed where one fits), today's path.
- ``torch-int8``: the same strategy on a copy whose linear layers run in int8 (fbgemm's dynamic
  int8 linear: weights per output channel, activations quantized per token as it runs): packed
  and int8 at once.
- ``torch-bf16``: the same strategy on a bf16 copy, on a CPU that multiplies bf16 natively
  (AVX-512 BF16 or AMX; elsewhere torch emulates it, slower than fp32, and it is refused). The
  saved weights are bf16 already, so only the activations lose precision.
- ``onnx`` / ``onnx-int8``: the encoder exported with ``torch.onnx`` (padded batches, its own
  attention mask) and run by ONNX Runtime, fp32 or with its weights dynamically quantized to int8
  (``onnxruntime.quantization.quantize_dynamic``). BERT-family encoders only.

Unlike the fp32 strategies, a runtime holds a converted copy of the weights (a quantized model,
an ONNX session), made when it is built; it checks on every call that the model's weights are the
ones it was made from and makes the copy again when not (a ``.to()``, an optimizer step). The
export is made at load, in memory: versions are immutable and verified by their checksums before
they load, so the export is a pure function of verified weights and needs no checksum of its own
(and no file that could go stale beside them); it costs a few seconds of the load.

Every runtime answers every output of the model (the overall reward, then one per quality
dimension), as the fp32 strategies do: the probe compares all of them, so a runtime that read
fewer would not be used.

``TOLERANCE`` is each runtime's allowed score difference from the fp32 Hugging Face forward,
checked on the probe items when a version loads and by the tests; a runtime that misses it, or
whose package is missing, is not used: the log says why and the version serves with ``torch``.
"""

from __future__ import annotations

import copy
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from .choose import choose
from .contract import ForwardStrategy
from .encoder import EncoderPacked, _head, _scale
from .padded import pad_id_of
from .probe import mismatch

log = logging.getLogger(__name__)

RUNTIMES = ("torch", "torch-int8", "torch-bf16", "onnx", "onnx-int8")
# allowed absolute (and relative) score difference from the fp32 Hugging Face forward, per runtime
TOLERANCE = {"torch": 1e-3, "torch-int8": 0.15, "torch-bf16": 0.15, "onnx": 1e-3, "onnx-int8": 0.15}


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX-512 BF16 or AMX): there bf16 matmuls run at
    about twice the fp32 rate; elsewhere torch emulates them, slower than fp32."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def _weights_identity(model: Any) -> tuple[tuple[int, int], ...]:
    return tuple((p.data_ptr(), 0 if p.is_inference() else p._version) for p in model.parameters())


class Converted(ForwardStrategy):
    """A runtime that runs a converted copy of the model, made from its weights when built and
    made again when they change."""

    tolerance: ClassVar[float]

    def __init__(self, model: Any) -> None:
        self._source: tuple[tuple[int, int], ...] = ()
        self._converted: Any = None
        self._current(model)

    @classmethod
    def fits(cls, model: Any) -> bool:
        return EncoderPacked.fits(model) and getattr(model.base_model, "pooler", None) is not None

    def _current(self, model: Any) -> Any:
        source = _weights_identity(model)
        if self._converted is None or source != self._source:
            with torch.no_grad():
                self._converted = self.convert(model)
            self._source = source
        return self._converted

    def convert(self, model: Any) -> Any:
        raise NotImplementedError


class OnCopy(Converted):
    """The fp32 strategy chosen for the model (packed where one fits), run on a converted copy."""

    def __init__(self, model: Any) -> None:
        self.inner = choose(model)
        self.packed = self.inner.packed  # type: ignore[misc]
        super().__init__(model)

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        return self.inner.forward(self._current(model), seqs).float()

    def computed_tokens(self, lengths: list[int]) -> int:
        return self.inner.computed_tokens(lengths)


def cpu_has_vnni() -> bool:
    """Whether this CPU has AVX-512 VNNI (what torch reports; fbgemm's int8 kernels use it):
    without it fbgemm's int8 products can overflow 16 bits, and activations must lose a bit."""
    return bool(getattr(torch.cpu, "_is_vnni_supported", lambda: False)())


def _int8_weight(linear: nn.Linear) -> Any:
    """``linear``'s weight in int8, one scale per output channel, packed for fbgemm/x86 (no bias:
    it is added after the output is scaled back)."""
    w = linear.weight.detach().float()
    scales = (w.abs().amax(1).clamp(min=1e-8) / 127).double()
    q = torch.quantize_per_channel(w, scales, torch.zeros(w.shape[0], dtype=torch.long), 0, torch.qint8)
    return torch.ops.quantized.linear_prepack(q, None)


class Int8Linear(nn.Module):
    """A linear layer in int8 (fbgemm's dynamic int8 linear): weights per output channel; each
    token's activations scaled to [-1, 1] before they are quantized and the output scaled back, at
    full 8-bit range where the CPU has VNNI.

    Why per token: with one activation scale per batch, a token with large activations flattens
    every other token's to a few int8 steps (the default model's scores correlated 0.996 with fp32
    that way, 0.9991 per token). Why a fixed range: fbgemm takes the range from the whole input,
    so a token's score would depend on the other tokens of its batch (by up to 0.17 on the default
    model); one extra row [1, -1, 0, ...] pins that range to [-1, 1] whatever the batch holds."""

    def __init__(self, linear: nn.Linear, full_range: bool) -> None:
        super().__init__()
        self.packed = _int8_weight(linear)
        self.bias = None if linear.bias is None else linear.bias.detach().float().clone()
        self.reduce_range = not full_range
        self.pin = torch.zeros(linear.in_features)
        self.pin[0], self.pin[-1] = 1.0, -1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1]).float()
        s = torch.linalg.vector_norm(x, float("inf"), dim=-1, keepdim=True).clamp_(min=1e-8)
        rows = torch.empty(x.shape[0] + 1, x.shape[1])
        torch.div(x, s, out=rows[:-1])
        rows[-1] = self.pin
        y = torch.ops.quantized.linear_dynamic(rows, self.packed, reduce_range=self.reduce_range)[:-1]
        y = y.mul_(s) if self.bias is None else torch.addcmul(self.bias, y, s)
        return y.reshape(*shape[:-1], -1)


class TorchInt8(OnCopy):
    """A copy with every linear layer in int8 (``Int8Linear``). On the default model (2 cores,
    AVX-512 VNNI) this moved pairwise accuracy by -0.002 and correlated 0.9991 with fp32, where torch's stock
    ``quantize_dynamic`` (per-tensor weights, 7-bit activations, one scale per batch) correlated
    0.967; and an item scores the same alone as in any batch."""

    name = "torch-int8"
    tolerance = TOLERANCE["torch-int8"]

    @classmethod
    def fits(cls, model: Any) -> bool:
        return any(isinstance(m, nn.Linear) for m in model.modules())

    def convert(self, model: Any) -> Any:
        full = cpu_has_vnni()
        copied = copy.deepcopy(model).float().eval()
        for parent in list(copied.modules()):
            for name, child in list(parent.named_children()):
                if type(child) is nn.Linear:
                    setattr(parent, name, Int8Linear(child, full))
        return copied


class TorchBf16(OnCopy):
    """A bf16 copy; answers in fp32."""

    name = "torch-bf16"
    tolerance = TOLERANCE["torch-bf16"]

    @classmethod
    def fits(cls, model: Any) -> bool:
        return True

    def convert(self, model: Any) -> Any:
        return copy.deepcopy(model).to(torch.bfloat16).eval()


class _PaddedEncoder(nn.Module):
    """A BERT encoder's score on a padded batch, written out (embeddings, per-layer attention
    with an additive mask, the model's own output blocks and head) so that the ONNX graph holds
    no shape-dependent mask shortcut traced from the export's example."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        base = self.model.base_model
        b, t = input_ids.shape
        positions = torch.arange(t, device=input_ids.device)[None].expand(b, t)
        h = base.embeddings(input_ids=input_ids, position_ids=positions, token_type_ids=torch.zeros_like(input_ids))
        add = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * -1e9
        for layer in base.encoder.layer:
            a = layer.attention.self
            heads = a.num_attention_heads
            hd = h.shape[-1] // heads

            def split(x: torch.Tensor, heads: int = heads, hd: int = hd) -> torch.Tensor:
                return x.view(b, t, heads, hd).transpose(1, 2)

            q, k, v = split(a.query(h) * _scale(a)), split(a.key(h)), split(a.value(h))
            o = torch.softmax(q @ k.transpose(-1, -2) + add, dim=-1) @ v
            x = layer.attention.output(o.transpose(1, 2).reshape(b, t, heads * hd), h)
            h = layer.output(layer.intermediate(x), x)
        return _head(self.model, h[:, :1])  # (items, outputs): every output, as the fp32 strategies


class Onnx(Converted):
    """The encoder exported to ONNX and run by ONNX Runtime on padded batches."""

    name = "onnx"
    packed = False
    tolerance = TOLERANCE["onnx"]
    int8 = False

    def convert(self, model: Any) -> Any:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory(prefix="rewardgate-onnx-") as d:
            path = Path(d) / "model.onnx"
            ids = torch.tensor([[3, 4, 5, 6], [3, 4, 0, 0]])
            torch.onnx.export(
                _PaddedEncoder(copy.deepcopy(model).float().eval()),
                (ids, (ids != 0).long()),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["scores"],
                dynamic_axes={"input_ids": {0: "items", 1: "tokens"}, "attention_mask": {0: "items", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
            if self.int8:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantized = Path(d) / "model.int8.onnx"
                logging.disable(logging.WARNING)  # it logs every tensor it skips, and advice, on the root logger
                try:
                    quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8, **self.int8_options(path))
                finally:
                    logging.disable(logging.NOTSET)
                path = quantized
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = torch.get_num_threads()
            return ort.InferenceSession(path.read_bytes(), options, providers=["CPUExecutionProvider"])

    def int8_options(self, graph: Path) -> dict[str, Any]:
        """Options for ``onnxruntime.quantization.quantize_dynamic`` (its defaults here: per-tensor
        weights, 7-bit activations)."""
        return {}

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        session = self._current(model)
        width = max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), pad_id_of(model), dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = 1
        (scores,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
        return torch.from_numpy(scores).float()

    def computed_tokens(self, lengths: list[int]) -> int:
        return len(lengths) * max(lengths)


class OnnxInt8(Onnx):
    name = "onnx-int8"
    tolerance = TOLERANCE["onnx-int8"]
    int8 = True


_CLASSES: dict[str, type[Converted]] = {
    "torch-int8": TorchInt8,
    "torch-bf16": TorchBf16,
    "onnx": Onnx,
    "onnx-int8": OnnxInt8,
}


def _missing(runtime: str) -> str | None:
    """Why ``runtime`` cannot run on this machine, or None."""
    if runtime == "torch-int8":
        engines = torch.backends.quantized.supported_engines
        return None if any(e in engines for e in ("x86", "fbgemm")) else "no x86 int8 engine (fbgemm) in this torch"
    if runtime == "torch-bf16":
        return None if cpu_has_bf16() else "this CPU has no native bf16 (AVX-512 BF16 or AMX): slower than fp32 here"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed (pip install 'rewardgate[cpu-int8]')"
    return None


def resolve(runtime: str) -> str:
    """``auto``: ``torch-bf16`` on a CPU that multiplies bf16 natively, else ``torch-int8`` on one
    with VNNI, else ``torch``; any other runtime as it is. Measured on the default model (2 cores,
    AVX-512 BF16 and VNNI; README, "How it is fast"): bf16 1.7x fp32's items/s with accuracy
    unchanged, int8 about 1.5x within the accuracy bar: bf16 where it is native; int8 where only
    VNNI is (there torch would emulate bf16, slower than fp32)."""
    if runtime == "auto":
        return "torch-bf16" if cpu_has_bf16() else "torch-int8" if cpu_has_vnni() else "torch"
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown CPU runtime {runtime!r}: use auto or one of {', '.join(RUNTIMES)}")
    return runtime


def make_runtime(runtime: str, model: Any, device: torch.device | None = None) -> ForwardStrategy:
    """The strategy that serves ``model`` with ``runtime`` (``auto``: see ``resolve``); the fp32
    ``choose`` when the runtime is ``torch``, is not for this device or model, its package is
    missing, or its probe misses its tolerance (each said in the log, but for ``auto`` off CPU)."""
    asked, runtime = runtime, resolve(runtime)
    kind = model.config.model_type
    device = device or next(model.parameters()).device
    if runtime == "torch" or (asked == "auto" and device.type != "cpu"):
        return choose(model)
    why: str | None
    if device.type != "cpu":
        why = f"it is a CPU runtime and the model is on {device.type}"
    elif not _CLASSES[runtime].fits(model):
        why = f"it does not run {kind} models"
    else:
        why = _missing(runtime)
    strategy: ForwardStrategy | None = None
    if why is None:
        try:
            strategy = _CLASSES[runtime](model)
        except Exception as exc:  # an export or a quantization that fails is a reason, not a crash
            why = f"building it failed: {type(exc).__name__}: {exc}"
    if strategy is not None:
        # every output of a model with quality dimensions, not only the overall one
        why = mismatch(strategy, model, TOLERANCE[runtime], reference="the fp32 forward")
        strategy = strategy if why is None else None
    if strategy is None:
        log.warning("CPU runtime %s not used for %s: %s; serving with torch", runtime, kind, why)
        return choose(model)
    log.info("%s: CPU runtime %s", kind, strategy.name)
    return strategy


def runtime_of(strategy: ForwardStrategy) -> str:
    """The ``REWARDGATE_CPU_RUNTIME`` value that ``strategy`` serves as."""
    return strategy.name if strategy.name in _CLASSES else "torch"
