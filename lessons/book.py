"""Build the lesson book: every lesson executed as a notebook and rendered to static HTML.

    python lessons/book.py                  # all lessons, full sizes, into book/
    python lessons/book.py --quick --out /tmp/book --only 00 05
    python lessons/book.py --quick --check  # then open each page in headless Chromium

Each ``lessons/NN_topic.py`` (a jupytext percent file) is converted to a notebook, executed
with nbclient in the lessons folder (so its figures appear inline, exactly as a student sees
them in JupyterLab), and written as ``NN_topic.html``; ``index.html`` is the syllabus
(lessons/README.md), ``exercises.html`` and ``hints.html`` the exercises' README and hints.
The pages are self-contained: figures are embedded PNGs, and the template drops the scripts
nbconvert would fetch from a CDN (require.js, MathJax, mermaid), so the book reads offline and
a browser logs no network error. The formulas are written in the code's index notation
(``dW[f, c, u, v] = sum_{n, i, j} ...``), which needs no MathJax.

Why nbconvert: it is the Jupyter project's own renderer, so the page is the notebook a student
runs (same cells, same outputs, JupyterLab's styles), it needs no server and no JavaScript
toolchain, and it installs from PyPI in seconds. Jupyter Book or Quarto add a site generator
(Sphinx or a separate binary) for features a fifteen-page course does not need.

``--check`` opens every page in headless Chromium (Debian's ``chromium`` package) over the
DevTools protocol on a pipe, and reports pages that fail to load, figures that did not decode
(an ``img`` with no natural size) and console errors; ``--shots DIR`` saves a screenshot of
each page. The tests use the same functions.
"""

import argparse
import base64
import contextlib
import fcntl
import glob
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE_DIR = os.path.join(HERE, "book_template")


def lesson_paths(only=None):
    """The numbered lessons, in order; ``only`` keeps those whose number is listed."""
    paths = sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py")))
    if only:
        paths = [p for p in paths if os.path.basename(p)[:2] in set(only)]
    return paths


def to_notebook(path):
    """The lesson as an nbformat notebook (jupytext's percent format), kernel python3."""
    import jupytext
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def execute(path, fig_dir, quick=True, timeout=600):
    """Convert ``path`` to a notebook and run it in a fresh kernel, in the lessons folder.

    ``quick`` sets ALEXNET_NP_QUICK=1; figures are saved to ``fig_dir``
    (ALEXNET_NP_LESSON_OUT). Raises nbclient's CellExecutionError if a cell fails (a failed
    self-check is one). Returns the executed notebook.
    """
    from nbclient import NotebookClient
    nb = to_notebook(path)
    os.makedirs(fig_dir, exist_ok=True)
    env = {**os.environ, "ALEXNET_NP_QUICK": "1" if quick else "0",
           "ALEXNET_NP_LESSON_OUT": fig_dir,
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": HERE}})
    client.execute(env=env)  # the kernel's environment; ours stays untouched
    return nb


def lesson_title(nb, fallback):
    """The first markdown heading of the notebook, without the leading #."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def _nav_cell(names, i):
    import nbformat
    parts = []
    if i > 0:
        parts.append(f"[previous: {names[i - 1]}]({names[i - 1]}.html)")
    parts.append("[syllabus](index.html)")
    if i + 1 < len(names):
        parts.append(f"[next: {names[i + 1]}]({names[i + 1]}.html)")
    return nbformat.v4.new_markdown_cell(" | ".join(parts))


def render(nb, title):
    """Static HTML of an (executed) notebook, with the book's offline template."""
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[TEMPLATE_DIR])
    exporter.template_file = "book.html.j2"
    nb.metadata["title"] = title
    html, _ = exporter.from_notebook_node(nb)
    return html


# Markdown files that become pages of the book, and the links rewritten to point at pages.
MARKDOWN_PAGES = {"index.html": "README.md", "exercises.html": "exercises/README.md",
                  "hints.html": "exercises/HINTS.md"}


def markdown_notebook(rel):
    """A Markdown file of lessons/ as a one-cell notebook, its links pointing at book pages."""
    import nbformat
    with open(os.path.join(HERE, rel), encoding="utf-8") as fh:
        text = fh.read()
    text = re.sub(r"\(((\d\d)_\w+)\.py\)", r"(\1.html)", text)  # lesson links -> pages
    for page, source in MARKDOWN_PAGES.items():
        text = text.replace(f"({source})", f"({page})")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    return nb


def write_book(executed, out_dir):
    """Write one page per executed notebook plus index.html; returns the page paths.

    ``executed`` is a list of ``(lesson_path, executed_notebook)`` in lesson order.
    """
    import copy
    os.makedirs(out_dir, exist_ok=True)
    names = [os.path.splitext(os.path.basename(p))[0] for p, _ in executed]
    pages = []
    for i, (_, nb) in enumerate(executed):
        nb = copy.deepcopy(nb)
        nb.cells.insert(0, _nav_cell(names, i))
        nb.cells.append(_nav_cell(names, i))
        page = os.path.join(out_dir, names[i] + ".html")
        with open(page, "w", encoding="utf-8") as fh:
            fh.write(render(nb, lesson_title(nb, names[i])))
        pages.append(page)
    extra = []
    for page, source in MARKDOWN_PAGES.items():
        extra.append(os.path.join(out_dir, page))
        nb = markdown_notebook(source)
        with open(extra[-1], "w", encoding="utf-8") as fh:
            fh.write(render(nb, lesson_title(nb, page)))
    return extra + pages


def build(out_dir, quick=False, only=None):
    """Execute every lesson and write the book into ``out_dir``.

    Returns ``(pages, failed)``: the page paths, and the lessons that failed to execute (they
    get no page; the others are still written).
    """
    from nbclient.exceptions import CellExecutionError
    executed, failed = [], []
    for path in lesson_paths(only):
        t0 = time.perf_counter()
        try:
            nb = execute(path, os.path.join(out_dir, "figures"), quick=quick)
        except CellExecutionError as exc:
            text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # no terminal colours
            last = [line for line in text.splitlines() if line.strip()][-1:]
            print(f"  FAILED {os.path.basename(path)}: {' '.join(last)[:200]}", flush=True)
            failed.append(path)
            continue
        print(f"  executed {os.path.basename(path)} in {time.perf_counter() - t0:.1f} s",
              flush=True)
        executed.append((path, nb))
    return write_book(executed, out_dir), failed


# --- Checking the pages in a real browser ---------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm

IMAGES_JS = """(async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return JSON.stringify({title: document.title, cells: document.querySelectorAll(
      '.jp-Cell').length, images: imgs.map(i => [i.naturalWidth, i.naturalHeight]),
      links: Array.from(document.links).filter(a => a.protocol === 'file:').map(
          a => decodeURIComponent(a.pathname))});
})()"""


def find_chromium():
    """The path of a Chromium (or Chrome) binary on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4).

    No WebSocket, no extra package: Chromium reads JSON messages ending in a NUL byte from
    fd 3 and writes its answers and events to fd 4 (``--remote-debugging-pipe``).
    """

    def __init__(self, binary=None, timeout=60):
        binary = binary or find_chromium()
        if binary is None:
            raise FileNotFoundError("no chromium on PATH: apt-get install chromium")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="book-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds():  # in the child: our pipe ends become its fds 3 and 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(a, 3)  # dup2 makes 3 and 4 inheritable; all else stays close-on-exec
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._next_id, self.events = b"", 0, []

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (did it crash?)")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, session):
        deadline = time.monotonic() + self.timeout
        while True:
            for k, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(k)
            self.events.append(self._read_message(deadline))

    def open(self, url):
        """A new tab at ``url``, loaded; returns its session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1100, "height": 1400,
                  "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return session

    def errors(self, session):
        """Console errors, uncaught exceptions and failed loads logged in this tab."""
        found = []
        for ev in self.events:
            if ev.get("sessionId") != session:
                continue
            p = ev.get("params", {})
            if ev["method"] == "Runtime.consoleAPICalled" and p.get("type") == "error":
                found.append("console.error: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif ev["method"] == "Runtime.exceptionThrown":
                found.append("exception: " + p["exceptionDetails"].get("text", ""))
            elif ev["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(f"log: {p['entry'].get('text', '')} {p['entry'].get('url', '')}")
        return found

    def close(self):
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


def check_pages(pages, shots=None, binary=None):
    """Open each page in headless Chromium; returns ``{page: report}``.

    A report holds ``title``, ``cells`` (notebook cells on the page), ``images`` (natural
    width and height of every img), ``links`` (the local files the page links to) and
    ``errors`` (console errors, exceptions, failed loads).
    With ``shots``, a PNG screenshot of the top of each page is saved there.
    """
    browser = Browser(binary)
    reports = {}
    try:
        for page in pages:
            session = browser.open("file://" + os.path.abspath(page))
            time.sleep(0.2)  # let late console messages arrive
            value = browser.call("Runtime.evaluate", {"expression": IMAGES_JS,
                                 "awaitPromise": True, "returnByValue": True},
                                 session=session)["result"]["value"]
            report = json.loads(value)
            report["errors"] = browser.errors(session)
            if shots:
                os.makedirs(shots, exist_ok=True)
                data = browser.call("Page.captureScreenshot", {"format": "png"},
                                    session=session)["data"]
                name = os.path.splitext(os.path.basename(page))[0] + ".png"
                with open(os.path.join(shots, name), "wb") as fh:
                    fh.write(base64.b64decode(data))
            reports[page] = report
    finally:
        browser.close()
    return reports


def problems(report, missing_ok=()):
    """What is wrong with one page's report, as a list of strings (empty: all good).

    A link to a local file that does not exist is a problem, unless its name is in
    ``missing_ok``.
    """
    found = list(report["errors"])
    found += [f"broken link to {os.path.basename(path)}" for path in report.get("links", [])
              if not os.path.exists(path) and os.path.basename(path) not in missing_ok]
    if report["cells"] == 0:
        found.append("no notebook cell on the page")
    found += [f"image {k} did not decode ({w}x{h})"
              for k, (w, h) in enumerate(report["images"]) if not (w > 0 and h > 0)]
    return found


def main(argv=None):
    p = argparse.ArgumentParser(description="Build the lesson book (static HTML).")
    p.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "book"),
                   help="output folder (default: book/ at the repository root)")
    p.add_argument("--quick", action="store_true", help="run the lessons with small sizes")
    p.add_argument("--only", nargs="+", metavar="NN", help="only these lesson numbers")
    p.add_argument("--check", action="store_true",
                   help="open every page in headless Chromium and report problems")
    p.add_argument("--shots", metavar="DIR", help="with --check: save a screenshot per page")
    args = p.parse_args(argv)
    try:
        import ipykernel  # noqa: F401
        import jupytext  # noqa: F401
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
    except ImportError as exc:
        print(f"error: the lesson book needs {exc.name}: pip install -e \".[lessons]\"",
              file=sys.stderr)
        return 2
    pages, failed = build(args.out, quick=args.quick, only=args.only)
    print(f"book: {len(pages)} pages in {args.out} (open {pages[0]})")
    if failed:
        print(f"error: {len(failed)} lesson(s) failed to execute and have no page: "
              f"{', '.join(os.path.basename(p) for p in failed)}", file=sys.stderr)
    if not args.check:
        return 1 if failed else 0
    if find_chromium() is None:
        print("error: --check needs Chromium on PATH (apt-get install chromium)",
              file=sys.stderr)
        return 2
    bad = 0
    built = {os.path.basename(p) for p in pages}  # --only: links to unbuilt lessons are fine
    unbuilt = {os.path.splitext(os.path.basename(p))[0] + ".html" for p in lesson_paths()}
    for page, report in check_pages(pages, shots=args.shots).items():
        found = problems(report, missing_ok=unbuilt - built if args.only else ())
        bad += bool(found)
        status = "ok" if not found else "PROBLEM: " + "; ".join(found)
        print(f"  {os.path.basename(page)}: {len(report['images'])} figures, {status}")
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
