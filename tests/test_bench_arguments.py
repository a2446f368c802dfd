"""The benches refuse an argument out of range before they build anything (bench/arguments.py): exit code 2 and a
message naming the argument, not a crash after minutes of setting a fleet up."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script, arguments, message", [
    ("api_latency.py", ["--requests", "1"], "argument --requests: must be at least 2, not 1"),
    ("api_latency.py", ["--devices", "ten"], "argument --devices: 'ten' is not a whole number"),
    ("api_latency.py", ["--think", "0"], "argument --think: must be at least 0.01, not 0"),
    ("fleet.py", ["--devices", "1000,0"], "argument --devices: must be at least 1, not 0"),
    ("fleet.py", ["--duration", "nan"], "argument --duration: must be at least 30, not nan"),
    ("icmp_cycle.py", ["--devices", "500,"], "argument --devices: '' is not a whole number"),
    ("icmp_sweep.py", ["--timeout", "0"], "argument --timeout: must be at least 0.01, not 0"),
    ("discovery_sweep.py", ["--interval-ms", "0"], "argument --interval-ms: must be at least 1, not 0"),
])
def test_a_bench_refuses_an_argument_out_of_range_naming_it(script, arguments, message):
    ran = subprocess.run([sys.executable, str(BENCH / script), *arguments], capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 2 and message in ran.stderr, ran.stderr
    assert ran.stdout == ""  # nothing measured, nothing built
