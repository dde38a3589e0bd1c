"""The Debian package, installed into a clean Debian 12 root, works as a user meets it.

Builds the .deb (scripts/build-deb: CPack, prefix /usr), checks that it installs the binary,
profiles, man pages, completions and docs under the FHS, installs it with dpkg into a fresh copy
of the debootstrap root scripts/build-image caches (built at most once per machine, shared with
the podman tests), and there - with no source tree and no TIGHTBOX_PROFILE_DIR - runs
`tightbox run` under the installed default profile, `tightbox generate` from the installed corpus,
`tightbox run` under the generated profile, and `tightbox audit` with the installed Docker
baseline. `man tightbox-run` must find the installed page.

The root is entered with pivot_root inside a private mount namespace (a chrooted process may not
create the user namespace every sandbox gets), so no mount outlives the test.
Needs root, dpkg-deb, cpack, scdoc, util-linux and the cached root (podman + debootstrap):
skipped with the reason where missing.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import tbtest

SCRIPTS = os.path.join(tbtest.SOURCE_DIR, "scripts")
PODMAN_DIR = os.environ.get("TB_PODMAN_DIR", "/var/tmp/tightbox-podman")
ROOT_TAR = os.path.join(PODMAN_DIR, "images", "base-bookworm", "rootfs.tar")

EXPECTED_FILES = [
    "./usr/bin/tightbox",
    "./usr/share/tightbox/profiles/default.json",
    "./usr/share/tightbox/profiles/landlock.json",
    "./usr/share/tightbox/profiles/tightbox-sandbox",
    "./usr/share/tightbox/profiles/baseline/docker-default.json",
    "./usr/share/man/man1/tightbox.1.gz",
    "./usr/share/bash-completion/completions/tightbox",
    "./usr/share/zsh/vendor-completions/_tightbox",
    "./usr/share/doc/tightbox/README.md",
    "./usr/share/doc/tightbox/copyright",
] + ["./usr/share/man/man1/tightbox-%s.1.gz" % c for c in
     ("run", "record", "generate", "export", "audit", "diff", "explain")]


def in_root(root, script, timeout=300):
    """Runs SCRIPT (sh) as root inside ROOT: private mount namespace, /sys and a fresh /proc,
    pivot_root, old root detached, empty environment."""
    setup = ('mount --make-rprivate / && mount --bind "$0" "$0" && mount --rbind /sys "$0/sys" && '
             'mount -t proc proc "$0/proc" && mkdir -p "$0/.oldroot" && cd "$0" && '
             'pivot_root . .oldroot && exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin '
             'HOME=/root LANG=C.UTF-8 /bin/sh -c "umount -l /.oldroot && rmdir /.oldroot && $1"')
    return subprocess.run(["unshare", "--mount", "sh", "-c", setup, root, script],
                          capture_output=True, text=True, timeout=timeout)


class DebPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()
        for cmd in ("dpkg-deb", "cpack", "scdoc", "unshare", "pivot_root", "man"):
            tbtest.need_cmd(cmd)
        # The same cached debootstrap root the podman tests use: built once, then only checked.
        b = subprocess.run([os.path.join(SCRIPTS, "build-image")], capture_output=True, text=True,
                           timeout=1500)
        if b.returncode == 3:
            raise unittest.SkipTest("no Debian root: " + b.stderr.strip().splitlines()[-1])
        if b.returncode != 0:
            raise RuntimeError("scripts/build-image failed (exit %d): %s" % (b.returncode, b.stderr[-2000:]))
        tbtest.need_file(ROOT_TAR, "the cached debootstrap root (scripts/build-image)")
        cls.tmp = tempfile.mkdtemp(prefix="tb-deb-", dir="/var/tmp")
        try:
            p = subprocess.run([os.path.join(SCRIPTS, "build-deb"), os.path.join(cls.tmp, "build")],
                               capture_output=True, text=True, timeout=1200)
            if p.returncode != 0:
                raise RuntimeError("scripts/build-deb failed: " + p.stdout[-3000:] + p.stderr[-2000:])
            cls.deb = p.stdout.strip().splitlines()[-1]
            cls.root = os.path.join(cls.tmp, "root")
            os.mkdir(cls.root)
            subprocess.run(["tar", "-xf", ROOT_TAR, "-C", cls.root], check=True, timeout=600)
            shutil.copy(cls.deb, os.path.join(cls.root, "tmp", "tightbox.deb"))
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_contents_follow_the_fhs(self):
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True,
                                 check=True).stdout
        paths = {line.split()[-1] for line in listing.splitlines()}
        for f in EXPECTED_FILES:
            self.assertIn(f, paths)
        self.assertFalse([p for p in paths if not p.startswith("./usr/")], "outside /usr")
        fields = subprocess.run(["dpkg-deb", "-f", self.deb, "Package", "Depends"],
                                capture_output=True, text=True, check=True).stdout
        self.assertIn("Package: tightbox", fields)
        self.assertIn("libc6", fields)

    def test_2_installed_commands_work(self):
        p = in_root(self.root, "dpkg -i /tmp/tightbox.deb")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # The installed default profile, found in the install prefix.
        p = in_root(self.root, "tightbox run -- python3 -c 'print(6 * 7)'")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "42\n")
        p = in_root(self.root, "tightbox --version")
        self.assertIn("profiles: /usr/share/tightbox/profiles/default.json", p.stdout)
        # generate from the installed corpus, then run under what it wrote.
        p = in_root(self.root, "tightbox generate -q -o /tmp/policy/ "
                               "/usr/share/tightbox/profiles/corpus.json && ls /tmp/policy && "
                               "tightbox run --security-opt seccomp=/tmp/policy/seccomp.json "
                               "--security-opt landlock=/tmp/policy/landlock.json -- "
                               "python3 -c 'import json; print(json.dumps({\"ok\": 1}))'")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["landlock.json", "seccomp.json", "tightbox-sandbox",
                                            '{"ok":', "1}"])
        # audit's baseline shipped with the package.
        p = in_root(self.root, "tightbox audit /tmp/policy/seccomp.json | tail -n 1")
        self.assertIn("Docker's default allows", p.stdout, p.stderr)
        # A denied call is denied in the installed sandbox too.
        p = in_root(self.root, "tightbox run -- python3 -c 'import ctypes; "
                               "c = ctypes.CDLL(None, use_errno=True); "
                               "print(c.unshare(0x20000), ctypes.get_errno())'")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "-1 1\n")  # unshare(CLONE_NEWNS): EPERM

    def test_3_man_tightbox_run(self):
        in_root(self.root, "dpkg -s tightbox >/dev/null 2>&1 || dpkg -i /tmp/tightbox.deb")
        env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat")
        p = subprocess.run(["man", "--manpath", os.path.join(self.root, "usr/share/man"),
                            "tightbox-run"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tightbox-run - run a command in the hardened sandbox", p.stdout)
        self.assertIn("--pids-limit", p.stdout)
        for page in ("tightbox", "tightbox-generate", "tightbox-explain"):
            p = subprocess.run(["man", "--manpath", os.path.join(self.root, "usr/share/man"),
                                page], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(p.returncode, 0, (page, p.stderr))


if __name__ == "__main__":
    tbtest.main()
