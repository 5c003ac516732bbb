"""Fit the language offsets the tests use, for the float32 and the int8 model, before a test run.

They are fitted once per model and kept in .make/. Without this step the first test that needs
each one fits it, inside the suite; CI's two passes (SQLite and PostgreSQL, side by side, one thread
each) then both fitted both at the same time. Run here first, on every core, each is fitted once.

Run: .venv/bin/python -m tests.language_offsets (part of make test-prep)
"""

from __future__ import annotations

from pathlib import Path

from matcher.engine.centering import LanguageCentering
from matcher.engine.embedding import shared_embedder
from matcher.engine.model_build import build_model, default_model_dir
from matcher.engine.onnx_int8 import build_onnx_int8

FOLDER = Path(__file__).resolve().parents[1] / ".make"
# Offsets are keyed by model id, and the int8 backend's differs: one file per backend.
OFFSETS = {"torch": FOLDER / "test-language-centering.npz", "onnx-int8": FOLDER / "test-language-centering-int8.npz"}


def main() -> None:
    model = build_model(default_model_dir())
    build_onnx_int8(model)
    for backend, path in OFFSETS.items():
        LanguageCentering.load_or_fit(shared_embedder(str(model), backend=backend), path)
        print(f"language offsets for the {backend} backend: {path}")


if __name__ == "__main__":
    main()
