"""`explain` of a workload that makes 20k distinct denied calls (issue 10 item 9): the report keeps
the first TB_EXPLAIN_MAX_DENIALS (1024) distinct denials, counts the calls of the rest, says so,
and warns once for all the numbers libseccomp has no name for, instead of one line each. The
program sees the same errnos as under `run`. No timing is asserted here (before the
bound, explain spent seconds after the workload exited: see the note in docs/explain.md)."""
import os
import unittest

import tbtest

PROBE_HOST = tbtest.probe("explain-many")
VOL = ["-v", tbtest.PROBES + ":/probes:ro"]
N = 20000
CAP = 1024


class ExplainBounds(unittest.TestCase):
    def setUp(self):
        tbtest.need_root()
        tbtest.need_file(PROBE_HOST, "probe not built")

    def test_20k_distinct_denied_numbers(self):
        args = [*VOL, "--", "/probes/explain-many", "1000", str(N)]
        res, p = tbtest.command_json("explain", *args, timeout=300)
        run, _ = tbtest.run_json(*args, timeout=300)
        self.assertEqual((res["stdout"], res["exit_code"]), (run["stdout"], run["exit_code"]))
        self.assertEqual(res["stdout"], "keyctl errno=1\nmany ok=0 enosys=%d other=0\n"
                         "keyctl errno=1\nptrace errno=1\n" % N)
        ex = res["explain"]
        denials = ex["denials"]
        total = N + 3
        self.assertEqual(ex["total_denied"], total)
        self.assertEqual(len(denials), CAP)
        # keyctl came first and is still counted after the cap was reached; the numbers follow
        # in order of first use; ptrace came after the cap, so only its call is counted.
        self.assertEqual((denials[0]["syscall"], denials[0]["count"]), ("keyctl", 2))
        self.assertEqual([d["syscall"] for d in denials[1:]], ["nr_%d" % (1000 + i) for i in range(CAP - 1)])
        self.assertTrue(all(d["count"] == 1 and d["errno"] == 38 for d in denials[1:]), denials[1])
        self.assertEqual(ex["unlisted_denied"], total - sum(d["count"] for d in denials))
        self.assertEqual(ex["unlisted_denied"], N - (CAP - 1) + 1)
        warnings = ex["warnings"]
        self.assertLess(len(warnings), 10, warnings[:20])
        self.assertIn("nr_1000 was denied; not suggested: it is not a syscall libseccomp knows", "\n".join(warnings))
        self.assertIn("%d more numbers were denied, up to nr_%d; not suggested" % (CAP - 2, 1000 + CAP - 2), "\n".join(warnings))
        self.assertIn("%d more denied calls are not listed: explain keeps the first %d distinct denials"
                      % (ex["unlisted_denied"], CAP), "\n".join(warnings))
        # The text report: bounded, with the same counts in its header.
        p = tbtest.tightbox("explain", *args, timeout=300)
        text = p.stderr.decode()
        self.assertIn("%d denied calls; the first %d distinct syscalls are listed (in order of first use), "
                      "%d calls of further ones are not (explain keeps %d):" % (total, CAP, ex["unlisted_denied"], CAP), text)
        self.assertLess(text.count("\n"), 4 * CAP, text[-2000:])
        self.assertEqual(text.count("not a syscall libseccomp knows"), 1)


if __name__ == "__main__":
    tbtest.main()
