"""Blind preference studies: `colorize study make`, the study page's API, `colorize study score`."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import one_line_error
from PIL import Image

from colorize import study as studies
from colorize.cli import main

RED, BLUE = (200, 40, 40), (40, 40, 200)


@pytest.fixture
def two_programs(tmp_path):
    """Ten photos colorized by two programs: DIR_A's outputs red, DIR_B's blue (same names)."""
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    for index in range(10):
        shade = np.full((32, 48, 3), 0, np.uint8) + np.uint8(index)  # different photos, same colours
        Image.fromarray(shade + np.array(RED, np.uint8)).save(dir_a / f"photo{index}_colorized.png")
        Image.fromarray(shade + np.array(BLUE, np.uint8)).save(dir_b / f"photo{index}.png")
    return dir_a, dir_b


def _red_side(study, pair):
    """What a rater sees: which side of the pair is the red (DIR_A's) image."""
    with Image.open(study / "pairs" / f"{pair:03d}_A.png") as image:
        red, _, blue = np.asarray(image.convert("RGB"), np.float32).reshape(-1, 3).mean(axis=0)
    return "A" if red > blue else "B"


def _other(side):
    return {"A": "B", "B": "A"}[side]


def test_make_answer_and_score_ten_pairs_matches_a_hand_count(two_programs, tmp_path):
    from starlette.testclient import TestClient

    from colorize import serve

    dir_a, dir_b = two_programs
    study = tmp_path / "study"
    made = CliRunner().invoke(main, ["study", "make", str(dir_a), str(dir_b), "-o", str(study)])
    assert made.exit_code == 0, made.output
    assert "10 pairs" in made.output
    assert sorted(path.name for path in (study / "sheets").iterdir()) == [
        "BRIEF.md", "sheet_01.png", "sheet_02.png", "sheet_03.png", "sheet_04.png", "sheet_05.png"]  # fmt: skip
    assert "10 numbered pairs" in (study / "sheets" / "BRIEF.md").read_text()
    key = json.loads((study / "key.json").read_text())
    assert sorted(pair["name"] for pair in key["pairs"]) == [f"photo{index}" for index in range(10)]
    assert {pair["dir_a_side"] for pair in key["pairs"]} == {"A", "B"}  # sides drawn per pair

    # alice, by hand in her CSV (the judges' format): red on pairs 1-7, a tie on 8, blue on 9 and 10
    alice = {pair: _red_side(study, pair) if pair <= 7 else _other(_red_side(study, pair)) for pair in range(1, 11)}
    alice[8] = "tie"
    for pair, choice in alice.items():
        studies.record_answer(study, "alice", pair, choice)
    # bob, on the page's API: blue everywhere but a tie on pair 1 (keys A / B / T)
    client = TestClient(serve.create_study_app(study))
    assert client.get("/key.json").status_code == 404 and client.get("/pairs/../key.json").status_code == 404
    for pair in range(1, 11):
        choice = "tie" if pair == 1 else _other(_red_side(study, pair))
        response = client.post("/api/study/answer", json={"rater": "bob", "pair": pair, "choice": choice})
        assert response.status_code == 200, response.text
    assert response.json() == {"answered": 10, "total": 10}
    progress = client.get("/api/study", params={"rater": "bob"}).json()
    assert progress["pairs"] == list(range(1, 11)) and len(progress["answered"]) == 10
    assert not list((study / "answers").glob(".*"))  # atomic writes leave no temporary files

    scored = CliRunner().invoke(main, ["study", "score", str(study)])
    assert scored.exit_code == 0, scored.output
    lines = {line.split()[0]: line.split() for line in scored.output.splitlines()[3:]}
    assert lines["alice"][1:3] == ["7.5/10", "0.75"]  # hand count: 7 + a tie's half
    assert lines["bob"][1:3] == ["0.5/10", "0.05"]
    assert lines["pooled"][1:3] == ["8/20", "0.40"]
    low, high = studies.wilson_interval(8, 20)
    assert lines["pooled"][3] == f"{low:.2f}-{high:.2f}"


def test_score_per_group_of_photos_each_raters_left_share_and_an_interval_resampled_by_photo(tmp_path):
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    names = [f"old_{index}" for index in range(4)] + [f"scenes_{index}" for index in range(4)]
    for index, name in enumerate(names):
        shade = np.full((16, 16, 3), index, np.uint8)
        Image.fromarray(shade + np.array(RED, np.uint8)).save(dir_a / f"{name}.png")
        Image.fromarray(shade + np.array(BLUE, np.uint8)).save(dir_b / f"{name}.png")
    study = tmp_path / "study"
    key = studies.make_study(dir_a, dir_b, study, seed=3)
    # three raters who agree: DIR_A on the old photos, DIR_B on the scenes
    for rater in ("r1", "r2", "r3"):
        for pair in key:
            a_side = pair["dir_a_side"]
            choice = a_side if pair["name"].startswith("old") else _other(a_side)
            studies.record_answer(study, rater, pair["pair"], choice)
    result = studies.score_study(study)
    left = sum((pair["dir_a_side"] == "A") == pair["name"].startswith("old") for pair in key) / 8
    assert [rater.left for rater in result.raters] == [left] * 3
    groups = [(group.rater, group.preferred, group.count) for group in result.groups]
    assert groups == [("old", 12, 12), ("scenes", 0, 12)]
    # whole photos agree or disagree at once: resampling the 8 photos is wider than 24 independent answers
    low, high = result.by_photo
    assert low <= result.pooled.low and high >= result.pooled.high
    assert high - low > result.pooled.high - result.pooled.low + 0.1
    assert low < result.pooled.share == 0.5 < high
    # a fourth rater who always says left
    for pair in key:
        studies.record_answer(study, "r4", pair["pair"], "A")
    scored = CliRunner().invoke(main, ["study", "score", str(study)])
    assert scored.exit_code == 0, scored.output
    assert "resampled by photo: " in scored.output
    rows = {line.split()[0]: line.split() for line in scored.output.splitlines() if line.strip()}
    assert rows["r4"][4] == "1.00" and rows["r1"][4] == f"{left:.2f}"
    r4_old_for_a = sum(pair["dir_a_side"] == "A" for pair in key if pair["name"].startswith("old"))
    assert rows["old"][1] == f"{12 + r4_old_for_a:g}/16"


def test_pool_scores_studies_of_other_photos_as_one_reading_answers_and_csvs_beside_the_key(tmp_path):
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    for index, name in enumerate(["old_0", "old_1", "scenes_0", "scenes_1"]):
        Image.fromarray(np.full((16, 16, 3), RED, np.uint8)).save(dir_a / f"{name}.png")
        Image.fromarray(np.full((16, 16, 3), BLUE, np.uint8)).save(dir_b / f"{name}.png")
    first, second = tmp_path / "first", tmp_path / "second"
    first_key = studies.make_study(dir_a, dir_b, first, seed=1)
    second_key = studies.make_study(dir_a, dir_b, second, seed=2)
    for pair in first_key:  # one rater through answers/: DIR_A everywhere (4 of 4)
        studies.record_answer(first, "r1", pair["pair"], pair["dir_a_side"])
    rows = ["pair,choice,confidence,reason"]  # the judging kit's CSV beside the key: DIR_A on old photos only
    rows += [f"{pair['pair']},{pair['dir_a_side'] if pair['name'].startswith('old') else _other(pair['dir_a_side'])},1,x"
             for pair in second_key]  # fmt: skip
    (second / "judge9.csv").write_text("\n".join(rows) + "\n")
    result = studies.pool_studies([first, second])
    assert [(p.rater, p.preferred, p.count) for p in result.raters] == [("first", 4, 4), ("second", 2, 4)]
    assert (result.pooled.preferred, result.pooled.count) == (6, 8)
    assert [(g.rater, g.preferred, g.count) for g in result.groups] == [("old", 4, 4), ("scenes", 2, 4)]
    assert result.by_photo[0] <= result.pooled.low and result.by_photo[1] >= result.pooled.high
    pooled = CliRunner().invoke(main, ["study", "pool", str(first), str(second)])
    assert pooled.exit_code == 0 and "6/8" in pooled.output and "resampled by photo: 0.750" in pooled.output, pooled.output
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "key.json").write_text((first / "key.json").read_text())
    bad = CliRunner().invoke(main, ["study", "pool", str(first), str(tmp_path / "empty")])
    assert "no answers in" in one_line_error(bad), bad.output


def test_the_key_keeps_each_sides_blotchiness_and_score_says_how_often_it_picks_the_agreed_side(tmp_path):
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    calm = np.full((64, 64, 3), (150, 120, 100), np.uint8)  # one flat tan wall
    patches = calm.copy()
    patches[:, 32:] = (150, 120, 100) + np.array([25, -20, -5])  # a greener half, same lightness about
    for index in range(6):
        Image.fromarray(patches if index < 4 else calm).save(dir_a / f"wall{index}.png")
        Image.fromarray(calm).save(dir_b / f"wall{index}.png")
    study = tmp_path / "study"
    key = studies.make_study(dir_a, dir_b, study, seed=5)
    measured = {pair["name"]: pair["blotchiness"] for pair in key}
    assert all(measured[f"wall{index}"][0] > measured[f"wall{index}"][1] == 0.0 for index in range(4))
    assert all(measured[f"wall{index}"] == [0.0, 0.0] for index in (4, 5))
    apart = {pair["name"]: pair["difference"] for pair in key}
    assert all(apart[f"wall{index}"] > 5 for index in range(4)) and apart["wall4"] == apart["wall5"] == 0.0
    assert studies.read_key(study)["pairs"] == key
    # two raters reject the patchy side on walls 0-2, split on wall 3, both take DIR_A on 4 and 5
    for rater in ("r1", "r2"):
        for pair in key:
            number, a_side, name = pair["pair"], pair["dir_a_side"], pair["name"]
            choice = _other(a_side) if name in ("wall0", "wall1", "wall2") else a_side
            if name == "wall3":
                choice = a_side if rater == "r1" else _other(a_side)
            studies.record_answer(study, rater, number, choice)
    # agreed: walls 0-2 (the measure agrees) and 4-5 (equal measures: a half each)
    assert studies.score_study(study).blotch_agreement == (4.0, 5)
    scored = CliRunner().invoke(main, ["study", "score", str(study)])
    assert "blotchiness picks the raters' choice in 4/5 pairs they all agreed on (80 %)" in scored.output

    # a study made without measures (the judging kit's) gets them from the images the key names
    document = json.loads((study / "key.json").read_text())
    for pair in document["pairs"]:
        del pair["blotchiness"], pair["difference"]
    (study / "key.json").write_text(json.dumps(document))
    assert studies.score_study(study).blotch_agreement is None
    measured_again = CliRunner().invoke(main, ["study", "measure", str(study)])
    assert measured_again.exit_code == 0, measured_again.output
    assert studies.read_key(study)["pairs"] == key
    (dir_b / "wall5.png").unlink()
    missing = CliRunner().invoke(main, ["study", "measure", str(study)])
    assert missing.exit_code != 0 and "wall5 (pair" in missing.output and f"is not in {dir_b}" in missing.output
    assert "Traceback" not in missing.output


def test_wilson_interval_of_known_cases():
    assert studies.wilson_interval(0, 0) == (0.0, 0.0)
    low, high = studies.wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = studies.wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == 1.0


def test_bad_answers_and_folders_are_refused(two_programs, tmp_path):
    from starlette.testclient import TestClient

    from colorize import serve

    dir_a, dir_b = two_programs
    study = tmp_path / "study"
    studies.make_study(dir_a, dir_b, study)
    client = TestClient(serve.create_study_app(study))
    for body in ({"rater": "../x", "pair": 1, "choice": "A"}, {"rater": "carol", "pair": 99, "choice": "A"},
                 {"rater": "carol", "pair": 1, "choice": "maybe"}):  # fmt: skip
        assert client.post("/api/study/answer", json=body).status_code == 422, body
    assert client.post("/api/study/answer", content=b"not json").status_code == 400
    again = CliRunner().invoke(main, ["study", "make", str(dir_a), str(dir_b), "-o", str(study)])
    assert again.exit_code == 1 and "is not empty" in again.output
    empty = CliRunner().invoke(main, ["study", "score", str(study)])
    assert empty.exit_code == 1 and "no answers yet" in empty.output
    unrelated = tmp_path / "unrelated"
    unrelated.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(unrelated / "other.png")
    none = CliRunner().invoke(main, ["study", "make", str(dir_a), str(unrelated), "-o", str(tmp_path / "s2")])
    assert none.exit_code == 1 and "no image names in common" in none.output


@pytest.mark.slow
def test_two_raters_on_the_study_page_in_headless_chromium(two_programs, tmp_path, monkeypatch):
    from browser import headless_chromium, running_app
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from colorize import serve

    dir_a, dir_b = two_programs
    study = tmp_path / "study"
    studies.make_study(dir_a, dir_b, study)
    presses = {"ann": "aaaaaaaaaa", "ben": "tbbbbbbbbb"}  # ann: always A; ben: a tie, then always B
    with running_app(serve.create_study_app(study)) as url, headless_chromium(monkeypatch) as driver:
        for rater, keys in presses.items():
            driver.get(url)
            driver.execute_script("localStorage.clear()")
            driver.find_element(By.ID, "rater").clear()
            driver.find_element(By.ID, "rater").send_keys(rater + "\n")
            body = driver.find_element(By.TAG_NAME, "body")
            for index, key in enumerate(keys, start=1):
                WebDriverWait(driver, 30).until(
                    lambda d: d.find_element(By.ID, "progress").text == f"Pair {index} of 10"  # noqa: B023
                    and d.execute_script("return document.getElementById('image-b').complete")
                )
                if rater == "ann" and index == 1:
                    assert driver.save_screenshot(str(tmp_path / "study.png"))
                body.send_keys(key)
            WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "finished").is_displayed())
    sides = {pair["pair"]: pair["dir_a_side"] for pair in json.loads((study / "key.json").read_text())["pairs"]}
    hand = {"ann": sum(side == "A" for side in sides.values()), "ben": 0.5 + sum(sides[p] == "B" for p in range(2, 11))}
    for rater in presses:
        assert len(studies.read_answers(study / "answers" / f"{rater}.csv")) == 10
    scored = studies.score_study(study)
    assert {p.rater: p.preferred for p in scored.raters} == hand
    assert scored.pooled.preferred == hand["ann"] + hand["ben"] and scored.pooled.count == 20


def test_cli_serve_study_serves_the_study_page_without_a_model(two_programs, tmp_path, monkeypatch):
    import uvicorn
    from starlette.testclient import TestClient

    dir_a, dir_b = two_programs
    study = tmp_path / "study"
    studies.make_study(dir_a, dir_b, study)
    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets: served.append(server.config.app))
    result = CliRunner().invoke(main, ["serve", "--study", str(study), "--port", "0", "--model", "no-such-model"])
    assert result.exit_code == 0, result.output
    assert f"serving the study {study}" in result.output
    client = TestClient(served[0], base_url="http://127.0.0.1")  # bound to loopback: loopback Host names only
    page = client.get("/")
    assert page.status_code == 200 and "/static/study.js" in page.text
    for text in (page.text, client.get("/static/study.js").text):
        assert "http://" not in text and "https://" not in text  # works offline
    assert client.get("/pairs/001_A.png").headers["content-type"] == "image/png"


def test_the_study_page_is_behind_the_servers_policy(two_programs, tmp_path):
    from starlette.testclient import TestClient

    from colorize import serve

    dir_a, dir_b = two_programs
    study = tmp_path / "study"
    assert CliRunner().invoke(main, ["study", "make", str(dir_a), str(dir_b), "-o", str(study)]).exit_code == 0
    client = TestClient(serve.create_study_app(study, allowed_hosts=list(serve.LOOPBACK_HOSTS)),
                        base_url="http://127.0.0.1")  # fmt: skip
    answer = {"rater": "eve", "pair": 1, "choice": "A"}
    page = client.get("/")
    assert page.status_code == 200 and page.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding
    refused = client.post("/api/study/answer", json=answer, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403 and not (study / "answers" / "eve.csv").exists()
    assert client.get("/nothing").json()["error"]
    assert client.post("/api/study/answer", json=answer).status_code == 200
