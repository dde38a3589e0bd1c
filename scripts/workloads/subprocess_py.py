"""Workload: run Python itself in a subprocess and talk to it over pipes."""
import subprocess
import sys

out = subprocess.run([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"],
                     input="hi", capture_output=True, text=True, check=True, timeout=20).stdout
assert out.strip() == "HI"
p = subprocess.Popen([sys.executable, "-c", "print(6 * 7)"], stdout=subprocess.PIPE)
assert p.communicate(timeout=20)[0].strip() == b"42"
print("OK subprocess_py")
