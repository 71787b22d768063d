"""Every file the code and the docs point a reader to exists (docs/paper.md, images, links)."""

import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MENTION = re.compile(r"\b((?:docs|examples|lessons|benchmarks)/[\w./-]*\w\.(?:md|png|py))\b")
MD_LINK = re.compile(r"\]\(([^)#\s]+)\)")


def tracked_text_files():
    out = subprocess.run(["git", "ls-files", "*.py", "*.md"], cwd=ROOT, capture_output=True,
                         text=True)
    if out.returncode:  # not a git checkout (an unpacked sdist): walk the tree instead
        return [os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(ROOT)
                for f in fs if f.endswith((".py", ".md")) and ".git" not in d]
    return out.stdout.split()


def test_every_mentioned_docs_file_exists():
    missing = []
    for rel in tracked_text_files():
        text = open(os.path.join(ROOT, rel), encoding="utf-8").read()
        for target in MENTION.findall(text):
            if "/NN_" in target:  # a placeholder name, e.g. lessons/NN_x.py
                continue
            if not os.path.exists(os.path.join(ROOT, target)):
                missing.append(f"{rel}: {target}")
        if rel.endswith(".md"):  # relative Markdown links, from the file's own folder
            for target in MD_LINK.findall(text):
                if "://" in target:
                    continue
                if not os.path.exists(os.path.join(ROOT, os.path.dirname(rel), target)):
                    missing.append(f"{rel}: ({target})")
        if "PAPER.md" in text and rel != "tests/test_references.py":
            missing.append(f"{rel}: PAPER.md (the paper's page is docs/paper.md)")
    assert not missing, "\n".join(missing)
