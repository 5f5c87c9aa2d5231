"""Screenshots of the labelling page for docs/campaign_page.md (headless Chromium).

    .venv/bin/python docs/scripts/campaign_page_screenshots.py [--out docs/images]

Writes 600 MNIST test digits as PNG files to a temporary folder, makes a campaign over them
(classes zero..nine, batches of 10), has a simulated annotator "ben" answer round 1 with the
true labels, proposes round 2, then drives the real page (``serve`` + Chromium) as "ana" by
keyboard and saves what she sees. Needs MNIST in BATCHBALD_DATA_DIR (default ../shared/datasets).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from PIL import Image
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from batchbald.campaign import Campaign
from batchbald.campaign.web.testing import LiveServer, headless_chromium
from batchbald.campaign.web.views import class_keys
from batchbald.data.idx import read_idx

CLASSES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
KEYS = class_keys(len(CLASSES))
SETTINGS = {"batch_size": 10, "k": 20, "training": {"max_epochs": 10, "epoch_size": 512}}


def write_digits(folder: Path, count: int) -> dict[str, int]:
    """``count`` MNIST test digits as PNG files; item id → true digit."""
    data = Path(os.environ.get("BATCHBALD_DATA_DIR", "../shared/datasets")) / "mnist"
    images = read_idx(data / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(data / "t10k-labels-idx1-ubyte.gz")
    folder.mkdir(parents=True)
    truth = {}
    for index in range(count):
        name = f"digit_{index:05d}.png"
        Image.fromarray(images[index]).save(folder / name)
        truth[name] = int(labels[index])
    return truth


def prepare(root: Path) -> tuple[Path, dict[str, int]]:
    """The campaign at round 2: ben answered round 1 truly, and 3 items of round 2 (one wrongly)."""
    truth = write_digits(root / "digits", 600)
    campaign = Campaign.init(root / "project", source=root / "digits", classes=CLASSES, **SETTINGS)
    for item in campaign.propose().item_ids:
        campaign.record(item, CLASSES[truth[item]], "ben")
    picked = campaign.propose().item_ids
    for position, item in enumerate(picked[:3]):
        wrong = position == 1
        campaign.record(item, CLASSES[(truth[item] + 3 * wrong) % 10], "ben")
    campaign.close()
    return root / "project", truth


def wait(driver, condition, seconds: float = 60) -> None:
    ignored = (StaleElementReferenceException, NoSuchElementException)
    WebDriverWait(driver, seconds, 0.05, ignored_exceptions=ignored).until(condition)


def settle(driver, seconds: float = 0.6) -> None:
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    time.sleep(seconds)


def press(driver, key: str) -> None:
    ActionChains(driver).send_keys(key).perform()
    settle(driver)


def answer_truly(driver, truth: dict[str, int], count: int) -> None:
    for _ in range(count):
        item = driver.find_element(By.ID, "focus-image").get_attribute("data-item")
        press(driver, KEYS[truth[item]])


def shoot(driver, out: Path, name: str) -> None:
    driver.save_screenshot(str(out / name))
    print("wrote", out / name)


def propose_and_shoot(driver, out: Path) -> None:
    press(driver, "p")
    wait(
        driver,
        lambda d: (
            d.find_element(By.ID, "propose-state").get_attribute("data-state") == "running"
            and "training" in d.find_element(By.ID, "propose-state").text
        ),
        seconds=300,
    )
    shoot(driver, out, "campaign_page_proposing.png")
    driver.execute_script("document.getElementById('propose-form').submit()")  # a second one
    settle(driver, 0.3)
    shoot(driver, out, "campaign_page_busy.png")
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-round") == "3",
         seconds=900)  # fmt: skip
    settle(driver)
    shoot(driver, out, "campaign_page_next_round.png")


def write_timings(project: Path, out: Path) -> None:
    """Each round's propose seconds per phase (``status()["rounds"]``) and the machine's load."""
    campaign = Campaign.open(project)
    rounds = {
        str(row["number"]): {phase: round(seconds, 2) for phase, seconds in row["timings"].items()}
        for row in campaign.status()["rounds"]
    }
    campaign.close()
    record = {"rounds": rounds, "load_average_1_5_15": list(os.getloadavg())}
    (out / "campaign_page_run.json").write_text(json.dumps(record, indent=2) + "\n")
    print("wrote", out / "campaign_page_run.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    project, truth = prepare(Path(tempfile.mkdtemp(prefix="batchbald-screens-")))
    with LiveServer(project, poll_seconds=0.5) as server:
        driver = headless_chromium(1280, 1000)
        try:
            driver.get(server.url + "/")
            settle(driver)
            driver.switch_to.active_element.send_keys("ana")
            shoot(driver, out, "campaign_page_name.png")
            driver.switch_to.active_element.send_keys(Keys.ENTER)
            settle(driver)
            answer_truly(driver, truth, 4)
            shoot(driver, out, "campaign_page_label.png")
            press(driver, "d")
            shoot(driver, out, "campaign_page_disagreements.png")
            press(driver, Keys.ESCAPE)
            answer_truly(driver, truth, 6)
            shoot(driver, out, "campaign_page_round_done.png")
            propose_and_shoot(driver, out)
        finally:
            driver.quit()
    write_timings(project, out)


if __name__ == "__main__":
    main()
