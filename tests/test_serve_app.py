"""colorize.serve.app: the photo page and its API through Starlette's test client, and the page in headless Chromium."""

import io
import threading

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import asgi_client, encoded_image, make_portrait_like, post_photo
from PIL import Image

from colorize.cli import main

pytest.importorskip("starlette")
pytest.importorskip("httpx")


def _photos():
    colour = make_portrait_like(64)[:40]  # 40 x 64, not square
    rgba = np.dstack([make_portrait_like(48, seed=1), np.linspace(0, 255, 48 * 48).reshape(48, 48).astype(np.uint8)])
    gray16 = (np.linspace(0, 65535, 30 * 50).reshape(30, 50)).astype(np.uint16)
    return {
        "colour.jpg": (encoded_image(colour, "JPEG"), (64, 40), "RGB", 8),
        "alpha.png": (encoded_image(rgba), (48, 48), "RGBA", 8),
        "gray16.png": (encoded_image(gray16), (50, 30), "RGB", 16),  # PIL shows 16-bit RGB as RGB
    }


@pytest.mark.parametrize("render_size", [None, 64])
def test_pngs_are_the_ones_colorize_predict_writes(client, unet_path, tmp_path, render_size):
    photos = _photos()
    for name, (data, _, _, _) in photos.items():
        (tmp_path / name).write_bytes(data)
    extra = [] if render_size is None else ["--render-size", str(render_size)]
    result = CliRunner().invoke(main, ["predict", str(tmp_path), "--model", str(unet_path), "--batch-size", "1", *extra])
    assert result.exit_code == 0, result.output
    fields = {} if render_size is None else {"render_size": str(render_size)}

    for name, (data, size, mode, bit_depth) in photos.items():
        response = post_photo(client, data, name, **fields)

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-disposition"] == f'inline; filename="{name.split(".")[0]}_colorized.png"'
        assert response.content == (tmp_path / (name.split(".")[0] + "_colorized.png")).read_bytes(), name
        served = Image.open(io.BytesIO(response.content))
        assert (served.size, served.mode, response.content[24]) == (size, mode, bit_depth), name  # [24]: IHDR depth


def test_render_size_changes_the_colours(client):
    data = encoded_image(make_portrait_like(64))
    assert post_photo(client, data).content != post_photo(client, data, render_size="96").content


@pytest.mark.parametrize(
    ("request_kwargs", "status", "words"),
    [
        ({"files": {"image": ("notes.txt", b"just some text\n", "text/plain")}}, 415, "notes.txt: not an image"),
        ({"files": {"image": ("empty.jpg", b"", "image/jpeg")}}, 400, "empty.jpg is empty"),
        ({"content": b""}, 400, "multipart/form-data"),
        ({"files": {"photo": ("a.png", b"x", "image/png")}}, 400, "field 'image'"),
        ({"data": {"image": "not a file"}}, 400, "field 'image'"),
        ({"files": {"image": ("a.png", b"x", "image/png")}, "data": {"render_size": "huge"}}, 422, "render_size"),
        ({"files": {"image": ("a.png", b"x", "image/png")}, "data": {"render_size": "4000"}}, 422, "render_size"),
    ],
    ids=["text-file", "empty-file", "empty-body", "other-field", "field-not-a-file", "render-size-word", "render-size-big"],
)
def test_bad_requests_get_a_json_4xx_and_the_server_keeps_serving(client, request_kwargs, status, words):
    response = client.post("/api/colorize", **request_kwargs)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["error"]
    assert post_photo(client, encoded_image(make_portrait_like(32))).status_code == 200


def test_concurrent_uploads_all_succeed_one_model_call_at_a_time(client, monkeypatch):
    from colorize import infer

    photos = [encoded_image(make_portrait_like(48 + 16 * index, seed=index)) for index in range(4)]
    expected = [post_photo(client, data).content for data in photos]
    running, most, lock = [0], [0], threading.Lock()
    original = infer.colorize_bytes

    def counted(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(infer, "colorize_bytes", counted)
    responses = [None] * len(photos)

    def send(index):
        responses[index] = post_photo(client, photos[index], f"p{index}.png")

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(photos))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [r.status_code for r in responses] == [200] * len(photos)
    assert [r.content for r in responses] == expected
    assert most[0] == 1


def test_more_waiting_photos_than_the_queue_holds_get_503(unet_path, monkeypatch):
    from colorize import infer, serve

    release, started = threading.Event(), threading.Event()
    original = infer.colorize_bytes

    def slow(*args, **kwargs):
        started.set()
        release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr(infer, "colorize_bytes", slow)
    data = encoded_image(make_portrait_like(32))
    with asgi_client(serve.create_app(unet_path, max_waiting=1)) as one_slot:
        first = []
        thread = threading.Thread(target=lambda: first.append(post_photo(one_slot, data)))
        thread.start()
        assert started.wait(60)
        second = post_photo(one_slot, data)
        release.set()
        thread.join(60)
        third = post_photo(one_slot, data)

    assert second.status_code == 503 and "busy" in second.json()["error"]
    assert first[0].status_code == 200 and third.status_code == 200


def test_health_names_the_model_and_version(client):
    import colorize

    health = client.get("/api/health").json()

    assert health["model_file"] == "tiny.keras"
    assert health["version"] == colorize.__version__
    assert health["max_upload_mb"] == 1.5


def test_the_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'type="file"' in page.text and "multiple" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert asset in page.text
        response = client.get(asset)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text  # works offline
    assert "http://" not in page.text and "https://" not in page.text
    assert client.get("/static/missing.js").status_code == 404


def test_a_bad_upload_limit_is_refused(unet_path):
    from colorize import serve

    with pytest.raises(ValueError, match="max_upload_mb"):
        serve.create_app(unet_path, max_upload_mb=0)


def test_colour_strength_is_checked_and_offered_only_where_the_model_has_it(client):
    photo = encoded_image(np.full((40, 40), 120, np.uint8))
    response = post_photo(client, photo, strength="2")
    assert response.status_code == 422 and "strength must be a number from 0 to 1" in response.json()["error"]
    response = post_photo(client, photo, strength="0.3")  # the tiny model has no rebalancing prior
    assert response.status_code == 422 and "no colour-strength control" in response.json()["error"]
    assert client.get("/api/health").json()["strengths"] == {}


def test_the_face_pass_is_a_checked_on_or_off_reported_by_health(client):
    photo = encoded_image(np.full((40, 40), 120, np.uint8))
    response = post_photo(client, photo, faces="maybe")
    assert response.status_code == 422 and "faces must be on or off" in response.json()["error"]
    assert client.get("/api/health").json()["faces"] is False  # a model file: off unless asked
    assert post_photo(client, photo, faces="on").status_code == post_photo(client, photo, faces="off").status_code == 200


def test_the_bundled_model_offers_its_presets_and_each_strength_gives_other_colours():
    from colorize import registry, serve

    with asgi_client(serve.create_app("default")) as bundled:
        health = bundled.get("/api/health").json()
        assert health["strengths"] == {name: preset.strength for name, preset in registry.PRESETS.items()}
        assert health["default_strength"] == registry.PRESETS["default"].strength
        from skimage import data

        photo = encoded_image(data.camera()[::8, ::8])
        calm, strong = (post_photo(bundled, photo, strength=value) for value in ("0", "1"))
        assert calm.status_code == strong.status_code == 200
        assert calm.content != strong.content

        assert health["faces"] is True  # the presets colour faces again
        portrait = encoded_image(data.astronaut()[::2, ::2].mean(axis=2).astype(np.uint8))
        with_faces, without = (post_photo(bundled, portrait, faces=value) for value in ("on", "off"))
        assert with_faces.status_code == without.status_code == 200
        assert with_faces.content != without.content


# ------------------------------------------------------------------ the page in a browser

# Set on the page before uploading: every moment a card that is not done shows its download link.


_WATCH_DOWNLOADS = """
window.downloadShownEarly = [];
new MutationObserver(() => {
  for (const card of document.querySelectorAll('.card')) {
    const link = card.querySelector('a.download');
    if (!card.classList.contains('done') && getComputedStyle(link).display !== 'none')
      window.downloadShownEarly.push(card.className + ' ' + card.querySelector('.status').textContent);
  }
}).observe(document.getElementById('results'), {subtree: true, childList: true, attributes: true});
"""


@pytest.mark.slow
def test_the_page_colorizes_the_astronaut_in_headless_chromium(tmp_path, monkeypatch):
    from browser import headless_chromium, running_app
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    from skimage import data

    from colorize import serve

    photo = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    with running_app(serve.create_app("default")) as url, headless_chromium(monkeypatch) as driver:
        driver.get(url)
        assert "not the historical colours" in driver.find_element(By.ID, "expect").text
        assert driver.find_element(By.ID, "faces").is_selected()  # the bundled model colours faces again
        driver.execute_script(_WATCH_DOWNLOADS)
        driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(f"{photo}\n{notes}")
        WebDriverWait(driver, 120).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".card.done, .card.failed")) == 2)
        assert driver.execute_script("return window.downloadShownEarly") == []  # none while waiting or working
        done = driver.find_element(By.CSS_SELECTOR, ".card.done")
        failed = driver.find_element(By.CSS_SELECTOR, ".card.failed")
        assert "notes.txt: not an image" in failed.find_element(By.CSS_SELECTOR, ".error").text
        assert not failed.find_element(By.CSS_SELECTOR, "a.download").is_displayed()
        download = done.find_element(By.CSS_SELECTOR, "a.download")
        assert download.is_displayed() and download.get_attribute("download") == "astronaut_colorized.png"
        size = driver.execute_script(
            "const img = arguments[0].querySelector('img.after'); return [img.naturalWidth, img.naturalHeight];", done
        )
        assert size == [512, 512]
        assert done.location["y"] == failed.location["y"]  # side by side ...
        assert failed.size["height"] < done.size["height"] / 2  # ... and the failed card stays compact

        slider = done.find_element(By.CSS_SELECTOR, ".slider")
        slider.send_keys(Keys.ARROW_RIGHT)
        assert float(slider.get_attribute("value")) == 55  # a few percent per key, from 50
        slider.send_keys(Keys.END)
        assert float(slider.get_attribute("value")) == 100
        slider.send_keys(Keys.HOME, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
        assert float(slider.get_attribute("value")) == 10
        assert driver.save_screenshot(str(tmp_path / "page.png"))
    assert Image.open(tmp_path / "page.png").size[0] > 0
