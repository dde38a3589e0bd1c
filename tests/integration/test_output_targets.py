"""-o never replaces a device node or FIFO with a regular file (`record -o /dev/null` once turned
the host's /dev/null into a file of JSON): a character device or FIFO is written in place, as a
shell's `>` would; a FIFO nobody reads fails instead of blocking; a regular file is still
replaced atomically. Each case uses nodes this test creates in its own folder, never the host's."""
import os
import stat
import subprocess
import tempfile
import threading
import unittest

import tbtest


class OutputTargets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tbtest.need_root()  # mknod
        cls.tmp = tempfile.TemporaryDirectory(prefix="tb-otargets-")
        cls.rec = os.path.join(cls.tmp.name, "rec.json")
        tbtest.tightbox("record", "--backend", "ptrace", "-o", cls.rec, "--", "true", check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def writers(self, out):
        """Each command that takes -o FILE, writing to OUT."""
        return {
            "record": ["record", "--backend", "ptrace", "-o", out, "--", "true"],
            "merge": ["record", "--merge", self.rec, "-o", out],
            "scan": ["scan", "-o", out, "/bin/true"],
        }

    def test_char_device_written_in_place(self):
        null = self.path("null")
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        for name, args in self.writers(null).items():
            with self.subTest(cmd=name):
                p = tbtest.tightbox(*args)
                self.assertEqual(p.returncode, 0, p.stderr.decode())
                st = os.lstat(null)
                self.assertTrue(stat.S_ISCHR(st.st_mode), "%s replaced the device node" % name)
                self.assertEqual(st.st_rdev, os.makedev(1, 3))
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["null", "rec.json"], "no temporary left")

    def test_generate_into_a_folder_holding_a_device_node(self):
        out = self.path("gen")
        os.mkdir(out)
        node = os.path.join(out, "seccomp.json")
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        p = tbtest.tightbox("generate", "-o", out, self.rec)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertTrue(stat.S_ISCHR(os.lstat(node).st_mode))
        self.assertTrue(stat.S_ISREG(os.lstat(os.path.join(out, "landlock.json")).st_mode))

    def test_fifo_with_reader_gets_the_output(self):
        fifo = self.path("fifo")
        for name, args in self.writers(fifo).items():
            with self.subTest(cmd=name):
                os.mkfifo(fifo)
                got = []
                # O_RDWR: the reader end is open before tightbox opens the FIFO for writing.
                rfd = os.open(fifo, os.O_RDWR)
                t = threading.Thread(target=lambda: got.append(_drain(rfd)))
                p = subprocess.Popen([tbtest.TIGHTBOX, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                out, err = p.communicate(timeout=120)
                self.assertEqual(p.returncode, 0, err.decode())
                self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "%s replaced the FIFO" % name)
                os.set_blocking(rfd, False)
                t.start()
                t.join(60)
                os.close(rfd)
                self.assertIn(b'"format"', got[0])
                os.unlink(fifo)

    def test_fifo_without_reader_fails_instead_of_blocking(self):
        fifo = self.path("lonely")
        os.mkfifo(fifo)
        try:
            for name, args in self.writers(fifo).items():
                with self.subTest(cmd=name):
                    p = tbtest.tightbox(*args, timeout=120)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertIn(b"No such device or address", p.stderr)
                    self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        finally:
            os.unlink(fifo)

    def test_regular_file_still_replaced(self):
        out = self.path("plain.json")
        with open(out, "w") as f:
            f.write("old")
        p = tbtest.tightbox("record", "--merge", self.rec, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(out) as f:
            self.assertIn('"format"', f.read())
        os.unlink(out)


def _drain(fd):
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


if __name__ == "__main__":
    tbtest.main()
