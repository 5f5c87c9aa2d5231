"""Test support: a real server in a subprocess, and headless Chromium driven by Selenium.

Used by ``tests/campaign/test_web_browser.py`` and ``docs/scripts/campaign_page_screenshots.py``.
The server is ``serve`` in a child process on a free localhost port (so a test can ``kill -9``
it); the browser is the system's Chromium with ChromeDriver (Debian: ``chromium`` and
``chromium-driver``), started with a fresh profile and no network features.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM_FLAGS",
    "FAST_SETTINGS",
    "LiveServer",
    "find_chromium",
    "free_port",
    "headless_chromium",
    "make_campaign",
    "write_image_pool",
]

# Campaign settings that propose in about a second on a tiny pool (tests, screenshots).
FAST_SETTINGS = {
    "batch_size": 5,
    "k": 4,
    "method": "batchbald",
    "training": {"epoch_size": 64, "max_epochs": 2, "patience": 1, "channels_last": False},
    "regime": {"fixed_epochs": 2, "min_holdout_labels": 8},
}

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def write_image_pool(folder: Path, size: int = 30, seed: int = 0) -> dict[str, int]:
    """Write ``size`` 28×28 PNG images of 3 classes into ``folder``.

    Each image is noise with a bright bar whose row is the class.

    Returns:
        item id → true class index.
    """
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for row, label in enumerate(rng.integers(0, 3, size)):
        pixels = rng.integers(0, 60, (28, 28)).astype(np.uint8)
        pixels[9 * label : 9 * label + 9, 4:24] = 220
        name = f"img_{row:03d}.png"
        Image.fromarray(pixels).save(folder / name)
        truth[name] = int(label)
    return truth


def make_campaign(
    root: Path, classes: tuple[str, ...] = ("zero", "one", "two"), size: int = 30, **settings: Any
) -> Path:
    """A campaign over ``write_image_pool(root/"pool")`` with its first round proposed.

    Fast settings (:data:`FAST_SETTINGS`, overridden by ``settings``; ``db_url`` passes through
    to ``Campaign.init``). A file ``root/secret.txt`` lies outside the pool (for traversal tests).

    Returns:
        The project folder, ``root/project``.
    """
    from batchbald.campaign import Campaign

    write_image_pool(root / "pool", size)
    (root / "secret.txt").write_text("TOP SECRET: not part of the pool\n")
    campaign = Campaign.init(
        root / "project", source=root / "pool", classes=classes, **{**FAST_SETTINGS, **settings}
    )
    try:
        campaign.propose()
    finally:
        campaign.close()
    return root / "project"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_chromium() -> tuple[str, str] | None:
    """``(browser, chromedriver)`` paths, or None when either cannot be found."""
    browser = next((path for name in _BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def headless_chromium(width: int = 1280, height: int = 860) -> Any:
    """A Selenium ``webdriver.Chrome`` on headless Chromium with a fresh profile.

    Raises:
        FileNotFoundError: Chromium or ChromeDriver is not installed.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise FileNotFoundError("chromium and chromedriver must be installed (apt-get install "
                                "chromium chromium-driver); got none on PATH")  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='batchbald-chromium-')}")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download drivers
    return webdriver.Chrome(options=options, service=Service(found[1]))


class LiveServer:
    """``serve(project, ...)`` in a child process on a free localhost port.

    Args:
        project: the campaign folder.
        token: the access token, if any.
        poll_seconds: the pages' poll interval.
    """

    def __init__(self, project: str | Path, *, token: str | None = None, poll_seconds: float = 0.5):
        """See the class docstring."""
        self.project, self.token, self.poll_seconds = Path(project), token, poll_seconds
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> LiveServer:
        """Start the server and wait until it answers (the child imports torch: seconds)."""
        self.port = free_port()
        code = (
            "import sys; from batchbald.campaign.web import serve; "
            "serve(sys.argv[1], port=int(sys.argv[2]), token=sys.argv[3] or None, "
            "poll_seconds=float(sys.argv[4]))"
        )
        args = [str(self.project), str(self.port), self.token or "", str(self.poll_seconds)]
        self.process = subprocess.Popen([sys.executable, "-c", code, *args], start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with status {self.process.returncode}")
            if self._answers():
                return self
            time.sleep(0.2)
        self.kill()
        raise TimeoutError(f"server did not answer on {self.url} within {timeout} s")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/static/campaign.css", timeout=2):
                return True
        except OSError as error:
            return getattr(error, "code", None) == 401  # up, asking for the token

    def kill(self) -> None:
        """``kill -9`` the server (no shutdown code runs)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Stop the server gracefully (SIGINT, like Ctrl-C), or kill it after 10 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        """Start (see :meth:`start`)."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop (see :meth:`stop`)."""
        self.stop()
