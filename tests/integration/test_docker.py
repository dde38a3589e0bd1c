"""tightbox's profiles in a real Docker engine: Debian's docker.io 20.10 with the seed's full
`docker run` line.

One private dockerd serves every case (tests/lib/tbengines.py: its own data-root, exec-root and
socket, --bridge=none --iptables=false; stopped by pid and its folder removed at the end). The
base image is scripts/build-image's debootstrap tarball (`docker import`, shared cache).

- The corpus (scripts/workloads) runs under the profile generated here from a fresh recording
  (`tightbox generate --runtime tightbox,runc`), under the shipped profiles/default.json and under
  Docker's own default profile (the control).
- Ordinary Python programs that are not in the corpus: the test records how many pass under the
  seed's profile, the profile generated now, tightbox's shipped default and Docker's default, and
  asserts that the last three pass them all.
- The seed's three attacks are contained under the generated profile.
- sandbox.Dockerfile builds with `docker build` from the imported base and builder images
  (RECORD=shipped: Docker's builder cannot grant the recording step its capabilities), and the
  profile the image carries runs the corpus.

Needs root, docker.io and the base image; skips (77) with the reason when one is missing.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import tbengines
import tbtest

SHIPPED = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
SEED = os.path.join(tbtest.SOURCE_DIR, "tests", "fixtures", "profiles", "seed.json")
DOCKER_DEFAULT = None  # no --security-opt seccomp: the engine's built-in default profile

# Ordinary programs, none of them in the corpus: each prints OK when it worked.
PROGRAMS = {
    "json_roundtrip": "import json\nd = {'a': [1, 2.5, None], 'b': 'x'}\nassert json.loads(json.dumps(d)) == d\nprint('OK')",
    "regex": "import re\nassert re.findall(r'\\d+', 'a1b22c333') == ['1', '22', '333']\nprint('OK')",
    "csv_memory": "import csv, io\nf = io.StringIO()\ncsv.writer(f).writerows([[1, 2], [3, 4]])\n"
                  "assert list(csv.reader(io.StringIO(f.getvalue()))) == [['1', '2'], ['3', '4']]\nprint('OK')",
    "sqlite_memory": "import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute('create table t (x)')\n"
                     "c.executemany('insert into t values (?)', [(i,) for i in range(100)])\n"
                     "assert c.execute('select sum(x) from t').fetchone()[0] == 4950\nprint('OK')",
    "sqlite_file": "import sqlite3\nc = sqlite3.connect('/tmp/db.sqlite')\nc.execute('create table t (x)')\n"
                   "c.execute('insert into t values (1)')\nc.commit()\nc.close()\n"
                   "assert sqlite3.connect('/tmp/db.sqlite').execute('select x from t').fetchone() == (1,)\nprint('OK')",
    "decimal_fractions": "from decimal import Decimal\nfrom fractions import Fraction\n"
                         "assert Decimal('0.1') * 3 == Decimal('0.3') and Fraction(1, 3) * 3 == 1\nprint('OK')",
    "collections": "from collections import Counter, deque, OrderedDict\nassert Counter('abca')['a'] == 2\n"
                   "d = deque(range(5), maxlen=3)\nassert list(d) == [2, 3, 4]\nprint('OK')",
    "itertools": "import itertools, functools\nassert len(list(itertools.permutations(range(5)))) == 120\n"
                 "assert functools.reduce(lambda a, b: a * b, range(1, 6)) == 120\nprint('OK')",
    "hashlib": "import hashlib\nassert hashlib.sha256(b'abc').hexdigest().startswith('ba7816bf')\n"
               "assert len(hashlib.blake2b(b'x').digest()) == 64\nprint('OK')",
    "gzip_tmp": "import gzip\nwith gzip.open('/tmp/x.gz', 'wt') as f: f.write('hello ' * 1000)\n"
                "assert gzip.open('/tmp/x.gz', 'rt').read() == 'hello ' * 1000\nprint('OK')",
    "tarfile_tmp": "import tarfile, os\nopen('/tmp/a.txt', 'w').write('a')\n"
                   "with tarfile.open('/tmp/a.tar', 'w') as t: t.add('/tmp/a.txt', 'a.txt')\n"
                   "assert tarfile.open('/tmp/a.tar').getnames() == ['a.txt']\nprint('OK')",
    "zipfile_memory": "import zipfile, io\nb = io.BytesIO()\nwith zipfile.ZipFile(b, 'w') as z: z.writestr('f', 'data')\n"
                      "assert zipfile.ZipFile(b).read('f') == b'data'\nprint('OK')",
    "tempfile": "import tempfile, os\nwith tempfile.TemporaryDirectory() as d:\n"
                "    p = os.path.join(d, 'f')\n    open(p, 'w').write('x')\n    assert os.listdir(d) == ['f']\nprint('OK')",
    "thread_queue": "import threading, queue\nq = queue.Queue()\n"
                    "ts = [threading.Thread(target=q.put, args=(i,)) for i in range(8)]\n"
                    "[t.start() for t in ts]\n[t.join() for t in ts]\nassert sorted(q.queue) == list(range(8))\nprint('OK')",
    "thread_pool": "from concurrent.futures import ThreadPoolExecutor\n"
                   "with ThreadPoolExecutor(4) as ex: assert list(ex.map(abs, [-1, -2])) == [1, 2]\nprint('OK')",
    "subprocess_child": "import subprocess, sys\n"
                        "assert subprocess.run([sys.executable, '-c', 'print(6*7)'], capture_output=True, text=True).stdout == '42\\n'\nprint('OK')",
    "multiprocessing_pool": "import multiprocessing as mp\nif __name__ == '__main__':\n"
                            "    with mp.Pool(2) as p: assert p.map(abs, [-1, -2, -3]) == [1, 2, 3]\n    print('OK')",
    "asyncio_gather": "import asyncio\nasync def f(i):\n    await asyncio.sleep(0.01)\n    return i\n"
                      "async def main():\n    return await asyncio.wait_for(asyncio.gather(*(f(i) for i in range(10))), 5)\n"
                      "assert asyncio.run(main()) == list(range(10))\nprint('OK')",
    "statistics_random": "import random, statistics\nrandom.seed(1)\nxs = [random.gauss(0, 1) for _ in range(1000)]\n"
                         "assert abs(statistics.mean(xs)) < 0.2\nprint('OK')",
    "struct_array": "import struct, array\nassert struct.unpack('<I', struct.pack('<I', 7)) == (7,)\n"
                    "assert array.array('d', [1.0, 2.0]).tobytes()[:8] == struct.pack('d', 1.0)\nprint('OK')",
    "pathlib_walk": "import pathlib\nassert any(pathlib.Path('/usr/lib/python3').glob('*'))\n"
                    "assert sum(1 for _ in pathlib.Path('/etc').iterdir()) > 5\nprint('OK')",
    "shutil_copytree": "import shutil, os\nos.makedirs('/tmp/src/d')\nopen('/tmp/src/d/f', 'w').write('x')\n"
                       "shutil.copytree('/tmp/src', '/tmp/dst')\nshutil.rmtree('/tmp/src')\n"
                       "assert open('/tmp/dst/d/f').read() == 'x'\nprint('OK')",
    "email_xml": "from email.message import EmailMessage\nimport xml.etree.ElementTree as ET\n"
                 "m = EmailMessage()\nm['Subject'] = 'hi'\nm.set_content('body')\nassert 'hi' in m.as_string()\n"
                 "assert ET.fromstring('<a><b>1</b></a>').find('b').text == '1'\nprint('OK')",
    "logging_stream": "import logging, io\ns = io.StringIO()\nlogging.basicConfig(stream=s, level=logging.INFO)\n"
                      "logging.getLogger('x').info('hello')\nassert 'hello' in s.getvalue()\nprint('OK')",
    "pickle_copy": "import pickle, copy\nd = {'a': [1, {2, 3}]}\nassert pickle.loads(pickle.dumps(d)) == d == copy.deepcopy(d)\nprint('OK')",
    "numpy_linalg": "import numpy as np\na = np.random.default_rng(0).random((50, 50)) + 50 * np.eye(50)\n"
                    "assert np.allclose(a @ np.linalg.inv(a), np.eye(50))\nprint('OK')",
    "pandas_groupby": "import pandas as pd\ndf = pd.DataFrame({'k': list('abab'), 'v': [1, 2, 3, 4]})\n"
                      "assert df.groupby('k')['v'].sum().to_dict() == {'a': 4, 'b': 6}\nprint('OK')",
    "selectors_pipe": "import os, selectors\nr, w = os.pipe()\ns = selectors.DefaultSelector()\n"
                      "s.register(r, selectors.EVENT_READ)\nos.write(w, b'x')\nassert s.select(1)\n"
                      "assert os.read(r, 1) == b'x'\nprint('OK')",
}

D = None
IMAGE = None
TMP = None
GENERATED = None


def setUpModule():
    global D, IMAGE, TMP, GENERATED
    D = tbengines.started(tbengines.Dockerd)
    try:
        IMAGE = tbengines.build_image("base", "docker", env=D.env)
        TMP = tempfile.mkdtemp(prefix="tb-test-docker-")
        GENERATED = tbengines.record_engine_profile(TMP)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    tbengines.stop_and_remove(D, TMP)


def docker_run(profile, argv, script=None, image=None, user="65534:65534", timeout=180):
    """The seed's full `docker run` line with PROFILE (None: Docker's default) and SCRIPT bound
    read-only at /sandbox/script.py, as the seed's executor does."""
    args = ["run", "--rm", *tbengines.SEED_FLAGS]
    if profile:
        args += ["--security-opt", "seccomp=" + profile]
    if user:
        args += ["--user", user]
    if script:
        args += ["--volume", "%s:/sandbox/script.py:ro" % script, "--workdir", "/sandbox"]
    return D.docker(*args, image or IMAGE, *argv, timeout=timeout)


def run_corpus(test, profile, image=None, user="65534:65534"):
    failed = tbengines.corpus_failures(test, lambda s: docker_run(
        profile, ["/usr/bin/python3", "/sandbox/script.py"], script=s, image=image, user=user))
    test.assertEqual(failed, [], "workloads failed under docker with %s" % (profile or "Docker's default"))


class TestDockerCorpus(unittest.TestCase):
    def test_generated_profile_runs_the_corpus(self):
        run_corpus(self, GENERATED)

    def test_shipped_default_runs_the_corpus(self):
        run_corpus(self, SHIPPED)

    def test_docker_default_runs_the_corpus(self):
        run_corpus(self, DOCKER_DEFAULT)

    def test_seed_attacks_are_contained(self):
        # Network (TEST-NET-1 never answers), fork bomb, write outside /tmp: the seed's checks.
        p = docker_run(GENERATED, ["/usr/bin/python3", "-c",
                                   "import urllib.request; urllib.request.urlopen('http://192.0.2.1/', timeout=5)"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("URLError", p.stderr)
        p = docker_run(GENERATED, ["/usr/bin/python3", "-c", "import os; [os.fork() for _ in range(1000)]"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("BlockingIOError", p.stderr)
        p = docker_run(GENERATED, ["/usr/bin/python3", "-c", "open('/etc/pwned', 'w').write('test')"])
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"PermissionError|Read-only file system")
        p = docker_run(GENERATED, ["/usr/bin/python3", "-c",
                                   "import os, resource; st = open('/proc/self/status').read();"
                                   "print(os.getuid(), 'Seccomp:\\t2' in st, 'NoNewPrivs:\\t1' in st,"
                                   " resource.getrlimit(resource.RLIMIT_NOFILE))"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "65534 True True (64, 64)")


class TestDockerOrdinaryPrograms(unittest.TestCase):
    """How many ordinary programs pass under each profile with the seed's line."""

    def test_pass_counts(self):
        tmp = tempfile.mkdtemp(prefix="tb-test-docker-progs-")
        try:
            paths = {}
            for name, code in PROGRAMS.items():
                paths[name] = os.path.join(tmp, name + ".py")
                with open(paths[name], "w") as f:
                    f.write(code + "\n")
            counts, failures = {}, {}
            for label, profile in (("seed", SEED), ("generated now", GENERATED),
                                   ("tightbox default", SHIPPED), ("docker default", DOCKER_DEFAULT)):
                failed = []
                for name, path in sorted(paths.items()):
                    p = docker_run(profile, ["/usr/bin/python3", "/sandbox/script.py"], script=path)
                    if p.returncode != 0 or p.stdout.strip() != "OK":
                        failed.append("%s: rc=%d %s" % (name, p.returncode, p.stderr.strip()[-300:]))
                counts[label] = len(PROGRAMS) - len(failed)
                failures[label] = failed
            print("\nordinary programs passing under docker (seed's line): " +
                  ", ".join("%s %d/%d" % (k, v, len(PROGRAMS)) for k, v in counts.items()))
            self.assertEqual(failures["generated now"], [])
            self.assertEqual(failures["tightbox default"], [])
            self.assertEqual(failures["docker default"], [])
            # The seed's allowlist cannot even start Python 3.11 (no newfstatat, pread64, ...).
            self.assertLess(counts["seed"], len(PROGRAMS))
        finally:
            shutil.rmtree(tmp)


class TestSandboxDockerfile(unittest.TestCase):
    """sandbox.Dockerfile under `docker build`, from the imported debootstrap images."""

    def test_build_and_run_the_corpus(self):
        builder = tbengines.build_image("builder", "docker", env=D.env)
        tag = "tightbox-sandbox:test"
        p = D.docker("build", "--network", "none", "-f", os.path.join(tbtest.SOURCE_DIR, "sandbox.Dockerfile"),
                     "--build-arg", "BASE=" + IMAGE, "--build-arg", "BUILDER=" + builder,
                     "--build-arg", "RECORD=shipped", "-t", tag, tbtest.SOURCE_DIR, timeout=900)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
        p = D.docker("image", "inspect", "--format", "{{.Config.User}} {{.Config.WorkingDir}}", tag)
        self.assertEqual(p.stdout.strip(), "65534:65534 /sandbox")
        # The profile the image carries, taken out of it; bash is gone, dash stays.
        p = D.docker("run", "--rm", "--network", "none", tag, "/usr/bin/python3", "-c",
                     "import os, sys; sys.stdout.write(open('/etc/tightbox/seccomp.json').read()) if not "
                     "os.path.exists('/bin/bash') else sys.exit('bash is still there')")
        self.assertEqual(p.returncode, 0, p.stderr)
        prof = os.path.join(TMP, "image-seccomp.json")
        with open(prof, "w") as f:
            f.write(p.stdout)
        # The image already says USER 65534:65534: the seed's line without --user.
        run_corpus(self, prof, image=tag, user=None)


if __name__ == "__main__":
    tbtest.main()
