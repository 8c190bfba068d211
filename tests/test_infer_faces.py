"""colorize.infer.faces: faces coloured again in tight crops, pasted only where a face is and is skin-toned."""

import numpy as np
import pytest
from skimage import data

from colorize.color import scale_ab, unscale_ab
from colorize.data.faces import find_faces
from colorize.infer import faces, runtime
from colorize.infer.lightness import from_array, prepare


class _ConstantColour:
    """A stand-in runner: every crop comes back in one a*b* colour."""

    faces = True

    def __init__(self, ab):
        self.ab = np.asarray(ab, np.float32)
        self.crops = 0

    def predict(self, l_batch):
        self.crops += len(l_batch)
        return np.broadcast_to(scale_ab(self.ab), (*l_batch.shape[:3], 2)).copy()


@pytest.fixture(scope="module")
def astronaut():
    """A genuine photo with one frontal face (upper middle), as the pass sees it: its L."""
    return prepare(*from_array(data.astronaut()))


def test_find_faces_finds_the_astronaut_and_nothing_in_flat_gray_or_noise(astronaut):
    found = find_faces(astronaut.lightness / 100.0, min_size=24)
    assert len(found) == 1
    top, left, height, width = found[0]
    assert 180 < left + width / 2 < 250 and 95 < top + height / 2 < 140 and 80 < height < 140
    assert find_faces(np.full((128, 128), 0.5, np.float32)) == []
    noise = np.random.default_rng(0).random((200, 300)).astype(np.float32)
    assert find_faces(noise) == []


def test_skin_colour_is_pasted_on_the_face_and_nowhere_far_from_it(astronaut):
    runner = _ConstantColour([12.0, 18.0])  # a skin tone, chroma 21.6
    ab = faces.recolour_faces(runner, astronaut, np.zeros((192, 192, 2), np.float32))
    colour = unscale_ab(ab)
    chroma = np.hypot(colour[..., 0], colour[..., 1])
    rows, columns = colour.shape[0] / 512, colour.shape[1] / 512
    face = chroma[int(100 * rows) : int(140 * rows), int(200 * columns) : int(230 * columns)]
    assert face.min() > 15 and chroma.max() <= faces.MAX_CHROMA + 1e-3  # capped at the most a face gets
    assert chroma[int(400 * rows) :, :].max() == 0 and chroma[:, : int(100 * columns)].max() == 0


@pytest.mark.parametrize("colour", [[-15.0, 15.0], [0.5, 0.5], [5.0, -20.0]], ids=["green", "gray", "blue"])
def test_a_crop_that_is_not_skin_toned_changes_nothing(astronaut, colour):
    before = np.zeros((192, 192, 2), np.float32)
    assert faces.recolour_faces(_ConstantColour(colour), astronaut, before) is before


def test_a_face_already_as_colourful_is_left_as_it_is(astronaut):
    before = np.broadcast_to(scale_ab(np.array([11.0, 17.0], np.float32)), (192, 192, 2)).copy()
    assert faces.recolour_faces(_ConstantColour([12.0, 18.0]), astronaut, before) is before


def test_blur_and_photos_without_faces_are_left_alone():
    runner = _ConstantColour([12.0, 18.0])
    blurred = prepare(*from_array(np.full((300, 400), 128, np.uint8)))
    before = np.zeros((144, 192, 2), np.float32)
    assert faces.recolour_faces(runner, blurred, before) is before and runner.crops == 0


@pytest.mark.parametrize("side", [faces.CROP_SIZE, 300])
def test_the_face_ellipse_is_centred_on_the_face_in_its_crop_at_any_crop_size(side):
    box = (150 + side / 4, 350 + side / 4, side / 2, side / 2)  # a face in the middle of a crop at (150, 350)
    distance = faces._ellipse(box, (faces.CROP_SIZE, faces.CROP_SIZE), (faces.CROP_SIZE / side,) * 2, (150, 350))
    row, column = np.unravel_index(np.argmin(distance), distance.shape)
    centre = (side / 4 + faces.ELLIPSE_DROP * side / 2) * faces.CROP_SIZE / side
    assert abs(row - centre) <= 1 and abs(column - faces.CROP_SIZE / 2) <= 1


def test_skin_weight_is_one_for_skin_and_fades_at_the_edges_of_the_band():
    assert faces._skin_weight(np.array([12.0, 18.0])) == 1.0
    assert faces._skin_weight(np.array([-12.0, 18.0])) == 0.0
    hue = np.radians(faces.SKIN_HUE[1] + faces.HUE_MARGIN / 2)
    assert faces._skin_weight(20 * np.array([np.cos(hue), np.sin(hue)])) == pytest.approx(0.5)


def test_presets_colour_faces_and_model_files_do_not_unless_asked(tmp_path):
    from colorize.registry import PRESETS

    assert all(preset.faces for preset in PRESETS.values())
    runner = runtime.Runner(model=None, fixed_size=None)
    assert not runner.faces and runner.with_faces(None) is runner
    assert runner.with_faces(True).faces and not runner.with_faces(True).with_faces(False).faces


def test_a_missing_network_file_is_named_with_how_to_restore_it(tmp_path, monkeypatch):
    from colorize.data import faces as detector

    monkeypatch.setattr(detector, "NETWORKS_DIR", tmp_path)
    detector._network.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match=r"pnet\.onnx is missing .*make face-detector"):
            detector.find_faces(np.full((64, 64), 0.5, np.float32))
    finally:
        detector._network.cache_clear()
