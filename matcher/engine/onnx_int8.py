"""The int8 path: the model's transformer exported to ONNX, fused and quantised to 8 bits.

sentence-transformers' own ONNX backend needs optimum-onnx, whose only release requires
transformers < 4.58 while sentence-transformers 6.2 requires transformers >= 5: they cannot be
installed together. So the export is done here with torch and ONNX Runtime's own tools, and
sentence-transformers keeps everything around the transformer (prompts, tokenisation,
length-sorted batches, mean pooling, normalisation): only the transformer's forward pass runs in
ONNX Runtime. About 2x faster for one query on one core; vectors within cosine 0.998 of the
float32 model (docs/benchmarks.md, docs/quality.md).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

# Named after its recipe: a build with another recipe is a new file, never mistaken for this one.
ONNX_FILE = Path("onnx") / "model-int8-ffn-out-fp32.onnx"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_file(model_dir: Path) -> Path:
    return Path(model_dir) / ONNX_FILE


def onnx_digest(model_dir: Path) -> str:
    """Short fingerprint of the int8 file, part of the vectors' model id."""
    with onnx_file(model_dir).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def build_onnx_int8(model_dir: Path, force: bool = False) -> Path:
    """Write ``onnx/model-int8-ffn-out-fp32.onnx`` into a built model folder (about 45 s); idempotent.

    Export of the float32 transformer (eager attention, so the graph holds no traced shapes),
    ONNX Runtime's BERT fusions (attention, layer norms, GELU), then dynamic int8 quantisation of
    the attention and of the first feed-forward product of each layer, per output channel. The
    second feed-forward product stays float32: its input, after GELU, has outliers that one int8
    scale per tensor rounds badly (cosine to the float32 model 0.997 with it quantised, 0.999
    without; per-tensor weight scales: 0.987). Written under a temporary name and renamed, so a
    reader never sees half a file.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoConfig, AutoModel

    target = onnx_file(model_dir)
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    config = AutoConfig.from_pretrained(model_dir)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        exported, fused, quantised = (Path(work) / name for name in ("fp32.onnx", "fused.onnx", "int8.onnx"))
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
        quantize_dynamic(
            fused,
            quantised,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=_feed_forward_outputs(fused),
            # the fused graph holds contrib operators whose output types shape inference cannot tell
            extra_options={"DefaultTensorType": 1},
        )
        shutil.move(quantised, target)
    return target


def _feed_forward_outputs(model_path: Path) -> list[str]:
    """Names of the second feed-forward product of every layer (``layer.N/output/dense``)."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [n.name for n in graph.node if n.name.endswith("/output/dense/MatMul") and "/attention/" not in n.name]


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
