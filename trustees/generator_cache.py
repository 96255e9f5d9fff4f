"""The daemon's cache of shuffle-generator candidates on disk (docs/trustees.md §11.4).

The generators h, h_1..h_N of an election (docs/protocol.md §4) depend only on the group and
the seed, and the list for N is a prefix of the list for any larger N. A mix server (or a
trustee, which checks the shuffles) derives the candidates while ballots arrive, keeps them in
its state directory, and when it needs them derives only the ones the cache does not hold
(`mixnet.generators.derive_generators(known=…)`).

One file per (group, seed): `<state dir>/generators/<group>-<seed hex>.gens`,

    header   "TOHYOGEN" ‖ version (2 bytes) ‖ element bytes (2) ‖ group fingerprint (32) ‖ seed (32)
    segment  start (8) ‖ count (4) ‖ count raw elements ‖ tag (32)
    tag_k  = HMAC-SHA-256(K, label ‖ tag_{k−1} ‖ start ‖ count ‖ elements),
    tag_0  = HMAC-SHA-256(K, label ‖ header)

K (`cache_key`) is derived from the party's Ed25519 signing key, which only its encrypted
keystore holds: whoever can write the state directory but not read the keystore cannot make a
tag, so a cache changed by anyone else is detected and never used. Segments are appended (never
rewritten) and fsynced; segment k starts where k − 1 ended. The chain of tags authenticates the
whole cached prefix. Loading checks, in order: the header (this group, this seed), every
segment's position and tag, every element's subgroup membership (in a batch), and a fresh
derivation of a random sample of candidates (the first and the last included), against the
party's own bugs. An incomplete last segment (an interrupted append) is cut off; a segment whose tag
fails ends the usable prefix; a cache that fails the membership or the sample check is moved
aside to `….gens.bad` whole. Each of these is one log line, and the missing candidates are
derived again: a damaged cache costs time, never a wrong proof.

One process writes a cache at a time (`<file>.lock`); another process with the same state
directory only reads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import logging
import os
import struct
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Final

from mixnet.errors import DecodeError
from mixnet.generators import candidate_count, derive_candidates
from mixnet.groups import Element, Group
from mixnet.rng import RandomSource, system_random
from trustees.config import TrusteePrivateKeys
from trustees.labels import TrusteeLabel

__all__ = [
    "CACHE_SUFFIX",
    "SAMPLE_SIZE",
    "GeneratorCache",
    "Precompute",
    "cache_key",
    "cache_path",
]

log = logging.getLogger("tohyo.trustee")

MAGIC: Final = b"TOHYOGEN"
VERSION: Final = 2  # 1 chained unkeyed SHA-256 tags
CACHE_SUFFIX: Final = ".gens"
#: candidates recomputed at load time besides the first and the last
SAMPLE_SIZE: Final = 8
_HEADER = struct.Struct(">8sHH32s32s")
_SEGMENT = struct.Struct(">QI")
_TAG_BYTES = 32
#: a segment holds at most this many candidates (bounds what one bad length field can claim)
MAX_SEGMENT: Final = 1 << 16


def cache_path(directory: str | os.PathLike[str], group: Group, seed: bytes) -> str:
    """Where the cache of (group, seed) lives under a state directory's `generators/`."""
    return os.path.join(
        os.fspath(directory), "generators", f"{group.name}-{seed.hex()}{CACHE_SUFFIX}"
    )


def cache_key(keys: TrusteePrivateKeys) -> bytes:
    """K, the key of the cache's tags: HMAC-SHA-256 of a label under the party's Ed25519
    signing key (held only in its encrypted keystore)."""
    return hmac.new(
        keys.ed25519, TrusteeLabel.GENERATOR_CACHE_KEY.encode(), hashlib.sha256
    ).digest()


def _header(group: Group, seed: bytes) -> bytes:
    return _HEADER.pack(MAGIC, VERSION, group.element_bytes, group.fingerprint(), seed)


def _tag(key: bytes, previous: bytes, start: int, payload: bytes, count: int) -> bytes:
    message = (
        TrusteeLabel.GENERATOR_CACHE.encode() + previous + _SEGMENT.pack(start, count) + payload
    )
    return hmac.new(key, message, hashlib.sha256).digest()


def _first_tag(key: bytes, header: bytes) -> bytes:
    return hmac.new(key, TrusteeLabel.GENERATOR_CACHE.encode() + header, hashlib.sha256).digest()


class GeneratorCache:
    """The cached candidates 0..count − 1 of one (group, seed), loaded and checked.

    `key` is the party's `cache_key`. `load()` reads what is on disk; `extend()` appends the
    next candidates (only the process holding the write lock, see `acquire`). Bad content is
    logged and left out, never raised.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        group: Group,
        seed: bytes,
        key: bytes,
        *,
        rng: RandomSource = system_random,
        samples: int = SAMPLE_SIZE,
    ) -> None:
        if len(seed) != 32:
            raise ValueError("a generator seed is 32 bytes")
        if len(key) != 32:
            raise ValueError("a generator cache key is 32 bytes")
        self._key = key
        self.group, self.seed = group, seed
        self.path = cache_path(directory, group, seed)
        self.rng, self.samples = rng, samples
        self.candidates: list[Element] = []
        self._header = _header(group, seed)
        self._tag = _first_tag(key, self._header)
        self._offset = 0  # bytes of the file that hold `candidates` (0: no file yet)
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"GeneratorCache({self.path!r}, {self.count} candidates)"

    @property
    def count(self) -> int:
        return len(self.candidates)

    def covers(self, n: int) -> bool:
        """Does the cache hold every candidate the generators h, h_1..h_n are drawn from?"""
        return self.count >= candidate_count(n)

    # ---- the writer's lock ----
    @property
    def writable(self) -> bool:
        return self._lock_fd is not None

    def acquire(self) -> bool:
        """Take the write lock if no other process holds it; True when this one may write."""
        if self._lock_fd is not None:
            return True
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        fd = os.open(f"{self.path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> GeneratorCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # ---- reading ----
    def load(self, *, repair: bool = True) -> int:
        """Read and check the file; keep the good prefix; return the number of candidates.

        With `repair` (and the lock, or no other writer) a bad tail is cut off the file and a
        bad file moved aside; without, the file is left as it is (`tohyo trustee status`)."""
        self.candidates, self._tag, self._offset = [], _first_tag(self._key, self._header), 0
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return 0
        name = os.path.basename(self.path)
        if data[: _HEADER.size] != self._header:
            self.discard("its header is not this group's and seed's", move=repair)
            return 0
        raws, tag, offset, problem = self._segments(data)
        if problem:
            log.warning(
                "generator cache %s: %s; keeping the %d candidates before it",
                name,
                problem,
                len(raws),
            )
            if repair:
                self._truncate(offset)
        try:
            elements = self.group.elements_from_hex([r.hex() for r in raws], self.rng)
        except DecodeError as exc:
            self.discard(f"an element is not a group member ({exc})", move=repair)
            return 0
        bad = self._sample_mismatch(elements)
        if bad is not None:
            self.discard(f"candidate {bad} differs from a fresh derivation", move=repair)
            return 0
        self.candidates, self._tag, self._offset = elements, tag, offset
        return self.count

    def _segments(self, data: bytes) -> tuple[list[bytes], bytes, int, str]:
        """The raw candidates of every good segment, the last tag, its end, and the problem."""
        size = self.group.element_bytes
        raws: list[bytes] = []
        tag, offset = _first_tag(self._key, self._header), _HEADER.size
        while offset < len(data):
            if offset + _SEGMENT.size > len(data):
                return raws, tag, offset, "the last segment is incomplete (an interrupted write)"
            start, count = _SEGMENT.unpack_from(data, offset)
            if start != len(raws) or not 0 < count <= MAX_SEGMENT:
                return (
                    raws,
                    tag,
                    offset,
                    (
                        f"the segment at byte {offset} claims candidates "
                        f"{start}.. ({count}), not {len(raws)}.."
                    ),
                )
            body = offset + _SEGMENT.size
            end = body + count * size
            if end + _TAG_BYTES > len(data):
                return raws, tag, offset, "the last segment is incomplete (an interrupted write)"
            payload = data[body:end]
            expected = _tag(self._key, tag, start, payload, count)
            if not hmac.compare_digest(data[end : end + _TAG_BYTES], expected):
                return (
                    raws,
                    tag,
                    offset,
                    (
                        f"the segment of candidates {start}..{start + count - 1}"
                        " does not match its tag (changed, or not written "
                        "with this party's key)"
                    ),
                )
            raws += [payload[i : i + size] for i in range(0, len(payload), size)]
            tag, offset = expected, end + _TAG_BYTES
        return raws, tag, offset, ""

    def _sample_mismatch(self, elements: Sequence[Element]) -> int | None:
        """A candidate index whose fresh derivation differs, or None."""
        n = len(elements)
        if n == 0:
            return None
        picks = {0, n - 1, *(self.rng.randbelow(n) for _ in range(self.samples))}
        for i in sorted(picks):
            if derive_candidates(self.group, self.seed, i, i + 1)[0] != elements[i]:
                return i
        return None

    def discard(self, reason: str, *, move: bool = True) -> None:
        """Stop using the cache: log `reason`, forget it, move the file aside (to `.bad`)."""
        log.error(
            "generator cache %s: %s; deriving the generators afresh",
            os.path.basename(self.path),
            reason,
        )
        self.candidates, self._tag, self._offset = [], _first_tag(self._key, self._header), 0
        if not move:
            return
        try:
            if self.writable or self.acquire():
                os.replace(self.path, f"{self.path}.bad")
                log.error("generator cache: the file is kept as %s.bad for inspection", self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.error("generator cache: cannot move %s aside (%s)", self.path, exc)

    def _truncate(self, offset: int) -> None:
        if self.writable or self.acquire():
            with open(self.path, "r+b") as f:
                f.truncate(offset)
                f.flush()
                os.fsync(f.fileno())

    # ---- writing ----
    def extend(self, elements: Sequence[Element]) -> None:
        """Append candidates count..count + len − 1 as segments (fsynced). Needs the lock."""
        if not self.writable:
            raise RuntimeError("this process does not hold the generator cache's lock")
        if any(e.group != self.group for e in elements):
            raise ValueError("candidates of another group")
        if self._offset == 0:
            self._create()
        with open(self.path, "r+b") as f:
            f.seek(self._offset)
            tag, start = self._tag, self.count
            for a in range(0, len(elements), MAX_SEGMENT):
                part = elements[a : a + MAX_SEGMENT]
                payload = b"".join(e.to_bytes() for e in part)
                tag = _tag(self._key, tag, start, payload, len(part))
                f.write(_SEGMENT.pack(start, len(part)) + payload + tag)
                start += len(part)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
            self._offset = f.tell()
        self._tag = tag
        self.candidates += elements

    def _create(self) -> None:
        tmp = f"{self.path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self._header)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._offset = len(self._header)


class Precompute:
    """Derive candidates into a cache in a background thread, up to a target that may grow.

    `want(n)` asks for the candidates of h, h_1..h_n; `stop()` waits for the chunk in hand and
    ends the thread; `cache.candidates` are then the ones derived so far. The work runs in the
    thread or, given `executor`, in its worker (a low-priority process in `tohyo trustee`), so
    the daemon's other work is not delayed. Progress is logged about every `log_every` seconds.
    """

    def __init__(
        self,
        cache: GeneratorCache,
        *,
        executor: Executor | None = None,
        chunk: int = 64,
        log_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self.executor = executor
        self.chunk = chunk
        self.log_every = log_every
        self.clock = clock
        self.target = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def want(self, n: int) -> None:
        """Derive (in the background) the candidates of h, h_1..h_n; starts the thread."""
        target = candidate_count(n)
        if target <= self.target or self._stop.is_set():
            return
        self.target = target
        self._wake.set()
        if self._thread is None:
            try:
                writer = self.cache.acquire()
            except OSError as exc:
                log.warning(
                    "generators: cannot write the cache %s (%s); deriving nothing ahead",
                    self.cache.path,
                    exc,
                )
                self._stop.set()
                return
            if not writer:
                log.info(
                    "generators: another process is deriving into %s; this one reads it",
                    self.cache.path,
                )
                self._stop.set()
                return
            self._thread = threading.Thread(
                target=self._run, name="generator-precompute", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        cache = self.cache
        try:
            last_log = self.clock()
            busy, derived = 0.0, 0
            while not self._stop.is_set():
                if cache.count >= self.target:
                    self._wake.wait()
                    self._wake.clear()
                    continue
                a = cache.count
                b = min(self.target, a + self.chunk)
                t = self.clock()
                if self.executor is None:
                    part = derive_candidates(cache.group, cache.seed, a, b)
                else:
                    part = self.executor.submit(
                        derive_candidates, cache.group, cache.seed, a, b
                    ).result()
                cache.extend(part)
                now = self.clock()
                busy, derived = busy + (now - t), derived + len(part)
                if now - last_log >= self.log_every or cache.count >= self.target:
                    log.info(
                        "generators: %d of %d candidates in the cache (%.0f %%, %.1f ms each)",
                        cache.count,
                        self.target,
                        100.0 * cache.count / self.target,
                        1e3 * busy / derived,
                    )
                    last_log = now
        except BaseException as exc:  # reported by the daemon; the mix derives what is missing
            self.error = exc
            log.error(
                "generators: the background derivation stopped: %s: %s", type(exc).__name__, exc
            )
