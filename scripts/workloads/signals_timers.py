"""Workload: signal handlers, setitimer/SIGALRM, alarm, sleep interrupted by signals."""
import os
import signal
import time

hits = []
signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
deadline = time.monotonic() + 5
while len(hits) < 3 and time.monotonic() < deadline:
    time.sleep(0.005)
signal.setitimer(signal.ITIMER_REAL, 0)
assert len(hits) >= 3
signal.signal(signal.SIGUSR1, lambda s, f: hits.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
assert signal.SIGUSR1 in hits
signal.alarm(0)
print("OK signals_timers")
