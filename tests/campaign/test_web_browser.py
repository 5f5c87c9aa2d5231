"""The labelling page end to end: a real server (``serve`` in a child process on a free
localhost port) and real headless Chromium driven by Selenium, on a real SQLite campaign.

Skipped, saying why, only where Chromium or ChromeDriver cannot be found (``.ci/run`` installs
Debian's ``chromium`` and ``chromium-driver``).
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("starlette")
selenium = pytest.importorskip("selenium")

from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from batchbald.campaign import Campaign  # noqa: E402
from batchbald.campaign.web.testing import (  # noqa: E402
    LiveServer,
    find_chromium,
    headless_chromium,
    make_campaign,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="Chromium and ChromeDriver not found on PATH (apt-get install chromium "
        "chromium-driver): the browser tests need a real browser",
    ),
]
CLASSES = ("zero", "one", "two")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A campaign (5-item first round proposed), made once per module."""
    return make_campaign(tmp_path_factory.mktemp("web_browser"))


@pytest.fixture
def project(template, tmp_path):
    """A fresh copy of the template campaign."""
    return shutil.copytree(template, tmp_path / "project")


@pytest.fixture
def server(project):
    """The server on ``project``."""
    with LiveServer(project) as started:
        yield started


@pytest.fixture
def browser():
    """Headless Chromium (fresh profile)."""
    driver = headless_chromium()
    yield driver
    driver.quit()


def wait(driver, condition, seconds=30):
    """Wait for ``condition``; an element replaced by a page load mid-check counts as not yet."""
    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, seconds, 0.1, ignored_exceptions=ignored).until(condition)


def focused_item(driver):
    found = driver.find_elements(By.ID, "focus-image")
    return found[0].get_attribute("data-item") if found else None


def press(driver, key):
    """Press ``key`` and wait for the page that answers it (a new page or a new focus)."""
    before = driver.find_element(By.TAG_NAME, "body")
    ActionChains(driver).send_keys(key).perform()
    wait(driver, lambda d: before != d.find_element(By.TAG_NAME, "body"))
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def enter_name(driver, url, name):
    driver.get(url + "/")
    wait(driver, lambda d: d.find_elements(By.ID, "annotator"))
    driver.switch_to.active_element.send_keys(name + Keys.ENTER)  # autofocused: no mouse
    wait(driver, lambda d: d.find_elements(By.ID, "label-form"))


def recorded(project):
    campaign = Campaign.open(project)
    try:
        return campaign.labels(), campaign.history(), campaign.current_round()
    finally:
        campaign.close()


def test_a_whole_batch_is_labelled_by_keyboard_and_survives_a_reload(server, browser, project):
    enter_name(browser, server.url, "ana")
    order = recorded(project)[2].item_ids
    press(browser, "s")  # skip the first, then undo the skip: the page comes back to it
    assert "skipped" in browser.find_element(By.ID, "batch").text
    press(browser, "u")
    expected = {}
    for position, item in enumerate(order):
        assert focused_item(browser) == item  # the batch's order
        key = str(1 + position % 3)
        expected[item] = CLASSES[int(key) - 1]
        press(browser, key)
    assert browser.find_elements(By.ID, "round-done")
    browser.refresh()
    assert "You have answered all 5 items of round 1" in browser.page_source
    assert "5</strong> of 5" in browser.find_element(By.ID, "progress").get_attribute("innerHTML")
    labels, history, _ = recorded(project)
    assert labels == expected
    answers = [(e.item_id, e.kind, e.label) for e in history if e.kind == "label"]
    assert sorted(answers) == sorted((i, "label", c) for i, c in expected.items())  # once each


def test_kill_9_of_the_server_mid_round_loses_no_label(project, browser):
    first = LiveServer(project).start()
    try:
        enter_name(browser, first.url, "ana")
        done = [focused_item(browser)]
        for key in "12":
            press(browser, key)
            done.append(focused_item(browser))
        press(browser, "3")
    finally:
        first.kill()  # SIGKILL: no shutdown code runs
    labels, _, round_ = recorded(project)
    assert labels == dict(zip(done, CLASSES, strict=True))
    with LiveServer(project) as second:
        browser.get(second.url + "/")  # the name cookie is kept: straight to the page
        wait(browser, lambda d: d.find_elements(By.ID, "label-form"))
        assert focused_item(browser) == round_.item_ids[3]
        assert "3</strong> of 5" in browser.find_element(By.ID, "progress").get_attribute(
            "innerHTML"
        )
        press(browser, "1")
    assert len(recorded(project)[0]) == 4


def test_a_second_annotator_sees_the_first_ones_answers_without_reloading(server, project):
    ana, ben = headless_chromium(), headless_chromium()
    try:
        enter_name(ana, server.url, "ana")
        enter_name(ben, server.url, "ben")
        item = focused_item(ana)
        press(ana, "2")
        wait(ben, lambda d: "ana: one" in d.find_element(By.ID, "answers").text, seconds=20)
        progress = ben.find_element(By.ID, "progress").get_attribute("innerHTML")
        assert "1</strong> of 5" in progress and focused_item(ben) == item
        press(ben, "3")  # ben disagrees
        ActionChains(ben).send_keys("d").perform()
        wait(ben, lambda d: d.find_elements(By.CSS_SELECTOR, "table.disagreements"))
        assert "ana: one" in ben.page_source and "ben: two" in ben.page_source
    finally:
        ana.quit()
        ben.quit()


def test_propose_from_the_page_shows_the_next_batch(server, browser, project):
    enter_name(browser, server.url, "ana")
    for key in "12312":
        press(browser, key)
    ActionChains(browser).send_keys("p").perform()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-round") == "2",
         seconds=180)  # fmt: skip
    wait(browser, lambda d: d.find_elements(By.ID, "label-form"))
    labels, _, round_ = recorded(project)
    assert round_.number == 2 and len(labels) == 5
    assert focused_item(browser) == round_.item_ids[0]
    assert "Round 2" in browser.find_element(By.CSS_SELECTOR, ".round-info").text


def test_a_vanished_image_is_reported_and_skipped_and_the_round_goes_on(server, browser, project):
    first, second = recorded(project)[2].item_ids[:2]
    campaign = Campaign.open(project)
    path = campaign.source().root / first  # the module's shared pool: put back below
    campaign.close()
    hidden = project.parent / f"hidden-{first}"
    path.rename(hidden)
    try:
        enter_name(browser, server.url, "ana")
        note = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".frame .unreadable"))
        assert "cannot be shown" in note[0].text and "Press s to skip" in note[0].text
        press(browser, "s")
        assert focused_item(browser) == second
    finally:
        hidden.rename(path)
    history = recorded(project)[1]
    assert [(e.item_id, e.kind) for e in history] == [(first, "skip")]
