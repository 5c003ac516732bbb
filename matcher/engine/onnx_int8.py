"""The int8 path: the model's transformer exported to ONNX, fused and quantised to 8 bits.

sentence-transformers' own ONNX backend needs optimum-onnx, whose only release requires
transformers < 4.58 while sentence-transformers 6.2 requires transformers >= 5: they cannot be
installed together. So the export is done here with torch and ONNX Runtime's own tools, and
sentence-transformers keeps everything around the transformer (prompts, tokenisation,
length-sorted batches, mean pooling, normalisation): only the transformer's forward pass runs in
ONNX Runtime. About 3x faster for one query on one core; vectors within cosine 0.998 of the
float32 model (docs/benchmarks.md, docs/quality.md).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

# Named after its recipe: a build with another recipe is a new file, never mistaken for this one.
ONNX_FILE = Path("onnx") / "model-int8-smoothquant-a08.onnx"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# SmoothQuant's migration strength: the share of each input channel's range moved into the weights.
# Chosen on cosine to the float32 model (0.5: 0.995; 0.7: 0.9986; 0.8 and 0.9: 0.9987, second
# feed-forward products smoothed alone), not on any evaluation.
SMOOTHING_ALPHA = 0.8


def onnx_file(model_dir: Path) -> Path:
    return Path(model_dir) / ONNX_FILE


def onnx_digest(model_dir: Path) -> str:
    """Short fingerprint of the int8 file, part of the vectors' model id."""
    with onnx_file(model_dir).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def build_onnx_int8(model_dir: Path, force: bool = False) -> Path:
    """Write ``onnx/model-int8-smoothquant-a08.onnx`` into a built model folder (about 2 min); idempotent.

    Export of the float32 transformer (eager attention, so the graph holds no traced shapes),
    ONNX Runtime's BERT fusions (attention, layer norms, GELU), smoothing of every matrix product
    (below), then dynamic int8 quantisation of every product, per output channel. Some products'
    inputs have outlier channels that one int8 scale per tensor rounds badly: worst, the second
    feed-forward product's, after GELU (cosine to the float32 model 0.996 with every product
    quantised as it is). Kept in float32, that product cost 40 % of the forward pass; smoothed
    first, every product is int8 and the vectors are within cosine 0.998 of float32. Written under
    a temporary name and renamed, so a reader never sees half a file.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    target = onnx_file(model_dir)
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    config = AutoConfig.from_pretrained(model_dir)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        exported, fused, smoothed, quantised = (
            Path(work) / name for name in ("fp32.onnx", "fused.onnx", "smoothed.onnx", "int8.onnx")
        )
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
        sample = torch.ones(2, 16, dtype=torch.long)
        # The tracer warns about Python conditions on shapes; with eager attention and the mask
        # always given they hold for every batch and length (tests/test_onnx_int8.py checks both).
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHiddenState(model),
                (sample, torch.ones_like(sample), torch.zeros_like(sample)),
                str(exported),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )
        del model
        optimizer.optimize_model(
            str(exported),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,
        ).save_model_to_file(str(fused))
        _smooth_products(fused, smoothed, AutoTokenizer.from_pretrained(model_dir))
        quantize_dynamic(
            smoothed,
            quantised,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            # the fused graph holds contrib operators whose output types shape inference cannot tell
            extra_options={"DefaultTensorType": 1},
        )
        shutil.move(quantised, target)
    for replaced in target.parent.glob("model-int8-*.onnx"):
        if replaced != target:  # an earlier recipe's file: 400 MB no process loads any more
            replaced.unlink()
    return target


def _smooth_products(source: Path, target: Path, tokenizer: Any) -> None:
    """SmoothQuant (Xiao et al., 2023) for every matrix product of the transformer: divide each input
    channel j by s_j = max|x_j|^a / max|w_j|^(1-a) and multiply the weights' row j by it. The product
    is unchanged, but the outlier channels shrink, so one int8 scale for the whole input rounds the
    others finely enough. The ranges max|x_j| are read on the shipped parallel corpus (24 languages,
    both roles): calibration data that no evaluation uses."""
    import onnx
    import onnxruntime
    from onnx import helper, numpy_helper

    from matcher.engine.centering import parallel_corpus

    model = onnx.load(str(source))
    weights = {w.name: w for w in model.graph.initializer}
    products = [n for n in model.graph.node if n.op_type in ("MatMul", "Attention") and n.input[1] in weights]
    matrices = [numpy_helper.to_array(weights[n.input[1]]) for n in products]
    ranges = {n.input[0]: np.zeros(len(matrix), dtype=np.float32) for n, matrix in zip(products, matrices, strict=True)}
    inputs = list(ranges)
    probe = onnx.load(str(source))
    probe.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in inputs)
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    texts = [text for language_texts in parallel_corpus().values() for text in language_texts]
    for text in (f"{role}: {text}" for text in texts for role in ("query", "passage")):
        encoded = tokenizer(text, return_tensors="np", truncation=True, max_length=512)
        feed = {**{name: encoded[name] for name in _INPUTS[:2]}, "token_type_ids": np.zeros_like(encoded["input_ids"])}
        for name, activations in zip(inputs, session.run(inputs, feed), strict=True):
            seen = ranges[name]
            np.maximum(seen, np.abs(activations).reshape(-1, len(seen)).max(axis=0), out=seen)
    for product, matrix in zip(products, matrices, strict=True):
        scale = np.maximum(ranges[product.input[0]], 1e-5) ** SMOOTHING_ALPHA / np.maximum(
            np.abs(matrix).max(axis=1), 1e-5
        ) ** (1 - SMOOTHING_ALPHA)
        weights[product.input[1]].CopyFrom(numpy_helper.from_array(matrix * scale[:, None], product.input[1]))
        divisor = numpy_helper.from_array((1 / scale).astype(np.float32), f"{product.name}/smoothing")
        model.graph.initializer.append(divisor)
        smoothed = f"{product.name}/smoothed_input"
        model.graph.node.insert(
            list(model.graph.node).index(product),
            helper.make_node("Mul", [product.input[0], divisor.name], [smoothed], name=f"{product.name}/smooth"),
        )
        product.input[0] = smoothed
    onnx.save(model, str(target))


class _LastHiddenState(torch.nn.Module):
    """The transformer with positional inputs and one output, as the exporter wants it."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):  # noqa: ANN201
        return self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state


class OnnxTransformer(torch.nn.Module):
    """Stands in for the Hugging Face model inside sentence-transformers' Transformer module:
    same inputs, same ``last_hidden_state``, computed by ONNX Runtime on as many threads as torch uses."""

    def __init__(self, path: Path, config: Any) -> None:
        import onnxruntime

        super().__init__()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [given.name for given in self.session.get_inputs()]
        self.config = config

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        **_: Any,
    ) -> dict[str, torch.Tensor]:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        feed = {name: given[name].numpy() for name in self.input_names}
        (hidden,) = self.session.run(["last_hidden_state"], feed)
        return {"last_hidden_state": torch.from_numpy(hidden)}


def use_onnx_int8(model: Any, model_dir: Path) -> None:
    """Swap the transformer of a loaded SentenceTransformer for the int8 ONNX one (torch weights freed)."""
    path = onnx_file(model_dir)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `matcher model build`")
    transformer = model[0]
    transformer.model = OnnxTransformer(path, transformer.model.config)
