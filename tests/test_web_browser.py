"""The pages in a real browser: headless Chromium (Debian's) driven by Selenium.

Skipped, with the reason, where Chromium or its driver is absent (``make test`` installs
Debian's ``chromium`` and ``chromium-driver`` where it can). A screenshot of each page is
saved under ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import shutil

import pytest
from web_server import ARTIFACTS, ROOT, Server

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="headless Chromium is not installed (apt-get install chromium chromium-driver)",
    ),
]
HOMEWORK = ROOT / "docs" / "examples" / "homework"


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2", "--queue", "8")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1100,1000", "--lang=en-US"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait(driver, condition, seconds: float = 20):
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: condition(d))


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1100, max(700, min(height + 120, 2400)))
    driver.save_screenshot(str(ARTIFACTS / name))


def open_student_page(browser, server):
    browser.get(server.url + "/")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#question option")) >= 5)


def type_answer(browser, text: str) -> None:
    box = browser.find_element(By.ID, "answer")
    box.clear()
    # send_keys types character by character: the debounced preview fires as for a student.
    box.send_keys(text)


def test_student_page_preview_check_counterexample_hint(browser, server):
    open_student_page(browser, server)
    Select(browser.find_element(By.ID, "question")).select_by_value("nstep-K")
    steps = browser.find_element(By.ID, "steps")
    assert steps.is_displayed()
    steps.clear()
    steps.send_keys("2")
    question = browser.find_element(By.ID, "question-text")
    assert question.find_elements(By.TAG_NAME, "math"), "the question's symbols are typeset"
    type_answer(browser, r"r_t + r_{t+1}")
    # The preview shows the answer as read, as MathML (an element, not text) ...
    preview = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#preview math"))
    assert "γ" not in preview[0].text
    # ... and follows the typing (debounced): an unfinished answer shows why it cannot be
    # read, the finished one is typeset again.
    browser.find_element(By.ID, "answer").send_keys(" + \\gamma")
    wait(browser, lambda d: "γ" in d.find_element(By.ID, "preview").text)
    browser.find_element(By.ID, "answer").send_keys(" +")
    wait(browser, lambda d: d.find_element(By.ID, "preview-error").text)
    assert not browser.find_elements(By.CSS_SELECTOR, "#preview math")
    type_answer(browser, r"r_t + \gamma r_{t+1} + \gamma V(s_{t+2}) - V(s_t)")
    wait(browser, lambda d: "V" in d.find_element(By.ID, "preview").text)
    assert not browser.find_element(By.ID, "preview-error").text
    browser.find_element(By.ID, "check").click()
    verdict = wait(browser, lambda d: d.find_element(By.ID, "verdict").text or None)
    assert verdict == "incorrect"
    rows = browser.find_elements(By.CSS_SELECTOR, "#counterexample tr")
    fields = {
        row.get_attribute("data-field"): row.find_element(By.TAG_NAME, "td").text for row in rows
    }
    assert fields["gamma"] == "1/2"
    assert fields["answer_value"] == "3.277777778" and fields["reference_value"] == "3.388888889"
    assert "γ^n V(s_{t+n})" in browser.find_element(By.ID, "hint").text
    assert browser.find_elements(By.CSS_SELECTOR, "#read-as math")
    screenshot(browser, "student-page.png")


def test_student_page_correct_answer_shows_no_counterexample(browser, server):
    open_student_page(browser, server)
    Select(browser.find_element(By.ID, "question")).select_by_value("gae")
    type_answer(browser, r"\sum_{l=0}^{\infty} (\gamma\lambda)^l \delta_{t+l}")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#preview math"))
    browser.find_element(By.ID, "check").click()
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text == "correct")
    assert not browser.find_element(By.ID, "counterexample-box").is_displayed()
    assert "0 <= gamma*lambda < 1" in browser.find_element(By.ID, "assumptions").text


def test_student_page_against_an_expected_expression(browser, server):
    open_student_page(browser, server)
    Select(browser.find_element(By.ID, "question")).select_by_value("expected")
    browser.find_element(By.ID, "expected").send_keys("r[t] + gamma*r[t+1]")
    type_answer(browser, r"r_t + \gamma r_{t+2}")
    browser.find_element(By.ID, "answer").send_keys(Keys.CONTROL, Keys.ENTER)  # Ctrl+Enter
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text == "incorrect")
    assert browser.find_element(By.ID, "counterexample-box").is_displayed()


@pytest.mark.parametrize(
    "answer",
    [
        '"><img src=x onerror="window.__xss=1">',
        "<script>window.__xss=1</script>",
        r"G^{<img src=x onerror=window.__xss=1>}_t = r_t",
    ],
)
def test_hostile_answers_are_shown_as_text(browser, server, answer):
    open_student_page(browser, server)
    type_answer(browser, answer)
    wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "preview-error").text
            or d.find_elements(By.CSS_SELECTOR, "#preview math")
        ),
    )
    browser.find_element(By.ID, "check").click()
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text == "unreadable")
    assert browser.execute_script("return window.__xss") is None
    assert (
        browser.execute_script("return document.querySelectorAll('img, main script').length") == 0
    )
    feedback = browser.find_element(By.ID, "feedback").text
    assert feedback  # the reason, shown as plain text


def test_grader_page_uploads_a_class(browser, server):
    browser.get(server.url + "/grade")
    browser.find_element(By.ID, "key").send_keys(str(HOMEWORK / "key.toml"))
    browser.find_element(By.ID, "answers").send_keys(str(HOMEWORK / "class.csv"))
    browser.find_element(By.ID, "upload").click()
    try:
        wait(browser, lambda d: d.find_element(By.ID, "report").is_displayed(), seconds=60)
    except TimeoutException:
        pytest.fail("no report: " + browser.find_element(By.ID, "status").text)
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text for row in rows] == [
        "Ada", "Ben", "Chen", "Dana",
    ]  # fmt: skip
    assert rows[0].find_elements(By.TAG_NAME, "td")[-1].text == "9/9"
    progress = browser.find_element(By.ID, "progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "20"
    hints = browser.find_elements(By.CSS_SELECTOR, "#hints tr")
    ben = [row.text for row in hints if row.text.startswith("Ben q1-td-error")]
    assert ben and "incorrect" in ben[0]
    link = browser.find_element(By.ID, "download").get_attribute("href")
    assert link.endswith("/report.csv")
    assert server.client.get(link).text.startswith("student,question,verdict")
    screenshot(browser, "grader-page.png")
