"""Find OpenAlex works files, and read a file in chunks of whole lines, plain or gzipped.

The chunked reading is the ingest's path for a file with malformed lines (a file without any is
read by DuckDB in one scan): a background thread reads (and decompresses) the next chunk while
DuckDB parses the current one; each chunk is written to a small temporary file that DuckDB's JSON
reader scans, and carries the number of its first line. Memory stays flat: at most a few chunks of
CHUNK_BYTES are held at once, however large the input.
"""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 32 << 20
BLOCK_BYTES = 4 << 20  # read (or decompressed-input) block
WORKS_SUFFIXES = (".gz", ".jsonl", ".ndjson", ".json", ".jsonl.gz")
GZIP_MAGIC = b"\x1f\x8b"


class InputError(Exception):
    """A path given to the ingest doesn't exist or holds no works files."""


def discover(paths: list[Path]) -> list[Path]:
    """Every works file under `paths`, in order: files as given, folders recursively and sorted
    (the snapshot's works/updated_date=YYYY-MM-DD/part_NNN.gz sorts oldest first). Inside folders,
    only .gz/.jsonl/.ndjson/.json files count; hidden files and the snapshot's manifest are skipped."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and is_works_file(p.relative_to(path).parts))
            if not files:
                raise InputError(f"{path} holds no works files (.gz, .jsonl, .ndjson or .json).")
            found.extend(files)
        else:
            raise InputError(f"{path} does not exist.")
    seen: set[Path] = set()
    ordered = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            ordered.append(p)
    return ordered


def is_works_file(parts: tuple[str, ...] | list[str]) -> bool:
    """Whether a file found inside a folder, by its path parts below that folder, is a works file
    (the Spark engine lists object stores with the same rule)."""
    name = parts[-1].lower()
    return (
        not any(part.startswith(".") for part in parts)
        and name.endswith(WORKS_SUFFIXES)
        and not name.startswith("manifest")
    )


@dataclass
class Chunk:
    file_index: int
    path: Path
    first_line: int  # 1-based number of the chunk's first line in its file
    lines: int  # lines in the chunk (a last line without a newline counts)
    data_path: Path | None  # temporary file holding the chunk's bytes
    size: int  # bytes of (decompressed) text
    position: int  # bytes of the input files read so far (compressed bytes for .gz), all files
    error: str = ""  # a read error after this chunk (corrupt or truncated gzip): rest of file lost


class ChunkReader:
    """Iterate Chunks of every file; a thread reads ahead into `slots` rotating temporary files."""

    def __init__(
        self, files: list[Path], workdir: Path, chunk_bytes: int = CHUNK_BYTES, slots: int = 3, first_index: int = 0
    ):
        self.files = files
        self.first_index = first_index  # file_index of files[0] (for input order across calls)
        self.total_bytes = sum(f.stat().st_size for f in files)
        self.chunk_bytes = chunk_bytes
        self._slots = [workdir / f"chunk-{i}.jsonl" for i in range(slots)]
        self._free: queue.Queue[Path] = queue.Queue()
        for slot in self._slots:
            self._free.put(slot)
        self._ready: queue.Queue[Chunk | BaseException | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="collab-ingest-reader", daemon=True)

    def __iter__(self) -> Iterator[Chunk]:
        self._thread.start()
        try:
            while True:
                item = self._ready.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()
            self._free.put(self._slots[0])  # unblock a reader waiting for a slot
            self._thread.join(timeout=10)

    def release(self, chunk: Chunk) -> None:
        """The consumer is done with the chunk's temporary file."""
        if chunk.data_path is not None:
            self._free.put(chunk.data_path)

    def _run(self) -> None:
        try:
            done = 0
            for index, path in enumerate(self.files):
                if self._stop.is_set():
                    return
                size = path.stat().st_size
                for chunk in self._read_file(self.first_index + index, path, done):
                    if self._stop.is_set():
                        return
                    self._ready.put(chunk)
                done += size
            self._ready.put(None)
        except BaseException as error:  # handed to the consumer, raised there
            self._ready.put(error)

    def _read_file(self, index: int, path: Path, done: int) -> Iterator[Chunk]:
        """Chunks of whole lines of one file. Each block of text (read, or decompressed) is
        written straight to the chunk's temporary file; only a chunk's last partial line moves
        to the next one. No other copy of the text is made."""
        first_line, out, slot, size, lines, last = 1, None, None, 0, 0, b"\n"
        with open(path, "rb") as raw:
            for block, error in _blocks(raw, BLOCK_BYTES):
                if block:
                    if out is None:
                        slot = self._free.get()
                        if self._stop.is_set():
                            return
                        out, size, lines = open(slot, "wb"), 0, 0
                    cut = block.rfind(b"\n") + 1 if size + len(block) >= self.chunk_bytes else 0
                    if cut:  # this block fills the chunk: end it at the block's last newline
                        out.write(memoryview(block)[:cut])
                        out.close()
                        lines += block.count(b"\n", 0, cut)
                        yield Chunk(index, path, first_line, lines, slot, size + cut, done + raw.tell())
                        first_line += lines
                        out = None
                        rest = memoryview(block)[cut:]
                        if rest:
                            slot = self._free.get()
                            if self._stop.is_set():
                                return
                            out, size, lines = open(slot, "wb"), len(rest), 0
                            out.write(rest)
                            last = block[-1:]
                        continue
                    out.write(block)
                    size += len(block)
                    lines += block.count(b"\n")
                    last = block[-1:]
                    continue
                # The end of the file, or an error that ends it.
                if out is not None:
                    out.close()
                    lines += 0 if last == b"\n" else 1
                    yield Chunk(index, path, first_line, lines, slot, size, done + raw.tell(), error)
                elif error:
                    yield Chunk(index, path, first_line, 0, None, 0, done + raw.tell(), error)
                return


def _blocks(raw: BinaryIO, chunk_bytes: int) -> Iterator[tuple[bytes, str]]:
    """(text, error) blocks of a plain or gzipped (one or several members) file; b"" at the end.
    A corrupt or truncated gzip stream ends the file with an error message."""
    head = raw.read(2)
    raw.seek(0)
    if head != GZIP_MAGIC:
        while block := raw.read(chunk_bytes):
            yield block, ""
        yield b"", ""
        return
    decompressor, fed = zlib.decompressobj(wbits=31), False
    while True:
        data = raw.read(chunk_bytes >> 4)  # about a block of text once decompressed
        if not data:
            if fed and not decompressor.eof:
                yield b"", "the compressed data ends early (truncated file?); the rest of the file was skipped"
            else:
                yield b"", ""
            return
        try:
            while data:
                fed = True
                text = decompressor.decompress(data, chunk_bytes)  # bounded, however well it compresses
                if text:
                    yield text, ""
                if decompressor.unconsumed_tail:
                    data = decompressor.unconsumed_tail
                    continue
                if not decompressor.eof:
                    break
                # The end of one gzip member; another may follow in the same file.
                data = decompressor.unused_data
                decompressor, fed = zlib.decompressobj(wbits=31), False
        except zlib.error as exc:
            yield b"", f"the compressed data is corrupt ({exc}); the rest of the file was skipped"
            return


def read_chunk(chunk: Chunk) -> bytes:
    assert chunk.data_path is not None
    return Path(chunk.data_path).read_bytes()
