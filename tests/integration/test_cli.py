"""The command line as a new user meets it: help, did-you-mean, --version, installed data.

`tightbox help CMD` prints what `CMD --help` prints; a mistyped command or flag names the one
that was meant; --version lists what this build has; the build-tree binary never falls back
to the source tree for its profiles (only TIGHTBOX_PROFILE_DIR points it there).
"""
import os
import subprocess
import unittest

import tbtest

COMMANDS = ["run", "record", "generate", "export", "audit", "diff", "explain"]


def no_profile_env():
    env = os.environ.copy()
    env.pop("TIGHTBOX_PROFILE_DIR", None)
    return env


class Cli(unittest.TestCase):
    def test_help_command_is_command_help(self):
        for cmd in COMMANDS:
            a = tbtest.tightbox("help", cmd)
            b = tbtest.tightbox(cmd, "--help")
            self.assertEqual(a.returncode, 0, cmd)
            self.assertEqual(a.stdout, b.stdout, cmd)
            self.assertIn(b"Usage: tightbox " + cmd.encode(), a.stdout)

    def test_top_level_help_lists_help(self):
        p = tbtest.tightbox("help")
        self.assertEqual(p.returncode, 0)
        for cmd in COMMANDS + ["help"]:
            self.assertIn(("\n  %-10s " % cmd).encode(), p.stdout)

    def test_options_heading_once(self):
        for cmd in ("run", "record", "explain"):
            out = tbtest.tightbox(cmd, "--help").stdout.decode()
            heads = [l for l in out.splitlines() if l.startswith("Options")]
            self.assertEqual(len(heads), 1, (cmd, heads))

    def test_did_you_mean_command(self):
        for typo, meant in (("explian", "explain"), ("genrate", "generate"), ("hepl", "help")):
            p = tbtest.tightbox(typo)
            self.assertEqual(p.returncode, 2)
            self.assertIn(("did you mean '%s'?" % meant).encode(), p.stderr)
        p = tbtest.tightbox("help", "rnu")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"did you mean 'run'?", p.stderr)
        p = tbtest.tightbox("zzzzzz")
        self.assertNotIn(b"did you mean", p.stderr)

    def test_did_you_mean_flag(self):
        cases = [
            (["run", "--memroy", "1g", "--", "true"], 125, "--memory"),
            (["record", "--pids-limt", "3", "--", "true"], 125, "--pids-limit"),
            (["explain", "--securty-opt", "seccomp=x", "--", "true"], 125, "--security-opt"),
            (["generate", "--quite", "x.json"], 2, "--quiet"),
            (["audit", "--jsno", "x.json"], 2, "--json"),
            (["diff", "--jsn", "a", "b"], 2, "--json"),
            (["export", "--profile-dri", "x"], 2, "--profile-dir"),
        ]
        for args, rc, meant in cases:
            p = tbtest.tightbox(*args)
            self.assertEqual(p.returncode, rc, args)
            self.assertIn(("did you mean %s?" % meant).encode(), p.stderr, args)

    def test_option_value_errors(self):
        p = tbtest.tightbox("diff", "--json=1", "a", "b")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--json takes no value", p.stderr)
        p = tbtest.tightbox("export", "--format")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--format needs a value", p.stderr)

    def test_version_lists_features(self):
        p = tbtest.tightbox("--version")
        self.assertEqual(p.returncode, 0)
        out = p.stdout.decode()
        self.assertRegex(out.splitlines()[0], r"^tightbox \d+\.\d+\.\d+$")
        built = [l for l in out.splitlines() if l.startswith("built with: ")]
        self.assertEqual(len(built), 1, out)
        for feature in ("seccomp", "landlock", "ptrace"):
            self.assertIn(feature, built[0].split())
        self.assertTrue("bpf" in built[0].split() or "no-bpf" in built[0], out)
        self.assertIn("record backends: ptrace", out)
        self.assertIn("libseccomp ", out)

    def test_build_tree_binary_does_not_use_the_source_tree(self):
        """Without TIGHTBOX_PROFILE_DIR an uninstalled binary has no default profile: it says so
        and runs nothing (exit 125), instead of reading the checkout it was built from."""
        p = tbtest.tightbox("run", "--", "/bin/true", env=no_profile_env())
        if p.returncode == 0:
            self.skipTest("tightbox is installed in its prefix here (%s)" %
                          tbtest.tightbox("--version").stdout.decode().splitlines()[-1])
        self.assertEqual(p.returncode, 125)
        self.assertIn(b"default seccomp profile is not installed", p.stderr)
        self.assertNotIn(tbtest.SOURCE_DIR.encode(), p.stderr)

    def test_audit_baseline_is_shipped_data(self):
        """audit's comparison with Docker's default comes from the installed profiles folder
        (here the source tree's, through TIGHTBOX_PROFILE_DIR), not from ../shared."""
        prof = os.path.join(tbtest.SOURCE_DIR, "profiles", "default.json")
        env = os.environ.copy()
        env["TIGHTBOX_PROFILE_DIR"] = os.path.join(tbtest.SOURCE_DIR, "profiles")
        p = tbtest.tightbox("audit", prof, env=env)
        self.assertIn(b"Docker's default allows", p.stdout, p.stderr)
        p = tbtest.tightbox("audit", prof, env=no_profile_env())
        if b"Docker's default allows" in p.stdout:
            self.skipTest("tightbox is installed in its prefix here")
        self.assertIn(b"summary:", p.stdout)


COMPLETE = r"""
source /usr/share/bash-completion/bash_completion
source "$TB_COMPLETION"
comp() {
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    read -ra COMP_WORDS <<<"$COMP_LINE"
    [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _tightbox
    echo "$*|${COMPREPLY[*]}"
}
"""


class BashCompletion(unittest.TestCase):
    CASES = {
        "tightbox ru": "run",
        "tightbox run --mem": "--memory --memory-swap",
        "tightbox generate --ar": "--arch --args",
        "tightbox export --format ku": "kubernetes",
        "tightbox help ex": "export explain",
        "tightbox audit --fail-on h": "high",
        "tightbox record --back": "--backend",
    }

    def test_completes_commands_options_and_values(self):
        tbtest.need_file("/usr/share/bash-completion/bash_completion", "package bash-completion")
        script = COMPLETE + "".join("comp %s\n" % line for line in self.CASES)
        env = dict(os.environ, TB_COMPLETION=os.path.join(tbtest.SOURCE_DIR, "completions",
                                                           "tightbox.bash"),
                   PATH=os.path.dirname(tbtest.TIGHTBOX) + ":" + os.environ.get("PATH", ""))
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                           timeout=60)
        got = dict(line.split("|", 1) for line in p.stdout.splitlines() if "|" in line)
        self.assertEqual(got, self.CASES, p.stderr)


if __name__ == "__main__":
    tbtest.main()
