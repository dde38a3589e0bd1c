"""The README's tour, line by line, on a fresh clone-like copy of the tree.

Every fenced block that README.md marks with an HTML comment starting `<!-- tour` is extracted
(so the test follows the README as it changes), and its lines run one after another in one bash
session in a copy of the tracked files with the built binary at build/cli/tightbox, and without
TIGHTBOX_PROFILE_DIR (the tour must say what a fresh clone needs). A line passes when it exits 0
or 1 (1: findings, a refused program, a difference); 2 and above (bad input, tightbox failed,
timeout, command not found) fail the test, naming the line.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import tbtest

README = os.path.join(tbtest.SOURCE_DIR, "README.md")


def tour_blocks(text):
    """The lines of each fenced code block that follows a `<!-- tour` comment."""
    blocks = []
    for m in re.finditer(r"<!-- tour[^\n]*-->\s*\n```[a-z]*\n(.*?)\n```", text, re.S):
        blocks.append([l for l in m.group(1).splitlines() if l.strip() and not l.lstrip().startswith("#")])
    return blocks


def copy_clone(dst):
    """What a fresh clone holds: the tracked files (and new, not ignored ones), no build tree."""
    p = subprocess.run(["git", "-C", tbtest.SOURCE_DIR, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], capture_output=True)
    if p.returncode != 0:
        shutil.copytree(tbtest.SOURCE_DIR, dst, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("build*", ".git"))
        return
    for rel in p.stdout.decode().split("\0"):
        src = os.path.join(tbtest.SOURCE_DIR, rel)
        if not rel or not os.path.lexists(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), os.path.join(dst, rel))
        else:
            shutil.copy2(src, os.path.join(dst, rel))


class ReadmeTour(unittest.TestCase):
    def test_extraction_finds_the_tour(self):
        with open(README) as f:
            blocks = tour_blocks(f.read())
        self.assertTrue(blocks, "README.md has no <!-- tour --> block")
        self.assertTrue(all(blocks), "an empty tour block")

    def test_tour_runs_line_by_line(self):
        tbtest.need_file(tbtest.TIGHTBOX, "the tightbox binary")
        with open(README) as f:
            blocks = tour_blocks(f.read())
        tmp = tempfile.mkdtemp(prefix="tb-tour-")
        try:
            clone = os.path.join(tmp, "tightbox")
            os.mkdir(clone)
            copy_clone(clone)
            os.makedirs(os.path.join(clone, "build", "cli"))
            os.symlink(tbtest.TIGHTBOX, os.path.join(clone, "build", "cli", "tightbox"))
            os.chmod(tmp, 0o755)
            env = {k: v for k, v in os.environ.items() if k != "TIGHTBOX_PROFILE_DIR"}
            for lines in blocks:
                status = os.path.join(tmp, "status")
                # One session, so `tb=...` and `export` carry over; after each line its status.
                script = "exec 3>%s\n" % status + "".join(
                    "%s\necho \"%d $?\" >&3\n" % (line, i) for i, line in enumerate(lines))
                p = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True,
                                   text=True, timeout=600)
                with open(status) as f:
                    got = dict(tuple(map(int, l.split())) for l in f)
                for i, line in enumerate(lines):
                    self.assertIn(i, got, "line never ran: %s\n%s" % (line, p.stderr[-3000:]))
                    self.assertLessEqual(got[i], 1, "README tour line failed (exit %d): %s\n%s" %
                                         (got[i], line, p.stderr[-3000:]))
            # The tour's outputs exist where it says.
            for f in ("rec.json", "policy/seccomp.json", "policy/landlock.json"):
                self.assertTrue(os.path.exists(os.path.join(clone, f)), f)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    tbtest.main()
