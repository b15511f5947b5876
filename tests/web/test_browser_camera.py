"""The counter's camera, with Chromium's fake camera fed a Y4M made here: a resident's code
decoded by the vendored jsQR, and a face checked against the holder's enrolled face."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.web.camera import fake_camera_args, y4m_from_image
from tests.web.flows import counter_signs_in, counter_types_code, hook
from tests.web.live import NO_CHROMIUM, chromium_missing, launch

pytestmark = [pytest.mark.browser, pytest.mark.skipif(chromium_missing(), reason=NO_CHROMIUM)]

PHOTOS = Path(__file__).resolve().parents[1] / "face" / "photos"
PC = {"viewport": {"width": 1280, "height": 900}}


def _api(live, method: str, path: str, body=None, token: str | None = None, raw=None,
         content_type: str = "application/json") -> bytes:
    headers = {"Content-Type": content_type} if (body is not None or raw is not None) else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(live.url + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request) as answer:
        return answer.read()


def _sign_in(live, resident: dict) -> str:
    tokens = json.loads(_api(live, "POST", "/api/v1/auth/login",
                             {"username": resident["phone"], "password": resident["password"]}))
    return tokens["access_token"]


def _multipart(fields: dict, image: bytes) -> tuple[bytes, str]:
    boundary = "onecode-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="face.jpg"'
                 f'\r\nContent-Type: image/jpeg\r\n\r\n'.encode() + image + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_the_counter_scans_a_code_with_the_camera(live, playwright, tmp_path, watch):
    token = _sign_in(live, live.resident(0))
    png = _api(live, "GET", "/api/v1/me/code.png", token=token)
    video = y4m_from_image(png, tmp_path / "code.y4m")

    browser = launch(playwright, *fake_camera_args(video))
    try:
        context = browser.new_context(base_url=live.url, locale="zh-CN", **PC)
        watch.attach(context)
        page = context.new_page()
        counter_signs_in(page, live.service_point(0))
        page.click(hook("scan-camera"))
        page.wait_for_selector(f'{hook("subject-name")}:has-text("张**")', timeout=15_000)
        assert page.text_content(hook("assurance-level")) == "认证等级 2"
    finally:
        browser.close()


def test_the_counter_checks_a_face_from_the_camera(live, playwright, tmp_path, watch):
    resident = live.resident(1)
    token = _sign_in(live, resident)
    body, content_type = _multipart({"consent": "true", "password": resident["password"]},
                                    (PHOTOS / "obama_1.jpg").read_bytes())
    _api(live, "PUT", "/api/v1/me/face", raw=body, token=token, content_type=content_type)
    code = json.loads(_api(live, "GET", "/api/v1/me/code", token=token))["code"]
    video = y4m_from_image((PHOTOS / "obama_2.jpg").read_bytes(), tmp_path / "face.y4m", fit=480)

    browser = launch(playwright, *fake_camera_args(video))
    try:
        context = browser.new_context(base_url=live.url, locale="zh-CN", **PC)
        watch.attach(context)
        page = context.new_page()
        counter_signs_in(page, live.service_point(0))
        counter_types_code(page, code)
        page.wait_for_selector(hook("subject-name"))
        page.click(hook("face-check"))
        page.wait_for_selector(f'{hook("face-result")}[data-match]', timeout=30_000)
        assert page.text_content(hook("face-result")) == "是同一人"
        assert page.get_attribute(hook("face-result"), "data-match") == "true"
    finally:
        browser.close()
