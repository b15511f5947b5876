"""From uploaded bytes to one 128-d face encoding, away from the web worker's threads.

``analyse`` is a plain function: magic bytes, a Pillow decode with size limits read from the
header before any pixel is decoded, EXIF orientation, a downscale to ``max_side``, HOG face
detection and dlib's 128-d encoding. It returns an ``Analysis``; it never raises for bad input.

``FacePool`` runs it in child processes at a lower CPU priority (``nice``): dlib holds the GIL
for tens of milliseconds at a time, so in a gunicorn thread it would stall every other request
of that worker, and a lower priority lets the scheduler put short requests ahead of it. Each
web worker process has its own pool of ``size`` children and lets at most ``size`` requests
use it at once; a request that cannot get a turn within ``wait`` seconds is turned away.
"""
from __future__ import annotations

import io
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

OK = "ok"
BAD_IMAGE = "bad-image"
NO_FACE = "no-face"
SEVERAL_FACES = "several-faces"

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
# How long a new child may take to start and load the models, beyond the usual timeout.
START_SECONDS = 60
# No side longer than this is a photo of a face; refused before decoding.
MAX_DIMENSION = 16_384


@dataclass(frozen=True)
class Analysis:
    outcome: str  # OK, BAD_IMAGE, NO_FACE or SEVERAL_FACES
    encoding: np.ndarray | None = None  # 128 float64 values when OK
    faces: int = 0


def image_kind(data: bytes) -> str | None:
    """"JPEG" or "PNG" by the file's first bytes; None for anything else."""
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_PNG):
        return "PNG"
    return None


def load_rgb(data: bytes, *, max_side: int, max_pixels: int) -> np.ndarray | None:
    """The image as an RGB array whose longest side is at most ``max_side``, or None when it
    is not a JPEG or PNG that decodes completely within the limits."""
    from PIL import Image, ImageOps

    kind = image_kind(data)
    if kind is None:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if (width < 1 or height < 1 or width > MAX_DIMENSION or height > MAX_DIMENSION
                    or width * height > max_pixels):
                return None
            if kind == "JPEG":
                # Decode a large JPEG at 1/2, 1/4 or 1/8 scale straight away: much faster.
                image.draft("RGB", (max_side, max_side))
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
            return np.asarray(image, dtype=np.uint8).copy()
    except Exception:  # noqa: BLE001 - truncated, corrupt, a bomb, an odd mode: all "bad image"
        return None


def analyse(data: bytes, max_side: int = 800, max_pixels: int = 40_000_000,
            upsample: int = 0) -> Analysis:
    """Decode, detect and encode. Exactly one face gives ``OK`` and its encoding.

    ``upsample`` 0 finds faces of about 80 px and up (any selfie or counter photo at 800 px);
    each step up doubles the image for the detector, finding smaller faces at 3-4 times the
    cost."""
    pixels = load_rgb(data, max_side=max_side, max_pixels=max_pixels)
    if pixels is None:
        return Analysis(BAD_IMAGE)
    face_recognition = _library()
    locations = face_recognition.face_locations(pixels, number_of_times_to_upsample=upsample,
                                                model="hog")
    if not locations:
        return Analysis(NO_FACE)
    if len(locations) > 1:
        return Analysis(SEVERAL_FACES, faces=len(locations))
    (encoding,) = face_recognition.face_encodings(pixels, known_face_locations=locations,
                                                  num_jitters=1, model="small")
    return Analysis(OK, np.asarray(encoding, dtype=np.float64), faces=1)


def _library():
    from PIL import ImageFile

    import face_recognition

    # face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process when
    # imported; a damaged upload must stay a bad image.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return face_recognition


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Euclidean distance between two encodings (0: identical)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def _start_child(nice: int) -> None:
    import warnings

    from PIL import Image

    # Belt and braces beside the explicit limits: in this process Pillow refuses, rather than
    # warns about, anything over its own bomb limit.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    _library()  # load the models once, before the first request


class Busy(Exception):
    """No turn in the pool came within the wait, or the work took too long."""


class FacePool:
    """A bounded pool of child processes for ``analyse``, one per web worker process."""

    def __init__(self, size: int, wait: float, timeout: float, nice: int):
        self.size, self.wait, self.timeout, self.nice = size, wait, timeout, nice
        self._turns = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._pid = os.getpid()
        self._warm = False

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                # spawn, not fork: forking a process that runs threads can copy a held lock.
                self._executor = ProcessPoolExecutor(
                    max_workers=self.size, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child, initargs=(self.nice,))
                self._pid = os.getpid()
                self._warm = False
            return self._executor

    def analyse(self, data: bytes, **limits) -> Analysis:
        """``analyse(data, **limits)`` in a child; ``Busy`` when no turn comes in time."""
        from core import metrics  # here, not at the top: the children import this module

        started = time.perf_counter()
        outcome = "error"
        try:
            if not self._turns.acquire(timeout=self.wait):
                outcome = "busy"
                raise Busy()
            try:
                result = self._run(data, **limits)
                outcome = "ok"
                return result
            except Busy:
                outcome = "busy"
                raise
            finally:
                self._turns.release()
        finally:
            metrics.FACE_ANALYSES.labels(outcome=outcome).inc()
            metrics.FACE_SECONDS.observe(time.perf_counter() - started)

    def _run(self, data: bytes, **limits) -> Analysis:
        pool = self._pool()
        # A new child first loads the models: seconds on a busy machine, once.
        timeout = self.timeout + (0 if self._warm else START_SECONDS)
        future = pool.submit(analyse, data, **limits)
        try:
            result = future.result(timeout=timeout)
            self._warm = True
            return result
        except FutureTimeout:
            log.error("face analysis timed out")
            self._discard()
            raise Busy() from None
        except BrokenProcessPool:
            log.error("face analysis process died")
            self._discard()
            raise Busy() from None

    def warm_up(self) -> None:
        """Start the children now (they load the models), rather than on the first request."""
        pool = self._pool()
        for future in [pool.submit(_noop) for _ in range(self.size)]:
            future.result(timeout=START_SECONDS)
        self._warm = True

    def _discard(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            # A child stuck on one image is killed; shutdown alone would wait for it.
            processes = list((getattr(executor, "_processes", None) or {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.kill()

    def stop(self) -> None:
        """Kill the children now, without waiting (the worker is exiting)."""
        self._discard()

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _noop() -> None:
    return None
