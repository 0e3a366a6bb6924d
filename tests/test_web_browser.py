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
    hint = browser.find_element(By.ID, "hint")
    # The hint's math is typeset (MathML), never shown as LaTeX source.
    assert "the bootstrap term is discounted by" in hint.text and "after n steps" in hint.text
    assert hint.find_elements(By.TAG_NAME, "math") and "\\gamma" not in hint.text
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


# The wrong step of docs/examples/derivations/homework/student_nstep.tex, typed as bare lines.
DERIVATION = [
    r"\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l} \\",
    r"&= \sum_{l=0}^{n-1} \gamma^{l} \left(r_{t+l} + \gamma V(s_{t+l+1}) - V(s_{t+l})\right)"
    r" && \text{definition of } \delta \\",
    r"&= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \sum_{l=1}^{n} \gamma^{l} V(s_{t+l})"
    r" - \sum_{l=0}^{n-1} \gamma^{l} V(s_{t+l}) && \text{shift the index} \\",
    r"&= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n-1} V(s_{t+n}) - V(s_t)"
    r" && \text{the middle values cancel}",
]


def derivation_mode(browser, server, question: str) -> None:
    open_student_page(browser, server)
    Select(browser.find_element(By.ID, "question")).select_by_value(question)
    browser.find_element(By.ID, "mode-derivation").click()
    assert browser.find_element(By.ID, "derivation").is_displayed()
    assert not browser.find_element(By.ID, "answer").is_displayed()


def type_derivation(browser, lines) -> None:
    box = browser.find_element(By.ID, "derivation")
    box.clear()
    box.send_keys("\n".join(lines))  # typed key by key: the debounced preview follows


def line_rows(browser) -> list[dict]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#derivation-lines tbody tr")
    table = []
    for row in rows:
        cells = row.find_elements(By.TAG_NAME, "td")
        table.append(
            {
                "line": row.find_element(By.TAG_NAME, "th").text,
                "typeset": bool(cells[0].find_elements(By.TAG_NAME, "math")),
                "stated": cells[0].text,
                "status": cells[1].text,
                "why": cells[2].text,
                "failing": "failing" in (row.get_attribute("class") or ""),
            }
        )
    return table


def test_derivation_mode_names_the_failing_step(browser, server):
    derivation_mode(browser, server, "nstep")
    own = browser.find_element(By.CSS_SELECTOR, "#question option[value=expected]")
    assert own.get_attribute("disabled") is not None  # a derivation answers a question id
    type_derivation(browser, DERIVATION[:2])
    # The preview: one row a line, each typeset as read (the named quantity unfolded).
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#derivation-preview math")) == 2)
    first = browser.find_element(By.CSS_SELECTOR, "#derivation-preview tr[data-line='1']")
    assert "∑" in first.text and "k" in first.text
    browser.find_element(By.ID, "derivation").send_keys("\n" + "\n".join(DERIVATION[2:]))
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#derivation-preview math")) == 4)
    assert not browser.find_element(By.ID, "derivation-preview-error").text
    browser.find_element(By.ID, "check").click()
    verdict = wait(browser, lambda d: d.find_element(By.ID, "verdict").text or None, seconds=60)
    assert verdict == "incorrect"
    rows = line_rows(browser)
    assert [(r["line"], r["status"]) for r in rows] == [
        ("1", "ok"), ("2", "ok"), ("3", "ok"), ("4", "fails (false)"),
    ]  # fmt: skip
    assert all(r["typeset"] for r in rows)
    assert [r["failing"] for r in rows] == [False, False, False, True]
    assert "definition of" in rows[1]["stated"]  # the student's own reason, as text
    assert rows[3]["why"].startswith("false under the declared assumptions: at gamma = 0.6")
    feedback = browser.find_element(By.ID, "feedback").text
    assert feedback.startswith("line 4 is false: false under the declared assumptions")
    fields = {
        row.get_attribute("data-field"): row.find_element(By.TAG_NAME, "td").text
        for row in browser.find_elements(By.CSS_SELECTOR, "#counterexample tr")
    }
    assert fields["gamma"] == "0.6" and fields["n"] == "6" and fields["t"] == "1"
    assert fields["previous"] == "0.151218" and fields["this_line"] == "0.12622"
    columns = browser.find_elements(By.CSS_SELECTOR, "#counterexample-window th[data-sequence]")
    assert sorted(th.text for th in columns) == ["V", "r"]
    at_t = browser.find_element(By.CSS_SELECTOR, "#counterexample-window tr[data-index='1']")
    assert len(at_t.find_elements(By.TAG_NAME, "td")) == 2  # r_1 and V_1 at t = 1
    hint = browser.find_element(By.ID, "hint")
    assert "after n steps" in hint.text and hint.find_elements(By.TAG_NAME, "math")
    assert "\\gamma" not in hint.text
    screenshot(browser, "student-derivation.png")


def test_derivation_mode_correct_and_unreadable(browser, server):
    derivation_mode(browser, server, "nstep")
    lines = [DERIVATION[0], DERIVATION[2].replace("&& \\text{shift the index} ", "")]
    lines.append(r"&= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n}) - V(s_t)")
    type_derivation(browser, lines)
    browser.find_element(By.ID, "check").click()
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text == "correct", seconds=60)
    assert [r["status"] for r in line_rows(browser)] == ["ok", "ok", "ok"]
    assert not browser.find_element(By.ID, "counterexample-box").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "#derivation-lines tr.failing")
    # Every line justified, but it answers another question: the last line fails.
    Select(browser.find_element(By.ID, "question")).select_by_value("td-error")
    browser.find_element(By.ID, "check").click()
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text == "incorrect", seconds=60)
    rows = line_rows(browser)
    assert [r["status"] for r in rows] == ["ok", "ok", "fails (not the answer)"]
    assert "the last line is not the answer" in rows[2]["why"] and rows[2]["failing"]
    labels = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#counterexample th")]
    assert labels[-2:] == ["your last line", "the reference"]
    type_derivation(browser, ["r_t &= r_t \\\\", "&= \\alpha"])
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#derivation-preview tr[data-error]"))
    browser.find_element(By.ID, "derivation").send_keys(Keys.CONTROL, Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text == "unreadable", seconds=60)
    rows = line_rows(browser)
    assert [r["status"] for r in rows] == ["ok", "fails (unreadable)"]
    # The reason names the symbol typeset (α), not as LaTeX source.
    assert "unrecognised notation" in rows[1]["why"] and "α" in rows[1]["why"]
    assert "\\alpha" not in rows[1]["why"]


@pytest.mark.parametrize(
    "lines",
    [
        ['r_t &= r_t && \\text{"><img src=x onerror="window.__xss=1">} \\\\', "&= r_t"],
        # No '=' in the markup (it would split the line): an alert() that ran would make
        # the next browser command fail (an unexpected alert is open).
        [
            "r_t &= r_t + \\text{</math><script>alert(1)</script>} \\\\",
            "&= r_t && \\text{<img src onerror=alert(1)>}",
        ],
    ],
)
def test_hostile_derivations_are_shown_as_text(browser, server, lines):
    derivation_mode(browser, server, "td-error")
    type_derivation(browser, lines)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#derivation-preview tr"))
    browser.find_element(By.ID, "check").click()
    wait(browser, lambda d: d.find_element(By.ID, "verdict").text, seconds=60)
    assert browser.execute_script("return window.__xss") is None
    assert (
        browser.execute_script("return document.querySelectorAll('img, main script').length") == 0
    )
    shown = browser.find_element(By.ID, "derivation-lines").text
    assert "<img" in shown or "<script>" in shown  # the student's text, as text
