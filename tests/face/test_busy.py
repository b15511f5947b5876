"""Face work is bounded per process: a request that gets no turn soon is told to come back."""
from __future__ import annotations

import threading

from identity import face_images
from tests.codes.support import problem_type
from tests.face.conftest import enrol
from tests.helpers import resident


def test_when_every_face_worker_is_busy_the_answer_is_503_with_retry_after(client, app, photos,
                                                                           monkeypatch):
    holder = resident(client)
    pool = face_images.FacePool(size=1, wait=0.05, timeout=5, nice=0)
    monkeypatch.setitem(app.extensions, "face_pool", pool)
    assert pool._turns.acquire()  # another request holds the only turn
    try:
        response = enrol(client, holder, photos["obama_1"])
    finally:
        pool._turns.release()
    assert response.status_code == 503 and problem_type(response) == "service-unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def test_requests_past_the_limit_wait_their_turn(app, monkeypatch):
    """Three at once with one turn: each waits for the one before instead of running beside it."""
    pool = face_images.FacePool(size=1, wait=5, timeout=5, nice=0)
    running, overlap = [], []
    lock = threading.Lock()

    def slow(self, data, **limits):  # a stand-in for the child's work
        with lock:
            running.append(1)
            overlap.append(len(running))
        threading.Event().wait(0.05)
        with lock:
            running.pop()
        return face_images.Analysis(face_images.NO_FACE)

    monkeypatch.setattr(face_images.FacePool, "_run", slow)
    threads = [threading.Thread(target=pool.analyse, args=(b"",)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == [1, 1, 1]


def test_the_pool_survives_a_child_that_dies(app, monkeypatch):
    monkeypatch.undo()  # the real child, not the session's cache
    pool = face_images.FacePool(size=1, wait=1, timeout=30, nice=0)
    try:
        assert pool.analyse(b"not an image").outcome == face_images.BAD_IMAGE
        for process in pool._executor._processes.values():
            process.kill()
        try:
            pool.analyse(b"not an image")
        except face_images.Busy:
            pass  # the request that saw it die is turned away ...
        assert pool.analyse(b"still not an image").outcome == face_images.BAD_IMAGE  # ... the next works
    finally:
        pool.close()
