"""Times a start of an installed Jupyter kernel ("Rust (autocandle)" by default): the seconds until it answers
(jupyter_client's kernel_info, i.e. evcxr has loaded init.evcxr: the crate, the prelude) and the
seconds of each cell given on the command line, then the total from start to the last result.

    python scripts/kernel_start_time.py 'SearchConfig::default().max_trials'
    python scripts/kernel_start_time.py --kernel autocandle-tables 'SearchConfig::default().max_trials'

Needs jupyter_client (in the Jupyter venv) and `autocandle kernel install`.
"""
import sys
import time

from jupyter_client.manager import start_new_kernel

args = sys.argv[1:]
kernel = "autocandle"
if args[:1] == ["--kernel"] and len(args) > 1:
    kernel, args = args[1], args[2:]
cells = args or ["SearchConfig::default().max_trials"]
t0 = time.time()
km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=3600)
print(f"kernel ready (kernel_info answered): {time.time() - t0:.1f} s", flush=True)
try:
    for code in cells:
        t = time.time()
        reply = kc.execute_interactive(code, timeout=3600, output_hook=lambda msg: None)
        status = reply["content"]["status"]
        print(f"cell ({status}): {time.time() - t:.1f} s  {code[:60]!r}", flush=True)
    print(f"kernel start to the last result: {time.time() - t0:.1f} s")
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)
